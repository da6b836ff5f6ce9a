"""The Isaac Sim physics path without Kit: callback signatures (5.x / 6.0), step counting, friction
buckets under PhysX's 64k-material cap, and tensor-view writes (on stand-in views, named as such)."""

from __future__ import annotations

import numpy as np
import pytest
from isaac_helpers import StandInSimulationView, StandInTorchRigidBodyView, float3

from sim2real.errors import UnsupportedError
from sim2real.backends.isaac.buckets import PHYSX_MATERIAL_LIMIT, FrictionBuckets
from sim2real.backends.isaac.steps import ISAAC_SIM_5, ISAAC_SIM_6, events, step_dt, subscription, unique_callback_name
from sim2real.sim.clock import StepClock
from sim2real.backends.isaac.tensors import TensorPhysics


# ---------------------------------------------------------------------------------------------- callbacks
def test_physics_callbacks_of_isaac_sim_5_and_6() -> None:
    assert step_dt((0.002,)) == 0.002  # World.add_physics_callback: fn(step_size)
    assert step_dt((0.002, object())) == 0.002  # 6.0 SimulationManager: fn(step_dt, context)
    with pytest.raises(UnsupportedError, match=r"expected \(step_dt,\) or \(step_dt, context\)"):
        step_dt(())
    with pytest.raises(UnsupportedError, match="expected a positive step"):
        step_dt((0.0,))
    assert subscription(has_world=True) == "world"
    assert subscription(has_world=False) == "simulation_manager"  # 5.1 needs no World either


def test_simulation_manager_events_of_isaac_sim_5_and_6() -> None:
    """5.1 has only IsaacEvents (PRE_PHYSICS_STEP: fn(step_dt)); 6.0 deprecates them for SimulationEvent."""
    assert events(has_simulation_event=False) == ISAAC_SIM_5
    assert ISAAC_SIM_5.step == ("IsaacEvents", "PRE_PHYSICS_STEP")
    assert ISAAC_SIM_5.ready == ("IsaacEvents", "PHYSICS_READY") and ISAAC_SIM_5.stopped == ("IsaacEvents", "TIMELINE_STOP")
    assert events(has_simulation_event=True) == ISAAC_SIM_6
    assert ISAAC_SIM_6.step == ("SimulationEvent", "PHYSICS_PRE_STEP")


def test_every_randomizer_gets_its_own_world_callback_name() -> None:
    held: set[str] = set()
    for expected in ("sim2real_randomizer", "sim2real_randomizer_2", "sim2real_randomizer_3"):
        name = unique_callback_name("sim2real_randomizer", held.__contains__)
        assert name == expected
        held.add(name)
    held.discard("sim2real_randomizer_2")  # detached: its name is free again
    assert unique_callback_name("sim2real_randomizer", held.__contains__) == "sim2real_randomizer_2"


def test_step_clock_fires_callbacks_every_n_steps_and_restarts_on_reset() -> None:
    clock, seen = StepClock(), []
    clock.add(lambda step, t: seen.append((step, round(t, 6))), every=3)
    for _ in range(7):
        clock.tick(0.01)
    assert seen == [(3, 0.03), (6, 0.06)]
    clock.reset()
    for _ in range(3):
        clock.tick(0.01)
    assert seen[-1] == (3, 0.03)


# ---------------------------------------------------------------------------------------------- buckets
def test_friction_buckets_stay_under_the_physx_material_limit() -> None:
    buckets = FrictionBuckets()
    assert buckets.capacity < PHYSX_MATERIAL_LIMIT
    rng = np.random.default_rng(0)
    raw = np.stack([rng.uniform(0, 2.5, 200_000), rng.uniform(0, 2.5, 200_000), rng.uniform(-0.2, 1.2, 200_000)], 1)
    snapped = buckets.snap(raw)
    distinct = np.unique(snapped, axis=0)
    assert len(distinct) <= buckets.capacity
    assert np.all(snapped[:, 1] <= snapped[:, 0])  # dynamic never above static
    inside = (raw[:, 0] <= 2.0) & (raw[:, 1] <= raw[:, 0])
    assert np.abs(snapped[inside, :2] - raw[inside, :2]).max() <= buckets.friction_step / 2 + 1e-6
    # a value does not depend on the other environments' values
    assert np.array_equal(buckets.snap(raw[:5]), snapped[:5])


def test_buckets_for_a_budget() -> None:
    b = FrictionBuckets.for_budget(10_000, restitution_levels=5)
    assert b.capacity <= 10_000 < FrictionBuckets(b.friction_levels + 1, 5).capacity
    with pytest.raises(ValueError, match="too small"):
        FrictionBuckets.for_budget(3)


# ---------------------------------------------------------------------------------------------- tensor views
def _physics(**kw: object) -> tuple[TensorPhysics, StandInSimulationView]:
    sim = StandInSimulationView()
    bodies = {"crate": ["/World/envs/env_0/crate", "/World/envs/env_1/crate"],
              "ball": ["/World/envs/env_0/ball", "/World/envs/env_1/ball"]}
    return TensorPhysics(sim, bodies, gravity=(0.0, 0.0, -9.81), float3=float3, **kw), sim  # type: ignore[arg-type]


