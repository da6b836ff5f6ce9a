"""IsaacBackend: the tabletop USD stage driven by the one driver (RandomizedSim) as the Kit layer drives it:
terms on their schedule from physics-step callbacks, physics through USD before the simulation starts
and through (stand-in) tensor views while it runs, frames labelled and randomized."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from testlib import REPO
from isaac_helpers import BBOX_DTYPE, StandInSimulationView, float3

pytest.importorskip("pxr")

from sim2real.dataset.basic import camera_params  # noqa: E402
from sim2real.errors import UnsupportedError  # noqa: E402
from sim2real.backends.isaac.backend import IsaacBackend, required_targets  # noqa: E402
from sim2real.randomize.profile import load_profile  # noqa: E402
from sim2real.randomize.runtime import Randomizer  # noqa: E402
from sim2real.sim.driver import RandomizedSim  # noqa: E402
from sim2real.sim.rendered_frame import Frame  # noqa: E402
from sim2real.usd import open_stage  # noqa: E402

PROFILE = """
version = 1
name = "schedule"

[[terms]]
name = "key"
target = "light:key/intensity"
dist = "uniform"
low = 0.5
high = 1.5

[[terms]]
name = "fill_every_4"
target = "light:fill/intensity"
dist = "uniform"
low = 0.5
high = 1.5
when = "interval"
every = 4

[[terms]]
name = "rim_flicker"
target = "light:rim/intensity"
dist = "uniform"
low = 0.9
high = 1.1
[terms.signal]
kind = "sinusoid"
amplitude = 0.2
frequency_hz = 10.0
every = 6

[[terms]]
name = "mass"
target = "body:obj_00/mass"
dist = "uniform"
low = 1.5
high = 2.0
op = "scale"

[[terms]]
name = "friction"
target = "geom:obj_01/friction"
dist = "uniform"
low = 0.5
high = 0.6
op = "scale"

