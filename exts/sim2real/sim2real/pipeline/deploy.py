"""Stages ``export``, ``quantize`` and ``deploy``: the deployed method's model on its way to the device
(``sim2real.deploy``).

* ``export``: FP32 ONNX with its description inside, checked against PyTorch on evaluation images;
* ``quantize``: static INT8 (QDQ, calibrated on synthetic and target images) and/or FP16; every
  version scored on the evaluation set and timed with onnxruntime at batch 1, side by side with
  FP32 in the same process;
* ``deploy`` (only with a ``[deploy]`` target): the bundle, pushed over SSH, benchmarked on the
  device against the host model.

The evaluation set is the training run's ``--eval`` (the labelled target set), else labelled
synthetic frames: ``sim2real.deploy.evalset``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..fsutil import sha256_file
from ..report import Metric, Section, grade
from ..runs import content_id
from .stage_sections import fmt, metric_name, save_section
from .select import deployed
from .spec import resolve_path
from .stage import Context
from .train import stage_name

ONNX, BUNDLE = "model.onnx", "bundle.tar"


def deploy_stages(spec: Any) -> list[Any]:
    stages: list[Any] = [ExportStage()]
    if spec.quantize is not None:
        stages.append(QuantizeStage())
    if spec.deploy is not None:
        stages.append(DeployStage(stages[-1].name))
    return stages


def _run(ctx: Context) -> Path:
    return ctx.path(ctx.outputs[stage_name(deployed(ctx))]["run"])


def _eval_inputs(ctx: Context) -> tuple[Any, Any, Any, Any, Any]:
    """The deployed model, its spec, the evaluation set, its prepared inputs and labels."""
    from ..deploy import evalset
    from ..train.runfolder import load_model

    run = _run(ctx)
    model, spec = load_model(run)
    ev = evalset.load_eval(run, spec, None, ctx.spec.export.eval_images)
    return model, spec, ev, ev.prepared(spec), ev.truth()


def _torch_score(model: Any, spec: Any, x: Any, labels: Any) -> dict[str, Any]:
    from ..deploy.edge import metrics
    from ..deploy.export import torch_outputs

    return metrics.score(spec.task, spec.classes, torch_outputs(model, x), labels, spec.outputs)


class ExportStage:
    name = "export"
    title = "Export (ONNX)"

    needs: tuple[str, ...] = ("select",)  # and, through it, the training run it chose

    def inputs(self, ctx: Context) -> dict[str, Any]:
        return {"settings": ctx.spec.export.model_dump(mode="json")}

    def run(self, ctx: Context, folder: Path) -> dict[str, Any]:
        from ..deploy.export import export_onnx

        model, spec, ev, x, _ = _eval_inputs(ctx)
        exported = export_onnx(_run(ctx), folder / ONNX, x, tolerance=ctx.spec.export.tolerance, loaded=(model, spec))
        meta = exported.metadata
        sha = sha256_file(exported.path)
        out = {"id": content_id("onnx", sha), "onnx": ctx.rel(exported.path), "sha256": sha,
               "bytes": exported.path.stat().st_size, "parity_max_abs": exported.parity_max_abs,
               "parity_samples": exported.parity_samples, "opset": exported.opset, "input_shape": exported.input_shape,
               "run_id": meta["run_id"], "dataset_id": meta["dataset_id"], "task": spec.task,
               "eval": {"origin": ev.origin, "role": ev.role, "count": len(ev)},
               "summary": [["ONNX export: parity with PyTorch", f"max |diff| {exported.parity_max_abs:.2g} "
                                                                f"on {exported.parity_samples} images"]]}
        sec = Section(self.name, self.title)
        tol = ctx.spec.export.tolerance
        sec.metrics([
            Metric("parity: max |onnxruntime - PyTorch|", exported.parity_max_abs, key="parity_max_abs",
                   status="good" if exported.parity_max_abs <= tol else "bad", threshold=f"<= {tol:g}",
                   note=f"{exported.parity_samples} {ev.role} images, batch 1 and batched"),
        ])
        sec.table(["property", "value"], [
            ["file", f"{out['onnx']} ({out['bytes'] / 1024:.0f} KiB)"], ["sha256", sha], ["opset", exported.opset],
            *metadata_rows(meta)], title="Metadata inside the model (metadata_props)")
        out["section"] = ctx.rel(folder / save_section(folder, sec))
        return out


def metadata_rows(meta: dict[str, Any]) -> list[list[str]]:
    """The model's metadata_props as table rows a person reads: shapes as 1×3×H×W, numbers rounded,
    never a Python repr of a dict or list."""
    def shape(dims: Any) -> str:
        return "×".join(str(d) for d in dims) if isinstance(dims, list | tuple) else str(dims)

    def numbers(values: Any) -> str:
        return ", ".join(f"{v:.4g}" for v in values) if isinstance(values, list | tuple) else f"{values:.4g}"

    i, o, norm = meta["input"], meta["output"], meta.get("normalization") or {}
    channels = ", ".join(map(str, i.get("channels") or []))
    return [
        ["input", f"{i['name']} {shape(i['shape'])} ({i['layout']}{', ' + channels if channels else ''})"],
        ["output", f"{o['name']} {shape(o['shape'])} ({o['kind']})"],
        ["classes", ", ".join(meta["classes"])],
        *([[f"normalisation {k}", numbers(v)] for k, v in norm.items()] if isinstance(norm, dict)
          else [["normalisation", str(norm)]]),
        ["model run", meta["run_id"]], ["dataset", meta["dataset_id"]],
    ]


class QuantizeStage:
    name = "quantize"
    title = "Quantization"
    needs: tuple[str, ...] = ("export",)

    def inputs(self, ctx: Context) -> dict[str, Any]:
        return {"settings": ctx.spec.quantize.model_dump(mode="json")}

    def run(self, ctx: Context, folder: Path) -> dict[str, Any]:
        from ..deploy import evalset
        from ..deploy.export import INPUT
        from ..deploy.quantize import compare, convert_fp16, quantize_int8

        q = ctx.spec.quantize
        model, spec, ev, x, labels = _eval_inputs(ctx)
        models = {"fp32": ctx.path(ctx.outputs["export"]["onnx"])}
        calib = None
        folder.mkdir(parents=True, exist_ok=True)
        with ctx.reporter.task("quantize", total=int(q.int8) + int(q.fp16) + 1, unit="step") as task:
            if q.int8:
                calib = evalset.load_calibration(_run(ctx), spec, q.calibration_images, ctx.spec.generate.seed)
                models["int8"] = quantize_int8(models["fp32"], folder / "model.int8.onnx", calib.prepared(spec), INPUT,
                                               q.calibration)
                task.advance()
            if q.fp16:
                models["fp16"] = convert_fp16(models["fp32"], folder / "model.fp16.onnx")
                task.advance()
            rows = compare(models, x, labels, spec.task, spec.classes, spec.outputs, iterations=q.latency_runs)
            task.advance()
        torch_score = _torch_score(model, spec, x, labels)
        metric = rows["fp32"]["metric"]
        out: dict[str, Any] = {
            "metric": metric, "torch": torch_score[metric], "eval": {"origin": ev.origin, "role": ev.role, "count": len(ev)},
            "calibration": None if calib is None else {"source": calib.origin, "parts": calib.parts},
            "models": {p: {"file": ctx.rel(models[p]), "sha256": sha256_file(models[p]), "bytes": r["bytes"],
                           "score": r["score"][metric], "change": r.get("change", 0.0), "p50_ms": r["latency"]["p50_ms"],
                           "p95_ms": r["latency"]["p95_ms"], "latency_ratio": r.get("latency_ratio", 1.0)}
                       for p, r in rows.items()}}
        out["id"] = content_id("quantized", {p: m["sha256"] for p, m in out["models"].items()})
        out["summary"] = [[f"{p.upper()} onnxruntime (CPU, batch 1): p50 latency, {metric_name(metric)}",
                           f"{m['p50_ms']:.3f} ms" + (f" ({m['latency_ratio']:.2f}x fp32)" if p != "fp32" else "")
                           + f", {m['score']:.3f}" + (f" ({m['change']:+.3f})" if p != "fp32" else "")]
                          for p, m in out["models"].items()]
        out["section"] = ctx.rel(folder / save_section(folder, _quantize_section(self.title, out, q)))
        return out


def _quantize_section(title: str, out: dict[str, Any], q: Any) -> Section:
    sec = Section("quantize", title)
    metric, ev = out["metric"], out["eval"]
    rows = [["PyTorch (host reference)", "", "", out["torch"], "", "", "", ""]]
    for p, m in out["models"].items():
        rows.append([p, m["file"], f"{m['bytes'] / 1024:.0f} KiB", m["score"], f"{m['change']:+.4f}",
                     m["p50_ms"], m["p95_ms"], f"{m['latency_ratio']:.2f}x"])
    sec.table(["model", "file", "size", metric, "change vs fp32", "p50 ms", "p95 ms", "speed vs fp32"], rows,
              title=f"Each version on {ev['count']} {ev['role']} images ({ev['origin']}); onnxruntime CPU, batch 1, "
                    f"{q.latency_runs} timed runs each after 10 warm-up runs, interleaved in one process")
    if "int8" in out["models"]:
        m = out["models"]["int8"]
        sec.metrics([Metric(f"INT8 {metric} change vs FP32", m["change"], key="int8_change",
                            status=grade(-m["change"], 0.01, 0.05), threshold="> -0.01",
                            note=f"static QDQ, {q.calibration} calibration on {out['calibration']['parts']}")])
    sec.text("Latency on this machine's CPU with onnxruntime; the device's own numbers come from the deploy stage.")
    return sec


class DeployStage:
    name = "deploy"
    title = "Device"

    def __init__(self, after: str) -> None:
        self.needs: tuple[str, ...] = (after,)

    def inputs(self, ctx: Context) -> dict[str, Any]:
        return {"settings": ctx.spec.deploy.model_dump(mode="json")}

    def run(self, ctx: Context, folder: Path) -> dict[str, Any]:
        from ..deploy.bundle import make_bundle
        from ..deploy.prepare import ExportRequest
        from ..deploy.remote import Remote, bench_async, push_async
        from ..deploy.remote import run as run_async
        from ..deploy.ssh import Auth, Target

        d, q = ctx.spec.deploy, ctx.spec.quantize
        precisions = ("fp32",) + (tuple(p for p in ("int8", "fp16") if getattr(q, p)) if q is not None else ())
        req = ExportRequest(_run(ctx), precisions, None, ctx.spec.export.eval_images,
                            q.calibration_images if q is not None else 64, q.calibration if q is not None else "minmax",
                            None, ctx.spec.generate.seed)
        bundle = make_bundle(req, folder / BUNDLE, ctx.reporter)
        auth = Auth(resolve_path(d.identity, ctx.base_dir) if d.identity else None,
                    resolve_path(d.known_hosts, ctx.base_dir) if d.known_hosts else None, d.accept_new_host_key)
        remote = Remote(Target.parse(d.target), auth, d.root, d.python)
        pushed = run_async(push_async(remote, folder / BUNDLE, d.keep, ctx.reporter))
        with ctx.reporter.task("device bench", total=None, unit="run"):
            bench = run_async(bench_async(remote, None, "auto", d.warmup, d.iterations, 1))
        metric = bench["metric"]
        rows = [{"precision": r["precision"], "engine": f"{r['engine']['backend']} {r['engine'].get('version', '')}".strip(),
                 **{k: r["latency"][k] for k in ("p50_ms", "p95_ms", "p99_ms", "fps")},
                 "score": r["accuracy"][metric], "host": (r.get("host_torch") or {}).get(metric),
                 "change": r.get("change_vs_host")} for r in bench["results"]]
        out = {"id": bundle["id"], "bundle": ctx.rel(folder / BUNDLE), "target": pushed["target"],
               "release": pushed.get("release"), "device": bench.get("device"), "metric": metric, "bench": rows,
               "summary": [[f"device {pushed['target']}, {r['precision']} ({r['engine']}): p50, {metric_name(metric)}",
                            f"{r['p50_ms']:.3f} ms, {r['score']:.3f}"] for r in rows]}
        sec = Section("deploy", self.title)
        sec.table(["property", "value"], [["target", pushed["target"]], ["release", pushed.get("release")],
                                          ["bundle", f"{bundle['id']} ({bundle['archive_bytes'] / 1024:.0f} KiB)"],
                                          ["resumed upload at", pushed.get("resumed_from") or 0]])
        sec.table(["model", "engine", "p50 ms", "p95 ms", "p99 ms", "FPS", f"device {metric}", f"host {metric}", "change"],
                  [[r["precision"], r["engine"], r["p50_ms"], r["p95_ms"], r["p99_ms"], r["fps"], r["score"],
                    r["host"], fmt(r["change"], 4)] for r in rows],
                  title=f"On the device: {bench['iterations']} runs at batch 1 after {d.warmup} warm-up runs")
        out["section"] = ctx.rel(folder / save_section(folder, sec))
        return out
