"""sim2real.usd.mass: the centre of mass PhysX computes for a body that authors none (mass-weighted collider
centroids, in the body's frame), on shapes whose centroid is not their origin."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("pxr")
from pxr import Usd, UsdGeom, UsdPhysics  # noqa: E402

from sim2real.errors import UnsupportedError  # noqa: E402
from sim2real.usd.mass import collider_com, collider_masses  # noqa: E402

CUBE_POINTS = [(x, y, z) for z in (0, 1) for y in (0, 1) for x in (0, 1)]
CUBE_FACES = [0, 2, 3, 1, 4, 5, 7, 6, 0, 1, 5, 4, 2, 6, 7, 3, 0, 4, 6, 2, 1, 3, 7, 5]  # outward quads


def _body(open_mesh: bool = False) -> tuple[Usd.Stage, Usd.Prim]:
    stage = Usd.Stage.CreateInMemory()
    body = UsdGeom.Xform.Define(stage, "/body")
    body.AddTranslateOp().Set((5.0, -1.0, 0.0))
    body.AddScaleOp().Set((2.0, 2.0, 2.0))  # world positions and volumes change; the body-frame answer does not
    UsdPhysics.RigidBodyAPI.Apply(body.GetPrim())
    cone = UsdGeom.Cone.Define(stage, "/body/cone")  # r 1, h 2 along z: centroid h/4 below its centre
    cone.GetRadiusAttr().Set(1.0)
    cone.GetHeightAttr().Set(2.0)
    cone.GetAxisAttr().Set("Z")
    mesh = UsdGeom.Mesh.Define(stage, "/body/box")  # a unit cube from its corner, moved 2 along x
    mesh.GetPointsAttr().Set(CUBE_POINTS)
    mesh.GetFaceVertexCountsAttr().Set([4] * (5 if open_mesh else 6))
    mesh.GetFaceVertexIndicesAttr().Set(CUBE_FACES[:20] if open_mesh else CUBE_FACES)
    mesh.AddTranslateOp().Set((2.0, 0.0, 0.0))
    for shape in (cone, mesh):
        UsdPhysics.CollisionAPI.Apply(shape.GetPrim())
        UsdPhysics.MassAPI.Apply(shape.GetPrim()).CreateDensityAttr(1000.0)
    return stage, body.GetPrim()


def _com(body: Usd.Prim) -> np.ndarray:
    shapes = [p for p in Usd.PrimRange(body) if p.HasAPI(UsdPhysics.CollisionAPI)]
    masses = collider_masses(shapes, lambda a: a.Get() if a else None, lambda p: None, "body", "body:body/com")
    return collider_com(body, masses, lambda a: a.Get() if a and a.HasAuthoredValue() else None, "body:body/com")


def test_the_centre_of_mass_weights_each_collider_centroid_by_its_mass() -> None:
    _, body = _body()
    cone_volume = math.pi * 2.0 / 3.0
    expected = (cone_volume * np.array([0.0, 0.0, -0.5]) + 1.0 * np.array([2.5, 0.5, 0.5])) / (cone_volume + 1.0)
    assert _com(body) == pytest.approx(expected, abs=1e-12)


def test_a_collider_centroid_authored_on_it_wins_and_an_open_mesh_is_refused() -> None:
    stage, body = _body()
    UsdPhysics.MassAPI(stage.GetPrimAtPath("/body/cone")).CreateCenterOfMassAttr((0.0, 0.0, 0.25))
    cone_volume = math.pi * 2.0 / 3.0
    expected = (cone_volume * np.array([0.0, 0.0, 0.25]) + np.array([2.5, 0.5, 0.5])) / (cone_volume + 1.0)
    assert _com(body) == pytest.approx(expected, abs=1e-12)
    _, leaky = _body(open_mesh=True)
    with pytest.raises(UnsupportedError, match="body:body/com: cannot compute the centroid of /body/box \\(Mesh\\) "
                                               "for the centre of mass of body 'body'.*op = \"set\""):
        _com(leaky)
