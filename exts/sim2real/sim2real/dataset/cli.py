"""``sim2real dataset ...``: verify, stats, export-coco/-yolo/-parquet/-webdataset, merge. Heavy imports stay inside the commands."""

from __future__ import annotations

from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Any, Literal, Optional

import typer

from ..cli_common import JsonOpt, ProgressOpt, console, print_json, reporter

app = typer.Typer(name="dataset", help="Check, summarise and export generated datasets.", no_args_is_help=True)

DirArg = Annotated[Path, typer.Argument(help="The dataset directory (the --out of sim2real generate).")]


@app.command()
def verify(
    directory: DirArg,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
    allow_strays: Annotated[bool, typer.Option(
        "--allow-strays", help="Report files that are not part of the dataset as warnings, not errors.")] = False,
) -> None:
    """Check every byte a reader uses (manifest, shard indexes, records, frame files) against the
    checksum chain, and list files that are not part of the dataset; exit 1 on any of it."""
    from ..errors import IntegrityError
    from .manifest import load_manifest
    from .verify import verify as run_verify

    rep = reporter("none" if json_out else progress)
    try:
        total = load_manifest(directory, check=False).done
    except Exception:  # a broken manifest is reported by verify itself
        total = None
    with rep.task("verify", total=total, unit="frame") as task:
        report = run_verify(directory, progress=lambda n: task.update(done=n),
                            strays="warning" if allow_strays else "error")
    if json_out:
        print_json(report.to_dict())
    else:
        _print_report(report)
    if not report.ok:
        raise IntegrityError(f"{directory}: {len(report.errors)} problem(s) found")


def _print_report(report: Any) -> None:
    from rich.markup import escape

    out = console()
    for p in report.problems:
        style = "red" if p.severity == "error" else "yellow"
        out.print(f"[{style}]{p.severity}[/] {escape(p.path)}: {escape(p.message)}")
    state = "complete" if report.complete else "incomplete"
    verdict = "[green]ok[/]" if report.ok else "[bold red]FAILED[/]"
    out.print(f"{verdict}: {report.frames_checked} frames, {report.files_checked} files checked ({state})")


@app.command()
def stats(
    directory: DirArg,
    json_out: JsonOpt = False,
    bins: Annotated[int, typer.Option(help="Histogram bins per parameter.", min=1)] = 10,
    limit: Annotated[Optional[int], typer.Option(help="Only the first N frames.", min=1)] = None,
    progress: ProgressOpt = "rich",
) -> None:
    """Counts per class, pixel share per class, histograms of the randomized parameters."""
    from .reader import Dataset
    from .stats import dataset_stats

    ds = Dataset(directory)
    rep = reporter("none" if json_out else progress)
    with rep.task("stats", total=min(len(ds), limit or len(ds)), unit="frame") as task:
        result = dataset_stats(ds, bins=bins, limit=limit, progress=lambda n: task.update(done=n))
    if json_out:
        print_json(result)
    else:
        _print_stats(result)


def _print_stats(result: dict[str, Any]) -> None:
    from rich.table import Table

    out = console()
    classes = Table(title=f"{result['dataset']}: {result['frames']} frames")
    for col in ("class", "id", "instances", "frames", "pixel share"):
        classes.add_column(col, justify="left" if col == "class" else "right")
    for name, row in result["classes"].items():
        classes.add_row(name, str(row["id"]), str(row["instances"]), str(row["frames"]), f"{row['pixel_share']:.2%}")
    out.print(classes)
    params = Table(title="randomized parameters")
    for col in ("parameter", "min", "mean", "max", "histogram"):
        params.add_column(col)
    for key, h in result["parameters"].items():
        params.add_row(key, f"{h['min']:.4g}", f"{h['mean']:.4g}", f"{h['max']:.4g}", _spark(h["histogram"]["counts"]))
    for key, counts in result["choices"].items():
        params.add_row(key, "", ", ".join(f"{k}: {v}" for k, v in counts.items()), "", "")
    out.print(params)


