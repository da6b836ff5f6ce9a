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

Only what is needed: ``--check`` also requires the pins to be exactly the dependency closure of ``ROOTS``
(each wheel's ``Requires-Dist``, markers evaluated for CPython 3.11 on each platform), so a wheel nothing
needs any more, or a dependency a new version adds, fails the tests. To move a pin: edit the requirements
in extension.toml, delete the old wheels, run this script online, commit the wheels and SHA256SUMS.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "exts" / "sim2real"
ARCHIVE = EXT / "pip_archive"
SUMS = ARCHIVE / "SHA256SUMS"
PYTHON = "3.11"  # Isaac Sim 5.1's Python
PLATFORMS = ("manylinux2014_x86_64", "manylinux2014_aarch64", "win_amd64")
# what the Kit side imports itself; the rest of the lock is what these need
ROOTS = {
    "pydantic": "the profile schema (sim2real.randomize.profile), imported when sim2real_isaac loads",
    "tomli-w": "saving profiles from the panel",
    "typer": "the sim2real CLI the panel's jobs run in Isaac Sim's Python",
    "rich": "the CLI's output",
}
MARKER_ENVIRONMENTS = [  # packaging.markers variables of Isaac Sim 5.1's Python on each platform
    {"python_version": PYTHON, "python_full_version": f"{PYTHON}.13", "implementation_name": "cpython",
     "platform_python_implementation": "CPython", "platform_system": system, "sys_platform": platform,
     "os_name": os_name, "platform_machine": machine, "extra": ""}
    for system, platform, os_name, machine in (("Linux", "linux", "posix", "x86_64"),
                                               ("Linux", "linux", "posix", "aarch64"),
                                               ("Windows", "win32", "nt", "AMD64"))]


def requirements() -> list[str]:
    toml = tomllib.loads((EXT / "config" / "extension.toml").read_text())
    return list(toml["python"]["pipapi"]["requirements"])


def download(requirement: str, platform: str, into: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--only-binary=:all:", "--python-version", PYTHON, "--implementation", "cp", "--abi", "cp311",
                    "--abi", "abi3", "--abi", "none", "--platform", platform, "--dest", str(into), requirement],
                   check=True)


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def closure(folder: Path) -> set[str]:
    """The distributions ``ROOTS`` need on some platform, following the archive's wheels' ``Requires-Dist``."""
    from packaging.requirements import Requirement

    requires: dict[str, list[Requirement]] = {}
    for wheel in folder.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            lines = archive.read(meta).decode().splitlines()
        requires[_name(wheel.name.split("-")[0])] = [Requirement(line.split(":", 1)[1].strip()) for line in lines
                                                     if line.startswith("Requires-Dist:")]
    needed, todo = set(), [_name(r) for r in ROOTS]
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        for req in requires.get(name, []):
            if req.marker is None or any(req.marker.evaluate(env) for env in MARKER_ENVIRONMENTS):
                todo.append(_name(req.name))
    return needed


def check() -> list[str]:
    """What is wrong with the archive (empty: it is exactly the lock, and the lock exactly what is needed)."""
    problems = [] if SUMS.is_file() and SUMS.read_text() == sums(ARCHIVE) else ["pip_archive differs from SHA256SUMS"]
    pins = {_name(r.split("==")[0]) for r in requirements()}
    needed = closure(ARCHIVE)
    if pins - needed:
        problems.append(f"pinned but needed by nothing in ROOTS: {', '.join(sorted(pins - needed))}")
    if needed - pins:
        problems.append(f"needed but not pinned (so not archived): {', '.join(sorted(needed - pins))}")
    return problems


def sums(folder: Path) -> str:
    wheels = sorted(folder.glob("*.whl"))
    return "".join(f"{hashlib.sha256(w.read_bytes()).hexdigest()}  {w.name}\n" for w in wheels)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true",
                   help="verify the archive against SHA256SUMS and the lock against ROOTS' needs, download nothing")
    args = p.parse_args(argv)
    if args.check:
        problems = check()
        print("; ".join(problems) or "pip_archive matches SHA256SUMS and holds only what ROOTS need", file=sys.stderr)
        return 1 if problems else 0
    ARCHIVE.mkdir(exist_ok=True)
    for requirement in requirements():
        for platform in PLATFORMS:
            download(requirement, platform, ARCHIVE)  # a pure-Python wheel is the same file for every platform
    SUMS.write_text(sums(ARCHIVE))
    print(f"{len(list(ARCHIVE.glob('*.whl')))} wheels in {ARCHIVE.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
