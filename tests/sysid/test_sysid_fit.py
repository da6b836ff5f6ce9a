"""Identification end to end on surrogate arm2 logs: estimates, intervals, held-out validation, the
calibrated profile the randomization engine loads, outputs, resuming, and bad input."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from sim2real.errors import InputError, UserError
from sim2real.progress import NullReporter
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
    assert values["actuator:*/latency"] == 4
    # the exact delay (half-width ~1e-14 steps) is a single value, one shared term for both actuators
    latency = load_profile(paths["profile"]).term("calibrated actuator:*/latency")
    assert latency.dist == "constant" and latency.value == 4 and latency.shared
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
    latency = profile.term("calibrated actuator:*/latency")
    est = next(e for e in outcome.estimates if e.key == "actuator:*/latency")
    assert est.shared and est.high - est.low < 1  # noise leaves the delay within a step: one value
    assert latency.dist == "constant" and latency.value == 4 and latency.shared
    r = Randomizer(profile, seed=0, entities=arm2_sim.backend.entities(), dt=arm2_sim.dt)
    samples = [r.reset(e).values for e in range(50)]
    drawn = [s["body:upper_arm/mass"][0] for s in samples]
    assert min(drawn) >= mass.low and max(drawn) <= mass.high and np.std(drawn) > 0
    assert all(s["actuator:shoulder/latency"][0] == s["actuator:elbow/latency"][0] == 4 for s in samples)


class _Crash(NullReporter):
    """Interrupts the fit at its ``at``-th iteration (after the checkpoint of it is written)."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def metric(self, series: str, step: int | float, values: Mapping[str, float], echo: bool = False) -> None:
        if series == "fit" and step >= self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("stage", [1, 2])
def test_fit_resumes_from_its_checkpoint_on_the_same_path(arm2_sim, arm2_noisy_logs, tmp_path: Path, stage: int) -> None:
    whole = identify(FitOptions("arm2", arm2_noisy_logs, ARM2_PARAMS), sim=arm2_sim)
    first, second = whole.result.stage_iterations  # noisy logs: a refit with noise weights
    assert first >= 3 and second >= 2
    at = 2 if stage == 1 else first + 1  # interrupted within the stage
    checkpoint = tmp_path / CHECKPOINT
    with pytest.raises(KeyboardInterrupt):
        identify(FitOptions("arm2", arm2_noisy_logs, ARM2_PARAMS), _Crash(at), checkpoint=checkpoint, sim=arm2_sim)
    saved = json.loads(checkpoint.read_text())
    assert saved["iteration"] == at and saved["stage"] == stage
    assert len(saved["history"]) == at and saved["history"] == whole.result.history[:at]
    resumed = identify(FitOptions("arm2", arm2_noisy_logs, ARM2_PARAMS), checkpoint=checkpoint, sim=arm2_sim)
    # it went on from there (costs of the two stages are in different weights: compare iterations)
    assert resumed.resumed_from == at and resumed.result.iterations > at
    # the vector is the optimiser's whole state: the resumed fit took the uninterrupted one's path
    assert resumed.x.tobytes() == whole.x.tobytes()
    assert resumed.uncertainty.half_width.tobytes() == whole.uncertainty.half_width.tobytes()
    assert resumed.result.history == whole.result.history
    assert resumed.result.stage_iterations == whole.result.stage_iterations
    other = identify(FitOptions("arm2", arm2_noisy_logs, "body:upper_arm/mass", max_iter=2), checkpoint=checkpoint,
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
    # a profile range narrower than the confidence interval would leave out values the data support
    with pytest.raises(UserError, match=r"--safety: expected a factor >= 1 on the confidence half-width \(got 0.5\)"):
        identify(FitOptions("arm2", arm2_clean_logs, ARM2_PARAMS, safety=0.5), sim=arm2_sim)


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
