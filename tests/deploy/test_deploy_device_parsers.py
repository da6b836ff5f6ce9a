"""The pure TensorRT and Jetson logic of the edge runner, on SAMPLE outputs (samples/README.md):
trtexec build/timing output to JSON, TensorRT version forms, engine version refusal, trtexec
command lines per version, Jetson module / L4T / JetPack / TensorRT detection. The engine build
is exercised end to end with a STAND-IN trtexec (a script printing the sample), named as such."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from sim2real.deploy.edge import build as edge_build
from sim2real.deploy.edge import jetson
from sim2real.deploy.edge import tensorrt_tools as tt

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


@pytest.mark.parametrize("text, expected", [
    ("8.6.2", (8, 6, 2)), ("8.6.2.3", (8, 6, 2)), ("10.3.0.26", (10, 3, 0)), ("v8602", (8, 6, 2)),
    ("8201", (8, 2, 1)), ("8001", (8, 0, 1)), ("100300", (10, 3, 0)), ("v101600", (10, 16, 0)), ("7.1", (7, 1, 0)),
])
def test_tensorrt_version_forms(text: str, expected: tuple[int, int, int]) -> None:
    assert tt.parse_version(text) == expected


def test_version_errors_and_equality() -> None:
    with pytest.raises(ValueError):
        tt.parse_version("abc")
    assert tt.same_version("8.6.2.3", "v8602") and not tt.same_version("8.6.2", "8.5.2")


def test_build_log_to_json() -> None:
    out = tt.parse_trtexec(sample("trtexec_build_trt862_fp16.txt"))
    assert out["tensorrt_version"] == "8.6.2" and out["passed"] is True
    assert out["build"] == {"engine_built_s": 33.1847, "engine_size_mib": 0.9541}
    assert out["device"] == {"name": "Orin", "compute_capability": "8.7", "memory": "62800 MiB"}
    assert out["timing"] == {} and out["errors"] == []
    assert len(out["warnings"]) == 1 and "timing cache" in out["warnings"][0]
    assert "--fp16" in out["command"]
    json.dumps(out)


def test_timing_logs_to_json_trt10_and_trt8() -> None:
    t10 = tt.parse_trtexec(sample("trtexec_timing_trt1030.txt"))
    assert t10["tensorrt_version"] == "10.3.0" and t10["passed"] is True
    timing = t10["timing"]
    assert timing["throughput_qps"] == 1574.34
    assert timing["latency_ms"] == {"min": 0.59249, "max": 1.51343, "mean": 0.619318, "median": 0.608975,
                                    "p50": 0.608975, "p95": 0.651843, "p99": 0.953735}
    assert timing["gpu_compute_ms"]["p99"] == 0.740234 and timing["h2d_ms"]["mean"] == 0.102861
    assert timing["total_host_walltime_s"] == 0.127037 and timing["total_gpu_compute_s"] == 0.0819026
    assert len(t10["warnings"]) == 2
    t8 = tt.parse_trtexec(sample("trtexec_timing_trt8201.txt"))
    assert t8["tensorrt_version"] == "8.2.1"  # printed as the integer code 8201
    assert t8["timing"]["latency_ms"]["p99"] == 10.4225 and "p95" not in t8["timing"]["latency_ms"]
    assert t8["timing"]["end_to_end_ms"]["median"] == 10.1105 and t8["device"]["name"] == "NVIDIA Tegra X1"


def test_load_mismatch_is_recognised() -> None:
    text = sample("trtexec_load_mismatch_trt862.txt")
    out = tt.parse_trtexec(text)
    assert out["passed"] is False and any("deserialization failed" in e for e in out["errors"])
    assert tt.parse_load_error(text) == {"runtime": "serialization 236", "engine": "serialization 232"}
    old = ("[E] [TRT] INVALID_CONFIG: The engine plan file is not compatible with this version of TensorRT, "
           "expecting library version 8.2.1.8 got 8.5.2.2, please rebuild.")
    assert tt.parse_load_error(old) == {"runtime": "8.2.1.8", "engine": "8.5.2.2"}
    assert tt.parse_load_error("all fine") is None


def test_engine_from_another_version_is_refused() -> None:
    info = {"tensorrt_version": "8.5.2", "onnx_sha256": "a" * 64}
    tt.check_engine_compatible(info, "8.5.2.2", "e.engine", "a" * 64)
    with pytest.raises(tt.EngineMismatch, match="built by TensorRT 8.5.2 but this device runs TensorRT 8.6.2"):
        tt.check_engine_compatible(info, "8.6.2", "e.engine")
    with pytest.raises(tt.EngineMismatch, match="built from another model"):
        tt.check_engine_compatible(info, "8.5.2", "e.engine", "b" * 64)
    with pytest.raises(tt.EngineMismatch, match="built by TensorRT None"):
        tt.check_engine_compatible({}, "8.5.2")


def test_command_lines_follow_the_version() -> None:
    cmd = tt.build_command("trtexec", "m.onnx", "m.engine", "fp16", "input", [3, 96, 128], "8.6.2", max_batch=4)
    assert cmd[:3] == ["trtexec", "--onnx=m.onnx", "--saveEngine=m.engine"]
    assert "--minShapes=input:1x3x96x128" in cmd and "--maxShapes=input:4x3x96x128" in cmd
    assert "--fp16" in cmd and cmd[-1] == "--skipInference" and "--int8" not in cmd
    old = tt.build_command("trtexec", "m.onnx", "m.engine", "int8", "input", [3, 96, 128], "8.5.2", calib_cache="c.cache")
    assert old[-1] == "--buildOnly" and {"--int8", "--fp16", "--calib=c.cache"} <= set(old)
    with pytest.raises(ValueError):
        tt.build_command("trtexec", "m", "e", "int4", "input", [3, 8, 8], "10.3")
    t = tt.timing_command("trtexec", "m.engine", "input", [3, 96, 128], "10.3.0", iterations=50, warmup_ms=200)
    assert "--percentile=50,95,99" in t and "--iterations=50" in t and "--shapes=input:1x3x96x128" in t
    assert "--percentile=99" in tt.timing_command("trtexec", "m.engine", "input", [3, 8, 8], "8.2.1")
    assert tt.engine_path("/r", "fp16", "v8602") == "/r/engines/model.fp16.trt8.6.2.engine"
    assert tt.find_trtexec(lambda name: None, lambda p: p == tt.TRTEXEC_PATHS[0]) == tt.TRTEXEC_PATHS[0]
    assert tt.find_trtexec(lambda name: "/opt/bin/trtexec", lambda p: False) == "/opt/bin/trtexec"
    assert tt.find_trtexec(lambda name: None, lambda p: False) is None


def test_engine_build_with_a_stand_in_trtexec(bundle_b: Path, tmp_path: Path) -> None:
    """A STAND-IN for NVIDIA's trtexec (a Python script printing the sample log and writing an
    engine file): checks the wiring - version from the banner, the command, the log kept, the
    sidecar JSON with the parsed build - not TensorRT."""
    from sim2real.deploy.edge.archive import extract as safe_extract

    root = tmp_path / "release"
    safe_extract(str(bundle_b), str(root))
    fake = tmp_path / "trtexec"
    fake.write_text(f"""#!{sys.executable}
