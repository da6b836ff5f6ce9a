"""What the omni.ui window shows and parses (sim2real.app.texts): the lines of its view-models and the
comma-separated and combo fields, decided in the core so the Kit files only put strings into widgets."""

from __future__ import annotations

from types import SimpleNamespace

from sim2real.app import texts
from sim2real.app.series import Series


def test_list_fields_round_trip() -> None:
    assert texts.split_list(" a.jsonl, ,b.jsonl ,") == ["a.jsonl", "b.jsonl"]
    assert texts.split_list("") == []
    assert texts.join_list(["a", "b"]) == "a, b" and texts.join_list(None) == ""
    assert texts.split_list(texts.join_list(["x y", "z"])) == ["x y", "z"]


def test_combo_fields_offer_the_commands_default_first() -> None:
    assert texts.combo_options(("native", "basic")) == ["", "native", "basic"]
    assert texts.combo_index("basic", ("native", "basic")) == 2
    assert texts.combo_index(None, ("native", "basic")) == 0 and texts.combo_index("gone", ("a",)) == 0


def test_status_lines() -> None:
    assert texts.preview_status(SimpleNamespace(seed=3, episode=-1, record=None)) == "seed 3: not applied yet"
    assert texts.preview_status(SimpleNamespace(seed=3, episode=2, record={"a": 1, "b": 2})) == \
        "seed 3, draw 2: 2 values applied to the stage"
    assert texts.job_status_line(None) == "not started"
    job = SimpleNamespace(ident=4, state="running", log_tail=[f"line {i}" for i in range(20)],
                          progress=lambda: {"task": "generate", "done": 40, "total": None, "unit": "frame"})
    assert texts.job_status_line(job) == "job 4 running generate: 40/? frame"
    assert texts.log_tail(job, 2) == "line 18\nline 19" and texts.log_tail(None) == ""


def test_gap_and_bench_summaries() -> None:
    assert texts.gap_summary(None) == ""
    assert texts.gap_summary({"kid": 0.01234, "kid_std": 0.001, "mmd_p_value": None, "report": "r.html"}) == \
        "KID 0.01234 ± 0.001; MMD p-value ?\nreport: r.html"
    bench = {"target": "orin", "bundle": "b.tar", "metric": "miou",
             "rows": [{"precision": "int8", "backend": "onnxruntime", "p50_ms": 1.0, "p99_ms": 2.5, "fps": 900.0,
                       "accuracy": 0.75}]}
    assert texts.bench_table(bench).splitlines() == [
        "orin bundle b.tar (miou)", " int8 onnxruntime: p50 1.000 ms, p99 2.500 ms, 900.0 FPS, miou 0.7500"]


def test_last_metrics_of_a_training_job() -> None:
    series = Series()
    series.add("epoch", 1, {"loss": 0.5})
    series.add("epoch", 2, {"loss": 0.25})
    assert texts.last_metrics(SimpleNamespace(series=series)) == "loss=0.25"
    assert texts.last_metrics(None) == ""


def test_a_combo_without_a_blank_item() -> None:
    assert texts.combo_options(("isaac", "mujoco"), blank=False) == ["isaac", "mujoco"]
    assert texts.combo_index("mujoco", ("isaac", "mujoco"), blank=False) == 1
