"""Stage ``select``: which trained method the pipeline exports and deploys, and why.

``[train] deploy = "<method>"`` pins one. By default (``deploy = "best"``) the method that scores best on
the criterion ``deploy_by`` ships:

* ``"target"``: the task's metric (mIoU, accuracy, RMSE) of each run's shipped checkpoint on the labelled
  target evaluation set — what the report's first table compares. That set then chose the model, so its
  figure for the deployed method is optimistic by the choice (the report says so);
* a validator (``source``, ``snd``, ``dev``...): its value at each run's shipped epoch, no target label;
* ``"auto"`` (the default): ``target`` when a labelled evaluation set exists, else the validator
  ``[train] select`` names, else the first adapted method (no label-free score compares methods by
  itself: source validation favours source-only).

The choice, the criterion and every method's score go to the stage's outputs, the summary and the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..report import Section
from ..train.config import VALIDATOR_SIGN
from .stage import Context
from .stage_sections import fmt, metric_name, save_section
from .train import stage_name

BEST, AUTO, TARGET, FIRST = "best", "auto", "target", "first adapted method"
METRIC_SIGN = {"rmse": -1}  # which way is better per task metric (+1 higher: mIoU, accuracy)


def criterion(train: Any, outputs: dict[str, dict[str, Any]]) -> str:
    """The score that compares the methods (see the module docstring): ``target``, a validator, or FIRST."""
    by = train.deploy_by
    if by != AUTO:
        return by
    if any(outputs[stage_name(m)].get("target") is not None for m in train.methods):
        return TARGET
    return train.select if train.select != "last" else FIRST


def score(out: dict[str, Any], by: str) -> float | None:
    """A training run's score on criterion ``by`` at its shipped epoch."""
    if by == TARGET:
        return out.get("target")
    return (out.get("validators") or {}).get(by)


def choose(train: Any, outputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The deployed method, how it was chosen, and each method's score."""
    methods = list(train.methods)
    if train.deploy != BEST:
        return {"method": train.deploy, "by": "pinned", "scores": {}}
    by = criterion(train, outputs)
    if by == FIRST:
        adapted = [m for m in methods if m != "source-only"]
        return {"method": (adapted or methods)[0], "by": FIRST, "scores": {}}
    scores = {m: score(outputs[stage_name(m)], by) for m in methods}
    missing = [m for m, v in scores.items() if v is None]
    if missing:
        raise ConfigError(None, "train.deploy_by", f"a score every method has ({', '.join(missing)} has no "
                          f"{by!r}: add it to validators, or an evaluation set for 'target')", by)
    sign = METRIC_SIGN.get(outputs[stage_name(methods[0])]["metric"], 1) if by == TARGET else VALIDATOR_SIGN[by]
    best = max(methods, key=lambda m: sign * scores[m])  # ties: the first in methods
    return {"method": best, "by": by, "scores": scores}


def describe(choice: dict[str, Any], metric: str) -> str:
    """One line: which method ships and on what evidence."""
    method, by = choice["method"], choice["by"]
    if by in ("pinned", FIRST):
        return f"{method} ({'pinned: [train] deploy' if by == 'pinned' else 'the first adapted method: no score compares the methods'})"
    label = f"target {metric_name(metric)}" if by == TARGET else f"validator {by}"
    scores = ", ".join(f"{m} {fmt(v, 4)}" for m, v in choice["scores"].items())
    return f"{method} (best {label}: {scores})"


class SelectStage:
    name = "select"
    title = "Deployed model"

    def __init__(self, methods: list[str]) -> None:
        self.needs: tuple[str, ...] = tuple(stage_name(m) for m in methods)

    def inputs(self, ctx: Context) -> dict[str, Any]:
        t = ctx.spec.train
        return {"deploy": t.deploy, "deploy_by": t.deploy_by, "select": t.select}

    def run(self, ctx: Context, folder: Path) -> dict[str, Any]:
        choice = choose(ctx.spec.train, ctx.outputs)
        metric = ctx.outputs[self.needs[0]]["metric"]
        line = describe(choice, metric)
        ctx.reporter.message(f"deployed model: {line}")
        sec = Section(self.name, self.title)
        sec.text(f"Exported and deployed: {line}."
                 + (" The labelled target set chose it, so its target score is optimistic by that choice."
                    if choice["by"] == TARGET else ""))
        if choice["scores"]:
            sec.table(["method", "score", "deployed"], [[m, fmt(v, 4), "yes" if m == choice["method"] else ""]
                                                          for m, v in choice["scores"].items()],
                      title=f"Criterion: {line.split('(best ')[1].split(':')[0]}")
        return {"id": f"select-{choice['method']}", **choice, "summary": [["deployed model", line]],
                "section": ctx.rel(folder / save_section(folder, sec))}


def deployed(ctx_or_outputs: Any) -> str | None:
    """The method the select stage chose (None before it ran)."""
    outputs = ctx_or_outputs.outputs if isinstance(ctx_or_outputs, Context) else ctx_or_outputs
    return (outputs.get("select") or {}).get("method")
