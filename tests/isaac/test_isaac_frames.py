"""Replicator annotator outputs -> Frame, with arrays in exactly the formats Replicator documents
(dtypes, shapes, the structured box dtype, idToLabels maps, camera_params keys)."""

from __future__ import annotations

import numpy as np
import pytest
from isaac_helpers import BBOX_DTYPE

from sim2real.dataset.basic import BBOX_2D_DTYPE, camera_params
from sim2real.errors import InputError
from sim2real.backends.isaac.annotators import SceneObject, by_render_product, camera_from_params, frame_from_annotators
from sim2real.sim.rendered_frame import Frame, Pose

H, W = 12, 16
OBJECTS = [SceneObject("obj_00", "/World/Objects/obj_00", 1, "cube", Pose(np.array([0.1, 0.0, 0.8]),
                                                                           np.array([1.0, 0.0, 0.0, 0.0]))),
           SceneObject("obj_01", "/World/Objects/obj_01", 2, "mug")]
CLASSES = {"cone": 1, "cube": 2, "mug": 3}


def _reference_camera() -> tuple[np.ndarray, np.ndarray]:
    K = np.array([[20.0, 0.0, 7.25], [0.0, 21.0, 5.5], [0.0, 0.0, 1.0]])
    cam_to_world = np.eye(4)
    cam_to_world[:3, :3] = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # looking along +y
    cam_to_world[:3, 3] = [0.0, -1.0, 0.8]
    return K, cam_to_world


def _annotators() -> dict[str, object]:
    rng = np.random.default_rng(0)
    K, cam_to_world = _reference_camera()
    ref = Frame(np.zeros((H, W, 3), np.uint8), None, None, None, {}, [], K, cam_to_world,
                meta={"znear_m": 0.05, "zfar_m": 50.0})
    params = camera_params(ref)  # the JSON BasicWriter writes = the annotator's keys
    params = {k: np.asarray(v) if isinstance(v, list) else v for k, v in params.items()}  # the annotator gives arrays
    instance = np.zeros((H, W), np.uint32)
    instance[2:5, 3:7] = 7  # obj_00's cube mesh: a prim inside the labelled prim
    instance[6:10, 9:12] = 3  # obj_01
    instance[0, 0] = 1  # unlabelled
    semantic = np.zeros((H, W), np.uint32)
    semantic[2:5, 3:7] = 5
    semantic[6:10, 9:12] = 6
    semantic[11, 15] = 9  # a class the scene does not have
    depth = rng.uniform(0.5, 2.0, (H, W)).astype(np.float32)
    depth[0, :] = np.inf
    boxes = np.zeros(2, dtype=BBOX_DTYPE)
    boxes[0] = (5, 3, 2, 6, 4, 0.25)
    boxes[1] = (6, 9, 6, 11, 9, 0.0)
    return {
        "rgb": {"data": rng.integers(0, 255, (H, W, 4), dtype=np.uint8)},
        "distance_to_image_plane": {"data": depth},
        "instance_segmentation_fast": {"data": instance, "idToLabels": {"0": "BACKGROUND", "1": "UNLABELLED",
                                                                        "3": "/World/Objects/obj_01",
                                                                        "7": "/World/Objects/obj_00/cube/shape"},
                                       "idToSemantics": {"3": {"class": "mug"}, "7": {"class": "cube"}}},
        "semantic_segmentation": {"data": semantic, "idToLabels": {"0": {"class": "BACKGROUND"},
                                                                   "1": {"class": "UNLABELLED"},
                                                                   "5": {"class": "cube"}, "6": {"class": "mug"},
                                                                   "9": {"class": "lamp"}}},
        "bounding_box_2d_tight_fast": {"data": boxes, "idToLabels": {"5": {"class": "cube"}, "6": {"class": "mug"}},
                                       "primPaths": ["/World/Objects/obj_00", "/World/Objects/obj_01"]},
        "camera_params": params,
    }


