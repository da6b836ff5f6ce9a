"""The model files of a deployment: export, quantize, and score each version on the host.

``build_models`` is what both ``sim2real export`` (files where the user says) and ``sim2real deploy
bundle`` (files inside the bundle) run: the evaluation set, the FP32 export with its parity check,
INT8 (calibrated on synthetic + target images) and/or FP16, then every version's score on the
evaluation set (the PyTorch model's too: the reference the device is compared with) and its
onnxruntime latency at batch 1 with the ratio against FP32.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, UnsupportedError, UserError
from ..progress import NullReporter, Reporter
from . import evalset
from .export import Exported

PRECISIONS = ("fp32", "int8", "fp16")


@dataclass
class ExportRequest:
    run: Path
    precisions: tuple[str, ...] = ("fp32", "int8")
    eval_path: Path | None = None
    eval_count: int = 32
    calib_count: int = 64
    calib_method: str = "minmax"
    checkpoint: Path | None = None
    seed: int = 0
    iterations: int = 50  # host latency measurement per model (after 10 warm-up runs)

    def __post_init__(self) -> None:
        if self.eval_count < 1 or self.calib_count < 1:
            raise UserError("--eval-count/--calib-count: expected positive numbers of samples")


@dataclass
class Built:
    spec: Any  # train.runfolder.ModelSpec
    paths: dict[str, Path]  # precision -> ONNX file
    exported: Exported
    eval: evalset.SampleSet
    calibration: evalset.SampleSet | None
    reference: np.ndarray  # the PyTorch model's outputs on the evaluation set
    host: dict[str, Any]  # precision (and "torch") -> score on the evaluation set
    report: dict[str, Any]  # precision -> score, change, latency, latency_ratio
    checkpoint: dict[str, Any]  # which checkpoint was exported and why (runfolder.checkpoint_choice)

    def summary(self) -> dict[str, Any]:
        return {"parity_max_abs": self.exported.parity_max_abs, "parity_samples": self.exported.parity_samples,
                "eval": {"source": self.eval.origin, "role": self.eval.role, "count": len(self.eval)},
                "calibration": None if self.calibration is None else
                {"source": self.calibration.origin, "parts": self.calibration.parts},
                "host_torch": self.host["torch"], "models": self.report,
                "files": {p: str(path) for p, path in self.paths.items()}, "checkpoint": self.checkpoint}


def check_precisions(precisions: tuple[str, ...]) -> None:
    bad = [p for p in precisions if p not in PRECISIONS]
    if bad or "fp32" not in precisions:
        raise InputError(f"--precision: expected fp32 plus any of int8, fp16 (got {', '.join(precisions)})")


def build_models(req: ExportRequest, paths: dict[str, Path], reporter: Reporter | None = None) -> Built:
    from ..train.runfolder import checkpoint_choice, load_model
    from . import export, quantize
    from .edge import metrics

    reporter = reporter or NullReporter()
    check_precisions(req.precisions)
    if req.calib_method not in quantize.CALIBRATION_METHODS:
        raise InputError(f"--calib-method: expected one of {', '.join(quantize.CALIBRATION_METHODS)} "
                         f"(got {req.calib_method!r})")
    model, spec = load_model(req.run, req.checkpoint)
    if spec.task == "detect":
        raise UnsupportedError("sim2real export: a detect run's scored export (AP per precision, the edge runner's "
                               "decoding) is not built yet; deploy.export.export_onnx writes its ONNX (raw heads, "
                               "contract in model.json 'outputs') with the parity check")
    if spec.task == "state" and "int8" in req.precisions:
        raise UnsupportedError("--precision int8: static INT8 calibration is for image models; export a state MLP "
                               "with fp32,fp16")
    with reporter.task("export", total=2 + len(req.precisions), unit="step") as task:
        task.update(stage="evaluation set")
        ev = evalset.load_eval(req.run, spec, req.eval_path, req.eval_count)
        if not len(ev):
            raise InputError(f"{ev.origin}: no labelled samples for the evaluation set")
        x = ev.prepared(spec)
        labels = ev.targets if spec.task == "state" else ev.labels
        task.advance(stage="fp32")
        for path in paths.values():
            path.parent.mkdir(parents=True, exist_ok=True)
        exported = export.export_onnx(req.run, paths["fp32"], x, loaded=(model, spec))
        done = {"fp32": paths["fp32"]}
        calib = None
        task.advance()
        for precision in req.precisions:
            if precision == "fp32":
                continue
            task.update(stage=precision)
            if precision == "int8":
                calib = evalset.load_calibration(req.run, spec, req.calib_count, req.seed)
                done["int8"] = quantize.quantize_int8(paths["fp32"], paths["int8"], calib.prepared(spec),
                                                      export.INPUT, req.calib_method)
            else:
                done["fp16"] = quantize.convert_fp16(paths["fp32"], paths["fp16"])
            task.advance()
        task.update(stage="host scores")
        reference = export.torch_outputs(model, x)
        host = {"torch": metrics.score(spec.task, spec.classes, reference, labels, spec.outputs)}
        report = quantize.compare(done, x, labels, spec.task, spec.classes, spec.outputs, iterations=req.iterations)
        host.update({p: r["score"] for p, r in report.items()})
        task.advance()
    return Built(spec, done, exported, ev, calib, reference, host, report, checkpoint_choice(req.run, req.checkpoint))


def export_models(req: ExportRequest, onnx: Path, reporter: Reporter | None = None) -> tuple[Built, dict[str, Any]]:
    """``build_models`` into ``onnx`` (FP32) and ``NAME.<precision>.onnx`` beside it; the summary is
    written to ``NAME.export.json`` and returned with the models (its ``report`` key names the file)."""
    from ..fsutil import atomic_write_json

    stem = onnx.name[: -len(".onnx")] if onnx.name.endswith(".onnx") else onnx.name
    paths = {p: onnx if p == "fp32" else onnx.with_name(f"{stem}.{p}.onnx") for p in req.precisions}
    built = build_models(req, paths, reporter)
    summary = built.summary()
    report = onnx.with_name(f"{stem}.export.json")
    atomic_write_json(report, summary)
    summary["report"] = str(report)
    return built, summary
