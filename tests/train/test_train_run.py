"""End to end: ``sim2real train`` writes the run folder contract, every method and task trains,
the same seed gives the same weights, a SIGKILLed run resumes to the same final weights, the
trained encoder feeds ``sim2real gap images --features model:RUN``, and bad input is one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from train_helpers import TINY, make_dataset, write_pngs

from sim2real.dataset.manifest import load_manifest
from sim2real.errors import InputError
from sim2real.train import runfolder as rf
from sim2real.train.config import load_config
from sim2real.train.data import Inputs
from sim2real.train.trainer import TrainRequest, train

@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("train-data")
    cfg = root / "tiny.toml"
    cfg.write_text(TINY)
    return {"src": make_dataset(root / "src", 24), "tgt": make_dataset(root / "tgt", 8, seed=1, real=True),
            "tev": make_dataset(root / "tev", 6, seed=2, real=True), "cfg": cfg, "root": root}


def _in_process(data: dict[str, Path], out: Path, **over: object) -> dict:
    cfg = load_config(data["cfg"], {"epochs": 1, **over})
    return train(TrainRequest(cfg, Inputs(data["src"], data["tgt"], None, data["tev"]), out))


def test_cli_writes_the_run_folder_contract(data: dict[str, Path], tmp_path: Path, run_cli) -> None:
    out = tmp_path / "run"
    r = run_cli("train", "--data", str(data["src"]), "--target", str(data["tgt"]), "--eval", str(data["tev"]),
                "--task", "segment", "--method", "dann", "--epochs", "2", "--out", str(out),
                "--config", str(data["cfg"]), "--progress", "json")
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    progress = [e for e in events if e["event"] == "progress" and e["task"] == "train"]
    assert progress[-1]["final"] and progress[-1]["done"] == progress[-1]["total"] and progress[-1]["unit"] == "img"
    metrics = [e for e in events if e["event"] == "metric"]
    assert [m["step"] for m in metrics] == [1, 2] and "images_per_s" in metrics[0]["values"]
    assert "target.miou" in metrics[0]["values"] and "val.snd" in metrics[0]["values"]
    assert events[-1]["event"] == "result" and events[-1]["payload"]["epochs_done"] == 2

    run = json.loads((out / "run.json").read_text())
    src_id = json.loads((data["src"] / "manifest.json").read_text())["id"]
    assert run["kind"] == "train" and run["parents"]["source"] == src_id and run["profile_hash"] == "0" * 16
    spec = json.loads((out / "model.json").read_text())
    assert spec["arch"] == "segnet" and spec["task"] == "segment" and spec["config"]["widths"] == [8, 16]
    assert spec["classes"] == ["background", "cube", "sphere", "mug"] and spec["input"]["width"] == 32
    assert len(spec["normalization"]["mean"]) == 3 and spec["depth_units"] is None
    assert rf.checkpoint_epochs(out) == [1, 2]
    m = json.loads((out / "metrics.json").read_text())
    assert m["epochs_done"] == 2 and m["select"] == "last" and len(m["history"]) == 2
    h = m["history"][-1]
    assert set(h["validators"]) == {"source", "entropy", "snd", "dev", "iwv", "im"}
    assert 0.0 <= h["alignment"]["domain_accuracy"] <= 1.0
    assert 0 <= h["target"]["miou"] <= 1 and set(h["target"]["iou"]) == set(spec["classes"])
    assert {"domain_acc", "alpha", "adapt_loss", "task_loss", "images_per_s"} <= set(h["train"])
    best = json.loads((out / "best.json").read_text())
    assert best["select"] == "last" and best["validator"] is None and best["epoch"] == 2
    assert "last epoch" in best["reason"] and m["best"] == {k: v for k, v in best.items() if k != "checkpoint"}
    assert any(p.name.startswith("events.out.tfevents") for p in (out / "tb").iterdir())

    model, s = rf.load_model(out)
    x = torch.from_numpy(s.prepare(np.zeros((2, 24, 32, 3), np.uint8)))
    assert model(x).shape == (2, 4, 24, 32) and not model.training

    # the trained encoder as the gap report's features
    folder = write_pngs(tmp_path / "imgs", [np.full((24, 32, 3), 40 * i, np.uint8) for i in range(4)])
    g = run_cli("gap", "images", str(folder), str(folder), "--features", f"model:{out}", "--size", "18",
                "--out", str(tmp_path / "gap"), "--progress", "none", "--json", "--pair", "none")
    assert g.returncode == 0, g.stderr
    assert json.loads(g.stdout)["features"].startswith(f"model:{run['id']}(segnet, size=20)")  # rounded up to the stride


@pytest.mark.parametrize("method,key", [("source-only", None), ("coral", "coral"), ("mmd", "mmd2"), ("adabn", None)])
def test_each_method_trains(data: dict[str, Path], tmp_path: Path, method: str, key: str | None) -> None:
    s = _in_process(data, tmp_path / method, method=method)
    train_logs = s["history"][0]["train"]
    if key:
        assert key in train_logs and train_logs["lambda"] >= 0
    else:
        assert "adapt_loss" not in train_logs
    ckpt = rf.load_torch(rf.checkpoint_path(tmp_path / method, 1))
    if method != "source-only":  # AdaBN, and per-domain batch norm: shipped with the target's statistics
        key_bn = "stages.0.0.1.running_mean"
        assert not torch.equal(ckpt["inference"][key_bn], ckpt["model"][key_bn])
        best = rf.load_torch(tmp_path / method / "best.pt")
        assert torch.equal(best["model"][key_bn], ckpt["inference"][key_bn])
    else:
        assert ckpt["inference"] is None


def test_a_resume_rewrites_what_a_kill_left_behind(data: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = _in_process(data, out, method="source-only", epochs=2)
    best = json.loads((out / "best.json").read_text())
    # as if killed after a checkpoint but before best.pt and metrics.json were written
    (out / "best.pt").unlink()
    (out / "best.json").write_text(json.dumps({**best, "epoch": 99}))
    (out / "metrics.json").write_text("{}")
    again = _in_process(data, out, method="source-only", epochs=2)  # nothing left to train
    assert again["history"] == first["history"]
    assert json.loads((out / "metrics.json").read_text())["epochs_done"] == 2
    assert json.loads((out / "best.json").read_text()) == best
    restored = rf.load_torch(out / "best.pt")["model"]
    ckpt = _weights(out, best["epoch"])
    assert all(torch.equal(restored[k], ckpt[k]) for k in ckpt)


def test_rgbd_input(data: dict[str, Path], tmp_path: Path) -> None:
    s = _in_process(data, tmp_path / "rgbd", method="coral", depth=True)
    assert s["epochs_done"] == 1
    model, spec = rf.load_model(tmp_path / "rgbd")
    assert spec.depth_units == "m" and spec.input["channels"] == ["r", "g", "b", "depth"]
    assert spec.config["in_channels"] == 4 and len(spec.normalization["mean"]) == 4
    assert spec.normalization["mean"][3] > 1.0  # metres: the synthetic frames are 2-2.5 m deep
    with pytest.raises(InputError, match="expects RGB-D input"):
        spec.prepare(np.zeros((1, 24, 32, 3), np.uint8))
    x = spec.prepare(np.zeros((1, 24, 32, 3), np.uint8), np.full((1, 24, 32), 2.0, np.float32))
    assert model(torch.from_numpy(x)).shape == (1, 4, 24, 32)


def test_classify_and_state_tasks(data: dict[str, Path], tmp_path: Path) -> None:
    cfg = load_config(None, {"task": "classify", "epochs": 2, "batch_size": 4, "resolution": (16, 16),
                             "min_object_pixels": 20, "model": {"arch": "edge-classifier", "widths": [8, 8, 16, 16]},
                             "validator_images": 8})
    s = train(TrainRequest(cfg, Inputs(data["src"], data["tgt"], None, data["tev"]), tmp_path / "cls"))
    assert s["classes"] == ["cube", "sphere", "mug"] and 0 <= s["final"]["target"]["accuracy"] <= 1
    model, spec = rf.load_model(tmp_path / "cls")
    assert spec.arch == "edge-classifier" and model(torch.zeros(2, 3, 16, 16)).shape == (2, 3)
    tiny = np.array([1e-40], dtype=np.float32)  # training flushed denormals and gave the setting back
    assert (tiny * np.float32(1.0))[0] > 0
    assert not torch.are_deterministic_algorithms_enabled()  # ... and deterministic algorithms too

    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 2))

    def state_file(path: Path, n: int, shift: float, labelled: bool) -> Path:
        x = rng.normal(size=(n, 4)) * (1 + shift) + shift
        arrays = {"features": x, "feature_names": np.array(["q0", "q1", "dq0", "dq1"])}
        if labelled:
            arrays["targets"] = np.tanh(x @ w)
        np.savez(path, **arrays)
        return path

    sim = state_file(tmp_path / "sim.npz", 400, 0.0, True)
    real = state_file(tmp_path / "real.npz", 200, 0.5, False)
    real_eval = state_file(tmp_path / "real_eval.npz", 200, 0.5, True)
    cfg = load_config(None, {"task": "state", "method": "dann", "epochs": 3, "batch_size": 32,
                             "model": {"widths": [32, 32]}})
    s = train(TrainRequest(cfg, Inputs(sim, real, None, real_eval), tmp_path / "state"))
    spread = float(np.tanh(np.load(real_eval)["features"] @ w).std())
    assert s["select"] == "last" and set(s["final"]["validators"]) == {"source", "dev", "iwv"}
    assert s["final"]["target"]["rmse"] < spread  # better than predicting the mean
    model, spec = rf.load_model(tmp_path / "state")
    assert spec.arch == "state-mlp" and spec.input["features"] == ["q0", "q1", "dq0", "dq1"]
    assert spec.outputs["std"] and model(torch.zeros(3, 4)).shape == (3, 2)
    with pytest.raises(InputError, match="3 features but .* has 4; expected the same state vector"):
        np.savez(tmp_path / "bad.npz", features=np.zeros((5, 3)))
        train(TrainRequest(cfg, Inputs(sim, tmp_path / "bad.npz"), tmp_path / "state-bad"))


def _weights(run: Path, epoch: int) -> dict[str, torch.Tensor]:
    return rf.load_torch(rf.checkpoint_path(run, epoch))["model"]


def _history(run: Path) -> list[dict]:
    hist = json.loads((run / "metrics.json").read_text())["history"]
    for h in hist:  # wall-clock fields differ between runs
        for k in ("images_per_s", "seconds"):
            h["train"].pop(k)
        h.pop("eval_seconds")
    return hist


def _train_args(data: dict[str, Path], out: Path, epochs: int, seed: int = 3) -> list[str]:
    return [sys.executable, "-m", "sim2real.cli", "train", "--data", str(data["big"]), "--target", str(data["tgt"]),
            "--method", "dann", "--epochs", str(epochs), "--seed", str(seed), "--out", str(out),
            "--config", str(data["cfg"]), "--progress", "json", "--keep", "0"]


@pytest.mark.slow  # three real training processes, one killed
def test_same_seed_same_weights_and_resume_after_sigkill(data: dict[str, Path], tmp_path: Path) -> None:
    data = {**data, "big": make_dataset(data["root"] / "big", 120, seed=7)}  # epochs long enough to kill inside one
    full = subprocess.run(_train_args(data, tmp_path / "full", 3), capture_output=True, text=True, timeout=300)
    assert full.returncode == 0, full.stderr

    killed = tmp_path / "killed"
    proc = subprocess.Popen(_train_args(data, killed, 3), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        e = json.loads(line)
        if e["event"] == "progress" and e.get("epoch") == 2 and not e["final"]:
            os.kill(proc.pid, signal.SIGKILL)  # mid-epoch 2: epoch 1 is checkpointed
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert rf.checkpoint_epochs(killed) == [1]

    again = subprocess.run(_train_args(data, killed, 3), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stdout and "after epoch 1" in again.stdout
    a, b = _weights(tmp_path / "full", 3), _weights(killed, 3)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # bit for bit
    assert _history(tmp_path / "full") == _history(killed)

    cfg = load_config(data["cfg"], {"method": "dann", "epochs": 1, "seed": 4})
    train(TrainRequest(cfg, Inputs(data["big"], data["tgt"]), tmp_path / "other-seed"))
    assert not torch.equal(_weights(tmp_path / "other-seed", 1)["stages.0.0.0.weight"], _weights(killed, 1)["stages.0.0.0.weight"])


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_bad_input_is_one_line(data: dict[str, Path], tmp_path: Path, run_cli) -> None:
    from gap.gap_helpers import pose_msg, typestore, write_bag

    from sim2real.train.cli import _class_map

    base = ["train", "--data", str(data["src"]), "--epochs", "1", "--config", str(data["cfg"]), "--progress", "none"]

    def fails(*args: str) -> str:  # through the real command line: exit 2 and one line on stderr
        r = run_cli(*base, *args)
        assert r.returncode == 2, (r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
        return lines[0]

    def raises(match: str, **over: object) -> None:
        inputs = over.pop("inputs")
        with pytest.raises(InputError, match=match):
            train(TrainRequest(load_config(data["cfg"], {"epochs": 1, **over}), inputs, tmp_path / "x"))

    ts = typestore()
    bag = write_bag(tmp_path / "poses", {"/pose": [(1, pose_msg(ts, 1, [0, 0, 0], [1, 0, 0, 0]))]})
    assert "no topic /camera/image" in fails("--target", str(bag), "--topic", "/camera/image", "--out", str(tmp_path / "a"))
    raises("has type geometry_msgs/msg/PoseStamped", inputs=Inputs(data["src"], bag, "/pose"))
    other = make_dataset(tmp_path / "other", 3, name="other")
    manifest = load_manifest(other)  # a dataset whose classes differ (saved with a consistent checksum)
    manifest.labels = {k: "torus" if v == "mug" else v for k, v in manifest.labels.items()}
    manifest.save(other)
    raises("torus are not among the training classes", inputs=Inputs(data["src"], data["tgt"], None, other))
    with pytest.raises(Exception, match="--class-map: expected PATTERN=NAME"):
        _class_map("object")
    with pytest.raises(Exception, match="resolution 30x24 must be divisible by 4"):
        load_config(data["cfg"], {"resolution": (30, 24)})

    run = tmp_path / "run"
    train(TrainRequest(load_config(data["cfg"], {"epochs": 1, "method": "source-only"}), Inputs(data["src"]), run))
    assert "holds a run with other settings (config.lr: 0.002 then, 0.01 now)" in fails(
        "--method", "source-only", "--lr", "0.01", "--out", str(run))
    cls_run = tmp_path / "cls"
    cfg = load_config(None, {"task": "classify", "method": "source-only", "epochs": 1, "batch_size": 4,
                             "resolution": (16, 16), "min_object_pixels": 20, "model": {"widths": [8, 8]}})
    train(TrainRequest(cfg, Inputs(data["src"]), cls_run))
    with pytest.raises(InputError, match="checkpoint of a lenet .* but the run's model.json describes a segnet"):
        rf.load_model(run, cls_run / "best.pt")
    (tmp_path / "junk.pt").write_bytes(b"\x80\x04junk")
    with pytest.raises(InputError, match="junk.pt: not a readable sim2real checkpoint"):
        rf.load_model(run, tmp_path / "junk.pt")


def test_the_summary_and_report_say_what_ships(data: dict[str, Path], tmp_path: Path, run_cli,
                                               artifacts_dir: Path) -> None:
    """#26: the summary printed the last epoch's target score beside best.pt's epoch; now best.pt's own
    scores and the last epoch's, labelled; the run writes a report.html of its own."""
    from html.parser import HTMLParser

    out = tmp_path / "run"
    r = run_cli("train", "--data", str(data["src"]), "--target", str(data["tgt"]), "--eval", str(data["tev"]),
                "--task", "segment", "--method", "source-only", "--epochs", "3", "--select", "entropy",
                "--out", str(out), "--config", str(data["cfg"]), env={"COLUMNS": "300"})
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "metrics.json").read_text())
    best, history = m["best"], m["history"]
    shipped, last = history[best["epoch"] - 1]["target"]["miou"], history[-1]["target"]["miou"]
    line = next(ln for ln in r.stdout.splitlines() if "epochs of source-only" in ln)
    assert f"shipped best.pt = {best['reason']}" in line and best["reason"].startswith(f"epoch {best['epoch']} of 3")
    assert "entropy" in best["reason"]
    assert f"target miou {shipped:.4f}" in line.split("last epoch")[0]
    if best["epoch"] != 3:
        assert f"last epoch 3: target miou {last:.4f}" in line
    assert m["shipped"]["target"]["miou"] == shipped
    report = out / "report.html"
    assert f"report: {report}" in r.stderr
    (artifacts_dir / "train-report.html").write_text(report.read_text())

    class Parts(HTMLParser):
        ids: list[str] = []
        images = 0

        def handle_starttag(self, tag: str, attrs: list) -> None:
            attrs = dict(attrs)
            if tag == "section" and "id" in attrs:
                self.ids.append(attrs["id"])
            self.images += tag == "img"

    p = Parts()
    p.feed(report.read_text())
    assert p.ids == ["scores", "curves", "predictions"] and p.images >= 4 + 8  # curves + validator panel, tiles
    # the error map: each outcome its colour, the background the dimmed image
    from sim2real.train.report import FN, FP, TP, error_map

    image = np.full((2, 3, 3), 90, np.uint8)
    truth = np.array([[1, 1, 0], [2, 0, 0]])
    pred = np.array([[1, 0, 1], [1, 0, 0]])
    tile = error_map(image, pred, truth)
    assert tuple(tile[0, 0]) == TP and tuple(tile[0, 1]) == FN and tuple(tile[0, 2]) == FP
    assert tuple(tile[1, 0]) == FP and tuple(tile[1, 1]) == (30, 30, 30)