[[terms]]
name = "noise"
target = "image:main/noise_std"
dist = "uniform"
low = 0.05
high = 0.06
when = "frame"
"""


@pytest.fixture
def profile(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "schedule.toml"
    path.write_text(PROFILE)
    return load_profile(path)


def _driver(profile, seed: int = 0):  # type: ignore[no-untyped-def]
    stage = open_stage(REPO / "data" / "scenes" / "tabletop.usda")
    backend = IsaacBackend(stage, resolution=(16, 12))
    randomizer = Randomizer(profile, seed, backend.entities(), n_envs=backend.n_envs, dt=backend.dt)
    backend.capabilities.require("isaac", required_targets(randomizer))
    return stage, backend, RandomizedSim(backend, randomizer, env=None)


def _intensity(stage, name: str) -> float:  # type: ignore[no-untyped-def]
    return float(stage.GetPrimAtPath(f"/World/Lights/{name}").GetAttribute("inputs:intensity").Get())


def test_terms_fire_on_their_schedule_from_physics_callbacks(profile) -> None:  # type: ignore[no-untyped-def]
    stage, backend, sim = _driver(profile)
    assert backend.dt == pytest.approx(0.002)  # the stage's physxScene:timeStepsPerSecond = 500
    assert sim.period == 2  # gcd of every = 4 and the signal's every = 6
    sim.start()
    sim.reset(0)
    fills, rims = [_intensity(stage, "fill")], [_intensity(stage, "rim")]
    for step in range(1, 13):
        # Isaac Sim 5.x passes (step_size,), 6.0 (step_dt, context): both drive the same clock
        backend.on_physics_step(*((0.002,) if step % 2 else (0.002, object())))
        fills.append(_intensity(stage, "fill"))
        rims.append(_intensity(stage, "rim"))
    changed_fill = [s for s in range(1, 13) if fills[s] != fills[s - 1]]
    changed_rim = [s for s in range(1, 13) if rims[s] != rims[s - 1]]
    assert changed_fill == [4, 8, 12]
    assert changed_rim == [6, 12]
    sim.reset(1)  # a reset restarts the step count
    backend.on_physics_step(0.002)
    assert backend.clock.steps == 1


def test_physics_goes_through_usd_until_the_simulation_runs(profile) -> None:  # type: ignore[no-untyped-def]
    stage, backend, sim = _driver(profile, seed=4)
    sim.start()
    reset = sim.reset(0)
    body = stage.GetPrimAtPath("/World/Objects/obj_00")
    scale = float(reset.values["body:obj_00/mass"][0])
    assert body.GetAttribute("physics:mass").Get() == pytest.approx(0.5 * scale, rel=1e-5)  # USD: 0.5 kg cube
    # the simulation starts: PhysX parsed the randomized USD mass; the tensor path starts from the authored one
    sim_view = StandInSimulationView()
    tensors = backend.attach_tensors(sim_view, float3)
    view = sim_view.views[0]
    row = tensors.rows[("obj_00", 0)]
    assert tensors.defaults.masses[row] == pytest.approx(0.5)
    reset = sim.reset(1)
    scale = float(reset.values["body:obj_00/mass"][0])
    assert view.masses[row, 0] == pytest.approx(0.5 * scale)
    assert body.GetAttribute("physics:mass").Get() == pytest.approx(0.5)  # USD restored, not written again
    friction_row = tensors.rows[("obj_01", 0)]
    # its default is the authored friction 1.0 (USD wrote it before the start), not PhysX's first reading
    friction = float(reset.values["geom:obj_01/friction"][0])
    assert view.materials[friction_row, :, 0] == pytest.approx(friction, abs=tensors.buckets.friction_step / 2)
    backend.detach_tensors()
    sim.reset(2)
    assert body.GetAttribute("physics:mass").Get() != pytest.approx(0.5)  # USD again once stopped


def _annotators(stage) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What Replicator would deliver for the main camera of the stage now (16 x 12): obj_00 and obj_01."""
    from sim2real.usd.xform import world_matrix

    cam = world_matrix(stage.GetPrimAtPath("/World/Cameras/main")) @ np.diag([1.0, -1.0, -1.0, 1.0])
    K = np.array([[17.0, 0, 7.5], [0, 17.0, 5.5], [0, 0, 1.0]])
    ref = Frame(np.zeros((12, 16, 3), np.uint8), None, None, None, {}, [], K, cam)
    instance = np.zeros((12, 16), np.uint32)
    instance[2:4, 2:5] = 4
    instance[6:9, 10:13] = 9
    boxes = np.zeros(1, dtype=BBOX_DTYPE)
    boxes[0] = (1, 2, 2, 4, 3, 0.5)
    return {"rgb": {"data": np.full((12, 16, 4), 128, np.uint8)},
            "distance_to_image_plane": {"data": np.full((12, 16), 1.2, np.float32)},
            "instance_segmentation_fast": {"data": instance, "idToLabels": {"4": "/World/Objects/obj_00",
                                                                            "9": "/World/Objects/obj_01/sphere/shape"}},
            "bounding_box_2d_tight_fast": {"data": boxes, "idToLabels": {}, "primPaths": ["/World/Objects/obj_00"]},
            "camera_params": camera_params(ref)}


def test_frames_are_labelled_randomized_and_deterministic(profile) -> None:  # type: ignore[no-untyped-def]
    frames = []
    for _ in range(2):
        stage, backend, sim = _driver(profile, seed=1)
        sim.start()
        sim.reset(3)
        backend.apply(sim.randomizer.frame(3))
        frames.append(backend.make_frame(_annotators(stage), camera="main", index=3))
    a, b = frames
    assert np.array_equal(a.rgb, b.rgb) and not np.all(a.rgb == 128)  # noise from the frame's own seed
    assert a.labels[1] == "cone" and a.labels[2] == "cube"  # the library's classes, sorted, as in MuJoCo
    obj0, obj1 = a.instances[:2]
    assert (obj0.name, obj0.class_name, obj0.box, obj0.visible_fraction) == ("obj_00", "cube", (2, 2, 5, 4), 0.5)
    assert (obj1.name, obj1.class_name, obj1.box) == ("obj_01", "sphere", (10, 6, 13, 9))
    assert obj0.pose_world.position == pytest.approx([-0.3, 0.12, 0.8], abs=1e-6)
    assert "light:key/intensity" in a.sample and "image:main/noise_std" in a.sample
    assert len(a.instances) == 8 and all(i.box is None for i in a.instances[2:])


