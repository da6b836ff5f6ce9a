"""The CycleGAN-style translator on a tiny synthetic pair of domains (a colour shift): training lowers the
cycle loss and the image-set distance; a SIGKILLed run resumes to the same bytes; the training
augmentation and the gap report use it; bad configuration is a one-line error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
cv2 = pytest.importorskip("cv2")

from sim2real.errors import ConfigError  # noqa: E402
from sim2real.translate.config import TranslateConfig, load_config  # noqa: E402
from sim2real.translate.run import CHECKPOINT, METRICS, TRANSLATOR, TranslateRequest, train  # noqa: E402

SHIFT = np.array([70, -30, -50])  # the target domain: the same kind of scenes, other colours
ONE_THREAD = {"OMP_NUM_THREADS": "1"}
TINY = ["--resolution", "16x16"]
TINY_TOML = "batch_size = 2\nwidth = 4\nblocks = 1\ndisc_width = 4\ncheckpoint_every = 5\neval_images = 8\npool_size = 4\n"


def _scenes(folder: Path, n: int, shift: np.ndarray, seed: int, size: int = 32) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = np.full((size, size, 3), int(rng.integers(60, 120)), np.uint8)
        for _ in range(3):
            colour = tuple(int(v) for v in rng.integers(0, 255, 3))
            x, y = (int(v) for v in rng.integers(0, size - 4, 2))
            cv2.circle(img, (x, y), int(rng.integers(size // 10, size // 4)), colour, -1)
        img = np.clip(img.astype(int) + shift, 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"{i:03d}.png"), img[..., ::-1])


@pytest.fixture(scope="module")
def domains(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("domains")
    _scenes(root / "sim", 16, np.zeros(3, int), 0)
    _scenes(root / "real", 16, SHIFT, 1)
    return root / "sim", root / "real"


@pytest.fixture(scope="module")
def trained(domains: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("translator") / "run"
        cfg = TranslateConfig(resolution=(32, 32), iterations=40, batch_size=4, width=8, blocks=1, disc_width=8,
                              checkpoint_every=10, eval_images=16, pool_size=8)
        return out, train(TranslateRequest(cfg, domains[0], domains[1], out))
    finally:
        torch.set_num_threads(before)


def test_training_reduces_cycle_loss_and_image_set_distance(trained: tuple[Path, dict]) -> None:
    out, summary = trained
    cycle = [h["cycle"] for h in summary["history"]]
    assert len(cycle) == 4 and cycle[-1] < cycle[0]
    d = summary["distance"]
    assert d["after"]["kid"] < d["before"]["kid"]
    assert d["after"]["colour_mean_abs_diff"] < d["before"]["colour_mean_abs_diff"]
    assert json.loads((out / METRICS).read_text())["distance"]["kid_ratio"] == pytest.approx(d["kid_ratio"])
    info = json.loads((out / "run.json").read_text())
    assert info["kind"] == "translate" and info["inputs"]["fingerprints"]["source"]


def test_translated_source_keeps_labels(trained: tuple[Path, dict]) -> None:
    from sim2real.train.sources import ImageData
    from sim2real.translate.augment import translate_source

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (6, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 3, (6, 32, 32), dtype=np.uint8)
    data = ImageData(images, [str(i) for i in range(6)], labels=labels, fingerprint={"id": "x"})
    out = translate_source(data, trained[0], 0.5, seed=0)
    changed = [not np.array_equal(a, b) for a, b in zip(images, out.images, strict=True)]
    assert sum(changed) == 3  # the share, drawn with the seed
    assert np.array_equal(out.labels, labels) and out.names == data.names
    assert out.fingerprint["translated_by"] and out.fingerprint["id"] == "x"


def test_training_gets_the_translation_its_config_asks_for_as_a_callable(trained: tuple[Path, dict],
                                                                      tmp_path: Path) -> None:
    """Training never imports a translator: ``source_translation`` turns the config's ``translate`` table
    into the callable a TrainRequest carries; without it, training refuses before reading any data."""
    from sim2real.errors import UnsupportedError
    from sim2real.train.config import load_config
    from sim2real.train.data import Inputs
    from sim2real.train.sources import ImageData
    from sim2real.train.trainer import TrainRequest, train
    from sim2real.translate.augment import source_translation, translate_source

    cfg = load_config(None, {"translate": {"run": str(trained[0]), "share": 0.5}, "seed": 3})
    assert source_translation(load_config(None, {})) is None
    rng = np.random.default_rng(1)
    data = ImageData(rng.integers(0, 255, (4, 32, 32, 3), dtype=np.uint8), list("abcd"), fingerprint={})
    by_config = source_translation(cfg)(data, None)
    direct = translate_source(data, trained[0], 0.5, seed=3)
    assert np.array_equal(by_config.images, direct.images) and by_config.fingerprint == direct.fingerprint
    with pytest.raises(UnsupportedError, match="gave training no translator"):
        train(TrainRequest(cfg, Inputs(tmp_path / "no-such-dataset"), tmp_path / "run"))


def test_gap_report_before_and_after_translation(trained: tuple[Path, dict], domains: tuple[Path, Path],
                                                 tmp_path: Path, run_cli) -> None:
    proc = run_cli("gap", "images", str(domains[0]), str(domains[1]), "--translator", str(trained[0]),
                   "--pair", "none", "--permutations", "10", "--kid-subsets", "5", "--size", "32",
                   "--out", str(tmp_path / "gap"), "--json", "--progress", "none", env=ONE_THREAD)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "gap" / "report.json").read_text())["data"]
    assert data["translated"]["kid"]["mean"] < data["kid"]["mean"]
    assert "After sim-&gt;real translation" in (tmp_path / "gap" / "report.html").read_text()


def test_a_corrupt_translator_is_refused_naming_it(trained: tuple[Path, dict], tmp_path: Path) -> None:
    """translator.pt (and checkpoint.pt) carry a sha256: a flipped byte that still loads is caught (issue 22)."""
    import shutil

    from sim2real.errors import IntegrityError
    from sim2real.translate.apply import Translator
    from testlib import flip_stored_byte

    run = tmp_path / "run"
    shutil.copytree(trained[0], run)
    assert (run / f"{TRANSLATOR}.sha256").is_file() and (run / f"{CHECKPOINT}.sha256").is_file()
    Translator(run)
    flip_stored_byte(run / TRANSLATOR)
    torch.load(run / TRANSLATOR, weights_only=True)  # still loads
    with pytest.raises(IntegrityError, match=f"{TRANSLATOR}: sha256 .* does not match"):
        Translator(run)


def _train_cmd(domains: tuple[Path, Path], config: Path, out: Path, iterations: int = 20) -> list[str]:
    return [sys.executable, "-m", "sim2real.cli", "translate", "train", "--source", str(domains[0]),
            "--target", str(domains[1]), "--out", str(out), "--config", str(config), "--iterations",
            str(iterations), *TINY, "--progress", "json"]


def test_sigkilled_training_resumes_to_the_same_bytes(domains: tuple[Path, Path], tmp_path: Path) -> None:
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_TOML)
    env = {**os.environ, **ONE_THREAD}
    whole = tmp_path / "whole"
    subprocess.run(_train_cmd(domains, config, whole), env=env, check=True, capture_output=True, timeout=300)
    cut = tmp_path / "cut"
    proc = subprocess.Popen(_train_cmd(domains, config, cut), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # kill -9 right after the checkpoint of iteration 10 is reported
        event = json.loads(line)
        if event.get("event") == "metric" and event.get("step") == 10:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL and not (cut / TRANSLATOR).exists()
    done = subprocess.run(_train_cmd(domains, config, cut), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stdout
    for name in (CHECKPOINT, TRANSLATOR):
        assert (cut / name).read_bytes() == (whole / name).read_bytes(), name


def test_bad_config_is_a_one_line_config_error(tmp_path: Path, domains: tuple[Path, Path], run_cli) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("resolution = [30, 30]\n")
    with pytest.raises(ConfigError) as err:
        load_config(bad, {})
    assert "resolution" in str(err.value) and str(bad) in str(err.value) and "\n" not in str(err.value)
    bad.write_text("lambda_cycle = -1\n")
    proc = run_cli("translate", "train", "--source", str(domains[0]), "--target", str(domains[1]),
                   "--out", str(tmp_path / "run"), "--config", str(bad))
    assert proc.returncode == 2 and "lambda_cycle" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
