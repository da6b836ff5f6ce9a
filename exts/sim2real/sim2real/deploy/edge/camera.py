"""The plain OpenCV runner, for devices without ROS: a camera, a video file or a folder of images.

    python3 -m s2r_edge run --source 0                 # /dev/video0 (a CSI camera: a GStreamer pipeline string)
    python3 -m s2r_edge run --source drive.mp4 --out preds/
    python3 -m s2r_edge run --source images/ --max-frames 100

One JSON line per frame on stdout (``{"frame", "source", "top", "probabilities"|"fractions"|"detections",
"latency_ms"}``; detections: class, score and ``[x0, y0, x1, y1]`` in the frame's pixels, those
scoring ``--threshold`` or more), a latency summary line every ``--every`` frames and at the end.
With ``--out``, segmentation masks are written as PNGs (class index per pixel, at the model's input
size), detect frames as PNGs with their boxes drawn (a colour per class), and every prediction to
``predictions.jsonl``.
"""

from __future__ import annotations

import json
import os
from typing import IO, Any, Iterator, Optional, Tuple

import numpy as np

from .boxes import draw
from .predict import DRAW_THRESHOLD, LatencyWindow, Predictor

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise RuntimeError("the OpenCV runner needs OpenCV: sudo apt install python3-opencv "
                           "(or pip install opencv-python-headless)") from None
    return cv2


def frames(source: str) -> Iterator[Tuple[str, np.ndarray]]:
    """``(name, RGB uint8 image)`` from a folder (sorted), a video file, a camera index or a
    GStreamer/URL string OpenCV can open."""
    cv2 = _cv2()
    if os.path.isdir(source):
        for name in sorted(os.listdir(source)):
            if name.lower().endswith(IMAGE_EXTS):
                bgr = cv2.imread(os.path.join(source, name), cv2.IMREAD_COLOR)
                if bgr is None:
                    raise RuntimeError("{}: not a readable image".format(os.path.join(source, name)))
                yield name, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        return
    cap = cv2.VideoCapture(int(source) if source.isdigit() else source)
    if not cap.isOpened():
        raise RuntimeError("{}: OpenCV cannot open this camera or video".format(source))
    try:
        i = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                return
            yield "{:06d}".format(i), cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            i += 1
    finally:
        cap.release()


def run(root: str, source: str, out_dir: Optional[str] = None, precision: str = "fp32", backend: str = "auto",
        max_frames: Optional[int] = None, every: int = 30, stream: Optional[IO[str]] = None,
        threshold: float = DRAW_THRESHOLD) -> dict:
    """Predict every frame of ``source``; returns the final latency summary."""
    import sys

    stream = stream or sys.stdout
    predictor = Predictor(root, precision, backend, threshold=threshold)
    window, total = LatencyWindow(every), LatencyWindow(None)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    jsonl = open(os.path.join(out_dir, "predictions.jsonl"), "w") if out_dir else None
    try:
        for i, (name, rgb) in enumerate(frames(source)):
            if max_frames is not None and i >= max_frames:
                break
            pred = predictor(rgb)
            window.add(pred.latency_ms)
            total.add(pred.latency_ms)
            row = dict(frame=i, source=name, **pred.to_dict())
            stream.write(json.dumps(row) + "\n")
            if jsonl:
                jsonl.write(json.dumps(row) + "\n")
            if out_dir and pred.mask is not None:
                _cv2().imwrite(os.path.join(out_dir, os.path.splitext(name)[0] + ".png"), pred.mask)
            if out_dir and pred.boxes is not None:  # detect: the frame with its boxes drawn
                drawn = draw(rgb, pred.boxes, pred.box_classes, max(1, min(rgb.shape[:2]) // 160))
                _cv2().imwrite(os.path.join(out_dir, os.path.splitext(name)[0] + ".png"), drawn[..., ::-1])
            if every and window.count % every == 0:
                stream.write(json.dumps({"latency": window.summary()}) + "\n")
            stream.flush()
    finally:
        if jsonl:
            jsonl.close()
    summary = dict(total.summary(), engine=predictor.engine.describe())
    stream.write(json.dumps({"summary": summary}) + "\n")
    return summary
