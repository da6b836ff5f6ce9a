"""apply(): every target the MuJoCo backend declares changes the model field (or model) it should,
relative to the loaded defaults; bad requests give one-line errors; resets leave no drift."""

from __future__ import annotations

import math
from collections.abc import Callable

import mujoco
import numpy as np
import pytest
from testlib import REPO
from mujoco_support import backend_fixture, make_sample
from sim2real.backends.mujoco.backend import MujocoBackend
from sim2real.backends.mujoco.physics import DAMPRATIOS, restitution_curve
from sim2real.backends.mujoco.snapshot import ModelSnapshot
from sim2real.errors import InputError, UnsupportedError, UserError

TEXTURE = str(REPO / "data" / "textures" / "wood.png")


table = backend_fixture("tabletop", (64, 48))
arm = backend_fixture("arm2", (64, 48))


def _id(b: MujocoBackend, obj: mujoco.mjtObj, name: str) -> int:
    return b.scene.id(obj, name)


def _d(b: MujocoBackend, field: str) -> np.ndarray:
    return b.world.defaults[field]


L, M, C, G, B, J, A = (mujoco.mjtObj.mjOBJ_LIGHT, mujoco.mjtObj.mjOBJ_MATERIAL, mujoco.mjtObj.mjOBJ_CAMERA,
                       mujoco.mjtObj.mjOBJ_GEOM, mujoco.mjtObj.mjOBJ_BODY, mujoco.mjtObj.mjOBJ_JOINT,
                       mujoco.mjtObj.mjOBJ_ACTUATOR)


def _slot(b: MujocoBackend, name: str):
    return next(s for s in b.scene.slots if s.name == name)


def _lowest_point(b: MujocoBackend, slot: str) -> float:
    """Lowest z of the slot's active colliding geoms, from MuJoCo's own geom poses."""
    s, st = _slot(b, slot), b.objects.state[slot]
    v = s.variants[st.asset]
    mujoco.mj_forward(b.model, b.data)
    body_rot = b.data.xmat[s.body].reshape(3, 3)
    pts = (v.support_points * st.scale) @ body_rot.T + b.data.xpos[s.body]
    return float((pts[:, 2] - v.support_radii * st.scale).min())


def _warm(colour: np.ndarray) -> bool:
    """A warm light (red > green > blue) at the key light's level (0.75)."""
    return bool(colour[0] > colour[1] > colour[2] and np.isclose(colour.max(), 0.75))


