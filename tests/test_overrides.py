"""Dotted ``key=value`` overrides on ``train``, ``run`` and ``generate`` (sim2real.overrides): typed,
nested, a profile's terms by name, checked against the configuration's schema with one-line errors and
"did you mean"."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim2real.dataset.reader import Dataset
from sim2real.errors import ConfigError
from sim2real.pipeline.spec import load_pipeline
from sim2real.randomize.profile import load_profile
from sim2real.train.config import load_config

CONFIG = Path(__file__).resolve().parents[1] / "config"
PIPELINES = CONFIG / "pipelines"
PLAIN = CONFIG / "profiles" / "tabletop_plain.toml"


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


def test_profile_overrides_reach_terms_by_name_or_index() -> None:
    base = load_profile(PLAIN)
    p = load_profile(PLAIN, ["settle_steps=3", "terms.object_position.high=[0.05, 0.05, 0.0]",
                             "terms.0.low=0.7", "terms.object_position.max_tries=7"])
    terms = {t.id: t for t in p.terms}
    assert p.settle_steps == 3 and terms["object_position"].high == [0.05, 0.05, 0.0]
    assert p.terms[0].low == 0.7 and terms["object_position"].max_tries == 7
    assert terms["object_position"].low == {t.id: t for t in base.terms}["object_position"].low
    assert load_profile(PLAIN).terms == base.terms  # the file's document is not changed by an override


@pytest.mark.parametrize("item, message", [
    ("terms.object_positon.high=1", "command line: terms.object_positon: expected one of the 13 items of terms by "
                                    "name or index (key_intensity, "),
    ("terms.object_positon.high=1", "did you mean 'object_position'?"),
    ("terms.object_position.hihg=1", "command line: terms.object_position.hihg: expected a known key (dist, "),
    ("settle_step=1", "did you mean 'settle_steps'?"),
    ("terms.object_position=1", "command line: terms.object_position: expected a key of one item of terms"),
    ("settle_steps=-1", "settle_steps"),
])
def test_profile_override_mistakes_are_one_line(item: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_profile(PLAIN, [item])
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_generate_takes_profile_overrides_in_every_worker(run_cli, tmp_path: Path) -> None:
    """Two frames in two worker processes and in one: the overrides reach the workers (same bytes) and the
    frames (one object each; recorded in the dataset's profile). ~20 s at load 7: two generate processes,
    the second with two worker processes, the path the overrides must reach."""
    args = ["generate", "-p", "tabletop_plain", "-n", "2", "--resolution", "32x24", "--progress", "none",
            "terms.object_count.low=1", "terms.object_count.high=1"]
    runs = {w: run_cli(*args, "--out", str(tmp_path / w), "--workers", w) for w in ("1", "2")}
    assert all(r.returncode == 0 for r in runs.values()), [r.stderr for r in runs.values()]
    one, two = Dataset(tmp_path / "1"), Dataset(tmp_path / "2")
    for i in range(2):
        assert one[i].rgb.tobytes() == two[i].rgb.tobytes() and one[i].instance.tobytes() == two[i].instance.tobytes()
        assert float(one[i].sample["scene:scene/object_count"]) == 1.0
        assert sum(1 for inst in one[i].instances if inst.visible_pixels) <= 1
    counts = [t for t in one.spec.profile["config"]["terms"] if t["name"] == "object_count"]
    assert (counts[0]["low"], counts[0]["high"]) == (1, 1)
    bad = run_cli(*args[:-2], "--out", str(tmp_path / "bad"), "terms.object_cout.low=1")
    assert bad.returncode == 2 and not (tmp_path / "bad").exists()
    assert len(bad.stderr.strip().splitlines()) == 1 and "did you mean 'object_count'?" in bad.stderr
