"""RandomizedSim: the shipped tabletop profile end to end, and interval / time-varying terms applied
from the physics-step callback exactly as if applied by hand after each step."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from sim2real.backends.mujoco.backend import MujocoBackend
from sim2real.backends.mujoco.snapshot import ModelSnapshot
from sim2real.paths import config_path
from sim2real.randomize.profile import load_profile, parse_profile
from sim2real.randomize.runtime import Randomizer
from sim2real.sim.driver import RandomizedSim

pytestmark = pytest.mark.render


def _sim(seed: int = 3, resolution: tuple[int, int] = (96, 72)) -> tuple[MujocoBackend, RandomizedSim]:
    b = MujocoBackend()
    b.load("tabletop", resolution=resolution)
    profile = load_profile(config_path("profiles", "tabletop.toml"))
    b.capabilities.require(b.name, profile.targets(), source=str(profile.source))
    return b, RandomizedSim(b, Randomizer(profile, seed=seed, entities=b.entities(), dt=b.dt))


def test_tabletop_profile_end_to_end() -> None:
    b, sim = _sim()
    assert sim.period == 5  # signals every 5 and 10 steps, the rim light every 200
    sim.start()
    sim.reset(0)
    key = b.scene.id(mujoco.mjtObj.mjOBJ_LIGHT, "key")
    rim = b.scene.id(mujoco.mjtObj.mjOBJ_LIGHT, "rim")
    flicker, rim_pos = [], []
    for _ in range(40):
        sim.step(5)
        flicker.append(b.model.light_diffuse[key].copy())
        rim_pos.append(b.model.light_pos[rim].copy())
    assert len({tuple(np.round(f, 6)) for f in flicker}) > 10  # the 7 Hz flicker moves every 5 steps
    moved = [i for i in range(1, 40) if not np.array_equal(rim_pos[i], rim_pos[i - 1])]
    assert moved == [39]  # the rim light wanders at step 200 only
    frame = sim.render("main", index=17)
    assert frame.index == 17
    n = int(frame.sample["scene:scene/object_count"])
    assert len(frame.instances) <= n and all(i.class_name in b.scene.library for i in frame.instances)
    for event_key in ("light:key/temperature", "light:rim/position", "image:main/noise_std", "object:obj_00/asset"):
        assert event_key in frame.sample
    b.close()


def test_same_seed_same_frames_different_seed_different_frames() -> None:
    frames = []
    for seed in (5, 5, 6):
        b, sim = _sim(seed, resolution=(64, 48))
        sim.start()
        sim.reset(2)
        sim.step(30)
        frames.append(sim.render("main", index=0))
        b.close()
    assert np.array_equal(frames[0].rgb, frames[1].rgb) and frames[0].sample == frames[1].sample
    assert not np.array_equal(frames[0].rgb, frames[2].rgb)


def test_step_callbacks_equal_applying_after_each_step_by_hand() -> None:
    profile = parse_profile({"name": "steps", "terms": [
        {"name": "drift", "target": "geom:obj_*/friction", "dist": "uniform", "low": 0.8, "high": 1.2,
         "signal": {"kind": "ou", "theta": 0.5, "sigma": 0.2, "every": 4}},
        {"name": "kick", "target": "world:gravity", "dist": "normal", "mean": [0, 0, -9.81], "std": 0.3,
         "when": "interval", "every": 6},
        {"name": "mass", "target": "body:obj_*/mass", "dist": "uniform", "low": 0.5, "high": 2.0,
         "when": "interval", "every": 10},
    ]})
    runs = []
    for by_hand in (False, True):
        b = MujocoBackend()
        b.load("tabletop", resolution=(32, 24))
        r = Randomizer(profile, seed=9, entities=b.entities(), dt=b.dt)
        if by_hand:
            b.reset()
            b.apply(r.reset(0))
            for k in range(1, 121):
                b.step()
                s = r.step(k)
                if s is not None:
                    b.apply(s)
        else:
            sim = RandomizedSim(b, r)
            assert sim.period == sim.schedule.period == 2
            sim.reset(0)
            sim.step(120)
        runs.append((ModelSnapshot(b.model), b.data.qpos.copy()))
        b.close()
    (fields_a, qpos_a), (fields_b, qpos_b) = runs
    assert fields_a.values.keys() == fields_b.values.keys()
    assert [k for k in fields_a.values if not np.array_equal(fields_a[k], fields_b[k])] == []
    assert np.array_equal(qpos_a, qpos_b)