# (scene, key, value, op, check(backend)): one row per (kind, attribute) the backend supports
CASES: list[tuple[str, str, object, str, Callable[[MujocoBackend], bool]]] = [
    ("table", "light:key/intensity", 0.5, "scale",
     lambda b: np.allclose(b.model.light_diffuse[_id(b, L, "key")], 0.5 * _d(b, "light_diffuse")[_id(b, L, "key")])),
    ("table", "light:key/color", [1.0, 0.0, 0.0], "set",
     lambda b: np.allclose(b.model.light_diffuse[_id(b, L, "key")], [0.75, 0, 0])),
    ("table", "light:key/temperature", 2000.0, "set", lambda b: _warm(b.model.light_diffuse[_id(b, L, "key")])),
    ("table", "light:key/position", [0.1, 0.0, -0.2], "add",
     lambda b: np.allclose(b.model.light_pos[_id(b, L, "key")], _d(b, "light_pos")[_id(b, L, "key")] + [0.1, 0, -0.2])),
    ("table", "light:key/direction", [0.0, 0.0, -2.0], "set",
     lambda b: np.allclose(b.model.light_dir[_id(b, L, "key")], [0, 0, -1])),
    ("table", "light:rim/enabled", False, "set", lambda b: b.model.light_active[_id(b, L, "rim")] == 0),
    ("table", "light:fill/shadows", True, "set", lambda b: b.model.light_castshadow[_id(b, L, "fill")] == 1),
    ("table", "material:table_top/base_color", [0.2, 0.4, 0.6], "set",
     lambda b: np.allclose(b.model.mat_rgba[_id(b, M, "table_top"), :3], [0.2, 0.4, 0.6])),
    ("table", "material:table_top/texture", TEXTURE, "set",
     lambda b: not np.array_equal(b.model.tex_data, _d(b, "tex_data"))
     and np.allclose(b.model.mat_rgba[_id(b, M, "table_top"), :3], 1.0)),
    ("table", "material:floor/texture_scale", [2.0, 3.0], "scale",
     lambda b: np.allclose(b.model.mat_texrepeat[_id(b, M, "floor")], _d(b, "mat_texrepeat")[_id(b, M, "floor")] * [2, 3])),
    ("table", "material:obj_01/roughness", 0.25, "set",
     lambda b: np.isclose(b.model.mat_roughness[_id(b, M, "obj_01")], 0.25)
     and np.isclose(b.model.mat_shininess[_id(b, M, "obj_01")], 0.75)),
    ("table", "material:obj_01/metallic", 0.7, "set",
     lambda b: np.isclose(b.model.mat_metallic[_id(b, M, "obj_01")], 0.7)
     and np.isclose(b.model.mat_reflectance[_id(b, M, "obj_01")], 0.7)),
    ("table", "material:obj_01/specular", 0.9, "set", lambda b: np.isclose(b.model.mat_specular[_id(b, M, "obj_01")], 0.9)),
    ("table", "object:obj_01/position", [0.05, 0.1, 0.75], "set",
     lambda b: np.allclose(b.data.qpos[_slot(b, "obj_01").qpos:][:2], [0.05, 0.1]) and
     abs(_lowest_point(b, "obj_01") - 0.75) < 1e-9),
    ("table", "object:obj_02/orientation", [math.pi / 2, 0.0, 0.0], "set",  # the cylinder lies on its side
     lambda b: abs(_lowest_point(b, "obj_02") - 0.75) < 1e-3 and
     abs(b.data.qpos[_slot(b, "obj_02").qpos + 2] - (0.75 + 0.025)) < 1e-3),
    ("table", "object:obj_01/scale", 1.5, "scale",  # the sphere: a primitive, scaled in place
     lambda b: np.isclose(b.model.geom_size[_slot(b, "obj_01").variants["sphere"].geoms[0], 0], 0.06)
     and np.isclose(b.model.body_mass[_slot(b, "obj_01").variants["sphere"].body],
                    b.world.compiled["body_mass"][_slot(b, "obj_01").variants["sphere"].body] * 1.5 ** 3)),
    ("table", "object:obj_00/visible", False, "set",
     lambda b: (b.model.geom_group[_slot(b, "obj_00").variants["cube"].geoms] == 5).all()
     and b.model.body_gravcomp[_slot(b, "obj_00").body] == 1),
    ("table", "object:obj_00/asset", "torus", "set",
     lambda b: b.model.body_mass[_slot(b, "obj_00").variants["cube"].body] == 0
     and b.model.body_mass[_slot(b, "obj_00").variants["torus"].body] > 0
     and (b.model.geom_contype[_slot(b, "obj_00").variants["torus"].geoms[1:]] == 1).all()),
    ("table", "scene:scene/object_count", 3, "set",
     lambda b: [b.objects.is_shown(f"obj_{i:02d}") for i in range(8)] == [True] * 3 + [False] * 5),
    ("table", "camera:main/distance", 1.2, "scale",
     lambda b: np.isclose(np.linalg.norm(b.model.cam_pos[_id(b, C, "main")] - [0, 0, 0.75]), 1.32, atol=1e-4)),
    ("table", "camera:main/azimuth", math.pi / 2, "add",  # from -y to +x of the table
     lambda b: np.allclose(b.model.cam_pos[_id(b, C, "main")], [1.1 * math.cos(math.radians(40)), 0,
                                                                  0.75 + 1.1 * math.sin(math.radians(40))], atol=1e-4)),
    ("table", "camera:main/elevation", math.pi / 2, "set",
     lambda b: np.allclose(b.model.cam_pos[_id(b, C, "main")], [0, 0, 1.85], atol=1e-4)),
    ("table", "camera:main/roll", 0.3, "set",
     lambda b: np.allclose(b.model.cam_pos[_id(b, C, "main")], _d(b, "cam_pos")[_id(b, C, "main")], atol=1e-4)
     and not np.allclose(b.model.cam_quat[_id(b, C, "main")], _d(b, "cam_quat")[_id(b, C, "main")], atol=1e-3)),
    ("table", "camera:main/look_at", [0.2, 0.0, 0.0], "add",
     lambda b: np.allclose(b.model.cam_pos[_id(b, C, "main")], _d(b, "cam_pos")[_id(b, C, "main")] + [0.2, 0, 0],
                           atol=1e-4)),
    ("table", "camera:main/position", [0.0, 0.0, 0.1], "add",
     lambda b: np.allclose(b.model.cam_pos[_id(b, C, "main")], _d(b, "cam_pos")[_id(b, C, "main")] + [0, 0, 0.1],
                           atol=1e-4)),
    ("table", "camera:main/fovy", 60.0, "set", lambda b: np.isclose(b.model.cam_fovy[_id(b, C, "main")], 60)),
    ("table", "camera:main/principal_offset", [4.0, -2.0], "set",
     lambda b: np.allclose(b.model.cam_sensorsize[_id(b, C, "main")], [64, 48])),
    ("table", "geom:obj_00/friction", 0.5, "scale",
     lambda b: np.allclose(b.model.geom_friction[_slot(b, "obj_00").variants["mug"].geoms, 0],
                           0.5 * _d(b, "geom_friction")[_slot(b, "obj_00").variants["mug"].geoms, 0])),
    ("table", "geom:table_top/torsional_friction", 0.02, "set",
     lambda b: np.isclose(b.model.geom_friction[_id(b, G, "table_top"), 1], 0.02)),
    ("table", "geom:table_top/rolling_friction", 2.0, "scale",
     lambda b: np.isclose(b.model.geom_friction[_id(b, G, "table_top"), 2], 0.0002)),
    ("table", "geom:table_top/restitution", 0.4, "set",
     lambda b: np.isclose(np.interp(b.model.geom_solref[_id(b, G, "table_top"), 1], DAMPRATIOS,
                                    restitution_curve(0.002, 0.02, tuple(_d(b, "geom_solimp")[_id(b, G, "table_top")]))),
                          0.4, atol=1e-6)),
    ("table", "body:obj_01/mass", 1.0, "set",
     lambda b: np.isclose(b.model.body_mass[_slot(b, "obj_01").variants["sphere"].body], 1.0)
     and np.isclose(b.model.body_subtreemass[_slot(b, "obj_01").body], 1.0)),
    ("arm", "body:upper_arm/mass", 2.0, "scale",
     lambda b: np.isclose(b.model.body_mass[_id(b, B, "upper_arm")], 2 * _d(b, "body_mass")[_id(b, B, "upper_arm")])
     and np.allclose(b.model.body_inertia[_id(b, B, "upper_arm")], 2 * _d(b, "body_inertia")[_id(b, B, "upper_arm")])
     and np.isclose(b.model.body_subtreemass[_id(b, B, "upper_arm")],
                    b.model.body_mass[_id(b, B, "upper_arm")] + b.model.body_mass[_id(b, B, "forearm")])),
    ("arm", "body:forearm/com", [0.0, 0.0, 0.02], "add",
     lambda b: np.allclose(b.model.body_ipos[_id(b, B, "forearm")], _d(b, "body_ipos")[_id(b, B, "forearm")] + [0, 0, 0.02])),
    ("arm", "world:world/gravity", [0.0, 0.5, -9.0], "set", lambda b: np.allclose(b.model.opt.gravity, [0, 0.5, -9])),
    ("arm", "joint:shoulder/damping", 3.0, "scale", lambda b: np.isclose(b.model.dof_damping[0], 0.15)),
    ("arm", "joint:elbow/armature", 0.05, "set", lambda b: np.isclose(b.model.dof_armature[1], 0.05)),
    ("arm", "joint:elbow/frictionloss", 0.01, "add", lambda b: np.isclose(b.model.dof_frictionloss[1], 0.03)),
    ("arm", "joint:shoulder/stiffness", 2.0, "set", lambda b: np.isclose(b.model.jnt_stiffness[0], 2.0)),
    ("arm", "actuator:shoulder/kp", 2.0, "scale",
     lambda b: np.isclose(b.model.actuator_gainprm[0, 0], 60) and np.isclose(b.model.actuator_biasprm[0, 1], -60)),
    ("arm", "actuator:elbow/kv", 3.0, "set", lambda b: np.isclose(b.model.actuator_biasprm[1, 2], -3.0)),
    ("arm", "actuator:elbow/gear", 2.0, "scale", lambda b: np.isclose(b.model.actuator_gear[1, 0], 2.0)),
    ("arm", "actuator:shoulder/latency", 4, "set", lambda b: b.signals.pipe.latency.tolist() == [4, 0]),
    ("arm", "actuator:elbow/gain_error", 0.5, "set", lambda b: b.signals.pipe.gain.tolist() == [1.0, 0.5]),
    ("arm", "sensor:elbow_pos/noise_std", 0.01, "set", lambda b: b.signals.noise.std["elbow_pos"] == 0.01),
    ("arm", "sensor:elbow_pos/bias", 0.2, "set",
     lambda b: np.isclose(b.state()["sensor:elbow_pos"][0] - b.data.qpos[1], 0.2)),
    # state targets (mjData)
    ("arm", "joint:elbow/position", 0.3, "set", lambda b: b.data.qpos[1] == 0.3 and b.data.qpos[0] == 0.0),
    ("arm", "joint:elbow/velocity", -1.0, "add", lambda b: b.data.qvel[1] == -1.0),
    ("arm", "body:forearm/force", [0.0, 0.0, 2.0], "set",
     lambda b: b.data.xfrc_applied[b.physics.bodies["forearm"]].tolist() == [0, 0, 2, 0, 0, 0]),
    ("arm", "body:forearm/torque", [0.0, 1.0, 0.0], "set",
     lambda b: b.data.xfrc_applied[b.physics.bodies["forearm"]].tolist() == [0, 0, 0, 0, 1, 0]),
    ("table", "object:obj_00/velocity", [0.5, 0.0, 0.0, 0.0, 0.0, 0.0], "add",
     lambda b: b.data.qvel[b.model.jnt_dofadr[b.model.body_jntadr[_slot(b, "obj_00").body]]] == 0.5),
] + [
    ("table", f"image:main/{attr}", value, "set", lambda b, a=attr, v=value: getattr(b.signals.effects["main"], a) == v)
    for attr, value in [("noise_std", 0.01), ("shot_noise", 100.0), ("blur", 1.0), ("brightness", 1.2),
                        ("contrast", 0.9), ("saturation", 1.1), ("hue", -5.0), ("depth_noise_std", 0.002),
                        ("depth_holes", 0.01)]
]


