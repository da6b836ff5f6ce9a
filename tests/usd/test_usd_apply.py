"""sim2real.usd appliers on real stages: each target kind is written where Isaac Sim reads it, relative
to the authored default, and ``restore`` returns the stage exactly to what was loaded."""

from __future__ import annotations

import math

import numpy as np
import pytest
from testlib import REPO
from usd_helpers import attr, flat, sample, tabletop

pytest.importorskip("pxr")
from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdPhysics, UsdShade  # noqa: E402

from sim2real.errors import UnsupportedError  # noqa: E402
from sim2real.randomize.profile import load_profile  # noqa: E402
from sim2real.randomize.runtime import Randomizer  # noqa: E402
from sim2real.usd import UsdScene  # noqa: E402
from sim2real.usd.materials import ior_to_specular  # noqa: E402

TEXTURE = str(REPO / "data" / "textures" / "wood.png")


def _world(stage: Usd.Stage, path: str) -> np.ndarray:
    return np.array(UsdGeom.Xformable(stage.GetPrimAtPath(path)).ComputeLocalToWorldTransform(0), dtype=float).T


# ---------------------------------------------------------------------------------------------- lights
def test_light_attributes_relative_to_their_defaults() -> None:
    stage = tabletop()
    scene = UsdScene(stage)
    key = "/World/Lights/key"
    i0 = attr(stage, key, "inputs:intensity")
    pos0 = _world(stage, key)[:3, 3]
    scene.apply(sample({"light:key/intensity": 1.5, "light:key/temperature": 3000.0, "light:key/exposure": 0.5,
                        "light:fill/color": [0.5, 0.6, 0.7], "light:key/position": [0.1, 0.0, -0.2],
                        "light:rim/enabled": 0.0, "light:fill/shadows": 1.0, "light:fill/direction": [0, 0, -1]},
                       {"light:key/intensity": "scale", "light:key/exposure": "add", "light:key/position": "add"}))
    assert attr(stage, key, "inputs:intensity") == pytest.approx(1.5 * i0)
    assert attr(stage, key, "inputs:colorTemperature") == pytest.approx(3000.0)
    assert attr(stage, key, "inputs:enableColorTemperature") is True
    assert attr(stage, key, "inputs:exposure") == pytest.approx(0.5)
    assert tuple(attr(stage, "/World/Lights/fill", "inputs:color")) == pytest.approx((0.5, 0.6, 0.7))
    assert _world(stage, key)[:3, 3] == pytest.approx(pos0 + [0.1, 0.0, -0.2])
    assert attr(stage, "/World/Lights/rim", "visibility") == UsdGeom.Tokens.invisible
    assert attr(stage, "/World/Lights/fill", "inputs:shadow:enable") is True
    fill = _world(stage, "/World/Lights/fill")
    assert -fill[:3, 2] == pytest.approx([0.0, 0.0, -1.0], abs=1e-9)  # UsdLux lights shine along -Z
    # a second sample is relative to the defaults again, never to the last value
    scene.apply(sample({"light:key/intensity": 2.0}, {"light:key/intensity": "scale"}))
    assert attr(stage, key, "inputs:intensity") == pytest.approx(2.0 * i0)


# ---------------------------------------------------------------------------------------------- materials
def test_preview_surface_colour_texture_and_scalars() -> None:
    stage = tabletop()
    scene = UsdScene(stage)
    shader = UsdShade.Shader(stage.GetPrimAtPath("/World/Looks/table_top/Shader"))
    scene.apply(sample({"material:table_top/roughness": 0.25, "material:table_top/metallic": 0.8,
                        "material:table_top/specular": 1.0, "material:floor/base_color": [0.1, 0.2, 0.3]}))
    assert shader.GetInput("roughness").Get() == pytest.approx(0.25)
    assert shader.GetInput("metallic").Get() == pytest.approx(0.8)
    assert ior_to_specular(shader.GetInput("ior").Get()) == pytest.approx(1.0, abs=1e-5)
    floor = UsdShade.Shader(stage.GetPrimAtPath("/World/Looks/floor/Shader"))
    assert tuple(floor.GetInput("diffuseColor").Get()) == pytest.approx((0.1, 0.2, 0.3))
    # a texture: a UsdUVTexture network feeds diffuseColor; a base colour then tints the image
    scene.apply(sample({"material:table_top/texture": TEXTURE, "material:table_top/base_color": [1.0, 0.5, 0.25],
                        "material:table_top/texture_scale": [2.0, 3.0]},
                       {"material:table_top/texture_scale": "scale"}))
    source = shader.GetInput("diffuseColor").GetConnectedSources()[0][0].source
    texture = UsdShade.Shader(source.GetPrim())
    assert texture.GetIdAttr().Get() == "UsdUVTexture"
    assert texture.GetInput("file").Get().path == TEXTURE
    assert tuple(texture.GetInput("scale").Get()) == pytest.approx((1.0, 0.5, 0.25, 1.0))
    st = UsdShade.Shader(texture.GetInput("st").GetConnectedSources()[0][0].source.GetPrim())
    assert st.GetIdAttr().Get() == "UsdTransform2d" and tuple(st.GetInput("scale").Get()) == (2.0, 3.0)
    scene.restore()
    assert not shader.GetInput("diffuseColor").HasConnectedSource()
    assert not stage.GetPrimAtPath("/World/Looks/table_top/sim2real_texture").IsValid()


