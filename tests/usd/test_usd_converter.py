"""sim2real.usd on stages we did not make: MuJoCo models converted by mujoco-usd-converter (a pip package),
among them gymnasium's own ant and humanoid. Their materials are instanceable with shader inputs connected
to the Material's interface, their masses come from densities, unnamed bodies are all called ``Body``, and
their step rate is Newton's: every category is randomized there through the Isaac backend, exactly as the
Kit layer drives it, and the stage restores exactly."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from usd_helpers import flat, sample

pytest.importorskip("pxr")
gymnasium = pytest.importorskip("gymnasium")
mujoco = pytest.importorskip("mujoco")
try:
    import mujoco_usd_converter as converter
except ImportError:  # the OpenUSD 24.05 venv (make test-usd24): the converter's usd-exchange cannot live there
    converter = None
# a Python that has mujoco-usd-converter, to convert for a venv that cannot hold it (make test-usd24 sets it)
CONVERTER_PYTHON = os.environ.get("SIM2REAL_CONVERTER_PYTHON")
if converter is None and not CONVERTER_PYTHON:
    pytest.skip("mujoco-usd-converter is not installed (and SIM2REAL_CONVERTER_PYTHON is not set)",
                allow_module_level=True)
from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdPhysics, UsdShade  # noqa: E402

from sim2real.backends.isaac.backend import IsaacBackend, required_targets  # noqa: E402
from sim2real.randomize.profile import load_profile  # noqa: E402
from sim2real.randomize.runtime import Randomizer  # noqa: E402
from sim2real.randomize.targets import attribute, split_key  # noqa: E402
from sim2real.sim.driver import RandomizedSim  # noqa: E402
from sim2real.usd import UsdScene  # noqa: E402
from sim2real.usd.semantics import set_class_labels  # noqa: E402
from sim2real.usd.steprate import step_rate  # noqa: E402
from testlib import REPO  # noqa: E402

GYM_ASSETS = Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets"
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


def _convert(xml: Path, out: Path) -> Path:
    if converter is not None:
        return Path(converter.Converter(layer_structure=False).convert(str(xml), str(out)).path)
    code = ("import sys, mujoco_usd_converter as c\n"
            "print(c.Converter(layer_structure=False).convert(sys.argv[1], sys.argv[2]).path)")
    proc = subprocess.run([CONVERTER_PYTHON, "-c", code, str(xml), str(out)], capture_output=True, text=True,
                          check=True)
    return Path(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("converted")
    (folder / "bench.xml").write_text(MJCF)
    return _convert(folder / "bench.xml", folder / "usd")


@pytest.fixture(scope="module")
def gym_stages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("gymnasium")
    return {name: _convert(GYM_ASSETS / f"{name}.xml", folder / name) for name in ("ant", "humanoid")}


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


def test_a_density_mass_is_scaled_through_the_densities_or_computed_to_add(converted: Path) -> None:
    stage = Usd.Stage.Open(str(converted))
    scene = UsdScene(stage)
    ball, geom = stage.GetPrimAtPath("/bench/Geometry/ball"), stage.GetPrimAtPath("/bench/Geometry/ball/ball_geom")
    scene.apply(sample({"body:ball/mass": 2.0}, {"body:ball/mass": "scale"}))
    assert UsdPhysics.MassAPI(geom).GetDensityAttr().Get() == pytest.approx(2000.0)  # PhysX: 2 x mass and inertia
    assert not UsdPhysics.MassAPI(ball).GetMassAttr().HasAuthoredValue()
    scene.restore()
    scene.apply(sample({"body:ball/mass": 0.1}, {"body:ball/mass": "add"}))
    reference = mujoco.MjModel.from_xml_string(MJCF).body("ball").mass[0]  # MuJoCo: density x volume too
    assert UsdPhysics.MassAPI(ball).GetMassAttr().Get() == pytest.approx(reference + 0.1, rel=1e-6)
    assert any("physics:density x volume" in n for n in scene.ctx.notices.values())


def test_gymnasium_bodies_weigh_what_mujoco_computes_and_shared_names_become_paths(gym_stages: dict[str, Path]) -> None:
    for name, path in gym_stages.items():
        scene = UsdScene(Usd.Stage.Open(str(path)))
        model = mujoco.MjModel.from_xml_path(str(GYM_ASSETS / f"{name}.xml"))
        for body in scene.table.names["body"]:
            prim = scene.ctx.prim("body", body, 0)
            mass = scene.physics._density_mass(prim, f"body:{body}/mass")
            reference = model.body(prim.GetName()).mass[0] if prim.GetName() != "Body" else None
            if reference is not None:
                assert mass == pytest.approx(reference, rel=1e-6), (name, body)
    ant = UsdScene(Usd.Stage.Open(str(gym_stages["ant"])))
    # the converter names the four unnamed ankle bodies "Body": each is named by its path instead
    assert ant.table.renamed["body"] == {f"aux_{i}.Body": f"/ant/Geometry/torso/{leg}/aux_{i}/Body"
                                         for i, leg in enumerate(("front_left_leg", "front_right_leg", "back_leg",
                                                                  "right_back_leg"), 1)}
    assert "Body" not in ant.entities()["body"]
    humanoid = UsdScene(Usd.Stage.Open(str(gym_stages["humanoid"])))
    # a body and its collider share "left_foot": as geoms they are named by their paths; the body keeps its name
    assert {"left_shin.left_foot", "left_foot.left_foot"} <= set(humanoid.table.renamed["geom"])
    assert "left_foot" in humanoid.entities()["body"]


def test_a_centre_of_mass_nobody_authored_is_the_one_physx_and_mujoco_compute(gym_stages: dict[str, Path]) -> None:
    """No body of the converted models authors physics:centerOfMass (PhysX computes it from the colliders):
    ``add`` starts from the mass-weighted collider centroids, which are MuJoCo's own body_ipos."""
    for name, path in gym_stages.items():
        scene = UsdScene(Usd.Stage.Open(str(path)))
        model = mujoco.MjModel.from_xml_path(str(GYM_ASSETS / f"{name}.xml"))
        for body in scene.table.names["body"]:
            prim = scene.ctx.prim("body", body, 0)
            assert not UsdPhysics.MassAPI(prim).GetCenterOfMassAttr().HasAuthoredValue()
            if prim.GetName() != "Body":
                com = scene.physics._collider_com(prim, f"body:{body}/com")
                assert com == pytest.approx(model.body(prim.GetName()).ipos, abs=1e-9), (name, body)
    scene = UsdScene(Usd.Stage.Open(str(gym_stages["humanoid"])))
    torso = scene.ctx.prim("body", "torso", 0)
    scene.apply(sample({"body:torso/com": [0.0, 0.0, 0.01]}, {"body:torso/com": "add"}))
    reference = mujoco.MjModel.from_xml_path(str(GYM_ASSETS / "humanoid.xml")).body("torso").ipos  # three geoms
    assert np.array(UsdPhysics.MassAPI(torso).GetCenterOfMassAttr().Get()) == pytest.approx(
        reference + [0.0, 0.0, 0.01], abs=1e-6)
    assert any("PhysX computes from its colliders" in n for n in scene.ctx.notices.values())
    # the tensor path's default once the simulation runs: the unrandomized one, not the draw just authored
    (default,) = scene.physics.authored_defaults({("body", "torso", "com", 0)}).values()
    assert default == pytest.approx(reference, abs=1e-9)


