"""Draw the Kit extension icons and preview images (data/icon.png, data/preview.png) of each extension.

Run: .venv/bin/python tools/assets/make_icons.py  (deterministic; re-run after changing the design)
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
ACCENT = {"sim2real": (46, 134, 222), "sim2real_isaac": (118, 185, 0), "sim2real_ui": (230, 126, 34)}


def draw(size: tuple[int, int], accent: tuple[int, int, int]) -> Image.Image:
    w, h = size
    img = Image.new("RGB", size, (24, 26, 31))
    d = ImageDraw.Draw(img)
    s = min(w, h)
    # a wireframe cube (simulation) morphing into a solid one (reality)
    off = s // 8
    left = (w // 2 - s // 3, h // 2 - s // 6)
    d.rectangle([left[0], left[1], left[0] + s // 4, left[1] + s // 4], outline=accent, width=max(2, s // 64))
    d.rectangle([left[0] + off // 2, left[1] - off // 2, left[0] + s // 4 + off // 2, left[1] + s // 4 - off // 2],
                outline=accent, width=max(1, s // 128))
    right = (w // 2 + s // 12, h // 2 - s // 6)
    d.rectangle([right[0], right[1], right[0] + s // 4, right[1] + s // 4], fill=accent)
    cx, cy, t = w // 2, h // 2 - s // 24, s // 28  # an arrow from sim to real
    d.polygon([(cx - t, cy - t), (cx + t, cy), (cx - t, cy + t)], fill=(220, 220, 220))
    return img


def main() -> None:
    for ext, accent in ACCENT.items():
        data = ROOT / "exts" / ext / "data"
        data.mkdir(parents=True, exist_ok=True)
        draw((256, 256), accent).save(data / "icon.png", optimize=True)
        draw((640, 360), accent).save(data / "preview.png", optimize=True)


if __name__ == "__main__":
    main()
