"""``python3 -m s2r_edge COMMAND`` on the device (``PYTHONPATH=<bundle>/runner``).

    run           the OpenCV runner (camera, video file, image folder)
    ros           the ROS 2 node (needs rclpy)
    bench         latency + accuracy of the bundle's models, JSON on stdout
    build-engine  a TensorRT engine for this device (trtexec)
    verify        check a bundle's files against its manifest
    activate | rollback | status   the device side of ``sim2real deploy`` (JSON on stdout)
    probe         Jetson module, L4T, JetPack, TensorRT

Errors: one line on stderr and exit 2 (bad input) or 1 (failure); ``sim2real deploy`` shows it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, List, Optional


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m s2r_edge", description="sim2real edge runner")
    sub = p.add_subparsers(dest="command")
    sub.required = True

    r = sub.add_parser("run", help="predict frames from a camera, video file or image folder")
    r.add_argument("--bundle", default=".")
    r.add_argument("--source", required=True, help="camera index, video file, image folder or GStreamer pipeline")
    r.add_argument("--out", default=None, help="folder for masks / predictions.jsonl")
    r.add_argument("--precision", default="fp32")
    r.add_argument("--backend", default="auto", choices=("auto", "onnxruntime", "tensorrt"))
    r.add_argument("--max-frames", type=int, default=None)
    r.add_argument("--every", type=int, default=30, help="latency summary every N frames")
    r.add_argument("--threshold", type=float, default=0.3, help="detect: the score a box must reach to be reported")

    sub.add_parser("ros", help="the ROS 2 node (parameters via --ros-args)", add_help=False)

    b = sub.add_parser("bench", help="latency and accuracy on the bundled evaluation set")
    b.add_argument("--bundle", default=".")
    b.add_argument("--precision", action="append", default=None, help="repeatable; default: every model")
    b.add_argument("--backend", default="auto", choices=("auto", "onnxruntime", "tensorrt"))
    b.add_argument("--warmup", type=int, default=10)
    b.add_argument("--iterations", type=int, default=100)
    b.add_argument("--batch", type=int, default=1)
    b.add_argument("--threads", type=int, default=None)

    e = sub.add_parser("build-engine", help="build a TensorRT engine here (trtexec)")
    e.add_argument("--bundle", default=".")
    e.add_argument("--precision", default="fp16", choices=("fp32", "fp16", "int8"))
    e.add_argument("--calibrate", action="store_true", help="INT8: make the calibration cache on this device")
    e.add_argument("--max-batch", type=int, default=8)
    e.add_argument("--trtexec", default=None)

    v = sub.add_parser("verify", help="check every file against the manifest")
    v.add_argument("--bundle", default=".")

    a = sub.add_parser("activate", help="verify, unpack and switch to an uploaded bundle")
    a.add_argument("--root", required=True)
    a.add_argument("--archive", required=True)
    a.add_argument("--sha256", required=True)
    a.add_argument("--keep", type=int, default=3)

    rb = sub.add_parser("rollback", help="switch back to the previous release")
    rb.add_argument("--root", required=True)
    rb.add_argument("--to", default=None)

    s = sub.add_parser("status", help="releases, current, device")
    s.add_argument("--root", required=True)

    sub.add_parser("probe", help="Jetson module, L4T, JetPack and TensorRT versions")
    return p


def _dispatch(args: Any, rest: List[str]) -> Any:
    if args.command == "run":
        from .camera import run

        run(args.bundle, args.source, args.out, args.precision, args.backend, args.max_frames, args.every,
            threshold=args.threshold)
        return None
    if args.command == "ros":  # pragma: no cover - needs ROS 2
        from .ros_node import main as ros_main

        ros_main(rest)
        return None
    if args.command == "bench":
        from .bench import bench

        return bench(args.bundle, args.precision, args.backend, args.warmup, args.iterations, args.batch, args.threads)
    if args.command == "build-engine":
        from .build import build_engine
        from .jetson import probe

        return build_engine(args.bundle, args.precision, args.calibrate, args.trtexec, args.max_batch, device=probe())
    if args.command == "verify":
        from .bundle import verify

        return {"verified": verify(args.bundle)}
    from . import release

    if args.command == "activate":
        return release.activate(args.root, args.archive, args.sha256, args.keep)
    if args.command == "rollback":
        return release.rollback(args.root, args.to)
    if args.command == "status":
        return release.status(args.root)
    from .jetson import probe

    return probe()


def main(argv: Optional[List[str]] = None) -> int:
    from .bundle import BundleError
    from .meta import MetadataError
    from .release import DeployError, UnsafeArchive
    from .tensorrt_tools import EngineMismatch

    argv = list(sys.argv[1:] if argv is None else argv)
    args, rest = _parser().parse_known_args(argv)
    if rest and args.command != "ros":
        _parser().error("unrecognised arguments: " + " ".join(rest))
    try:
        result = _dispatch(args, rest)
    except (BundleError, MetadataError, UnsafeArchive, EngineMismatch, FileNotFoundError, ValueError) as exc:
        sys.stderr.write("error: {}\n".format(exc))
        return 2
    except (DeployError, RuntimeError, OSError) as exc:
        sys.stderr.write("error: {}\n".format(exc))
        return 1
    if result is not None:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
