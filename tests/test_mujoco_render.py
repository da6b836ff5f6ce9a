"""render(): depth, boxes, intrinsics and poses checked against known geometry; occlusion ratios;
labels; image effects; determinism; textures and meshes on the GPU follow apply/reset; both headless
GL platforms; a one-line RenderError when none works."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from testlib import REPO
from mujoco_support import backend_fixture, make_sample
from sim2real.backends.mujoco.backend import MujocoBackend

pytestmark = pytest.mark.render

W, H, FOVY = 200, 160, 40.0
CAM_Z = 2.1  # the camera looks straight down from here
BOX_SCENE = f"""
<mujoco>
  <visual><map znear="0.01" zfar="50"/></visual>
  <worldbody>
    <light pos="0 0 5" dir="0 0 -1"/>
    <geom name="ground" type="plane" size="5 5 0.1"/>
    <body name="box" pos="0 0 0.1"><geom name="box" type="box" size="0.1 0.1 0.1" rgba="1 0 0 1"/></body>
    <body name="plate" pos="0.15 0 1.0"><geom type="box" size="0.15 0.3 0.01" rgba="0 0 1 1"/></body>
    <camera name="down" pos="0 0 {CAM_Z}" xyaxes="1 0 0 0 1 0" fovy="{FOVY}"/>
  </worldbody>