def test_cases_cover_every_declared_target() -> None:
    covered = {(k.split(":")[0], k.rsplit("/", 1)[1]) for _, k, _, _, _ in CASES}
    assert covered == set(MujocoBackend.capabilities.targets)


@pytest.mark.parametrize("scene,key,value,op,check", CASES, ids=[c[1] for c in CASES])
def test_each_target_changes_its_field(request: pytest.FixtureRequest, scene: str, key: str, value: object,
                                       op: str, check: Callable[[MujocoBackend], bool]) -> None:
    b = request.getfixturevalue(scene)
    b.reset()
    assert b.world.defaults.differences(b.model) == []
    b.apply(make_sample({key: value}, {key: op}))
    assert check(b), key
    b.reset()
    assert b.world.defaults.differences(b.model) == [], f"reset after {key} left changes"


def test_values_apply_to_the_defaults_not_the_current_values(arm: MujocoBackend) -> None:
    arm.reset()
    s = make_sample({"joint:shoulder/damping": 2.0, "light:key/intensity": 0.5},
                    {"joint:shoulder/damping": "scale", "light:key/intensity": "scale"})
    arm.apply(s)
    first = ModelSnapshot(arm.model)
    for _ in range(3):
        arm.apply(s)
    assert first.differences(arm.model) == []
    assert np.isclose(arm.model.dof_damping[0], 0.1)


