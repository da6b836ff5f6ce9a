"""The state shared by the appliers: the loaded scene, the live model and data, the defaults."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import mujoco
import numpy as np

from .scene import Scene
from .snapshot import ModelSnapshot, model_fields


@dataclass
class World:
    scene: Scene
    model: mujoco.MjModel
    data: mujoco.MjData
    defaults: ModelSnapshot  # every model field in the default state (after the load-time edits)
    compiled: ModelSnapshot  # every model field as compiled: each library asset's own mass, groups, sizes
    scratch: mujoco.MjData = field(init=False)  # for mj_setConst, which overwrites the data it is given
    const_dirty: bool = False  # mass, inertia, armature or gear changed: recompute derived constants
    forward_dirty: bool = True  # poses changed: recompute kinematics before rendering

    _flat: dict[str, np.ndarray] = field(init=False, default_factory=dict)
    _span: tuple[int, int] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.scratch = mujoco.MjData(self.model)

    def flat(self, path: str) -> np.ndarray:
        """A flat, writable view of the model field at ``path`` (``body_mass``, ``opt.gravity``)."""
        view = self._flat.get(path)
        if view is None:
            owner = self.model
            for part in path.split("."):
                owner = getattr(owner, part)
            view = owner.reshape(-1)
            if not np.shares_memory(view, owner):  # reshape copies only non-contiguous arrays
                raise TypeError(f"model field {path} is not contiguous; it cannot be written through a flat view")
            self._flat[path] = view
        return view

    def default(self, field_name: str) -> np.ndarray:
        return self.defaults[field_name]

    def buffer_view(self, fields: Sequence[tuple[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray] | None:
        """One float64 view reaching the elements ``(field path, flat positions)`` of several model
        fields, and their positions in it; None unless all lie in mjModel's single buffer, 8-byte aligned.

        Why: a firing of interval terms writes a few elements of ~10 fields; one fancy store through
        this view replaces ten numpy calls. MuJoCo allocates every model array in one buffer of
        ``nbuffer`` bytes; every position is checked (written through the view, read back through its
        field, restored) before the view is used."""
        flats = [(self.flat(path), index) for path, index in fields]
        nbuffer = getattr(self.model, "nbuffer", None)
        if nbuffer is None or not flats or any(f.dtype != np.float64 for f, _ in flats):
            return None
        lo, hi = self._buffer_span()
        addresses = [f.__array_interface__["data"][0] for f, _ in flats]
        first = addresses.index(min(addresses))
        end = max(a + f.nbytes for (f, _), a in zip(flats, addresses, strict=True))
        if hi - lo > nbuffer or addresses[first] < lo or end > hi or any((a - addresses[first]) % 8 for a in addresses):
            return None
        view = np.lib.stride_tricks.as_strided(flats[first][0], shape=((end - addresses[first]) // 8,), strides=(8,))
        positions = np.concatenate([(a - addresses[first]) // 8 + index
                                    for (_, index), a in zip(flats, addresses, strict=True)])
        return (view, positions) if _reaches(view, positions, flats) else None

    def _buffer_span(self) -> tuple[int, int]:
        """First and last byte of the model's arrays (all of them live in one allocation)."""
        if self._span is None:
            arrays = [getattr(owner, name) for path, owner, name in model_fields(self.model) if "." not in path]
            starts = [(a.__array_interface__["data"][0], a.nbytes) for a in arrays if a.size]
            self._span = (min(s for s, _ in starts), max(s + n for s, n in starts))
        return self._span

    def refresh_constants(self) -> None:
        """Recompute the fields MuJoCo derives from masses and inertias (``body_subtreemass``,
        ``dof_invweight0``, ``actuator_acc0``, ...) after they changed."""
        if self.const_dirty:
            mujoco.mj_setConst(self.model, self.scratch)
            self.const_dirty = False


def _reaches(view: np.ndarray, positions: np.ndarray, flats: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """Whether ``view[positions]`` are exactly the fields' elements: read, write a probe, read back."""
    saved = view[positions].copy()
    if not np.array_equal(saved, np.concatenate([f[i] for f, i in flats]), equal_nan=True):
        return False
    probe = np.arange(1.0, len(positions) + 1.0) / 8.0
    view[positions] = probe
    reached = np.array_equal(np.concatenate([f[i] for f, i in flats]), probe)
    view[positions] = saved  # back to what was there, wherever that is
    return reached
