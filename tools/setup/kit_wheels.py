"""Fill exts/sim2real/pip_archive/ with the wheels Kit installs offline when the sim2real extension is enabled.

    .venv/bin/python tools/setup/kit_wheels.py            # download what is missing, write SHA256SUMS
    .venv/bin/python tools/setup/kit_wheels.py --check    # exit 1 unless the archive is exactly the lock

The lock is ``[python.pipapi] requirements`` of exts/sim2real/config/extension.toml: exact pins of what
the Kit-side import path needs (pydantic and its dependencies, tomli-w) and what the panel's jobs need in
Isaac Sim's Python (typer, rich). Isaac Sim 5.1 bundles none of them (its deps/pip*.toml). Each pin is
fetched for Isaac Sim 5.1's Python (CPython 3.11) on Linux x86_64, Linux aarch64 and Windows x86_64 (one
wheel when it is pure Python), with pip from PyPI, once, online; Kit's pip then installs from the archive
(``archiveDirs``, ``use_online_index = false``). SHA256SUMS records every wheel: the tests refuse an archive
that differs.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "exts" / "sim2real"
ARCHIVE = EXT / "pip_archive"
SUMS = ARCHIVE / "SHA256SUMS"
PYTHON = "3.11"  # Isaac Sim 5.1's Python
PLATFORMS = ("manylinux2014_x86_64", "manylinux2014_aarch64", "win_amd64")


def requirements() -> list[str]:
    toml = tomllib.loads((EXT / "config" / "extension.toml").read_text())
    return list(toml["python"]["pipapi"]["requirements"])


def download(requirement: str, platform: str, into: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--only-binary=:all:", "--python-version", PYTHON, "--implementation", "cp", "--abi", "cp311",
                    "--abi", "abi3", "--abi", "none", "--platform", platform, "--dest", str(into), requirement],
                   check=True)


def sums(folder: Path) -> str:
    wheels = sorted(folder.glob("*.whl"))
    return "".join(f"{hashlib.sha256(w.read_bytes()).hexdigest()}  {w.name}\n" for w in wheels)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="verify the archive against SHA256SUMS, download nothing")
    args = p.parse_args(argv)
    if args.check:
        ok = SUMS.is_file() and SUMS.read_text() == sums(ARCHIVE)
        print("pip_archive matches SHA256SUMS" if ok else "pip_archive differs from SHA256SUMS", file=sys.stderr)
        return 0 if ok else 1
    ARCHIVE.mkdir(exist_ok=True)
    for requirement in requirements():
        for platform in PLATFORMS:
            download(requirement, platform, ARCHIVE)  # a pure-Python wheel is the same file for every platform
    SUMS.write_text(sums(ARCHIVE))
    print(f"{len(list(ARCHIVE.glob('*.whl')))} wheels in {ARCHIVE.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
