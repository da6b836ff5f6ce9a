"""Scenes: the tabletop and arm2 scenes expose the entity names the profiles rely on, the object
library fills the slots, meshes are reproducible, broken scenes give one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from testlib import REPO
from mujoco_support import backend_fixture
from sim2real.backends.mujoco.backend import MujocoBackend
from sim2real.backends.mujoco.scene import load as load_scene
from sim2real.errors import InputError, NotInstalledError, UserError
from sim2real.sim import registry
from sim2real.sim.backend import Backend

tabletop = backend_fixture("tabletop", (96, 72))


def test_tabletop_entities_follow_the_profile_contract(tabletop: MujocoBackend) -> None:
    e = tabletop.entities()
    assert e["light"] == ["key", "fill", "rim"]
    assert {"main", "top"} <= set(e["camera"]) and e["image"] == e["camera"]
    slots = [f"obj_{i:02d}" for i in range(8)]
    assert e["object"] == slots
    for kind in ("body", "geom", "material"):
        assert set(slots) <= set(e[kind]), kind
    assert {"table_top", "floor", "table_leg_0", "table_leg_3"} <= set(e["geom"])
    assert {"table_top", "floor"} <= set(e["material"])
    assert e["world"] == ["world"] and e["scene"] == ["scene"]
    # the library's inner parts are not targets of their own
    assert not any("/" in name for names in e.values() for name in names)


def test_library_holds_the_seed_shapes_and_compound_objects(tabletop: MujocoBackend) -> None:
    scene = tabletop.scene
    assert {"cube", "sphere", "cylinder", "cone", "mug", "torus", "l_block"} <= set(scene.library)
    slot = scene.slots[0]
    assert set(slot.variants) == set(scene.library)
    model = tabletop.model
    cone = slot.variants["cone"]
    assert model.geom_type[cone.geoms[0]] == 7 and cone.meshes  # a mesh we generated
    mug = slot.variants["mug"]
    assert len(mug.geoms) > len(mug.visual)  # a visual mesh plus convex collision parts
    # exactly one variant per slot is rendered, collides and has mass
    for s in scene.slots:
        active = [a for a, v in s.variants.items() if model.body_mass[v.body] > 0]
        assert active == [s.default_asset]
        for a, v in s.variants.items():
            if a != s.default_asset:
                assert (model.geom_contype[v.geoms] == 0).all() and (model.geom_group[v.geoms] == 5).all()


def test_default_objects_rest_on_the_table(tabletop: MujocoBackend) -> None:
    b = tabletop
    b.reset()
    before = b.state()["qpos"].copy()
    b.step(250)
    moved = np.abs(b.state()["qpos"] - before).reshape(8, 7)[:, :3]
    assert moved.max() < 2e-3, "objects placed at rest must not fall or jump"


def test_arm2_names_for_sysid_and_control() -> None:
    b = MujocoBackend()
    b.load("arm2", resolution=(64, 48))
    e = b.entities()
    assert e["joint"] == ["shoulder", "elbow"] and e["actuator"] == ["shoulder", "elbow"]
    assert {"shoulder_pos", "elbow_pos", "shoulder_vel", "elbow_vel"} <= set(e["sensor"])
    assert b.control_names() == ["shoulder", "elbow"]
    b.close()


def test_scenes_from_installed_packages() -> None:
    """``pkg:<package>/<path>`` loads a robot model shipped on PyPI (gymnasium's reacher here)."""
    b = MujocoBackend()
    b.load("pkg:gymnasium/envs/mujoco/assets/reacher.xml", resolution=(64, 48))
    assert b.scene.path.name == "reacher.xml" and b.control_names() == ["joint0", "joint1"]
    assert b.physics.default_value("joint", "joint0", "armature") == 1.0
    assert b.physics.default_value("actuator", "joint1", "gear") == 200.0
    b.close()
    with pytest.raises(InputError, match="expected an installed Python package 'no_such_pkg'"):
        MujocoBackend().load("pkg:no_such_pkg/robot.xml")
    with pytest.raises(InputError, match="no such file in package gymnasium"):
        MujocoBackend().load("pkg:gymnasium/nope.xml")


def test_meshes_are_regenerated_identically(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(REPO / "tools/assets/make_meshes.py"), "--out", str(tmp_path)], check=True)
    for made in sorted((tmp_path / "data/scenes/meshes").glob("*.obj")):
        assert made.read_bytes() == (REPO / "data/scenes/meshes" / made.name).read_bytes(), made.name


def test_registry_creates_a_backend_that_follows_the_protocol() -> None:
    b = registry.create("mujoco")
    assert isinstance(b, MujocoBackend) and isinstance(b, Backend)
    assert b.capabilities.supports("light", "intensity")
    assert not b.capabilities.supports("geom", "static_friction")  # one friction coefficient in MuJoCo


def test_missing_scene_is_one_line() -> None:
    with pytest.raises(InputError) as err:
        MujocoBackend().load("no_such_scene")
    assert "no_such_scene" in str(err.value) and "\n" not in str(err.value)


def test_broken_scenes_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "box.xml").write_text(
        '<mujoco><worldbody><body name="box"><geom type="box" size=".1 .1 .1"/></body></worldbody></mujoco>')
    bad_asset = tmp_path / "a.xml"
    bad_asset.write_text('<mujoco><worldbody><body name="s" pos="0 0 1"><freejoint/></body></worldbody>'
                         '<custom><text name="sim2real:library" data="lib"/>'
                         '<text name="sim2real:slot:s" data="sphere"/></custom></mujoco>')
    with pytest.raises(InputError, match=r"sim2real:slot:s: expected an asset among box \(got 'sphere'\)"):
        load_scene(bad_asset, (32, 32))
    no_joint = tmp_path / "b.xml"
    no_joint.write_text('<mujoco><worldbody><body name="s" pos="0 0 1"/></worldbody>'
                        '<custom><text name="sim2real:library" data="lib"/>'
                        '<text name="sim2real:slot:s" data="box"/></custom></mujoco>')
    with pytest.raises(InputError, match="expected a <freejoint/>"):
        load_scene(no_joint, (32, 32))
    broken = tmp_path / "c.xml"
    broken.write_text("<mujoco><worldbody><geom type='box'/></worldbod></mujoco>")
    with pytest.raises(InputError, match="cannot parse MJCF"):
        load_scene(broken, (32, 32))


def test_unloaded_backend_and_bad_options_are_user_errors() -> None:
    b = MujocoBackend()
    with pytest.raises(UserError, match="no scene loaded"):
        b.step()
    with pytest.raises(UserError, match="unknown load options"):
        b.load("tabletop", shadows=False)
    assert issubclass(NotInstalledError, UserError)
