"""Export and quantization: metadata inside the ONNX model, dynamic batch, checker, the PyTorch
parity gate, INT8 static QDQ (symmetric, calibrated on synthetic + target images), FP16, and the
accuracy/latency report; the edge preprocessing equals training's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from sim2real.deploy import evalset, export
from sim2real.deploy.edge import meta as edge_meta
from sim2real.deploy.prepare import ExportRequest, build_models
from sim2real.errors import InputError, IntegrityError
from sim2real.train.runfolder import load_model


@pytest.fixture(scope="module")
def exported(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("export")
    paths = {p: out / f"m.{p}.onnx" for p in ("fp32", "int8", "fp16")}
    built = build_models(ExportRequest(tiny_run, ("fp32", "int8", "fp16"), eval_count=6, calib_count=16,
                                       iterations=5), paths)
    return built, paths


def test_metadata_dynamic_batch_and_checker(exported, tiny_run: Path) -> None:
    built, paths = exported
    model = onnx.load(str(paths["fp32"]))
    onnx.checker.check_model(model, full_check=True)
    meta = edge_meta.read_onnx_metadata(str(paths["fp32"]))  # what the device reads, through onnxruntime
    spec = built.spec
    run = json.loads((tiny_run / "run.json").read_text())
    assert meta["task"] == "segment" and meta["arch"] == "segnet" and meta["precision"] == "fp32"
    assert meta["classes"] == ["background", "cube", "sphere", "mug"] == spec.classes
    assert meta["input"]["name"] == "input" and meta["input"]["shape"] == [None, 3, 24, 32]
    assert meta["input"]["layout"] == "NCHW" and meta["input"]["range"] == "0..1"
    assert meta["normalization"] == spec.normalization and meta["output"]["shape"] == [None, 4, 24, 32]
    assert meta["run_id"] == run["id"] and meta["dataset_id"] == run["parents"]["source"]
    assert meta["units"]["depth"] is None and "logits" in meta["units"]["output"]
    dim0 = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim0.dim_param == "batch" and not dim0.HasField("dim_value")
    sess = ort.InferenceSession(str(paths["fp32"]), providers=["CPUExecutionProvider"])
    for n in (1, 5):
        assert sess.run(None, {"input": np.zeros((n, 3, 24, 32), np.float32)})[0].shape == (n, 4, 24, 32)


def test_parity_is_reported_and_gates_the_export(exported, tiny_run: Path, tmp_path: Path, monkeypatch) -> None:
    built, _ = exported
    assert built.exported.parity_samples == 6 and 0 <= built.exported.parity_max_abs <= 1e-4
    model, spec = load_model(tiny_run)
    x = evalset.load_eval(tiny_run, spec, count=4).prepared(spec)
    real = export.torch_outputs
    monkeypatch.setattr(export, "torch_outputs", lambda m, x, batch=16: real(m, x, batch) + 1e-3)
    out = tmp_path / "bad.onnx"
    with pytest.raises(IntegrityError, match="differ by up to 0.001"):
        export.export_onnx(tiny_run, out, x)
    assert not out.exists()


def test_int8_is_static_symmetric_qdq_and_fp16_keeps_float_io(exported) -> None:
    built, paths = exported
    q = onnx.load(str(paths["int8"]))
    ops = [n.op_type for n in q.graph.node]
    assert ops.count("QuantizeLinear") >= 3 and ops.count("DequantizeLinear") >= ops.count("Conv")
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in q.graph.initializer}
    zero_points = [inits[n.input[2]] for n in q.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")
                   and len(n.input) > 2 and n.input[2] in inits]
    assert zero_points and not any(z.any() for z in zero_points)  # symmetric: TensorRT takes zero points of 0 only
    assert {z.dtype for z in zero_points} == {np.dtype(np.int8), np.dtype(np.int32)}  # int8 tensors, int32 biases
    assert edge_meta.read_onnx_metadata(str(paths["int8"]))["precision"] == "int8"
    h = onnx.load(str(paths["fp16"]))
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in h.graph.initializer)
    assert h.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert edge_meta.read_onnx_metadata(str(paths["fp16"]))["precision"] == "fp16"
    assert built.calibration is not None and built.calibration.parts["synthetic"] > 0
    assert built.calibration.parts["target"] > 0  # the mix: target images calibrate the ranges too


def test_report_has_accuracy_change_and_latency_ratio(exported) -> None:
    built, _ = exported
    report = built.report
    assert set(report) == {"fp32", "int8", "fp16"}
    assert report["fp32"]["change"] == 0.0 and report["fp32"]["latency_ratio"] == 1.0
    assert built.host["fp32"]["miou"] == pytest.approx(built.host["torch"]["miou"], abs=1e-9)
    for p in ("int8", "fp16"):
        row = report[p]
        assert row["change"] == pytest.approx(row["score"]["miou"] - report["fp32"]["score"]["miou"])
        assert row["latency_ratio"] == pytest.approx(report["fp32"]["latency"]["p50_ms"] / row["latency"]["p50_ms"])
        assert row["latency"]["p50_ms"] > 0 and row["metric"] == "miou"
    assert abs(report["fp16"]["change"]) < 0.05


def test_edge_preprocess_equals_training(tiny_run: Path) -> None:
    _, spec = load_model(tiny_run)
    pre = edge_meta.Preprocess(32, 24, spec.normalization["mean"], spec.normalization["std"])
    images = np.random.default_rng(0).integers(0, 256, (3, 24, 32, 3), dtype=np.uint8)
    np.testing.assert_array_equal(pre(images), spec.prepare(images))
    big = np.random.default_rng(1).integers(0, 256, (96, 160, 3), dtype=np.uint8)  # wider: centre crop, then area
    from sim2real.train.sources import fit

    np.testing.assert_array_equal(pre.fit(big), fit(big, (32, 24)))


def test_metadata_errors_are_one_line() -> None:
    with pytest.raises(edge_meta.MetadataError, match="not a sim2real model"):
        edge_meta.decode({"other": "x"}, "m.onnx")
    with pytest.raises(edge_meta.MetadataError, match="sim2real.classes is not valid JSON"):
        edge_meta.decode({"sim2real.format": edge_meta.FORMAT, "sim2real.classes": "[oops"}, "m.onnx")


def test_cli_export_and_bad_input(tiny_run: Path, tmp_path: Path, run_cli) -> None:
    out = tmp_path / "model.onnx"
    r = run_cli("export", str(tiny_run), "--onnx", str(out), "--precision", "fp32,fp16", "--eval-count", "4",
                "--json", "--progress", "none")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["parity_max_abs"] <= 1e-4 and set(result["models"]) == {"fp32", "fp16"}
    assert out.exists() and (tmp_path / "model.fp16.onnx").exists() and (tmp_path / "model.export.json").exists()
    # which checkpoint was exported and why (the tiny run trained one epoch: the last, by default)
    assert result["checkpoint"]["epoch"] == 1 and result["checkpoint"]["select"] == "last"
    assert result["checkpoint"]["file"].endswith("best.pt") and "last epoch (1)" in result["checkpoint"]["reason"]
    text = run_cli("export", str(tiny_run), "--onnx", str(tmp_path / "again.onnx"), "--progress", "none")
    assert text.returncode == 0 and "exported the last epoch (1)" in text.stdout, text.stderr
    r = run_cli("export", str(tiny_run), "--onnx", str(out), "--precision", "int4")
    assert r.returncode == 2 and "--precision: expected fp32 plus any of int8, fp16" in r.stderr
    r = run_cli("export", str(tmp_path), "--onnx", str(out))
    assert r.returncode == 2 and "not a sim2real training run" in r.stderr
    with pytest.raises(InputError, match="calib-method"):
        build_models(ExportRequest(tiny_run, ("fp32", "int8"), calib_method="magic"), {"fp32": out})


def test_classify_and_state_models_export_bundle_and_bench(tiny_run: Path, tmp_path: Path) -> None:
    """The other two tasks: classification crops (INT8 too) and the state MLP (FP32/FP16; INT8
    calibration is refused for it), each bundled and benchmarked by the edge runner."""
    from sim2real.deploy.bundle import make_bundle
    from sim2real.deploy.edge.bench import bench
    from sim2real.deploy.edge.archive import extract as safe_extract
    from sim2real.errors import UnsupportedError
    from sim2real.train.config import load_config
    from sim2real.train.data import Inputs
    from sim2real.train.trainer import TrainRequest, train

    data = tiny_run.parent
    cfg = load_config(data / "tiny.toml", {"epochs": 1, "task": "classify", "resolution": (24, 24),
                                           "min_object_pixels": 16})
    train(TrainRequest(cfg, Inputs(data / "src", data / "tgt", None, data / "tev"), tmp_path / "cls"))
    rng = np.random.default_rng(0)
    f = rng.normal(size=(48, 4)).astype(np.float32)
    np.savez(tmp_path / "sim.npz", features=f, targets=(f @ rng.normal(size=(4, 2))).astype(np.float32))
    np.savez(tmp_path / "real.npz", features=f[:16] + 0.2, targets=np.zeros((16, 2), np.float32))
    cfg = load_config(None, {"epochs": 1, "task": "state", "batch_size": 8, "model": {"widths": [16, 16]}})
    train(TrainRequest(cfg, Inputs(tmp_path / "sim.npz", tmp_path / "real.npz", None, tmp_path / "real.npz"),
                       tmp_path / "state"))
    with pytest.raises(UnsupportedError, match="state MLP"):
        build_models(ExportRequest(tmp_path / "state", ("fp32", "int8")), {})
    for name, precisions, metric in (("cls", ("fp32", "int8"), "accuracy"), ("state", ("fp32", "fp16"), "rmse")):
        make_bundle(ExportRequest(tmp_path / name, precisions, eval_count=8, calib_count=8, iterations=3),
                    tmp_path / f"{name}.tar")
        safe_extract(str(tmp_path / f"{name}.tar"), str(tmp_path / f"{name}-dev"))
        out = bench(str(tmp_path / f"{name}-dev"), warmup=1, iterations=3)
        manifest = json.loads((tmp_path / f"{name}-dev" / "manifest.json").read_text())
        assert out["metric"] == metric and [r["precision"] for r in out["results"]] == list(precisions)
        fp32 = out["results"][0]
        assert fp32["accuracy"][metric] == pytest.approx(manifest["host"]["fp32"][metric], abs=1e-6)
        assert abs(fp32["change_vs_host"]) < 1e-5  # the device's FP32 answers are the host PyTorch model's
        meta = edge_meta.read_onnx_metadata(str(tmp_path / f"{name}-dev" / "models" / "model.fp32.onnx"))
        assert meta["task"] == ("classify" if name == "cls" else "state")
        assert meta["input"]["shape"] == ([None, 3, 24, 24] if name == "cls" else [None, 4])
