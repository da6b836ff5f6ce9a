"""Which prims a profile's selectors name: the entity tables of a USD stage, per target kind.

An entity is named by its prim's name. What makes a prim an entity of each kind:

==========  ==================================================================================
kind        prims
==========  ==================================================================================
light       prims with ``UsdLux.LightAPI`` (every UsdLux light)
material    ``UsdShade.Material`` prims with a surface shader (UsdPreviewSurface or MDL, e.g. OmniPBR);
            pure physics materials are not material entities
camera      ``UsdGeom.Camera`` prims (also the entities of ``image:*`` sensor effects)
object      labelled things: prims with a semantic ``class`` label (``UsdSemantics.LabelsAPI`` or the
            older ``SemanticsAPI``) and no labelled ancestor; a *slot* is an object with a variant
            set named ``asset`` (one variant per library asset)
body        prims with ``UsdPhysics.RigidBodyAPI``
geom        prims with ``UsdPhysics.CollisionAPI``, and every rigid body (meaning all its colliders)
world       ``world`` when the stage has a ``UsdPhysics.Scene``
scene       ``scene`` when the stage has object slots
==========  ==================================================================================

A name held by several prims of one kind (mujoco-usd-converter calls every unnamed body ``Body``) names
none of them: each gets its path instead, the shortest tail of its path below the environment root that
no other prim of that kind has, with ``.`` between the prim names (``aux_1.Body``, ``aux_2.Body``; prim
names cannot hold a ``.``). ``EntityTable.renamed`` lists them (``sim2real scene info`` shows them). Prims
under ``/sim2real`` (what sim2real creates) are never entities.

Several environments (cloned scenes, as Isaac Lab's ``/World/envs/env_*``): entities are found under
the first environment's root and addressed in environment ``i`` by the same path relative to root
``i``. Entities outside every environment root (a dome light, the physics scene) are global: only
environment 0's value is applied to them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pxr import Sdf, Usd, UsdGeom, UsdLux, UsdPhysics, UsdShade

from .layer import SCRATCH_ROOT

log = logging.getLogger(__name__)

ASSET_VARIANT_SET = "asset"
CLASS_TAXONOMY = "class"
# UsdSemantics.LabelsAPI by its schema and attribute names: the module exists in OpenUSD 24.08+ and in
# Isaac Sim 5.1's own 24.05 build, not in OpenUSD 24.05 (usd-core 24.5), so it is read without it
LABELS_API = "SemanticsLabelsAPI"


def labels_attribute(taxonomy: str) -> str:
    return f"semantics:labels:{taxonomy}"


def class_labels(prim: Usd.Prim) -> list[str]:
    """The prim's own ``class`` labels (``UsdSemantics.LabelsAPI``, else the older ``SemanticsAPI``)."""
    # the composed apiSchemas: GetAppliedSchemas() leaves out schemas this pxr does not register
    if f"{LABELS_API}:{CLASS_TAXONOMY}" in prim.GetPrimTypeInfo().GetAppliedAPISchemas():
        value = prim.GetAttribute(labels_attribute(CLASS_TAXONOMY)).Get()
        return [str(v) for v in value or []]
    for attr in prim.GetAttributes():  # Semantics.SemanticsAPI: semantic:<inst>:params:semanticType/Data
        name = attr.GetName()
        if name.startswith("semantic:") and name.endswith(":params:semanticType") and attr.Get() == CLASS_TAXONOMY:
            data = prim.GetAttribute(name.replace(":semanticType", ":semanticData")).Get()
            return [str(data)] if data else []
    return []


def surface_shader(material: UsdShade.Material) -> UsdShade.Shader | None:
    """The shader of a material's surface output: universal (UsdPreviewSurface) or MDL (OmniPBR)."""
    for context in ("", "mdl"):
        source = material.ComputeSurfaceSource(context)
        shader = source[0] if isinstance(source, tuple) else source
        if shader and shader.GetPrim().IsValid():
            return UsdShade.Shader(shader.GetPrim())
    return None


def colliders(prim: Usd.Prim) -> list[Usd.Prim]:
    """The prim if it collides, and the colliders below it that belong to no other rigid body."""
    out = []
    # colliders inside instanceable prims (instanced collision meshes) count too: authoring on them goes
    # through Context.writable
    it = iter(Usd.PrimRange(prim, Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)))
    for p in it:
        if p != prim and p.HasAPI(UsdPhysics.RigidBodyAPI):
            it.PruneChildren()
            continue
        if p.HasAPI(UsdPhysics.CollisionAPI):
            out.append(p)
    return out


@dataclass
class EntityTable:
    """Entity name -> prim path relative to the environment root (``.`` = the root itself)."""

    names: dict[str, dict[str, Sdf.Path]] = field(default_factory=dict)
    global_: set[tuple[str, str]] = field(default_factory=set)  # (kind, name) outside every env root
    slots: list[str] = field(default_factory=list)
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> {path-based name: prim path}

    def as_lists(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.names.items() if v}


class Environments:
    """Root prim paths of the environments (one root ``/`` for a single scene)."""

    def __init__(self, roots: Sequence[str | Sdf.Path] | None = None) -> None:
        self.roots = [Sdf.Path(str(r)) for r in roots] if roots else [Sdf.Path.absoluteRootPath]

    def __len__(self) -> int:
        return len(self.roots)

    def relative(self, path: Sdf.Path) -> tuple[Sdf.Path, bool]:
        """(path relative to the first root, True) inside it, else (the absolute path, False)."""
        root = self.roots[0]
        if path.HasPrefix(root):
            return path.MakeRelativePath(root), True
        return path, False

    def resolve(self, rel: Sdf.Path, env: int, is_global: bool) -> Sdf.Path:
        if is_global:
            return rel
        return self.roots[env].AppendPath(rel) if rel != Sdf.Path(".") else self.roots[env]

    def outside_all(self, path: Sdf.Path) -> bool:
        return not any(path.HasPrefix(r) for r in self.roots)


