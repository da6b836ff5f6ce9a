"""The quick demo, run once for real (MuJoCo renders, torch trains, MuJoCo identifies, onnxruntime
quantizes), then: its summary, the provenance of every artefact, re-runs that skip or redo exactly
what changed, and a run killed with SIGKILL that resumes to the same weights."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pipeline_helpers import QUICK, WIDE, Demo, sim2real

from sim2real.fsutil import content_hash

STAGES = ["generate", "target", "train-source-only", "train-dann", "select", "gap", "sysid", "export", "quantize", "report"]


def records(out: Path) -> dict[str, dict[str, Any]]:
    return {s: json.loads((out / s / "stage.json").read_text()) for s in STAGES if (out / s / "stage.json").exists()}


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def result_of(stdout: str) -> dict[str, Any]:
    return next(e for e in events(stdout) if e["event"] == "result" and "stages" in e["payload"])["payload"]


def test_demo_prints_its_summary_and_where_the_report_is(quick_demo: Demo) -> None:
    summary = json.loads((quick_demo.out / "summary.json").read_text())
    rows = dict(summary["summary"])
    lines = quick_demo.stdout.splitlines()
    recs = records(quick_demo.out)
    scores = {m: recs[f"train-{m}"]["outputs"]["target"] for m in ("source-only", "dann")}
    best = max(scores, key=lambda m: scores[m])  # deployed: the best target mIoU (the labelled set exists)
    assert recs["select"]["outputs"]["method"] == best and recs["select"]["outputs"]["by"] == "target"
    assert rows["deployed model"].startswith(f"{best} (best target mIoU: source-only ")
    for label in ("deployed model", "synthetic frames", "target mIoU, source-only", f"target mIoU, {best} (deployed)",
                  *(["domain gap in the models' features (MMD²), source-only -> dann"] if best == "dann" else []),
                  "sysid: worst parameter error (surrogate)",
                  "sysid: held-out RMSE after / before", "FP32 onnxruntime (CPU, batch 1): p50 latency, mIoU",
                  "INT8 onnxruntime (CPU, batch 1): p50 latency, mIoU"):
        assert any(label in line and rows[label] in line for line in lines), (label, quick_demo.stdout)
    assert "frames/s" in rows["synthetic frames"]
    report = quick_demo.out / "report" / "report.html"
    assert f"report: {report.resolve()}" in quick_demo.stdout
    # #26: it ends with where to click: the report's file URL, then the panel
    assert lines[-2] == f"open {report.resolve().as_uri()} in a browser (one file, no network)", lines[-3:]
    assert lines[-1].startswith("or run `sim2real ui` and open http://127.0.0.1:8765"), lines[-3:]
    assert summary["stages"] == {s: "ran" for s in STAGES}


def test_each_stage_records_inputs_outputs_and_status(quick_demo: Demo) -> None:
    recs = records(quick_demo.out)
    assert list(recs) == STAGES
    for name, rec in recs.items():
        assert rec["status"] == "done" and rec["attempts"] == 1 and rec["error"] is None, name
        assert rec["inputs_hash"] == content_hash(rec["inputs"]) and rec["outputs"]["id"], name
        assert rec["seconds"] > 0 and rec["cpu_seconds"] >= 0, name
    # a stage's inputs name the digests of exactly the stages it reads
    assert set(recs["train-dann"]["inputs"]["needs"]) == {"generate", "target"}
    assert recs["train-dann"]["inputs"]["needs"]["generate"] == recs["generate"]["digest"]
    assert set(recs["gap"]["inputs"]["needs"]) == {"generate", "target", "train-source-only", "train-dann", "select"}
    assert recs["sysid"]["inputs"]["needs"] == {}
    assert recs["select"]["inputs"]["needs"] == {m: recs[m]["digest"] for m in ("train-source-only", "train-dann")}
    assert recs["export"]["inputs"]["needs"] == {"select": recs["select"]["digest"]}  # the model select deploys
    assert set(recs["report"]["inputs"]["needs"]) == set(STAGES[:-1])


def test_every_artefact_records_where_it_came_from(quick_demo: Demo) -> None:
    import onnx

    from sim2real.deploy.edge import meta

    out = quick_demo.out
    outs = {k: v["outputs"] for k, v in records(out).items()}
    run = json.loads((out / "run.json").read_text())
    assert run["kind"] == "pipeline" and run["parents"] == {s: outs[s]["id"] for s in STAGES}
    dataset = outs["generate"]["id"]
    manifest = json.loads((out / outs["generate"]["path"] / "manifest.json").read_text())
    assert manifest["id"] == dataset and manifest["spec"]["profile"]["hash"] == outs["generate"]["profile"]["hash"]
    for method in ("source-only", "dann"):
        info = json.loads((out / outs[f"train-{method}"]["run"] / "run.json").read_text())
        assert info["id"] == outs[f"train-{method}"]["id"]
        assert info["parents"] == {"source": dataset, "target": outs["target"]["images_id"],
                                   "eval": outs["target"]["eval_id"]}
        assert info["profile_hash"] == outs["generate"]["profile"]["hash"]
    gap = json.loads((out / "gap" / "run.json").read_text())
    assert gap["parents"] == {"dataset": dataset, "target": outs["target"]["id"],
                              "model:source-only": outs["train-source-only"]["id"], "model:dann": outs["train-dann"]["id"]}
    for path in (out / outs["export"]["onnx"], out / outs["quantize"]["models"]["int8"]["file"]):
        props = meta.decode({p.key: p.value for p in onnx.load(str(path)).metadata_props}, str(path))
        assert props["run_id"] == outs["train-dann"]["id"] and props["dataset_id"] == dataset
    assert json.loads((out / outs["sysid"]["fit"] / "run.json").read_text())["id"] == outs["sysid"]["id"]


def test_stage_results_are_plausible(quick_demo: Demo) -> None:
    outs = {k: v["outputs"] for k, v in records(quick_demo.out).items()}
    assert outs["generate"]["frames"] == 64 and outs["generate"]["frames_per_s"] > 0
    assert outs["target"]["count"] == 32 and outs["target"]["eval_count"] == 24
    for m in ("source-only", "dann"):
        assert 0.0 < outs[f"train-{m}"]["target"] <= 1.0 and outs[f"train-{m}"]["epochs_done"] == 3
    gap = outs["gap"]
    assert (gap["before"], gap["after"]) == ("model:source-only", "model:dann")
    assert set(gap["alignment"]) == {"source-only", "dann"} and all(v >= 0 for v in gap["alignment"].values())
    assert all(r["kid"] == r["kid"] and r["features"] for r in gap["results"].values())  # finite, named
    sysid = outs["sysid"]
    assert sysid["surrogate"] and sysid["worst_error"] < 0.1 and sysid["rmse_ratio_mean"] < 0.2
    assert outs["export"]["parity_max_abs"] <= 1e-4
    fp32, int8 = outs["quantize"]["models"]["fp32"], outs["quantize"]["models"]["int8"]
    assert fp32["p50_ms"] > 0 and int8["p50_ms"] > 0 and abs(int8["change"]) < 0.2
    assert fp32["score"] == pytest.approx(outs["quantize"]["torch"], abs=1e-4)  # ONNX FP32 scores as PyTorch


@pytest.mark.browser
def test_report_renders_with_a_section_per_stage(quick_demo: Demo, artifacts_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    report = quick_demo.out / "report" / "report.html"
    html = report.read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html  # self-contained
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.resolve().as_uri())
            page.wait_for_load_state("load")
            sections = page.eval_on_selector_all("main > section", "els => els.map(e => [e.id, e.querySelector('h2').textContent])")
            content = page.eval_on_selector_all(
                "main > section", "els => els.map(e => e.querySelectorAll('table, img').length)")
            images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.alt])")
            frames = page.eval_on_selector_all("#generate figure img", "els => els.length")
            nav = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
            page.screenshot(path=str(artifacts_dir / "pipeline_report.png"), full_page=True)
        finally:
            browser.close()
    ids = [s[0] for s in sections]
    assert ids == ["overview", "generate", "target", "train", "select", "gap", "sysid", "export", "quantize"]
    assert all(n > 0 for n in content), dict(zip(ids, content, strict=True))
    assert nav == [f"#{i}" for i in ids]
    assert images and all(ok and width > 0 for ok, width, _ in images), [i for i in images if not i[1]]
    assert frames >= 4 * 4 + 1  # RGB, depth, segmentation, boxes of 4 frames, and the histograms
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    assert (artifacts_dir / "pipeline_report.png").stat().st_size > 10_000


def _copy(quick_demo: Demo, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(quick_demo.out, out)
    return out


def test_a_rerun_skips_every_finished_stage(quick_demo: Demo, tmp_path: Path) -> None:
    out = _copy(quick_demo, tmp_path)  # a moved run folder stays valid: its paths are relative
    before = {s: (out / s / "stage.json").read_bytes() for s in STAGES}
    r = sim2real("run", str(QUICK), "--out", str(out), "--progress", "json")
    assert r.returncode == 0, r.stderr
    assert result_of(r.stdout)["stages"] == {s: "skipped" for s in STAGES}
    assert {s: (out / s / "stage.json").read_bytes() for s in STAGES} == before
    run = json.loads((out / "run.json").read_text())
    assert run["id"] == json.loads((quick_demo.out / "run.json").read_text())["id"]
    assert not any(e["event"] == "progress" and e["task"] in ("generate", "train") for e in events(r.stdout))


def test_the_api_verb_continues_a_run_in_process(quick_demo: Demo, tmp_path: Path) -> None:
    """``sim2real.api.run_pipeline`` on a finished run: nothing runs again; the result names the report."""
    from sim2real import api

    out = _copy(quick_demo, tmp_path)
    result = api.run_pipeline(QUICK, out)
    assert result.actions == {s: "skipped" for s in STAGES}
    assert result.report == out / "report" / "report.html" and result.report.is_file()
    assert result.run_id == json.loads((quick_demo.out / "run.json").read_text())["id"]


def test_a_changed_setting_reruns_what_depends_on_it_only(quick_demo: Demo, tmp_path: Path) -> None:
    out = _copy(quick_demo, tmp_path)
    changed = tmp_path / "demo_quick.toml"
    changed.write_text(QUICK.read_text().replace("[gap]\n", "[gap]\nseed = 7\n"))
    r = sim2real("run", str(changed), "--out", str(out), "--progress", "json")
    assert r.returncode == 0, r.stderr
    expected = {s: "skipped" for s in STAGES} | {"gap": "ran", "report": "ran"}
    assert result_of(r.stdout)["stages"] == expected
    messages = [e["text"] for e in events(r.stdout) if e["event"] == "message"]
    assert "gap: settings.seed changed: running it again from the start" in messages
    assert "report: gap's result changed: running it again from the start" in messages
    old, new = records(quick_demo.out)["gap"], records(out)["gap"]
    assert new["inputs"]["stage"]["settings"]["seed"] == 7 and new["outputs"]["id"] != old["outputs"]["id"]


def _without(text: str, sections: tuple[str, ...]) -> str:
    """The pipeline text without the named [sections] (and their sub-tables)."""
    keep, skipping = [], False
    for line in text.splitlines():
        if line.startswith("["):
            skipping = line.strip("[]").split(".")[0] in sections
        if not skipping:
            keep.append(line)
    return "\n".join(keep) + "\n"


@pytest.mark.slow  # a second pair of quick training runs, one killed and resumed
@pytest.mark.timeout(300)
def test_a_killed_run_resumes_to_the_same_weights(quick_demo: Demo, tmp_path: Path) -> None:
    import torch

    pipeline = tmp_path / "train_only.toml"  # the quick demo's data and training, nothing after them
    pipeline.write_text(_without(QUICK.read_text(), ("gap", "sysid", "export", "quantize")))
    out = tmp_path / "run"  # the quick demo's data, made already (its stages are skipped); no training yet
    out.mkdir()
    for stage in ("generate", "target"):
        shutil.copytree(quick_demo.out / stage, out / stage)
    cmd = [sys.executable, "-m", "sim2real.cli", "run", str(pipeline), "--out", str(out), "--progress", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, **WIDE})
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the first training's first epoch is checkpointed: kill it now
            e = json.loads(line)
            if e["event"] == "metric" and e["series"] == "epoch" and e["step"] == 1:
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.kill()
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    recs = records(out)
    assert (recs["generate"]["status"], recs["target"]["status"], recs["train-source-only"]["status"]) == \
        ("done", "done", "running")
    assert "train-dann" not in recs

    r = sim2real("run", str(pipeline), "--out", str(out), "--progress", "json")
    assert r.returncode == 0, r.stderr
    assert result_of(r.stdout)["stages"] == {"generate": "skipped", "target": "skipped", "train-source-only": "resumed",
                                             "train-dann": "ran", "select": "ran", "report": "ran"}
    messages = [e["text"] for e in events(r.stdout) if e["event"] == "message"]
    assert "train-source-only: resuming (its last run was running)" in messages
    assert any(m.startswith("resuming") and "after epoch" in m for m in messages)  # the trainer's own resume
    assert records(out)["train-source-only"]["attempts"] == 2
    # the same weights as the uninterrupted demo run
    for method in ("source-only", "dann"):
        a = torch.load(out / f"train-{method}/run/checkpoints/epoch_003.pt", weights_only=True)["model"]
        b = torch.load(quick_demo.out / f"train-{method}/run/checkpoints/epoch_003.pt", weights_only=True)["model"]
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), method


def test_the_demo_imports_nothing_outside_the_demo_extra(quick_demo: Demo) -> None:
    """#26: `make demo` installs sim2real[demo] only: no process of the demo imports a distribution that only
    another extra brings (ray, pyarrow, pandas, playwright, the USD converter, gymnasium, rosbags, ...)."""
    import tomllib
    from importlib.metadata import packages_distributions

    from testlib import REPO

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]

    def names(extra: str) -> set[str]:
        out: set[str] = set()
        for req in extras[extra]:
            name = req.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip()
            if name.startswith("sim2real["):
                for sub in name[len("sim2real["):-1].split(","):
                    out |= names(sub)
            else:
                out.add(name.split("[")[0].lower())
        return out

    demo = names("demo")
    others = (names("all") | names("dev")) - demo
    assert {"ray", "pyarrow", "playwright", "mujoco-usd-converter", "gymnasium"} <= others
    owners = packages_distributions()
    used = {m: {d.lower() for d in owners.get(m, [])} for m in quick_demo.imported}
    assert "torch" in quick_demo.imported and "mujoco" in quick_demo.imported  # the trace covers the run
    outside = sorted(m for m, dists in used.items() if dists and dists <= others)
    assert outside == [], outside
