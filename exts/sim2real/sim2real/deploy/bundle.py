"""Make a deploy bundle from a training run, and check one before it leaves the host.

``make_bundle`` exports the run's model (``export``), quantizes it (``quantize``), scores every
version on the evaluation set (PyTorch too: the "host model" the device is compared with), and
writes the layout ``edge.bundle`` documents into ONE tar archive:

* deterministic: members sorted, mtime 0, owner root, modes 0644/0755, the ``.npz`` files written
  with fixed zip timestamps; the same run and options give the same bytes and the same bundle id;
* versioned: ``manifest.json`` holds the bundle format version (``edge.bundle.VERSION``) and the
  id ``bundle-<sha256 of the file list>``;
* self-checking: the manifest lists the sha256 and size of every other file, and its own
  ``manifest_sha256`` (``edge.schema``).

``inspect_archive`` is what ``deploy push`` runs first, with the device's own checks
(``edge.archive.scan``, ``edge.schema.check_manifest``): every member a plain file or folder with
a safe name (no links at all, no ``..``, no devices, bounded count and size), every field of the
manifest of its type, every file listed with its sha256 (hashed by streaming), nothing listed
missing.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import tarfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from ..errors import InputError, IntegrityError
from ..fsutil import atomic_write_json, sha256_file, to_jsonable
from ..progress import NullReporter, Reporter
from ..runs import content_id
from ..scratch import scratch_dir
from .edge import PROTOCOL
from .edge import archive as tar_archive
from .edge import bundle as layout
from .edge import schema

if TYPE_CHECKING:  # torch-importing modules, needed only to make a bundle (push only inspects one)
    from .evalset import SampleSet
    from .prepare import Built, ExportRequest

log = logging.getLogger(__name__)
EDGE_DIR = Path(__file__).parent / "edge"
EPOCH = 0  # mtime of every member (deterministic archives)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with fixed zip timestamps (numpy stamps the current time)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def make_bundle(req: ExportRequest, out: Path, reporter: Reporter | None = None) -> dict[str, Any]:
    """Write the bundle archive ``out``; returns the manifest plus the quantization report."""
    from . import evalset
    from .prepare import build_models

    reporter = reporter or NullReporter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with scratch_dir(f".{out.name}.tmp-", out.parent) as root:  # a killed build's is removed by the next
        (root / layout.MODELS_DIR).mkdir()
        built = build_models(req, {p: root / layout.model_file(p) for p in req.precisions}, reporter)
        spec = built.spec
        with reporter.task("bundle", total=2, unit="step") as task:
            arrays = built.eval.arrays()
            if spec.task not in ("state", "detect"):  # detect: the host's AP is in the manifest
                arrays["host_pred"] = built.reference.argmax(1).astype(np.uint8 if len(spec.classes) <= 255 else np.int32)
            (root / "eval").mkdir()
            write_npz(root / layout.EVAL_FILE, arrays)
            calib = built.calibration
            if spec.task != "state":
                calib = calib or evalset.load_calibration(req.run, spec, req.calib_count, req.seed)
                (root / "calib").mkdir()
                write_npz(root / layout.CALIB_FILE, calib.arrays())
            _write_static(root, spec, built.exported)
            manifest = _manifest(root, req, built, calib)
            atomic_write_json(root / layout.MANIFEST, manifest)
            task.advance(stage="archive")
            write_archive(root, out)
            task.advance()
    log.info("bundle %s written to %s", manifest["id"], out)
    return {**manifest, "archive": str(out), "archive_sha256": sha256_file(out), "archive_bytes": out.stat().st_size,
            "quantization": built.report}


def _write_static(root: Path, spec: Any, exported: Any) -> None:
    """preprocess.json, labels.json, README.md and the runner package."""
    pre = {"task": spec.task, "input_name": "input", "input_shape": exported.input_shape,
           "mean": spec.normalization["mean"], "std": spec.normalization["std"], "depth_units": spec.depth_units}
    if spec.task != "state":
        pre.update({"width": int(spec.input["width"]), "height": int(spec.input["height"]),
                    "channels": spec.input.get("channels"), "layout": "NCHW", "range": "0..1",
                    "resize": "center-crop to the aspect ratio, then area resize (bilinear when enlarging)"})
    else:
        pre["features"] = spec.input.get("features")
    atomic_write_json(root / layout.PREPROCESS, pre)
    atomic_write_json(root / layout.LABELS, {str(i): c for i, c in enumerate(spec.classes)})
    runner = root / layout.RUNNER_DIR / layout.PACKAGE
    runner.mkdir(parents=True)
    for src in sorted(EDGE_DIR.glob("*.py")):
        shutil.copyfile(src, runner / src.name)
    (root / layout.README).write_text(README.format(task=spec.task))


def _manifest(root: Path, req: ExportRequest, built: Built, calib: SampleSet | None) -> dict[str, Any]:
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        files[rel] = {"sha256": sha256_file(path), "size": path.stat().st_size}
    spec, exported, ev = built.spec, built.exported, built.eval
    meta = exported.metadata
    manifest = {
        "format": layout.FORMAT, "version": layout.VERSION, "sim2real_version": __version__, "task": spec.task,
        "arch": spec.arch, "classes": list(spec.classes), "outputs": spec.outputs or {},
        "parents": {"run": meta["run_id"], **meta["parents"]},
        "models": {p: {"file": path.relative_to(root).as_posix(), "input_name": "input",
                       "input_shape": exported.input_shape, "output_name": "logits"}
                   for p, path in built.paths.items()},
        "host": built.host, "parity_max_abs": exported.parity_max_abs,
        "eval": {"file": layout.EVAL_FILE, "count": len(ev), "source": ev.origin, "role": ev.role},
        "calibration": None if calib is None else {"file": layout.CALIB_FILE, "count": len(calib), "parts": calib.parts,
                                                    "method": req.calib_method},
        "runner": {"package": f"{layout.RUNNER_DIR}/{layout.PACKAGE}", "protocol": PROTOCOL, "python": ">=3.8",
                   "requires": ["numpy", "onnxruntime (or TensorRT + cuda-python)"],
                   "optional": ["opencv (run: camera/video/resize)", "rclpy (ros)"]},
        "files": files,
    }
    manifest["id"] = content_id("bundle", {"version": layout.VERSION, "files": files})
    manifest[schema.SELF_KEY] = schema.manifest_digest(to_jsonable(manifest))
    schema.check_manifest(to_jsonable(manifest), "the manifest being written")  # what every reader will check
    return manifest


def write_archive(root: Path, out: Path) -> Path:
    """A deterministic tar of ``root``'s files (see the module docstring), written atomically."""
    from ..fsutil import tmp_name

    tmp = tmp_name(out)
    try:
        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                info = tarfile.TarInfo(path.relative_to(root).as_posix())
                info.size = path.stat().st_size
                info.mtime, info.uid, info.gid, info.uname, info.gname = EPOCH, 0, 0, "root", "root"
                info.mode = 0o644
                with open(path, "rb") as fh:
                    tar.addfile(info, fh)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def inspect_archive(path: Path) -> dict[str, Any]:
    """Check a bundle archive without unpacking it (see the module docstring); its manifest.
    Unsafe or malformed: ``InputError``; a file not matching the manifest: ``IntegrityError``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such bundle archive")
    try:
        with tar_archive.open_archive(str(path)) as tar:
            files = tar_archive.scan(tar)
            manifest = _archived_manifest(tar, files, path)
            try:
                layout.check_files(str(path), manifest["files"], files,
                                   lambda name: tar_archive.member_digest(tar, files[name]))
            except layout.BundleError as exc:
                raise IntegrityError(str(exc)) from None
    except tar_archive.UnsafeArchive as exc:
        raise InputError(f"{path}: refused: {exc}") from None
    except layout.BundleError as exc:
        raise InputError(str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}") from None
    except OSError as exc:
        raise InputError(f"{path}: not a readable bundle archive ({exc})") from None
    return manifest


MAX_MANIFEST_BYTES = 64 << 20


def _archived_manifest(tar: Any, files: dict[str, Any], path: Path) -> dict[str, Any]:
    member = files.get(layout.MANIFEST)
    if member is None:
        raise InputError(f"{path}: not a sim2real bundle (no {layout.MANIFEST})")
    if member.size > MAX_MANIFEST_BYTES:
        raise InputError(f"{path}: {layout.MANIFEST} is {member.size} bytes; expected at most {MAX_MANIFEST_BYTES}")
    try:
        manifest = json.loads(tar.extractfile(member).read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: {layout.MANIFEST} is not JSON ({exc})") from None
    return schema.check_manifest(manifest, f"{path}: {layout.MANIFEST}")


README = """# sim2real deploy bundle ({task})

Everything a device needs to run this model, with the sha256 of every file in manifest.json.
Needs: Python >= 3.8, numpy, and onnxruntime (or TensorRT's Python bindings + cuda-python for
engines built on the device). OpenCV for camera/video input; rclpy for the ROS 2 node.

    export PYTHONPATH=$PWD/runner
    python3 -m s2r_edge verify                          # every file against manifest.json
    python3 -m s2r_edge bench                           # latency + accuracy on eval/eval.npz
    python3 -m s2r_edge run --source 0                  # camera 0 (or a video file / image folder)
    python3 -m s2r_edge build-engine --precision fp16   # TensorRT engine for this device (trtexec)
    python3 -m s2r_edge ros --ros-args -p bundle:=$PWD  # ROS 2 node

`sim2real deploy push` installs bundles into ~/sim2real/releases/<id> with ~/sim2real/current
pointing at the serving one.
"""
