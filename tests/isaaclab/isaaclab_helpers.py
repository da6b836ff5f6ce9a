"""What the Isaac Lab bridge tests share: the shipped profiles exported, mypy against generated stubs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sim2real.isaaclab.export import Options
from sim2real.isaaclab.files import export_file
from sim2real.isaaclab.stubs import calls_source, write_stubs
from sim2real.randomize.entities import load_entities
from testlib import REPO

PROFILES = REPO / "config" / "profiles"
DATA = Path(__file__).with_name("data")


def export_shipped(name: str, folder: Path, **kw: object) -> tuple[Path, dict]:
    """Export config/profiles/<name>.toml (tabletop with its entity list, so object patterns expand)."""
    entities = load_entities(PROFILES / "tabletop.entities.json") if name == "tabletop" else None
    opts = Options(physics_dt=0.002, entities=entities, **kw)  # type: ignore[arg-type]
    out = folder / f"{name}_events.py"
    return out, export_file(PROFILES / f"{name}.toml", out, opts)


def mypy(modules: list[Path], folder: Path, calls: bool = True) -> subprocess.CompletedProcess[str]:
    """Type-check ``modules`` and their event-manager calls against stubs made from names.json, with
    no site-packages (Isaac Lab is not installed; torch comes from the stubs too)."""
    stubs = write_stubs(folder / "stubs")
    files = []
    for module in modules:
        files.append(str(module))
        if calls:
            path = folder / f"{module.stem}_calls.py"
            path.write_text(calls_source(module))
            files.append(str(path))
    cmd = [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--no-site-packages",
        "--no-incremental",
        "--cache-dir",
        str(folder / ".mypy_cache"),
        "--python-version",
        "3.11",
        *files,
    ]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
        env={"MYPYPATH": str(stubs), "PATH": "/usr/bin:/bin"},
    )
