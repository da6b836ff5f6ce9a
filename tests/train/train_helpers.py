"""Small sim2real datasets and image sets for the training tests, made from numpy frames (no renderer).

``make_dataset`` writes real datasets with ``DatasetWriter`` (the frames of ``dataset_helpers``:
labelled rectangles of three classes over noise). ``shift`` makes the "real" look of the same
scenes: a colour cast, lower contrast and a gain, as a different camera would give.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from dataset_helpers import make_frame
from PIL import Image

from sim2real.dataset.encode import Outputs
from sim2real.dataset.manifest import DatasetSpec
from sim2real.dataset.writer import DatasetWriter

VERSIONS = {"sim2real": "test", "numpy": np.__version__}

# the smallest segmentation training settings the tests use (seconds per epoch on a CPU)
TINY = """
batch_size = 4
resolution = [32, 24]
validator_images = 8
[model]
widths = [8, 16]
"""


def shift(rgb: np.ndarray) -> np.ndarray:
    """The 'real camera' look: warm cast, compressed contrast, an offset."""
    out = rgb.astype(np.float64) * np.array([0.9, 0.6, 0.35]) * 0.7 + np.array([60.0, 40.0, 20.0])
    return np.clip(out, 0, 255).astype(np.uint8)


def make_dataset(out: Path, frames: int, seed: int = 0, real: bool = False, width: int = 64, height: int = 48,
                 name: str = "unit") -> Path:
    spec = DatasetSpec(
        profile={"name": name, "hash": f"{seed:016x}", "config": {"terms": []}},
        scene={"name": "synthetic", "sha256": "0" * 64}, backend="numpy-frames", camera="main",
        resolution=(width, height), seed=seed, outputs=Outputs())
    with DatasetWriter(out, spec, frames, VERSIONS, threads=1, frames_per_shard=64) as writer:
        for i in writer.missing():
            frame = make_frame(i, seed, width, height)
            if real:
                frame.rgb = shift(frame.rgb)
            writer.write(i, frame)
    return out


def write_pngs(folder: Path, images: list[np.ndarray], names: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(images):
        path = folder / f"{(names[i] if names else f'{i:04d}')}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(path)
    return folder


def image_msg(ts: Any, rgb: np.ndarray, stamp_ns: int, encoding: str = "rgb8") -> Any:
    """A ``sensor_msgs/msg/Image`` (rgb8 or bgr8) of ``rgb``."""
    T = ts.types
    data = rgb[..., ::-1] if encoding == "bgr8" else rgb
    header = T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9),
                                       frame_id="camera")
    h, w = rgb.shape[:2]
    return T["sensor_msgs/msg/Image"](header=header, height=h, width=w, encoding=encoding, is_bigendian=0, step=w * 3,
                                      data=np.ascontiguousarray(data).reshape(-1).astype(np.uint8))


def compressed_msg(ts: Any, rgb: np.ndarray, stamp_ns: int) -> Any:
    import io

    T = ts.types
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    header = T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9),
                                       frame_id="camera")
    return T["sensor_msgs/msg/CompressedImage"](header=header, format="png",
                                                data=np.frombuffer(buf.getvalue(), dtype=np.uint8))
