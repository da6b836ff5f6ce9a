"""Fixtures of the deploy tests: a tiny trained segmentation run (real training, 1 epoch on small
numpy-made datasets), bundles made from it, and a real OpenSSH server on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))  # train_helpers: the tiny datasets

from sshd import Sshd, start_sshd  # noqa: E402
from train_helpers import TINY, make_dataset  # noqa: E402


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A segmentation run (1 epoch of DANN) with its source, target and evaluation datasets."""
    from sim2real.train.config import load_config
    from sim2real.train.data import Inputs
    from sim2real.train.trainer import TrainRequest, train

    root = tmp_path_factory.mktemp("deploy-run")
    (root / "tiny.toml").write_text(TINY)
    src = make_dataset(root / "src", 24)
    tgt = make_dataset(root / "tgt", 8, seed=1, real=True)
    tev = make_dataset(root / "tev", 6, seed=2, real=True)
    cfg = load_config(root / "tiny.toml", {"epochs": 1})
    train(TrainRequest(cfg, Inputs(src, tgt, None, tev), root / "run"))
    return root / "run"


def _bundle(run: Path, out: Path, precisions: tuple[str, ...]) -> Path:
    from sim2real.deploy.bundle import make_bundle
    from sim2real.deploy.prepare import ExportRequest

    make_bundle(ExportRequest(run, precisions, eval_count=6, calib_count=16, iterations=5), out)
    return out


@pytest.fixture(scope="session")
def bundle_a(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FP32 + INT8."""
    return _bundle(tiny_run, tmp_path_factory.mktemp("bundles") / "a.tar", ("fp32", "int8"))


@pytest.fixture(scope="session")
def bundle_b(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FP32 only (another bundle id)."""
    return _bundle(tiny_run, tmp_path_factory.mktemp("bundles") / "b.tar", ("fp32",))


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory):
    server: Sshd = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()
