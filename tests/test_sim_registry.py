"""The backend registry: names map to import strings; a backend that is not installed is one line
saying what to install; an unknown name lists the known ones."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from sim2real.errors import NotInstalledError, UserError
from sim2real.sim import registry


def test_known_backends() -> None:
    assert registry.names() == ["isaac", "mujoco"]
    assert registry.backend_class("mujoco").__name__ == "MujocoBackend"


def test_every_entry_is_a_backend() -> None:
    """The registry lists Backends only (the Isaac launcher lives in generate/, not here)."""
    from sim2real.sim.backend import conformance

    for name in registry.names():
        if all(importlib.util.find_spec(m) is not None for m in registry.REGISTRY[name].requires):
            cls = registry.backend_class(name)
            assert cls.name == name and conformance(cls) == [], name


def test_missing_backend_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = registry.BackendEntry("sim2real_nowhere:Backend", "pip install 'sim2real[nowhere]'", ("sim2real_nowhere",))
    monkeypatch.setitem(registry.REGISTRY, "nowhere", entry)
    with pytest.raises(NotInstalledError) as err:
        registry.create("nowhere")
    message = str(err.value)
    assert "\n" not in message and "sim2real_nowhere" in message and "pip install 'sim2real[nowhere]'" in message


def test_unknown_backend_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match="expected one of isaac, mujoco"):
        registry.create("gazebo")


def test_missing_backend_through_the_cli() -> None:
    """A backend whose package is missing: exit 2 and one line saying what to install."""
    script = ("import sys; from sim2real.sim import registry; registry.REGISTRY['isaac'] = registry.BackendEntry("
              "'sim2real_nowhere:Backend', 'pip install sim2real_nowhere', ('sim2real_nowhere',)); "
              "from sim2real.cli import run; sys.argv = ['sim2real', 'scene', 'info', 'tabletop', '--backend', 'isaac']; "
              "run()")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "is not installed; install it with" in lines[0]


def test_the_isaac_backend_reads_the_usd_stage_without_isaac_sim(run_cli) -> None:
    pytest.importorskip("pxr")
    proc = run_cli("scene", "info", "tabletop", "--backend", "isaac")
    assert proc.returncode == 0, proc.stderr
    assert "light: key, fill, rim" in proc.stdout and "camera: main, top" in proc.stdout
