"""Isaac Sim Replicator ``BasicWriter``-compatible files for one Frame.

Tools written for BasicWriter output read each shard folder of a dataset generated with
``--layout basic``. What we write and how it maps from our Frame conventions:

* ``rgb_{f}.png``: H x W x 4 uint8 RGBA (alpha 255), as BasicWriter's ``rgb`` (LdrColor).
* ``distance_to_image_plane_{f}.npy``: H x W float32 metres; our ``0`` (no measurement) becomes
  ``inf``, which is what Replicator reports where a ray hits nothing.
* ``semantic_segmentation_{f}.png`` + ``semantic_segmentation_labels_{f}.json``: colourised RGBA as
  BasicWriter's default (``colorize_semantic_segmentation=True``); JSON keys ``"(r, g, b, a)"`` ->
  ``{"class": name}``; ``(0, 0, 0, 0)`` is ``BACKGROUND``.
* ``instance_id_segmentation_{f}.png`` + ``instance_id_segmentation_mapping_{f}.json``: colourised
  RGBA; JSON ``"(r, g, b, a)"`` -> prim path (``Instance.extra["prim_path"]`` or ``/World/<name>``).
* ``bounding_box_2d_tight_{f}.npy`` (+ ``_labels_`` and ``_prim_paths_`` JSON): the structured dtype
  below, one row per visible instance. Replicator's ``x_max``/``y_max`` are the last pixel column/row
  the object covers (inclusive); our boxes are half-open, so ``x_max = x1 - 1``, ``y_max = y1 - 1``.
  (Evidence: Isaac Sim's DataVisualizationWriter draws ``[x_min, y_min, x_max, y_max]`` with PIL's
  pixel-inclusive ``rectangle``. Replicator's own CocoWriter computes ``width = x_max - x_min``, one
  pixel less than the visible extent; our COCO export uses the exact half-open width.)
  ``occlusionRatio`` = ``1 - visible_fraction``.
* ``camera_params_{f}.json``: Replicator's camera_params keys. ``cameraViewTransform`` is world->view
  for USD's camera frame (x right, y up, looking down -z), ``cameraProjection`` the matching OpenGL
  projection, both as 16 floats of USD's row-vector matrices (translation in the last row).
  ``cameraFocalLength``/``cameraAperture`` (mm) assume a 20.955 mm horizontal aperture (Isaac's
  default); only their ratios to the resolution matter.

``{f}`` is the frame index with at least four digits (BasicWriter's ``frame_padding=4``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from ..sim.rendered_frame import Frame
from .files import Decoder, EncodedFile, json_bytes, load_npy, npy_bytes
from .layout import FileNames
from .png import decode_png, encode_png

BBOX_2D_DTYPE = np.dtype(
    [("semanticId", "<u4"), ("x_min", "<i4"), ("y_min", "<i4"), ("x_max", "<i4"), ("y_max", "<i4"),
     ("occlusionRatio", "<f4")]
)
HORIZONTAL_APERTURE_MM = 20.955
DEFAULT_NEAR_FAR_M = (0.01, 100.0)
# GL camera frame = OpenCV camera frame with y and z flipped
_CV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])


class BasicLayout(FileNames):
    """BasicWriter's file names (``{stem}_{index:04d}.{ext}``) and encodings, plus our record
    ``sim2real_frame_{index:04d}.json``."""

    name = "basic"
    record_format = "sim2real_frame_{index:04d}.json"
    file_format = "{stem}_{index:04d}.{ext}"
    pattern = re.compile(r"^[a-z0-9_]+?_(\d+)\.[a-z0-9]+$")

    def encode(self, frame: Frame, index: int, png_level: int, depth_npy: bool) -> list[EncodedFile]:
        """Every BasicWriter file of ``frame`` (``depth_npy`` does not apply: depth is always .npy)."""
        return files(frame, index, self, png_level)

    decoders: dict[str, Decoder] = {
        "png/rgba8": lambda data, record, channel: np.ascontiguousarray(decode_png(data)[..., :3]),
        "npy/f32-m-inf": lambda data, record, channel: _finite_depth(load_npy(data)),
        "png/rgba8-palette": lambda data, record, channel: uncolorize(decode_png(data), _palette_ids(record, channel)),
    }


def files(frame: Frame, index: int, layout: BasicLayout, level: int) -> list[EncodedFile]:
    def f(channel: str, stem: str, ext: str, data: bytes, encoding: str) -> EncodedFile:
        return EncodedFile(channel, layout.file(index, stem, ext), data, encoding)

    rgba = np.empty((frame.height, frame.width, 4), dtype=np.uint8)
    rgba[..., :3] = frame.rgb
    rgba[..., 3] = 255
    out = [f("rgb", "rgb", "png", encode_png(rgba, level), "png/rgba8")]
    if frame.depth is not None:
        out.append(f("depth", "distance_to_image_plane", "npy", npy_bytes(depth_with_inf(frame.depth)),
                     "npy/f32-m-inf"))
    if frame.semantic is not None:
        out.append(f("semantic", "semantic_segmentation", "png", encode_png(colorize(frame.semantic), level),
                     "png/rgba8-palette"))
        out.append(f("semantic_labels", "semantic_segmentation_labels", "json",
                     json_bytes(semantic_labels(frame)), "json"))
    if frame.instance is not None:
        out.append(f("instance", "instance_id_segmentation", "png", encode_png(colorize(frame.instance), level),
                     "png/rgba8-palette"))
        out.append(f("instance_mapping", "instance_id_segmentation_mapping", "json",
                     json_bytes(instance_mapping(frame)), "json"))
    boxes, labels, paths = bounding_boxes_2d_tight(frame)
    out.append(f("bbox", "bounding_box_2d_tight", "npy", npy_bytes(boxes), "npy/bbox2d"))
    out.append(f("bbox_labels", "bounding_box_2d_tight_labels", "json", json_bytes(labels), "json"))
    out.append(f("bbox_prim_paths", "bounding_box_2d_tight_prim_paths", "json", json_bytes(paths), "json"))
    out.append(f("camera_params", "camera_params", "json", _plain_json(camera_params(frame)), "json"))
    return out


def depth_with_inf(depth: np.ndarray) -> np.ndarray:
    d = np.asarray(depth, dtype=np.float32).copy()
    d[d <= 0] = np.inf
    return d


def palette(ids: np.ndarray) -> np.ndarray:
    """Colour (RGBA uint8) of each id: 0 -> (0, 0, 0, 0); others an opaque colour, distinct for distinct
    ids below 2**24 (multiplying by an odd constant is a bijection modulo 2**24)."""
    ids = np.asarray(ids, dtype=np.int64)
    code = (ids * 0x9E3779) & 0xFFFFFF
    rgba = np.empty(ids.shape + (4,), dtype=np.uint8)
    rgba[..., 0] = code >> 16
    rgba[..., 1] = (code >> 8) & 0xFF
    rgba[..., 2] = code & 0xFF
    rgba[..., 3] = 255
    rgba[ids == 0] = 0
    return rgba


def colorize(ids: np.ndarray) -> np.ndarray:
    """H x W ids -> H x W x 4 colours via ``palette`` (computed per distinct id, then gathered)."""
    uniq, inverse = np.unique(np.asarray(ids), return_inverse=True)
    return palette(uniq)[inverse.reshape(np.shape(ids))]


def uncolorize(rgba: np.ndarray, ids: list[int]) -> np.ndarray:
    """Inverse of ``colorize`` for the given candidate ids (pixels of other colours become 0)."""
    code = (rgba[..., 0].astype(np.int64) << 24) | (rgba[..., 1].astype(np.int64) << 16) \
        | (rgba[..., 2].astype(np.int64) << 8) | rgba[..., 3].astype(np.int64)
    cand = np.array(sorted(set(ids) | {0}), dtype=np.int64)
    pal = palette(cand).astype(np.int64)
    keys = (pal[:, 0] << 24) | (pal[:, 1] << 16) | (pal[:, 2] << 8) | pal[:, 3]
    order = np.argsort(keys)
    pos = np.clip(np.searchsorted(keys[order], code), 0, len(keys) - 1)
    hit = keys[order][pos] == code
    return np.where(hit, cand[order][pos], 0).astype(np.int32)


def _colour_key(rgba: np.ndarray) -> str:
    return "(" + ", ".join(str(int(c)) for c in rgba) + ")"


def semantic_labels(frame: Frame) -> dict[str, dict[str, str]]:
    ids = sorted(set(frame.labels) | {0})
    colours = palette(np.array(ids))
    return {_colour_key(c): {"class": "BACKGROUND" if i == 0 else frame.labels[i]} for i, c in zip(ids, colours)}


def prim_path(inst: Any) -> str:
    return str(inst.extra.get("prim_path") or f"/World/{inst.name}")


def instance_mapping(frame: Frame) -> dict[str, str]:
    ids = [0] + [inst.id for inst in frame.instances]
    names = ["BACKGROUND"] + [prim_path(inst) for inst in frame.instances]
    return {_colour_key(c): n for c, n in zip(palette(np.array(ids)), names)}


def bounding_boxes_2d_tight(frame: Frame) -> tuple[np.ndarray, dict[str, dict[str, str]], list[str]]:
    """Replicator's bounding_box_2d_tight data, idToLabels and primPaths for the visible instances."""
    visible = [inst for inst in frame.instances if inst.box is not None]
    boxes = np.zeros(len(visible), dtype=BBOX_2D_DTYPE)
    for row, inst in zip(boxes, visible):
        x0, y0, x1, y1 = inst.box
        row["semanticId"] = inst.class_id
        row["x_min"], row["y_min"], row["x_max"], row["y_max"] = x0, y0, x1 - 1, y1 - 1
        row["occlusionRatio"] = 1.0 - inst.visible_fraction
    labels = {str(inst.class_id): {"class": inst.class_name} for inst in sorted(visible, key=lambda i: i.class_id)}
    return boxes, labels, [prim_path(inst) for inst in visible]


