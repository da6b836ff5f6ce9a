"""The Backend contract (``sim2real.sim.backend``), one suite for every backend: the embedded MuJoCo one on
the shipped tabletop MJCF, and the Kit-free Isaac one on the shipped tabletop USD stage (real ``pxr``;
Isaac Sim's physics callbacks are driven the way the Kit layer forwards them, ``on_physics_step``).

A new backend joins by adding a ``Rig`` below: how to load it, advance its physics and read one value
(the key light's intensity) back from its own scene. See docs/extending.md, "A new backend".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from mujoco_support import make_sample
from sim2real.errors import Sim2RealError, UserError
from sim2real.randomize.profile import parse_profile
from sim2real.randomize.runtime import Randomizer
from sim2real.randomize.sample import Capabilities
from sim2real.sim import registry
from sim2real.sim.backend import Backend, conformance
from sim2real.sim.driver import RandomizedSim

KEY = "light:key/intensity"


@dataclass
class Rig:
    backend: Any
    advance: Callable[[int], None]  # run n physics steps the way this backend's host does
    key_intensity: Callable[[], float]  # the key light's level, read from the backend's own scene


def mujoco_rig() -> Rig:
    from sim2real.backends.mujoco.backend import MujocoBackend

    b = MujocoBackend()
    b.load("tabletop", resolution=(32, 24))
    return Rig(b, b.step, lambda: float(b.model.light("key").diffuse.max()))


def isaac_rig() -> Rig:
    pytest.importorskip("pxr")
    from sim2real.backends.isaac.backend import IsaacBackend

    b = IsaacBackend()
    b.load("tabletop", resolution=(32, 24))

    def advance(n: int) -> None:  # Isaac Sim steps the physics and calls back (5.x: (step_size,))
        for _ in range(n):
            b.on_physics_step(b.dt)

    light = b.scene.stage.GetPrimAtPath("/World/Lights/key").GetAttribute("inputs:intensity")
    return Rig(b, advance, lambda: float(light.Get()))


RIGS = {"mujoco": mujoco_rig, "isaac": isaac_rig}


@pytest.fixture(params=sorted(RIGS))
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    r = RIGS[request.param]()
    yield r
    r.backend.close()


@pytest.mark.parametrize("name", sorted(RIGS))
def test_the_class_matches_the_protocol_exactly(name: str) -> None:
    if name == "isaac":
        pytest.importorskip("pxr")
    cls = registry.backend_class(name)
    assert conformance(cls) == []
    assert cls.name == name


def test_conformance_names_what_departs_from_the_protocol() -> None:
    class Sloppy:
        name = "sloppy"
        dt = 0.002  # not a property

        def apply(self, sample: Any, env: int = 0) -> None: ...  # another default

        def reset(self, keep: bool = True) -> None: ...  # an extra argument

    problems = conformance(Sloppy)
    assert "dt: expected a property (the physics step, s)" in problems
    assert any(p.startswith("apply(self, sample: 'Any', env: 'int' = 0)") for p in problems)
    assert any(p.startswith("reset(self, keep") for p in problems) and "render: missing" in problems


def test_a_loaded_backend_is_a_backend(rig: Rig) -> None:
    b = rig.backend
    assert isinstance(b, Backend) and isinstance(b.capabilities, Capabilities)
    assert b.capabilities.supports("light", "intensity") and b.dt > 0
    entities = b.entities()
    assert entities == b.entities() and {"key", "fill", "rim"} <= set(entities["light"])
    assert all(isinstance(n, str) for names in entities.values() for n in names)


def test_apply_is_relative_to_the_defaults_and_reset_restores_them(rig: Rig) -> None:
    b, default = rig.backend, rig.key_intensity()
    for _ in range(2):  # the same scale twice: twice the default, not four times
        b.apply(make_sample({KEY: 2.0}, {KEY: "scale"}))
        assert rig.key_intensity() == pytest.approx(2.0 * default)
    record = b.record(0)
    assert record == {KEY: 2.0} and json.loads(json.dumps(record)) == record
    b.reset()
    assert rig.key_intensity() == pytest.approx(default) and b.record(0) == {}


def test_start_up_samples_last_across_resets(rig: Rig) -> None:
    b, default = rig.backend, rig.key_intensity()
    b.apply(make_sample({KEY: 1.5}, {KEY: "scale"}, event="startup"))
    b.apply(make_sample({"light:fill/intensity": 0.5}, {"light:fill/intensity": "scale"}))
    b.reset()
    assert rig.key_intensity() == pytest.approx(1.5 * default)
    assert b.record(0) == {KEY: 1.5}  # the episode's values are gone, the start-up ones applied again


def test_step_callbacks_fire_every_n_steps_since_the_reset(rig: Rig) -> None:
    b, calls = rig.backend, []

    def callback(step: int, time_s: float) -> None:
        calls.append((step, time_s))

    b.add_step_callback(callback, every=3)
    rig.advance(7)
    assert [s for s, _ in calls] == [3, 6]
    assert [t for _, t in calls] == pytest.approx([3 * b.dt, 6 * b.dt])
    b.reset()
    rig.advance(3)
    assert [s for s, _ in calls] == [3, 6, 3]  # counted again from the reset
    b.remove_step_callback(callback)
    rig.advance(6)
    assert len(calls) == 3
    with pytest.raises(Sim2RealError, match="every: expected a positive number of physics steps"):
        b.add_step_callback(callback, every=0)


def test_refuses_what_it_does_not_have_in_one_line(rig: Rig) -> None:
    b = rig.backend
    with pytest.raises(Sim2RealError) as err:
        b.apply(make_sample({"light:nowhere/intensity": 1.0}))
    assert "nowhere" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(UserError, match="env: expected 0..0"):
        b.apply(make_sample({KEY: 1.0}), env=3)
    with pytest.raises(Sim2RealError, match=f"the {b.name} backend cannot apply light:\\*/wobble"):
        b.capabilities.require(b.name, [("light", "wobble")])


def test_randomized_sim_drives_it_with_reset_and_interval_terms(rig: Rig) -> None:
    b = rig.backend
    profile = parse_profile({"name": "contract", "terms": [
        {"name": "key", "target": KEY, "dist": "uniform", "low": 0.5, "high": 1.5},
        {"name": "fill", "target": "light:fill/intensity", "dist": "uniform", "low": 0.5, "high": 1.5,
         "when": "interval", "every": 2},
    ]})
    r = Randomizer(profile, seed=5, entities=b.entities(), dt=b.dt)
    sim = RandomizedSim(b, r, env=None, chunk=3)
    default = rig.key_intensity()
    reset = sim.reset(0)
    rig.advance(8)  # firings 1..4: two chunks of the schedule
    record = b.record(0)
    assert record[KEY] == pytest.approx(float(reset.values[KEY][0]))
    assert rig.key_intensity() == pytest.approx(default * record[KEY])
    fourth = r.interval(2, 4, 1).values["light:fill/intensity"][0, 0]
    assert record["light:fill/intensity"] == pytest.approx(float(fourth))
    assert np.isfinite(list(record.values())).all()
    sim.close()


def test_a_type_checker_sees_each_backend_as_a_backend(tmp_path: Any) -> None:
    """The static check: each backend module ends with ``_is_a_backend(b: ThatBackend) -> Backend``, which
    mypy accepts only if the class is structurally a ``Backend`` (a planted non-conforming class is refused)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("mypy")
    from testlib import PACKAGE

    modules = [PACKAGE / "backends" / "mujoco" / "backend.py", PACKAGE / "backends" / "isaac" / "backend.py"]
    lines = {m: next(i for i, line in enumerate(m.read_text().splitlines(), 1) if "def _is_a_backend" in line) + 1
             for m in modules}

    def mypy(*files: Path) -> str:
        cmd = [sys.executable, "-m", "mypy", "--follow-imports=silent", "--ignore-missing-imports", "--no-incremental",
               "--cache-dir=/dev/null", *map(str, files)]
        env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300).stdout

    out = mypy(*modules)
    assert not [m for m, n in lines.items() if f"{m}:{n}: error" in out], out
    bad = tmp_path / "not_a_backend.py"
    bad.write_text("from sim2real.sim.backend import Backend\n\n\nclass Bad:\n    name = 'bad'\n\n\n"
                   "def _is_a_backend(backend: Bad) -> Backend:\n    return backend\n")
    assert "not_a_backend.py:9: error: Incompatible return value type" in mypy(bad)
