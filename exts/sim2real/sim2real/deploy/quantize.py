"""INT8 (static, QDQ) and FP16 versions of an exported model, and what each costs and gains.

* INT8: onnxruntime's ``quantize_static`` in the QDQ format (QuantizeLinear/DequantizeLinear
  pairs around each quantized tensor: the explicit-quantization form TensorRT consumes), signed
  8-bit SYMMETRIC activations and weights (TensorRT supports only zero points of 0), weights per
  output channel, activation ranges calibrated (MinMax by default; ``entropy`` and ``percentile``
  too) on the calibration images: a mix of synthetic and target images (``evalset``). Dynamic
  quantization (the seeds' ``quantize_dynamic`` of ``Conv2d``) would quantize only Linear/LSTM
  weights in PyTorch and leave convolutions in float: nothing gained for a CNN.
* FP16: ``onnxconverter_common.float16`` (weights and compute in float16, inputs and outputs kept
  float32 so the runner does not change). On a CPU onnxruntime runs most FP16 operators through
  casts, so its FP16 latency here says nothing about a Jetson's; the accuracy change does.

``compare`` scores every model on the evaluation set and times it with onnxruntime at batch 1
(the same loop as the device benchmark, ``edge.bench``): accuracy change and latency ratio
against FP32.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NotInstalledError
from ..fsutil import atomic_write_bytes
from ..scratch import scratch_dir
from .edge import bench as edge_bench
from .edge import meta as edge_meta
from .edge import metrics
from .edge.engines import OrtEngine

log = logging.getLogger(__name__)
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
SCRATCH_PREFIX = "sim2real-int8-"  # in the temp folder: pre-processed and quantized copies of the model


class _Reader:
    """onnxruntime's ``CalibrationDataReader`` protocol over prepared inputs, one sample per batch."""

    def __init__(self, inputs: np.ndarray, name: str) -> None:
        self.inputs = inputs
        self.name = name
        self.i = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.i >= len(self.inputs):
            return None
        x = np.ascontiguousarray(self.inputs[self.i : self.i + 1], dtype=np.float32)
        self.i += 1
        return {self.name: x}

    def rewind(self) -> None:
        self.i = 0


def quantize_int8(fp32: Path, out: Path, calibration: np.ndarray, input_name: str = "input",
                  method: str = "minmax") -> Path:
    """Static INT8 QDQ model of ``fp32`` at ``out``, calibrated on ``calibration`` (prepared inputs)."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    calib = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
             "percentile": CalibrationMethod.Percentile}[method]
    with scratch_dir(SCRATCH_PREFIX) as tmp:  # a run killed here leaves it; the next one removes it
        pre, q = tmp / "pre.onnx", tmp / "int8.onnx"
        # shape inference + fusions onnxruntime recommends before quantizing; the symbolic pass
        # cannot follow Resize's scales and is not needed (every shape is static but the batch)
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        with contextlib.redirect_stdout(io.StringIO()):  # its calibration progress is not ours to print
            quantize_static(str(pre), str(q), _Reader(calibration, input_name), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, per_channel=True,
                            calibrate_method=calib,
                            extra_options={"ActivationSymmetric": True, "WeightSymmetric": True})
        model = onnx.load(str(q))
    _retag(model, fp32, "int8")
    atomic_write_bytes(out, model.SerializeToString())
    return out


def convert_fp16(fp32: Path, out: Path) -> Path:
    """FP16 weights and compute, float32 inputs and outputs."""
    import onnx

    try:
        from onnxconverter_common import float16
    except ImportError:
        raise NotInstalledError("onnxconverter-common (FP16 conversion)", "pip install 'sim2real[deploy]'") from None
    model = float16.convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=True)
    _retag(model, fp32, "fp16")
    atomic_write_bytes(out, model.SerializeToString())
    return out


def _retag(model: Any, fp32: Path, precision: str) -> None:
    """Carry the FP32 model's metadata over, with the new precision."""
    import onnx

    from .export import set_metadata

    source = onnx.load(str(fp32), load_external_data=False)
    meta = edge_meta.decode({p.key: p.value for p in source.metadata_props}, str(fp32))
    meta["precision"] = precision
    set_metadata(model, meta)
    onnx.checker.check_model(model)


def compare(models: dict[str, Path], inputs: np.ndarray, labels: np.ndarray, task: str, classes: list[str],
            outputs: dict[str, Any] | None = None, warmup: int = 10, iterations: int = 100,
            threads: int | None = 1) -> dict[str, Any]:
    """Per precision: the evaluation score, its change against FP32, onnxruntime latency at batch 1
    and the latency ratio ``fp32 / precision`` (above 1: faster than FP32)."""
    rows: dict[str, Any] = {}
    for precision, path in models.items():
        engine = OrtEngine(str(path), threads=threads, providers=["CPUExecutionProvider"])
        s = metrics.Score(task, classes, outputs)
        for start in range(0, len(inputs), 16):
            s.add(engine.run(inputs[start : start + 16]), labels[start : start + 16])
        times = edge_bench.time_engine(engine.run, inputs, warmup, iterations)
        rows[precision] = {"score": s.result(), "latency": edge_bench.latency_stats(times), "file": Path(path).name,
                           "bytes": Path(path).stat().st_size}
    base = rows.get("fp32")
    key = metrics.headline(task)
    for precision, row in rows.items():
        if base is not None:
            row["change"] = metrics.change(task, base["score"], row["score"])
            row["latency_ratio"] = base["latency"]["p50_ms"] / row["latency"]["p50_ms"]
        row["metric"] = key
    return rows
