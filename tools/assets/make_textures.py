"""Generate the procedural textures shipped in data/textures/ (material:*/texture randomization).

Run: .venv/bin/python tools/assets/make_textures.py  (deterministic: same PNG bytes every run)

Eight 128x128 RGB tiles, each seamless (periodic in x and y) so texture_scale can repeat them:
checker, stripes, grid, dots, value noise, wood rings, marble veins and bricks, in varied colours.

``--set target`` makes the held-out set of the *surrogate target domain* instead (data/textures_target/,
used only by config/profiles/tabletop_target.toml): other patterns (plaid, diamonds, terrazzo chips,
herringbone, camouflage, weave, tiles, concrete) in other palettes, from another seed, so that a model
trained with data/textures/ never saw them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SETS = {"train": ROOT / "data" / "textures", "target": ROOT / "data" / "textures_target"}
N = 128


def _uv() -> tuple[np.ndarray, np.ndarray]:
    v, u = np.meshgrid(np.arange(N) / N, np.arange(N) / N, indexing="ij")
    return u, v


def _periodic_noise(rng: np.random.Generator, cells: int) -> np.ndarray:
    """Smooth value noise in [0, 1] that tiles: random lattice values, cosine interpolation."""
    lattice = rng.random((cells, cells))
    t = np.arange(N) * cells / N
    i0 = np.floor(t).astype(int)
    f = (1 - np.cos(np.pi * (t - i0))) / 2
    i1 = (i0 + 1) % cells
    rows = lattice[i0][:, i0] * (1 - f)[None, :] + lattice[i0][:, i1] * f[None, :]
    rows1 = lattice[i1][:, i0] * (1 - f)[None, :] + lattice[i1][:, i1] * f[None, :]
    return rows * (1 - f)[:, None] + rows1 * f[:, None]


def _fbm(rng: np.random.Generator) -> np.ndarray:
    out = sum(_periodic_noise(rng, c) / k for c, k in ((4, 1), (8, 2), (16, 4), (32, 8)))
    return (out - out.min()) / (out.max() - out.min())


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: np.ndarray) -> np.ndarray:
    a_, b_ = np.asarray(a, float), np.asarray(b, float)
    return a_ + (b_ - a_) * t[..., None]


def textures(rng: np.random.Generator) -> dict[str, np.ndarray]:
    u, v = _uv()
    noise = _fbm(rng)
    out = {
        "checker": _mix((235, 235, 228), (40, 44, 52), ((u * 8).astype(int) + (v * 8).astype(int)) % 2),
        "stripes": _mix((200, 60, 50), (245, 210, 120), (np.sin(2 * np.pi * 6 * (u + v)) > 0).astype(float)),
        "grid": _mix(
            (70, 110, 160), (230, 235, 240), ((u * 16 % 1 < 0.1) | (v * 16 % 1 < 0.1)).astype(float)
        ),
        "dots": _mix(
            (60, 140, 90),
            (240, 240, 220),
            (((u * 6 % 1 - 0.5) ** 2 + (v * 6 % 1 - 0.5) ** 2) < 0.09).astype(float),
        ),
        "noise": _mix((90, 80, 70), (200, 190, 170), noise),
        "wood": _mix(
            (110, 70, 35),
            (190, 140, 90),
            (np.sin(2 * np.pi * (8 * np.hypot(np.sin(np.pi * u), np.sin(np.pi * v)) + 2 * noise)) + 1) / 2,
        ),
        "marble": _mix(
            (245, 245, 240), (90, 95, 110), np.abs(np.sin(2 * np.pi * (3 * u + 4 * noise))) ** 0.3
        ),
    }
    row = (v * 8).astype(int)
    brick_u = (u * 4 + 0.5 * (row % 2)) % 1
    mortar = (v * 8 % 1 < 0.12) | (brick_u < 0.06)
    shade = 0.85 + 0.15 * noise
    out["bricks"] = np.where(
        mortar[..., None],
        np.array([200.0, 195, 185]),
        _mix((150, 60, 40), (180, 80, 55), noise) * shade[..., None],
    )
    return out


def target_textures(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The held-out set of the surrogate target domain: no pattern or palette of ``textures``."""
    u, v = _uv()
    noise = _fbm(rng)
    fine = _periodic_noise(rng, 32)
    band = lambda x, k: (np.sin(2 * np.pi * k * x) + 1) / 2  # noqa: E731
    plaid = 0.5 * band(u, 5) ** 4 + 0.5 * band(v, 5) ** 4 + 0.3 * band(u + 0.1, 20) * band(v, 20)
    diamonds = ((np.abs(((u + v) * 6) % 1 - 0.5) < 0.25) ^ (np.abs(((u - v) * 6) % 1 - 0.5) < 0.25)).astype(float)
    # terrazzo: coloured chips about the size of a small object, the hardest confuser for a segmenter
    chips = np.zeros((N, N, 3)) + np.array([214.0, 206, 190])
    for _ in range(70):
        cx, cy, r = rng.random(), rng.random(), rng.uniform(0.012, 0.035)
        dx, dy = (u - cx + 0.5) % 1 - 0.5, (v - cy + 0.5) % 1 - 0.5
        chips[dx**2 + dy**2 < r**2] = rng.uniform(20, 200, 3)
    zig = ((v * 8 + np.abs((u * 8) % 2 - 1)) % 1 < 0.5).astype(float)  # herringbone-like chevrons
    camo = np.digitize(noise, [0.35, 0.55, 0.7])
    camo_rgb = np.array([[74.0, 83, 50], [120, 110, 70], [45, 50, 35], [150, 140, 105]])[camo]
    weave = np.where((((u * 8).astype(int) + (v * 8).astype(int)) % 2 == 0), band(v, 32) ** 0.5, band(u, 32) ** 0.5)
    tile_edge = (u * 4 % 1 < 0.04) | (v * 4 % 1 < 0.04)
    concrete = np.clip(noise * 0.6 + fine * 0.4 - (fine > 0.85) * 0.5, 0, 1)
    return {
        "plaid": _mix((30, 60, 120), (220, 180, 40), np.clip(plaid, 0, 1)),
        "diamonds": _mix((120, 20, 90), (250, 230, 240), diamonds),
        "terrazzo": chips,
        "herringbone": _mix((60, 40, 100), (190, 200, 215), zig * (0.8 + 0.2 * fine)),
        "camouflage": camo_rgb * (0.9 + 0.2 * fine)[..., None],
        "weave": _mix((20, 110, 110), (200, 240, 230), weave),
        "tiles": np.where(tile_edge[..., None], np.array([40.0, 40, 45]), _mix((235, 240, 250), (150, 190, 230), noise)),
        "concrete": _mix((35, 45, 60), (140, 155, 170), concrete),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=sorted(SETS), default="train",
                    help="train: data/textures; target: the surrogate target's held-out set")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: the set's folder)")
    args = ap.parse_args(argv)
    out = args.out or SETS[args.set]
    out.mkdir(parents=True, exist_ok=True)
    if args.set == "train":
        images = textures(np.random.default_rng(2024))
        readme = "Procedural, seamless 128x128 textures for `material:*/texture` randomization.\n"
    else:
        images = target_textures(np.random.default_rng(7919))
        readme = ("Held-out procedural textures of the SURROGATE TARGET domain (config/profiles/tabletop_target.toml).\n"
                  "Never use them in a training profile: they stand for the appearance a model has not seen.\n")
    for name, img in images.items():
        arr = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        Image.fromarray(arr, "RGB").save(out / f"{name}.png", optimize=True)
    (out / "README.md").write_text(
        readme + "Generated by `tools/assets/make_textures.py` (deterministic); regenerate rather than edit.\n"
    )


if __name__ == "__main__":
    main()
