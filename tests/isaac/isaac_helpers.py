"""Stand-ins for what only exists inside Isaac Sim, named as such, and annotator payloads in the formats
Replicator documents (see sim2real.backends.isaac.annotators)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class StandInRigidBodyView:
    """Stand-in for omni.physics.tensors' RigidBodyView (PhysX cannot run here): the buffer shapes and
    the set_*(data, indices) contract of its api.py (NVIDIA-Omniverse/PhysX, Kit 107.3), on numpy.
    Rows are in ``prim_paths`` order, which need not be the order the view was asked for."""

    def __init__(self, paths: Sequence[str], max_shapes: int = 2) -> None:
        self.prim_paths = list(paths)
        self.count = len(paths)
        self.max_shapes = max_shapes
        n = self.count
        self.masses = np.linspace(1.0, 2.0, n, dtype=np.float32).reshape(n, 1)
        self.inertias = np.tile(np.diag([0.1, 0.2, 0.3]).reshape(-1).astype(np.float32), (n, 1))
        self.coms = np.tile(np.array([0.0, 0.0, 0.01, 0.0, 0.0, 0.0, 1.0], dtype=np.float32), (n, 1))
        self.materials = np.tile(np.array([0.7, 0.6, 0.1], dtype=np.float32), (n, max_shapes, 1))
        self.calls: list[tuple[str, np.ndarray]] = []

    def _set(self, name: str, buffer: np.ndarray, data: Any, indices: Any) -> None:
        data, idx = self.accept(data, indices)
        assert data.dtype == np.float32 and data.shape == buffer.shape, (name, data.shape, buffer.shape)
        buffer[idx] = data[idx]
        self.calls.append((name, idx.copy()))

    def accept(self, data: Any, indices: Any) -> tuple[np.ndarray, np.ndarray]:
        """What the numpy frontend does with its arguments (as_contiguous_float32 / _uint32)."""
        assert isinstance(data, np.ndarray) and isinstance(indices, np.ndarray)
        assert indices.dtype.kind in "iu"
        return data, indices.astype(np.uint32)

    def wrap(self, buffer: np.ndarray) -> Any:
        return buffer.copy()

    def get_masses(self) -> np.ndarray:
        return self.wrap(self.masses)

    def set_masses(self, data: Any, indices: Any) -> None:
        self._set("masses", self.masses, data, indices)

    def get_inertias(self) -> np.ndarray:
        return self.wrap(self.inertias)

    def set_inertias(self, data: Any, indices: Any) -> None:
        self._set("inertias", self.inertias, data, indices)

    def get_coms(self) -> np.ndarray:
        return self.wrap(self.coms)

    def set_coms(self, data: Any, indices: Any) -> None:
        self._set("coms", self.coms, data, indices)

    def get_material_properties(self) -> np.ndarray:
        return self.wrap(self.materials)

    def set_material_properties(self, data: Any, indices: Any) -> None:
        self._set("materials", self.materials, data, indices)


class StandInTorchRigidBodyView(StandInRigidBodyView):
    """The same, as seen through the tensor API's torch frontend: torch CPU tensors in and out
    (``frontend_torch.py``: ``tensor.to(torch.float32)``, indices ``to(torch.int32)``)."""

    def accept(self, data: Any, indices: Any) -> tuple[np.ndarray, np.ndarray]:
        import torch

        assert isinstance(data, torch.Tensor) and isinstance(indices, torch.Tensor)
        return data.to(torch.float32).numpy(), indices.to(torch.int32).numpy().astype(np.uint32)

    def wrap(self, buffer: np.ndarray) -> Any:
        import torch

        return torch.from_numpy(buffer.copy())


class StandInSimulationView:
    """Stand-in for omni.physics.tensors' SimulationView: creates the rigid-body view (rows in reverse
    order, to prove rows are matched by prim path) and records set_gravity."""

    def __init__(self, view_type: type = StandInRigidBodyView) -> None:
        self.view_type = view_type
        self.views: list[StandInRigidBodyView] = []
        self.gravity: list[tuple[float, float, float]] = []
        self.is_valid = True

    def create_rigid_body_view(self, pattern: Sequence[str]) -> StandInRigidBodyView:
        view = self.view_type(list(reversed(list(pattern))))
        self.views.append(view)
        return view

    def set_gravity(self, gravity: tuple[float, float, float]) -> None:
        self.gravity.append(tuple(gravity))


def float3(x: float, y: float, z: float) -> tuple[float, float, float]:
    """Stand-in for carb.Float3."""
    return (x, y, z)


BBOX_DTYPE = np.dtype([("semanticId", "<u4"), ("x_min", "<i4"), ("y_min", "<i4"), ("x_max", "<i4"),
                       ("y_max", "<i4"), ("occlusionRatio", "<f4")])
