"""Which device a benchmark runs on, and the line that says so beside its figures.

``--device auto`` (the default) takes CUDA when torch sees a device, else the CPU; results carry the
device line so that a CPU-only figure is never read as a GPU one. Imports nothing of sim2real (the
plain baselines use it too) and no torch at import time (``availability`` is a parameter, for tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CHOICES = ("auto", "cpu", "cuda")


def pick(requested: str, cuda_available: bool) -> str:
    """``cuda`` or ``cpu`` for ``--device requested``; asking for CUDA where there is none is an error
    (a benchmark that silently fell back would report CPU figures as GPU ones)."""
    if requested not in CHOICES:
        raise ValueError(f"--device: expected one of {', '.join(CHOICES)} (got {requested!r})")
    if requested == "cuda" and not cuda_available:
        raise SystemExit("--device cuda: torch sees no CUDA device; run with --device cpu (or auto)")
    return "cuda" if requested == "cuda" or (requested == "auto" and cuda_available) else "cpu"


def torch_device(requested: str) -> Any:
    """The ``torch.device`` of ``pick`` on this machine."""
    import torch

    return torch.device(pick(requested, torch.cuda.is_available()))


def describe(device: Any) -> str:
    """``cuda:0 (NVIDIA ..., torch 2.x)`` or ``cpu (2 threads, torch 2.x; no CUDA device: CPU-only figures)``."""
    import torch

    if str(device).startswith("cuda"):
        return f"{device} ({torch.cuda.get_device_name(device)}, torch {torch.__version__})"
    why = "CPU-only figures" if torch.cuda.is_available() else "no CUDA device: CPU-only figures"
    return f"cpu ({torch.get_num_threads()} threads, torch {torch.__version__}; {why})"


def ort_providers(device: str, available: Sequence[str]) -> list[str]:
    """onnxruntime execution providers for ``device`` (``pick``'s answer): CUDA first when both the
    device and onnxruntime's CUDA provider are there, else the CPU alone."""
    if device == "cuda" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]
