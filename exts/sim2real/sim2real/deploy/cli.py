"""``sim2real export`` and ``sim2real deploy bundle|push|rollback|status|bench``.

One typer app (merged into the top level by ``cli.py``) holding the ``export`` command and the
``deploy`` group. Heavy imports (torch, onnx, asyncssh) stay inside the command bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..cli_common import JsonOpt, ProgressOpt, console, option_group, print_json, reporter

app = typer.Typer()
deploy_app = typer.Typer(help="Bundle a trained model and push it to a device (Jetson) over SSH.", no_args_is_help=True)
app.add_typer(deploy_app, name="deploy")

# -- options shared by the commands
PrecisionOpt = Annotated[str, typer.Option("--precision", "-p", help="Comma-separated: fp32 plus any of int8, fp16.")]
EvalOpt = Annotated[Optional[Path], typer.Option("--eval", help="Labelled evaluation set (default: the run's --eval, else its source dataset).")]
EvalCountOpt = Annotated[int, typer.Option("--eval-count", help="Evaluation samples (parity, scores, bundled set).")]
CalibCountOpt = Annotated[int, typer.Option("--calib-count", help="INT8 calibration images (half synthetic, half target).")]
CalibMethodOpt = Annotated[str, typer.Option("--calib-method", help="INT8 ranges: minmax, entropy or percentile.")]
CheckpointOpt = Annotated[Optional[Path], typer.Option("--checkpoint", help="A checkpoint of the run (default: best.pt).")]
TargetOpt = Annotated[str, typer.Option("--target", "-t", help="The device: user@host[:port].")]
IdentityOpt = Annotated[Optional[Path], typer.Option("--identity", "-i", help="Private key file (default: ssh-agent and ~/.ssh keys).")]
KnownHostsOpt = Annotated[Optional[Path], typer.Option("--known-hosts", help="known_hosts file (default: ~/.ssh/known_hosts).")]
AcceptNewOpt = Annotated[bool, typer.Option("--accept-new-host-key", help="First contact: record the device's host key (a CHANGED key is still refused).")]
RootOpt = Annotated[str, typer.Option("--root", help="Deploy folder on the device (relative to the login's home).")]
PythonOpt = Annotated[str, typer.Option("--python", help="Python on the device (>= 3.8 with numpy and onnxruntime).")]


def _precisions(text: str) -> tuple[str, ...]:
    return tuple(p.strip().lower() for p in text.split(",") if p.strip())


@dataclass(frozen=True)
class ExportOptions:
    """What ``export`` and ``deploy bundle`` evaluate and calibrate with."""

    eval_set: EvalOpt = None
    eval_count: EvalCountOpt = 32
    calib_count: CalibCountOpt = 64
    calib_method: CalibMethodOpt = "minmax"
    checkpoint: CheckpointOpt = None

    def request(self, run: Path, precision: str) -> Any:
        from .prepare import ExportRequest

        return ExportRequest(run, _precisions(precision), self.eval_set, self.eval_count, self.calib_count,
                             self.calib_method, self.checkpoint)


@dataclass(frozen=True)
class DeviceOptions:
    """How the device commands log in (host-key checking stays on) and where the releases live."""

    identity: IdentityOpt = None
    known_hosts: KnownHostsOpt = None
    accept_new_host_key: AcceptNewOpt = False
    root: RootOpt = "sim2real"
    python: PythonOpt = "python3"

    def remote(self, target: str) -> Any:
        from .remote import Remote
        from .ssh import Auth, Target

        return Remote(Target.parse(target), Auth(self.identity, self.known_hosts, self.accept_new_host_key),
                      self.root, self.python)


def _model_table(models: dict[str, Any], title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for col in ("model", "metric", "score", "change vs fp32", "p50 ms (ort, CPU)", "latency ratio", "size"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for precision, row in models.items():
        metric = row["metric"]
        table.add_row(precision, metric, f"{row['score'][metric]:.4f}", f"{row.get('change', 0.0):+.4f}",
                      f"{row['latency']['p50_ms']:.3f}", f"{row.get('latency_ratio', 1.0):.2f}x",
                      f"{row['bytes'] / 1024:.0f} KiB")
    console().print(table)


@app.command("export")
@option_group(ExportOptions, "options")
def export_cmd(
    run: Annotated[Path, typer.Argument(help="Training run folder (sim2real train --out).")],
    onnx: Annotated[Path, typer.Option("--onnx", help="The FP32 ONNX file to write; INT8/FP16 go beside it (NAME.int8.onnx, NAME.fp16.onnx).")],
    precision: PrecisionOpt = "fp32",
    options: ExportOptions = ExportOptions(),
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Export a trained model to ONNX (metadata inside, dynamic batch, checked, parity with PyTorch);
    optionally INT8 (static QDQ) and FP16, each scored and timed against FP32."""
    from .prepare import export_models

    req = options.request(run, precision)
    rep = reporter(progress)
    built, summary = export_models(req, onnx, rep)
    report = summary["report"]
    rep.result(summary)
    if json_out:
        print_json(summary)
    elif progress != "json":
        console().print(f"{run}: exported {built.checkpoint['reason']}")
        console().print(f"{onnx}: parity with PyTorch on {built.exported.parity_samples} samples: max |diff| = "
                        f"{built.exported.parity_max_abs:.3g} (limit 1e-4); report {report}")
        _model_table(built.report, f"evaluation set: {built.eval.origin} ({len(built.eval)} samples)")


