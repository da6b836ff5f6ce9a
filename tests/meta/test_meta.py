"""Meta-learning: MAML/Reptile against the multi-task initialisation on held-out physics draws,
adaptation, resume after an interruption, configuration errors. Real MuJoCo rollouts, tiny sizes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gymnasium")

from sim2real.errors import ConfigError  # noqa: E402
from sim2real.meta.config import MetaConfig, load_config  # noqa: E402
from sim2real.meta.learn import MetaModel, adapt_to_new_task, task_error  # noqa: E402
from sim2real.meta.run import CHECKPOINT, METRICS, MODEL, TASKS, load_meta_model, train  # noqa: E402
from sim2real.progress import NullReporter  # noqa: E402

POLICY = dict(family="policy", iterations=120, train_tasks=10, test_tasks=3, checkpoint_every=1000,
              policy={"demos": 3, "demo_steps": 40, "eval_episodes": 1, "eval_steps": 100})
DYNAMICS = dict(family="dynamics", iterations=12, train_tasks=6, test_tasks=2, checkpoint_every=3, meta_batch=2,
                k_shot=5, query=10, hidden=[16, 16], dynamics={"rollouts": 2, "steps": 10})


@pytest.fixture(autouse=True)
def one_thread():
    """Other suites share the cores: one torch thread is faster here and keeps results reproducible."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _train(out: Path, tasks_from: Path | None = None, **kw) -> dict:
    if tasks_from is not None:  # the same task data: skip rebuilding it from the simulator
        out.mkdir(parents=True)
        shutil.copy(tasks_from / TASKS, out / TASKS)
    return train(MetaConfig(**kw), out)


def test_maml_and_reptile_beat_the_pretrained_init_on_held_out_tasks(tmp_path: Path) -> None:
    base = _train(tmp_path / "pretrain", algorithm="pretrain", **POLICY)
    maml = _train(tmp_path / "maml", tmp_path / "pretrain", algorithm="maml", **POLICY)
    reptile = _train(tmp_path / "reptile", tmp_path / "pretrain", algorithm="reptile", **POLICY)
    after = {name: s["evaluation"]["mean"]["error_after"] for name, s in
             (("pretrain", base), ("maml", maml), ("reptile", reptile))}
    # the meta-learned inits adapt to a new motor/pole from 10 expert samples better than the average model
    assert after["maml"] < after["pretrain"], after
    assert after["reptile"] < after["pretrain"], after
    # and adaptation itself is what helps: the adapted MAML model beats its own starting point
    assert maml["evaluation"]["mean"]["error_after"] < maml["evaluation"]["mean"]["error_before"]
    held_out = [t["task"] for t in maml["evaluation"]["tasks"]]
    assert held_out == [10, 11, 12]  # physics draws never used in training
    assert "return_after" in maml["evaluation"]["mean"]


def test_adapt_to_new_task_returns_an_adapted_copy() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]])).astype(np.float32)
    torch.manual_seed(0)
    model = MetaModel(3, 1, [16])
    model.set_normalization(x, y)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    adapted = adapt_to_new_task(model, x, y, steps=5, lr=0.1)
    assert adapted is not model
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the original is untouched
    assert task_error(adapted, x, y) < task_error(model, x, y)


