"""Frame -> files: the encodings of the native and the BasicWriter layouts, and the frame record.

Everything here is a pure function of the Frame, so equal frames give equal bytes. Decoding lives
in ``decode.py``; the names of the encodings (``png/rgb8``, ...) are what records store.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..fsutil import to_jsonable
from ..sim.frame import Frame
from . import basic
from .layout import Layout
from .png import DEFAULT_LEVEL, encode_png

DEPTH_MM_MAX = 65535  # the largest depth (mm) a 16-bit PNG holds; farther is stored as 0 (no measurement)


@dataclass(frozen=True)
class Outputs:
    """What is written per frame (part of a dataset's identity: runs must agree on it)."""

    layout: str = "native"
    depth_npy: bool = False  # native layout: also store float32 metres as .npy
    png_level: int = DEFAULT_LEVEL

    def __post_init__(self) -> None:
        Layout(self.layout)  # validates the name
        if not 0 <= self.png_level <= 9:
            raise ValueError(f"png_level: expected 0..9 (got {self.png_level})")

    def to_dict(self) -> dict[str, Any]:
        return {"layout": self.layout, "depth_npy": self.depth_npy, "png_level": self.png_level}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outputs:
        return cls(layout=data["layout"], depth_npy=bool(data["depth_npy"]), png_level=int(data["png_level"]))


@dataclass
class EncodedFile:
    channel: str  # rgb, depth, depth_npy, instance, semantic, or a BasicWriter annotator file
    name: str  # file name inside the shard folder
    data: bytes
    encoding: str  # how to decode it (see decode.py)


@dataclass
class EncodedFrame:
    index: int
    files: list[EncodedFile]
    record: dict[str, Any]  # the frame record without its "files" entry (added when written)
    record_name: str = ""
    preview: bytes | None = field(default=None, repr=False)  # the RGB PNG, for sample-image previews


def encode_frame(frame: Frame, index: int, outputs: Outputs) -> EncodedFrame:
    """Encode every channel of ``frame`` (stored as frame ``index``) as ``outputs`` asks, after its pending
    sensor effects (``Frame.finished``: the writer threads run them, not the render loop)."""
    frame = frame.finished()
    _check_frame(frame, index)
    layout = Layout(outputs.layout)
    if outputs.layout == "native":
        files = _native_files(frame, index, layout, outputs)
    else:
        files = basic.files(frame, index, layout, outputs.png_level)
    preview = next((f.data for f in files if f.channel == "rgb"), None)
    return EncodedFrame(index, files, frame_record(frame, index), layout.record(index), preview)


def _native_files(frame: Frame, index: int, layout: Layout, outputs: Outputs) -> list[EncodedFile]:
    level = outputs.png_level
    files = [EncodedFile("rgb", layout.file(index, "rgb", "png"), encode_png(frame.rgb, level), "png/rgb8")]
    if frame.depth is not None:
        files.append(
            EncodedFile("depth", layout.file(index, "depth", "png"), encode_png(depth_to_mm(frame.depth), level),
                        "png/depth-mm16")
        )
        if outputs.depth_npy:
            files.append(
                EncodedFile("depth_npy", layout.file(index, "depth", "npy"),
                            npy_bytes(np.asarray(frame.depth, dtype=np.float32)), "npy/f32-m")
            )
    for channel in ("instance", "semantic"):
        ids = getattr(frame, channel)
        if ids is not None:
            files.append(
                EncodedFile(channel, layout.file(index, channel, "png"), encode_png(ids_to_u16(ids, channel), level),
                            "png/u16-id")
            )
    return files


def depth_to_mm(depth: np.ndarray) -> np.ndarray:
    """Metres -> uint16 millimetres, rounded; 0 stays 0 (no measurement), beyond 65.535 m becomes 0."""
    mm = np.rint(np.asarray(depth, dtype=np.float64) * 1000.0)
    mm[~np.isfinite(mm) | (mm < 0) | (mm > DEPTH_MM_MAX)] = 0
    return mm.astype(np.uint16)


def ids_to_u16(ids: np.ndarray, what: str) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) > 0xFFFF):
        raise ValueError(f"{what}: ids must be in 0..65535 to be stored in a 16-bit PNG")
    return ids.astype(np.uint16)


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def json_bytes(obj: Any) -> bytes:
    """Deterministic JSON (sorted keys, shortest float repr) for records and sidecars."""
    return (json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n").encode()


def frame_record(frame: Frame, index: int) -> dict[str, Any]:
    """The JSON record of a frame: camera, labels, instances with boxes and poses, the sample."""
    return {
        "index": index,
        "camera": frame.camera,
        "width": frame.width,
        "height": frame.height,
        "K": np.asarray(frame.K, dtype=np.float64).tolist(),
        "cam_to_world": np.asarray(frame.cam_to_world, dtype=np.float64).tolist(),
        "labels": {str(k): v for k, v in sorted(frame.labels.items())},
        "instances": [_instance_record(inst) for inst in frame.instances],
        "sample": to_jsonable(frame.sample),
        "meta": to_jsonable(frame.meta),
    }


def _instance_record(inst: Any) -> dict[str, Any]:
    return {
        "id": int(inst.id),
        "name": inst.name,
        "class_id": int(inst.class_id),
        "class_name": inst.class_name,
        "box": None if inst.box is None else [int(v) for v in inst.box],
        "visible_pixels": int(inst.visible_pixels),
        "visible_fraction": float(inst.visible_fraction),
        "pose_world": inst.pose_world.to_dict(),
        "pose_camera": inst.pose_camera.to_dict(),
        "extra": to_jsonable(inst.extra),
    }


def _check_frame(frame: Frame, index: int) -> None:
    h, w = frame.height, frame.width
    if frame.rgb.dtype != np.uint8 or frame.rgb.shape != (h, w, 3):
        raise ValueError(f"frame {index}: rgb must be (H, W, 3) uint8, got {frame.rgb.shape} {frame.rgb.dtype}")
    for name in ("depth", "instance", "semantic"):
        arr = getattr(frame, name)
        if arr is not None and arr.shape != (h, w):
            raise ValueError(f"frame {index}: {name} must be ({h}, {w}), got {arr.shape}")
