"""The native layout (the default): ``000012.rgb.png`` (RGB8), ``000012.depth.png`` (uint16 mm),
``000012.instance.png`` and ``000012.semantic.png`` (uint16 ids), optionally ``000012.depth.npy``
(float32 metres), and the record ``000012.json``. Lossless for everything but depth beyond 65.535 m."""

from __future__ import annotations

import re
import numpy as np

from ..sim.rendered_frame import Frame
from .files import Decoder, EncodedFile, load_npy, npy_bytes
from .layout import FileNames
from .png import decode_png, encode_png

DEPTH_MM_MAX = 65535  # the largest depth (mm) a 16-bit PNG holds; farther is stored as 0 (no measurement)


class NativeLayout(FileNames):
    name = "native"
    record_format = "{index:06d}.json"
    file_format = "{index:06d}.{stem}.{ext}"
    pattern = re.compile(r"^(\d+)\.[a-z_]+(?:\.[a-z0-9]+)?$")

    def encode(self, frame: Frame, index: int, png_level: int, depth_npy: bool) -> list[EncodedFile]:
        level = png_level
        files = [EncodedFile("rgb", self.file(index, "rgb", "png"), encode_png(frame.rgb, level), "png/rgb8")]
        if frame.depth is not None:
            files.append(EncodedFile("depth", self.file(index, "depth", "png"),
                                     encode_png(depth_to_mm(frame.depth), level), "png/depth-mm16"))
            if depth_npy:
                files.append(EncodedFile("depth_npy", self.file(index, "depth", "npy"),
                                         npy_bytes(np.asarray(frame.depth, dtype=np.float32)), "npy/f32-m"))
        for channel in ("instance", "semantic"):
            ids = getattr(frame, channel)
            if ids is not None:
                files.append(EncodedFile(channel, self.file(index, channel, "png"),
                                         encode_png(ids_to_u16(ids, channel), level), "png/u16-id"))
        return files

    decoders: dict[str, Decoder] = {
        "png/rgb8": lambda data, record, channel: decode_png(data),
        "png/depth-mm16": lambda data, record, channel: decode_png(data).astype(np.float32) / np.float32(1000.0),
        "npy/f32-m": lambda data, record, channel: load_npy(data).astype(np.float32, copy=False),
        "png/u16-id": lambda data, record, channel: decode_png(data).astype(np.int32),
    }


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


NATIVE = NativeLayout()