</mujoco>
"""


@pytest.fixture(scope="module")
def boxes(tmp_path_factory: pytest.TempPathFactory) -> MujocoBackend:
    path = tmp_path_factory.mktemp("scene") / "boxes.xml"
    path.write_text(BOX_SCENE)
    b = MujocoBackend()
    b.load(path, resolution=(W, H))
    yield b
    b.close()


table = backend_fixture("tabletop", (160, 120))


def _expected_box(half: float, depth: float, K: np.ndarray) -> tuple[int, int, int, int]:
    """Half-open pixel box of a centred square of half-size ``half`` m at ``depth`` m."""
    u0, u1 = K[0, 2] - K[0, 0] * half / depth, K[0, 2] + K[0, 0] * half / depth
    v0, v1 = K[1, 2] - K[1, 1] * half / depth, K[1, 2] + K[1, 1] * half / depth
    return math.ceil(u0), math.ceil(v0), math.floor(u1) + 1, math.floor(v1) + 1


def test_depth_is_metric_distance_to_the_image_plane(boxes: MujocoBackend) -> None:
    boxes.restore_defaults()
    boxes.apply(make_sample({"object:plate/visible": False}))
    f = boxes.render("down")
    assert f.depth.dtype == np.float32 and f.depth.shape == (H, W)
    box = f.instance == 1
    assert abs(float(np.median(f.depth[box])) - (CAM_Z - 0.2)) < 1e-3  # top face of the box
    ground = f.instance == 0
    # the ground is parallel to the image plane: the same depth at the centre and in the corners
    # (a ray length would be 1/cos(angle) longer towards the corners)
    assert np.abs(f.depth[ground] - CAM_Z).max() < 2e-3
    assert abs(f.depth[0, 0] - CAM_Z) < 2e-3


def test_box_and_intrinsics_match_the_geometry(boxes: MujocoBackend) -> None:
    boxes.restore_defaults()
    boxes.apply(make_sample({"object:plate/visible": False}))
    f = boxes.render("down")
    fy = (H / 2) / math.tan(math.radians(FOVY / 2))
    assert np.allclose(f.K, [[fy, 0, (W - 1) / 2], [0, fy, (H - 1) / 2], [0, 0, 1]])
    inst = {i.name: i for i in f.instances}
    assert set(inst) == {"box", "plate"}
    box = inst["box"]
    assert box.box == _expected_box(0.1, CAM_Z - 0.2, f.K)
    x0, y0, x1, y1 = box.box
    assert box.visible_pixels == (x1 - x0) * (y1 - y0)  # a square seen face-on fills its box
    assert inst["plate"].box is None and inst["plate"].visible_pixels == 0
    # extrinsics: OpenCV frame (x right = world x, y down = world -y, z forward = world -z)
    assert np.allclose(f.cam_to_world[:3, :3], np.diag([1, -1, -1]), atol=1e-6)
    assert np.allclose(f.cam_to_world[:3, 3], [0, 0, CAM_Z])
    assert np.allclose(box.pose_camera.position, [0, 0, CAM_Z - 0.1], atol=1e-6)
    assert np.allclose(box.pose_world.quat_wxyz, [1, 0, 0, 0])


def test_projection_of_the_pose_lands_in_the_box(table: MujocoBackend) -> None:
    table.reset()
    f = table.render("main")
    assert len(f.instances) == 8
    for inst in f.instances:
        p = inst.pose_camera.position
        u, v = (f.K @ (p / p[2]))[:2]
        x0, y0, x1, y1 = inst.box
        assert x0 <= u < x1 and y0 <= v < y1, inst.name
        world = f.cam_to_world @ np.append(p, 1.0)
        assert np.allclose(world[:3], inst.pose_world.position)


def test_occlusion_ratio(boxes: MujocoBackend) -> None:
    """The plate hangs over the right half of the box (its edge is on the optical axis)."""
    boxes.restore_defaults()
    f = boxes.render("down")
    inst = {i.name: i for i in f.instances}
    box, plate = inst["box"], inst["plate"]
    assert plate.visible_fraction == 1.0
    assert abs(box.visible_fraction - 0.5) < 0.06 and abs(box.occlusion - 0.5) < 0.06
    x0, y0, x1, y1 = _expected_box(0.1, CAM_Z - 0.2, f.K)
    assert box.extra["unoccluded_pixels"] == (x1 - x0) * (y1 - y0)
    assert box.box[2] <= round(f.K[0, 2]) + 1  # the visible part ends at the plate's edge


def test_principal_offset_and_fovy_move_the_image(boxes: MujocoBackend) -> None:
    boxes.restore_defaults()
    boxes.apply(make_sample({"object:plate/visible": False}))
    base = {i.name: i for i in boxes.render("down").instances}["box"].box
    boxes.apply(make_sample({"camera:down/principal_offset": [10.0, -6.0]}))
    f = boxes.render("down")
    assert np.isclose(f.K[0, 2], (W - 1) / 2 + 10) and np.isclose(f.K[1, 2], (H - 1) / 2 - 6)
    moved = {i.name: i for i in f.instances}["box"].box
    assert moved == (base[0] + 10, base[1] - 6, base[2] + 10, base[3] - 6)
    boxes.apply(make_sample({"camera:down/fovy": 60.0, "camera:down/principal_offset": [0.0, 0.0]}))
    f = boxes.render("down")
    assert np.isclose(f.K[1, 1], (H / 2) / math.tan(math.radians(30)))
    assert {i.name: i for i in f.instances}["box"].box == _expected_box(0.1, CAM_Z - 0.2, f.K)


def test_labels_are_consistent(table: MujocoBackend) -> None:
    table.reset()
    table.apply(make_sample({"scene:scene/object_count": 3, "object:obj_00/asset": "torus"}))
    f = table.render("main")
    assert [i.name for i in f.instances] == ["obj_00", "obj_01", "obj_02"]  # hidden slots are not labelled
    assert set(np.unique(f.instance)) <= {0, 1, 2, 3}
    for inst in f.instances:
        mask = f.instance == inst.id
        assert (f.semantic[mask] == inst.class_id).all() and f.labels[inst.class_id] == inst.class_name
        assert mask.sum() == inst.visible_pixels
    assert f.instances[0].class_name == "torus"
    assert (f.semantic[f.instance == 0] == 0).all() and f.labels[0] == "background"
    assert (f.depth[f.instance > 0] > 0).all()
    table.reset()


def test_image_effects_apply_to_the_frame_deterministically(table: MujocoBackend) -> None:
    table.reset()
    clean = table.render("main")
    s = make_sample({"image:main/noise_std": 0.05, "image:main/depth_holes": 0.1}, seed=5, index=2, event="frame")
    renders = []
    for _ in range(2):
        table.reset()
        table.apply(s)
        renders.append(table.render("main"))
    a, b = renders
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.depth, b.depth)
    assert not np.array_equal(a.rgb, clean.rgb)
    assert np.array_equal(a.instance, clean.instance)  # labels are not affected
    holes = (a.depth == 0) & (clean.depth > 0)
    assert 0.07 < holes.sum() / (clean.depth > 0).sum() < 0.13
    assert a.sample["image:main/noise_std"] == 0.05
    table.reset()


def test_textures_and_meshes_follow_apply_and_reset(table: MujocoBackend) -> None:
    table.reset()
    before = table.render("main")
    table.apply(make_sample({"material:table_top/texture": str(REPO / "data/textures/checker.png"),
                             "object:obj_03/scale": 1.5}, {"object:obj_03/scale": "scale"}))
    after = table.render("main")
    table_px = (after.instance == 0) & (after.depth > 0) & (after.depth < 1.3)
    assert np.abs(after.rgb[table_px].astype(int) - before.rgb[table_px].astype(int)).mean() > 10
    cone_before = next(i for i in before.instances if i.name == "obj_03").box
    cone_after = next(i for i in after.instances if i.name == "obj_03").box
    ratio = (cone_after[3] - cone_after[1]) / (cone_before[3] - cone_before[1])
    assert 1.3 < ratio < 1.7
    table.reset()
    again = table.render("main")
    assert np.array_equal(again.rgb, before.rgb), "reset must restore the uploaded texture and mesh"


def test_two_backends_render_the_same_bytes() -> None:
    s = make_sample({"light:key/intensity": 0.7, "camera:main/azimuth": 0.2, "image:main/shot_noise": 300.0},
                    {"light:key/intensity": "scale", "camera:main/azimuth": "add"}, seed=11)
    frames = []
    for _ in range(2):
        b = MujocoBackend()
        b.load("tabletop", resolution=(96, 72))
        b.apply(s)
        b.step(20)
        frames.append(b.render("main"))
        b.close()
    assert np.array_equal(frames[0].rgb, frames[1].rgb) and np.array_equal(frames[0].depth, frames[1].depth)


_PLATFORM_SCRIPT = textwrap.dedent("""
    import json, numpy as np
    from sim2real.backends.mujoco.backend import MujocoBackend
    b = MujocoBackend(); b.load("tabletop", resolution=(80, 60))
    f = b.render("main"); b.close()
    print(json.dumps({"instance": f.instance.tolist(), "depth": f.depth.tolist(), "mean": float(f.rgb.mean())}))
