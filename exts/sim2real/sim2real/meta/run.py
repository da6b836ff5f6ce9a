"""A meta-learning run: its folder, the outer loop, checkpoints, resume and the held-out evaluation.

The folder (``--out``):

* ``run.json`` (kind ``meta``; id kept across resumes), ``config.json`` (the ``MetaConfig``; a resume
  with other settings is refused);
* ``tasks.npz``: every task's samples (train and held-out), built once from the simulator;
* ``checkpoint.pt``: after every ``checkpoint_every`` iterations (temporary name + rename): model,
  optimiser, iteration, loss history. Each iteration draws its tasks and splits from a generator
  seeded with ``(seed, iteration)``, so a run killed at any moment continues from its checkpoint and
  ends with the same bytes as an uninterrupted one (same machine and thread count);
* ``model.pt``: the meta-learned initialisation and what it reads/predicts (``load_meta_model``);
* ``metrics.json``: loss history, and the held-out evaluation: per task the error (policy: also the
  return) before and after ``adapt_to_new_task`` from K samples.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..errors import InputError, IntegrityError
from ..fsutil import atomic_write_bytes, atomic_write_json, content_hash, locked_dir, remove_stale_tmp
from ..progress import NullReporter, Reporter
from ..runs import claim_run_folder
from ..train.numerics import deterministic_algorithms
from ..train.runfolder import CHECKPOINT_FORMAT, load_torch, save_torch
from .config import MetaConfig
from .families import DynamicsTasks, PolicyTasks, TaskData, build_tasks, open_family, task_indices
from .learn import MetaLearner, MetaModel, adapt_to_new_task, task_error

log = logging.getLogger(__name__)

CONFIG, TASKS, CHECKPOINT, MODEL, METRICS = "config.json", "tasks.npz", "checkpoint.pt", "model.pt", "metrics.json"
MODEL_KIND = "meta-model"
METRIC_EVERY = 10  # iterations between progress metric events


def train(cfg: MetaConfig, out: Path, reporter: Reporter | None = None) -> dict[str, Any]:
    """Meta-train (or resume) in ``out``; returns the summary written to metrics.json."""
    rep = reporter or NullReporter()
    out = Path(out)
    with locked_dir(out, purpose="meta-learning"), deterministic_algorithms():
        remove_stale_tmp(out)
        _identity(cfg, out)
        family = None
        try:
            if cfg.family == "policy" or not (out / TASKS).is_file():
                family = open_family(cfg)
            tasks, names = _tasks(cfg, out, family, rep)
            train_idx, test_idx = task_indices(cfg)
            train_tasks = [tasks[i] for i in train_idx]
            model = new_model(cfg, train_tasks)
            learner = MetaLearner(cfg, model)
            history = _resume(cfg, out, learner, rep)
            _loop(cfg, out, learner, train_tasks, history, rep)
            _save_model(cfg, out, model, tasks[0], names)
            evaluation = evaluate(cfg, model, [tasks[i] for i in test_idx], family if isinstance(family, PolicyTasks) else None, rep)
        finally:
            if family is not None:
                family.close()
        summary = _summary(cfg, history, evaluation)
        atomic_write_json(out / METRICS, summary)
        return summary


def _identity(cfg: MetaConfig, out: Path) -> None:
    from ..fsutil import sha256_file
    from .config import family_profile

    spec = cfg.dynamics if cfg.family == "dynamics" else cfg.policy
    profile = family_profile(spec.profile)
    claim_run_folder(out, "meta", {"config": cfg.model_dump(mode="json")}, config_name=CONFIG,
                     extra={"family": cfg.family, "algorithm": cfg.algorithm,
                            "profile": {"path": str(profile), "sha256": sha256_file(profile)}})


def _tasks(cfg: MetaConfig, out: Path, family: DynamicsTasks | PolicyTasks | None,
           rep: Reporter) -> tuple[list[TaskData], dict[str, list[str]]]:
    """Every task's samples and the names of x and y: from tasks.npz when an earlier start built them,
    else from the simulator."""
    path = out / TASKS
    if path.is_file():
        return load_tasks(path)
    assert family is not None
    train_idx, test_idx = task_indices(cfg)
    tasks = build_tasks(family, train_idx + test_idx, rep)
    short = [t.index for t in tasks if len(t.x) < cfg.samples_per_task]
    if short:
        raise InputError(f"tasks {short} have fewer than k_shot + query = {cfg.samples_per_task} samples; "
                         "expected more rollouts/demos per task or a smaller k_shot/query")
    names = {"inputs": family.inputs, "outputs": family.outputs}
    save_tasks(path, tasks, names)
    return tasks, names


def save_tasks(path: Path, tasks: list[TaskData], names: dict[str, list[str]]) -> None:
    arrays: dict[str, Any] = {"physics": np.array(json.dumps([t.physics for t in tasks])),
                              "names": np.array(json.dumps(names))}
    for t in tasks:
        arrays[f"x_{t.index}"], arrays[f"y_{t.index}"] = t.x, t.y
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def load_tasks(path: Path) -> tuple[list[TaskData], dict[str, list[str]]]:
    try:
        with np.load(path) as z:
            physics = json.loads(str(z["physics"]))
            tasks = [TaskData(i, physics[i], z[f"x_{i}"], z[f"y_{i}"]) for i in range(len(physics))]
            return tasks, json.loads(str(z["names"]))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:  # BadZipFile: a CRC mismatch
        raise InputError(f"{path}: unreadable task file ({exc}); delete it to rebuild the tasks") from None


def new_model(cfg: MetaConfig, train_tasks: list[TaskData]) -> MetaModel:
    """The initial model: weights from the seed, standardisation from the training tasks' samples."""
    torch.manual_seed(cfg.seed)
    x = np.concatenate([t.x for t in train_tasks])
    y = np.concatenate([t.y for t in train_tasks])
    model = MetaModel(x.shape[1], y.shape[1], cfg.hidden)
    model.set_normalization(x, y)
    return model


