"""Dotted ``key=value`` overrides on ``train`` and ``run`` (sim2real.overrides): typed, nested, checked
against the configuration's schema with one-line errors and "did you mean"."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim2real.errors import ConfigError
from sim2real.pipeline.spec import load_pipeline
from sim2real.train.config import load_config

PIPELINES = Path(__file__).resolve().parents[1] / "config" / "pipelines"


def test_train_overrides_reach_nested_keys_with_types() -> None:
    cfg = load_config(None, {"epochs": 5}, ["model.widths=[8, 16]", "augment.enabled=false", "lr=3e-4",
                                            "method=coral", "epochs=2", "class_map.*=object"])
    assert cfg.model.widths == [8, 16] and cfg.augment.enabled is False and cfg.lr == 3e-4
    assert cfg.method == "coral" and cfg.epochs == 2 and cfg.class_map == {"*": "object"}  # dotted wins


@pytest.mark.parametrize("item, message", [
    ("modle.widths=[8]", "command line: modle: expected a known key (adapt_schedule, "),
    ("model.widht=3", "command line: model.widht: expected a known key (arch, batch_norm, dropout, skips, widths); "
                      "did you mean 'widths'?"),
    ("epochs.x=3", "command line: epochs: expected a table to set x in; epochs is a value"),
    ("epochs", "command line: epochs: expected an override KEY=VALUE"),
    ("epochs=many", "epochs: expected a valid integer"),
])
def test_train_override_mistakes_are_one_line(item: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(None, {}, [item])
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_pipeline_overrides_any_section() -> None:
    spec = load_pipeline(PIPELINES / "demo_quick.toml", ["train.epochs=1", "generate.frames=10",
                                                         "train.deploy=source-only"])
    assert (spec.train.epochs, spec.generate.frames, spec.train.deploy) == (1, 10, "source-only")
    with pytest.raises(ConfigError, match=r"train\.epoch: expected a known key .*did you mean 'epochs'\?"):
        load_pipeline(PIPELINES / "demo_quick.toml", ["train.epoch=1"])


def test_the_cli_takes_overrides_after_the_pipeline(run_cli, tmp_path: Path) -> None:
    r = run_cli("run", str(PIPELINES / "demo_quick.toml"), "generate.framez=3", "--out", str(tmp_path / "run"))
    assert r.returncode == 2 and not (tmp_path / "run").exists()
    assert r.stderr.strip().splitlines() == [
        r.stderr.strip()] and "generate.framez" in r.stderr and "did you mean 'frames'?" in r.stderr
