"""Physics targets as UsdPhysics attributes: what Isaac Sim parses when the simulation starts.

* ``geom:<e>/friction | static_friction | dynamic_friction | restitution``: a collider's friction is
  that of the physics material bound to it (``material:binding:physics``; else the physics scene's;
  else PhysX's default material, static 0.5, dynamic 0.5, restitution 0 — omni.physx
  ``usdLoad/Material.cpp setToDefault``). Materials are often shared, so each entity gets its own:
  ``/sim2real/physics_materials/env_<i>/<entity>_<k>`` (``UsdPhysics.MaterialAPI``; a path-based entity
  name's ``.`` written ``__``, prim names cannot hold one), one per distinct
  default among its colliders, bound to them with physics purpose. ``friction`` sets static and
  dynamic friction together, each relative to its own default.
* ``body:<e>/mass``: ``physics:mass`` of ``UsdPhysics.MassAPI``; an authored ``physics:diagonalInertia``
  is scaled by the same factor (the body keeps its density distribution). A body whose mass comes from
  its colliders' densities (no ``physics:mass``: mujoco-usd-converter's stages) is scaled through those
  densities, or for ``add`` given the mass density x volume yields plus the sampled value (``mass.py``).
* ``body:<e>/com``: ``physics:centerOfMass`` (body frame, metres). Without an authored one, ``add`` and
  ``scale`` start from the centre of mass PhysX computes from the colliders (``mass.collider_com``) and
  author the result, with a one-time notice.
* ``world:gravity``: the ``UsdPhysics.Scene``'s ``physics:gravityDirection`` and
  ``physics:gravityMagnitude``; the default of an unauthored scene is 9.81 m/s² down the stage's up axis.

Values in metres and kilograms are converted with the stage's ``metersPerUnit`` and ``kilogramsPerUnit``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics, UsdShade

from ..errors import UnsupportedError
from ..sim.ops import as_vector, combine
from .context import Context, set_attr
from .entities import colliders
from .layer import SCRATCH_ROOT
from .mass import collider_com, collider_masses, density_mass

TARGETS = {
    "geom": frozenset({"friction", "static_friction", "dynamic_friction", "restitution"}),
    "body": frozenset({"mass", "com"}),
    "world": frozenset({"gravity"}),
}
PHYSICS_PURPOSE = "physics"  # material binding purpose of physics materials (UsdPhysics)
PHYSX_DEFAULT_MATERIAL = (0.5, 0.5, 0.0)  # static friction, dynamic friction, restitution
EARTH_GRAVITY = 9.81  # m/s^2
_MATERIAL_ATTRS = ("physics:staticFriction", "physics:dynamicFriction", "physics:restitution")
_SLOT = {"friction": (0, 1), "static_friction": (0,), "dynamic_friction": (1,), "restitution": (2,)}


def bound_physics_material(prim: Usd.Prim) -> Usd.Prim | None:
    material, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial(PHYSICS_PURPOSE)
    return material.GetPrim() if material and material.GetPrim().HasAPI(UsdPhysics.MaterialAPI) else None


class Physics:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._material0: dict[Sdf.Path, tuple[float, float, float]] = {}
        self.params: dict[tuple[int, str], dict[str, tuple[Any, str, str]]] = {}
        self.dirty: set[tuple[int, str]] = set()
        self._scene_path: Sdf.Path | None = None

    def reset(self) -> None:
        self.params.clear()
        self.dirty.clear()

    # ------------------------------------------------------------------ defaults
    def material_default(self, collider: Usd.Prim) -> tuple[float, float, float]:
        """(static, dynamic, restitution) a collider has without randomization (cached at first use,
        before sim2real binds its own material to it)."""
        path = collider.GetPath()
        if path not in self._material0:
            material = bound_physics_material(collider) or self._scene_material()
            if material is None:
                self._material0[path] = PHYSX_DEFAULT_MATERIAL
            else:
                self._material0[path] = tuple(  # type: ignore[assignment]
                    float(self.ctx.default(material.GetAttribute(a))) for a in _MATERIAL_ATTRS)
        return self._material0[path]

    def _scene_prim(self) -> Usd.Prim | None:
        """The first UsdPhysics.Scene of the stage (found once)."""
        if self._scene_path is None:
            found = next((p for p in self.ctx.stage.Traverse() if p.IsA(UsdPhysics.Scene)), None)
            self._scene_path = found.GetPath() if found is not None else Sdf.Path.emptyPath
        return self.ctx.stage.GetPrimAtPath(self._scene_path) if not self._scene_path.isEmpty else None

    def _scene_material(self) -> Usd.Prim | None:
        scene = self._scene_prim()
        return bound_physics_material(scene) if scene is not None else None

    def gravity_default(self) -> np.ndarray:
        """Gravity vector (m/s^2, stage axes) of the physics scene as authored."""
        scene = self._scene()
        direction = np.array(self.ctx.default(scene.GetGravityDirectionAttr()), dtype=float)
        magnitude = float(self.ctx.default(scene.GetGravityMagnitudeAttr()))
        if not np.any(direction):
            direction = np.zeros(3)
            direction["XYZ".index(UsdGeom.GetStageUpAxis(self.ctx.stage))] = -1.0
        magnitude = EARTH_GRAVITY if not np.isfinite(magnitude) else magnitude * self.ctx.meters_per_unit
        return direction / np.linalg.norm(direction) * magnitude

    def _scene(self) -> UsdPhysics.Scene:
        prim = self._scene_prim()
        if prim is None:
            raise UnsupportedError("world:gravity: the stage has no UsdPhysics.Scene")
        return UsdPhysics.Scene(prim)

    def mass_default(self, body: Usd.Prim) -> tuple[float, np.ndarray | None, np.ndarray | None]:
        """(mass kg, diagonal inertia or None, centre of mass m or None) as authored. A body without
        its own mass weighs what its colliders' masses add up to when each has one (what PhysX
        computes then); 0 when unknown (some collider's mass comes from a density)."""
        api = UsdPhysics.MassAPI(body)
        mass = api.GetMassAttr()
        m = float(self.ctx.default(mass)) if mass else 0.0
        if m <= 0:
            shapes = [UsdPhysics.MassAPI(c).GetMassAttr() for c in colliders(body)]
            masses = [float(self.ctx.default(a)) if a else 0.0 for a in shapes]
            m = sum(masses) if masses and all(v > 0 for v in masses) else 0.0
        inertia = self.ctx.default(api.GetDiagonalInertiaAttr()) if api.GetDiagonalInertiaAttr() else None
        com = self.ctx.default(api.GetCenterOfMassAttr()) if api.GetCenterOfMassAttr() else None
        inertia = np.array(inertia, dtype=float) if inertia is not None and np.any(np.array(inertia)) else None
        com = np.array(com, dtype=float) if com is not None and np.all(np.isfinite(np.array(com))) else None
        return m * self._kg_per_unit(), inertia, None if com is None else com * self.ctx.meters_per_unit

    def authored_defaults(self, keys: set[tuple[str, str, str, int]]) -> dict[tuple[str, str, str, int], Any]:
        """The authored values of the physics keys (kind, entity, attribute, env) this applier wrote: what a
        tensor path must start from once PhysX parsed the stage (its first reading holds the randomized ones).
        A mass from densities has no authored value: PhysX's own reading is right then. A centre of mass
        nobody authored is PhysX's, from the colliders, when sim2real can compute it."""
        out: dict[tuple[str, str, str, int], Any] = {}
        ctx = self.ctx
        for kind, entity, attr, env in sorted(keys):
            if kind == "world":
                out[(kind, entity, attr, env)] = self.gravity_default()
            elif kind == "body":
                mass, inertia, com = self.mass_default(ctx.prim("body", entity, env))
                if attr == "mass" and mass > 0:
                    out[(kind, entity, attr, env)] = (mass, inertia)
                elif attr == "com":
                    com = com if com is not None else self._unauthored_com(ctx.prim("body", entity, env))
                    if com is not None:
                        out[(kind, entity, attr, env)] = com
            elif entity in ctx.table.names.get("body", {}):
                shapes = colliders(ctx.prim("geom", entity, env))
                if shapes:
                    out[(kind, entity, attr, env)] = self.material_default(shapes[0])
        return out

    def _kg_per_unit(self) -> float:
        return float(UsdPhysics.GetStageKilogramsPerUnit(self.ctx.stage))

    # ------------------------------------------------------------------ applying
    def apply(self, kind: str, entity: str, attr: str, value: Any, op: str, key: str, env: int) -> None:
        if kind == "world":
            self.write_gravity(combine(self.gravity_default(), as_vector(value, 3, key), op, key), key)
        elif kind == "body":
            self.write_body(self.ctx.prim(kind, entity, env), attr, value, op, key)
        else:
            self.params.setdefault((env, entity), {})[attr] = (value, op, key)
            self.dirty.add((env, entity))

    def write_gravity(self, g: np.ndarray, key: str) -> None:
        scene = self._scene()
        magnitude = float(np.linalg.norm(g))
        direction = g / magnitude if magnitude > 0 else self.gravity_default()
        set_attr(scene.GetPrim(), "physics:gravityDirection", Sdf.ValueTypeNames.Vector3f,
                 direction / np.linalg.norm(direction))
        set_attr(scene.GetPrim(), "physics:gravityMagnitude", Sdf.ValueTypeNames.Float,
                 magnitude / self.ctx.meters_per_unit)

    def write_body(self, body: Usd.Prim, attr: str, value: Any, op: str, key: str,
                   defaults: tuple[float, np.ndarray | None, np.ndarray | None] | None = None) -> None:
        mass0, inertia0, com0 = defaults if defaults is not None else self.mass_default(body)
        body = self.ctx.writable(body)
        if attr == "mass" and mass0 <= 0 and op == "scale":
            self._scale_densities(body, float(value), key)
            return
        if attr == "mass" and mass0 <= 0 and op != "set":
            mass0 = self._density_mass(body, key)
        api = UsdPhysics.MassAPI.Apply(body)
        if attr == "mass":
            mass = float(combine(mass0, value, op, key))
            if mass <= 0:
                raise UnsupportedError(f"{key}: expected a positive mass (got {mass:g} kg)")
            api.CreateMassAttr().Set(mass / self._kg_per_unit())
            if inertia0 is not None and mass0 > 0:
                api.CreateDiagonalInertiaAttr().Set(Gf.Vec3f(*(inertia0 * (mass / mass0))))
        else:
            if com0 is None and op != "set":
                com0 = self._collider_com(body, key)
            com = combine(np.zeros(3) if com0 is None else com0, as_vector(value, 3, key), op, key)
            api.CreateCenterOfMassAttr().Set(Gf.Vec3f(*(com / self.ctx.meters_per_unit)))

    def _masses(self, body: Usd.Prim, key: str) -> list:  # type: ignore[type-arg]
        return collider_masses(colliders(body), self.ctx.default, bound_physics_material, body.GetName(), key)

    def _scale_densities(self, body: Usd.Prim, factor: float, key: str) -> None:
        """``scale`` a mass that comes from densities: each collider's density (or mass) times ``factor``."""
        if not factor > 0:
            raise UnsupportedError(f"{key}: expected a positive mass factor (got {factor:g})")
        for c in self._masses(body, key):
            api = UsdPhysics.MassAPI.Apply(self.ctx.writable(c.prim))
            if c.mass > 0:
                api.CreateMassAttr().Set(c.mass * factor)
            else:
                api.CreateDensityAttr().Set(c.density * factor)
        self.ctx.notice(f"{body.GetPath()}:mass-scale", f"{key}: body {body.GetName()!r} has no physics:mass (it comes "
                        "from its colliders' physics:density): their densities are scaled, PhysX computes the mass "
                        "and inertia from them")

    def _density_mass(self, body: Usd.Prim, key: str) -> float:
        """A density body's mass (kg): density x collider volume (``add`` adds the sampled value to it)."""
        mass = density_mass(self._masses(body, key), key) * self._kg_per_unit()
        self.ctx.notice(f"{body.GetPath()}:mass-add", f"{key}: body {body.GetName()!r} has no physics:mass: its mass is "
                        f"computed from its colliders' physics:density x volume ({mass:.6g} kg) and the new one "
                        "authored")
        return mass

    def _unauthored_com(self, body: Usd.Prim) -> np.ndarray | None:
        try:
            key = f"body:{body.GetName()}/com"
            return collider_com(body, self._masses(body, key), self.ctx.default, key) * self.ctx.meters_per_unit
        except UnsupportedError:
            return None  # PhysX's own reading then

    def _collider_com(self, body: Usd.Prim, key: str) -> np.ndarray:
        """A body's centre of mass (m) when none is authored: PhysX's, from its colliders."""
        com = collider_com(body, self._masses(body, key), self.ctx.default, key) * self.ctx.meters_per_unit
        self.ctx.notice(f"{body.GetPath()}:com", f"{key}: body {body.GetName()!r} has no physics:centerOfMass: it "
                        f"starts from the one PhysX computes from its colliders (mass-weighted centroids, "
                        f"{np.array2string(com, precision=6)} m) and the new one is authored")
        return com

    def flush(self) -> None:
        dirty, self.dirty = sorted(self.dirty), set()  # a refused write leaves nothing half-pending
        for env, entity in dirty:
            self._write_materials(env, entity, self.params[(env, entity)])

    def material_values(self, default: tuple[float, float, float], params: dict[str, tuple[Any, str, str]]
                        ) -> tuple[float, float, float]:
        """A collider's (static, dynamic, restitution) after the entity's sampled values."""
        out = list(default)
        for attr, (value, op, key) in params.items():
            for i in _SLOT[attr]:
                out[i] = max(float(combine(default[i], value, op, key)), 0.0)
        return out[0], out[1], out[2]

    def _write_materials(self, env: int, entity: str, params: dict[str, tuple[Any, str, str]]) -> None:
        prim = self.ctx.prim("geom", entity, env)
        shapes = colliders(prim)
        if not shapes:
            raise UnsupportedError(f"geom:{entity}: has no collider (UsdPhysics.CollisionAPI)")
        groups: dict[tuple[float, float, float], list[Usd.Prim]] = {}
        for shape in shapes:
            groups.setdefault(self.material_default(shape), []).append(shape)
        for k, (default, members) in enumerate(groups.items()):
            path = SCRATCH_ROOT.AppendChild("physics_materials").AppendChild(f"env_{env}").AppendChild(
                f"{entity.replace('.', '__')}_{k}")
            material = UsdShade.Material.Define(self.ctx.stage, path)
            api = UsdPhysics.MaterialAPI.Apply(material.GetPrim())
            static, dynamic, restitution = self.material_values(default, params)
            api.CreateStaticFrictionAttr().Set(static)
            api.CreateDynamicFrictionAttr().Set(dynamic)
            api.CreateRestitutionAttr().Set(restitution)
            for shape in members:
                shape = self.ctx.writable(shape)
                UsdShade.MaterialBindingAPI.Apply(shape).Bind(
                    material, UsdShade.Tokens.weakerThanDescendants, PHYSICS_PURPOSE)