def test_the_step_rate_says_where_it_came_from(gym_stages: dict[str, Path], tmp_path: Path) -> None:
    rate = step_rate(Usd.Stage.Open(str(gym_stages["ant"])))
    assert rate.dt == pytest.approx(1 / 60) and "physxScene:timeStepsPerSecond unauthored" in rate.source
    assert rate.others == {"newton:timeStepsPerSecond": pytest.approx(0.01)}  # ant.xml's timestep 0.01
    assert "newton:timeStepsPerSecond = 100 Hz, which Isaac Sim's PhysX ignores" in rate.describe()
    stage = Usd.Stage.Open(str(gym_stages["ant"]))
    with Usd.EditContext(stage, stage.GetSessionLayer()):  # (the converted file's layer is shared: left alone)
        stage.GetPrimAtPath("/PhysicsScene").CreateAttribute("physxScene:timeStepsPerSecond",
                                                             Sdf.ValueTypeNames.UInt).Set(100)
    rate = step_rate(stage)
    assert rate.dt == pytest.approx(0.01) and rate.source == "physxScene:timeStepsPerSecond" and not rate.differs()
    backend = IsaacBackend(Usd.Stage.Open(str(gym_stages["ant"])))
    info = backend.describe()
    assert info["physics_step"]["source"].startswith("PhysX default")
    assert "aux_1.Body" in info["renamed"]["body"] and any("newton" in n for n in info["notices"])


