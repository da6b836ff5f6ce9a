"""``sim2real profile import --from isaaclab``: Isaac Lab event configs read statically (no Isaac Lab
import) into profiles that validate, sample and run with the MuJoCo backend; the round trip of the
shipped profiles; one-line errors for what cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from isaaclab_helpers import DATA, PROFILES, export_shipped
from sim2real.errors import ConfigError, InputError
from sim2real.isaaclab.export import Options, export_profile
from sim2real.isaaclab.importer import import_module
from sim2real.isaaclab.names import identifier
from sim2real.randomize.entities import load_entities
from sim2real.randomize.profile import load_profile
from sim2real.randomize.runtime import Randomizer

TASK = DATA / "arm_task_events.py"
FIELDS = ("dist", "low", "high", "mean", "std", "value", "op", "when", "every")


def _fields(term: dict) -> dict:
    return {k: term[k] for k in FIELDS if k in term}


def _expanded(term: dict, entities: dict[str, list[str]]) -> dict[str, dict]:
    """An object term of the original, one per object (as the export expands it), by target."""
    kind, rest = term["target"].split(":", 1)
    pattern, attr = rest.rsplit("/", 1)
    from fnmatch import fnmatchcase

    return {f"{kind}:{e}/{attr}": term for e in entities.get(kind, []) if fnmatchcase(e, pattern)}


@pytest.mark.parametrize("name", ["tabletop", "arm2"])
def test_round_trip_gives_the_same_terms_where_isaaclab_can_express_them(name: str, tmp_path: Path) -> None:
    module, summary = export_shipped(name, tmp_path)
    original = load_profile(PROFILES / f"{name}.toml")
    exported = {s for t in summary["terms"].values() for s in t["from"]}
    back = import_module(module, physics_dt=0.002)
    assert back.profile is not None and not back.skipped
    imported = {t["target"]: t for t in back.profile.to_dict()["terms"]}
    entities = load_entities(PROFILES / "tabletop.entities.json")
    compared = 0
    for term in original.to_dict()["terms"]:
        ident = term.get("name") or term["target"]
        if not any(e == ident or e.startswith(ident + " ") for e in exported):
            continue
        targets = (
            _expanded(term, entities) if term["target"].startswith("object:") else {term["target"]: term}
        )
        for target, want in targets.items():
            got = imported[target if not target.startswith("world:") else "world:gravity"]
            assert _fields(got) == {
                **_fields(want),
                "op": original.term(ident).op_for(original.checked.targets[ident].attribute),
            }, ident
            assert got["name"] == (
                identifier(ident, set())
                if target == term["target"]
                else identifier(f"{ident} {target.split(':')[1].split('/')[0]}", set())
            )
            compared += 1
    # every exported term came back, and nothing else did
    assert compared == len(imported)
    assert compared == {"tabletop": 21, "arm2": 6}[name]


def test_an_isaaclab_task_config_imports_validates_samples_and_runs_with_mujoco(tmp_path: Path) -> None:
    result = import_module(TASK, physics_dt=0.002)
    p = result.profile
    assert p is not None and result.class_name == "EventCfg" and result.terms_read == 6
    terms = {t.id: t for t in p.terms}
    assert "gravity_tilt" not in " ".join(terms)  # removed by the subclass (= None)
    friction = terms["link_material.friction"]  # equal static and dynamic ranges: one friction term
    assert (friction.target, friction.op, friction.when, friction.low, friction.high) == (
        "geom:*_arm/friction",
        "set",
        "startup",
        0.7,
        1.1,
    )
    assert terms["link_material.restitution"].high == 0.2
    assert {terms[f"add_link_mass {b}"].target for b in ("upper_arm", "forearm")} == {
        "body:upper_arm/mass",
        "body:forearm/mass",
    }
    assert terms["add_link_mass forearm"].op == "add" and terms["add_link_mass forearm"].dist == "uniform"
    kv = terms["gains.kv"]
    assert (kv.target, kv.dist, kv.low, kv.high, kv.op) == ("actuator:*/kv", "loguniform", 0.3, 3.0, "scale")
    joints = terms["reset_joints"]  # math.pi / 8; the zero velocity offset is a no-op and gives no term
    assert joints.target == "joint:*/position" and joints.high == pytest.approx(np.pi / 8)
    assert not any(t.target == "joint:*/velocity" for t in p.terms)
    assert terms["shove"].target == "body:forearm/force" and terms["shove"].op == "set"
    push = terms["push_arm"]
    assert push.when == "interval" and push.every == 1000 and push.high == [0.2, 0.0, 0.0, 0.0, 0.0, 0.5]
    assert any(a.term == "push_arm" and "[1.0, 3.0] s" in a.reason for a in result.approximations)
    # the imported randomization runs on the MuJoCo arm (the push needs a free body: arm2's base is fixed)
    from sim2real.backends.mujoco.backend import MujocoBackend

    backend = MujocoBackend()
    backend.load("arm2")
    runnable = p.edited(
        {**p.to_dict(), "terms": [t for t in p.to_dict()["terms"] if t["name"] != "push_arm"]}
    )
    r = Randomizer(runnable, seed=3, entities=backend.entities())
    startup, reset = r.startup(), r.reset(0)
    assert startup is not None and reset is not None
    backend.apply(startup)
    backend.apply(reset)
    qpos = backend.data.qpos.copy()
    assert np.all(np.abs(qpos) <= np.pi / 8) and np.any(qpos != 0)
    np.testing.assert_allclose(
        backend.data.qpos,
        reset.values["joint:shoulder/position"].tolist() + reset.values["joint:elbow/position"].tolist(),
    )
    forearm = backend.physics.bodies["forearm"]
    np.testing.assert_allclose(backend.data.xfrc_applied[forearm, :3], reset.values["body:forearm/force"][0])
    backend.step(50)
    assert not np.allclose(backend.data.qpos, qpos)


def _module(tmp_path: Path, body: str, header: str = "") -> Path:
    path = tmp_path / "events.py"
    path.write_text(
        "import isaaclab.envs.mdp as mdp\nfrom isaaclab.managers import EventTermCfg as EventTerm\n"
        "from isaaclab.managers import SceneEntityCfg\n" + header + "\n\nclass EventCfg:\n" + body
    )
    return path


def test_unknown_functions_fail_in_one_line_or_are_listed(tmp_path: Path) -> None:
    path = _module(
        tmp_path,
        '    mine = EventTerm(func=mdp.my_own_event, mode="reset", params={})\n'
        '    paint = EventTerm(func=mdp.randomize_visual_color, mode="reset", params={})\n'
        '    mass = EventTerm(func=mdp.randomize_rigid_body_mass, mode="reset", params={"asset_cfg": '
        'SceneEntityCfg("robot"), "mass_distribution_params": (0.9, 1.1), "operation": "scale"})\n',
    )
    with pytest.raises(ConfigError) as err:
        import_module(path)
    message = str(err.value)
    assert (
        f"{path}:7: EventCfg.mine" in message
        and "my_own_event is not an event function of Isaac Lab 2.3.2" in message
    )
    assert len(message.splitlines()) == 1
    result = import_module(path, skip_unsupported=True)
    assert [(s.term, s.target) for s in result.skipped] == [
        ("mine", "my_own_event"),
        ("paint", "randomize_visual_color"),
    ]
    assert [t.target for t in result.profile.terms] == ["body:*/mass"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "where", "expected"),
    [
        (
            '    t = EventTerm(func=mdp.reset_joints_by_offset, mode="reset", params={"position_range": LIMITS, '
            '"velocity_range": (0.0, 0.0)})\n',
            "EventCfg.t.params.position_range",
            "expected a literal",
        ),
        (
            '    t = EventTerm(func=mdp.reset_joints_by_offset, mode="reset", params={"position_range": (0.0, 0.1), '
            '"velocity_rng": (0.0, 0.0)})\n',
            "t.params.velocity_rng",
            "the parameters of reset_joints_by_offset",
        ),
        (
            '    t = EventTerm(func=mdp.reset_joints_by_offset, mode="reset", params={"position_range": (0.0, 0.1)})\n',
            "t.params.velocity_range",
            "(got 'missing')",
        ),
        (
            '    t = EventTerm(func=mdp.push_by_setting_velocity, mode="interval", interval_range_s=(1.0, 1.0), '
            'params={"velocity_range": {"x": (0.0, 1.0), "yaww": (0.0, 1.0)}})\n',
            "t.params.velocity_range.yaww",
            "keys among x, y, z, roll, pitch, yaw",
        ),
        (
            '    t = EventTerm(func=mdp.randomize_rigid_body_mass, mode="reset", params={"asset_cfg": SceneEntityCfg('
            '"robot", body_names=["(upper|fore)arm"]), "mass_distribution_params": (1.0, 1.2), "operation": "scale"})\n',
            "asset_cfg",
            "names that are globs too",
        ),
        (
            '    t = EventTerm(func=mdp.push_by_setting_velocity, mode="interval", interval_range_s=(1.0, 1.0), '
            'params={"velocity_range": {"x": (0.0, 1.0)}})\n',
            "t.interval_range_s",
            "--physics-dt",
        ),
    ],
)
def test_bad_modules_are_one_line_errors_naming_the_line_and_key(
    tmp_path: Path, body: str, where: str, expected: str
) -> None:
    path = _module(tmp_path, body, header="LIMITS = (0.0, 1.0)")
    with pytest.raises(ConfigError) as err:
        import_module(path)
    message = str(err.value)
    assert f"{path}:" in message and where in message and expected in message, message
    assert len(message.splitlines()) == 1


def test_not_python_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "events.py"
    path.write_text("class EventCfg(:\n")
    with pytest.raises(InputError, match=r"events.py:1: not valid Python"):
        import_module(path)


def test_cli_import_writes_a_profile_that_the_other_commands_take(tmp_path: Path, run_cli) -> None:
    out = tmp_path / "task.toml"
    proc = run_cli(
        "profile",
        "import",
        str(TASK),
        "--from",
        "isaaclab",
        "-o",
        str(out),
        "--physics-dt",
        "0.002",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["class"] == "EventCfg" and "reset_joints" in summary["terms"]
    proc = run_cli("profile", "validate", str(out), "--backend", "mujoco", "--scene", "arm2")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("profile", "sample", str(out), "--scene", "arm2", "--json", "--n", "3")
    assert proc.returncode == 0, proc.stderr
    envs = json.loads(proc.stdout)["envs"]
    assert len({e["joint:elbow/position"] for e in envs}) == 3
    proc = run_cli("profile", "import", str(TASK), "-o", str(out))  # the interval term needs --physics-dt
    assert (
        proc.returncode == 2 and "--physics-dt" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    )


def test_the_export_names_round_trip_through_the_double_underscore_join() -> None:
    from sim2real.randomize.profile import parse_profile

    p = parse_profile(
        {
            "terms": [
                {
                    "name": "joint offsets",
                    "target": "joint:*/position",
                    "dist": "uniform",
                    "low": -0.1,
                    "high": 0.1,
                },
                {
                    "name": "joint spin",
                    "target": "joint:*/velocity",
                    "dist": "uniform",
                    "low": -1.0,
                    "high": 1.0,
                },
            ]
        }
    )
    out = export_profile(p, Options())
    assert [t.name for t in out.terms or []] == ["joint_offsets__joint_spin"]


def test_root_reset_velocities_and_gaussians_with_a_fixed_component(tmp_path: Path) -> None:
    path = _module(
        tmp_path,
        (
            '    reset_base = EventTerm(func=mdp.reset_root_state_uniform, mode="reset", params={"pose_range": {}, '
            '"velocity_range": {"x": (-0.5, 0.5), "yaw": (0.0, 0.0)}, "asset_cfg": SceneEntityCfg("cube")})\n'
            '    still = EventTerm(func=mdp.reset_root_state_uniform, mode="reset", params={"pose_range": {"x": (0.0, '
            '0.0)}, "velocity_range": {"x": (0.0, 0.0)}})\n'
            '    gravity = EventTerm(func=mdp.randomize_physics_scene_gravity, mode="reset", params={'
            '"gravity_distribution_params": ([0.0, 0.0, 0.0], [0.0, 0.0, 0.4]), "operation": "add", '
            '"distribution": "gaussian"})\n'
        ),
    )
    p = import_module(path).profile
    assert p is not None
    terms = {t.id: t for t in p.terms}
    assert set(terms) == {"reset_base", "gravity"}  # `still` offsets nothing: no term
    assert terms["reset_base"].target == "object:cube/velocity" and terms["reset_base"].high[0] == 0.5
    g = terms["gravity"]
    assert g.dist == "normal" and g.std == [0.0, 0.0, 0.4] and g.op == "add"
    draws = Randomizer(p, 0, {"object": ["cube"]}, n_envs=200).reset(0).values["world:world/gravity"]
    assert np.all(draws[:, :2] == 0.0) and draws[:, 2].std() > 0.2  # a std-0 component stays at its mean
    from sim2real.randomize.profile import parse_profile

    with pytest.raises(ConfigError, match="std"):
        parse_profile(
            {"terms": [{"target": "world:gravity", "dist": "normal", "mean": 0.0, "std": [0, 0, 0]}]}
        )