def test_annotators_become_a_frame_in_our_conventions() -> None:
    data = _annotators()
    frame = frame_from_annotators(data, objects=OBJECTS, classes=CLASSES, camera="main", index=4,
                                  sample={"light:key/intensity": 1.2})
    assert BBOX_DTYPE == BBOX_2D_DTYPE  # the dtype Replicator documents is the one BasicWriter files hold
    assert frame.rgb.shape == (H, W, 3) and frame.rgb.dtype == np.uint8
    assert np.array_equal(frame.rgb, data["rgb"]["data"][..., :3])  # type: ignore[index]
    assert frame.depth is not None and frame.depth.dtype == np.float32
    assert np.all(frame.depth[0] == 0) and np.all(frame.depth[1:] > 0)  # inf (no hit) -> 0
    assert set(np.unique(frame.instance)) == {0, 1, 2}  # unlabelled -> background; ours by prim path
    assert frame.instance[3, 4] == 1 and frame.instance[7, 10] == 2
    assert frame.semantic[3, 4] == 2 and frame.semantic[7, 10] == 3 and frame.semantic[11, 15] == 0
    assert frame.labels == {0: "background", 1: "cone", 2: "cube", 3: "mug"}
    a, b = frame.instances
    assert (a.name, a.class_id, a.class_name, a.box, a.visible_pixels) == ("obj_00", 2, "cube", (3, 2, 7, 5), 12)
    assert a.visible_fraction == pytest.approx(0.75) and b.visible_fraction == pytest.approx(1.0)
    assert b.box == (9, 6, 12, 10)
    assert a.pose_camera.position == pytest.approx([0.1, 0.0, 1.0])  # 1 m in front, 0.1 m right of the camera
    assert frame.index == 4 and frame.camera == "main" and frame.sample == {"light:key/intensity": 1.2}
    assert frame.meta["znear_m"] == pytest.approx(0.05) and frame.meta["zfar_m"] == pytest.approx(50.0)


def test_camera_params_invert_what_basicwriter_layout_writes() -> None:
    K, cam_to_world = _reference_camera()
    params = camera_params(Frame(np.zeros((H, W, 3), np.uint8), None, None, None, {}, [], K, cam_to_world))
    K2, pose2, size = camera_from_params(params)
    assert size == (W, H)
    assert K2 == pytest.approx(K)
    assert pose2 == pytest.approx(cam_to_world)


def test_camera_params_of_a_real_usd_camera() -> None:
    """cameraProjection/cameraViewTransform as USD computes them for a camera with a film offset."""
    pytest.importorskip("pxr")
    from pxr import Gf, Usd, UsdGeom

    stage = Usd.Stage.CreateInMemory()
    cam = UsdGeom.Camera.Define(stage, "/Cam")
    cam.CreateFocalLengthAttr(24.0)
    cam.CreateHorizontalApertureAttr(20.955)
    cam.CreateVerticalApertureAttr(20.955 * H / W)
    cam.CreateHorizontalApertureOffsetAttr(-2 * 20.955 / W)  # principal point 2 px right
    UsdGeom.Xformable(cam).AddTranslateOp().Set(Gf.Vec3d(1.0, 2.0, 3.0))
    gf = cam.GetCamera(Usd.TimeCode.Default())
    view = np.array(gf.transform.GetInverse(), dtype=float)
    params = {"cameraProjection": np.array(gf.frustum.ComputeProjectionMatrix(), dtype=float).reshape(-1),
              "cameraViewTransform": view.reshape(-1), "renderProductResolution": np.array([W, H])}
    K, cam_to_world, _ = camera_from_params(params)
    f_px = 24.0 / 20.955 * W
    assert K == pytest.approx(np.array([[f_px, 0, (W - 1) / 2 + 2], [0, f_px, (H - 1) / 2], [0, 0, 1]]), abs=1e-6)
    assert cam_to_world[:3, 3] == pytest.approx([1.0, 2.0, 3.0])
    assert cam_to_world[:3, :3] == pytest.approx(np.diag([1.0, -1.0, -1.0]))  # OpenCV: y down, z forward


def test_writer_data_regrouped_per_render_product() -> None:
    data = {"annotators": {"rgb": {"main": {"data": 1}, "top": {"data": 2}}, "camera_params": {"main": {"x": 3}}},
            "trigger_outputs": {}, "reference_time": (0, 1)}
    assert by_render_product(data) == {"main": {"rgb": {"data": 1}, "camera_params": {"x": 3}},
                                       "top": {"rgb": {"data": 2}}}


def test_colourised_segmentation_and_missing_channels_are_refused() -> None:
    data = _annotators()
    data["instance_segmentation_fast"] = {"data": np.zeros((H, W, 4), np.uint8), "idToLabels": {}}
    with pytest.raises(InputError, match="colorize=False"):
        frame_from_annotators(data, objects=OBJECTS, classes=CLASSES, camera="main")
    with pytest.raises(InputError, match="rgb and camera_params are required"):
        frame_from_annotators({"rgb": data["rgb"]}, objects=OBJECTS, classes=CLASSES, camera="main")