# every category: (target, the rest of its [[terms]] table)
TERMS = [
    ("light:key/intensity", {"dist": "uniform", "low": 0.5, "high": 1.5}),
    ("light:*/color", {"dist": "uniform", "low": [0.8, 0.8, 0.8], "high": [1.0, 1.0, 1.0]}),
    ("light:key/temperature", {"dist": "uniform", "low": 4000.0, "high": 7000.0}),
    ("light:dome/exposure", {"dist": "uniform", "low": -1.0, "high": 1.0}),
    ("light:key/direction", {"dist": "constant", "value": [0.2, 0.1, -1.0]}),
    ("light:key/shadows", {"dist": "constant", "value": False}),
    ("material:MatPlane/base_color", {"dist": "uniform", "low": [0.1, 0.1, 0.1], "high": [0.9, 0.9, 0.9]}),
    ("material:MatPlane/roughness", {"dist": "uniform", "low": 0.2, "high": 0.8}),
    ("material:MatPlane/metallic", {"dist": "uniform", "low": 0.0, "high": 0.5}),
    ("material:MatPlane/specular", {"dist": "uniform", "low": 0.2, "high": 0.8}),
    ("material:MatPlane/texture", {"dist": "choice", "folder": "TEXTURES"}),
    ("material:MatPlane/texture_scale", {"dist": "uniform", "low": [2.0, 2.0], "high": [3.0, 3.0]}),
    ("object:torso/position", {"dist": "uniform", "low": [-0.1, -0.1, 0.0], "high": [0.1, 0.1, 0.0]}),
    ("object:torso/orientation", {"dist": "uniform", "low": [0.0, 0.0, -0.5], "high": [0.0, 0.0, 0.5]}),
    ("object:torso/scale", {"dist": "uniform", "low": 0.9, "high": 1.1}),
    ("camera:main/azimuth", {"dist": "uniform", "low": -0.3, "high": 0.3}),
    ("camera:main/distance", {"dist": "uniform", "low": 3.0, "high": 4.0}),
    ("camera:main/fovy", {"dist": "uniform", "low": 40.0, "high": 60.0}),
    ("camera:main/principal_offset", {"dist": "uniform", "low": [-2.0, -2.0], "high": [2.0, 2.0]}),
    ("geom:floor/friction", {"dist": "uniform", "low": 0.5, "high": 1.5}),
    ("geom:aux_1.Body/restitution", {"dist": "uniform", "low": 0.0, "high": 0.3}),
    ("body:torso/mass", {"dist": "uniform", "low": 1.5, "high": 2.0, "op": "scale"}),
    ("body:aux_1.Body/mass", {"dist": "uniform", "low": 0.01, "high": 0.02, "op": "add"}),
    ("body:aux_2.Body/com", {"dist": "uniform", "low": [0.0, 0.0, -0.01], "high": [0.0, 0.0, 0.01], "op": "add"}),
    ("world:gravity", {"dist": "uniform", "low": [0.0, 0.0, -10.0], "high": [0.0, 0.0, -9.0]}),
    ("image:main/noise_std", {"dist": "uniform", "low": 0.01, "high": 0.02, "when": "frame"}),
    ("image:main/brightness", {"dist": "uniform", "low": 0.8, "high": 1.2}),
]
PROFILE = tomli_w.dumps({"version": 1, "name": "gymnasium-ant",
                         "terms": [{"target": target, **spec} for target, spec in TERMS]})


def test_connected_inputs_of_an_instanced_material_are_written_where_they_are_read(gym_stages: dict[str, Path]) -> None:
    """humanoid's "geom" material (every body's look) is an instance; its shader inputs are connected to the
    Material's interface inputs. Those are written, on the instance itself: no copy is needed, the shader's
    own inputs stay untouched, and the defaults are the interface's values, not UsdPreviewSurface's."""
    stage = Usd.Stage.Open(str(gym_stages["humanoid"]))
    scene = UsdScene(stage)
    material = stage.GetPrimAtPath("/humanoid/Materials/geom")
    assert material.IsInstance() and material.GetAttribute("inputs:roughness").Get() == pytest.approx(0.5)
    scene.apply(sample({"material:geom/base_color": [0.2, 0.4, 0.6], "material:geom/roughness": 0.5,
                        "material:geom/metallic": 0.3}, {"material:geom/roughness": "scale"}))
    assert tuple(material.GetAttribute("inputs:diffuseColor").Get()) == pytest.approx((0.2, 0.4, 0.6))
    assert material.GetAttribute("inputs:roughness").Get() == pytest.approx(0.25)  # 0.5 x the interface's 0.5
    assert material.GetAttribute("inputs:metallic").Get() == pytest.approx(0.3)
    assert material.IsInstance() and not scene.ctx.notices  # nothing needed a copy
    shader_path = Sdf.Path("/humanoid/Materials/geom/PreviewSurface")
    assert not any(scene.edits.layer.GetPropertyAtPath(shader_path.AppendProperty(f"inputs:{n}"))
                   for n in ("diffuseColor", "roughness", "metallic"))
    scene.restore()
    assert tuple(material.GetAttribute("inputs:diffuseColor").Get()) == pytest.approx((1.0, 1.0, 1.0), abs=1e-6)