def test_no_drift_after_1000_random_samples_and_resets(table: MujocoBackend) -> None:
    """Every model field after 1,000 random samples (each followed by a reset) equals a freshly
    loaded model's, and a fixed sample lands on exactly the same fields before and after."""
    b = table
    b.reset()
    fixed = make_sample({"light:key/intensity": 1.3, "object:obj_03/scale": 1.2, "geom:obj_02/friction": 0.7,
                         "camera:main/principal_offset": [1.5, -2.0], "material:obj_04/texture": TEXTURE},
                        {"light:key/intensity": "scale", "object:obj_03/scale": "scale", "geom:obj_02/friction": "scale"})
    b.apply(fixed)
    before = ModelSnapshot(b.model)
    rng = np.random.default_rng(2024)
    assets = b.scene.library
    keys = [
        ("light:{}/intensity", ["key", "fill", "rim"], lambda: rng.uniform(0.2, 2), "scale"),
        ("light:{}/color", ["key", "fill"], lambda: rng.uniform(0, 1, 3), "set"),
        ("light:{}/position", ["rim"], lambda: rng.normal(0, 0.2, 3), "add"),
        ("material:{}/base_color", ["obj_00", "obj_05", "table_top"], lambda: rng.uniform(0, 1, 3), "set"),
        ("material:{}/roughness", ["floor", "obj_02"], lambda: rng.uniform(0, 1), "set"),
        ("material:{}/texture", ["obj_01", "floor"], lambda: str(REPO / "data/textures" / rng.choice(
            ["wood.png", "marble.png", "checker.png"])), "set"),
        ("object:{}/asset", ["obj_00", "obj_03", "obj_06"], lambda: str(rng.choice(assets)), "set"),
        ("object:{}/scale", ["obj_03", "obj_04"], lambda: rng.uniform(0.7, 1.4), "scale"),
        ("object:{}/position", ["obj_01", "obj_07"], lambda: rng.uniform(-0.05, 0.05, 3), "add"),
        ("object:{}/orientation", ["obj_02"], lambda: rng.uniform(-3, 3, 3), "add"),
        ("object:{}/visible", ["obj_05"], lambda: bool(rng.integers(2)), "set"),
        ("scene:{}/object_count", ["scene"], lambda: int(rng.integers(0, 9)), "set"),
        ("camera:{}/azimuth", ["main"], lambda: rng.uniform(-0.5, 0.5), "add"),
        ("camera:{}/fovy", ["main", "top"], lambda: rng.uniform(30, 70), "set"),
        ("camera:{}/principal_offset", ["main"], lambda: rng.normal(0, 3, 2), "set"),
        ("geom:{}/friction", ["obj_02", "table_top"], lambda: rng.uniform(0.5, 1.5), "scale"),
        ("geom:{}/restitution", ["table_top"], lambda: rng.uniform(0, 0.6), "set"),
        ("body:{}/mass", ["obj_03", "obj_06"], lambda: rng.uniform(0.5, 2), "scale"),
        ("body:{}/com", ["obj_01"], lambda: rng.normal(0, 0.005, 3), "add"),
        ("world:{}/gravity", ["world"], lambda: rng.normal([0, 0, -9.81], 0.1), "set"),
        ("image:{}/noise_std", ["main"], lambda: rng.uniform(0, 0.05), "set"),
    ]
    for i in range(1000):
        values, ops = {}, {}
        for pattern, names, draw, op in keys:
            if rng.random() < 0.4:
                key = pattern.format(names[rng.integers(len(names))])
                values[key], ops[key] = draw(), op
        b.apply(make_sample(values, ops, index=i))
        if i % 10 == 0:
            b.step(5)
        b.reset()
    fresh = MujocoBackend()
    fresh.load("tabletop", resolution=(64, 48))
    assert ModelSnapshot(fresh.model).differences(b.model) == [], "fields differ from a freshly loaded model"
    assert np.array_equal(b.data.qpos, fresh.data.qpos) and b.data.time == 0.0
    fresh.close()
    b.apply(fixed)
    assert before.differences(b.model) == [], "the same sample gave different fields after 1,000 others"
    b.reset()


