"""A training run folder's identity: one experiment per folder, resumed only with its settings and data.

``config.json`` records the settings, inputs and data fingerprints of the first start; a later start in
the same folder must match them (or it is another experiment and is refused with the differences).
``run.json`` keeps the run's id from the first start; ``model.json`` describes the model it trains.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fsutil import atomic_write_json, content_hash
from ..runs import new_run_id, read_run_info, write_run_info
from . import runfolder as rf
from .config import TrainConfig
from .data import Inputs, TaskData
from .tasks import Norm, Task


def config_record(cfg: TrainConfig, inputs: Inputs) -> dict[str, Any]:
    """The settings and inputs a run is started with (``config.json`` without the fingerprints)."""
    return {"config": cfg.model_dump(mode="json"), "inputs": inputs.to_dict()}


def check_config(out: Path, wanted: dict[str, Any]) -> None:
    """A run folder holds one experiment: resuming with other settings or data is refused."""
    path = out / rf.CONFIG
    if not path.is_file():
        return
    try:
        have = json.loads(path.read_text())
        have.pop("fingerprints", None)
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: unreadable ({exc}); remove the run folder or choose another --out") from None
    diffs = _differences(have, wanted)
    if diffs:
        raise InputError(f"{out}: holds a run with other settings ({'; '.join(diffs[:4])}); "
                         "expected the same command to resume, or choose another --out")


def check_fingerprints(out: Path, fingerprints: dict[str, Any]) -> None:
    """The data must be what the run started with (a dataset that grew is other data)."""
    path = out / rf.CONFIG
    if not path.is_file():
        return
    have = json.loads(path.read_text()).get("fingerprints", {})
    diffs = _differences(have, fingerprints)
    if diffs:
        raise InputError(f"{out}: the run started on other data ({'; '.join(diffs[:3])}); "
                         "expected the same inputs to resume, or choose another --out")


def model_spec(cfg: TrainConfig, task: Task, data: TaskData, model: Any, norm: Norm,
               model_config: dict[str, Any]) -> rf.ModelSpec:
    """What ``model.json`` says about the trained model: its inputs, normalisation and outputs."""
    if cfg.task == "state":
        assert task.target_norm is not None  # type: ignore[attr-defined]  # the state task standardises its targets
        tn = task.target_norm  # type: ignore[attr-defined]
        inp: dict[str, Any] = {"features": data.train.feature_names}
        outputs = {"mean": tn.mean, "std": tn.std, "note": "outputs are standardised: y = out * std + mean"}
    else:
        w, h = cfg.resolution
        inp = {"width": w, "height": h, "channels": ["r", "g", "b"] + (["depth"] if cfg.depth else []),
               "range": "rgb / 255 (0..1), depth in metres", "layout": "NCHW",
               "resize": "centre crop to the aspect ratio, then area resize"}
        outputs = task.output_spec()
    return rf.ModelSpec(
        arch=model.arch, config=model_config, task=cfg.task, classes=list(data.classes), input=inp,
        normalization={"mean": norm.mean, "std": norm.std},
        depth_units="m" if cfg.depth else None, outputs=outputs, method=cfg.method)


def write_identity(out: Path, spec: rf.ModelSpec, record: dict[str, Any], fingerprints: dict[str, Any]) -> None:
    """run.json (kept from the first start), config.json and model.json; sets ``spec.run_id``."""
    fps = fingerprints
    try:
        run_id = read_run_info(out, "train")["id"]
    except InputError:
        run_id = new_run_id("train")
    spec.run_id = run_id
    parents = {k: v["id"] for k, v in fps.items() if v and v.get("kind") == "dataset"}
    extra = {"profile_hash": (fps["source"] or {}).get("profile_hash"), "target": fps["target"],
             "source": fps["source"], "eval": fps["eval"], "config_hash": content_hash(record)}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / rf.CONFIG, {**record, "fingerprints": fps})
    rf.write_spec(out, spec)
    write_run_info(out, "train", run_id, inputs=record, parents=parents, extra=extra)


def _differences(have: dict[str, Any], wanted: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(have) | set(wanted)):
        a, b = have.get(key), wanted.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} then, {b!r} now")
    return out