def _scene_over(asset: Path, out: Path) -> Path:
    """What an Isaac Sim user does with a converted robot: a stage of their own over it, with a dome and a
    key light, a camera, and a semantic label on the robot (the converter makes none of these)."""
    stage = Usd.Stage.CreateNew(str(out))
    stage.GetRootLayer().subLayerPaths.append(str(asset))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdLux.DomeLight.Define(stage, "/World/Lights/dome").CreateIntensityAttr(800.0)
    UsdLux.DistantLight.Define(stage, "/World/Lights/key").CreateIntensityAttr(3000.0)
    camera = UsdGeom.Camera.Define(stage, "/World/Cameras/main")
    UsdGeom.Xformable(camera).AddTranslateOp().Set(Gf.Vec3d(3.0, 0.0, 1.0))
    UsdGeom.Xformable(camera).AddRotateXYZOp().Set(Gf.Vec3f(80.0, 0.0, 90.0))
    set_class_labels(stage.GetPrimAtPath("/ant/Geometry/torso"), ["ant"])
    stage.Save()
    return out


def _run(path: Path, profile: Path, seed: int) -> tuple[Usd.Stage, IsaacBackend, RandomizedSim, dict, str]:
    stage = Usd.Stage.Open(str(path))
    backend = IsaacBackend(stage, resolution=(64, 48))
    randomizer = Randomizer(load_profile(profile), seed, backend.entities(), n_envs=backend.n_envs, dt=backend.dt)
    backend.capabilities.require("isaac", required_targets(randomizer))
    sim = RandomizedSim(backend, randomizer, env=None)
    sim.start()
    sim.reset(3)
    backend.apply(randomizer.frame(3))
    return stage, backend, sim, backend.record(), backend.scene.edits.layer.ExportToString()


def test_every_category_randomizes_a_converted_gymnasium_ant(gym_stages: dict[str, Path], tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    path = _scene_over(gym_stages["ant"], tmp_path / "ant_scene.usda")
    profile = tmp_path / "ant.toml"
    profile.write_text(PROFILE.replace("TEXTURES", str(REPO / "data" / "textures")))
    before = flat(Usd.Stage.Open(str(path)))
    with caplog.at_level(logging.WARNING, logger="sim2real"):
        stage, backend, sim, record, edits = _run(path, profile, seed=7)
    categories = {attribute(*split_key(k)[::2]).category for k in record}
    assert categories == {"lighting", "materials", "objects", "camera", "physics", "sensors"}

    material = stage.GetPrimAtPath("/ant/Materials/MatPlane")
    texture = UsdShade.Shader(stage.GetPrimAtPath("/ant/Materials/MatPlane/sim2real_texture"))
    assert Path(texture.GetInput("file").Get().path).name == Path(record["material:MatPlane/texture"]).name
    assert tuple(texture.GetInput("scale").Get())[:3] == pytest.approx(record["material:MatPlane/base_color"])
    shader = stage.GetPrimAtPath("/ant/Materials/MatPlane/PreviewSurface")
    # the renderer reads the Material's interface input the shader input is connected to: that one holds it
    assert backend.scene.edits.layer.GetPropertyAtPath(shader.GetPath().AppendProperty("inputs:roughness")) is None
    assert material.GetAttribute("inputs:roughness").Get() == pytest.approx(record["material:MatPlane/roughness"])
    assert not material.IsInstance()  # the texture network needed its own copy (restored below)
    torso_geom = stage.GetPrimAtPath("/ant/Geometry/torso/torso_geom")
    assert UsdPhysics.MassAPI(torso_geom).GetDensityAttr().Get() == pytest.approx(5.0 * record["body:torso/mass"])
    body = stage.GetPrimAtPath("/ant/Geometry/torso/front_left_leg/aux_1/Body")
    ankle = mujoco.MjModel.from_xml_path(str(GYM_ASSETS / "ant.xml")).body(4).mass[0]  # the first unnamed body
    assert UsdPhysics.MassAPI(body).GetMassAttr().Get() == pytest.approx(ankle + record["body:aux_1.Body/mass"])
    assert UsdGeom.Camera(stage.GetPrimAtPath("/World/Cameras/main")).GetFocalLengthAttr().Get() != pytest.approx(
        UsdGeom.Camera(Usd.Stage.Open(str(path)).GetPrimAtPath("/World/Cameras/main")).GetFocalLengthAttr().Get())
    assert not backend.image_effects("main").neutral
    notices = " ".join(backend.describe()["notices"])
    for said in ("/ant/Materials/MatPlane is instanceable", "their densities are scaled", "density x volume",
                 "newton:timeStepsPerSecond = 100 Hz"):
        assert said in notices
    assert not [r for r in caplog.records if "Tf" in r.getMessage() or "ErrorException" in r.getMessage()]

    assert _run(path, profile, seed=7)[4] == edits  # the same seed, the same edits
    sim.close()
    backend.close()
    assert stage.GetPrimAtPath("/ant/Materials/MatPlane").IsInstance()
    assert flat(stage) == before
