"""Loading a scene: MJCF → ``MjSpec`` (object library expanded into the slots) → ``MjModel``, plus the
name tables every other module uses. Fields are always found by name here, never by hard-coded index.

Scene conventions (documented in data/scenes/README.md), all optional, declared in ``<custom>``:

* ``<text name="sim2real:library" data="objects"/>``: a folder (relative to the scene file) of asset
  MJCF files, one object each (file stem = asset name = semantic class).
* ``<text name="sim2real:slot:obj_00" data="cube"/>``: body ``obj_00`` (a free body) is an object slot
  whose default asset is ``cube``. At load every library asset is attached to every slot; only the
  active one is rendered, collides and has mass.
* ``<numeric name="sim2real:look_at:main" data="x y z"/>``: the point camera ``main`` orbits around.

Without a library, the labelled objects are the named bodies directly under the world body.
"""

from __future__ import annotations

import logging
import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from ...errors import InputError
from ...paths import data_path
from .textures import add_library

log = logging.getLogger(__name__)

OBJ = mujoco.mjtObj
LIBRARY_KEY = "sim2real:library"
SLOT_PREFIX = "sim2real:slot:"
LOOK_AT_PREFIX = "sim2real:look_at:"
HIDDEN_GROUP = 5  # geoms of inactive assets and hidden objects move here; never rendered
VISUAL_GROUPS = (0, 1, 2)  # geom groups MuJoCo renders by default
RIM_POINTS = 24  # points per cylinder rim used to find an object's lowest point


@dataclass
class Variant:
    """One library asset attached to one slot."""

    asset: str
    body: int  # the asset's body (a child of the slot body, at the slot's origin)
    geoms: np.ndarray  # every geom of the asset
    visual: np.ndarray  # geoms in the rendered groups
    meshes: list[str]  # names of this variant's own mesh assets (scaled with it: scaling.py)
    color: np.ndarray  # (4,) the asset's own colour
    support_points: np.ndarray  # (N, 3) points of its collision surface in the slot frame, metres
    support_radii: np.ndarray  # (N,) radius around each point (spheres, capsules)


@dataclass
class Slot:
    """An object slot: a free body whose contents come from the library."""

    name: str
    index: int
    body: int
    qpos: int  # address of the free joint's 7 qpos (position, quaternion wxyz)
    dof: int
    default_asset: str
    variants: dict[str, Variant]
    material: int  # the slot's material (-1 if the scene declares none)
    geoms: np.ndarray  # every geom of every variant
    bodies: np.ndarray  # every variant's body


@dataclass
class LabelledObject:
    """A labelled instance: a slot, or (no library) a top-level body and its subtree."""

    name: str
    instance_id: int
    body: int
    geoms: np.ndarray
    slot: Slot | None = None


@dataclass
class Scene:
    """A loaded scene: its compilation and name tables. It pickles without its ``MjSpec`` (nothing after
    loading needs it; the model travels as MJB), so a parent loads it once for its worker processes."""

    path: Path
    spec: mujoco.MjSpec | None
    model: mujoco.MjModel
    library: list[str]
    slots: list[Slot]
    objects: list[LabelledObject]
    look_at: dict[str, np.ndarray]
    names: dict[str, list[str]] = field(default_factory=dict)  # object type -> names by id
    # (image path, texture shape) -> id of the texture holding that image (textures.py)
    texture_library: dict[tuple[str, tuple[int, int, int, int]], int] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        return {**vars(self), "spec": None}

    def fresh(self) -> Scene:
        """The same scene with its own copy of the model, as compiled (a backend adopts the model and
        edits it in place)."""
        return replace(self, model=copy.copy(self.model))

    def id(self, obj: mujoco.mjtObj, name: str) -> int:
        return mujoco.mj_name2id(self.model, obj, name)

    def name(self, obj: mujoco.mjtObj, i: int) -> str:
        return mujoco.mj_id2name(self.model, obj, i) or ""

    def actuator_names(self) -> list[str]:
        """Actuator names in control order; an unnamed actuator takes the name of the joint, tendon or
        site it drives (as in gymnasium's models), when no other actuator has that name."""
        model, names = self.model, list(self.names["mjOBJ_ACTUATOR"])
        kinds = {mujoco.mjtTrn.mjTRN_JOINT: OBJ.mjOBJ_JOINT, mujoco.mjtTrn.mjTRN_JOINTINPARENT: OBJ.mjOBJ_JOINT,
                 mujoco.mjtTrn.mjTRN_TENDON: OBJ.mjOBJ_TENDON, mujoco.mjtTrn.mjTRN_SITE: OBJ.mjOBJ_SITE}
        for a in range(model.nu):
            kind = kinds.get(int(model.actuator_trntype[a]))
            if not names[a] and kind is not None:
                target = self.name(kind, int(model.actuator_trnid[a, 0]))
                if target and target not in names:
                    names[a] = target
        return names


