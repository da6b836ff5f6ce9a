"""A rigid body's mass when it comes from densities (mujoco-usd-converter authors ``physics:density`` on every
collider and no body mass), as UsdPhysics defines it: a body without ``physics:mass`` weighs the sum of its
colliders' masses, each its own ``physics:mass``, else its density (``physics:density`` of its MassAPI, else
of its bound physics material) times its volume.

Two ways to randomize such a mass, chosen by the operation (``Physics.write_body`` says which, once):

* ``scale``: every collider's density (or mass) is scaled by the factor; PhysX then computes mass *and*
  inertia from them, exactly ``factor`` times the originals. No volume is needed, so any shape works.
* ``add``: the mass is computed, density x volume for UsdGeom Sphere, Cube, Capsule, Cylinder, Cone and
  closed Meshes (world scale included), and the new mass is authored on the body (PhysX derives its inertia
  from the shapes).

A body without ``physics:centerOfMass`` (its fallback is (-inf, -inf, -inf): "not specified") has the centre
of mass PhysX computes from its colliders: their centroids weighted by their masses, in the body's frame
(``collider_com``). ``body:<e>/com`` with ``add`` or ``scale`` starts from that point; the centroids are
known for the same shapes as the volumes (a collider's own authored ``physics:centerOfMass`` wins).

A collider with neither a mass nor a density takes PhysX's default density, which sim2real does not
assume: such a body is refused, one line.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pxr import Usd, UsdGeom, UsdPhysics

from ..errors import UnsupportedError


@dataclass(frozen=True)
class ColliderMass:
    prim: Usd.Prim
    mass: float  # authored physics:mass (stage mass units), 0 when none
    density: float  # physics:density of the MassAPI or the bound material (stage units), 0 when none
    from_material: bool


def collider_masses(shapes: list[Usd.Prim], default: Callable[[Usd.Attribute], object],
                    material_of: Callable[[Usd.Prim], Usd.Prim | None], body: str, key: str) -> list[ColliderMass]:
    """Where each collider's mass comes from (``default`` reads an attribute without sim2real's edits)."""
    out = []
    for shape in shapes:
        api = UsdPhysics.MassAPI(shape)
        mass = float(default(api.GetMassAttr()) or 0.0) if shape.HasAPI(UsdPhysics.MassAPI) else 0.0
        density = float(default(api.GetDensityAttr()) or 0.0) if shape.HasAPI(UsdPhysics.MassAPI) else 0.0
        from_material = False
        if mass <= 0 and density <= 0:
            material = material_of(shape)
            attr = UsdPhysics.MaterialAPI(material).GetDensityAttr() if material is not None else None
            density = float(default(attr) or 0.0) if attr else 0.0
            from_material = density > 0
        if mass <= 0 and density <= 0:
            raise UnsupportedError(f"{key}: collider {shape.GetPath()} of body {body!r} has neither physics:mass nor "
                                   "physics:density (PhysX would use its default density); author one, or use "
                                   'op = "set"')
        out.append(ColliderMass(shape, mass, density, from_material))
    if not out:
        raise UnsupportedError(f"{key}: body {body!r} has no physics:mass and no collider to take a mass from")
    return out


def volume(prim: Usd.Prim) -> float | None:
    """The prim's volume in stage units^3, its world scale included (None: a shape without one)."""
    local = _local_shape(prim)
    if local is None:
        return None
    return local[0] * abs(float(np.linalg.det(_world(prim)[:3, :3])))


def _world(prim: Usd.Prim) -> np.ndarray:
    """Local-to-world as a 4x4 array, row-vector convention (Gf's: world point = [p, 1] @ M)."""
    return np.array(UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(Usd.TimeCode.Default()), dtype=float)


