"""Replicator annotator outputs -> our ``Frame`` (conventions in ``sim2real.sim.rendered_frame``).

Input: one render product's annotators as a writer with ``data_structure = "annotator"`` receives
them (``data["annotators"][name][render_product]``), i.e. ``{annotator name: payload}``, with the
formats Replicator documents and BasicWriter consumes:

==============================  ==========================================================================
annotator                       payload
==============================  ==========================================================================
``rgb``                         ``{"data": (H, W, 4) uint8 RGBA}``
``distance_to_image_plane``     ``{"data": (H, W) float32 metres}``, ``inf`` where the ray hits nothing
``semantic_segmentation``       ``{"data": (H, W) uint32, "idToLabels": {id: {"class": "cube"}}}`` (not
                                colorized; ids 0/1 are BACKGROUND/UNLABELLED)
``instance_segmentation[_fast]``  ``{"data": (H, W) uint32, "idToLabels": {id: prim path},
                                "idToSemantics": {id: {"class": ...}}}`` (one id per labelled prim)
``bounding_box_2d_tight[_fast]``  ``{"data": structured (N,) [semanticId u4, x_min i4, y_min i4, x_max i4,
                                y_max i4, occlusionRatio f4], "idToLabels": {semanticId: {"class": ...}},
                                "primPaths": [N prim paths]}``; ``x_max``/``y_max`` inclusive
``camera_params``               ``{"cameraProjection": 16 floats, "cameraViewTransform": 16 floats (row-vector
                                USD matrices), "renderProductResolution": [W, H], "cameraNearFar": [n, f],
                                ...}``
==============================  ==========================================================================

Output conventions: RGB drops alpha; depth ``inf``/NaN/negative -> 0 (no measurement); instance ids
are ours (``SceneObject.instance_id``, stable across frames), matched to Replicator's by prim path;
semantic ids are our class ids (``classes``), BACKGROUND and UNLABELLED -> 0; boxes are recomputed
half-open from the instance map; ``visible_fraction = 1 - occlusionRatio`` of the prim's tight box;
K and ``cam_to_world`` (OpenCV frame) are inverted from ``camera_params`` exactly as
``sim2real.dataset.basic.camera_params`` builds them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...sim.rendered_frame import Frame, Instance, Pose
from ...sim.labels import instance_boxes, pose_in_camera

log = logging.getLogger(__name__)

_CV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])
NO_CLASS = ("BACKGROUND", "UNLABELLED")
IDENTITY_POSE = Pose(np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0]))


# What Sim2RealWriter attaches: (annotator name, init_params). Segmentation uncolourised (uint32 ids); the
# "_fast" variants are what BasicWriter uses for instances and tight boxes.
ANNOTATORS: tuple[tuple[str, dict[str, Any] | None], ...] = (
    ("rgb", None),
    ("distance_to_image_plane", None),
    ("semantic_segmentation", {"colorize": False}),
    ("instance_segmentation_fast", {"colorize": False}),
    ("bounding_box_2d_tight_fast", None),
    ("camera_params", None),
)


def by_render_product(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A writer's ``data`` (``data_structure = "annotator"``: ``data["annotators"][name][render_product]``)
    regrouped per render product: ``{render_product: {annotator name: payload}}``."""
    out: dict[str, dict[str, Any]] = {}
    for name, per_rp in data.get("annotators", {}).items():
        for rp, payload in per_rp.items():
            out.setdefault(str(rp), {})[name] = payload
    return out


@dataclass(frozen=True)
class SceneObject:
    """A labelled object of the stage that is shown in this frame."""

    name: str  # entity name (obj_03)
    path: str  # prim path of the labelled prim (what instance_segmentation reports)
    instance_id: int  # our id, stable across frames (1-based)
    class_name: str
    pose_world: Pose | None = None


def annotator(annotators: Mapping[str, Any], name: str) -> Any:
    """A payload by annotator name, accepting the ``_fast`` variants BasicWriter uses."""
    for key in (name, f"{name}_fast"):
        if key in annotators:
            return annotators[key]
    return None


