"""Every lazily exported name of a package resolves (a module rename must update the package's table)."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["usd", "randomize", "app", "translate", "isaaclab", "sysid", "control", "meta"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves(package: str) -> None:
    module = importlib.import_module(f"sim2real.{package}")
    assert module.__all__
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"sim2real.{package} lists names it cannot import: {missing}"