def _local_shape(prim: Usd.Prim) -> tuple[float, np.ndarray] | None:
    """(volume, centroid) in the prim's own space; None for a shape sim2real cannot integrate."""
    get, origin = Usd.TimeCode.Default(), np.zeros(3)
    if prim.IsA(UsdGeom.Sphere):
        return 4.0 / 3.0 * math.pi * float(UsdGeom.Sphere(prim).GetRadiusAttr().Get(get)) ** 3, origin
    if prim.IsA(UsdGeom.Cube):
        return float(UsdGeom.Cube(prim).GetSizeAttr().Get(get)) ** 3, origin
    if prim.IsA(UsdGeom.Capsule):
        c = UsdGeom.Capsule(prim)
        r, h = float(c.GetRadiusAttr().Get(get)), float(c.GetHeightAttr().Get(get))
        return math.pi * r * r * h + 4.0 / 3.0 * math.pi * r ** 3, origin
    if prim.IsA(UsdGeom.Cylinder):
        c = UsdGeom.Cylinder(prim)
        return math.pi * float(c.GetRadiusAttr().Get(get)) ** 2 * float(c.GetHeightAttr().Get(get)), origin
    if prim.IsA(UsdGeom.Cone):  # centred on the origin, apex towards +axis: the centroid is h/4 below the centre
        c = UsdGeom.Cone(prim)
        r, h = float(c.GetRadiusAttr().Get(get)), float(c.GetHeightAttr().Get(get))
        centroid = origin.copy()
        centroid["XYZ".index(str(c.GetAxisAttr().Get(get)))] = -h / 4.0
        return math.pi * r * r * h / 3.0, centroid
    if prim.IsA(UsdGeom.Mesh):
        return _mesh_integrals(UsdGeom.Mesh(prim))
    return None


def _mesh_integrals(mesh: UsdGeom.Mesh) -> tuple[float, np.ndarray] | None:
    """Volume and centroid of a closed polygon mesh (divergence theorem: signed tetrahedra from the origin
    over fan triangles); None when open."""
    points = np.asarray(mesh.GetPointsAttr().Get() or [], dtype=float)
    counts = np.asarray(mesh.GetFaceVertexCountsAttr().Get() or [], dtype=int)
    indices = np.asarray(mesh.GetFaceVertexIndicesAttr().Get() or [], dtype=int)
    if not len(points) or not len(counts) or counts.sum() != len(indices):
        return None
    total, moment, start, edges = 0.0, np.zeros(3), 0, {}
    for n in counts:
        face = indices[start:start + n]
        start += n
        for k in range(n):  # every edge of a closed surface is used once in each direction
            edge = (int(face[k]), int(face[(k + 1) % n]))
            edges[edge] = edges.get(edge, 0) + 1
        for k in range(1, n - 1):
            a, b, c = points[face[0]], points[face[k]], points[face[k + 1]]
            signed = float(np.dot(a, np.cross(b, c))) / 6.0
            total += signed
            moment += signed * (a + b + c) / 4.0
    if any(edges.get((b, a), 0) != count for (a, b), count in edges.items()) or total == 0:
        return None
    return abs(total), moment / total


def collider_com(body: Usd.Prim, colliders: list[ColliderMass], default: Callable[[Usd.Attribute], object],
                 key: str) -> np.ndarray:
    """The centre of mass PhysX computes for ``body`` without an authored one (body frame, stage units): the
    colliders' centroids weighted by their masses (own ``physics:mass``, else density x volume)."""
    to_body = np.linalg.inv(_world(body))
    total, moment = 0.0, np.zeros(3)
    for c in colliders:
        shape = _local_shape(c.prim)
        if shape is None:
            raise UnsupportedError(f"{key}: cannot compute the centroid of {c.prim.GetPath()} ({c.prim.GetTypeName()}) "
                                   f"for the centre of mass of body {body.GetName()!r}; author its "
                                   'physics:centerOfMass, or use op = "set"')
        own = UsdPhysics.MassAPI(c.prim).GetCenterOfMassAttr() if c.prim.HasAPI(UsdPhysics.MassAPI) else None
        authored = default(own) if own else None
        centroid = np.array(authored, dtype=float) if authored is not None else shape[1]
        if not np.all(np.isfinite(centroid)):  # the schema fallback (-inf, -inf, -inf): not specified
            centroid = shape[1]
        mass = c.mass if c.mass > 0 else c.density * (volume(c.prim) or 0.0)
        point = np.append(centroid, 1.0) @ _world(c.prim) @ to_body
        total += mass
        moment += mass * point[:3]
    if total <= 0:
        raise UnsupportedError(f"{key}: body {body.GetName()!r}: its colliders weigh nothing; author "
                               'physics:centerOfMass, or use op = "set"')
    return moment / total


def density_mass(colliders: list[ColliderMass], key: str) -> float:
    """The body's mass (stage mass units) from its colliders' masses and density x volume."""
    total = 0.0
    for c in colliders:
        if c.mass > 0:
            total += c.mass
            continue
        v = volume(c.prim)
        if v is None:
            raise UnsupportedError(f"{key}: cannot compute the volume of {c.prim.GetPath()} ({c.prim.GetTypeName()}) "
                                   f"for its mass from physics:density; use op = \"scale\" (scales the densities) or "
                                   "\"set\"")
        total += c.density * v
    return total