def discover(stage: Usd.Stage, envs: Environments) -> EntityTable:
    """Scan the stage once and build the entity tables."""
    found: dict[str, list[tuple[str, Sdf.Path, bool]]] = {
        k: [] for k in ("light", "material", "camera", "object", "body", "geom")}
    has_scene = False
    for prim in _scan(stage, envs):
        path = prim.GetPath()
        rel, inside = envs.relative(path)
        entry = (prim.GetName(), rel, not inside)
        if prim.HasAPI(UsdLux.LightAPI):
            found["light"].append(entry)
        if prim.IsA(UsdShade.Material) and surface_shader(UsdShade.Material(prim)) is not None:
            found["material"].append(entry)
        if prim.IsA(UsdGeom.Camera):
            found["camera"].append(entry)
        if prim.HasAPI(UsdPhysics.RigidBodyAPI):
            found["body"].append(entry)
            found["geom"].append(entry)
        elif prim.HasAPI(UsdPhysics.CollisionAPI):
            found["geom"].append(entry)
        if prim.IsA(UsdPhysics.Scene):
            has_scene = True
        if class_labels(prim) and not _labelled_ancestor(prim):
            found["object"].append(entry)
    table = EntityTable()
    table.names["object"] = _unique("object", found.pop("object"), table)
    slot_paths = {}
    for name, rel in table.names["object"].items():
        prim = _prim(stage, envs, rel, ("object", name) in table.global_)
        if prim.GetVariantSets().HasVariantSet(ASSET_VARIANT_SET):
            slot_paths[name] = prim.GetPath()
    table.slots = list(slot_paths)
    for kind, entries in found.items():
        if kind in ("geom", "body"):  # a slot's contents change with its asset: reach them through the slot
            entries = [e for e in entries if not _inside(envs, e, slot_paths.values())]
        table.names[kind] = _unique(kind, entries, table)
    table.renamed = {kind: {n: str(envs.resolve(Sdf.Path(p), 0, (kind, n) in table.global_)) for n, p in names.items()}
                     for kind, names in table.renamed.items()}  # shown as environment 0's prim paths
    table.names["image"] = dict(table.names["camera"])
    table.global_ |= {("image", n) for k, n in table.global_ if k == "camera"}
    if has_scene:
        table.names["world"] = {"world": Sdf.Path.absoluteRootPath}
        table.global_.add(("world", "world"))
    if table.slots:
        table.names["scene"] = {"scene": Sdf.Path.absoluteRootPath}
        table.global_.add(("scene", "scene"))
    return table


def _scan(stage: Usd.Stage, envs: Environments) -> Iterable[Usd.Prim]:
    """Every active prim except sim2real's own and those of environments other than the first."""
    others = envs.roots[1:]
    it = iter(stage.Traverse())
    for prim in it:
        path = prim.GetPath()
        if path.HasPrefix(SCRATCH_ROOT) or any(path.HasPrefix(r) for r in others):
            it.PruneChildren()
            continue
        yield prim


def _inside(envs: Environments, entry: tuple[str, Sdf.Path, bool], slots: Iterable[Sdf.Path]) -> bool:
    """Is the entry's prim strictly below one of the slots?"""
    _, rel, is_global = entry
    path = envs.resolve(rel, 0, is_global)
    return any(path != slot and path.HasPrefix(slot) for slot in slots)


def _labelled_ancestor(prim: Usd.Prim) -> bool:
    parent = prim.GetParent()
    while parent and not parent.IsPseudoRoot():
        if class_labels(parent):
            return True
        parent = parent.GetParent()
    return False


def _unique(kind: str, entries: list[tuple[str, Sdf.Path, bool]], table: EntityTable) -> dict[str, Sdf.Path]:
    paths: dict[str, list[Sdf.Path]] = {}
    for name, rel, _ in entries:
        if rel not in paths.setdefault(name, []):
            paths[name].append(rel)
    shared = {n for n, p in paths.items() if len(p) > 1}
    taken = set(paths) - shared
    names: dict[Sdf.Path, str] = {}
    for name in sorted(shared):
        for rel, unique in _path_names(paths[name], taken).items():
            names[rel] = unique
            taken.add(unique)
            table.renamed.setdefault(kind, {})[unique] = str(rel)
    if shared:
        log.info("%s entities named by their paths (their names are shared): %s", kind,
                 ", ".join(sorted(table.renamed[kind])))
    out = {}
    for name, rel, is_global in entries:
        final = names.get(rel, name)
        if final not in out:
            out[final] = rel
            if is_global:
                table.global_.add((kind, final))
    return out


def _path_names(paths: list[Sdf.Path], taken: set[str]) -> dict[Sdf.Path, str]:
    """Each path's shortest ``.``-joined tail of prim names that is unique among ``paths`` and not ``taken``."""
    parts = {p: [str(s) for s in str(p).strip("/").split("/") if s not in ("", ".")] for p in paths}
    out: dict[Sdf.Path, str] = {}
    for path, names in parts.items():
        for n in range(2, len(names) + 1):
            tail = ".".join(names[-n:])
            if tail not in taken and all(".".join(o[-n:]) != tail for q, o in parts.items() if q != path):
                out[path] = tail
                break
        else:
            out[path] = ".".join(names) or str(path)
    return out


def _prim(stage: Usd.Stage, envs: Environments, rel: Sdf.Path, is_global: bool, env: int = 0) -> Usd.Prim:
    return stage.GetPrimAtPath(envs.resolve(rel, env, is_global))