PACKAGE_PREFIX = "pkg:"


def resolve_scene(scene: str | PathLike[str]) -> Path:
    """A scene file: a path, the name of a shipped scene (``tabletop`` → data/scenes/tabletop.xml), or
    ``pkg:<package>/<path>``, a file inside an installed Python package (robot models shipped on PyPI,
    e.g. ``pkg:gymnasium/envs/mujoco/assets/reacher.xml``)."""
    if isinstance(scene, str) and scene.startswith(PACKAGE_PREFIX):
        return _package_file(scene)
    path = Path(scene)
    if path.suffix.lower() != ".xml" and not path.exists():
        path = data_path("scenes", f"{scene}.xml")
    if not path.is_file():
        raise InputError(f"{scene}: expected an MJCF scene file or a shipped scene name (no such file {path})")
    return path.resolve()


def _package_file(scene: str) -> Path:
    import importlib.util

    package, _, rel = scene[len(PACKAGE_PREFIX):].partition("/")
    spec = importlib.util.find_spec(package) if package.isidentifier() else None
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"{scene}: expected an installed Python package {package!r} holding the scene")
    path = (Path(next(iter(spec.submodule_search_locations))) / rel).resolve()
    if not path.is_file():
        raise InputError(f"{scene}: no such file in package {package} ({path})")
    return path


def load(scene: str | PathLike[str], resolution: tuple[int, int], textures: Sequence[str] = ()) -> Scene:
    """``textures``: image files that materials may show, made textures of their own (textures.py)."""
    path = resolve_scene(scene)
    try:
        spec = mujoco.MjSpec.from_file(str(path))
    except Exception as exc:  # MuJoCo raises ValueError with the parser's message
        raise InputError(f"{path}: cannot parse MJCF: {_first_line(exc)}") from exc
    texts = {t.name: t.data for t in spec.texts}
    library, slots_decl = _library(path, spec, texts)
    colours = _expand_slots(spec, library, slots_decl, path) if slots_decl else {}
    width, height = resolution
    spec.visual.global_.offwidth = max(int(spec.visual.global_.offwidth), width)
    spec.visual.global_.offheight = max(int(spec.visual.global_.offheight), height)
    try:
        model = spec.compile()
    except Exception as exc:
        raise InputError(f"{path}: cannot compile: {_first_line(exc)}") from exc
    added = add_library(spec, model, list(textures)) if textures else {}
    if added:
        model = spec.compile()  # the same model with the library's textures after the scene's own
    scene = Scene(path, spec, model, sorted(library), [], [], {})
    scene.texture_library = {k: scene.id(OBJ.mjOBJ_TEXTURE, name) for k, name in added.items()}
    scene.names = {o: [scene.name(getattr(OBJ, o), i) for i in range(_count(model, o))] for o in _COUNTS}
    scene.slots = [_slot(scene, name, asset, i, colours) for i, (name, asset) in enumerate(slots_decl.items())]
    scene.objects = _objects(scene)
    scene.look_at = _look_at(scene)
    return scene


_COUNTS = {
    "mjOBJ_BODY": "nbody", "mjOBJ_GEOM": "ngeom", "mjOBJ_JOINT": "njnt", "mjOBJ_LIGHT": "nlight",
    "mjOBJ_CAMERA": "ncam", "mjOBJ_MATERIAL": "nmat", "mjOBJ_TEXTURE": "ntex", "mjOBJ_ACTUATOR": "nu",
    "mjOBJ_SENSOR": "nsensor", "mjOBJ_MESH": "nmesh",
}


