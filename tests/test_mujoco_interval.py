"""Interval terms through prepared chunks (``MujocoBackend.prepare_interval``, used by RandomizedSim)
leave the backend exactly as applying each ``Randomizer.step`` sample would: model fields, physical
state and records, firing after firing, across chunk boundaries, episodes and slot changes; and the
chunk size changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from mujoco_support import backend_fixture, make_sample
from sim2real.backends.mujoco.backend import MujocoBackend
from sim2real.backends.mujoco.snapshot import ModelSnapshot
from sim2real.backends.mujoco.tables import FieldTables, affine
from sim2real.errors import UnsupportedError
from sim2real.randomize.profile import parse_profile
from sim2real.randomize.runtime import Randomizer
from sim2real.sim.driver import RandomizedSim
from sim2real.sim.schedule import CHUNK

EVERY = 5
SET_CONST = {"actuator_acc0", "actuator_length0", "body_invweight0", "body_subtreemass", "body_sameframe", "bvh_aabb",
             "cam_poscom0", "cam_pos0", "cam_mat0", "dof_M0", "dof_invweight0", "dof_length", "geom_sameframe",
             "light_poscom0", "light_pos0", "light_dir0", "site_sameframe", "stat.meaninertia", "stat.meanmass",
             "stat.meansize", "stat.extent", "stat.center"}  # fields mj_setConst derives from masses and frames
tabletop = backend_fixture("tabletop", (32, 24))
arm2 = backend_fixture("arm2", (32, 24))


def _term(name: str, target: str, **dist: Any) -> dict:
    return {"name": name, "target": target, "when": "interval", "every": EVERY, **dist}


TABLETOP = [
    _term("friction", "geom:obj_*/friction", dist="uniform", low=0.7, high=1.3),
    _term("restitution", "geom:table_top/restitution", dist="uniform", low=0.05, high=0.3),
    _term("mass", "body:obj_*/mass", dist="loguniform", low=0.7, high=1.4),
    _term("com", "body:obj_*/com", dist="normal", mean=0.0, std=0.002),
    _term("gravity", "world:gravity", dist="normal", mean=[0.0, 0.0, -9.81], std=0.05),
    _term("light", "light:key/intensity", dist="uniform", low=0.5, high=1.5),  # not a physics key
    {"name": "scale", "target": "object:obj_01/scale", "dist": "uniform", "low": 0.8, "high": 1.2},  # reset
]
ARM2 = [
    _term("mass", "body:*_arm/mass", dist="loguniform", low=0.7, high=1.4),
    _term("com", "body:forearm/com", dist="normal", mean=0.0, std=0.005),
    _term("damping", "joint:*/damping", dist="loguniform", low=0.5, high=2.0),
    _term("damping_shoulder", "joint:shoulder/damping", dist="uniform", low=3.0, high=4.0, op="set"),
    _term("armature", "joint:*/armature", dist="uniform", low=0.8, high=1.2),
    _term("kp", "actuator:*/kp", dist="uniform", low=0.8, high=1.2),
    _term("kv", "actuator:*/kv", dist="uniform", low=0.8, high=1.2),
    _term("gravity", "world:gravity", dist="normal", mean=[0.0, 0.0, -9.81], std=0.05),
]


def _state(b: MujocoBackend) -> tuple[ModelSnapshot, np.ndarray, dict[str, Any]]:
    return ModelSnapshot(b.model), np.concatenate([b.data.qpos, b.data.qvel]), b.record()


def _runs(scene: str, terms: list[dict], episodes: int, firings: int,
          between: Callable[[MujocoBackend, Randomizer, int], None] | None = None,
          chunks: tuple[int | None, ...] = (CHUNK, None)) -> list[list[Any]]:
    """States after every firing, one list per entry of ``chunks``: through RandomizedSim (prepared
    chunks of that many firings), or by hand for None (``apply(Randomizer.step(k))`` after each step,
    the generic path)."""
    profile = parse_profile({"name": "interval", "terms": terms})
    out = []
    for chunk in chunks:
        by_hand = chunk is None
        b = MujocoBackend()
        b.load(scene, resolution=(32, 24))
        r = Randomizer(profile, seed=11, entities=b.entities(), dt=b.dt)
        sim = None if by_hand else RandomizedSim(b, r, chunk=chunk)
        states = []
        for episode in range(episodes):
            if sim is not None:
                sim.reset(episode)
            else:
                b.reset()
                b.apply(r.reset(episode))
            b.set_control(np.full(b.model.nu, 0.2))
            for f in range(1, firings + 1):
                if between is not None:
                    between(b, r, f)
                if sim is not None:
                    sim.step(EVERY)
                else:
                    for k in range(EVERY * (f - 1) + 1, EVERY * f + 1):
                        b.step()
                        s = r.step(k)
                        if s is not None:
                            b.apply(s)
                states.append(_state(b))
        b.close()
        out.append(states)
    return out


def _assert_same(runs: list[list[Any]]) -> None:
    fast, *others = runs
    for other in others:
        assert len(fast) == len(other)
        for i, ((model_a, x_a, rec_a), (model_b, x_b, rec_b)) in enumerate(zip(fast, other, strict=True)):
            differ = [k for k in model_a.values if not np.array_equal(model_a[k], model_b[k])]
            assert differ == [], f"firing {i}: model fields differ: {differ}"
            assert np.array_equal(x_a, x_b), f"firing {i}: state differs"
            assert rec_a == rec_b, f"firing {i}: records differ"


@pytest.mark.parametrize(("scene", "terms"), [("arm2", ARM2), ("tabletop", TABLETOP)])
def test_prepared_chunks_equal_applying_each_step_sample(scene: str, terms: list[dict]) -> None:
    runs = _runs(scene, terms, episodes=2, firings=2 * CHUNK + 3)  # three chunks per episode
    _assert_same(runs)
    fast = runs[0]
    masses = {float(state[0]["body_mass"].sum()) for state in fast}
    assert len(masses) > 2 * CHUNK  # the values change at every firing, and from chunk to chunk


def test_the_chunk_size_changes_no_sampled_value() -> None:
    """Chunks of 1, 7 and 64 firings (and the generic path) give the same model, state and records at every
    firing: the chunk is a cache size, not part of the sampling format."""
    _assert_same(_runs("arm2", ARM2, episodes=2, firings=20, chunks=(CHUNK, 1, 7, None)))


def test_a_slot_changing_scale_mid_block_is_followed() -> None:
    """A frame term rescales a slot between firings: the slot's body is another mass, so the
    prepared tables for it no longer hold; the firing still lands as the generic path lands it."""
    def rescale(b: MujocoBackend, r: Randomizer, f: int) -> None:
        if f % 7 == 0:
            b.apply(make_sample({"object:obj_01/scale": 0.8 + 0.05 * (f // 7)}, event="frame", index=f))

    terms = [t for t in TABLETOP if t["name"] != "scale"]
    _assert_same(_runs("tabletop", terms, episodes=1, firings=CHUNK + 4, between=rescale))


def test_a_mass_drawn_with_a_new_asset_belongs_to_that_asset(tabletop: MujocoBackend) -> None:
    b = tabletop
    b.restore_defaults()
    slot = b.objects.slots["obj_00"]
    b.apply(make_sample({"object:obj_00/asset": "sphere", "body:obj_00/mass": 0.42}))
    assert b.model.body_mass[slot.variants["sphere"].body] == 0.42
    assert b.model.body_mass[slot.variants["cube"].body] == 0.0
    b.apply(make_sample({"body:obj_00/mass": 0.5}, {"body:obj_00/mass": "scale"}))  # through the field tables
    sphere = slot.variants["sphere"].body
    assert b.model.body_mass[sphere] == b.world.compiled["body_mass"][sphere] * 0.5
    for scale in np.linspace(0.8, 1.2, 20):  # a new scale per episode: compiled elements do not pile up
        b.apply(make_sample({"object:obj_00/scale": scale}))
        b.apply(make_sample({"body:obj_00/mass": 0.5}, {"body:obj_00/mass": "scale"}))
        assert np.isclose(b.model.body_mass[sphere], b.world.compiled["body_mass"][sphere] * scale ** 3 * 0.5)
    assert len(b.objects._elements) == 2  # (key, op): the latest elements only
    b.restore_defaults()


def test_field_tables_let_the_later_key_win_an_element(arm2: MujocoBackend) -> None:
    b = arm2
    b.restore_defaults()
    first = affine("dof_damping", np.array([0, 1]), 0.0, "set", "a")  # the value on both dofs
    second = affine("dof_damping", np.array([1]), 10.0, "scale", "b")  # 10 x the value on the second
    tables = FieldTables(b.world, [("a", [first]), ("b", [second])])
    tables.write(tables.tables({"a": np.array([1.0, 2.0]), "b": np.array([3.0, 4.0])}), 1)
    assert b.model.dof_damping.tolist() == [2.0, 40.0]
    with pytest.raises(UnsupportedError, match="body:upper_arm/mass: expected a positive mass"):
        b.apply(make_sample({"body:upper_arm/mass": -1.0}))
    b.restore_defaults()
    assert b.world.defaults.differences(b.model) == []


def test_field_tables_take_rows_of_one_or_every_component_and_name_the_bad_key(arm2: MujocoBackend) -> None:
    b = arm2
    b.restore_defaults()
    com = affine("body_ipos", np.arange(3), 0.0, "add", "com", component=[0, 1, 2])
    mass = affine("body_mass", np.array([1]), 1.0, "scale", "mass", positive=lambda m: f"mass: {m:g}")
    gain = affine("actuator_gainprm", np.array([0]), 1.0, "scale", "gain", positive=lambda g: f"gain: {g:g}")
    tables = FieldTables(b.world, [("com", [com]), ("mass", [mass]), ("gain", [gain])])
    one = {"com": np.array([0.5, 0.25]), "mass": np.array([2.0, 3.0]), "gain": np.array([1.0, 1.0])}
    each = {**one, "com": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])}
    for rows, expected in ((one, [0.25, 0.25, 0.25]), (each, [4.0, 5.0, 6.0])):
        tables.write(tables.tables(rows), 1)
        assert b.model.body_ipos.reshape(-1)[:3].tolist() == expected
    with pytest.raises(UnsupportedError, match="com: expected 3 values \\(got 2\\)"):
        tables.tables({**one, "com": np.ones((2, 2))})
    with pytest.raises(UnsupportedError, match="^gain: -1$"):  # the failing key, not the first checked
        tables.tables({**one, "gain": np.array([1.0, -1.0])})
    b.restore_defaults()


def test_a_closed_randomized_sim_stops_firing(arm2: MujocoBackend) -> None:
    """close() detaches the step callback (a bound method: each access is a new object)."""
    b = arm2
    profile = parse_profile({"name": "close", "terms": ARM2})
    sim = RandomizedSim(b, Randomizer(profile, seed=1, entities=b.entities(), dt=b.dt))
    sim.reset(0)
    sim.step(EVERY)
    assert b.world.defaults.differences(b.model) != []
    sim.close()
    assert b.clock.callbacks == []
    b.restore_defaults()
    b.step(3 * EVERY)
    assert b.world.defaults.differences(b.model) == []


def test_one_store_through_the_model_buffer_lands_in_each_field(arm2: MujocoBackend) -> None:
    """The fields a sample writes are reached through one view of mjModel's buffer (gravity, in the
    option struct, separately); every value lands in its own field and nowhere else."""
    b = arm2
    b.restore_defaults()
    before = ModelSnapshot(b.model)
    values = {"joint:shoulder/damping": 0.25, "joint:elbow/armature": 0.5, "body:forearm/mass": 2.0,
              "body:upper_arm/com": [0.01, -0.02, 0.03], "actuator:elbow/kp": 3.0, "world:world/gravity": [0, 0, -5.0]}
    sample = make_sample(values, {k: "set" if k != "body:forearm/mass" else "scale" for k in values})
    b.apply(sample)
    plan = b.router.plan(tuple(sample.values), sample.ops)
    assert len(b.router.tables(plan)._stores) == 2  # 7 fields through the model buffer, then opt.gravity
    d = b.world.defaults
    shoulder, elbow = b.physics._dofs["shoulder"][0], b.physics._dofs["elbow"][0]
    forearm, upper = b.physics.bodies["forearm"], b.physics.bodies["upper_arm"]
    a = b.physics.actuators["elbow"]
    assert b.model.dof_damping[shoulder] == 0.25 and b.model.dof_armature[elbow] == 0.5
    assert b.model.body_mass[forearm] == 2.0 * d["body_mass"][forearm]
    assert np.allclose(b.model.body_inertia[forearm], 2.0 * d["body_inertia"][forearm], rtol=1e-15)
    assert b.model.body_ipos[upper].tolist() == [0.01, -0.02, 0.03]
    assert b.model.actuator_gainprm[a, 0] == 3.0 and b.model.actuator_biasprm[a, 1] == -3.0  # a position servo
    assert b.model.opt.gravity.tolist() == [0, 0, -5.0]
    written = {"dof_damping", "dof_armature", "body_mass", "body_inertia", "body_ipos", "actuator_gainprm",
               "actuator_biasprm", "opt.gravity"}
    derived = set(before.differences(b.model)) - written
    assert "body_subtreemass" in derived and derived <= SET_CONST  # nothing else was touched
    b.restore_defaults()


def test_affine_parts_reproduce_combine_bit_for_bit() -> None:
    from sim2real.sim.ops import affine_parts, combine

    rng = np.random.default_rng(3)
    default = rng.normal(size=5) * 10.0 ** rng.integers(-6, 6, size=5)
    values = rng.normal(size=(7, 5)) * 10.0 ** rng.integers(-6, 6, size=(7, 5))
    for op in ("set", "scale", "add"):
        scale, offset = affine_parts(default, op, "k")
        assert np.array_equal(values * scale + offset, combine(default, values, op, "k")), op
    with pytest.raises(UnsupportedError, match="k: expected an operation among set, scale, add"):
        affine_parts(default, "mul", "k")
