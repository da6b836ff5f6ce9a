"""``sim2real profile export --to isaaclab``: the shipped profiles as Isaac Lab event terms whose
function and parameter names are Isaac Lab 2.3.2's (names.json, read from its source), type-checked
with mypy against stubs generated from that table; what cannot map is listed with a reason."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from isaaclab_helpers import PROFILES, export_shipped, mypy
from sim2real.errors import ConfigError
from sim2real.isaaclab import mapping, names
from sim2real.isaaclab.export import Options, export_profile
from sim2real.isaaclab.reader import read_module
from sim2real.randomize.profile import load_profile, parse_profile
from testlib import REPO


def _terms(module: Path) -> dict[str, tuple[str, str, dict]]:
    _, read = read_module(module)
    return {r.term.name: (r.term.func, r.term.mode, r.term.params) for r in read}


def test_every_name_the_mapping_emits_is_in_the_isaaclab_table() -> None:
    table = names.table()
    assert table["isaaclab"]["version"] == "2.3.2" and len(table["isaaclab"]["events_sha256"]) == 64
    for func in mapping.FUNCS.values():
        params = {p.name for p in names.signature(func.name) or []}
        assert params, f"{func.name} is not an Isaac Lab event function"
        assert set(func.fixed) | set(func.neutral) <= params, func.name
        assert ("operation" in params) == func.operation and ("distribution" in params) == func.distribution
        if func.selector != "none":
            assert "asset_cfg" in params, func.name
    for role in mapping.ROLES:
        assert set(role.params) <= {p.name for p in names.signature(role.func) or []}, role
    fields = {p.name for p in names.class_fields("EventTermCfg")}
    assert {"func", "mode", "params", "interval_range_s"} <= fields
    assert {"name", "body_names", "joint_names"} <= {p.name for p in names.class_fields("SceneEntityCfg")}
    # Isaac Lab's spellings of distributions and operations, as its own Literal annotations write them
    mass = {p.name: p.annotation for p in names.signature("randomize_rigid_body_mass") or []}
    assert mass["operation"] == "Literal['add', 'scale', 'abs']"
    assert mass["distribution"] == "Literal['uniform', 'log_uniform', 'gaussian']"


@pytest.mark.parametrize("name", ["tabletop", "arm2"])
def test_exported_names_exist_in_isaaclab_and_the_module_type_checks(name: str, tmp_path: Path) -> None:
    module, summary = export_shipped(name, tmp_path)
    ast.parse(module.read_text())
    _, read = read_module(module)
    assert read and len(read) == len(summary["terms"])
    for item in read:
        sig = names.signature(item.term.func)
        assert sig is not None, item.term.func
        assert set(item.term.params) <= {p.name for p in sig}
        assert {p.name for p in sig if p.required} <= set(item.term.params)
        assert item.module == "isaaclab.envs.mdp"
    proc = mypy([module], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success: no issues found in 2 source files" in proc.stdout


def test_the_type_check_fails_on_a_wrong_name_or_value(tmp_path: Path) -> None:
    module, _ = export_shipped("arm2", tmp_path)
    text = module.read_text()
    bad = {
        "name": text.replace('"damping_distribution_params"', '"damping_params"'),
        "value": text.replace('"operation": "scale"', '"operation": "scaled"', 1),
        "field": text.replace('mode="reset"', 'mode="reset", interval_s=(1.0, 1.0)', 1),
    }
    for kind, source in bad.items():
        path = tmp_path / f"bad_{kind}.py"
        path.write_text(source)
        proc = mypy([path], tmp_path, calls=kind != "field")  # (the reader refuses the unknown field too)
        assert proc.returncode == 1, kind
        expected = {
            "name": 'Unexpected keyword argument "damping_params"',
            "value": "Literal['scaled']",
            "field": 'Unexpected keyword argument "interval_s" for "EventTermCfg"',
        }[kind]
        assert expected in proc.stdout, (kind, proc.stdout)


def test_tabletop_terms_and_what_does_not_map(tmp_path: Path) -> None:
    module, summary = export_shipped("tabletop", tmp_path)
    terms = _terms(module)
    func, mode, params = terms["object_mass"]
    assert (func, mode) == ("randomize_rigid_body_mass", "reset")
    assert params["mass_distribution_params"] == (0.7, 1.4) and params["operation"] == "scale"
    assert params["distribution"] == "log_uniform" and params["recompute_inertia"] is True
    assert params["asset_cfg"].asset == "robot" and params["asset_cfg"].body_names == ("obj_.*",)
    func, _, params = terms["gravity"]
    assert func == "randomize_physics_scene_gravity" and params["operation"] == "abs"
    assert params["gravity_distribution_params"] == ([0.0, 0.0, -9.81], [0.05, 0.05, 0.05])
    assert params["distribution"] == "gaussian"
    # object poses: one reset_root_state_uniform per object (a SceneEntityCfg names one asset)
    func, _, params = terms["object_position_obj_03__object_yaw_obj_03"]
    assert func == "reset_root_state_uniform" and params["asset_cfg"].asset == "obj_03"
    assert params["pose_range"]["x"] == (-0.05, 0.05) and params["pose_range"]["yaw"] == (-3.14159, 3.14159)
    assert params["velocity_range"] == {}
    assert sum(t[0] == "reset_root_state_uniform" for t in terms.values()) == 8
    skipped = {s["term"]: s["reason"] for s in summary["skipped"]}
    for light in ("fill_rim_intensity", "light_position", "rim_on"):
        assert "lighting" in skipped[light]
    assert "camera" in skipped["camera_fovy"] and "image effects" in skipped["blur"]
    assert "textures" in skipped and "object_color" in skipped
    assert "derived" in skipped["table_surface/restitution"]
    assert "op scale" in skipped["table_surface/friction"] and "op set" in skipped["table_surface/friction"]
    assert "uniform" in skipped["object_com"]  # a normal com offset: Isaac Lab's com range is uniform
    assert "DelayedPDActuatorCfg" in skipped["actuator_latency"]
    doc = ast.get_docstring(ast.parse(module.read_text())) or ""
    assert "Not exported (Isaac Lab cannot express them)" in doc and "- rim_on (light:rim/enabled)" in doc


def test_without_entities_an_object_pattern_is_listed_not_guessed(tmp_path: Path) -> None:
    p = load_profile(PROFILES / "tabletop.toml")
    out = export_profile(p, Options(physics_dt=0.002))
    assert not any(t.func == "reset_root_state_uniform" for t in out.terms or [])
    assert any(s.term == "object_position" and "names one" in s.reason for s in out.skipped)


def _profile(*terms: dict) -> object:
    return parse_profile({"terms": list(terms)})


def test_merged_terms_neutral_fills_and_interval_seconds() -> None:
    p = _profile(
        {"name": "jpos", "target": "joint:*/position", "dist": "uniform", "low": -0.1, "high": 0.1},
        {"name": "jvel", "target": "joint:*/velocity", "dist": "uniform", "low": -0.5, "high": 0.5},
        {
            "name": "kick",
            "target": "joint:elbow/position",
            "dist": "uniform",
            "low": 0.9,
            "high": 1.1,
            "op": "scale",
        },
        {
            "name": "force",
            "target": "body:forearm/force",
            "dist": "uniform",
            "low": -3.0,
            "high": 3.0,
            "when": "interval",
            "every": 250,
        },
        {
            "name": "grip",
            "target": "geom:finger*/friction",
            "dist": "uniform",
            "low": 0.8,
            "high": 1.2,
            "op": "set",
            "when": "startup",
        },
        {
            "name": "push",
            "target": "object:cube/velocity",
            "dist": "uniform",
            "low": [-1, 0, 0, 0, 0, 0],
            "high": [1, 0, 0, 0, 0, 0.5],
            "when": "interval",
            "every": 500,
        },
    )
    with pytest.raises(ConfigError, match="--physics-dt"):
        export_profile(p)  # type: ignore[arg-type]
    out = export_profile(p, Options(physics_dt=0.004))  # type: ignore[arg-type]
    by = {t.name: t for t in out.terms or []}
    offset = by["jpos__jvel"]
    assert offset.func == "reset_joints_by_offset" and offset.mode == "reset"
    assert offset.params["position_range"] == (-0.1, 0.1) and offset.params["velocity_range"] == (-0.5, 0.5)
    scale = by["kick"]  # another function (scale), the velocity left at its no-op factor
    assert scale.func == "reset_joints_by_scale" and scale.params["velocity_range"] == (1.0, 1.0)
    assert scale.params["asset_cfg"].joint_names == ("elbow",)
    wrench = by["force"]
    assert wrench.func == "apply_external_force_torque" and wrench.params["torque_range"] == (0.0, 0.0)
    assert wrench.mode == "interval" and wrench.interval_range_s == (1.0, 1.0)  # 250 steps x 4 ms
    material = by["grip"]
    assert material.func == "randomize_rigid_body_material" and material.mode == "startup"
    assert material.params["static_friction_range"] == material.params["dynamic_friction_range"] == (0.8, 1.2)
    assert (
        material.params["make_consistent"] is True and material.params["num_buckets"] == mapping.NUM_BUCKETS
    )
    assert material.params["restitution_range"] == (0.0, 0.0)  # PhysX's default, listed as an approximation
    assert any(a.term == "grip" and "restitution_range" in a.reason for a in out.approximations)
    push = by["push"]
    assert push.func == "push_by_setting_velocity" and push.interval_range_s == (2.0, 2.0)
    assert push.params["velocity_range"]["x"] == (-1.0, 1.0) and push.params["velocity_range"]["yaw"] == (
        0.0,
        0.5,
    )


def test_calibrated_profiles_export_with_the_truncnormal_policy(tmp_path: Path) -> None:
    base = load_profile(PROFILES / "arm2.toml")
    calibrated = base.calibrated(
        {
            "actuator:elbow/kp": (41.0, 38.0, 44.0),
            "joint:shoulder/armature": (0.02, 0.01, 0.03),
            "joint:elbow/damping": (0.3, 0.2, 0.4),
        }
    )
    out = export_profile(calibrated, Options(physics_dt=0.002))
    by = {t.name: t for t in out.terms or []}
    kp = by["calibrated_actuator_elbow_kp"]
    assert kp.func == "randomize_actuator_gains" and kp.params["operation"] == "abs"
    assert (
        kp.params["stiffness_distribution_params"] == (38.0, 44.0) and kp.params["distribution"] == "uniform"
    )
    assert kp.params["asset_cfg"].joint_names == ("elbow",)
    assert any(
        a.term == "calibrated actuator:elbow/kp" and "uniform on its interval" in a.reason
        for a in out.approximations
    )
    assert any(
        s.term == "calibrated joint:elbow/damping" and "passive joint damping" in s.reason
        for s in out.skipped
    )
    # a tied parameter (one draw for both actuators) would become independent draws: listed, not exported
    tied = base.calibrated({"actuator:*/kp": (1.1, 1.05, 1.15)}, ops={"actuator:*/kp": "scale"},
                           shared={"actuator:*/kp"})
    out = export_profile(tied, Options(physics_dt=0.002))
    assert "calibrated_actuator___kp" not in {t.name for t in out.terms or []}
    assert any(s.term == "calibrated actuator:*/kp" and "Isaac Lab draws each independently" in s.reason
               for s in out.skipped)
    gaussian = export_profile(calibrated, Options(physics_dt=0.002, truncnormal="gaussian"))
    kp = {t.name: t for t in gaussian.terms or []}["calibrated_actuator_elbow_kp"]
    assert (
        kp.params["stiffness_distribution_params"] == (41.0, 1.5) and kp.params["distribution"] == "gaussian"
    )


def test_cli_export_writes_the_module_and_refuses_bad_options(tmp_path: Path, run_cli) -> None:
    out = tmp_path / "events.py"
    proc = run_cli(
        "profile", "export", str(PROFILES / "arm2.toml"), "--to", "isaaclab", "-o", str(out), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert set(summary["terms"]) == {
        "joint_armature",
        "joint_frictionloss",
        "actuator_kp",
        "actuator_kv",
        "link_mass",
        "gravity",
    }
    assert summary["terms"]["actuator_kv"]["func"] == "randomize_actuator_gains"
    assert out.exists() and "class EventCfg:" in out.read_text()
    for args, message in (
        (["--to", "mujoco"], "--to: expected isaaclab"),
        (["--truncnormal", "clipped"], "--truncnormal: expected uniform or gaussian"),
    ):
        proc = run_cli("profile", "export", str(PROFILES / "arm2.toml"), "-o", str(tmp_path / "x.py"), *args)
        assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(
    not os.environ.get("SIM2REAL_ISAACLAB_SOURCE"),
    reason="set SIM2REAL_ISAACLAB_SOURCE to an Isaac Lab source tree (or unpacked isaaclab wheel)",
)
def test_the_shipped_table_is_what_isaaclab_source_says() -> None:
    """names.json regenerated from a real Isaac Lab tree is the shipped one (tools/isaaclab/make_names.py)."""
    script = REPO / "tools" / "isaaclab" / "make_names.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--source", os.environ["SIM2REAL_ISAACLAB_SOURCE"], "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["same"] == {"functions": True, "classes": True, "modules": True}


def test_the_documentation_has_every_mapping_row_and_what_does_not_map() -> None:
    doc = (REPO / "exts" / "sim2real" / "docs" / "isaaclab.md").read_text()
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    for role in mapping.ROLES:
        target = "`world:gravity`" if role.kind == "world" else f"`{role.kind}:*/{role.attr}`"
        assert any(
            row.startswith(f"| {target} | {'/'.join(sorted(role.ops))} |")
            and f"`{role.func}`" in row
            and all(f"`{p}`" in row for p in role.params)
            for row in rows
        ), role
    for key in mapping.NOT_EXPRESSIBLE:
        kind, _, attr = key.partition(":")
        assert (
            (f"`{kind}:*/{attr}`" in doc or f"{kind}:*/" in doc and f"`{attr}`" in doc)
            if attr
            else f"`{kind}:" in doc
        ), key
    assert "Isaac Lab 2.3.2" in doc and "v2.3.2" in doc and "Isaac Sim 5.1" in doc