def test_object_rests_on_the_table_for_any_orientation(table: MujocoBackend) -> None:
    b = table
    for asset, rpy in [("l_block", [0.3, 1.2, 0.5]), ("torus", [1.5708, 0, 0]), ("cone", [3.1416, 0, 0]),
                       ("mug", [0.0, 1.5708, 2.0])]:
        b.reset()
        b.apply(make_sample({"object:obj_05/asset": asset, "object:obj_05/orientation": rpy,
                             "scene:scene/object_count": 8}))
        assert abs(_lowest_point(b, "obj_05") - 0.75) < 1e-6, asset
        z0 = b.data.xpos[_slot(b, "obj_05").body][2]
        b.step(50)  # neither dropped from a height nor pushed out of the table
        assert abs(b.data.xpos[_slot(b, "obj_05").body][2] - z0) < 0.01, asset
    b.reset()


def test_mesh_scale_rewrites_the_mesh_and_reset_restores_it(table: MujocoBackend) -> None:
    b = table
    b.reset()
    cone = _slot(b, "obj_03").variants["cone"]
    mesh = b.model.geom_dataid[cone.geoms[0]]
    adr, n = b.model.mesh_vertadr[mesh], b.model.mesh_vertnum[mesh]
    verts0 = b.model.mesh_vert[adr:adr + n].copy()
    other = _slot(b, "obj_04").variants["mug"]
    other_mesh = b.model.geom_dataid[other.visual[0]]
    other0 = b.model.mesh_vert[b.model.mesh_vertadr[other_mesh]:][:10].copy()
    b.apply(make_sample({"object:obj_03/scale": 1.5, "light:key/intensity": 0.5},
                        {"object:obj_03/scale": "scale", "light:key/intensity": "scale"}))
    assert np.allclose(b.model.mesh_vert[adr:adr + n], verts0 * 1.5, atol=1e-6)
    assert np.isclose(b.model.body_mass[cone.body], b.world.compiled["body_mass"][cone.body] * 1.5 ** 3)
    assert np.array_equal(b.model.mesh_vert[b.model.mesh_vertadr[other_mesh]:][:10], other0)  # other slots untouched
    assert np.isclose(b.model.light_diffuse[0].max(), 0.375)  # the other values of the sample are applied too
    assert abs(_lowest_point(b, "obj_03") - 0.75) < 1e-6
    b.reset()
    assert b.world.defaults.differences(b.model) == []


