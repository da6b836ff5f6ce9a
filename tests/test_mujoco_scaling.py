"""object scale without recompiling (backends/mujoco/scaling.py): the active asset's geometry, mass
properties and bounding volumes equal MuJoCo's own compilation of the asset drawn at that scale, and
the renderer is handed the new vertices."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from mujoco_support import backend_fixture, make_sample
from sim2real.backends.mujoco.backend import MujocoBackend

table = backend_fixture("tabletop", (64, 48))
SLOT = "obj_03"
GEOM_FIELDS = ("geom_size", "geom_pos", "geom_quat", "geom_rbound", "geom_aabb")
BODY_FIELDS = ("body_mass", "body_inertia", "body_ipos", "body_iquat")
MESH_FIELDS = ("mesh_pos", "mesh_quat", "mesh_scale")
NODE_FIELDS = ("bvh_aabb", "bvh_child", "bvh_depth", "bvh_nodeid")


def _compiled_at_scale(b: MujocoBackend, body_name: str, meshes: list[str], s: float) -> mujoco.MjModel:
    """MuJoCo's compilation of the scene with this asset drawn at scale ``s`` about its origin."""
    spec = b.scene.spec.copy()
    for geom in spec.body(body_name).geoms:
        geom.size = np.asarray(geom.size) * s
        geom.pos = np.asarray(geom.pos) * s
        if not np.isnan(geom.fromto[0]):
            geom.fromto = np.asarray(geom.fromto) * s
    for name in meshes:
        spec.mesh(name).scale = np.asarray(spec.mesh(name).scale) * s
    return spec.compile()


def _nodes(m: mujoco.MjModel, start: int, count: int) -> slice:
    return slice(int(start), int(start + count))


@pytest.mark.parametrize("s", [0.8, 1.25])
@pytest.mark.parametrize("asset", ["cone", "mug", "torus", "l_block", "cube", "sphere", "cylinder"])
def test_a_scaled_asset_is_what_mujoco_compiles_at_that_scale(table: MujocoBackend, asset: str, s: float) -> None:
    b = table
    b.reset()
    b.apply(make_sample({f"object:{SLOT}/asset": asset, f"object:{SLOT}/scale": s}, {f"object:{SLOT}/scale": "scale"}))
    v = next(x for x in b.scene.slots if x.name == SLOT).variants[asset]
    ref = _compiled_at_scale(b, b.scene.names["mjOBJ_BODY"][v.body], v.meshes, s)
    mine = b.model
    for f in GEOM_FIELDS:
        assert np.allclose(getattr(mine, f)[v.geoms], getattr(ref, f)[v.geoms], rtol=1e-6, atol=1e-9), f
    for f in BODY_FIELDS:
        assert np.allclose(getattr(mine, f)[v.body], getattr(ref, f)[v.body], rtol=1e-6, atol=1e-12), f
    owners = [(mine.body_bvhadr[v.body], mine.body_bvhnum[v.body])]
    for name in v.meshes:
        m = b.scene.id(mujoco.mjtObj.mjOBJ_MESH, name)
        verts = _nodes(mine, mine.mesh_vertadr[m], mine.mesh_vertnum[m])
        assert np.allclose(mine.mesh_vert[verts], ref.mesh_vert[verts], rtol=1e-6, atol=1e-7), name
        assert np.allclose(mine.mesh_normal[verts], ref.mesh_normal[verts], atol=1e-5), name
        for f in MESH_FIELDS:
            assert np.allclose(getattr(mine, f)[m], getattr(ref, f)[m], rtol=1e-6, atol=1e-9), f
        owners.append((mine.mesh_bvhadr[m], mine.mesh_bvhnum[m]))
    for start, count in owners:
        nodes = _nodes(mine, start, count)
        for f in NODE_FIELDS:
            assert np.allclose(getattr(mine, f)[nodes], getattr(ref, f)[nodes], rtol=1e-6, atol=1e-9), f
    b.reset()
    assert b.world.defaults.differences(b.model) == []


def test_the_renderer_gets_each_scaled_mesh_once_per_frame(table: MujocoBackend, monkeypatch) -> None:
    b = table
    b.restore_defaults()
    b.render("main")  # the renderer exists (it uploads the whole model when it is made)
    uploads: list[int] = []
    monkeypatch.setattr(type(b._camera().renderer), "upload_mesh", lambda self, mesh: uploads.append(mesh))
    mug = b.scene.id(mujoco.mjtObj.mjOBJ_MESH, f"{SLOT}/mug/mug")
    scaled = make_sample({f"object:{SLOT}/asset": "mug", f"object:{SLOT}/scale": 1.2}, {f"object:{SLOT}/scale": "scale"})
    b.apply(scaled)
    b.render("main")
    assert uploads == [mug]
    b.reset()  # back to scale 1, then scaled again before the next frame: one upload, not two
    b.apply(make_sample({f"object:{SLOT}/asset": "mug", f"object:{SLOT}/scale": 0.9}, {f"object:{SLOT}/scale": "scale"}))
    b.render("main")
    assert uploads == [mug, mug]
    b.reset()
    b.render("main")  # the compiled vertices again
    assert uploads == [mug, mug, mug]
    b.render("main")
    assert uploads == [mug, mug, mug]
    b.restore_defaults()