def _count(model: mujoco.MjModel, obj: str) -> int:
    return int(getattr(model, _COUNTS[obj]))


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def _library(path: Path, spec: mujoco.MjSpec, texts: dict[str, str]) -> tuple[dict[str, Path], dict[str, str]]:
    slots = {k[len(SLOT_PREFIX):]: v.strip() for k, v in texts.items() if k.startswith(SLOT_PREFIX)}
    folder = texts.get(LIBRARY_KEY)
    if folder is None:
        if slots:
            raise InputError(f"{path}: custom text {LIBRARY_KEY}: expected a library folder for the declared slots")
        return {}, {}
    lib_dir = (path.parent / folder.strip()).resolve()
    library = {p.stem: p for p in sorted(lib_dir.glob("*.xml"))}
    if not library:
        raise InputError(f"{path}: custom text {LIBRARY_KEY}: expected a folder of asset MJCF files (got {lib_dir})")
    for slot, asset in slots.items():
        if spec.body(slot) is None:
            raise InputError(f"{path}: custom text {SLOT_PREFIX}{slot}: expected a body named {slot!r}")
        if asset not in library:
            raise InputError(f"{path}: custom text {SLOT_PREFIX}{slot}: expected an asset among "
                             f"{', '.join(library)} (got {asset!r})")
    return library, slots


def _load_asset(name: str, file: Path) -> mujoco.MjSpec:
    try:
        asset = mujoco.MjSpec.from_file(str(file))
    except Exception as exc:
        raise InputError(f"{file}: cannot parse library asset: {_first_line(exc)}") from exc
    if asset.body(name) is None:
        raise InputError(f"{file}: expected a body named {name!r} (the file's stem) holding the asset")
    mesh_dir = file.parent / (asset.meshdir or "")
    for mesh in asset.meshes:  # absolute paths: the scene's meshdir must not re-root them
        if mesh.file and not Path(mesh.file).is_absolute():
            mesh.file = str((mesh_dir / mesh.file).resolve())
    return asset


def _asset_colour(asset: mujoco.MjSpec) -> np.ndarray:
    """The colour of an asset's first rendered geom (its material's, unless the geom sets its own)."""
    for geom in asset.geoms:
        if geom.group in VISUAL_GROUPS:
            own = np.array(geom.rgba, dtype=float)
            material = asset.material(geom.material) if geom.material else None
            if material is not None and np.allclose(own, [0.5, 0.5, 0.5, 1.0]):
                return np.array(material.rgba, dtype=float)
            return own
    return np.array([0.5, 0.5, 0.5, 1.0])


def _expand_slots(spec: mujoco.MjSpec, library: dict[str, Path], slots: dict[str, str],
                  path: Path) -> dict[str, np.ndarray]:
    """Attach every asset to every slot; dress its rendered geoms with the slot's material.
    Returns each asset's own colour."""
    assets = {name: _load_asset(name, file) for name, file in library.items()}
    for slot in slots:
        body = spec.body(slot)
        if not any(j.type == mujoco.mjtJoint.mjJNT_FREE for j in body.joints):
            raise InputError(f"{path}: body {slot!r}: expected a <freejoint/> in an object slot")
        slot_material = spec.material(slot)
        for name, asset in assets.items():
            attached = body.add_frame().attach_body(asset.copy().body(name), f"{slot}/{name}/", "")
            if slot_material is None:
                continue
            for geom in attached.find_all(mujoco.mjtObj.mjOBJ_GEOM):
                if geom.group in VISUAL_GROUPS:
                    geom.material = slot
                    geom.rgba = [0.5, 0.5, 0.5, 1.0]  # MuJoCo's default: the material decides
    for material in list(spec.materials):  # the assets' own materials were replaced by the slots'
        if "/" in material.name and material.name.split("/")[0] in slots and spec.material(material.name.split("/")[0]):
            spec.delete(material)
    return {name: _asset_colour(asset) for name, asset in assets.items()}


def _slot(scene: Scene, name: str, default_asset: str, index: int, colours: dict[str, np.ndarray]) -> Slot:
    model = scene.model
    body = scene.id(OBJ.mjOBJ_BODY, name)
    joint = next(j for j in range(model.njnt) if model.jnt_bodyid[j] == body
                 and model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE)
    variants = {}
    for asset in scene.library:
        vbody = scene.id(OBJ.mjOBJ_BODY, f"{name}/{asset}/{asset}")
        geoms = np.flatnonzero(model.geom_bodyid == vbody)
        visual = geoms[np.isin(model.geom_group[geoms], VISUAL_GROUPS)]
        meshes = sorted({scene.name(OBJ.mjOBJ_MESH, model.geom_dataid[g]) for g in geoms
                         if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH})
        points, radii = _support(model, geoms)
        variants[asset] = Variant(asset, vbody, geoms, visual, meshes, colours[asset], points, radii)
    return Slot(name, index, body, int(model.jnt_qposadr[joint]), int(model.jnt_dofadr[joint]), default_asset,
                variants, scene.id(OBJ.mjOBJ_MATERIAL, name), np.concatenate([v.geoms for v in variants.values()]),
                np.array([v.body for v in variants.values()]))