def test_heavier_links_sag_in_proportion(arm: MujocoBackend) -> None:
    """The servo holds the arm horizontal; at rest kp·error equals the gravity torque, which is
    proportional to the links' masses (near horizontal, where sin(q) is flat)."""
    errors = {}
    for scale in (1.0, 1.5):
        arm.reset()
        arm.apply(make_sample({"body:upper_arm/mass": scale, "body:forearm/mass": scale},
                              {"body:upper_arm/mass": "scale", "body:forearm/mass": "scale"}))
        arm.set_control([math.pi / 2, 0.0])
        arm.step(2500)
        errors[scale] = arm.state()["qpos"][0] - math.pi / 2
    assert errors[1.0] > 0.02
    assert 1.4 < errors[1.5] / errors[1.0] < 1.6


def test_actuator_gain_halves_the_steady_state_error(arm: MujocoBackend) -> None:
    errors = {}
    for kp in (1.0, 2.0):
        arm.reset()
        arm.apply(make_sample({"actuator:shoulder/kp": kp}, {"actuator:shoulder/kp": "scale"}))
        arm.set_control({"shoulder": 1.0, "elbow": 0.0})
        arm.step(2000)
        errors[kp] = 1.0 - arm.state()["qpos"][0]
    assert 0.45 < errors[2.0] / errors[1.0] < 0.55