def _mdl_material(path: str, mdl: str) -> tuple[Usd.Stage, UsdShade.Shader]:
    """An MDL material as Kit's CreateMdlMaterialPrim authors it (inputs not authored)."""
    stage = Usd.Stage.CreateInMemory()
    material = UsdShade.Material.Define(stage, path)
    shader = UsdShade.Shader.Define(stage, f"{path}/Shader")
    shader.CreateImplementationSourceAttr(UsdShade.Tokens.sourceAsset)
    shader.SetSourceAsset(Sdf.AssetPath(f"{mdl}.mdl"), "mdl")
    shader.SetSourceAssetSubIdentifier(mdl, "mdl")
    material.CreateSurfaceOutput("mdl").ConnectToSource(shader.ConnectableAPI(), "out")
    return stage, shader


def test_omnipbr_inputs() -> None:
    stage, shader = _mdl_material("/World/Looks/Plastic", "OmniPBR")
    scene = UsdScene(stage)
    assert scene.entities()["material"] == ["Plastic"]
    scene.apply(sample({"material:Plastic/base_color": [0.2, 0.4, 0.6], "material:Plastic/roughness": 0.9,
                        "material:Plastic/metallic": 0.3, "material:Plastic/specular": 0.25,
                        "material:Plastic/texture_scale": [2.0, 2.0]},
                       {"material:Plastic/texture_scale": "scale"}))
    assert tuple(shader.GetInput("diffuse_color_constant").Get()) == pytest.approx((0.2, 0.4, 0.6))
    assert shader.GetInput("reflection_roughness_constant").Get() == pytest.approx(0.9)
    assert shader.GetInput("metallic_constant").Get() == pytest.approx(0.3)
    assert shader.GetInput("specular_level").Get() == pytest.approx(0.25)
    assert tuple(shader.GetInput("texture_scale").Get()) == (2.0, 2.0)
    scene.apply(sample({"material:Plastic/texture": TEXTURE, "material:Plastic/base_color": [0.5, 0.5, 0.5]}))
    assert shader.GetInput("diffuse_texture").Get().path == TEXTURE
    assert tuple(shader.GetInput("diffuse_tint").Get()) == pytest.approx((0.5, 0.5, 0.5))
    # scale is relative to OmniPBR.mdl's defaults when the input is not authored
    scene.restore()
    scene.apply(sample({"material:Plastic/roughness": 0.5}, {"material:Plastic/roughness": "scale"}))
    assert shader.GetInput("reflection_roughness_constant").Get() == pytest.approx(0.25)


def test_other_shaders_are_refused_by_name() -> None:
    stage, _ = _mdl_material("/Glass", "OmniGlass")
    with pytest.raises(UnsupportedError, match="OmniGlass.mdl:OmniGlass is neither UsdPreviewSurface nor OmniPBR"):
        UsdScene(stage).apply(sample({"material:Glass/roughness": 0.5}))


