"""Object targets: which library asset fills each slot, how many slots are filled, pose, scale,
visibility, and the mass and centre of mass of slot bodies.

A slot holds every library asset (see scene.py); the active one gets its geoms' default render group
and contact bits and its mass, the others move to a hidden group with no contacts and no mass. A
hidden or empty slot floats (gravity compensated) where it is, out of the picture.

Pose of a library object: ``position`` is the point of the table it stands on and ``orientation``
(roll, pitch, yaw, extrinsic XYZ, radians) its rotation; the object is lifted so that its lowest
point (of its colliding geoms, for that orientation and scale) touches that point, so randomized
objects start at rest instead of inside the table. ``add`` jitters around the slot's default.

``scale`` is uniform, about the asset's origin: every geom, mesh vertex and bounding volume of the
active asset is written at that scale from its compiled value (scaling.py; no recompilation). Mass
scales with volume (s³) and inertia with s⁵, as for a uniformly dense body. The renderer gets the
vertices of the meshes that changed (``meshes_changed``) before it draws.
"""

from __future__ import annotations

import mujoco
import numpy as np

from ...errors import UnsupportedError
from ...sim.ops import as_vector, combine, require_set
from ...sim.rotations import quat_from_rpy
from ...sim.placement import Footprint
from ...sim.slots import SlotState
from .scaling import scale_body, scale_mesh
from .scene import HIDDEN_GROUP, LabelledObject, Slot
from .tables import Elements, affine, flat_positions, write_value
from .world import World

TARGETS: dict[str, frozenset[str]] = {
    "object": frozenset({"position", "orientation", "scale", "visible", "asset"}),
    "scene": frozenset({"object_count"}),
}
SLOT_BODY_ATTRS = frozenset({"mass", "com"})  # body:<slot>/mass|com are handled here