def test_latency_delays_the_response_by_that_many_steps(arm: MujocoBackend) -> None:
    def first_move(latency: int) -> int:
        arm.reset()
        arm.apply(make_sample({"actuator:elbow/latency": latency, "world:world/gravity": [0.0, 0.0, 0.0]}))
        arm.set_control({"elbow": 0.5})
        for step in range(1, 30):
            arm.step()
            if abs(arm.data.qvel[1]) > 1e-2:  # (friction loss jitters at the 1e-4 level)
                return step
        return -1

    assert first_move(0) == 1 and first_move(7) == 8


def test_gain_error_scales_what_the_actuator_receives(arm: MujocoBackend) -> None:
    arm.reset()
    arm.apply(make_sample({"actuator:elbow/gain_error": 0.5}))
    arm.set_control([0.4, 0.8])
    state = arm.state()
    assert state["command"].tolist() == [0.4, 0.8] and state["ctrl"].tolist() == [0.4, 0.4]


def test_sensor_noise_is_seeded_by_the_sample(arm: MujocoBackend) -> None:
    def readings(seed: int) -> np.ndarray:
        arm.reset()
        arm.apply(make_sample({"sensor:shoulder_pos/noise_std": 0.05}, seed=seed))
        return np.array([arm.state()["sensor:shoulder_pos"][0] for _ in range(400)])

    a, b, c = readings(1), readings(1), readings(2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert abs(a.std() - 0.05) < 0.008 and abs(a.mean()) < 0.01
    assert arm.state()["sensor:elbow_pos"][0] == arm.data.qpos[1]  # other sensors are clean


def test_restitution_matches_the_measured_bounce(table: MujocoBackend) -> None:
    b = table
    bounce = {}
    for e in (0.2, 0.5):
        b.reset()
        b.apply(make_sample({"scene:scene/object_count": 2, "object:obj_01/position": [0.0, 0.0, 0.2],
                             "geom:obj_01/restitution": e, "geom:table_top/restitution": e},
                            {"object:obj_01/position": "add"}))
        dof = _slot(b, "obj_01").dof + 2
        v_in = v_out = 0.0
        for _ in range(400):
            b.step()
            v = b.data.qvel[dof]
            v_in = min(v_in, v) if v_out == 0 else v_in
            v_out = max(v_out, v) if v_in < 0 else 0.0
        bounce[e] = v_out / -v_in
    assert abs(bounce[0.2] - 0.2) < 0.03 and abs(bounce[0.5] - 0.5) < 0.03
    b.reset()


def test_gravity_sets_the_free_fall(table: MujocoBackend) -> None:
    b = table
    b.reset()
    b.apply(make_sample({"world:world/gravity": [0.0, 0.0, -5.0], "object:obj_01/position": [0.0, 0.0, 0.5]},
                        {"object:obj_01/position": "add"}))
    z0 = b.data.qpos[_slot(b, "obj_01").qpos + 2]
    b.step(100)  # 0.2 s of free fall
    fall = z0 - b.data.qpos[_slot(b, "obj_01").qpos + 2]
    assert abs(fall - 0.5 * 5.0 * 0.2 ** 2) < 0.003
    b.reset()


@pytest.mark.parametrize("key,value,op,error,match", [
    ("light:sun/intensity", 1.0, "scale", UnsupportedError, r"no light named 'sun'.*known: key, fill, rim"),
    ("geom:table_top/static_friction", 1.0, "scale", UnsupportedError, r"cannot apply geom:\*/static_friction"),
    ("light:key/enabled", 0.5, "scale", UnsupportedError, "can only be set"),
    ("object:obj_00/asset", "teapot", "set", UnsupportedError, "expected an asset of the library"),
    ("scene:scene/object_count", 9, "set", UnsupportedError, r"expected 0\.\.8"),
    ("body:obj_01/mass", -1.0, "set", UnsupportedError, "positive mass"),
    ("material:obj_00/texture", "/no/such/image.png", "set", InputError, "no such file"),
    ("camera:main/fovy", 190.0, "set", UnsupportedError, r"\(0, 180\)"),
    ("light:key/direction", [0, 0, 0], "set", UnsupportedError, "non-zero direction"),
    ("image:main/blur", -1.0, "set", UnsupportedError, ">= 0"),
    ("light:key/intensity", 1.0, "multiply", UnsupportedError, "expected an operation"),
])
def test_bad_requests_are_one_line_errors(table: MujocoBackend, key: str, value: object, op: str,
                                          error: type, match: str) -> None:
    table.reset()
    with pytest.raises(error, match=match) as err:
        table.apply(make_sample({key: value}, {key: op}))
    assert "\n" not in str(err.value)
    table.reset()


def test_arm_specific_errors(arm: MujocoBackend) -> None:
    arm.reset()
    with pytest.raises(UnsupportedError, match="no 2D texture"):
        arm.apply(make_sample({"material:upper_arm/texture": TEXTURE}))
    with pytest.raises(UnsupportedError, match="only library objects"):
        arm.apply(make_sample({"object:arm/scale": 1.2}, {"object:arm/scale": "scale"}))
    with pytest.raises(UserError, match="expected 2 values"):
        arm.set_control([1.0])
    with pytest.raises(UserError, match="no actuator named 'wrist'"):
        arm.set_control({"wrist": 1.0})
    arm.reset()


def test_startup_samples_survive_resets(arm: MujocoBackend) -> None:
    arm.reset()
    arm.apply(make_sample({"joint:elbow/damping": 4.0}, {"joint:elbow/damping": "scale"}, event="startup"))
    arm.apply(make_sample({"joint:shoulder/damping": 4.0}, {"joint:shoulder/damping": "scale"}))
    arm.reset()
    assert np.isclose(arm.model.dof_damping[1], 0.2) and np.isclose(arm.model.dof_damping[0], 0.05)
    arm.restore_defaults()
    assert arm.world.defaults.differences(arm.model) == []


def test_light_ambient_and_specular_appliers(table: MujocoBackend) -> None:
    """Ready for ``light:*/ambient|specular`` (the catalogue does not list them yet): they scale with
    the light's intensity like the diffuse colour."""
    b = table
    b.reset()
    key = _id(b, L, "key")
    b.lights.apply("light", "key", "ambient", [0.2, 0.1, 0.0], "set", "light:key/ambient")
    b.lights.apply("light", "key", "specular", 2.0, "scale", "light:key/specular")
    b.lights.apply("light", "key", "intensity", 0.5, "scale", "light:key/intensity")
    b.lights.flush()
    assert np.allclose(b.model.light_ambient[key], [0.1, 0.05, 0.0])
    assert np.allclose(b.model.light_specular[key], _d(b, "light_specular")[key] * 2.0 * 0.5)
    b.reset()
