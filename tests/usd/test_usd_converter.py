"""sim2real.usd on a stage made from a MuJoCo model by mujoco-usd-converter: its UsdPhysics prims after
applying physics terms, and exactly as converted after restoring."""

from __future__ import annotations

from pathlib import Path

import pytest
from usd_helpers import flat, sample

pytest.importorskip("pxr")
converter = pytest.importorskip("mujoco_usd_converter")
from pxr import Usd, UsdPhysics, UsdShade  # noqa: E402

from sim2real.usd import UsdScene  # noqa: E402

MJCF = """<mujoco model="bench">
  <option gravity="0 0 -9.81"/>
  <worldbody>
    <geom name="ground" type="plane" size="2 2 0.1" friction="0.8"/>
    <geom name="wall" type="box" size="0.1 1 0.5" pos="1 0 0.5" friction="0.8"/>
    <body name="crate" pos="0 0 0.5"><freejoint/><geom name="crate_box" type="box" size="0.1 0.1 0.1" mass="2"/></body>
    <body name="ball" pos="0.3 0 0.5"><freejoint/><geom name="ball_geom" type="sphere" size="0.05" density="1000"/></body>
  </worldbody>
</mujoco>
"""


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("converted")
    (folder / "bench.xml").write_text(MJCF)
    asset = converter.Converter(layer_structure=False).convert(str(folder / "bench.xml"), str(folder / "usd"))
    return Path(asset.path)


def _bound(stage: Usd.Stage, path: str) -> UsdShade.Material:
    material, _ = UsdShade.MaterialBindingAPI(stage.GetPrimAtPath(path)).ComputeBoundMaterial("physics")
    return material


def _schemas(stage: Usd.Stage) -> dict[str, list[str]]:
    return {str(p.GetPath()): list(p.GetAppliedSchemas()) for p in stage.Traverse()}


def test_converted_stage_physics_apply_and_restore(converted: Path) -> None:
    stage = Usd.Stage.Open(str(converted))
    before, schemas = flat(stage), _schemas(stage)
    scene = UsdScene(stage)
    entities = scene.entities()
    assert entities["body"] == ["crate", "ball"]
    assert {"ground", "wall", "crate", "crate_box", "ball", "ball_geom"} == set(entities["geom"])
    assert entities["world"] == ["world"]
    shared = _bound(stage, "/bench/Geometry/ground").GetPath()
    assert _bound(stage, "/bench/Geometry/wall").GetPath() == shared  # the converter shares one material

    scene.apply(sample({"geom:ground/friction": 0.5, "geom:ball/restitution": 0.3, "body:crate/mass": 1.5,
                        "body:ball/mass": 0.2, "world:world/gravity": [0.0, 0.0, -3.0]},
                       {"geom:ground/friction": "scale", "body:crate/mass": "scale"}))
    ground = UsdPhysics.MaterialAPI(_bound(stage, "/bench/Geometry/ground").GetPrim())
    assert ground.GetStaticFrictionAttr().Get() == pytest.approx(0.4)
    assert ground.GetDynamicFrictionAttr().Get() == pytest.approx(0.4)
    wall = UsdPhysics.MaterialAPI(_bound(stage, "/bench/Geometry/wall").GetPrim())
    assert wall.GetPrim().GetPath() == shared and wall.GetStaticFrictionAttr().Get() == pytest.approx(0.8)
    ball_material = UsdPhysics.MaterialAPI(_bound(stage, "/bench/Geometry/ball/ball_geom").GetPrim())
    assert ball_material.GetRestitutionAttr().Get() == pytest.approx(0.3)
    assert ball_material.GetStaticFrictionAttr().Get() == pytest.approx(1.0)  # the converter's default kept
    crate = stage.GetPrimAtPath("/bench/Geometry/crate")
    assert crate.HasAPI(UsdPhysics.MassAPI)
    assert UsdPhysics.MassAPI(crate).GetMassAttr().Get() == pytest.approx(3.0)  # 1.5 x its collider's 2 kg
    assert UsdPhysics.MassAPI(stage.GetPrimAtPath("/bench/Geometry/ball")).GetMassAttr().Get() == pytest.approx(0.2)
    scene_prim = UsdPhysics.Scene(stage.GetPrimAtPath("/PhysicsScene"))
    assert scene_prim.GetGravityMagnitudeAttr().Get() == pytest.approx(3.0)
    assert tuple(scene_prim.GetGravityDirectionAttr().Get()) == pytest.approx((0.0, 0.0, -1.0))

    scene.restore()
    assert _bound(stage, "/bench/Geometry/ground").GetPath() == shared
    assert _schemas(stage) == schemas  # no MassAPI, no binding API left behind
    assert flat(stage) == before


def test_scaling_the_mass_of_a_density_body_is_refused(converted: Path) -> None:
    from sim2real.errors import UnsupportedError

    scene = UsdScene(Usd.Stage.Open(str(converted)))
    with pytest.raises(UnsupportedError, match="'ball' has no authored physics:mass to scale"):
        scene.apply(sample({"body:ball/mass": 2.0}, {"body:ball/mass": "scale"}))