def _spark(counts: list[int]) -> str:
    bars = " ▁▂▃▄▅▆▇█"
    top = max(counts) or 1
    return "".join(bars[round(c / top * (len(bars) - 1))] for c in counts)


@app.command("export-coco")
def export_coco(
    directory: DirArg,
    out: Annotated[Optional[Path], typer.Option(help="Output JSON (default DIR/coco/instances.json).")] = None,
    progress: ProgressOpt = "rich",
) -> None:
    """Write COCO instances (RLE masks, boxes, areas) for the dataset; image paths are relative to DIR."""
    from .coco import export_coco as run_export

    _export("export-coco", "coco", directory, progress, lambda p: run_export(directory, out, progress=p))


@app.command("export-yolo")
def export_yolo(
    directory: DirArg,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default DIR/yolo).")] = None,
    val_fraction: Annotated[float, typer.Option(help="Share of frames for the val split (seeded).", min=0.0,
                                                max=0.99)] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the train/val split.")] = 0,
    progress: ProgressOpt = "rich",
) -> None:
    """Write the YOLO txt layout (images/, labels/ with normalised cx cy w h, data.yaml) for Ultralytics & co."""
    from .yolo import export_yolo as run_export

    _export("export-yolo", "yolo", directory, progress,
            lambda p: run_export(directory, out, val_fraction=val_fraction, seed=seed, progress=p))


@app.command("export-parquet")
def export_parquet(
    directory: DirArg,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default DIR/hf).")] = None,
    images: Annotated[Literal["embed", "reference"], typer.Option(
        help="Embed the PNGs, or reference them by absolute path.")] = "embed",
    rows_per_file: Annotated[int, typer.Option(help="Frames per parquet file.", min=1)] = 1000,
    progress: ProgressOpt = "rich",
) -> None:
    """Write Hugging Face `datasets` parquet files (Image features, detection `objects`): load_dataset(OUT)."""
    from .hfparquet import export_parquet as run_export

    _export("export-parquet", "parquet", directory, progress,
            lambda p: run_export(directory, out, images=images, rows_per_file=rows_per_file, progress=p))


@app.command("export-webdataset")
def export_webdataset(
    directory: DirArg,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default DIR/wds).")] = None,
    frames_per_shard: Annotated[int, typer.Option(help="Frames per tar shard.", min=1)] = 1000,
    progress: ProgressOpt = "rich",
) -> None:
    """Write WebDataset tar shards (png, semantic.png, instance.png, depth.npy, json per frame)."""
    from .wds import export_webdataset as run_export

    _export("export-webdataset", "webdataset", directory, progress,
            lambda p: run_export(directory, out, frames_per_shard=frames_per_shard, progress=p))


def _export(name: str, key: str, directory: Path, progress: str, run: Callable[[Callable[[int], None]], Any]) -> None:
    """Run one export under a frame progress bar; print (or stream, with --progress json) what it wrote."""
    from .reader import Dataset

    rep = reporter(progress)
    with rep.task(name, total=len(Dataset(directory)), unit="frame") as task:
        written = run(lambda n: task.update(done=n))
    paths = [str(p) for p in (written if isinstance(written, list) else [written])]
    rep.result({key: paths[0] if len(paths) == 1 else paths})
    if progress != "json":
        console().print(f"wrote {paths[0]}" if len(paths) == 1 else f"wrote {len(paths)} files: {paths[0]} ...")


@app.command()
def merge(
    out: Annotated[Path, typer.Argument(help="The dataset to make or complete (the --out of the shard runs).")],
    parts: Annotated[Optional[list[Path]], typer.Argument(help="Part datasets (default: every one in OUT.parts/).")] = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Merge the parts of a run split with --num-shards (one process per GPU) into one dataset OUT."""
    from .merge import merge_parts

    rep = reporter("none" if json_out else progress)
    result = merge_parts(out, parts or None, rep)
    if json_out:
        print_json(result)
    elif progress != "json":
        console().print(f"{out}: {result['frames_done']} of {result['frames']} frames ({result['moved']} merged now)")
