"""TensorRT on the device: trtexec command lines, parsing its output to JSON, engine versions.

TensorRT engines are built ON the device (an engine is specific to the GPU and to the TensorRT
version that built it), with NVIDIA's ``trtexec`` (``/usr/src/tensorrt/bin/trtexec`` on JetPack):

* FP16: ``trtexec --onnx=model.fp32.onnx --fp16``;
* INT8, explicit quantization (TensorRT >= 8, the way TensorRT 10 recommends): the bundle's QDQ
  model ``model.int8.onnx``, ``--int8 --fp16`` (the Q/DQ scales made on the host decide);
* INT8, implicit quantization with a calibration cache made ON the device: ``calibrate`` runs
  TensorRT's entropy calibrator over the bundle's calibration images (Python API) and writes
  ``calibration.cache``; ``trtexec --onnx=model.fp32.onnx --int8 --calib=calibration.cache``.

The bundle's models have a dynamic batch, so builds pass ``--minShapes/--optShapes/--maxShapes``.
Every build writes beside the engine ``<engine>.json``: the TensorRT version, precision, the ONNX
file's sha256, the device and the parsed build log; loading refuses an engine whose version
differs from the running TensorRT (``check_engine_compatible``) instead of letting TensorRT fail
with "Serialization assertion ... failed" or "The engine plan file is not compatible".

Everything here except ``build_engine``'s subprocess and ``calibrate`` is a pure function, tested
with sample outputs written from NVIDIA's trtexec documentation (tests/deploy/samples/).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from typing import Any, Dict, List, Optional, Sequence, Tuple

TRTEXEC_PATHS = ("/usr/src/tensorrt/bin/trtexec", "/usr/local/tensorrt/bin/trtexec")
ENGINES_DIR = "engines"
PRECISIONS = ("fp32", "fp16", "int8")


class EngineMismatch(RuntimeError):
    """An engine built by another TensorRT version (or for another model)."""


# ---------------------------------------------------------------- versions


def parse_version(text: str) -> Tuple[int, int, int]:
    """A TensorRT version as ``(major, minor, patch)`` from any of the forms it is printed in:
    ``8.6.2``, ``8.6.2.3`` (with the build), ``10.3.0.26``, or the integer code of trtexec's banner
    and of TensorRT 8.0's version line (``8602`` / ``v8602`` = 8.6.2, ``100300`` = 10.3.0:
    major * 1000 + minor * 100 + patch before TensorRT 10, major * 10000 + minor * 100 + patch since)."""
    t = str(text).strip().lstrip("vV")
    m = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?", t)
    if m:
        return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if re.match(r"^\d+$", t):
        code = int(t)
        if code >= 100000:
            return code // 10000, (code // 100) % 100, code % 100
        if code >= 1000:
            return code // 1000, (code // 100) % 10, code % 100
    raise ValueError("not a TensorRT version: {!r}".format(text))


def version_string(version: Any) -> str:
    return "{}.{}.{}".format(*parse_version(version))


def same_version(a: Any, b: Any) -> bool:
    """Engines are tied to the exact major.minor.patch (the build number does not matter)."""
    return parse_version(a) == parse_version(b)


# ---------------------------------------------------------------- trtexec output


_LINE = re.compile(r"^(?:\[[^\]]*\]\s*)?\[(?P<level>[IWEVF])\]\s?(?P<msg>.*)$")
_STAT = re.compile(r"(min|max|mean|median|percentile\((\d+(?:\.\d+)?)%\))\s*=\s*([-+0-9.eE]+)\s*(ms|s|us)?")
_SUMMARY_KEYS = {
    "Latency": "latency_ms", "End-to-End Host Latency": "end_to_end_ms", "Enqueue Time": "enqueue_ms",
    "H2D Latency": "h2d_ms", "GPU Compute Time": "gpu_compute_ms", "D2H Latency": "d2h_ms",
}
_UNIT = {"ms": 1.0, "s": 1000.0, "us": 0.001, None: 1.0}


def parse_stats(text: str) -> Dict[str, float]:
    """``min = 0.86 ms, max = 2.2 ms, mean = ..., median = ..., percentile(99%) = ...`` -> milliseconds
    keyed ``min``, ``max``, ``mean``, ``median``, ``p90``, ``p95``, ``p99``."""
    out: Dict[str, float] = {}
    for m in _STAT.finditer(text):
        pct = m.group(2)
        key = m.group(1) if pct is None else "p" + (pct.rstrip("0").rstrip(".") if "." in pct else pct)
        out[key] = float(m.group(3)) * _UNIT[m.group(4)]
    return out


def parse_trtexec(text: str) -> Dict[str, Any]:
    """The build and timing output of ``trtexec`` (TensorRT 7.x-10.x) as JSON-ready data.

    Returns ``{"tensorrt_version", "passed" (True/False/None), "command", "device": {...},
    "build": {"engine_built_s", "engine_size_mib"}, "timing": {"throughput_qps",
    "latency_ms": {min, max, mean, median, p90, p95, p99}, "gpu_compute_ms": {...}, ...,
    "total_host_walltime_s", "total_gpu_compute_s"}, "warnings": [...], "errors": [...]}``."""
    out: Dict[str, Any] = {"tensorrt_version": None, "passed": None, "command": None, "device": {}, "build": {},
                           "timing": {}, "warnings": [], "errors": []}
    for raw in text.splitlines():
        line = raw.rstrip()
        banner = re.match(r"^&&&& (RUNNING|PASSED|FAILED) TensorRT\.trtexec \[TensorRT v(\d+)\](?: \[b\d+\])? # (.*)$", line)
        if banner:
            state, code, command = banner.groups()
            out["tensorrt_version"] = out["tensorrt_version"] or version_string(code)
            out["command"] = command
            if state != "RUNNING":
                out["passed"] = state == "PASSED"
            continue
        m = _LINE.match(line)
        if not m:
            continue
        level, msg = m.group("level"), m.group("msg").strip()
        if level == "W":
            out["warnings"].append(msg)
        elif level in ("E", "F"):
            out["errors"].append(msg)
        if level != "I":
            continue
        _parse_info(msg, out)
    return out


def _parse_info(msg: str, out: Dict[str, Any]) -> None:
    key, sep, value = msg.partition(":")
    key, value = key.strip(), value.strip()
    timing, build, device = out["timing"], out["build"], out["device"]
    if sep and key == "TensorRT version":
        out["tensorrt_version"] = version_string(value)
    elif sep and key in _SUMMARY_KEYS:
        timing[_SUMMARY_KEYS[key]] = parse_stats(value)
    elif sep and key == "Throughput":
        timing["throughput_qps"] = float(value.split()[0])
    elif sep and key == "Total Host Walltime":
        timing["total_host_walltime_s"] = float(value.split()[0])
    elif sep and key == "Total GPU Compute Time":
        timing["total_gpu_compute_s"] = float(value.split()[0])
    elif sep and key == "Selected Device":
        device["name"] = value
    elif sep and key == "Compute Capability":
        device["compute_capability"] = value
    elif sep and key == "Device Global Memory":
        device["memory"] = value
    else:
        built = re.match(r"Engine built in ([0-9.]+) sec", msg)
        size = re.search(r"[Cc]reated engine with size: ([0-9.]+) MiB", msg)
        if built:
            build["engine_built_s"] = float(built.group(1))
        elif size:
            build["engine_size_mib"] = float(size.group(1))


def parse_load_error(text: str) -> Optional[Dict[str, Optional[str]]]:
    """TensorRT's messages for an engine made by another version, or None. Two forms:
    ``The engine plan file is not compatible with this version of TensorRT, expecting library
    version 8.6.2.3 got 8.5.2.2, please rebuild.`` (<= 8.5) and ``Serialization assertion
    stdVersionRead == serializationVersion failed.Version tag does not match. Note: Current Version:
    236, Serialized Engine Version: 228`` (>= 8.6)."""
    m = re.search(r"not compatible with this version of TensorRT, expecting library version ([0-9.]+) got ([0-9.]+)", text)
    if m:
        return {"runtime": m.group(1), "engine": m.group(2)}
    m = re.search(r"Current Version: (\d+), Serialized Engine Version: (\d+)", text)
    if m:
        return {"runtime": "serialization " + m.group(1), "engine": "serialization " + m.group(2)}
    return None


# ---------------------------------------------------------------- command lines


def find_trtexec(which: Any = shutil.which, isfile: Any = os.path.isfile) -> Optional[str]:
    """``trtexec`` on PATH, else where JetPack and the tar packages put it."""
    found = which("trtexec")
    if found:
        return found
    for path in TRTEXEC_PATHS:
        if isfile(path):
            return path
    return None


def shape_arg(input_name: str, shape: Sequence[int]) -> str:
    return "{}:{}".format(input_name, "x".join(str(int(d)) for d in shape))


def build_command(trtexec: str, onnx: str, engine: str, precision: str, input_name: str, chw: Sequence[int],
                  version: Any, max_batch: int = 8, calib_cache: Optional[str] = None,
                  timing_cache: Optional[str] = None, workspace_mib: Optional[int] = None) -> List[str]:
    """The ``trtexec`` command that builds ``engine`` from ``onnx`` (dynamic batch 1..max_batch,
    optimised for 1). ``precision``: fp32 | fp16 | int8 (a QDQ model; with ``calib_cache`` an FP32
    model calibrated by the cache). ``--skipInference`` replaced ``--buildOnly`` in TensorRT 8.6."""
    if precision not in PRECISIONS:
        raise ValueError("precision {!r}: expected one of {}".format(precision, ", ".join(PRECISIONS)))
    one = [1] + list(chw)
    most = [int(max_batch)] + list(chw)
    cmd = [trtexec, "--onnx=" + onnx, "--saveEngine=" + engine,
           "--minShapes=" + shape_arg(input_name, one), "--optShapes=" + shape_arg(input_name, one),
           "--maxShapes=" + shape_arg(input_name, most)]
    if precision == "fp16":
        cmd.append("--fp16")
    elif precision == "int8":
        cmd += ["--int8", "--fp16"]  # layers without Q/DQ (or calibration) run in FP16, not FP32
        if calib_cache:
            cmd.append("--calib=" + calib_cache)
    if timing_cache:
        cmd.append("--timingCacheFile=" + timing_cache)
    if workspace_mib:
        cmd.append("--memPoolSize=workspace:{}M".format(int(workspace_mib)))
    cmd.append("--skipInference" if parse_version(version) >= (8, 6, 0) else "--buildOnly")
    return cmd


def timing_command(trtexec: str, engine: str, input_name: str, chw: Sequence[int], version: Any,
                   iterations: int = 200, warmup_ms: int = 500, batch: int = 1) -> List[str]:
    """The ``trtexec`` command that times ``engine`` at ``batch``: ``iterations`` queries after
    ``warmup_ms`` of warm-up, reporting the 50/95/99th percentiles (one percentile before 8.6)."""
    percentiles = "50,95,99" if parse_version(version) >= (8, 6, 0) else "99"
    return [trtexec, "--loadEngine=" + engine, "--shapes=" + shape_arg(input_name, [batch] + list(chw)),
            "--iterations={}".format(int(iterations)), "--duration=0", "--warmUp={}".format(int(warmup_ms)),
            "--percentile=" + percentiles]


# ---------------------------------------------------------------- engine files and their versions


def engine_path(root: str, precision: str, version: Any) -> str:
    """Where the engine for ``precision`` built by TensorRT ``version`` lives in a release."""
    return os.path.join(root, ENGINES_DIR, "model.{}.trt{}.engine".format(precision, version_string(version)))


def info_path(engine: str) -> str:
    return engine + ".json"


def read_engine_info(engine: str) -> Dict[str, Any]:
    try:
        with open(info_path(engine)) as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise EngineMismatch("{}: no {} saying which TensorRT built it; rebuild it with python -m s2r_edge "
                             "build-engine".format(engine, os.path.basename(info_path(engine)))) from None


def check_engine_compatible(info: Dict[str, Any], runtime_version: Any, engine: str = "engine",
                            onnx_sha256: Optional[str] = None) -> None:
    """Refuse an engine built by another TensorRT version, or from another ONNX model."""
    built = info.get("tensorrt_version")
    if not built or not same_version(built, runtime_version):
        raise EngineMismatch("{}: built by TensorRT {} but this device runs TensorRT {}; rebuild it here "
                             "(python -m s2r_edge build-engine)".format(engine, built, version_string(runtime_version)))
    if onnx_sha256 and info.get("onnx_sha256") != onnx_sha256:
        raise EngineMismatch("{}: built from another model (sha256 {}...); rebuild it".format(
            engine, str(info.get("onnx_sha256"))[:12]))


def engine_info(engine: str, precision: str, version: Any, onnx: str, onnx_sha256: str, build_log: Dict[str, Any],
                command: List[str], calibration_cache: Optional[str] = None, device: Optional[Dict[str, Any]] = None
                ) -> Dict[str, Any]:
    return {"engine": os.path.basename(engine), "tensorrt_version": version_string(version), "precision": precision,
            "onnx": os.path.basename(onnx), "onnx_sha256": onnx_sha256, "command": command,
            "calibration_cache": calibration_cache, "device": device or {}, "build": build_log}


def run_trtexec(cmd: List[str], log_path: str, timeout_s: float = 3600.0) -> Tuple[int, str, Dict[str, Any]]:
    """Run ``trtexec``, keep its whole output in ``log_path``, return (exit code, text, parsed)."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=timeout_s)
    with open(log_path, "w") as fh:
        fh.write(proc.stdout)
    return proc.returncode, proc.stdout, parse_trtexec(proc.stdout)