# ---------------------------------------------------------------------------------------------- objects
def test_asset_visibility_count_and_pose_of_slots() -> None:
    stage = tabletop()
    scene = UsdScene(stage)
    slot = "/World/Objects/obj_01"
    scene.apply(sample({"object:obj_01/asset": "mug", "object:obj_01/position": [0.05, -0.02, 0.0],
                        "object:obj_01/orientation": [0.0, 0.0, 0.5], "scene:scene/object_count": 3.0,
                        "object:obj_00/visible": 0.0},
                       {"object:obj_01/position": "add", "object:obj_01/orientation": "add"}))
    prim = stage.GetPrimAtPath(slot)
    assert prim.GetVariantSets().GetVariantSet("asset").GetVariantSelection() == "mug"
    assert prim.GetAttribute("semantics:labels:class").Get() == ["mug"]
    assert prim.GetAttribute("physics:mass").Get() == pytest.approx(0.202967, rel=1e-5)  # the mug's
    m = _world(stage, slot)
    assert m[:2, 3] == pytest.approx([-0.1 + 0.05, 0.12 - 0.02])
    yaw = math.atan2(m[1, 0], m[0, 0])
    assert yaw == pytest.approx(0.5)
    for name in ("obj_03", "obj_07"):  # beyond object_count
        hidden = stage.GetPrimAtPath(f"/World/Objects/{name}")
        assert UsdGeom.Imageable(hidden).ComputeVisibility() == UsdGeom.Tokens.invisible
        assert hidden.GetAttribute("physics:rigidBodyEnabled").Get() is False
        for collider in [p for p in Usd.PrimRange(hidden) if p.HasAPI(UsdPhysics.CollisionAPI)]:
            assert collider.GetAttribute("physics:collisionEnabled").Get() is False
    assert UsdGeom.Imageable(stage.GetPrimAtPath("/World/Objects/obj_00")).ComputeVisibility() == "invisible"
    assert UsdGeom.Imageable(stage.GetPrimAtPath("/World/Objects/obj_02")).ComputeVisibility() == "inherited"
    assert [o["name"] for o in scene.labelled_objects()] == ["obj_01", "obj_02"]


def test_scaled_slot_mass_follows_uniform_density() -> None:
    stage = tabletop()
    scene = UsdScene(stage)
    body = stage.GetPrimAtPath("/World/Objects/obj_00")  # a 10 cm cube of 0.5 kg
    inertia0 = np.array(body.GetAttribute("physics:diagonalInertia").Get(), dtype=float)
    scene.apply(sample({"object:obj_00/scale": 2.0}, {"object:obj_00/scale": "scale"}))
    assert body.GetAttribute("physics:mass").Get() == pytest.approx(0.5 * 8)
    assert np.array(body.GetAttribute("physics:diagonalInertia").Get()) == pytest.approx(inertia0 * 32, rel=1e-5)
    assert tuple(body.GetAttribute("xformOp:scale").Get()) == pytest.approx((2.0, 2.0, 2.0))
    # body:*/mass scales the asset's mass at that scale (as in the MuJoCo backend)
    scene.apply(sample({"object:obj_00/scale": 2.0, "body:obj_00/mass": 0.5},
                       {"object:obj_00/scale": "scale", "body:obj_00/mass": "scale"}))
    assert body.GetAttribute("physics:mass").Get() == pytest.approx(0.5 * 8 * 0.5)


# ---------------------------------------------------------------------------------------------- physics
def test_geom_friction_gets_its_own_physics_material() -> None:
    stage = tabletop()
    scene = UsdScene(stage)
    leg0 = stage.GetPrimAtPath("/World/Room/table_leg_0")
    shared0, _ = UsdShade.MaterialBindingAPI(leg0).ComputeBoundMaterial("physics")
    scene.apply(sample({"geom:table_leg_0/friction": 0.5, "geom:table_leg_0/restitution": 0.4},
                       {"geom:table_leg_0/friction": "scale"}))
    own, _ = UsdShade.MaterialBindingAPI(leg0).ComputeBoundMaterial("physics")
    assert own.GetPath() != shared0.GetPath() and own.GetPath().HasPrefix("/sim2real")
    api = UsdPhysics.MaterialAPI(own.GetPrim())
    assert api.GetStaticFrictionAttr().Get() == pytest.approx(0.5)  # 0.5 x the MJCF's friction 1
    assert api.GetDynamicFrictionAttr().Get() == pytest.approx(0.5)
    assert api.GetRestitutionAttr().Get() == pytest.approx(0.4)
    leg1 = stage.GetPrimAtPath("/World/Room/table_leg_1")  # shared the material: unchanged
    other, _ = UsdShade.MaterialBindingAPI(leg1).ComputeBoundMaterial("physics")
    assert other.GetPath() == shared0.GetPath()
    assert other.GetPrim().GetAttribute("physics:staticFriction").Get() == pytest.approx(1.0)


