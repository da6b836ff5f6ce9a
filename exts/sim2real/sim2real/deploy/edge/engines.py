"""Inference sessions on the device: onnxruntime (everywhere) and TensorRT (Jetson, NVIDIA GPUs).

``open_engine(bundle, precision, backend)`` picks one: ``backend="auto"`` takes TensorRT when its
Python bindings import and an engine for this TensorRT version exists (or can be built with
``trtexec``), and onnxruntime otherwise. Both give ``run(x) -> outputs`` on float32 NCHW batches.

``TrtEngine`` needs ``tensorrt`` and ``cuda-python`` (``cuda.cudart``), which exist only on NVIDIA
hardware: it is written against the TensorRT 8.6 / 10 Python API (named tensors,
``execute_async_v3``) and is NOT exercised by the test suite; its decisions (which engine, which
version, which shapes) are the pure functions of ``tensorrt_tools.py``, which are.
"""

from __future__ import annotations

import logging
import os
from typing import Any, List, Optional

import numpy as np

from . import tensorrt_tools as trt_tools

log = logging.getLogger(__name__)


class OrtEngine:
    """An onnxruntime session on the best available provider (TensorRT/CUDA EPs when the wheel has
    them, else CPU)."""

    backend = "onnxruntime"

    def __init__(self, path: str, threads: Optional[int] = None, providers: Optional[List[str]] = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
        available = ort.get_available_providers()
        wanted = providers or [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        self.session = ort.InferenceSession(path, opts, providers=wanted)
        self.providers = self.session.get_providers()
        self.input_name = self.session.get_inputs()[0].name
        self.path = path
        self.version = ort.__version__

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(x, dtype=np.float32)})[0]

    def describe(self) -> dict:
        return {"backend": self.backend, "version": self.version, "providers": self.providers,
                "model": os.path.basename(self.path)}


class TrtEngine:  # pragma: no cover - needs an NVIDIA GPU with TensorRT (see the module docstring)
    """A deserialised TensorRT engine with one float32 input and one float32 output."""

    backend = "tensorrt"

    def __init__(self, engine_path: str):
        import tensorrt as trt
        from cuda import cudart

        self.trt, self.cudart = trt, cudart
        info = trt_tools.read_engine_info(engine_path)
        trt_tools.check_engine_compatible(info, trt.__version__, engine_path)
        logger = trt.Logger(trt.Logger.WARNING)
        with open(engine_path, "rb") as fh:
            self.engine = trt.Runtime(logger).deserialize_cuda_engine(fh.read())
        if self.engine is None:
            raise trt_tools.EngineMismatch("{}: TensorRT {} could not deserialise it; rebuild it on this device"
                                           .format(engine_path, trt.__version__))
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        modes = [self.engine.get_tensor_mode(n) for n in names]
        self.input_name = names[modes.index(trt.TensorIOMode.INPUT)]
        self.output_name = names[modes.index(trt.TensorIOMode.OUTPUT)]
        self.stream = _cuda(cudart.cudaStreamCreate())
        self.path = engine_path
        self.version = trt.__version__
        self.precision = info.get("precision")
        self._buffers: dict = {}

    def _buffer(self, name: str, nbytes: int) -> int:
        ptr, size = self._buffers.get(name, (None, 0))
        if size < nbytes:
            if ptr is not None:
                _cuda(self.cudart.cudaFree(ptr))
            ptr = _cuda(self.cudart.cudaMalloc(nbytes))
            self._buffers[name] = (ptr, nbytes)
        return ptr

    def run(self, x: np.ndarray) -> np.ndarray:
        cudart = self.cudart
        x = np.ascontiguousarray(x, dtype=np.float32)
        self.context.set_input_shape(self.input_name, x.shape)
        out_shape = tuple(self.context.get_tensor_shape(self.output_name))
        out = np.empty(out_shape, dtype=np.float32)
        d_in, d_out = self._buffer("in", x.nbytes), self._buffer("out", out.nbytes)
        self.context.set_tensor_address(self.input_name, d_in)
        self.context.set_tensor_address(self.output_name, d_out)
        h2d, d2h = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice, cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
        _cuda(cudart.cudaMemcpyAsync(d_in, x.ctypes.data, x.nbytes, h2d, self.stream))
        if not self.context.execute_async_v3(self.stream):
            raise RuntimeError("TensorRT execution failed")
        _cuda(cudart.cudaMemcpyAsync(out.ctypes.data, d_out, out.nbytes, d2h, self.stream))
        _cuda(cudart.cudaStreamSynchronize(self.stream))
        return out

    def describe(self) -> dict:
        return {"backend": self.backend, "version": self.version, "precision": self.precision,
                "model": os.path.basename(self.path)}


def _cuda(result: Any) -> Any:  # pragma: no cover - TensorRT path
    """cuda-python calls return ``(err, value...)``; raise on an error, return the value."""
    err, *rest = result if isinstance(result, tuple) else (result,)
    if int(err) != 0:
        raise RuntimeError("CUDA error {}".format(err))
    return rest[0] if len(rest) == 1 else (tuple(rest) or None)


def tensorrt_version() -> Optional[str]:
    """The TensorRT Python bindings' version, or None when they do not import."""
    try:
        import tensorrt

        return str(tensorrt.__version__)
    except Exception:  # ImportError, or a broken CUDA install raising anything at import
        return None


def open_engine(bundle: Any, precision: str = "fp32", backend: str = "auto", threads: Optional[int] = None) -> Any:
    """An engine for ``precision`` of ``bundle`` (a ``bench.Bundle``). ``backend``: auto |
    onnxruntime | tensorrt. With TensorRT, the engine must exist for this TensorRT version (built
    by ``python -m s2r_edge build-engine``); one built for another version is refused."""
    if backend not in ("auto", "onnxruntime", "tensorrt"):
        raise ValueError("backend {!r}: expected auto, onnxruntime or tensorrt".format(backend))
    version = tensorrt_version() if backend != "onnxruntime" else None
    if version is not None:
        engine = trt_tools.engine_path(bundle.root, precision, version)
        if os.path.isfile(engine):
            return TrtEngine(engine)
        if backend == "tensorrt":
            raise FileNotFoundError("{}: no TensorRT {} engine for {}; build it first: python -m s2r_edge "
                                    "build-engine --precision {}".format(bundle.root, version, precision, precision))
        log.info("TensorRT %s is installed but no engine was built for %s; using onnxruntime", version, precision)
    elif backend == "tensorrt":
        raise RuntimeError("TensorRT's Python bindings are not installed on this device")
    return OrtEngine(bundle.model_path(precision), threads=threads)
