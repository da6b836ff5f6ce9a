"""``sim2real profile validate | sample | show`` as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from randomize_helpers import PROFILES

from sim2real.randomize.entities import load_entities
from sim2real.randomize.profile import load_profile
from sim2real.randomize.runtime import Randomizer

TABLETOP = str(PROFILES / "tabletop.toml")
ENTITIES = str(PROFILES / "tabletop.entities.json")


def test_sample_json_is_deterministic_and_equals_the_library(run_cli) -> None:
    args = (
        "profile",
        "sample",
        TABLETOP,
        "--n",
        "3",
        "--seed",
        "5",
        "--index",
        "2",
        "--entities",
        ENTITIES,
        "--json",
    )
    a, b = run_cli(*args), run_cli(*args)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    out = json.loads(a.stdout)
    assert out["n_envs"] == 3 and out["event"] == "reset" and len(out["envs"]) == 3
    lib = Randomizer(load_profile(TABLETOP), 5, load_entities(ENTITIES), n_envs=3).reset(2)
    assert out["envs"][1]["light:key/temperature"] == lib.values["light:key/temperature"][1]
    assert out["envs"][2]["object:obj_03/position"] == lib.values["object:obj_03/position"][2].tolist()
    assert out["ops"]["body:obj_00/mass"] == "scale" and out["hash"] == load_profile(TABLETOP).hash
    other = json.loads(run_cli(*args[:6], "6", *args[7:]).stdout)
    assert other["envs"][0] != out["envs"][0]


def test_sample_other_events_and_stand_in_entities(run_cli, tmp_path: Path) -> None:
    frame = json.loads(
        run_cli("profile", "sample", TABLETOP, "--event", "frame", "--index", "4", "--json").stdout
    )
    assert set(frame["envs"][0]) >= {"image:main/blur", "image:main/noise_std"}
    assert frame["entities"] == "scene tabletop (the profile's)"
    no_scene = tmp_path / "no_scene.toml"
    no_scene.write_text('[[terms]]\ntarget = "object:obj_*/scale"\ndist = "uniform"\nlow = 0.5\nhigh = 1.0\n')
    stand_in = json.loads(run_cli("profile", "sample", str(no_scene), "--json").stdout)
    assert "stand-ins" in stand_in["entities"] and list(stand_in["envs"][0]) == ["object:obj_any/scale"]
    step = run_cli("profile", "sample", TABLETOP, "--event", "interval", "--index", "5", "--json")
    assert step.returncode == 0, step.stderr
    assert "light:key/intensity" in json.loads(step.stdout)["envs"][0]
    table = run_cli("profile", "sample", TABLETOP, "--n", "8", env={"COLUMNS": "200"})
    assert (
        table.returncode == 0
        and "light:key/temperature" in table.stdout
        and "2 more environments" in table.stdout
    )
    bad = run_cli("profile", "sample", TABLETOP, "--event", "later")
    assert bad.returncode == 2 and "'startup', 'reset', 'interval', 'frame'" in bad.stderr


def test_show_lists_terms_groups_and_adr(run_cli) -> None:
    out = run_cli("profile", "show", str(PROFILES / "arm2.toml"), env={"COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    for text in (
        "joint_damping",
        "joint:*/damping",
        "truncnormal",
        "random walk",
        "curriculum: scales",
        "ADR",
    ):
        assert text in out.stdout
    js = json.loads(run_cli("profile", "show", TABLETOP, "--json").stdout)
    assert js["name"] == "tabletop" and len(js["terms"]) == len(load_profile(TABLETOP).terms)


def test_bad_profiles_exit_2_with_one_line(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[terms]]\nname = "m"\ntarget = "body:*/mass"\ndist = "uniform"\nlow = -1.0\nhigh = 2.0\n'
        'op = "set"\n'
    )
    proc = run_cli("profile", "validate", str(bad))
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"{bad}: terms[0] 'm'.low: expected values >= 0 for body/mass" in " ".join(
        lines
    )
    missing = run_cli("profile", "sample", str(tmp_path / "none.toml"))
    assert missing.returncode == 2 and "expected an existing TOML file" in missing.stderr
    nomatch = tmp_path / "nomatch.toml"
    nomatch.write_text(
        '[[terms]]\ntarget = "light:lamp/intensity"\ndist = "uniform"\nlow = 0.5\nhigh = 1.0\n'
    )
    proc = run_cli("profile", "validate", str(nomatch), "--entities", ENTITIES)
    assert proc.returncode == 2 and "available: key, fill, rim" in proc.stderr


def test_validate_json_summary(run_cli) -> None:
    out = json.loads(run_cli("profile", "validate", TABLETOP, "--json").stdout)
    assert out["ok"] and out["terms"] == 46 and "image/hue" in out["targets"]
    assert np.all([t.count("/") == 1 for t in out["targets"]])


def _tabletop_copy(tmp_path: Path, name: str, *edits: tuple[str, str]) -> Path:
    """The shipped tabletop profile, edited, in a folder of its own (its texture folder made absolute)."""
    text = Path(TABLETOP).read_text().replace('"../../data/', f'"{PROFILES.parents[1]}/data/')
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text)
    return path


def test_validate_resolves_the_profiles_own_scene_and_says_what_was_meant(run_cli, tmp_path: Path) -> None:
    """#26: a misspelt entity and an unknown scene were accepted (exit 0) unless --scene was given."""
    typo = _tabletop_copy(tmp_path, "typo.toml", ('target = "light:key/intensity"', 'target = "light:kee/intensity"'))
    proc = run_cli("profile", "validate", str(typo))
    assert proc.returncode == 2, proc.stdout
    assert "'key_intensity_flicker'.target" in proc.stderr and "did you mean 'light:key/intensity'?" in proc.stderr
    sample = run_cli("profile", "sample", str(typo))
    assert sample.returncode == 2 and "did you mean 'light:key/intensity'?" in sample.stderr
    nosuch = _tabletop_copy(tmp_path, "nosuch.toml", ('scene = "tabletop"', 'scene = "tabeltop"'))
    proc = run_cli("profile", "validate", str(nosuch))
    assert proc.returncode == 2 and f"{nosuch}: scene: expected a scene file" in proc.stderr
    assert "did you mean 'tabletop'?" in proc.stderr
    ok = json.loads(run_cli("profile", "validate", TABLETOP, "--json").stdout)
    assert ok["entities"] == "scene tabletop (the profile's)"


