"""Decoding the files of a frame back into arrays (the inverse of encode.py and basic.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .basic import load_npy, uncolorize
from .png import decode_png


def _rgb8(data: bytes, record: dict[str, Any], channel: str) -> np.ndarray:
    return decode_png(data)


def _rgba8(data: bytes, record: dict[str, Any], channel: str) -> np.ndarray:
    return np.ascontiguousarray(decode_png(data)[..., :3])


def _depth_mm16(data: bytes, record: dict[str, Any], channel: str) -> np.ndarray:
    return decode_png(data).astype(np.float32) / np.float32(1000.0)


def _f32_m(data: bytes, record: dict[str, Any], channel: str) -> np.ndarray:
    return load_npy(data).astype(np.float32, copy=False)


def _f32_m_inf(data: bytes, record: dict[str, Any], channel: str) -> np.ndarray:
    depth = load_npy(data).astype(np.float32)
    depth[~np.isfinite(depth)] = 0.0
    return depth


def _u16_id(data: bytes, record: dict[str, Any], channel: str) -> np.ndarray:
    return decode_png(data).astype(np.int32)


def _rgba8_palette(data: bytes, record: dict[str, Any], channel: str) -> np.ndarray:
    if channel == "semantic":
        ids = [int(k) for k in record["labels"]]
    else:
        ids = [inst["id"] for inst in record["instances"]]
    return uncolorize(decode_png(data), ids)


DECODERS: dict[str, Callable[[bytes, dict[str, Any], str], np.ndarray]] = {
    "png/rgb8": _rgb8,
    "png/rgba8": _rgba8,
    "png/depth-mm16": _depth_mm16,
    "npy/f32-m": _f32_m,
    "npy/f32-m-inf": _f32_m_inf,
    "png/u16-id": _u16_id,
    "png/rgba8-palette": _rgba8_palette,
}


def decode(encoding: str, data: bytes, record: dict[str, Any], channel: str) -> np.ndarray:
    try:
        decoder = DECODERS[encoding]
    except KeyError:
        raise ValueError(f"unknown encoding {encoding!r} (this sim2real reads {', '.join(DECODERS)})") from None
    return decoder(data, record, channel)
