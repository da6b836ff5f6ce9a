"""A library asset at a uniform scale, written from its compiled values instead of recompiling.

When every geom of a body scales by ``s`` about the body's origin, every compiled length of it scales
by ``s`` and nothing else changes: geom sizes, positions, bounding radii and boxes; the vertices of
its meshes, their frame offsets and scales; the bounding-volume hierarchies of the body and of its
meshes (their boxes are in the body's and the mesh's frames). Normals, orientations and the mesh
topology (faces, convex hulls) are unchanged; mass (s³) and inertia (s⁵) of a uniformly dense body
are ``Objects._write_mass``'s; ``mj_setConst`` refreshes the derived constants. So a rescale is a few
array stores from the compiled (scale 1) values, not a recompilation of the scene with the asset's
meshes rescaled (which also left the body's hierarchy at the old size of its primitive geoms).
``tests/test_mujoco_scaling.py`` checks it against a compilation of the scaled asset.
"""

from __future__ import annotations

import mujoco
import numpy as np

from .snapshot import ModelSnapshot

_GEOM_LENGTHS = ("geom_size", "geom_pos", "geom_rbound", "geom_aabb")


def scale_body(model: mujoco.MjModel, compiled: ModelSnapshot, body: int, geoms: np.ndarray, s: float) -> None:
    """Geoms ``geoms`` of ``body`` (all of them) and the body's bounding volumes at scale ``s``."""
    for name in _GEOM_LENGTHS:
        getattr(model, name)[geoms] = compiled[name][geoms] * s
    _scale_nodes(model, compiled, int(model.body_bvhadr[body]), int(model.body_bvhnum[body]), s)


def scale_mesh(model: mujoco.MjModel, compiled: ModelSnapshot, mesh: int, s: float) -> None:
    """Mesh ``mesh`` at scale ``s`` of its compiled size (its geoms: ``scale_body``)."""
    start, count = int(model.mesh_vertadr[mesh]), int(model.mesh_vertnum[mesh])
    model.mesh_vert[start:start + count] = compiled["mesh_vert"][start:start + count] * np.float32(s)
    model.mesh_pos[mesh] = compiled["mesh_pos"][mesh] * s
    model.mesh_scale[mesh] = compiled["mesh_scale"][mesh] * s
    _scale_nodes(model, compiled, int(model.mesh_bvhadr[mesh]), int(model.mesh_bvhnum[mesh]), s)


def _scale_nodes(model: mujoco.MjModel, compiled: ModelSnapshot, start: int, count: int, s: float) -> None:
    if start >= 0 and count > 0:  # boxes as (centre, half size) in the owner's frame
        model.bvh_aabb[start:start + count] = compiled["bvh_aabb"][start:start + count] * s