""")


def test_egl_and_osmesa_both_render_the_same_scene() -> None:
    out = {}
    for platform in ("egl", "osmesa"):
        env = {**os.environ, "MUJOCO_GL": platform}
        env.pop("PYOPENGL_PLATFORM", None)
        proc = subprocess.run([sys.executable, "-c", _PLATFORM_SCRIPT], env=env, capture_output=True, text=True, check=False,
                              timeout=300)
        assert proc.returncode == 0, f"MUJOCO_GL={platform}: {proc.stderr[-500:]}"
        out[platform] = json.loads(proc.stdout.strip().splitlines()[-1])
    inst = {k: np.array(v["instance"]) for k, v in out.items()}
    assert len(np.unique(inst["egl"])) == 9  # background + 8 objects
    assert (inst["egl"] == inst["osmesa"]).mean() > 0.99
    depth = {k: np.array(v["depth"]) for k, v in out.items()}
    agree = inst["egl"] == inst["osmesa"]
    assert np.abs(depth["egl"][agree] - depth["osmesa"][agree]).max() < 0.01
    assert abs(out["egl"]["mean"] - out["osmesa"]["mean"]) < 3


def test_no_gl_platform_gives_one_line_render_error(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        from sim2real.backends.mujoco.backend import MujocoBackend
        from sim2real.errors import RenderError
        b = MujocoBackend(); b.load("arm2", resolution=(32, 24)); b.step(10)  # physics still works
        try:
            b.render()
        except RenderError as exc:
            print("RENDER_ERROR", exc)
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    env["XDG_CACHE_HOME"] = str(tmp_path)  # no cached choice
    env["SIM2REAL_GL"] = "nogl"  # the only candidate: a platform MuJoCo does not have (fails for real)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-800:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RENDER_ERROR")]
    assert len(lines) == 1, proc.stdout
    assert "no headless OpenGL platform renders" in lines[0] and "nogl: RuntimeError" in lines[0]
    assert "apt-get install" in lines[0]  # the fix


def test_rendering_works_when_mujoco_was_imported_first() -> None:
    """``import mujoco`` before sim2real binds MuJoCo to GLFW; the backend points it at the platform
    it chose instead."""
    script = ("import mujoco\nfrom sim2real.backends.mujoco.backend import MujocoBackend\n"
              "b = MujocoBackend(); b.load('arm2', resolution=(32, 24)); f = b.render(); b.close()\n"
              "print('OK', int(f.rgb.sum() > 0))")
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-800:]
    assert proc.stdout.strip().splitlines()[-1] == "OK 1"


def test_a_broken_mujoco_gl_still_lets_physics_run() -> None:
    script = ("from sim2real.backends.mujoco.backend import MujocoBackend\n"
              "from sim2real.errors import RenderError\n"
              "b = MujocoBackend(); b.load('arm2', resolution=(32, 24)); b.step(5)\n"
              "try:\n    b.render()\nexcept RenderError as exc:\n    print('RENDER_ERROR', exc)\n")
    env = {**os.environ, "MUJOCO_GL": "bogus"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-800:]
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith("RENDER_ERROR MUJOCO_GL=bogus: MuJoCo cannot use this platform") and "unset MUJOCO_GL" in line
