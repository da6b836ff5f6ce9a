"""The backend registry: names map to import strings; a backend that is not installed is one line
saying what to install; an unknown name lists the known ones."""

from __future__ import annotations

import importlib.util

import pytest
from sim2real.errors import NotInstalledError, UserError
from sim2real.sim import registry


def test_known_backends() -> None:
    assert registry.names() == ["isaac", "mujoco"]
    assert registry.backend_class("mujoco").__name__ == "MujocoBackend"


@pytest.mark.skipif(importlib.util.find_spec("isaacsim") is not None, reason="Isaac Sim is installed here")
def test_missing_backend_says_what_to_install() -> None:
    with pytest.raises(NotInstalledError) as err:
        registry.create("isaac")
    message = str(err.value)
    assert "\n" not in message and "isaacsim" in message and "pip install" in message


def test_unknown_backend_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match="expected one of isaac, mujoco"):
        registry.create("gazebo")


def test_missing_backend_through_the_cli(run_cli) -> None:
    if importlib.util.find_spec("isaacsim") is not None:
        pytest.skip("Isaac Sim is installed here")
    proc = run_cli("scene", "info", "tabletop", "--backend", "isaac")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "is not installed; install it with" in lines[0]