def _int_keys(mapping: Mapping[Any, Any]) -> dict[int, Any]:
    return {int(k): v for k, v in mapping.items()}


def _class_of(label: Any) -> str:
    if isinstance(label, Mapping):
        label = label.get("class", "")
    return str(label).split(",")[0]


def camera_from_params(params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(K, cam_to_world in the OpenCV frame, (width, height)) from a camera_params payload."""
    try:
        width, height = (int(v) for v in np.asarray(params["renderProductResolution"]).reshape(2))
        proj = np.asarray(params["cameraProjection"], dtype=np.float64).reshape(4, 4).T
        view = np.asarray(params["cameraViewTransform"], dtype=np.float64).reshape(4, 4).T
    except (KeyError, ValueError) as exc:
        raise InputError(f"camera_params: expected renderProductResolution, cameraProjection and "
                         f"cameraViewTransform ({exc})") from None
    fx, fy = proj[0, 0] * width / 2.0, proj[1, 1] * height / 2.0
    cx = (1.0 - proj[0, 2]) * width / 2.0 - 0.5  # Replicator's pixel centres are at half-integers
    cy = (1.0 + proj[1, 2]) * height / 2.0 - 0.5
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    cam_to_world = np.linalg.inv(view) @ _CV_TO_GL
    return K, cam_to_world, (width, height)


def depth_from_distance(distance: Any) -> np.ndarray:
    """distance_to_image_plane (metres, inf where nothing is hit) -> our depth (0 = no measurement)."""
    d = np.array(distance, dtype=np.float32)
    d[~np.isfinite(d) | (d <= 0)] = 0.0
    return d


def instance_map(payload: Mapping[str, Any], objects: Sequence[SceneObject]) -> np.ndarray:
    """Replicator instance ids -> ours, by prim path (a labelled prim, or a prim inside one)."""
    data = _ids(payload["data"], "instance_segmentation")
    table = _int_keys(payload.get("idToLabels", {}))
    lut = _lut(data, table)
    for rid, path in table.items():
        match = _object_of(str(path), objects)
        if match is not None:
            lut[rid] = match.instance_id
    return lut[data]


def _ids(data: Any, name: str) -> np.ndarray:
    """(H, W) uint32 ids (also accepted: (H, W, 1)); colourised RGBA output is refused."""
    a = np.asarray(data)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim != 2 or a.dtype.kind not in "ui":
        raise InputError(f"{name}: expected (H, W) uint32 ids (annotator colorize=False), got {a.shape} {a.dtype}")
    return a.astype(np.uint32, copy=False)


def _lut(data: np.ndarray, table: Mapping[int, Any]) -> np.ndarray:
    size = max(int(data.max()) + 1 if data.size else 1, max(table, default=0) + 1)
    return np.zeros(size, dtype=np.int32)


def _object_of(path: str, objects: Sequence[SceneObject]) -> SceneObject | None:
    for obj in objects:
        if path == obj.path or path.startswith(obj.path.rstrip("/") + "/"):
            return obj
    return None


def semantic_map(payload: Mapping[str, Any], classes: Mapping[str, int]) -> np.ndarray:
    """Replicator semantic ids -> our class ids (by class name); unknown classes and BACKGROUND/UNLABELLED -> 0."""
    data = _ids(payload["data"], "semantic_segmentation")
    table = _int_keys(payload.get("idToLabels", {}))
    lut = _lut(data, table)
    for rid, label in table.items():
        name = _class_of(label)
        if name in NO_CLASS:
            continue
        if name not in classes:
            log.warning("semantic class %r is not one of the scene's classes; stored as background", name)
            continue
        lut[rid] = classes[name]
    return lut[data]


def occlusion_by_path(payload: Mapping[str, Any] | None) -> dict[str, float]:
    """Prim path -> occlusionRatio from a bounding_box_2d_tight payload."""
    if payload is None:
        return {}
    boxes = np.asarray(payload["data"])
    paths = list(payload.get("primPaths", []))
    if len(paths) != len(boxes):
        raise InputError(f"bounding_box_2d_tight: {len(boxes)} boxes but {len(paths)} prim paths")
    return {str(p): float(row["occlusionRatio"]) for p, row in zip(paths, boxes)}


def frame_from_annotators(
    annotators: Mapping[str, Any],
    *,
    objects: Sequence[SceneObject],
    classes: Mapping[str, int],
    camera: str,
    index: int = 0,
    sample: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Frame:
    """One Frame from one render product's annotators (see the module docstring for the formats)."""
    rgb_payload = annotator(annotators, "rgb")
    params = annotator(annotators, "camera_params")
    if rgb_payload is None or params is None:
        raise InputError("annotators: rgb and camera_params are required")
    rgba = np.asarray(rgb_payload["data"] if isinstance(rgb_payload, Mapping) else rgb_payload)
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] not in (3, 4):
        raise InputError(f"rgb: expected (H, W, 4) uint8, got {rgba.shape} {rgba.dtype}")
    rgb = np.ascontiguousarray(rgba[..., :3])
    height, width = rgb.shape[:2]
    K, cam_to_world, (w, h) = camera_from_params(params)
    if (w, h) != (width, height):
        raise InputError(f"camera_params: renderProductResolution {w}x{h} differs from the rgb image "
                         f"{width}x{height}")
    depth_payload = annotator(annotators, "distance_to_image_plane")
    depth = depth_from_distance(depth_payload["data"]) if depth_payload is not None else None
    inst_payload = annotator(annotators, "instance_segmentation")
    instance = instance_map(inst_payload, objects) if inst_payload is not None else None
    sem_payload = annotator(annotators, "semantic_segmentation")
    by_id = {o.instance_id: o for o in objects}
    if sem_payload is not None:
        semantic = semantic_map(sem_payload, classes)
    elif instance is not None:  # classes of the instances
        lut = np.zeros(max(by_id, default=0) + 1, dtype=np.int32)
        for o in objects:
            lut[o.instance_id] = classes.get(o.class_name, 0)
        semantic = lut[instance]
    else:
        semantic = None
    occlusion = occlusion_by_path(annotator(annotators, "bounding_box_2d_tight"))
    instances = _instances(instance, objects, classes, occlusion, cam_to_world)
    labels = {0: "background", **{v: k for k, v in classes.items()}}
    near_far = np.asarray(params.get("cameraNearFar", [np.nan, np.nan]), dtype=float).reshape(2)
    frame_meta = {"backend": "isaac", **({"znear_m": float(near_far[0]), "zfar_m": float(near_far[1])}
                                         if np.all(np.isfinite(near_far)) else {}), **(meta or {})}
    return Frame(rgb, depth, instance, semantic, labels, instances, K, cam_to_world, camera=camera, index=index,
                 sample=dict(sample or {}), meta=frame_meta)


def _instances(instance: np.ndarray | None, objects: Sequence[SceneObject], classes: Mapping[str, int],
               occlusion: Mapping[str, float], cam_to_world: np.ndarray) -> list[Instance]:
    if instance is None:
        return []
    n = max((o.instance_id for o in objects), default=0)
    boxes, counts = instance_boxes(instance, n)
    out = []
    for o in sorted(objects, key=lambda o: o.instance_id):
        i = o.instance_id
        visible = int(counts[i])
        fraction = 1.0 - occlusion.get(o.path, 0.0) if visible else 0.0
        pose = o.pose_world or IDENTITY_POSE
        out.append(Instance(i, o.name, classes.get(o.class_name, 0), o.class_name,
                            tuple(int(v) for v in boxes[i]) if visible else None, visible,
                            float(min(max(fraction, 0.0), 1.0)), pose, pose_in_camera(pose, cam_to_world),
                            {"prim_path": o.path}))
    return out
