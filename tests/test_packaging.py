"""Packaging: one version everywhere; each Kit extension is complete."""

from __future__ import annotations

import tomllib

import pytest

import sim2real
from testlib import REPO

EXTS = ["sim2real", "sim2real_isaac", "sim2real_ui"]


def _pyproject_version() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


@pytest.mark.parametrize("ext", EXTS)
def test_extension_version_equals_pyproject(ext: str) -> None:
    toml = tomllib.loads((REPO / "exts" / ext / "config" / "extension.toml").read_text())
    assert toml["package"]["version"] == _pyproject_version()


def test_package_version_equals_pyproject() -> None:
    assert sim2real.__version__ == _pyproject_version()


@pytest.mark.parametrize("ext", EXTS)
def test_extension_files_exist(ext: str) -> None:
    root = REPO / "exts" / ext
    toml = tomllib.loads((root / "config" / "extension.toml").read_text())
    for key in ("readme", "changelog", "icon", "preview_image"):
        assert (root / toml["package"][key]).is_file(), f"{ext}: [package].{key} points at a missing file"
    modules = [m["name"] for m in toml["python"]["module"]]
    assert modules, f"{ext}: no [[python.module]]"
    for mod in modules:
        assert (root / mod.replace(".", "/") / "__init__.py").is_file(), f"{ext}: module {mod} missing"
    assert (root / "premake5.lua").is_file()


def test_kit_only_extensions_declare_their_kit_dependencies() -> None:
    isaac = tomllib.loads((REPO / "exts/sim2real_isaac/config/extension.toml").read_text())["dependencies"]
    for dep in ("sim2real", "isaacsim.core.api", "omni.physx", "omni.replicator.core", "omni.usd", "omni.timeline"):
        assert dep in isaac
    ui = tomllib.loads((REPO / "exts/sim2real_ui/config/extension.toml").read_text())["dependencies"]
    for dep in ("sim2real", "sim2real_isaac", "omni.kit.uiapp"):
        assert dep in ui


def test_the_openusd_2405_test_venv_stays_apart_and_runs_with_make_test() -> None:
    """usd-core and usd-exchange both ship `pxr`: the 24.05 tests have their own venv, run by `make test`."""
    lines = (REPO / "tools/setup/usd24-requirements.txt").read_text().splitlines()
    pins = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert "usd-core==24.5" in pins and not any(p.startswith(("usd-exchange", "mujoco-usd-converter")) for p in pins)
    makefile = (REPO / "Makefile").read_text()
    test_recipe = makefile.split("\ntest: ")[1].split("\n\n")[0]
    assert "test-usd24" in test_recipe
