"""Object targets: pose, scale, visibility, which library asset fills a slot, how many slots are filled,
and (for slots) the body's mass and centre of mass, which belong to the active asset.

A *slot* is an object prim with a variant set ``asset`` (one variant per library asset, each bringing
the asset's geometry, class label, colour and mass properties; see ``data/scenes/README.md``).
``object:<slot>/asset`` selects the variant. Slot poses follow the MuJoCo backend: ``position`` is the
point the object stands on (``sim2real:restPoint``, metres) and ``orientation`` (roll, pitch, yaw,
extrinsic XYZ, radians) its rotation; the object is lifted so that its lowest support point
(``sim2real:supportPoints`` / ``sim2real:supportRadii`` of the active asset, body frame) touches that
point. Other objects keep their authored pose: ``add`` moves them from it, ``set`` places them.

``scale`` is uniform and multiplies the authored scale. A scaled slot whose body has an authored mass
gets mass x s^3, inertia x s^5 and centre of mass x s (uniform density), as in the MuJoCo backend.

Hidden objects (``visible = false``, or slots beyond ``scene:object_count``) are made invisible, their
colliders stop colliding (``physics:collisionEnabled``) and their rigid body is disabled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pxr import Usd, UsdGeom, UsdPhysics

from ..errors import UnsupportedError
from ..sim.ops import as_vector, combine, require_set
from ..sim.labels import quat_multiply
from ..sim.rotations import matrix_from_quat, quat_from_rpy
from ..sim.slots import SlotState
from .context import Context
from .entities import ASSET_VARIANT_SET, colliders
from .physics import Physics
from .xform import Xforms

TARGETS = {
    "object": frozenset({"position", "orientation", "scale", "visible", "asset"}),
    "scene": frozenset({"object_count"}),
}
SLOT_BODY_ATTRS = frozenset({"mass", "com"})  # body:<slot>/mass|com are handled here
REST_POINT = "sim2real:restPoint"
SUPPORT_POINTS = "sim2real:supportPoints"
SUPPORT_RADII = "sim2real:supportRadii"


class Objects:
    def __init__(self, ctx: Context, xforms: Xforms, physics: Physics) -> None:
        self.ctx = ctx
        self.xforms = xforms
        self.physics = physics
        self.slots = list(ctx.table.slots)
        self.state: dict[tuple[int, str], SlotState] = {}
        self.plain: dict[tuple[int, str], dict[str, Any]] = {}
        self.dirty: set[tuple[int, str]] = set()

    def reset(self) -> None:
        self.state.clear()
        self.plain.clear()
        self.dirty.clear()

    def _slot_state(self, env: int, name: str) -> SlotState:
        key = (env, name)
        if key not in self.state:
            prim = self.ctx.prim("object", name, env)
            vset = prim.GetVariantSets().GetVariantSet(ASSET_VARIANT_SET)
            self.state[key] = SlotState(self._default_asset(vset, prim))
        return self.state[key]

    def _default_asset(self, vset: Usd.VariantSet, prim: Usd.Prim) -> str:
        """The variant selected without the edit layer."""
        layer = self.ctx.edits.layer
        for spec in prim.GetPrimStack():
            if spec.layer != layer and ASSET_VARIANT_SET in spec.variantSelections:
                return spec.variantSelections[ASSET_VARIANT_SET]
        names = vset.GetVariantNames()
        if not names:
            raise UnsupportedError(f"object:{prim.GetName()}: its variant set {ASSET_VARIANT_SET!r} is empty")
        return names[0]

    # ------------------------------------------------------------------ applying
    def apply(self, kind: str, entity: str, attr: str, value: Any, op: str, key: str, env: int) -> None:
        if kind == "scene":
            self._count(value, op, key, env)
            return
        if entity not in self.slots:
            self.plain.setdefault((env, entity), {})[attr] = (value, op, key)
            self.dirty.add((env, entity))
            return
        st = self._slot_state(env, entity)
        if kind == "body":
            setattr(st, attr, (value, op, key))
        elif attr == "asset":
            require_set(op, key)
            prim = self.ctx.prim("object", entity, env)
            names = prim.GetVariantSets().GetVariantSet(ASSET_VARIANT_SET).GetVariantNames()
            if str(value) not in names:
                raise UnsupportedError(f"{key}: expected an asset of the library ({', '.join(names)}) "
                                       f"(got {value!r})")
            if st.asset != str(value):
                st.asset = str(value)
                st.mass = st.com = None  # a body's mass belongs to the asset it was drawn for
        elif attr == "visible":
            require_set(op, key)
            st.visible = bool(value)
        elif attr == "scale":
            st.scale = float(combine(1.0, value, op, key))
            if st.scale <= 0:
                raise UnsupportedError(f"{key}: expected a positive scale (got {st.scale:g})")
        elif attr == "position":
            st.position = combine(self._rest_point(entity, env), as_vector(value, 3, key), op, key)
        else:  # orientation
            st.rpy = combine(np.zeros(3), as_vector(value, 3, key), op, key)
        self.dirty.add((env, entity))

    def _count(self, value: Any, op: str, key: str, env: int) -> None:
        count = round(float(combine(len(self.slots), value, op, key)))
        if not 0 <= count <= len(self.slots):
            raise UnsupportedError(f"{key}: expected 0..{len(self.slots)} (this scene has {len(self.slots)} "
                                   f"object slots; got {count})")
        for i, name in enumerate(self.slots):
            self._slot_state(env, name).filled = i < count
            self.dirty.add((env, name))

    def _rest_point(self, entity: str, env: int) -> np.ndarray:
        return self._rest_point_of(self.ctx.prim("object", entity, env))

    # ------------------------------------------------------------------ writing
    def flush(self) -> None:
        """Variant selections first (they change what the slots contain), then everything else."""
        dirty, self.dirty = sorted(self.dirty), set()  # a refused write leaves nothing half-pending
        for env, name in dirty:
            if (env, name) in self.state:
                prim = self.ctx.prim("object", name, env)
                prim.GetVariantSets().GetVariantSet(ASSET_VARIANT_SET).SetVariantSelection(
                    self.state[(env, name)].asset)
        for env, name in dirty:
            prim = self.ctx.prim("object", name, env)
            if (env, name) in self.state:
                self._write_slot(prim, self.state[(env, name)])
            else:
                self._write_plain(prim, self.plain[(env, name)])

    def _write_slot(self, prim: Usd.Prim, st: SlotState) -> None:
        shown = st.visible and st.filled
        set_shown(prim, shown)
        default = self.xforms.default(prim)
        trs = self.xforms.edit(prim)
        mpu = self.ctx.meters_per_unit
        point = st.position if st.position is not None else self._rest_point_of(prim)
        orient = quat_multiply(quat_from_rpy(st.rpy), default.orient)
        lift = self._lift(prim.GetChild(st.asset), orient, st.scale * default.scale)
        trs.translate = (np.asarray(point, dtype=float) + np.array([0.0, 0.0, lift])) / mpu
        trs.orient = orient
        trs.scale = default.scale * st.scale
        self.xforms.write(prim)
        if prim.HasAPI(UsdPhysics.RigidBodyAPI):
            self._write_slot_mass(prim, st)

    def _rest_point_of(self, prim: Usd.Prim) -> np.ndarray:
        attr = prim.GetAttribute(REST_POINT)
        if attr and attr.HasValue():
            return np.array(self.ctx.default(attr), dtype=float)
        return self.xforms.default(prim).translate * self.ctx.meters_per_unit

    def _lift(self, asset: Usd.Prim, orient: np.ndarray, scale: np.ndarray) -> float:
        """Height (m) that puts the asset's lowest support point on the rest point."""
        points = asset.GetAttribute(SUPPORT_POINTS) if asset else None
        if not points or not points.HasValue():
            return 0.0
        p = np.array(points.Get(), dtype=float) * self.ctx.meters_per_unit
        radii_attr = asset.GetAttribute(SUPPORT_RADII)
        r = np.array(radii_attr.Get(), dtype=float) * self.ctx.meters_per_unit if radii_attr else np.zeros(len(p))
        s = float(np.mean(scale))
        lowest = ((p * s) @ matrix_from_quat(orient).T)[:, 2] - r * s
        return float(-lowest.min())

    def _write_slot_mass(self, prim: Usd.Prim, st: SlotState) -> None:
        mass0, inertia0, com0 = self.physics.mass_default(prim)
        s = st.scale
        scaled = (mass0 * s ** 3, None if inertia0 is None else inertia0 * s ** 5, None if com0 is None else com0 * s)
        name = prim.GetName()
        if st.mass is not None:
            self.physics.write_body(prim, "mass", *st.mass, defaults=scaled)
        elif mass0 > 0:  # the active asset's mass at this scale
            self.physics.write_body(prim, "mass", scaled[0], "set", f"object:{name}/scale", defaults=scaled)
        if st.com is not None:
            self.physics.write_body(prim, "com", *st.com, defaults=scaled)
        elif com0 is not None:
            self.physics.write_body(prim, "com", scaled[2], "set", f"object:{name}/scale", defaults=scaled)

    def _write_plain(self, prim: Usd.Prim, params: dict[str, Any]) -> None:
        default = self.xforms.default(prim)
        trs = self.xforms.edit(prim)
        mpu = self.ctx.meters_per_unit
        for attr, (value, op, key) in params.items():
            if attr == "visible":
                require_set(op, key)
                set_shown(prim, bool(value))
            elif attr == "position":
                trs.translate = combine(default.translate * mpu, as_vector(value, 3, key), op, key) / mpu
            elif attr == "orientation":
                rpy = combine(np.zeros(3), as_vector(value, 3, key), op, key)
                q = quat_from_rpy(rpy)
                trs.orient = q if op == "set" else quat_multiply(q, default.orient)
            elif attr == "scale":
                s = float(combine(1.0, value, op, key))
                if s <= 0:
                    raise UnsupportedError(f"{key}: expected a positive scale (got {s:g})")
                trs.scale = default.scale * s
            else:
                raise UnsupportedError(f"{key}: only library objects (slots with an {ASSET_VARIANT_SET!r} variant "
                                       f"set) have {attr!r}; {prim.GetName()!r} is not one")
        if params.keys() - {"visible"}:
            self.xforms.write(prim)


def set_shown(prim: Usd.Prim, shown: bool) -> None:
    """Show or hide an object: visibility, its colliders' collisions, its rigid body."""
    UsdGeom.Imageable(prim).GetVisibilityAttr().Set(UsdGeom.Tokens.inherited if shown else UsdGeom.Tokens.invisible)
    for collider in colliders(prim):
        attr = UsdPhysics.CollisionAPI(collider).GetCollisionEnabledAttr()
        if shown:
            attr.Clear()  # back to the authored value
        else:
            attr.Set(False)
    if prim.HasAPI(UsdPhysics.RigidBodyAPI):
        attr = UsdPhysics.RigidBodyAPI(prim).GetRigidBodyEnabledAttr()
        if shown:
            attr.Clear()
        else:
            attr.Set(False)