def test_mass_scales_inertia_and_only_touches_the_sampled_rows() -> None:
    physics, sim = _physics()
    view = sim.views[0]
    row = view.prim_paths.index("/World/envs/env_1/crate")
    m0, i0 = view.masses[row, 0], view.inertias[row].copy()
    physics.apply("body", "crate", "mass", 2.0, "scale", "body:crate/mass", 1)
    physics.flush()
    assert view.masses[row, 0] == pytest.approx(2 * m0)
    assert view.inertias[row] == pytest.approx(2 * i0)
    assert [c[0] for c in view.calls] == ["masses", "inertias"]
    assert view.calls[0][1].tolist() == [row]  # only that environment's row
    other = view.prim_paths.index("/World/envs/env_0/crate")
    assert view.masses[other, 0] == pytest.approx(np.linspace(1, 2, 4)[other])
    # relative to the captured default every time: applying again does not compound
    physics.apply("body", "crate", "mass", 2.0, "scale", "body:crate/mass", 1)
    physics.flush()
    assert view.masses[row, 0] == pytest.approx(2 * m0)


def test_com_materials_and_gravity() -> None:
    physics, sim = _physics(buckets=FrictionBuckets(11, 11, 2.0))
    view = sim.views[0]
    row = view.prim_paths.index("/World/envs/env_0/ball")
    physics.apply("body", "ball", "com", [0.01, 0.0, 0.0], "add", "body:ball/com", 0)
    physics.apply("geom", "ball", "friction", 1.3, "scale", "geom:ball/friction", 0)
    physics.apply("geom", "ball", "restitution", 0.47, "set", "geom:ball/restitution", 0)
    physics.apply("world", "world", "gravity", [0.0, 0.0, -5.0], "set", "world:world/gravity", 0)
    physics.flush()
    assert view.coms[row, :3] == pytest.approx([0.01, 0.0, 0.01])
    assert view.coms[row, 3:] == pytest.approx([0, 0, 0, 1])  # the principal axes (x, y, z, w) are kept
    # 0.7 x 1.3 = 0.91 and 0.6 x 1.3 = 0.78 snapped to 0.2-wide friction steps; restitution to 0.1 steps
    assert view.materials[row] == pytest.approx(np.tile([1.0, 0.8, 0.5], (2, 1)))
    assert len(physics.materials_written) == 1  # one distinct material for both shapes
    assert sim.gravity[-1] == (0.0, 0.0, -5.0)
    physics.restore()
    assert view.materials[row] == pytest.approx(np.tile([0.7, 0.6, 0.1], (2, 1)))
    assert sim.gravity[-1] == (0.0, 0.0, -9.81)


def test_usd_written_defaults_override_the_first_reading() -> None:
    """Values the USD path wrote before the simulation started are not defaults."""
    physics, sim = _physics(overrides={("body", "crate", "mass", 0): (4.0, None),
                                       ("world", "world", "gravity", 0): np.array([0.0, 0.0, -1.62])})
    view = sim.views[0]
    row = view.prim_paths.index("/World/envs/env_0/crate")
    physics.apply("body", "crate", "mass", 0.5, "scale", "body:crate/mass", 0)
    physics.apply("world", "world", "gravity", [1.0, 1.0, 1.0], "scale", "world:world/gravity", 0)
    physics.flush()
    assert view.masses[row, 0] == pytest.approx(2.0)
    assert sim.gravity[-1] == pytest.approx((0.0, 0.0, -1.62))


def test_bodies_physx_does_not_simulate_are_reported() -> None:
    class Partial(StandInSimulationView):
        def create_rigid_body_view(self, pattern):  # type: ignore[no-untyped-def]
            return super().create_rigid_body_view(list(pattern)[1:])

    with pytest.raises(UnsupportedError, match="is not a rigid body PhysX simulates"):
        TensorPhysics(Partial(), {"crate": ["/a", "/b"]}, gravity=(0, 0, -9.81), float3=float3)


def test_writes_use_the_views_own_frontend() -> None:
    """With Isaac Sim's torch frontend the view hands out and takes torch tensors."""
    pytest.importorskip("torch")
    sim = StandInSimulationView(StandInTorchRigidBodyView)
    physics = TensorPhysics(sim, {"crate": ["/crate"]}, gravity=(0.0, 0.0, -9.81), float3=float3)
    physics.apply("body", "crate", "mass", 3.0, "set", "body:crate/mass", 0)
    physics.apply("geom", "crate", "friction", 0.5, "set", "geom:crate/friction", 0)
    physics.flush()
    view = sim.views[0]
    assert view.masses[0, 0] == pytest.approx(3.0)
    assert view.materials[0, :, :2] == pytest.approx(np.full((2, 2), 0.5))
    assert [c[0] for c in view.calls] == ["masses", "inertias", "materials"]
