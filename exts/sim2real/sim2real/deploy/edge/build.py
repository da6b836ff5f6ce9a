"""Build a TensorRT engine for a bundle ON the device with ``trtexec`` (``python -m s2r_edge build-engine``).

    python3 -m s2r_edge build-engine --bundle ~/sim2real/current --precision fp16
    python3 -m s2r_edge build-engine --bundle ~/sim2real/current --precision int8            # the QDQ model
    python3 -m s2r_edge build-engine --bundle ~/sim2real/current --precision int8 --calibrate  # cache made here

Writes ``engines/model.<precision>.trt<version>.engine``, its ``.json`` (TensorRT version,
precision, source ONNX sha256, command, parsed build log) and the raw ``.log``. ``trtexec`` and
the TensorRT version are found on the device (``--help`` prints the version banner).
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import tensorrt_tools as tt
from .bundle import Bundle, sha256_file

Runner = Callable[[List[str], str], Tuple[int, str, Dict[str, Any]]]


def trtexec_version(trtexec: str, run: Runner = tt.run_trtexec, log_dir: str = ".") -> str:
    """The TensorRT version of ``trtexec`` from the banner it prints first (``--help``)."""
    _, text, parsed = run([trtexec, "--help"], os.path.join(log_dir, "trtexec-help.log"))
    if not parsed.get("tensorrt_version"):
        raise RuntimeError("{}: no TensorRT version banner in its output".format(trtexec))
    return str(parsed["tensorrt_version"])


def _input(bundle: Bundle, precision: str) -> Tuple[str, List[int]]:
    entry = bundle.manifest["models"][precision]
    shape = entry["input_shape"]
    return entry["input_name"], [int(d) for d in shape[1:]]


def build_engine(root: str, precision: str, calibrate: bool = False, trtexec: Optional[str] = None,
                 max_batch: int = 8, run: Runner = tt.run_trtexec, calibrator: Callable[..., str] = tt.calibrate,
                 device: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    bundle = Bundle(root)
    trtexec = trtexec or tt.find_trtexec()
    if not trtexec:
        raise RuntimeError("trtexec not found (JetPack puts it in /usr/src/tensorrt/bin); install TensorRT or run "
                           "the bundle with onnxruntime")
    engines = os.path.join(bundle.root, tt.ENGINES_DIR)
    os.makedirs(engines, exist_ok=True)
    version = trtexec_version(trtexec, run, engines)
    source = "fp32" if precision != "int8" or calibrate else "int8"
    onnx = bundle.model_path(source)
    input_name, chw = _input(bundle, source)
    cache = None
    if calibrate:
        if precision != "int8":
            raise ValueError("--calibrate makes an INT8 calibration cache; use it with --precision int8")
        cache = calibrator(onnx, _calibration_batches(bundle), os.path.join(engines, "calibration.cache"), input_name)
    final = tt.engine_path(bundle.root, precision, version)
    tmp = final + ".tmp-{}".format(os.getpid())
    cmd = tt.build_command(trtexec, onnx, tmp, precision, input_name, chw, version, max_batch, cache,
                           timing_cache=os.path.join(engines, "timing.cache"))
    code, text, parsed = run(cmd, final + ".log")
    if code != 0 or parsed.get("passed") is False or not os.path.isfile(tmp):
        first = (parsed.get("errors") or ["exit code {}".format(code)])[0]
        raise RuntimeError("trtexec failed to build the {} engine: {} (log: {})".format(precision, first, final + ".log"))
    info = tt.engine_info(final, precision, parsed.get("tensorrt_version") or version, onnx, sha256_file(onnx), parsed,
                          [c.replace(tmp, final) for c in cmd], cache and os.path.basename(cache), device)
    os.replace(tmp, final)
    _write_json(tt.info_path(final), info)
    return info


def _calibration_batches(bundle: Bundle) -> Any:  # pragma: no cover - used by the TensorRT calibrator only
    import numpy as np

    entry = bundle.manifest.get("calibration")
    if not entry:
        raise RuntimeError("{}: this bundle has no calibration images".format(bundle.root))
    with np.load(os.path.join(bundle.root, entry["file"])) as data:
        images = data["images"]
        depth = data["depth"] if "depth" in data.files else None
    pre = bundle.preprocess()
    for i in range(len(images)):
        yield pre(images[i:i + 1], None if depth is None else depth[i:i + 1])


def trtexec_timing(root: str, precision: str, version: str, iterations: int, warmup_ms: int, batch: int = 1,
                   trtexec: Optional[str] = None, run: Runner = tt.run_trtexec) -> Optional[Dict[str, Any]]:
    """trtexec's own timing of a built engine (GPU compute, H2D/D2H, percentiles), or None
    without trtexec; the raw log and the parsed JSON are kept beside the engine."""
    trtexec = trtexec or tt.find_trtexec()
    if not trtexec:
        return None
    bundle = Bundle(root)
    engine = tt.engine_path(bundle.root, precision, version)
    input_name, chw = _input(bundle, "int8" if precision == "int8" and "int8" in bundle.manifest["models"] else "fp32")
    cmd = tt.timing_command(trtexec, engine, input_name, chw, version, iterations, warmup_ms, batch)
    code, _, parsed = run(cmd, engine + ".timing.log")
    if code != 0:
        raise RuntimeError("trtexec failed to time {}: {}".format(engine, (parsed.get("errors") or [code])[0]))
    _write_json(engine + ".timing.json", parsed)
    return parsed


def _write_json(path: str, obj: Any) -> None:
    tmp = path + ".tmp-{}".format(os.getpid())
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True)
    os.replace(tmp, path)
