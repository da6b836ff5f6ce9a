"""Export a trained model to ONNX with its description inside, and prove it computes the same thing.

``export_onnx(run, out)``:

1. loads the run's model (``train.runfolder.load_model``: ``best.pt``, else the last epoch);
2. exports it with torch's TorchScript exporter (opset 17; the dynamo exporter needs onnxscript),
   input ``input`` ``(batch, C, H, W)`` (state: ``(batch, D)``) and output ``logits`` with a dynamic
   batch dimension;
3. writes the metadata (``edge.meta``: task, classes, input names/shapes, normalisation, units,
   run and dataset ids) into ``metadata_props``, runs ``onnx.checker.check_model`` (full check),
   and writes the file atomically;
4. runs onnxruntime and PyTorch on the same dataset images (batch 1 and the whole set, so the
   dynamic batch is exercised) and reports the largest absolute difference of the outputs; above
   ``tolerance`` (1e-4 for FP32) export fails with ``IntegrityError`` and leaves no file.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IntegrityError
from ..fsutil import atomic_write_bytes
from ..runs import read_run_info
from ..train.runfolder import ModelSpec
from .edge import meta as edge_meta

log = logging.getLogger(__name__)

OPSET = 17
INPUT, OUTPUT = "input", "logits"
FP32_TOLERANCE = 1e-4


@dataclass
class Exported:
    path: Path
    metadata: dict[str, Any]
    parity_max_abs: float
    parity_samples: int
    input_shape: list[int | None]
    opset: int = OPSET

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "parity_max_abs": self.parity_max_abs, "parity_samples": self.parity_samples,
                "input_name": INPUT, "output_name": OUTPUT, "input_shape": self.input_shape, "opset": self.opset}


def input_shape(spec: ModelSpec) -> list[int | None]:
    """The model input's shape with ``None`` for the dynamic batch."""
    if spec.task == "state":
        return [None, len(spec.input["features"])]
    channels = len(spec.input.get("channels") or ["r", "g", "b"])
    return [None, channels, int(spec.input["height"]), int(spec.input["width"])]


def metadata(spec: ModelSpec, run: Path, precision: str = "fp32") -> dict[str, Any]:
    """What ``metadata_props`` holds (the keys ``edge.meta`` documents)."""
    info = read_run_info(run, "train")
    parents = dict(info.get("parents") or {})
    shape = input_shape(spec)
    channels = spec.input.get("channels") or spec.input.get("features")
    out_kind = {"state": "standardised targets (y = out * std + mean)",
                "detect": "raw CenterNet heads: heatmap logits (sigmoid) and box channels (see outputs)"}.get(
                    spec.task, "logits (softmax over dim 1)")
    units = {"rgb": "uint8 / 255 -> 0..1, then (x - mean) / std per channel" if spec.task != "state" else None,
             "depth": spec.depth_units, "output": out_kind}
    return {
        "format": edge_meta.FORMAT, "version": edge_meta.VERSION, "task": spec.task, "arch": spec.arch,
        "precision": precision, "classes": list(spec.classes),
        "input": {"name": INPUT, "shape": shape, "layout": "NCHW" if spec.task != "state" else "ND",
                  "channels": channels, "range": "0..1" if spec.task != "state" else "units",
                  "resize": spec.input.get("resize", "center-crop+area"), "dtype": "float32"},
        "normalization": spec.normalization,
        "output": {"name": OUTPUT, "shape": _output_shape(spec, shape), "kind": "logits" if spec.task != "state" else "standardised"},
        "units": units, "outputs": spec.outputs or {}, "run_id": info.get("id", spec.run_id),
        "dataset_id": parents.get("source", ""), "parents": parents, "method": spec.method,
    }


def _output_shape(spec: ModelSpec, shape: list[int | None]) -> list[int | None]:
    k = len(spec.classes)
    if spec.task == "detect":  # K heatmaps and 4 box channels at the heads' stride (model.json "outputs")
        stride = int(spec.outputs["stride"])
        return [None, int(spec.outputs["channels"]), int(shape[2]) // stride, int(shape[3]) // stride]  # type: ignore[arg-type]
    return [None, k, shape[2], shape[3]] if spec.task == "segment" else [None, k]


def set_metadata(model: Any, meta: dict[str, Any]) -> None:
    """Replace the ``sim2real.*`` entries of an ONNX ``ModelProto``'s ``metadata_props``."""
    import onnx

    keep = [p for p in model.metadata_props if not p.key.startswith(edge_meta.PREFIX)]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    onnx.helper.set_model_props(model, {**{p.key: p.value for p in keep}, **edge_meta.encode(meta)})
    model.producer_name = "sim2real"
    model.doc_string = f"sim2real {meta['task']} model ({meta['arch']}, {meta['precision']}) of run {meta['run_id']}"


def to_onnx(model: Any, spec: ModelSpec) -> bytes:
    """The model as ONNX bytes (TorchScript exporter, dynamic batch)."""
    import torch

    shape = [2 if d is None else d for d in input_shape(spec)]
    example = torch.zeros(*shape)
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(model, (example,), buf, dynamo=False, input_names=[INPUT], output_names=[OUTPUT],
                          opset_version=OPSET, do_constant_folding=True,
                          dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}})
    return buf.getvalue()


def torch_outputs(model: Any, x: np.ndarray, batch: int = 16) -> np.ndarray:
    import torch

    outs = []
    with torch.no_grad():
        for start in range(0, len(x), batch):
            outs.append(model(torch.from_numpy(np.ascontiguousarray(x[start:start + batch]))).numpy())
    return np.concatenate(outs)


def ort_outputs(path_or_bytes: Any, x: np.ndarray, batch: int = 16) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(path_or_bytes if isinstance(path_or_bytes, bytes) else str(path_or_bytes),
                                providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[s:s + batch]})[0] for s in range(0, len(x), batch)])


def parity(model: Any, onnx_bytes: bytes, x: np.ndarray) -> float:
    """Largest |onnxruntime - PyTorch| over ``x``: one sample alone, then all of them in batches."""
    import onnxruntime as ort

    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    single = sess.run(None, {INPUT: x[:1]})[0]
    ref = torch_outputs(model, x)
    diff = float(np.abs(single - ref[:1]).max())
    return max(diff, float(np.abs(ort_outputs(onnx_bytes, x) - ref).max()))


def export_onnx(run: str | Path, out: str | Path, inputs: np.ndarray, checkpoint: str | Path | None = None,
                tolerance: float = FP32_TOLERANCE, loaded: tuple[Any, ModelSpec] | None = None) -> Exported:
    """Export the run's model to ``out`` (see the module docstring). ``inputs``: prepared float32
    model inputs from dataset images for the parity check."""
    import onnx

    from ..train.runfolder import load_model

    run, out = Path(run), Path(out)
    model, spec = loaded or load_model(run, checkpoint)
    proto = onnx.load_from_string(to_onnx(model, spec))
    meta = metadata(spec, run)
    set_metadata(proto, meta)
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    diff = parity(model, data, np.ascontiguousarray(inputs, dtype=np.float32))
    log.info("ONNX parity on %d samples: max |ort - torch| = %.3g", len(inputs), diff)
    if not diff <= tolerance:
        raise IntegrityError(f"{out}: onnxruntime and PyTorch differ by up to {diff:.3g} on {len(inputs)} dataset "
                             f"samples (tolerance {tolerance:g}); the export is not written")
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, data)
    return Exported(out, meta, diff, len(inputs), input_shape(spec))