def test_body_mass_com_and_gravity() -> None:
    stage = tabletop()
    scene = UsdScene(stage)
    scene.apply(sample({"body:obj_05/com": [0.01, 0.0, -0.01], "world:world/gravity": [0.0, 1.0, -9.0]},
                       {"body:obj_05/com": "add"}))
    com0 = np.array(stage.GetPrimAtPath("/World/Objects/obj_05").GetAttribute("physics:centerOfMass").Get())
    scene.restore()
    assert np.array(attr(stage, "/World/Objects/obj_05", "physics:centerOfMass")) == pytest.approx(
        com0 - [0.01, 0.0, -0.01], abs=1e-6)
    scene.apply(sample({"world:world/gravity": [0.0, 1.0, -9.0]}))
    direction = np.array(attr(stage, "/World/PhysicsScene", "physics:gravityDirection"))
    magnitude = attr(stage, "/World/PhysicsScene", "physics:gravityMagnitude")
    assert direction * magnitude == pytest.approx([0.0, 1.0, -9.0], abs=1e-5)


def test_scaling_a_mass_that_is_not_authored_is_refused() -> None:
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.Cube.Define(stage, "/Box")
    UsdPhysics.RigidBodyAPI.Apply(stage.GetPrimAtPath("/Box"))
    with pytest.raises(UnsupportedError, match="'Box' has no physics:mass and no collider to take a mass from"):
        UsdScene(stage).apply(sample({"body:Box/mass": 2.0}, {"body:Box/mass": "scale"}))
    UsdPhysics.CollisionAPI.Apply(stage.GetPrimAtPath("/Box"))  # PhysX's default density: not assumed
    with pytest.raises(UnsupportedError, match="collider /Box of body 'Box' has neither physics:mass nor "
                                               "physics:density"):
        UsdScene(stage).apply(sample({"body:Box/mass": 2.0}, {"body:Box/mass": "add"}))
    scene = UsdScene(stage)
    scene.apply(sample({"body:Box/mass": 2.0}))
    assert attr(stage, "/Box", "physics:mass") == pytest.approx(2.0)


# ---------------------------------------------------------------------------------------------- cameras
def test_camera_orbit_fov_and_principal_point() -> None:
    stage = tabletop()
    scene = UsdScene(stage, resolution=(320, 240))
    main = "/World/Cameras/main"
    before = _world(stage, main)
    scene.apply(sample({"camera:main/azimuth": 0.0, "camera:main/distance": 1.0},
                       {"camera:main/azimuth": "add", "camera:main/distance": "scale"}))
    # defaults reproduce the authored pose (which looks at the declared look-at point to 5 digits)
    assert _world(stage, main) == pytest.approx(before, abs=2e-5)
    scene.apply(sample({"camera:main/azimuth": 0.6, "camera:main/fovy": 30.0,
                        "camera:main/principal_offset": [6.0, -4.0]}, {"camera:main/azimuth": "add"}))
    m = _world(stage, main)
    look_at = np.array([0.0, 0.0, 0.75])
    forward = -m[:3, 2]
    to_target = (look_at - m[:3, 3]) / np.linalg.norm(look_at - m[:3, 3])
    assert forward == pytest.approx(to_target, abs=1e-9)  # still looking at the look-at point
    assert np.linalg.norm(m[:3, 3] - look_at) == pytest.approx(1.1, abs=1e-3)
    cam = UsdGeom.Camera(stage.GetPrimAtPath(main)).GetCamera(Usd.TimeCode.Default())
    proj = np.array(cam.frustum.ComputeProjectionMatrix(), dtype=float)
    axis = np.array([0.0, 0.0, -2.0, 1.0]) @ proj
    u = (axis[0] / axis[3] + 1) * 320 / 2 - 0.5  # pixel centres at integers
    v = (1 - axis[1] / axis[3]) * 240 / 2 - 0.5
    assert (u, v) == pytest.approx((159.5 + 6.0, 119.5 - 4.0), abs=1e-4)
    h_aperture = cam.horizontalAperture
    focal = cam.focalLength
    assert 2 * math.degrees(math.atan(h_aperture * 240 / 320 / 2 / focal)) == pytest.approx(30.0)