class _StopAfter(NullReporter):
    """Interrupts meta-training after ``n`` iterations, as Ctrl-C would."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def _on_task(self, task, final, force=False):  # type: ignore[no-untyped-def]
        if task.name == "meta-train" and task.done >= self.n:
            raise KeyboardInterrupt


def test_interrupted_run_resumes_to_the_same_bytes(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    _train(whole, algorithm="maml", **DYNAMICS)
    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        train(MetaConfig(algorithm="maml", **DYNAMICS), cut, _StopAfter(7))
    assert (cut / CHECKPOINT).is_file() and not (cut / MODEL).exists()  # iteration 6 checkpointed, then killed
    train(MetaConfig(algorithm="maml", **DYNAMICS), cut)
    for name in (CHECKPOINT, MODEL, METRICS):
        assert (cut / name).read_bytes() == (whole / name).read_bytes(), name
    model, info = load_meta_model(whole)
    assert info["inputs"][-2:] == ["cmd.shoulder", "cmd.elbow"] and info["outputs"][0] == "d.shoulder.position"
    # another setting in the same folder is refused
    from sim2real.errors import InputError

    with pytest.raises(InputError, match="other config"):
        train(MetaConfig(algorithm="reptile", **DYNAMICS), cut)


def test_a_corrupt_checkpoint_starts_again_instead_of_resuming_from_it(tmp_path: Path, caplog) -> None:
    """checkpoint.pt with a flipped byte still loads; its sha256 catches it (issue 22)."""
    import logging

    from testlib import flip_stored_byte

    whole = tmp_path / "whole"
    _train(whole, algorithm="maml", **DYNAMICS)
    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        train(MetaConfig(algorithm="maml", **DYNAMICS), cut, _StopAfter(7))
    flip_stored_byte(cut / CHECKPOINT)
    torch.load(cut / CHECKPOINT, weights_only=True)  # corrupt, and it still loads
    with caplog.at_level(logging.WARNING):
        train(MetaConfig(algorithm="maml", **DYNAMICS), cut)
    assert "checkpoint.pt: sha256" in caplog.text and "starting again from iteration 0" in caplog.text
    assert (cut / MODEL).read_bytes() == (whole / MODEL).read_bytes()  # not trained on from the corrupt state


def test_a_corrupt_task_file_is_one_line(tmp_path: Path) -> None:
    """A flipped byte in tasks.npz fails zip's CRC check: a BadZipFile traceback before (issue 22)."""
    from sim2real.errors import InputError
    from sim2real.meta.run import load_tasks

    path = tmp_path / TASKS
    np.savez(path, physics=np.array("[{}]"), names=np.array("{}"), x_0=np.arange(500.0), y_0=np.arange(500.0))
    data = bytearray(path.read_bytes())
    data[data.index(np.arange(500.0).tobytes()) + 100] ^= 1  # inside x_0's values
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="tasks.npz: unreadable task file .*CRC"):
        load_tasks(path)


def test_bad_config_is_a_one_line_config_error(tmp_path: Path, run_cli) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('family = "dynamics"\ninner_steps = 0\n')
    with pytest.raises(ConfigError) as err:
        load_config(bad, {})
    assert "inner_steps" in str(err.value) and str(bad) in str(err.value) and "\n" not in str(err.value)
    bad.write_text('family = "arm"\n')
    proc = run_cli("meta", "train", "--config", str(bad), "--out", str(tmp_path / "run"))
    assert proc.returncode == 2
    assert "family" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_adapt_command_on_user_samples(tmp_path: Path, run_cli) -> None:
    run = tmp_path / "run"
    _train(run, algorithm="fomaml", **DYNAMICS)
    _, info = load_meta_model(run)
    rows = [",".join(info["inputs"] + info["outputs"])]
    rng = np.random.default_rng(1)
    for _ in range(8):
        rows.append(",".join(f"{v:.5f}" for v in rng.normal(size=len(info["inputs"]) + len(info["outputs"]))))
    samples = tmp_path / "k.csv"
    samples.write_text("\n".join(rows) + "\n")
    proc = run_cli("meta", "adapt", "--run", str(run), "--samples", str(samples), "--out", str(tmp_path / "a.pt"),
                   "--steps", "5", "--json", "--progress", "none", env={"OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    import json

    result = json.loads(proc.stdout)
    assert result["k_shot"] == 8 and result["mean"]["error_after"] < result["mean"]["error_before"]
    adapted, _ = load_meta_model(tmp_path / "a.pt")
    assert not torch.equal(adapted.net[0].weight, load_meta_model(run)[0].net[0].weight)
