"""Identification end to end on surrogate arm2 logs: estimates, intervals, held-out validation, the
calibrated profile the randomization engine loads, outputs, resuming, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sim2real.errors import InputError
from sim2real.randomize.profile import load_profile
from sim2real.randomize.runtime import Randomizer
from sim2real.sysid.fit import CHECKPOINT, FitOptions, identify, write_outputs
from sim2real.sysid.logs import read_log, write_log
from sysid_fixtures import arm2_clean_logs_fixture, arm2_noisy_logs_fixture, arm2_sim_fixture  # noqa: F401 (fixtures by name)
from sysid_helpers import ARM2_PARAMS, ARM2_TRUTH

REPO = Path(__file__).resolve().parents[2]


def _truth(outcome) -> np.ndarray:
    return np.array([ARM2_TRUTH[p.keys[0]] for p in outcome.params])


def test_noise_free_logs_give_the_hidden_values(arm2_sim, arm2_clean_logs, tmp_path: Path) -> None:
    outcome = identify(FitOptions("arm2", arm2_clean_logs, ARM2_PARAMS), sim=arm2_sim)
    np.testing.assert_allclose(outcome.x, _truth(outcome), rtol=1e-6)
    assert outcome.result.success and outcome.summary["rmse_ratio_max"] < 1e-4
    paths = write_outputs(outcome, tmp_path, "sysid-test")
    assert {p.name for p in tmp_path.iterdir()} >= {"result.json", "calibrated.toml", "nominal.toml", "report.html",
                                                    "report.json", "run.json"}
    nominal = load_profile(paths["nominal"])
    values = {t.target: t.value for t in nominal.terms}
    assert values["actuator:shoulder/latency"] == 4 and values["actuator:elbow/latency"] == 4
    mass0 = arm2_sim.default("body:upper_arm/mass")
    assert values["body:upper_arm/mass"] == pytest.approx(1.15 * mass0, rel=1e-6)  # absolute kg, op set
    report = json.loads(paths["report_json"].read_text())
    assert [s["id"] for s in report["sections"]] == ["summary", "parameters", "validation", "residuals", "convergence"]
    assert "<img" in paths["report"].read_text()  # the validation plots are inlined


def test_noisy_logs_within_five_percent_and_a_profile_the_engine_samples(arm2_sim, arm2_noisy_logs, tmp_path: Path) -> None:
    base = REPO / "config" / "profiles" / "arm2.toml"
    outcome = identify(FitOptions("arm2", arm2_noisy_logs, ARM2_PARAMS, profile=base, safety=3.0), sim=arm2_sim)
    truth = _truth(outcome)
    assert np.all(np.abs(outcome.x - truth) / truth < 0.05)
    assert np.all(np.abs(outcome.x - truth) < 3.0 * outcome.uncertainty.half_width)  # the profile's range holds it
    assert outcome.summary["rmse_ratio_mean"] <= 0.2
    noise = dict(zip(outcome.channels, outcome.uncertainty.noise_std, strict=True))
    assert noise["shoulder_pos"] == pytest.approx(0.001, rel=0.3)
    paths = write_outputs(outcome, tmp_path, "sysid-test")
    profile = load_profile(paths["profile"])
    base_profile = load_profile(base)
    assert [t.id for t in profile.terms[: len(base_profile.terms)]] == [t.id for t in base_profile.terms]
    mass = profile.term("calibrated body:upper_arm/mass")
    est = next(e for e in outcome.estimates if e.key == "body:upper_arm/mass")
    assert mass.dist == "truncnormal" and mass.mean == pytest.approx(est.value) and mass.low < est.value < mass.high
    latency = profile.term("calibrated actuator:shoulder/latency")
    assert latency.dist in ("uniform", "constant")
    r = Randomizer(profile, seed=0, entities=arm2_sim.backend.entities(), dt=arm2_sim.dt)
    drawn = [r.reset(e).values["body:upper_arm/mass"][0] for e in range(50)]
    assert min(drawn) >= mass.low and max(drawn) <= mass.high and np.std(drawn) > 0


def test_fit_resumes_from_its_checkpoint(arm2_sim, arm2_clean_logs, tmp_path: Path) -> None:
    checkpoint = tmp_path / CHECKPOINT
    short = identify(FitOptions("arm2", arm2_clean_logs, ARM2_PARAMS, max_iter=2), checkpoint=checkpoint, sim=arm2_sim)
    saved = json.loads(checkpoint.read_text())
    assert saved["iteration"] >= 1 and len(saved["x"]) == len(short.result.x) and short.resumed_from is None
    resumed = identify(FitOptions("arm2", arm2_clean_logs, ARM2_PARAMS, max_iter=2), checkpoint=checkpoint, sim=arm2_sim)
    assert resumed.resumed_from == saved["iteration"]
    assert resumed.result.cost <= saved["cost"]  # it went on from there
    other = identify(FitOptions("arm2", arm2_clean_logs, "body:upper_arm/mass", max_iter=2), checkpoint=checkpoint,
                     sim=arm2_sim)
    assert other.resumed_from is None  # another problem's checkpoint is not used


def test_bad_inputs_are_one_line(arm2_sim, arm2_clean_logs, tmp_path: Path) -> None:
    log = read_log(arm2_clean_logs[0])
    short = tmp_path / "short.csv"
    m, c = log.measurements, log.commands
    from sim2real.sysid.logs import make_log

    write_log(make_log(m.stamp_ns[:40], c.values[:40], c.channels, c.units, m.values[:40], m.channels, m.units), short)
    with pytest.raises(InputError, match=r"30 fitted measurement rows for 3 parameters; expected at least 20 per "
                                         r"parameter \(60\): record longer logs"):
        identify(FitOptions("arm2", [short], ARM2_PARAMS), sim=arm2_sim)
    with pytest.raises(InputError, match=r"arm2_clean_0.csv: no channel .nope. \(available: shoulder_pos, "):
        identify(FitOptions("arm2", arm2_clean_logs, ARM2_PARAMS, channels=["nope"]), sim=arm2_sim)
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(arm2_clean_logs[0].read_text().replace("cmd.elbow", "cmd.wrist", 1))
    with pytest.raises(InputError, match=r"expected commands cmd.<actuator> for shoulder, elbow \(missing: elbow; "
                                         r"unknown: wrist\)"):
        identify(FitOptions("arm2", [renamed], ARM2_PARAMS), sim=arm2_sim)


def test_the_api_verb_identifies_into_a_folder_and_resumes(arm2_clean_logs, tmp_path: Path) -> None:
    """``sim2real.api.identify`` (its own simulator): the hidden values, every output file, the run id
    recorded; a second call into the same folder starts from the checkpoint."""
    from sim2real import api

    out = tmp_path / "fit"
    outcome = api.identify("arm2", arm2_clean_logs, ARM2_PARAMS, out=out)
    np.testing.assert_allclose(outcome.x, _truth(outcome), rtol=1e-6)
    assert {"result.json", "calibrated.toml", "report.html", "run.json", CHECKPOINT} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "run.json").read_text())["kind"] == "sysid"
    again = api.identify("arm2", arm2_clean_logs, ARM2_PARAMS, out=out)
    assert again.resumed_from is not None
    np.testing.assert_allclose(again.x, outcome.x, rtol=1e-9)
