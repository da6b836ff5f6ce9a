"""The tabletop scene in USD (data/scenes/tabletop.usda): generated from the MJCF, in step with it."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from testlib import REPO
from usd_helpers import TABLETOP, sample, tabletop

pxr = pytest.importorskip("pxr")
from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdPhysics, UsdShade  # noqa: E402

from sim2real.usd import UsdScene, class_labels  # noqa: E402


def _values(stage: Usd.Stage) -> dict[str, object]:
    """Every authored property value and metadata of every prim (abstract ones too), by path."""
    out: dict[str, object] = {}
    for prim in stage.TraverseAll():
        path = str(prim.GetPath())
        out[path] = (prim.GetTypeName(), tuple(prim.GetAppliedSchemas()),
                     tuple(prim.GetVariantSets().GetNames()))
        for prop in prim.GetAuthoredProperties():
            key = f"{path}.{prop.GetName()}"
            if isinstance(prop, Usd.Attribute):
                out[key] = (prop.Get(), tuple(str(c) for c in prop.GetConnections()))
            else:
                out[key] = tuple(str(t) for t in prop.GetTargets())
    return out


def _close(a: object, b: object) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) == 2 and isinstance(a[1], tuple):
        return _close(a[0], b[0]) and a[1] == b[1]  # (value, connections)
    if a is None or b is None or isinstance(a, str):
        return a == b
    try:
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-5, atol=1e-7))
    except (TypeError, ValueError):
        return a == b


def test_regenerating_gives_the_committed_stage(tmp_path: Path) -> None:
    out = tmp_path / "tabletop.usda"
    subprocess.run([sys.executable, str(REPO / "tools/assets/make_usd_scene.py"), "--out", str(out)], check=True,
                   capture_output=True)
    fresh, committed = Usd.Stage.Open(str(out)), Usd.Stage.Open(str(TABLETOP))
    a, b = _values(fresh), _values(committed)
    assert a.keys() == b.keys(), f"prims/properties differ: {sorted(a.keys() ^ b.keys())[:10]}"
    differ = [k for k in a if not _close(a[k], b[k])]
    assert not differ, f"regenerate data/scenes/tabletop.usda (tools/assets/make_usd_scene.py): {differ[:10]}"


def test_entities_are_those_of_the_mjcf_scene() -> None:
    from sim2real.backends.mujoco.backend import MujocoBackend

    usd = UsdScene(tabletop()).entities()
    backend = MujocoBackend()
    backend.load("tabletop", resolution=(64, 48))
    mj = backend.entities()
    backend.close()
    for kind in ("light", "camera", "object", "body", "geom", "world", "scene", "image"):
        assert usd[kind] == mj[kind], kind
    assert set(mj["material"]) <= set(usd["material"])  # USD also names the legs' shared material


def test_stage_units_lights_cameras_and_physics() -> None:
    stage = tabletop()
    assert UsdGeom.GetStageUpAxis(stage) == "Z" and UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    scene = UsdPhysics.Scene(stage.GetPrimAtPath("/World/PhysicsScene"))
    assert tuple(scene.GetGravityDirectionAttr().Get()) == (0, 0, -1)
    assert scene.GetGravityMagnitudeAttr().Get() == pytest.approx(9.81)
    key = stage.GetPrimAtPath("/World/Lights/key")
    assert key.IsA(UsdLux.SphereLight) and key.HasAPI(UsdLux.ShapingAPI)
    # the key light shines along the MJCF direction (-0.35, 0.4, -1) normalised: USD lights shine along -Z
    m = np.array(UsdGeom.Xformable(key).ComputeLocalToWorldTransform(0), dtype=float).T
    d = -m[:3, 2] / np.linalg.norm(m[:3, 2])
    assert np.allclose(d, np.array([-0.35, 0.4, -1.0]) / np.linalg.norm([-0.35, 0.4, -1.0]), atol=1e-5)
    cam = UsdGeom.Camera(stage.GetPrimAtPath("/World/Cameras/main"))
    vfov = 2 * math.degrees(math.atan(cam.GetVerticalApertureAttr().Get() / 2 / cam.GetFocalLengthAttr().Get()))
    assert vfov == pytest.approx(50.0, abs=1e-3)  # the MJCF's fovy
    top = stage.GetPrimAtPath("/World/Room/table_top")
    material, _ = UsdShade.MaterialBindingAPI(top).ComputeBoundMaterial("physics")
    assert material.GetPrim().GetAttribute("physics:staticFriction").Get() == pytest.approx(0.6)


def test_slots_hold_every_library_asset_with_its_label_mass_and_colour() -> None:
    stage = tabletop()
    slot = stage.GetPrimAtPath("/World/Objects/obj_04")
    vset = slot.GetVariantSets().GetVariantSet("asset")
    assert vset.GetVariantNames() == ["cone", "cube", "cylinder", "l_block", "mug", "sphere", "torus"]
    assert vset.GetVariantSelection() == "mug" and class_labels(slot) == ["mug"]
    masses, colours = {}, {}
    shader = stage.GetPrimAtPath("/World/Objects/obj_04/Looks/obj_04/Shader")
    for asset in vset.GetVariantNames():
        with Usd.EditContext(stage, stage.GetSessionLayer()):  # never edit the shared root layer
            vset.SetVariantSelection(asset)
        assert class_labels(slot) == [asset]
        colours[asset] = tuple(shader.GetAttribute("inputs:diffuseColor").Get())
        assert stage.GetPrimAtPath(f"/World/Objects/obj_04/{asset}").IsValid()
        masses[asset] = slot.GetAttribute("physics:mass").Get()
    assert masses["cube"] == pytest.approx(0.1 ** 3 * 500)  # 10 cm cube of density 500 (cube.xml)
    assert len(set(masses.values())) == len(masses)
    assert colours["cube"] == pytest.approx((0.85, 0.12, 0.1))  # cube.xml's red
    assert len(set(colours.values())) > 1
    assert not any(p.GetPath().HasPrefix(Sdf.Path("/Library")) for p in stage.Traverse())  # abstract


def test_any_asset_rests_on_the_table_at_any_orientation() -> None:
    """The slot applier lifts the active asset so its lowest support point touches the rest point."""
    stage = tabletop()
    scene = UsdScene(stage)
    rng = np.random.default_rng(0)
    for asset in ("cube", "mug", "torus", "l_block"):
        rpy = rng.uniform(-np.pi, np.pi, 3)
        scene.apply(sample({"object:obj_02/asset": asset, "object:obj_02/orientation": rpy,
                            "object:obj_02/scale": 1.3}, {"object:obj_02/orientation": "set"}))
        slot = stage.GetPrimAtPath("/World/Objects/obj_02")
        body = stage.GetPrimAtPath(f"/World/Objects/obj_02/{asset}")
        points = np.array(body.GetAttribute("sim2real:supportPoints").Get(), dtype=float)
        radii = np.array(body.GetAttribute("sim2real:supportRadii").Get(), dtype=float)
        m = np.array(UsdGeom.Xformable(slot).ComputeLocalToWorldTransform(0), dtype=float).T
        world = points @ m[:3, :3].T + m[:3, 3]
        assert (world[:, 2] - radii * 1.3).min() == pytest.approx(0.75, abs=1e-6), asset
        assert m[:2, 3] == pytest.approx([0.1, 0.12])
    assert Gf  # (pxr imported for the module)