@deploy_app.command("bundle")
@option_group(ExportOptions, "options")
def bundle_cmd(
    run: Annotated[Path, typer.Argument(help="Training run folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The bundle archive to write (.tar).")],
    precision: PrecisionOpt = "fp32,int8",
    options: ExportOptions = ExportOptions(),
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Make a deploy bundle: models, preprocessing, labels, evaluation set, edge runner, manifest."""
    from .bundle import make_bundle

    req = options.request(run, precision)
    rep = reporter(progress)
    result = make_bundle(req, out, rep)
    short = {k: result[k] for k in ("id", "archive", "archive_sha256", "archive_bytes", "parity_max_abs", "host")}
    short["precisions"] = sorted(result["models"])
    rep.result(short)
    if json_out:
        print_json(result)
    elif progress != "json":
        console().print(f"{out}: bundle {result['id']} ({result['archive_bytes'] / 1024:.0f} KiB, "
                        f"{len(result['files'])} files)")
        _model_table(result["quantization"], "host scores on the bundled evaluation set")


@deploy_app.command("push")
@option_group(DeviceOptions, "device")
def push_cmd(
    bundle: Annotated[Path, typer.Argument(help="Bundle archive (sim2real deploy bundle).")],
    target: TargetOpt,
    device: DeviceOptions = DeviceOptions(),
    keep: Annotated[int, typer.Option("--keep", help="Releases to keep on the device (the current one included).")] = 3,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Upload a bundle (resuming a cut upload), verify it, unpack it into releases/<id> and switch
    `current` to it atomically."""
    from ..errors import UserError
    from .remote import push_async, run

    if keep < 1:
        raise UserError(f"--keep: expected at least 1 release to keep (got {keep})")
    rep = reporter(progress)
    result = run(push_async(device.remote(str(target)), bundle,
                            keep, rep))
    rep.result(result)
    if json_out:
        print_json(result)
    elif progress != "json":
        resumed = f", resumed at {result['resumed_from']} bytes" if result["resumed_from"] else ""
        console().print(f"{result['target']}: {result['release']} is current (was {result['previous']}){resumed}; "
                        f"{result['path']}")


@deploy_app.command("rollback")
@option_group(DeviceOptions, "device")
def rollback_cmd(
    target: TargetOpt,
    to: Annotated[Optional[str], typer.Option("--to", help="Release id (default: the one active before).")] = None,
    device: DeviceOptions = DeviceOptions(),
    json_out: JsonOpt = False,
) -> None:
    """Switch the device's `current` back to the previous release (or --to a given one)."""
    from .remote import rollback_async, run

    result = run(rollback_async(device.remote(target), to))
    if json_out:
        print_json(result)
    else:
        console().print(f"{result['target']}: {result['release']} is current (was {result['previous']})")


@deploy_app.command("status")
@option_group(DeviceOptions, "device")
def status_cmd(
    target: TargetOpt,
    device: DeviceOptions = DeviceOptions(),
    json_out: JsonOpt = False,
) -> None:
    """Releases on the device, the current one, and what the device is (Jetson module, JetPack, TensorRT)."""
    from .remote import run, status_async

    result = run(status_async(device.remote(target)))
    if json_out:
        print_json(result)
        return
    dev = result["device"]
    what = (f"{dev.get('model')} (L4T {dev.get('l4t')}, JetPack {dev.get('jetpack')}, TensorRT {dev.get('tensorrt')})"
            if dev.get("jetson") else f"not a Jetson (TensorRT {dev.get('tensorrt') or 'absent'})")
    console().print(f"{result['target']}: {what}; root {result['root']}")
    for r in result["releases"]:
        console().print(f"  {'*' if r['current'] else ' '} {r['release']}  last activated {r['last_activated']}")
    if not result["releases"]:
        console().print("  no release yet")
    for inc in result["incoming"]:
        console().print(f"  partial upload {inc['file']} ({inc['bytes']} bytes): the next push resumes it")


@deploy_app.command("bench")
@option_group(DeviceOptions, "device")
def bench_cmd(
    target: TargetOpt,
    precision: Annotated[Optional[str], typer.Option("--precision", "-p", help="Comma-separated (default: every model of the bundle).")] = None,
    backend: Annotated[str, typer.Option("--backend", help="auto (TensorRT when built), onnxruntime or tensorrt.")] = "auto",
    warmup: Annotated[int, typer.Option("--warmup", help="Untimed inferences first.")] = 10,
    iterations: Annotated[int, typer.Option("--iterations", "-n", help="Timed inferences.")] = 100,
    batch: Annotated[int, typer.Option("--batch", help="Images per inference.")] = 1,
    device: DeviceOptions = DeviceOptions(),
    json_out: JsonOpt = False,
) -> None:
    """Run the current release's runner on the device: latency p50/p95/p99, FPS, accuracy vs the host model."""
    from .remote import bench_async, run

    remote = device.remote(target)
    result = run(bench_async(remote, list(_precisions(precision)) if precision else None, backend, warmup, iterations,
                             batch))
    if json_out:
        print_json(result)
        return
    _bench_table(result)


def _bench_table(result: dict[str, Any]) -> None:
    from rich.table import Table

    metric = result["metric"]
    table = Table(title=f"{result['target']}: bundle {result['bundle']}, {result['iterations']} iterations at batch "
                        f"{result['batch']}, {result['eval_count']} evaluation samples")
    for col in ("model", "engine", "p50 ms", "p95 ms", "p99 ms", "FPS", metric, f"host {metric}", "change",
                "agreement"):
        table.add_column(col, justify="left" if col in ("model", "engine") else "right")
    for row in result["results"]:
        lat, acc = row["latency"], row["accuracy"]
        host = row.get("host_torch") or {}
        engine = row["engine"]
        table.add_row(row["precision"], f"{engine['backend']} {engine.get('version', '')}", f"{lat['p50_ms']:.3f}",
                      f"{lat['p95_ms']:.3f}", f"{lat['p99_ms']:.3f}", f"{lat['fps']:.1f}", f"{acc[metric]:.4f}",
                      f"{host[metric]:.4f}" if metric in host else "-",
                      f"{row['change_vs_host']:+.4f}" if row.get("change_vs_host") is not None else "-",
                      f"{acc['agreement']:.4f}" if "agreement" in acc else "-")
    console().print(table)
