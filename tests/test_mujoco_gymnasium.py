"""A robot model we did not write (gymnasium's MuJoCo assets) loads through the same backend and its
physics is randomized by a profile: masses, damping, friction, actuator gains."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
from sim2real.backends.mujoco.backend import MujocoBackend
from sim2real.randomize.profile import parse_profile
from sim2real.randomize.runtime import Randomizer
from sim2real.sim.driver import RandomizedSim

pytest.importorskip("gymnasium")

PROFILE = {
    "name": "gym-physics",
    "terms": [
        {"name": "mass", "target": "body:*/mass", "dist": "loguniform", "low": 0.5, "high": 2.0},
        {"name": "damping", "target": "joint:*/damping", "dist": "uniform", "low": 0.3, "high": 3.0},
        {"name": "friction", "target": "geom:*/friction", "dist": "uniform", "low": 0.5, "high": 1.5},
        {"name": "gain", "target": "actuator:*/kp", "dist": "uniform", "low": 0.7, "high": 1.3},
        {"name": "gear", "target": "actuator:*/gear", "dist": "uniform", "low": 0.9, "high": 1.1},
    ],
}


def _asset(name: str):
    return resources.files("gymnasium") / "envs" / "mujoco" / "assets" / name


def _rollout(b: MujocoBackend, steps: int = 60) -> np.ndarray:
    out = []
    for k in range(steps):
        b.set_control(np.full(b.model.nu, 0.5 if k < steps // 2 else -0.5))
        b.step()
        out.append(b.state()["qpos"])
    return np.array(out)


@pytest.mark.parametrize("asset", ["reacher.xml", "inverted_pendulum.xml"])
def test_gymnasium_robot_is_randomized_through_the_backend(asset: str) -> None:
    b = MujocoBackend()
    b.load(_asset(asset), resolution=(160, 120))
    assert b.entities()["actuator"]  # unnamed motors take their joint's name (reacher)
    nominal = _rollout(b)
    profile = parse_profile(PROFILE)
    b.capabilities.require(b.name, profile.targets())
    r = Randomizer(profile, seed=3, entities=b.entities(), dt=b.dt)
    sim = RandomizedSim(b, r)
    sample = sim.reset(0)
    defaults = b.world.defaults
    for key, value in sample.env(0).items():
        kind, rest = key.split(":", 1)
        entity, attr = rest.rsplit("/", 1)
        if (kind, attr) == ("body", "mass"):
            i = b.physics.bodies[entity]
            assert np.isclose(b.model.body_mass[i], defaults["body_mass"][i] * value)
            assert np.allclose(b.model.body_inertia[i], defaults["body_inertia"][i] * value)
        elif (kind, attr) == ("actuator", "kp"):
            a = b.physics.actuators[entity]
            assert np.isclose(b.model.actuator_gainprm[a, 0], defaults["actuator_gainprm"][a, 0] * value)
    randomized = _rollout(b)
    assert np.abs(randomized - nominal).max() > 1e-3  # the same commands now move the robot differently
    again = sim.reset(0)  # same episode index: same values, same motion
    assert again.record(0) == sample.record(0)
    assert np.array_equal(_rollout(b), randomized)
    frame = b.render()  # no camera in the file: MuJoCo's free camera
    assert frame.camera == "free" and any(i.visible_pixels > 0 for i in frame.instances)
    sim.close()
    b.close()