def test_profiles_asking_for_what_isaac_cannot_apply_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('version = 1\n[[terms]]\ntarget = "geom:table_top/torsional_friction"\ndist = "constant"\n'
                    'value = 1.0\n')
    stage = open_stage(REPO / "data" / "scenes" / "tabletop.usda")
    backend = IsaacBackend(stage)
    randomizer = Randomizer(load_profile(path), 0, backend.entities(), dt=backend.dt)
    with pytest.raises(UnsupportedError, match=r"isaac backend cannot apply geom:\*/torsional_friction"):
        backend.capabilities.require("isaac", required_targets(randomizer))
    # the shipped profile's optional joint/actuator terms match nothing here and are not required
    shipped = Randomizer(load_profile(REPO / "config/profiles/tabletop.toml"), 0, backend.entities(), dt=backend.dt)
    backend.capabilities.require("isaac", required_targets(shipped))


def test_the_backend_follows_the_physx_simulation_view(profile) -> None:  # type: ignore[no-untyped-def]
    """What the Kit layer hands over on physics-ready / stop: a new view re-attaches (defaults read again),
    the same view is kept, an invalidated or missing one detaches (physics through USD again)."""
    _, backend, sim = _driver(profile)
    sim.start()
    assert backend.sync_view(None, float3) == "kept" and backend.tensors is None  # not simulating yet
    first = StandInSimulationView()
    assert backend.sync_view(first, float3) == "attached"
    tensors = backend.tensors
    assert backend.sync_view(first, float3) == "kept" and backend.tensors is tensors and len(first.views) == 1
    first.is_valid = False  # a stop invalidates it (SimulationManager._on_stop)
    assert backend.sync_view(first, float3) == "detached" and backend.tensors is None
    second = StandInSimulationView()  # the next play creates a new one
    assert backend.sync_view(second, float3) == "attached" and backend.tensors is not tensors
    assert backend.sync_view(None, float3) == "detached"


def test_a_frame_delivered_late_keeps_the_state_it_was_captured_with(profile) -> None:  # type: ignore[no-untyped-def]
    """What Sim2RealWriter does with an asynchronous delivery: the state taken at capture labels the frame,
    although the stage was prepared for the next frame since (objects moved, record and noise changed)."""
    stage, backend, sim = _driver(profile, seed=1)
    sim.start()
    sim.reset(3)
    backend.apply(sim.randomizer.frame(3))
    captured = backend.frame_state()
    now = backend.make_frame(_annotators(stage), camera="main", index=3)
    sim.reset(4)  # the next frame is prepared before frame 3 arrives
    backend.apply(sim.randomizer.frame(4))
    late = backend.make_frame(_annotators(stage), camera="main", index=3, state=captured)
    assert late.sample == now.sample != backend.record()
    assert np.array_equal(late.rgb, now.rgb)  # the captured frame's sensor noise level
    current = backend.make_frame(_annotators(stage), camera="main", index=3)  # what "the current state" gave
    assert current.sample != now.sample and not np.array_equal(current.rgb, now.rgb)


def test_render_products_are_named_after_the_camera_they_show() -> None:
    from pxr import Sdf, UsdRender

    from sim2real.backends.isaac.capture import camera_of
    from sim2real.usd.cameras import render_product_camera

    stage = open_stage(REPO / "data" / "scenes" / "tabletop.usda")
    backend = IsaacBackend(stage)
    product = UsdRender.Product.Define(stage, "/Render/RenderProduct_Replicator")  # what rep.create.render_product makes
    product.CreateCameraRel().SetTargets([Sdf.Path("/World/Cameras/main")])
    path = render_product_camera(stage, "/Render/RenderProduct_Replicator")
    assert path == "/World/Cameras/main"
    assert camera_of(path, backend.camera_paths(), "/Render/RenderProduct_Replicator") == ("main", 0)
    UsdRender.Product.Define(stage, "/Render/Viewport")  # no camera relationship target
    assert render_product_camera(stage, "/Render/Viewport") is None
    assert render_product_camera(stage, "/Render/Missing") is None