# ---------------------------------------------------------------------------------------------- the whole profile
def test_shipped_profile_applies_and_restore_is_exact() -> None:
    stage = tabletop()
    before_root = stage.GetRootLayer().ExportToString()
    before = flat(stage)
    scene = UsdScene(stage)
    profile = load_profile(REPO / "config" / "profiles" / "tabletop.toml")
    r = Randomizer(profile, 7, scene.entities())
    for s in (r.startup(), r.reset(0), r.reset(1)):
        scene.apply(s, keys=[k for k in s.values if not k.startswith("image:")])
    assert flat(stage) != before
    scene.restore()
    assert flat(stage) == before
    assert stage.GetRootLayer().ExportToString() == before_root  # never edited
    scene.close()
    assert stage.GetSessionLayer().subLayerPaths == []


def test_same_seed_same_edits() -> None:
    texts = []
    for _ in range(2):
        stage = tabletop()
        scene = UsdScene(stage)
        r = Randomizer(load_profile(REPO / "config" / "profiles" / "tabletop.toml"), 3, scene.entities())
        s = r.reset(5)
        scene.apply(s, keys=[k for k in s.values if not k.startswith("image:")])
        texts.append(scene.edits.layer.ExportToString().split("\n", 1)[1])  # past the anonymous layer's header
        scene.close()
    assert texts[0] == texts[1]


def test_unsupported_targets_and_unknown_entities_are_one_line_errors() -> None:
    scene = UsdScene(tabletop())
    with pytest.raises(UnsupportedError, match=r"cannot apply joint:\*/damping; they support: .*light/intensity"):
        scene.apply(sample({"joint:elbow/damping": 2.0}))
    with pytest.raises(UnsupportedError, match="no light named 'sun' in the stage; known: key, fill, rim"):
        scene.apply(sample({"light:sun/intensity": 2.0}))


# ---------------------------------------------------------------------------------------------- environments
def test_cloned_environments_get_their_own_values() -> None:
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdPhysics.Scene.Define(stage, "/physicsScene")
    for i in range(3):
        UsdLux.SphereLight.Define(stage, f"/World/envs/env_{i}/lamp").CreateIntensityAttr(100.0)
        box = UsdGeom.Cube.Define(stage, f"/World/envs/env_{i}/box").GetPrim()
        UsdPhysics.RigidBodyAPI.Apply(box)
        UsdPhysics.MassAPI.Apply(box).CreateMassAttr(1.0)
    scene = UsdScene(stage, env_roots=[f"/World/envs/env_{i}" for i in range(3)])
    assert scene.entities()["light"] == ["lamp"] and scene.n_envs == 3
    s = sample({"light:lamp/intensity": [1.0, 2.0, 3.0], "body:box/mass": [1.0, 2.0, 3.0],
                "world:world/gravity": [[0, 0, -1.0], [0, 0, -2.0], [0, 0, -3.0]]},
               {"light:lamp/intensity": "scale", "body:box/mass": "scale"}, n_envs=3)
    for env in range(3):
        scene.apply(s, env)
    for i in range(3):
        assert attr(stage, f"/World/envs/env_{i}/lamp", "inputs:intensity") == pytest.approx(100.0 * (i + 1))
        assert attr(stage, f"/World/envs/env_{i}/box", "physics:mass") == pytest.approx(i + 1.0)
    assert attr(stage, "/physicsScene", "physics:gravityMagnitude") == pytest.approx(1.0)  # global: env 0's
    UsdGeom.SetStageMetersPerUnit(stage, 0.01)  # a centimetre stage: gravity is written in cm/s^2
    scene.apply(s, 0)
    assert attr(stage, "/physicsScene", "physics:gravityMagnitude") == pytest.approx(100.0)
    assert Gf  # (pxr imported for the module)


def test_labels_are_written_alike_without_the_usdsemantics_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenUSD 24.05 (usd-core 24.5) has no UsdSemantics; Isaac Sim 5.1's 24.05 build and 24.08+ have it.
    Both paths author the same layer, and class_labels reads it back without the module."""
    from pxr import Usd

    from sim2real.usd import semantics
    from sim2real.usd.entities import class_labels

    layers = []
    for module in (semantics.UsdSemantics, None):
        monkeypatch.setattr(semantics, "UsdSemantics", module)
        stage = Usd.Stage.CreateInMemory()
        prim = stage.DefinePrim("/World/mug", "Xform")
        semantics.set_class_labels(prim, ["mug"])
        assert class_labels(prim) == ["mug"]
        layers.append(stage.GetRootLayer().ExportToString())
    assert layers[0] == layers[1]
