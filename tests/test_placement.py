"""Objects do not interpenetrate (sim.placement): counted with MuJoCo's own contacts on the demo's profile,
the redraws change nothing but the positions that met, a layout that cannot fit is one error naming the
term, and the settle step runs physics before capture."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from sim2real.backends.mujoco.backend import MujocoBackend
from sim2real.errors import ConfigError
from sim2real.randomize.profile import load_profile, parse_profile
from sim2real.randomize.runtime import Randomizer
from sim2real.sim.driver import RandomizedSim

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools" / "bench"))
from overlap_rate import overlapping_pairs  # noqa: E402  (the measurement tool's contact count)

DEMO = REPO / "config" / "profiles" / "tabletop_plain.toml"  # the demo's generate profile
EPISODES = 80


def _driven(profile, seed: int = 0):
    backend = MujocoBackend()
    backend.load("tabletop", resolution=(32, 24), occlusion=False)
    sim = RandomizedSim(backend, Randomizer(profile, seed, backend.entities(), dt=backend.dt))
    sim.start()
    return backend, sim


def _episodes(profile, n: int = EPISODES) -> tuple[list[dict], list[int]]:
    """Each episode's reset values and how many object pairs penetrate after they are applied."""
    backend, sim = _driven(profile)
    try:
        samples, overlaps = [], []
        for i in range(n):
            s = sim.reset(i)
            samples.append({k: np.array(v) for k, v in s.values.items()})
            overlaps.append(len(overlapping_pairs(backend)))
        return samples, overlaps
    finally:
        backend.close()


def _unplaced(profile):
    data = profile.to_dict()
    for t in data["terms"]:
        if t["target"].endswith("/position") and t["target"].startswith("object:"):
            t["no_overlap"] = False
    return profile.edited(data)


@pytest.fixture(scope="module")
def runs():
    profile = load_profile(DEMO)
    return _episodes(profile), _episodes(_unplaced(profile))


def test_the_demo_profile_has_no_interpenetrating_objects(runs) -> None:
    (placed, overlaps), (drawn, overlaps_drawn) = runs
    assert sum(o > 0 for o in overlaps_drawn) >= EPISODES // 10  # independent draws meet often (27 % measured)
    assert overlaps == [0] * EPISODES


def test_only_the_positions_that_met_are_redrawn(runs) -> None:
    (placed, _), (drawn, overlaps_drawn) = runs
    changed = []
    for i, (a, b) in enumerate(zip(placed, drawn, strict=True)):
        assert a.keys() == b.keys()
        moved = {k for k in a if not np.array_equal(a[k], b[k])}
        assert all(k.startswith("object:") and k.endswith("/position") for k in moved), moved
        if overlaps_drawn[i]:
            assert moved, i
        changed.append(bool(moved))
    # boxes are conservative (a turned cube fills its box's corners only), so some frames whose objects
    # only came close are redrawn too; every other frame keeps its values and bytes
    assert sum(changed) <= 2 * sum(o > 0 for o in overlaps_drawn)
    assert sum(changed) < EPISODES // 2


def test_placement_is_deterministic(runs) -> None:
    again, _ = _episodes(load_profile(DEMO), n=12)
    for a, b in zip(runs[0][0][:12], again, strict=True):
        assert all(np.array_equal(a[k], b[k]) for k in a)


CROWD = {
    "scene": "tabletop",
    "terms": [
        {"name": "count", "target": "scene:object_count", "dist": "constant", "value": 8},
        {"name": "crowd", "target": "object:obj_*/position", "dist": "uniform", "op": "set",
         "low": [-0.03, -0.03, 0.75], "high": [0.03, 0.03, 0.75], "max_tries": 5},
    ],
}


def test_a_layout_that_cannot_fit_is_one_error_naming_the_term(tmp_path: Path) -> None:
    backend, sim = _driven(parse_profile(CROWD, source=tmp_path / "crowd.toml"))
    try:
        with pytest.raises(ConfigError) as exc:
            sim.reset(0)
    finally:
        backend.close()
    message = str(exc.value)
    assert message.startswith(f"{tmp_path / 'crowd.toml'}: terms 'crowd'") and "in 5 draws" in message
    assert "no_overlap = false" in message and "\n" not in message


def test_placement_keys_belong_to_object_positions(tmp_path: Path) -> None:
    bad = {"terms": [{"name": "k", "target": "light:key/intensity", "dist": "constant", "value": 1.0,
                      "no_overlap": True}]}
    with pytest.raises(ConfigError, match=r"terms\[0\].*no_overlap: expected no_overlap only on object"):
        parse_profile(bad, source=tmp_path / "p.toml")
    tied = {"terms": [{"name": "t", "target": "object:obj_*/position", "dist": "uniform", "low": [-0.1, -0.1, 0.0],
                       "high": [0.1, 0.1, 0.0], "shared": True, "no_overlap": True}]}
    with pytest.raises(ConfigError, match=r"no_overlap: expected no_overlap without shared = true"):
        parse_profile(tied, source=tmp_path / "p.toml")


def test_settle_steps_run_physics_after_the_reset() -> None:
    data = {**CROWD, "settle_steps": 25, "terms": [CROWD["terms"][0]]}
    backend, sim = _driven(parse_profile(data))
    try:
        sim.reset(0)
        assert backend.state()["time"] == pytest.approx(25 * backend.dt)
        z0 = backend.data.qpos[2]
        sim.reset(1)
        assert backend.data.qpos[2] == pytest.approx(z0)  # every reset settles alike
    finally:
        backend.close()