class Objects:
    def __init__(self, world: World) -> None:
        self.world = world
        scene, model = world.scene, world.model
        self.slots = {s.name: s for s in scene.slots}
        self.objects = {o.name: o for o in scene.objects}
        self.rest = {s.name: model.body_pos[s.body].copy() for s in scene.slots}  # the point it stands on
        self.rest_quat = {s.name: model.body_quat[s.body].copy() for s in scene.slots}
        self.state = {s.name: SlotState(s.default_asset) for s in scene.slots}
        self.dirty: set[str] = set()  # which geoms render and collide
        self.shape_dirty: set[str] = set()  # which asset weighs, its size (asset, scale)
        self.body_dirty: set[str] = set()  # mass, inertia, centre of mass
        self.pose_dirty: set[str] = set()
        self.colour_dirty: set[str] = set()  # the slot's material takes the new asset's colour
        self.mesh_scale: dict[int, float] = {}  # mesh id -> scale its vertices have in the model (absent: 1)
        self.meshes_changed: set[int] = set()  # meshes whose vertices the renderer does not have yet
        self._mesh_ids = {m: scene.id(mujoco.mjtObj.mjOBJ_MESH, m) for s in scene.slots
                          for v in s.variants.values() for m in v.meshes}
        self.on_asset: list = []  # callbacks(slot, asset colour) when a slot's asset changes
        self.generation = 0  # bumped when a slot's asset or scale changes: what slot-body elements depend on
        self._elements: dict[tuple[str, str], tuple[tuple[str, float], list[Elements]]] = {}

    # ------------------------------------------------------------------ entities
    def entities(self) -> dict[str, list[str]]:
        return {"object": list(self.objects), "scene": ["scene"] if self.slots else []}

    def footprints(self) -> dict[str, Footprint]:
        """Each slot's rest pose and its assets' collision support points (``sim.placement``)."""
        return {n: Footprint(self.rest[n].copy(), self.rest_quat[n].copy(), s.default_asset,
                             {a: (v.support_points, v.support_radii) for a, v in s.variants.items()})
                for n, s in self.slots.items()}

    def reset(self) -> None:
        """After the model's defaults are restored: every mesh is back at its compiled size."""
        self.meshes_changed |= {m for m, s in self.mesh_scale.items() if s != 1.0}
        self.mesh_scale.clear()
        defaults = {s.name: SlotState(s.default_asset) for s in self.slots.values()}
        self.generation += any((st.asset, st.scale) != (defaults[n].asset, defaults[n].scale)
                               for n, st in self.state.items())
        self.state = defaults
        for changed in (self.dirty, self.shape_dirty, self.body_dirty, self.pose_dirty, self.colour_dirty):
            changed.clear()

    def apply(self, kind: str, entity: str, attr: str, value: object, op: str, key: str) -> None:
        if kind == "scene":
            self._count(value, op, key)
            return
        if kind == "body":
            write_value(self.world, key, self.elements(kind, entity, attr, op, key), value)
            return
        slot = self.slots.get(entity)
        if slot is None:
            self._plain(self.objects[entity], attr, value, op, key)
            return
        st = self.state[entity]
        if attr == "asset":
            require_set(op, key)
            if str(value) not in slot.variants:
                raise UnsupportedError(f"{key}: expected an asset of the library ({', '.join(slot.variants)}) "
                                       f"(got {value!r})")
            if st.asset != str(value):
                st.asset = str(value)
                self.generation += 1
                st.mass = st.com = None  # a body's mass belongs to the asset it was drawn for
                for changed in (self.dirty, self.shape_dirty, self.body_dirty, self.pose_dirty, self.colour_dirty):
                    changed.add(entity)
        elif attr == "visible":
            require_set(op, key)
            st.visible = bool(value)
            self.dirty.add(entity)
        elif attr == "scale":
            scale = float(combine(1.0, value, op, key))
            if scale <= 0:
                raise UnsupportedError(f"{key}: expected a positive scale (got {scale:g})")
            self.generation += scale != st.scale
            st.scale = scale
            self.shape_dirty.add(entity)
            self.pose_dirty.add(entity)
        elif attr == "position":
            st.position = combine(self.rest[entity], as_vector(value, 3, key), op, key)
            self.pose_dirty.add(entity)
        else:  # orientation
            st.rpy = combine(np.zeros(3), as_vector(value, 3, key), op, key)
            self.pose_dirty.add(entity)

    def _count(self, value: object, op: str, key: str) -> None:
        count = round(float(combine(len(self.slots), value, op, key)))
        if not 0 <= count <= len(self.slots):
            raise UnsupportedError(f"{key}: expected 0..{len(self.slots)} (this scene has {len(self.slots)} "
                                   f"object slots; got {count})")
        for i, name in enumerate(self.slots):
            if self.state[name].filled != (i < count):
                self.state[name].filled = i < count
                self.dirty.add(name)

    def elements(self, kind: str, entity: str, attr: str, op: str, key: str) -> list[Elements]:
        """What ``body:<slot>/mass|com`` writes into the active asset's body, for the slot's current
        asset and scale (``generation`` says when those change). The slot remembers the value: it
        carries over to a new scale (flush's ``_write_mass``)."""
        st = self.state[entity]
        made_for, found = self._elements.get((key, op), (None, []))
        if made_for != (st.asset, st.scale):  # only the latest: scales drawn per episode never repeat
            found = self._slot_elements(entity, attr, op, key)
            self._elements[(key, op)] = ((st.asset, st.scale), found)
        return found

    def _slot_elements(self, entity: str, attr: str, op: str, key: str) -> list[Elements]:
        st = self.state[entity]
        b = self.slots[entity].variants[st.asset].body
        c, s, model = self.world.compiled, st.scale, self.world.model
        if attr == "com":
            return [affine("body_ipos", flat_positions(model.body_ipos, b), c["body_ipos"][b] * s, op, key,
                           component=[0, 1, 2], const=True,
                           remember=lambda com: setattr(self.state[entity], "com", com.copy()))]
        mass0 = c["body_mass"][b] * s ** 3
        mass = affine("body_mass", flat_positions(model.body_mass, b), mass0, op, key, const=True,
                      positive=lambda m: f"{key}: expected a positive mass (got {m:g} kg)",
                      remember=lambda m: setattr(self.state[entity], "mass", float(m[0])))
        # inertia scales with the mass at the slot's scale (uniform density: s^5 for a mass of s^3)
        return [mass, mass.derived("body_inertia", flat_positions(model.body_inertia, b),
                                   c["body_inertia"][b] * s ** 5 / mass0)]

    # ------------------------------------------------------------------ writing
    def is_shown(self, name: str) -> bool:
        st = self.state.get(name)
        return st is None or (st.visible and st.filled)

    def active_asset(self, name: str) -> str | None:
        st = self.state.get(name)
        return st.asset if st is not None else None

    def flush(self) -> None:
        """Write every changed slot into the model (and the data, for poses)."""
        for name in sorted(self.dirty):
            self._write_contents(self.slots[name], self.state[name])
        for name in sorted(self.shape_dirty):
            self._write_shape(self.slots[name], self.state[name])
        for name in sorted(self.body_dirty - self.shape_dirty):
            self._write_mass(self.slots[name], self.state[name])
        for name in sorted(self.pose_dirty):
            self._write_pose(self.slots[name], self.state[name])
        for name in sorted(self.colour_dirty):
            slot = self.slots[name]
            for callback in self.on_asset:
                callback(slot, slot.variants[self.state[name].asset].color)
        if self.body_dirty or self.shape_dirty:
            self.world.const_dirty = True
        if self.dirty or self.pose_dirty:
            self.world.forward_dirty = True
        for changed in (self.dirty, self.shape_dirty, self.body_dirty, self.pose_dirty, self.colour_dirty):
            changed.clear()

    def _write_contents(self, slot: Slot, st: SlotState) -> None:
        """Only the active asset of a shown slot renders and collides; a hidden slot floats."""
        model, c = self.world.model, self.world.compiled
        shown = st.visible and st.filled
        g = slot.geoms
        model.geom_group[g] = HIDDEN_GROUP
        model.geom_contype[g] = 0
        model.geom_conaffinity[g] = 0
        if shown:
            a = slot.variants[st.asset].geoms
            model.geom_group[a] = c["geom_group"][a]
            model.geom_contype[a] = c["geom_contype"][a]
            model.geom_conaffinity[a] = c["geom_conaffinity"][a]
        model.body_gravcomp[slot.body] = 0.0 if shown else 1.0

    def _write_shape(self, slot: Slot, st: SlotState) -> None:
        """The active asset at the slot's scale (geoms, meshes, bounding volumes); the other assets
        weigh nothing."""
        model, c, s = self.world.model, self.world.compiled, st.scale
        model.body_mass[slot.bodies] = 0.0
        model.body_inertia[slot.bodies] = 0.0
        v = slot.variants[st.asset]
        scale_body(model, c, v.body, v.geoms, s)
        for mesh in (self._mesh_ids[name] for name in v.meshes):
            if self.mesh_scale.get(mesh, 1.0) != s:
                scale_mesh(model, c, mesh, s)
                self.mesh_scale[mesh] = s
                self.meshes_changed.add(mesh)
        self._write_mass(slot, st)

    def _write_mass(self, slot: Slot, st: SlotState) -> None:
        """Mass, inertia (scaled with the mass) and centre of mass of the active asset at its scale."""
        model, c, s = self.world.model, self.world.compiled, st.scale
        b = slot.variants[st.asset].body
        mass0 = c["body_mass"][b] * s ** 3
        mass = st.mass if st.mass is not None else mass0
        model.body_mass[b] = mass
        model.body_inertia[b] = c["body_inertia"][b] * (s ** 5 * mass / mass0)
        model.body_ipos[b] = st.com if st.com is not None else c["body_ipos"][b] * s

    def rest_pose(self, slot: Slot, st: SlotState) -> tuple[np.ndarray, np.ndarray]:
        """Body position and quaternion (wxyz) that put the active asset at rest on its point."""
        point = self.rest[slot.name] if st.position is None else st.position
        q = np.empty(4)
        mujoco.mju_mulQuat(q, quat_from_rpy(st.rpy), self.rest_quat[slot.name])
        rot = np.empty(9)
        mujoco.mju_quat2Mat(rot, q)
        v = slot.variants[st.asset]
        lowest = ((v.support_points * st.scale) @ rot.reshape(3, 3).T)[:, 2] - v.support_radii * st.scale
        return point + np.array([0.0, 0.0, -lowest.min()]), q

    def _write_pose(self, slot: Slot, st: SlotState) -> None:
        pos, quat = self.rest_pose(slot, st)
        data = self.world.data
        data.qpos[slot.qpos:slot.qpos + 3] = pos
        data.qpos[slot.qpos + 3:slot.qpos + 7] = quat
        data.qvel[slot.dof:slot.dof + 6] = 0.0

    def write_defaults(self) -> None:
        """At load: rest every slot's default asset on its point (qpos0 and the data)."""
        for slot in self.slots.values():
            st = self.state[slot.name]
            self._write_contents(slot, st)
            self._write_shape(slot, st)
            for callback in self.on_asset:
                callback(slot, slot.variants[st.asset].color)
            pos, quat = self.rest_pose(slot, st)
            self.world.model.qpos0[slot.qpos:slot.qpos + 7] = np.concatenate([pos, quat])
        self.world.data.qpos[:] = self.world.model.qpos0

    # ------------------------------------------------------------------ objects that are not slots
    def _plain(self, obj: LabelledObject, attr: str, value: object, op: str, key: str) -> None:
        model, data, d = self.world.model, self.world.data, self.world.default
        b = obj.body
        if attr == "visible":
            require_set(op, key)
            shown = bool(value)
            g = obj.geoms
            model.geom_group[g] = d("geom_group")[g] if shown else HIDDEN_GROUP
            model.geom_contype[g] = d("geom_contype")[g] if shown else 0
            model.geom_conaffinity[g] = d("geom_conaffinity")[g] if shown else 0
            return
        if attr not in ("position", "orientation"):
            raise UnsupportedError(f"{key}: only library objects (scene slots) have {attr!r}; "
                                   f"{obj.name!r} is a body of the scene")
        joints = [j for j in range(model.njnt) if model.jnt_bodyid[j] == b]
        free = len(joints) == 1 and model.jnt_type[joints[0]] == mujoco.mjtJoint.mjJNT_FREE
        if joints and not free:
            raise UnsupportedError(f"{key}: object {obj.name!r} is articulated; randomize its joints instead")
        if free:
            adr = model.jnt_qposadr[joints[0]]
            pos0, quat0 = d("qpos0")[adr:adr + 3], d("qpos0")[adr + 3:adr + 7]
            target = data.qpos
            pos_slice, quat_slice = slice(adr, adr + 3), slice(adr + 3, adr + 7)
        else:
            pos0, quat0 = d("body_pos")[b], d("body_quat")[b]
            target = None
        if attr == "position":
            new = combine(pos0, as_vector(value, 3, key), op, key)
            if target is None:
                model.body_pos[b] = new
            else:
                target[pos_slice] = new
        else:
            rpy = combine(np.zeros(3), as_vector(value, 3, key), op, key)
            q = quat_from_rpy(rpy)
            if op != "set":
                out = np.empty(4)
                mujoco.mju_mulQuat(out, q, quat0)
                q = out
            if target is None:
                model.body_quat[b] = q
            else:
                target[quat_slice] = q
        self.world.forward_dirty = True
