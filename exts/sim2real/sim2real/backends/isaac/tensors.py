"""Physics targets through PhysX tensor views (``omni.physics.tensors``): the fast path while simulating.

One ``RigidBodyView`` holds every randomized rigid body of every environment; the layout of its
buffers is that of ``omni.physics.tensors`` ``api.py`` (NVIDIA-Omniverse/PhysX, Kit 107.3):

==========================  ===================================================================
buffer                      shape
==========================  ===================================================================
``get_masses``              (count, 1) kg
``get_inertias``            (count, 9) column-major 3x3, body frame
``get_coms``                (count, 7) centre-of-mass frame: x, y, z, qx, qy, qz, qw
``get_material_properties``  (count, max_shapes, 3) static friction, dynamic friction, restitution
==========================  ===================================================================

and ``SimulationView.set_gravity(carb.Float3)``. Buffers are read once when the view is created
(the defaults), and every write is ``op(default, value)`` for the rows of the sampled entities: a
read-modify-write of the whole buffer then ``set_*(buffer, indices)`` with CPU buffers and indices,
as Isaac Lab does (in the view's own frontend type: numpy, torch or warp). Friction triples are snapped to ``buckets.FrictionBuckets`` before they are
written. Mass scales the inertia by the same factor.

Views are duck-typed (the Kit layer passes the real ones); nothing here imports Kit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ...errors import UnsupportedError
from ...sim.ops import as_vector, combine
from .buckets import FrictionBuckets

TARGETS = frozenset({("geom", "friction"), ("geom", "static_friction"), ("geom", "dynamic_friction"),
                     ("geom", "restitution"), ("body", "mass"), ("body", "com"), ("world", "gravity")})
_MATERIAL_COLUMNS = {"friction": (0, 1), "static_friction": (0,), "dynamic_friction": (1,), "restitution": (2,)}


class RigidBodyViewLike(Protocol):
    count: int
    max_shapes: int
    prim_paths: list[str]

    def get_masses(self) -> Any: ...
    def set_masses(self, data: Any, indices: Any) -> None: ...
    def get_inertias(self) -> Any: ...
    def set_inertias(self, data: Any, indices: Any) -> None: ...
    def get_coms(self) -> Any: ...
    def set_coms(self, data: Any, indices: Any) -> None: ...
    def get_material_properties(self) -> Any: ...
    def set_material_properties(self, data: Any, indices: Any) -> None: ...


class SimulationViewLike(Protocol):
    def create_rigid_body_view(self, pattern: str | list[str]) -> RigidBodyViewLike: ...
    def set_gravity(self, gravity: Any) -> Any: ...


def to_numpy(buffer: Any) -> np.ndarray:
    """A tensor-API buffer (numpy, torch or warp) as a float64 numpy copy."""
    if hasattr(buffer, "numpy"):  # torch tensors (cpu) and warp arrays
        buffer = buffer.detach().cpu().numpy() if hasattr(buffer, "detach") else buffer.numpy()
    return np.array(buffer, dtype=np.float64)


def frontend_of(buffer: Any) -> Callable[[np.ndarray], Any]:
    """numpy -> the type of the view's own buffers: the tensor API's numpy, torch and warp frontends
    each take only their own arrays (``frontend_*.py as_contiguous_float32``). Mass, inertia, com and
    material buffers are CPU ones even with GPU physics (as Isaac Lab uses them)."""
    root = type(buffer).__module__.split(".")[0]
    if root == "torch":
        import torch  # present inside Isaac Sim when its torch frontend is used

        return lambda a: torch.from_numpy(np.ascontiguousarray(a))
    if root == "warp":
        import warp as wp  # Isaac Sim's own

        return lambda a: wp.array(np.ascontiguousarray(a), device="cpu")
    return np.ascontiguousarray


@dataclass
class Defaults:
    masses: np.ndarray  # (count,)
    inertias: np.ndarray  # (count, 9)
    coms: np.ndarray  # (count, 7)
    materials: np.ndarray  # (count, max_shapes, 3)
    gravity: np.ndarray  # (3,) m/s^2


@dataclass
class _Pending:
    masses: dict[int, float] = field(default_factory=dict)
    coms: dict[int, np.ndarray] = field(default_factory=dict)
    materials: dict[int, dict[str, tuple[Any, str, str]]] = field(default_factory=dict)
    gravity: np.ndarray | None = None


class TensorPhysics:
    def __init__(self, sim_view: SimulationViewLike, bodies: Mapping[str, Sequence[str]], *,
                 gravity: Sequence[float], float3: Callable[[float, float, float], Any],
                 buckets: FrictionBuckets | None = None,
                 overrides: Mapping[tuple[str, str, str, int], Any] | None = None) -> None:
        """``bodies``: entity name -> prim path of that rigid body in each environment;
        ``gravity``: the scene's gravity vector (m/s^2, the tensor API has no getter we rely on);
        ``float3``: ``carb.Float3`` (passed in so this module stays free of Kit);
        ``overrides``: defaults known better than the view's first reading, keyed
        (kind, entity, attribute, env): values the USD path wrote before the simulation started."""
        self.sim_view = sim_view
        self.float3 = float3
        self.buckets = buckets or FrictionBuckets()
        self.entities = list(bodies)
        self.n_envs = len(next(iter(bodies.values()))) if bodies else 1
        paths = [p for per_env in bodies.values() for p in per_env]
        self.view = sim_view.create_rigid_body_view(paths) if paths else None
        self.rows: dict[tuple[str, int], int] = {}
        self.to_frontend: Callable[[np.ndarray], Any] = np.ascontiguousarray
        if self.view is not None:
            order = {str(p): i for i, p in enumerate(self.view.prim_paths)}
            for name, paths in bodies.items():
                for env, path in enumerate(paths):
                    if str(path) not in order:
                        raise UnsupportedError(f"body {name!r}: {path} is not a rigid body PhysX simulates")
                    self.rows[(name, env)] = order[str(path)]
        self.defaults = self._read_defaults(np.asarray(gravity, dtype=float))
        for key, value in (overrides or {}).items():
            self._override(key, value)
        self._pending = _Pending()
        self.materials_written: set[tuple[float, float, float]] = set()

    def _read_defaults(self, gravity: np.ndarray) -> Defaults:
        if self.view is None:
            empty = np.zeros((0,))
            return Defaults(empty, empty.reshape(0, 9), empty.reshape(0, 7), empty.reshape(0, 0, 3), gravity)
        count, shapes = int(self.view.count), int(self.view.max_shapes)
        masses = self.view.get_masses()
        self.to_frontend = frontend_of(masses)
        return Defaults(
            to_numpy(masses).reshape(count),
            to_numpy(self.view.get_inertias()).reshape(count, 9),
            to_numpy(self.view.get_coms()).reshape(count, 7),
            to_numpy(self.view.get_material_properties()).reshape(count, shapes, 3),
            gravity,
        )

    def _override(self, key: tuple[str, str, str, int], value: Any) -> None:
        kind, entity, attr, env = key
        if kind == "world":
            self.defaults.gravity = np.asarray(value, dtype=float)
            return
        row = self.rows.get((entity, env))
        if row is None:
            return
        d = self.defaults
        if attr == "mass":
            mass, inertia = value
            if d.masses[row] > 0 and inertia is None:
                d.inertias[row] *= float(mass) / d.masses[row]
            elif inertia is not None:
                d.inertias[row] = np.diag(np.asarray(inertia, dtype=float)).reshape(-1, order="F")
            d.masses[row] = float(mass)
        elif attr == "com":
            d.coms[row, :3] = np.asarray(value, dtype=float)
        else:
            d.materials[row, :, :] = np.asarray(value, dtype=float)

    # ------------------------------------------------------------------ applying
    def handles(self, kind: str, entity: str, attr: str) -> bool:
        """Can this key go through the tensor view? (geom entities must be rigid bodies: the view
        addresses a body's shapes, not single colliders)"""
        if (kind, attr) not in TARGETS:
            return False
        return kind == "world" or entity in self.entities

    def apply(self, kind: str, entity: str, attr: str, value: Any, op: str, key: str, env: int) -> None:
        if kind == "world":
            if env == 0:
                self._pending.gravity = combine(self.defaults.gravity, as_vector(value, 3, key), op, key)
            return
        row = self.rows[(entity, env)]
        if attr == "mass":
            mass = float(combine(self.defaults.masses[row], value, op, key))
            if mass <= 0:
                raise UnsupportedError(f"{key}: expected a positive mass (got {mass:g} kg)")
            self._pending.masses[row] = mass
        elif attr == "com":
            self._pending.coms[row] = combine(self.defaults.coms[row, :3], as_vector(value, 3, key), op, key)
        else:
            self._pending.materials.setdefault(row, {})[attr] = (value, op, key)

    def flush(self) -> None:
        """Write what ``apply`` collected: one read-modify-write per buffer."""
        p, d = self._pending, self.defaults
        if p.masses:
            rows = np.array(sorted(p.masses))
            masses = d.masses.copy()
            inertias = d.inertias.copy()
            for row in rows:
                masses[row] = p.masses[row]
                if d.masses[row] > 0:
                    inertias[row] = d.inertias[row] * (p.masses[row] / d.masses[row])
            self._set("set_masses", masses.reshape(-1, 1), rows)
            self._set("set_inertias", inertias, rows)
        if p.coms:
            rows = np.array(sorted(p.coms))
            coms = d.coms.copy()
            for row in rows:
                coms[row, :3] = p.coms[row]
            self._set("set_coms", coms, rows)
        if p.materials:
            rows = np.array(sorted(p.materials))
            materials = d.materials.copy()
            for row in rows:
                materials[row] = self.material_rows(d.materials[row], p.materials[row])
            self.materials_written |= {tuple(float(v) for v in m) for m in materials[rows].reshape(-1, 3)}
            self._set("set_material_properties", materials, rows)
        if p.gravity is not None:
            self.sim_view.set_gravity(self.float3(*(float(v) for v in p.gravity)))
        self._pending = _Pending()

    def _set(self, method: str, data: np.ndarray, rows: np.ndarray) -> None:
        """``view.<method>(data, indices)`` with float32 data and int32 indices in the view's frontend type
        (the frontends convert int32 to what PhysX takes)."""
        getattr(self.view, method)(self.to_frontend(data.astype(np.float32)),
                                   self.to_frontend(np.asarray(rows, dtype=np.int32)))

    def material_rows(self, default: np.ndarray, params: Mapping[str, tuple[Any, str, str]]) -> np.ndarray:
        """A body's (max_shapes, 3) materials after the sampled values, snapped to the buckets."""
        out = np.array(default, dtype=float)
        for attr, (value, op, key) in params.items():
            for col in _MATERIAL_COLUMNS[attr]:
                out[:, col] = np.maximum(combine(default[:, col], value, op, key), 0.0)
        return self.buckets.snap(out)

    def restore(self) -> None:
        """Write every default back (a reset)."""
        if self.view is not None and len(self.rows):
            rows = np.array(sorted(set(self.rows.values())))
            d = self.defaults
            self._set("set_masses", d.masses.reshape(-1, 1), rows)
            self._set("set_inertias", d.inertias, rows)
            self._set("set_coms", d.coms, rows)
            self._set("set_material_properties", d.materials, rows)
        self.sim_view.set_gravity(self.float3(*(float(v) for v in self.defaults.gravity)))
        self._pending = _Pending()