def half_open_box(row: np.void) -> tuple[int, int, int, int]:
    """A bounding_box_2d_tight row -> our half-open (x0, y0, x1, y1)."""
    return int(row["x_min"]), int(row["y_min"]), int(row["x_max"]) + 1, int(row["y_max"]) + 1


def near_far(frame: Frame) -> tuple[float, float]:
    near = frame.meta.get("znear_m", DEFAULT_NEAR_FAR_M[0])
    far = frame.meta.get("zfar_m", DEFAULT_NEAR_FAR_M[1])
    return float(near), float(far)


def gl_projection(K: np.ndarray, width: int, height: int, near: float, far: float) -> np.ndarray:
    """Column-vector OpenGL projection (USD camera frame -> clip space) equivalent to ``K``.

    Our K puts pixel centres at integer coordinates; Replicator's screen mapping
    ``((ndc_x + 1) * W / 2, (1 - ndc_y) * H / 2)`` puts them at half-integers, hence the ``+ 0.5``.
    """
    fx, fy = K[0, 0], K[1, 1]
    cx, cy = K[0, 2] + 0.5, K[1, 2] + 0.5
    P = np.zeros((4, 4))
    P[0, 0] = 2.0 * fx / width
    P[0, 2] = 1.0 - 2.0 * cx / width
    P[1, 1] = 2.0 * fy / height
    P[1, 2] = 2.0 * cy / height - 1.0
    P[2, 2] = (far + near) / (near - far)
    P[2, 3] = 2.0 * far * near / (near - far)
    P[3, 2] = -1.0
    return P


