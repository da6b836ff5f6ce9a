#!/usr/bin/env python3
"""Put the README's pictures in docs/: screenshots the browser tests took, not drawn.

    .venv/bin/python -m pytest tests/pipeline/test_pipeline_report_browser.py \\
        tests/web/test_web_browser.py::test_click_through_the_panel
    .venv/bin/python tools/docs_pictures.py [--artifacts test-artifacts]

``report/report.png`` (the first screen of the quick demo's report.html) becomes docs/report.png and
``web/panel.png`` (the panel's train tab after an 8-epoch run) docs/panel.png, each reduced to a
256-colour palette (screenshots of pages are flat colours and text: they stay sharp, and well under
200 KB). tests/test_docs_pictures.py checks what the README shows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PICTURES = {"report.png": "report/report.png", "panel.png": "web/panel.png"}
MAX_BYTES = 200_000


def shrink(src: Path, dst: Path) -> int:
    image = Image.open(src).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(dst, optimize=True)
    return dst.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artifacts", type=Path, default=ROOT / "test-artifacts")
    a = ap.parse_args()
    for name, rel in PICTURES.items():
        src = a.artifacts / rel
        if not src.is_file():
            raise SystemExit(f"{src}: missing; run the browser tests first (see --help)")
        size = shrink(src, ROOT / "docs" / name)
        print(f"docs/{name}: {size / 1000:.0f} KB from {src}")
        if size > MAX_BYTES:
            raise SystemExit(f"docs/{name}: {size} bytes; expected at most {MAX_BYTES}")


if __name__ == "__main__":
    main()
