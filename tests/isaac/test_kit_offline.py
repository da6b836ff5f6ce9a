"""Enabling the extensions in a stock Isaac Sim 5.1 never needs the internet: what the Kit-side import path
needs beyond Isaac Sim is exactly what exts/sim2real/pip_archive holds (checked against SHA256SUMS), Kit's pip
is told to install from there only, and that archive installs with no index and imports on its own."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from testlib import REPO

EXT = REPO / "exts" / "sim2real"
ARCHIVE = EXT / "pip_archive"
PIPAPI = tomllib.loads((EXT / "config" / "extension.toml").read_text())["python"]["pipapi"]
PLATFORMS = ("manylinux_2_17_x86_64", "manylinux_2_17_aarch64", "win_amd64")  # Isaac Sim 5.1's platforms
# What Isaac Sim 5.1 itself provides to the Kit-side import path: Kit's omni.kit.pip_archive ("numpy, Pillow,
# toml", its docs) and Kit's own USD (pxr)
ISAAC_SIM_SHIPS = {"numpy", "PIL", "pxr"}
ARCHIVED = {"pydantic", "pydantic_core", "annotated_types", "typing_extensions", "tomli_w", "typer", "annotated_doc",
            "shellingham", "colorama", "rich", "markdown_it", "mdurl", "pygments"}


def _pins() -> dict[str, str]:
    pins = {}
    for requirement in PIPAPI["requirements"]:
        name, _, version = requirement.partition("==")
        assert version and re.fullmatch(r"[0-9][0-9A-Za-z.]*", version), f"{requirement}: expected an exact pin"
        pins[re.sub(r"[-_.]+", "_", name).lower()] = version
    return pins


def test_kit_installs_only_from_the_shipped_archive() -> None:
    assert PIPAPI["archiveDirs"] == ["pip_archive"]
    assert PIPAPI["use_online_index"] is False
    assert PIPAPI["ignore_import_check"] is True  # pip decides, not an import of `tomli-w`
    assert {"pydantic", "pydantic_core", "tomli_w", "typer", "rich"} <= set(_pins())


def test_the_archive_is_exactly_the_pins_for_every_platform() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "tools/setup/kit_wheels.py"), "--check"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr  # every wheel as recorded in SHA256SUMS
    wheels: dict[str, list[str]] = {}
    for wheel in ARCHIVE.glob("*.whl"):
        name, version, *tags = wheel.stem.split("-")
        wheels.setdefault(name.lower(), []).append(version)
        assert tags[-1] == "any" or tags[0] == "cp311", wheel.name  # Isaac Sim 5.1: CPython 3.11
    assert {n: sorted(set(v)) for n, v in wheels.items()} == {n: [v] for n, v in _pins().items()}
    compiled = sorted(w.name for w in ARCHIVE.glob("pydantic_core-*.whl"))
    assert len(compiled) == 3 and all(any(p in w for w in compiled) for p in PLATFORMS), compiled


def _kit_wheels():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("kit_wheels", REPO / "tools/setup/kit_wheels.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_archive_holds_only_what_the_kit_side_needs(tmp_path: Path) -> None:
    """The pins are the dependency closure of what the Kit side imports, on some Isaac Sim 5.1 platform:
    colorama only because typer needs it on Windows; a wheel nothing needs shows up as one."""
    kit_wheels = _kit_wheels()
    assert {n.replace("-", "_") for n in kit_wheels.closure(ARCHIVE)} == set(_pins())
    for wheel in ARCHIVE.glob("*.whl"):
        if not wheel.name.startswith("typer-"):
            (tmp_path / wheel.name).symlink_to(wheel)
    without_typer = kit_wheels.closure(tmp_path)  # typer's own requirements are then unknown
    assert {"shellingham", "annotated-doc", "colorama"}.isdisjoint(without_typer) and "typer" in without_typer
    windows = kit_wheels.MARKER_ENVIRONMENTS[2]
    assert windows["platform_system"] == "Windows"
    kit_wheels.MARKER_ENVIRONMENTS[:] = kit_wheels.MARKER_ENVIRONMENTS[:2]  # Linux only: colorama is not needed
    assert "colorama" not in kit_wheels.closure(ARCHIVE)


def _isolated_site(tmp: Path) -> Path:
    """A folder with only numpy and PIL of this interpreter (what Kit's own pip archive brings)."""
    site = tmp / "isaac_ships"
    site.mkdir()
    import numpy
    import PIL

    for module in (numpy, PIL):
        root = Path(module.__file__).parent
        for entry in [root, *root.parent.glob(f"{root.name.lower()}*.libs"), *root.parent.glob("pillow.libs")]:
            if entry.exists() and not (site / entry.name).exists():
                (site / entry.name).symlink_to(entry)
    return site


@pytest.mark.slow
def test_the_archive_installs_offline_and_carries_the_kit_import_path(tmp_path: Path) -> None:
    target = tmp_path / "kit_pip"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "--no-index", "--find-links", str(ARCHIVE), "--target", str(target),
                              *PIPAPI["requirements"]], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    modules = sorted(_kit_path_modules() - _needs_pxr())
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "import pydantic, typer, rich, tomli_w\n"
            "roots = sorted({n.split('.')[0] for n in sys.modules} - set(sys.stdlib_module_names))\n"
            "print(json.dumps({'pydantic': pydantic.VERSION, 'from': pydantic.__file__, 'roots': roots}))\n")
    path = os.pathsep.join([str(target), str(EXT), str(_isolated_site(tmp_path))])
    # -S: no site-packages of this venv; only the archive, the core and numpy/PIL are importable
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": path, "PATH": os.environ.get("PATH", "")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["pydantic"] == _pins()["pydantic"] and out["from"].startswith(str(target))
    outside = {r for r in out["roots"] if not r.startswith("_")} - ARCHIVED - ISAAC_SIM_SHIPS - {"sim2real"}
    assert not outside, f"the Kit-side import path needs {sorted(outside)}, which neither Isaac Sim nor the archive has"


def _kit_path_modules() -> set[str]:
    """The sim2real modules the Kit extensions import (the import path Kit walks on enable)."""
    out = set()
    for path in [*(REPO / "exts/sim2real_isaac").rglob("*.py"), *(REPO / "exts/sim2real_ui").rglob("*.py"),
                 REPO / "tools/isaac/generate.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "sim2real":
                out.add(node.module)
                for alias in node.names:  # `from sim2real.app import texts`: a module too
                    name = f"{node.module}.{alias.name}"
                    if (EXT / (name.replace(".", "/") + ".py")).is_file():
                        out.add(name)
    return out


def _needs_pxr() -> set[str]:
    """Modules that import pxr on import (Kit brings pxr; this test's interpreter cannot isolate usd-exchange's)."""
    return {m for m in _kit_path_modules() if m.startswith("sim2real.usd")}


def test_the_kit_import_path_is_known() -> None:
    modules = _kit_path_modules()
    assert {"sim2real.randomize.profile", "sim2real.backends.isaac.capture", "sim2real.app.texts"} <= modules
