"""Training on a sim2real dataset larger than memory: frames decoded when a batch needs them.

``FrameDataset`` is a ``torch.utils.data.Dataset`` over the native reader: item ``k`` is frame
``indices[k]`` fitted to the model's input size exactly as the in-memory loader fits it (RGB uint8,
class-index mask, depth in metres), so a batch is byte for byte the batch the in-memory arrays give.
It holds only paths and a small cache, so a ``DataLoader`` with worker processes can use it.

``StreamedArray`` puts one field of a ``FrameDataset`` behind the array operations the trainer uses
(``len``, ``shape``, ``data[idx]`` for a batch, ``subset`` for a view of some frames), so ``ImageData`` and every
task, method and validator work unchanged. The in-memory loader is the default;
``sources.read_segment_dataset`` streams when the decoded arrays would take more than
``sources.stream_threshold()`` bytes (half the memory available when the run reads it;
``SIM2REAL_TRAIN_STREAM_MB`` sets it, 0 streams every dataset). Streamed, the input standardisation is
computed over every pixel in one pass (in memory: a strided sample of 2 million pixels, the same
numbers below that size); ``[train.translate]`` needs the source in memory. What streaming
costs per epoch is one decode of every frame: ``tools/bench/bench_stream.py`` measures it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch.utils.data

# (reader, frame index, size, depth?, class lut, path) -> (rgb, depth or None, class mask or None)
Decode = Callable[[Any, int, tuple[int, int], bool, "np.ndarray | None", Path],
                  tuple[np.ndarray, "np.ndarray | None", "np.ndarray | None"]]
CACHE_FRAMES = 64  # a few batches: a batch's images, labels and depth decode once, not once each
THREADS = 2


class FrameDataset(torch.utils.data.Dataset):
    """Frames of a sim2real dataset at the model's input size, decoded on demand (item = dict of arrays)."""

    def __init__(self, path: Path, indices: list[int], size: tuple[int, int], depth: bool,
                 lut: np.ndarray | None, decode: Decode) -> None:
        self.path, self.indices, self.size, self.depth, self.lut = Path(path), indices, size, depth, lut
        self.decode = decode  # sources.decode_segment_frame: the in-memory loader's own (a module function, picklable)
        self._ds: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._cache: OrderedDict[int, dict[str, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:  # for DataLoader workers: the reader and cache are reopened
        return {**self.__dict__, "_ds": None, "_pool": None, "_cache": OrderedDict(), "_lock": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, k: int) -> dict[str, np.ndarray]:
        with self._lock:
            hit = self._cache.get(k)
            if hit is not None:
                self._cache.move_to_end(k)
                return hit
        item = self._decode(self.indices[k])
        with self._lock:
            self._cache[k] = item
            while len(self._cache) > CACHE_FRAMES:
                self._cache.popitem(last=False)
        return item

    def _decode(self, index: int) -> dict[str, np.ndarray]:
        if self._ds is None:
            from ..dataset.reader import Dataset

            self._ds = Dataset(self.path)
        rgb, d, m = self.decode(self._ds, index, self.size, self.depth, self.lut, self.path)
        item = {"rgb": rgb}
        if d is not None:
            item["depth"] = d
        if m is not None:
            item["mask"] = m
        return item

    def stack(self, field: str, positions: np.ndarray) -> np.ndarray:
        """``field`` of the items at ``positions``, stacked (decoded on a few threads, in order)."""
        if len(positions) <= 1:
            return np.stack([self[int(k)][field] for k in positions]) if len(positions) else self._empty(field)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="sim2real-frames")
        return np.stack([item[field] for item in self._pool.map(self.__getitem__, (int(k) for k in positions))])

    def _empty(self, field: str) -> np.ndarray:
        w, h = self.size
        shape, dtype = {"rgb": ((0, h, w, 3), np.uint8), "mask": ((0, h, w), np.uint8),
                        "depth": ((0, h, w), np.float32)}[field]
        return np.zeros(shape, dtype)


class StreamedArray:
    """One field (``rgb``, ``mask``, ``depth``) of a ``FrameDataset`` seen as an (N, ...) array."""

    def __init__(self, frames: FrameDataset, field: str, positions: np.ndarray | None = None) -> None:
        self.frames, self.field = frames, field
        self.positions = np.arange(len(frames)) if positions is None else np.asarray(positions, dtype=np.int64)
        w, h = frames.size
        self.shape = (len(self.positions), h, w, 3) if field == "rgb" else (len(self.positions), h, w)
        self.dtype = np.dtype(np.float32 if field == "depth" else np.uint8)

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, int | np.integer):
            return self.frames[int(self.positions[key])][self.field]
        return self.frames.stack(self.field, self.positions[key])

    def subset(self, index: np.ndarray) -> StreamedArray:
        """A subset view (no decoding): what ``ImageData.subset`` keeps of a streamed dataset."""
        return StreamedArray(self.frames, self.field, self.positions[np.asarray(index, dtype=np.int64)])

    def chunks(self, size: int = 64) -> Any:
        """The whole field, ``size`` frames at a time (one streaming pass, for statistics)."""
        for s in range(0, len(self), size):
            yield self[slice(s, s + size)]