import sys
args = sys.argv[1:]
sys.stdout.write(open({str(SAMPLES / 'trtexec_build_trt862_fp16.txt')!r}).read())
for a in args:
    if a.startswith("--saveEngine="):
        open(a.split("=", 1)[1], "wb").write(b"stand-in engine")
""")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    info = edge_build.build_engine(str(root), "fp16", trtexec=str(fake), device={"model": "sample"})
    engine = root / "engines" / "model.fp16.trt8.6.2.engine"
    assert engine.read_bytes() == b"stand-in engine" and not list((root / "engines").glob("*.tmp-*"))
    saved = json.loads(Path(tt.info_path(str(engine))).read_text())
    assert saved == info and info["tensorrt_version"] == "8.6.2" and info["precision"] == "fp16"
    assert info["build"]["build"]["engine_built_s"] == 33.1847 and info["onnx"] == "model.fp32.onnx"
    assert "--fp16" in info["command"] and "--minShapes=input:1x3x24x32" in info["command"]
    assert (root / "engines" / "model.fp16.trt8.6.2.engine.log").is_file()
    tt.check_engine_compatible(tt.read_engine_info(str(engine)), "8.6.2", str(engine), info["onnx_sha256"])
    with pytest.raises(tt.EngineMismatch):
        tt.check_engine_compatible(tt.read_engine_info(str(engine)), "10.3.0", str(engine))
    timer = tmp_path / "trtexec-timing"  # STAND-IN again: prints the timing sample
    timer.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write(open({str(SAMPLES / 'trtexec_timing_trt1030.txt')!r}).read())\n")
    timer.chmod(timer.stat().st_mode | stat.S_IXUSR)
    timing = edge_build.trtexec_timing(str(root), "fp16", "8.6.2", 50, 200, trtexec=str(timer))
    assert timing["timing"]["latency_ms"]["p99"] == 0.953735
    assert json.loads(Path(f"{engine}.timing.json").read_text()) == timing
    from sim2real.deploy.edge.bundle import verify

    verify(str(root))  # engines/ is the device's own folder: the release still verifies


@pytest.mark.parametrize("name, expected", [
    ("agx_orin_jp512", {"jetson": True, "model": "NVIDIA Jetson AGX Orin Developer Kit", "l4t": "35.4.1",
                        "board": "t186ref", "jetpack": "5.1.2", "tensorrt": "8.5.2", "tensorrt_source": "NvInferVersion.h"}),
    ("orin_nano_jp61", {"jetson": True, "model": "NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super",
                        "l4t": "36.4.0", "board": "generic", "jetpack": "6.1", "tensorrt": "10.3.0",
                        "tensorrt_source": "NvInferVersion.h"}),
    ("nano_jp464", {"jetson": True, "model": "NVIDIA Jetson Nano Developer Kit", "l4t": "32.7.4", "board": "t210ref",
                    "jetpack": "4.6.4", "tensorrt": "8.2.1", "tensorrt_source": "jetpack table"}),
])
def test_jetson_sample_devices(name: str, expected: dict) -> None:
    assert jetson.probe(str(SAMPLES / "jetson" / name)) == expected


def test_jetson_parsers_and_this_machine() -> None:
    assert jetson.parse_dpkg("nvidia-jetpack\t6.0+b106\ntensorrt\t8.6.2.3-1+cuda12.2\n") == {
        "nvidia-jetpack": "6.0+b106", "tensorrt": "8.6.2.3-1+cuda12.2"}
    d = jetson.describe(b"NVIDIA Jetson AGX Orin\x00", "# R36 (release), REVISION: 3.0, GCID: 1, BOARD: generic",
                        None, "nvidia-jetpack\t6.0+b106\ntensorrt\t8.6.2.3-1+cuda12.2\n")
    assert d["jetpack"] == "6.0" and d["tensorrt"] == "8.6.2" and d["tensorrt_source"] == "dpkg tensorrt"
    assert jetson.parse_tegra_release("not a release file") is None
    assert jetson.describe(b"Raspberry Pi 4 Model B Rev 1.4\x00", None) == {
        "jetson": False, "model": "Raspberry Pi 4 Model B Rev 1.4", "tensorrt": None, "tensorrt_source": None}
    here = jetson.probe()
    if not os.path.exists("/etc/nv_tegra_release"):
        assert here["jetson"] is False  # this machine: "not a Jetson"
