"""tools/bench/devices.py: which device a benchmark runs on and the line that says so.

The CPU path runs for real (torch's device, an onnxruntime session on the providers it picks); the
CUDA path only where torch sees a CUDA device (never on the 2-core CI machine)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest
import torch
from testlib import REPO


def _load() -> ModuleType:
    # by path, not via sys.path: another test file in the same worker must not see tools/bench on it
    spec = importlib.util.spec_from_file_location("bench_devices", REPO / "tools" / "bench" / "devices.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


devices = _load()
HAS_CUDA = torch.cuda.is_available()


@pytest.mark.parametrize(("requested", "cuda", "expected"), [
    ("auto", False, "cpu"), ("auto", True, "cuda"), ("cpu", False, "cpu"), ("cpu", True, "cpu"), ("cuda", True, "cuda"),
])
def test_pick(requested: str, cuda: bool, expected: str) -> None:
    assert devices.pick(requested, cuda) == expected


def test_pick_refuses_cuda_without_a_device_and_unknown_names() -> None:
    # a benchmark that fell back silently would print CPU figures as GPU ones
    with pytest.raises(SystemExit, match="no CUDA device"):
        devices.pick("cuda", False)
    with pytest.raises(ValueError, match="expected one of auto, cpu, cuda"):
        devices.pick("gpu", True)


@pytest.mark.parametrize(("device", "available", "expected"), [
    ("cuda", ["CUDAExecutionProvider", "CPUExecutionProvider"], ["CUDAExecutionProvider", "CPUExecutionProvider"]),
    ("cuda", ["CPUExecutionProvider"], ["CPUExecutionProvider"]),  # torch has CUDA, this onnxruntime build not
    ("cpu", ["CUDAExecutionProvider", "CPUExecutionProvider"], ["CPUExecutionProvider"]),  # --device cpu is kept
])
def test_ort_providers(device: str, available: list[str], expected: list[str]) -> None:
    assert devices.ort_providers(device, available) == expected


@pytest.mark.skipif(HAS_CUDA, reason="the CPU-only path: this machine has a CUDA device")
def test_cpu_path_on_this_machine() -> None:
    """auto -> cpu; the line says CPU-only with the thread count; onnxruntime runs on the CPU provider."""
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    dev = devices.torch_device("auto")
    assert dev.type == "cpu"
    line = devices.describe(dev)
    assert line.startswith("cpu (") and f"{torch.get_num_threads()} threads" in line
    assert "no CUDA device: CPU-only figures" in line and torch.__version__ in line

    providers = devices.ort_providers(dev.type, ort.get_available_providers())
    assert providers == ["CPUExecutionProvider"]
    h = onnx.helper
    graph = h.make_graph([h.make_node("Relu", ["x"], ["y"])], "relu",
                         [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    session = ort.InferenceSession(model.SerializeToString(), providers=providers)
    assert session.get_providers() == providers
    import numpy as np

    out = session.run(None, {"x": np.array([-1.0, 2.0], np.float32)})[0]
    assert out.tolist() == [0.0, 2.0]


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device (none here)")
def test_cuda_path() -> None:
    dev = devices.torch_device("auto")
    assert dev.type == "cuda"
    assert torch.cuda.get_device_name(dev) in devices.describe(dev)
    assert devices.describe(torch.device("cpu")).endswith("CPU-only figures)")