def _resume(cfg: MetaConfig, out: Path, learner: MetaLearner, rep: Reporter) -> list[float]:
    path = out / CHECKPOINT
    if not path.is_file():
        return []
    try:
        ckpt = load_torch(path)
    except IntegrityError as exc:  # the only checkpoint: nothing older to fall back to
        log.warning("%s; starting again from iteration 0", exc)
        return []
    if ckpt.get("config_hash") != content_hash(cfg.model_dump(mode="json")):
        raise InputError(f"{path}: made with other settings; expected a checkpoint of this run")
    learner.load_state_dict(ckpt["state"])
    history = list(ckpt["history"])
    rep.message(f"resuming {out} after iteration {len(history)} of {cfg.iterations}")
    return history


def _loop(cfg: MetaConfig, out: Path, learner: MetaLearner, tasks: list[TaskData], history: list[float],
          rep: Reporter) -> None:
    with rep.task("meta-train", total=cfg.iterations, unit="iter", done=len(history)) as task:
        for it in range(len(history), cfg.iterations):
            rng = np.random.default_rng([cfg.seed, it, 0x4E7A])
            batch = [tasks[i] for i in rng.choice(len(tasks), cfg.meta_batch, replace=False)]
            history.append(learner.step(batch, rng, it))
            done = it + 1
            task.advance(loss=round(history[-1], 5))
            if done % METRIC_EVERY == 0 or done == cfg.iterations:
                rep.metric("iteration", done, {"query_loss": float(np.mean(history[-METRIC_EVERY:]))})
            if done % cfg.checkpoint_every == 0 or done == cfg.iterations:
                save_torch(out / CHECKPOINT, {
                    "format": CHECKPOINT_FORMAT, "version": 1, "sim2real_version": __version__,
                    "config_hash": content_hash(cfg.model_dump(mode="json")), "iteration": done,
                    "state": learner.state_dict(), "history": list(history)})


def _save_model(cfg: MetaConfig, out: Path, model: MetaModel, any_task: TaskData, names: dict[str, list[str]]) -> None:
    save_torch(out / MODEL, {
        "format": CHECKPOINT_FORMAT, "kind": MODEL_KIND, "version": 1, "model": model.state_dict(),
        "n_in": int(any_task.x.shape[1]), "n_out": int(any_task.y.shape[1]), "hidden": list(cfg.hidden),
        "family": cfg.family, "algorithm": cfg.algorithm, **names,
        "adapt": {"k_shot": cfg.k_shot, "steps": cfg.inner_steps, "lr": cfg.inner_lr}})


def load_meta_model(run_or_file: str | Path) -> tuple[MetaModel, dict[str, Any]]:
    """The model of a run folder (its model.pt) or of a model file, and its description."""
    path = Path(run_or_file)
    path = path / MODEL if path.is_dir() else path
    ckpt = load_torch(path)
    if ckpt.get("kind") != MODEL_KIND:
        raise InputError(f"{path}: not a meta-learned model (expected the model.pt of `sim2real meta train`)")
    model = MetaModel(ckpt["n_in"], ckpt["n_out"], ckpt["hidden"])
    model.load_state_dict(ckpt["model"])
    return model, {k: v for k, v in ckpt.items() if k != "model"}


def save_adapted(path: Path, model: MetaModel, info: dict[str, Any], extra: dict[str, Any]) -> None:
    save_torch(path, {**info, "model": model.state_dict(), "adapted": extra})


def evaluate(cfg: MetaConfig, model: MetaModel, tasks: list[TaskData], family: PolicyTasks | None,
             reporter: Reporter | None = None, k: int | None = None, steps: int | None = None,
             lr: float | None = None) -> dict[str, Any]:
    """Held-out error (policy: and return) before and after adapting from ``k`` samples of each task."""
    rep = reporter or NullReporter()
    k, steps, lr = k or cfg.k_shot, steps or cfg.inner_steps, lr or cfg.inner_lr
    rows = []
    with rep.task("evaluate", total=len(tasks), unit="task") as bar:
        for t in tasks:
            rng = np.random.default_rng([cfg.seed, t.index, 0xA5])
            idx = rng.permutation(len(t.x))
            s, rest = idx[:k], idx[k:]
            adapted = adapt_to_new_task(model, t.x[s], t.y[s], steps, lr)
            row: dict[str, Any] = {"task": t.index, "physics": t.physics,
                                   "error_before": task_error(model, t.x[rest], t.y[rest]),
                                   "error_after": task_error(adapted, t.x[rest], t.y[rest])}
            if family is not None:
                row["return_before"] = family.mean_return(t.index, _policy(model))
                row["return_after"] = family.mean_return(t.index, _policy(adapted))
            rows.append(row)
            bar.advance()
    keys = [key for key in rows[0] if key.startswith(("error_", "return_"))] if rows else []
    means = {key: float(np.mean([r[key] for r in rows])) for key in keys}
    return {"k_shot": k, "steps": steps, "lr": lr, "tasks": rows, "mean": means}


def _policy(model: MetaModel) -> Any:
    def act(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.as_tensor(obs, dtype=torch.float32)[None])[0].numpy()

    return act


def _summary(cfg: MetaConfig, history: list[float], evaluation: dict[str, Any]) -> dict[str, Any]:
    return {"family": cfg.family, "algorithm": cfg.algorithm, "iterations": cfg.iterations,
            "iterations_done": len(history), "history": history, "evaluation": evaluation}
