"""One encoded file of a frame, and the byte encodings every layout shares (NumPy arrays, JSON)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..fsutil import to_jsonable

# (file bytes, the frame record, channel) -> the array it holds
Decoder = Callable[[bytes, dict[str, Any], str], np.ndarray]


@dataclass
class EncodedFile:
    channel: str  # rgb, depth, depth_npy, instance, semantic, or a layout's own (a BasicWriter annotator file)
    name: str  # file name inside the shard folder
    data: bytes
    encoding: str  # how to decode it: the name of a decoder of the layout (``Layout.decoders``)


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def load_npy(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


def json_bytes(obj: Any) -> bytes:
    """Deterministic JSON (sorted keys, shortest float repr) for records and sidecars."""
    return (json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n").encode()
