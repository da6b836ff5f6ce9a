"""The pipeline file: shipped pipelines are valid; mistakes are one line naming the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim2real.errors import ConfigError
from sim2real.pipeline.runner import plan
from sim2real.pipeline.spec import load_pipeline

PIPELINES = Path(__file__).resolve().parents[2] / "config" / "pipelines"

MINIMAL = """
name = "p"
[generate]
frames = 4
[target]
frames = 4
[train]
methods = ["source-only", "dann"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["demo", "demo_quick", "example"])
def test_shipped_pipelines_are_valid(name: str) -> None:
    spec = load_pipeline(PIPELINES / f"{name}.toml")
    stages = [s.name for s in plan(spec)]
    assert stages[0] == "generate" and stages[-1] == "report"
    assert stages.index("train-dann") < stages.index("export") < stages.index("quantize")
    assert spec.train.deploy == ("dann" if name == "example" else "best")  # the example pins one


def test_demo_stages_in_order() -> None:
    stages = [s.name for s in plan(load_pipeline(PIPELINES / "demo.toml"))]
    assert stages == ["generate", "target", "train-source-only", "train-dann", "select", "gap", "sysid", "export",
                      "quantize", "report"]


def test_each_method_gets_the_shared_training_settings(tmp_path: Path) -> None:
    spec = load_pipeline(write(tmp_path, MINIMAL + "epochs = 3\nlr = 0.01\n"))
    cfgs = {m: spec.train.for_method(m) for m in spec.train.methods}
    assert {m: (c.method, c.epochs, c.lr) for m, c in cfgs.items()} == {
        "source-only": ("source-only", 3, 0.01), "dann": ("dann", 3, 0.01)}


@pytest.mark.parametrize("extra, key, expected", [
    ("[gap]\nfeaturs = 'model'\n", "gap", "'featurs' is not one"),
    ("[sysid]\nmodel = 'arm2'\n", "sysid", "either logs = [...]"),
    ("[quantize]\nint8 = true\n", "", "quantize: needs an [export] section"),
    ("[deploy]\ntarget = 'jetson'\n", "deploy.target", "user@host[:port]"),
    ("deploy = 'coral'\n", "train", "'best' or one of methods"),
    ("deploy_by = 'dev'\nvalidators = ['source']\n", "train", "one of the validators ['source']"),
])
def test_mistakes_name_the_file_and_key(tmp_path: Path, extra: str, key: str, expected: str) -> None:
    path = write(tmp_path, MINIMAL + extra)
    with pytest.raises(ConfigError) as exc:
        load_pipeline(path)
    message = str(exc.value)
    assert message.startswith(f"{path}: {key}") and expected in message and "\n" not in message


def test_training_keys_are_checked_as_training_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"p\.toml: train\.epochs: .*greater than or equal to 1"):
        load_pipeline(write(tmp_path, MINIMAL + "epochs = 0\n"))
    with pytest.raises(ConfigError, match="use methods"):
        load_pipeline(write(tmp_path, MINIMAL + "method = 'dann'\n"))


def test_adapting_needs_a_target(tmp_path: Path) -> None:
    text = MINIMAL.replace("[target]\nframes = 4\n", "")
    with pytest.raises(ConfigError, match=r"add a \[target\] section"):
        load_pipeline(write(tmp_path, text))
    spec = load_pipeline(write(tmp_path, text.replace('"source-only", "dann"', '"source-only"')))
    assert [s.name for s in plan(spec)] == ["generate", "train-source-only", "select", "report"]


def test_run_command_reports_a_bad_file_in_one_line(run_cli, tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "[generate.extra]\n")
    r = run_cli("run", str(path), "--out", str(tmp_path / "run"), "--progress", "none")
    assert r.returncode == 2
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "p.toml: generate" in lines[0] and "extra" in lines[0], r.stderr
    assert not (tmp_path / "run").exists()


def _outputs(metric: str, **runs: dict) -> dict:
    return {f"train-{m}": {"metric": metric, **o} for m, o in runs.items()}


def test_the_best_scoring_method_is_deployed_unless_one_is_pinned(tmp_path: Path) -> None:
    """Main deployed the first adapted method whatever the scores; now the criterion decides, and says so."""
    from sim2real.pipeline.select import choose, describe

    outputs = _outputs("miou", **{"source-only": {"target": 0.62, "validators": {"source": 0.9, "snd": 0.3}},
                                  "dann": {"target": 0.55, "validators": {"source": 0.8, "snd": 0.4}}})
    train = load_pipeline(write(tmp_path, MINIMAL + "validators = ['source', 'snd']\n")).train
    choice = choose(train, outputs)  # a labelled target set exists: its mIoU decides
    assert (choice["method"], choice["by"]) == ("source-only", "target")
    assert describe(choice, "miou") == "source-only (best target mIoU: source-only 0.6200, dann 0.5500)"
    by_snd = load_pipeline(write(tmp_path, MINIMAL + "validators = ['source', 'snd']\ndeploy_by = 'snd'\n")).train
    assert choose(by_snd, outputs)["method"] == "dann"
    pinned = load_pipeline(write(tmp_path, MINIMAL + "deploy = 'dann'\n")).train
    assert choose(pinned, outputs) == {"method": "dann", "by": "pinned", "scores": {}}
    rmse = _outputs("rmse", a={"target": 0.3}, b={"target": 0.2})  # lower is better for RMSE
    assert choose(type(train)(methods=["source-only", "dann"], select="last"),
                  {"train-source-only": rmse["train-a"], "train-dann": rmse["train-b"]})["method"] == "dann"
    no_labels = _outputs("miou", **{"source-only": {"target": None}, "dann": {"target": None}})
    assert choose(train, no_labels)["method"] == "dann"  # no criterion: the first adapted method, labelled as such
