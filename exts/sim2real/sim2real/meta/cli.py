"""``sim2real meta train|adapt``: meta-learn an initialisation; adapt it to a new task from K samples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..cli_common import JsonOpt, ProgressOpt, console, print_json, reporter

app = typer.Typer(help="Meta-learning (MAML, Reptile) for fast adaptation of dynamics models and policies.",
                  no_args_is_help=True)


@app.command("train")
def train_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (created, or resumed if it exists).")],
    config: Annotated[Optional[str], typer.Option("--config", "-c", help="TOML file, or a shipped one by name (arm2_dynamics, pendulum_policy).")] = None,
    family: Annotated[Optional[str], typer.Option("--family", help="dynamics or policy.")] = None,
    algorithm: Annotated[Optional[str], typer.Option("--algorithm", "-a", help="maml, fomaml, reptile or pretrain (the multi-task baseline).")] = None,
    iterations: Annotated[Optional[int], typer.Option("--iterations", help="Outer (meta) updates.")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed of tasks, initialisation and batches.")] = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Meta-train over a family of randomized tasks; evaluate on held-out tasks after K-shot adaptation."""
    from .config import load_config
    from .run import train

    overrides = {"family": family, "algorithm": algorithm, "iterations": iterations, "seed": seed}
    cfg = load_config(_config_file(config) if config else None, overrides)
    rep = reporter(progress)
    summary = train(cfg, out, rep)
    ev = summary["evaluation"]
    result = {"out": str(out), "family": cfg.family, "algorithm": cfg.algorithm,
              "iterations_done": summary["iterations_done"], "k_shot": ev["k_shot"], **ev["mean"]}
    rep.result(result)
    if json_out:
        print_json(result)
    elif progress != "json":
        console().print(f"{out}: {cfg.algorithm} on {cfg.family}; held-out after {ev['k_shot']} samples: "
                        + _means(ev["mean"]))


@app.command("adapt")
def adapt_cmd(
    run: Annotated[Path, typer.Option("--run", "-r", help="A `meta train` run folder (or a model.pt).")],
    samples: Annotated[Optional[Path], typer.Option("--samples", "-s", help="K samples of the new task: .npz (x, y) or .csv with the model's input and output columns. Without it: the run's held-out tasks.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Where to write the adapted model (.pt).")] = None,
    k: Annotated[Optional[int], typer.Option("--k", help="Samples to adapt from (default: the run's k_shot; with --samples: all of them).")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", help="Gradient steps (default: the run's inner_steps).")] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="SGD step (default: the run's inner_lr).")] = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Adapt a meta-learned model to a new task from K samples (its own, or the run's held-out tasks)."""
    from .run import load_meta_model

    model, info = load_meta_model(run)
    steps = steps or info["adapt"]["steps"]
    lr = lr or info["adapt"]["lr"]
    rep = reporter(progress)
    if samples is None:
        result = _held_out(run, model, k, steps, lr, rep)
    else:
        result = _adapt_samples(model, info, samples, k, steps, lr, out)
    rep.result(result)
    if json_out:
        print_json(result)
    elif progress != "json":
        console().print(f"adapted with {result['k_shot']} samples, {steps} steps of {lr:g}: " + _means(result["mean"])
                        + (f"; model: {out}" if out else ""))


def _held_out(run: Path, model: Any, k: int | None, steps: int, lr: float, rep: Any) -> dict[str, Any]:
    from ..errors import InputError
    from .config import MetaConfig
    from .families import PolicyTasks, task_indices
    from .run import CONFIG, TASKS, evaluate, load_tasks

    if not (run / TASKS).is_file():
        raise InputError(f"--run {run}: expected a `meta train` run folder (with {TASKS}) when --samples is not given")
    import json

    cfg = MetaConfig.model_validate(json.loads((run / CONFIG).read_text())["config"])
    tasks, _ = load_tasks(run / TASKS)
    family = PolicyTasks(cfg) if cfg.family == "policy" else None
    try:
        return evaluate(cfg, model, [tasks[i] for i in task_indices(cfg)[1]], family, rep, k, steps, lr)
    finally:
        if family is not None:
            family.close()


def _adapt_samples(model: Any, info: dict[str, Any], path: Path, k: int | None, steps: int, lr: float,
                   out: Path | None) -> dict[str, Any]:
    from .learn import adapt_to_new_task, task_error
    from .run import save_adapted
    from .samples import read_samples

    x, y = read_samples(path, info["inputs"], info["outputs"], info["n_in"], info["n_out"])
    x, y = (x[:k], y[:k]) if k else (x, y)
    adapted = adapt_to_new_task(model, x, y, steps, lr)
    if out is not None:
        save_adapted(out, adapted, {k_: v for k_, v in info.items()}, {"samples": str(path), "k": len(x),
                                                                         "steps": steps, "lr": lr})
    return {"k_shot": len(x), "steps": steps, "lr": lr, "model": None if out is None else str(out),
            "mean": {"error_before": task_error(model, x, y), "error_after": task_error(adapted, x, y)}}


def _means(means: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in means.items())


def _config_file(value: str) -> Path:
    from ..generate.request import resolve_file
    from ..paths import config_path

    return resolve_file(value, "config", config_path("meta"), ".toml")