def camera_params(frame: Frame) -> dict[str, Any]:
    K = np.asarray(frame.K, dtype=np.float64)
    width, height = frame.width, frame.height
    near, far = near_far(frame)
    world_to_gl = _CV_TO_GL @ np.linalg.inv(np.asarray(frame.cam_to_world, dtype=np.float64))
    pixel_mm = HORIZONTAL_APERTURE_MM / width
    focal_mm = K[0, 0] * pixel_mm
    vertical_aperture = height * focal_mm / K[1, 1]
    return {
        "cameraAperture": [HORIZONTAL_APERTURE_MM, vertical_aperture],
        "cameraApertureOffset": [(K[0, 2] + 0.5 - width / 2) * pixel_mm, (K[1, 2] + 0.5 - height / 2) * pixel_mm],
        "cameraFisheyeLensP": [],
        "cameraFisheyeLensS": [],
        "cameraFisheyeMaxFOV": 0.0,
        "cameraFisheyeNominalHeight": height,
        "cameraFisheyeNominalWidth": width,
        "cameraFisheyeOpticalCentre": [K[0, 2] + 0.5, K[1, 2] + 0.5],
        "cameraFisheyePolynomial": [0.0] * 6,
        "cameraFocalLength": focal_mm,
        "cameraFocusDistance": 0.0,
        "cameraFStop": 0.0,
        "cameraModel": "pinhole",
        "cameraNearFar": [near, far],
        # USD matrices are row-vector (translation in the last row): the transpose of ours
        "cameraProjection": gl_projection(K, width, height, near, far).T.reshape(-1).tolist(),
        "cameraViewTransform": world_to_gl.T.reshape(-1).tolist(),
        "metersPerSceneUnit": 1.0,
        "renderProductResolution": [width, height],
    }


def _plain_json(obj: Any) -> bytes:
    # Replicator writes camera_params with json.dump(indent=4); key order as written above
    return (json.dumps(obj, indent=4) + "\n").encode()


def project_with_camera_params(params: dict[str, Any], world_point: np.ndarray) -> tuple[float, float]:
    """Project a world point the way Replicator tools do with camera_params (row-vector matrices)."""
    view = np.asarray(params["cameraViewTransform"], dtype=np.float64).reshape(4, 4)
    proj = np.asarray(params["cameraProjection"], dtype=np.float64).reshape(4, 4)
    clip = np.append(np.asarray(world_point, dtype=np.float64), 1.0) @ view @ proj
    ndc = clip[:3] / clip[3]
    width, height = params["renderProductResolution"]
    return (ndc[0] + 1) * width / 2, (1 - ndc[1]) * height / 2


def _finite_depth(depth: np.ndarray) -> np.ndarray:
    """Replicator's ``inf`` (nothing hit) back to our ``0`` (no measurement)."""
    depth = depth.astype(np.float32)
    depth[~np.isfinite(depth)] = 0.0
    return depth


def _palette_ids(record: dict[str, Any], channel: str) -> list[int]:
    """The ids a colourised segmentation image can hold: the record's classes or instances."""
    if channel == "semantic":
        return [int(k) for k in record["labels"]]
    return [inst["id"] for inst in record["instances"]]


BASIC = BasicLayout()
