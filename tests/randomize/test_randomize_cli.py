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


def test_sample_other_events_and_stand_in_entities(run_cli) -> None:
    frame = json.loads(
        run_cli("profile", "sample", TABLETOP, "--event", "frame", "--index", "4", "--json").stdout
    )
    assert set(frame["envs"][0]) >= {"image:main/blur", "image:main/noise_std"}
    assert "stand-ins" in frame["entities"]
    step = run_cli("profile", "sample", TABLETOP, "--event", "step", "--index", "5", "--json")
    assert step.returncode == 0, step.stderr
    assert "light:key/intensity" in json.loads(step.stdout)["envs"][0]
    table = run_cli("profile", "sample", TABLETOP, "--n", "8", env={"COLUMNS": "200"})
    assert (
        table.returncode == 0
        and "light:key/temperature" in table.stdout
        and "2 more environments" in table.stdout
    )
    bad = run_cli("profile", "sample", TABLETOP, "--event", "later")
    assert bad.returncode == 2 and "--event: expected startup, reset, step or frame" in bad.stderr


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