def _support(model: mujoco.MjModel, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (slot frame) and radii whose lowest ``z - r`` under any rotation is the lowest point of the
    asset's colliding geoms (all geoms if none collide)."""
    colliding = [g for g in geoms if model.geom_contype[g] or model.geom_conaffinity[g]] or list(geoms)
    points, radii = [], []
    for g in colliding:
        size, kind = model.geom_size[g], model.geom_type[g]
        rot = np.empty(9)
        mujoco.mju_quat2Mat(rot, model.geom_quat[g])
        local, r = _geom_points(model, g, kind, size)
        points.append(local @ rot.reshape(3, 3).T + model.geom_pos[g])
        radii.append(np.full(len(local), r))
    return np.concatenate(points), np.concatenate(radii)


def _geom_points(model: mujoco.MjModel, g: int, kind: int, size: np.ndarray) -> tuple[np.ndarray, float]:
    G = mujoco.mjtGeom
    if kind == G.mjGEOM_SPHERE:
        return np.zeros((1, 3)), float(size[0])
    if kind == G.mjGEOM_CAPSULE:
        return np.array([[0, 0, -size[1]], [0, 0, size[1]]]), float(size[0])
    if kind == G.mjGEOM_BOX:
        corners = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1], indexing="ij")).reshape(3, -1).T
        return corners * size, 0.0
    if kind == G.mjGEOM_CYLINDER:
        t = np.linspace(0, 2 * np.pi, RIM_POINTS, endpoint=False)
        rim = np.stack([size[0] * np.cos(t), size[0] * np.sin(t), np.zeros_like(t)], 1)
        return np.concatenate([rim + [0, 0, -size[1]], rim + [0, 0, size[1]]]), 0.0
    if kind == G.mjGEOM_ELLIPSOID:
        u, v = np.meshgrid(np.linspace(0, 2 * np.pi, RIM_POINTS), np.linspace(0, np.pi, RIM_POINTS // 2))
        sphere = np.stack([np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v)], -1).reshape(-1, 3)
        return sphere * size, 0.0
    if kind == G.mjGEOM_MESH:
        mesh = model.geom_dataid[g]
        start, count = model.mesh_vertadr[mesh], model.mesh_vertnum[mesh]
        return np.asarray(model.mesh_vert[start:start + count], dtype=float), 0.0
    return np.zeros((1, 3)), 0.0  # planes, height fields: not used as objects


def _objects(scene: Scene) -> list[LabelledObject]:
    model = scene.model
    if scene.slots:
        return [LabelledObject(s.name, s.index + 1, s.body, np.flatnonzero(np.isin(
            model.geom_bodyid, [s.body, *(v.body for v in s.variants.values())])), s) for s in scene.slots]
    tops = [b for b in range(1, model.nbody) if model.body_parentid[b] == 0 and scene.names["mjOBJ_BODY"][b]]
    root = model.body_rootid
    out = []
    for i, b in enumerate(tops):
        geoms = np.flatnonzero(root[model.geom_bodyid] == b)
        out.append(LabelledObject(scene.names["mjOBJ_BODY"][b], i + 1, b, geoms))
    return out


def _look_at(scene: Scene) -> dict[str, np.ndarray]:
    model = scene.model
    out = {}
    for i in range(model.nnumeric):
        name = scene.name(OBJ.mjOBJ_NUMERIC, i)
        if name.startswith(LOOK_AT_PREFIX):
            adr, size = model.numeric_adr[i], model.numeric_size[i]
            if size != 3:
                raise InputError(f"{scene.path}: custom numeric {name}: expected 3 numbers x y z (got {size})")
            out[name[len(LOOK_AT_PREFIX):]] = np.array(model.numeric_data[adr:adr + 3], dtype=float)
    return out
