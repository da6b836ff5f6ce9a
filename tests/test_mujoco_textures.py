"""The copy path's image cache stays within its byte budget (memory stays flat however many images a
profile names) and keeps what it returns exact."""

from __future__ import annotations

import numpy as np
from testlib import REPO
from sim2real.backends.mujoco.textures import ImageCache, decode

IMAGES = sorted(str(p) for p in (REPO / "data" / "textures").glob("*.png"))


def test_the_cache_keeps_the_latest_images_within_its_bytes() -> None:
    one = 32 * 32 * 3
    cache = ImageCache(max_bytes=3 * one)
    for path in IMAGES[:5]:
        got = cache.get(path, 32, 32, 3, "k")
        assert np.array_equal(got, decode(path, 32, 32, 3, "k"))
        assert cache.nbytes <= 3 * one
    assert len(cache) == 3 and cache.nbytes == 3 * one
    kept = cache.get(IMAGES[2], 32, 32, 3, "k")  # used again: now the newest
    cache.get(IMAGES[5], 32, 32, 3, "k")  # evicts the oldest, IMAGES[3]
    assert cache.get(IMAGES[2], 32, 32, 3, "k") is kept and len(cache) == 3


def test_an_image_larger_than_the_budget_is_still_returned_alone() -> None:
    cache = ImageCache(max_bytes=10)
    cache.get(IMAGES[0], 16, 16, 3, "k")
    got = cache.get(IMAGES[1], 16, 16, 3, "k")
    assert got.size == 16 * 16 * 3 and len(cache) == 1 and cache.nbytes == got.nbytes
