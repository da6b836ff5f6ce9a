"""Frame -> files through the dataset's layout (``layouts.py``), and the frame record.

Everything here is a pure function of the Frame, so equal frames give equal bytes. The names of the
encodings (``png/rgb8``, ...) are what shard indexes store; each layout decodes its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..fsutil import to_jsonable
from ..sim.rendered_frame import Frame
from .files import EncodedFile
from .layouts import get_layout
from .png import DEFAULT_LEVEL


@dataclass(frozen=True)
class Outputs:
    """What is written per frame (part of a dataset's identity: runs must agree on it)."""

    layout: str = "native"
    depth_npy: bool = False  # native layout: also store float32 metres as .npy
    png_level: int = DEFAULT_LEVEL

    def __post_init__(self) -> None:
        get_layout(self.layout)  # validates the name
        if not 0 <= self.png_level <= 9:
            raise ValueError(f"png_level: expected 0..9 (got {self.png_level})")

    def to_dict(self) -> dict[str, Any]:
        return {"layout": self.layout, "depth_npy": self.depth_npy, "png_level": self.png_level}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outputs:
        return cls(layout=data["layout"], depth_npy=bool(data["depth_npy"]), png_level=int(data["png_level"]))


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
    layout = get_layout(outputs.layout)
    files = layout.encode(frame, index, outputs.png_level, outputs.depth_npy)
    preview = next((f.data for f in files if f.channel == "rgb"), None)
    return EncodedFrame(index, files, frame_record(frame, index), layout.record(index), preview)


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