def calibrate(onnx: str, batches: Any, cache_path: str, input_name: str) -> str:  # pragma: no cover - TensorRT
    """Make an INT8 calibration cache ON the device: TensorRT's entropy calibrator (the implicit
    quantization API of TensorRT 8.x, deprecated from 10.1 where the QDQ model is the way) over
    ``batches`` (an iterable of float32 NCHW arrays, already preprocessed)."""
    import numpy as np
    import tensorrt as trt
    from cuda import cudart

    class Calibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self) -> None:
            super().__init__()
            self.items = iter(batches)
            self.ptr = None
            self.batch = 1

        def get_batch_size(self) -> int:
            return self.batch

        def get_batch(self, names: Any) -> Any:
            x = next(self.items, None)
            if x is None:
                return None
            x = np.ascontiguousarray(x, dtype=np.float32)
            if self.ptr is None:
                self.ptr = cudart.cudaMalloc(x.nbytes)[1]
            cudart.cudaMemcpy(self.ptr, x.ctypes.data, x.nbytes, cudart.cudaMemcpyKind.cudaMemcpyHostToDevice)
            return [int(self.ptr)]

        def read_calibration_cache(self) -> Any:
            return None  # always calibrate afresh on this device

        def write_calibration_cache(self, cache: Any) -> None:
            with open(cache_path, "wb") as fh:
                fh.write(bytes(cache))

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH))
    parser = trt.OnnxParser(network, logger)
    with open(onnx, "rb") as fh:
        if not parser.parse(fh.read()):
            raise RuntimeError("TensorRT could not parse {}: {}".format(onnx, parser.get_error(0)))
    config = builder.create_builder_config()
    config.set_flag(trt.BuilderFlag.INT8)
    config.int8_calibrator = Calibrator()
    profile = builder.create_optimization_profile()
    shape = tuple(network.get_input(0).shape)
    one = (1,) + shape[1:]
    profile.set_shape(input_name, one, one, one)
    config.add_optimization_profile(profile)
    config.set_calibration_profile(profile)
    if builder.build_serialized_network(network, config) is None:
        raise RuntimeError("TensorRT INT8 calibration failed for {}".format(onnx))
    return cache_path