def test_misspelt_keys_and_names_get_a_suggestion_and_isaaclab_spellings_are_aliases(run_cli, tmp_path: Path) -> None:
    term = '[[terms]]\ntarget = "body:*/mass"\n'
    cases = {"key": ('dist = "uniform"\nlow = 0.5\nhihg = 1.5\n', "did you mean 'high'?"),
             "dist": ('dist = "unifrom"\nlow = 0.5\nhigh = 1.5\n', "did you mean 'uniform'?"),
             "attribute": ('dist = "uniform"\nlow = 0.5\nhigh = 1.5\n', "did you mean 'mass'?")}
    for name, (body, hint) in cases.items():
        path = tmp_path / f"{name}.toml"
        path.write_text((term if name != "attribute" else term.replace("/mass", "/mas")) + body)
        proc = run_cli("profile", "validate", str(path))
        assert proc.returncode == 2 and hint in proc.stderr, (name, proc.stderr)
    ours = tmp_path / "ours.toml"
    ours.write_text(term + 'dist = "loguniform"\nlow = 0.5\nhigh = 1.5\nop = "set"\n'
                    '[[terms]]\nname = "n"\ntarget = "body:*/com"\ndist = "normal"\nmean = 0.0\nstd = 0.01\n')
    theirs = tmp_path / "theirs.toml"
    theirs.write_text(ours.read_text().replace('"loguniform"', '"log_uniform"').replace('"set"', '"abs"')
                      .replace('"normal"', '"gaussian"'))
    a, b = (json.loads(run_cli("profile", "validate", str(p), "--json").stdout) for p in (ours, theirs))
    assert a["ok"] and a["hash"] == b["hash"]  # the same profile, whoever spelt it


def test_sample_takes_the_profiles_when_names_with_a_default_index(run_cli) -> None:
    """`--event interval` (the profile's `when`, not `step`); with no --index the first step that fires."""
    out = run_cli("profile", "sample", TABLETOP, "--event", "interval", "--json")
    assert out.returncode == 0, out.stderr
    js = json.loads(out.stdout)
    period = min(t.every for t in load_profile(TABLETOP).terms if t.when == "interval")
    assert js["index"] == period and js["event"] == "interval"
    assert "light:rim/position" in js["envs"][0]  # rim_wander: the interval term of the tabletop
    assert run_cli("profile", "sample", TABLETOP, "--event", "step").returncode == 2
