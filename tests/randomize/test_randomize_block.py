"""Keyed samples drawn into one block per call: the same bytes as before, and samples the caller keeps stay theirs.

The digests below were recorded from main at 90d42aa (before the block: one array per (term, entity) from
numpy's ``uniform``/``normal``); the block path must reproduce every byte, key order, dtype and shape.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from randomize_helpers import ENTITIES, PROFILES, profile, randomizer, uniform
from testlib import REPO
from test_randomize_sampling import EVERY_DIST

from sim2real.randomize.entities import load_entities
from sim2real.randomize.profile import load_profile
from sim2real.randomize.runtime import Randomizer
from sim2real.randomize.sample import Sample

ARM2_ENTITIES = {
    "joint": ["shoulder", "elbow"],
    "actuator": ["shoulder", "elbow"],
    "body": ["upper_arm", "forearm"],
    "sensor": ["shoulder_pos", "elbow_pos", "shoulder_vel", "elbow_vel"],
}
# the corners of the per-family transforms: per-component bounds, a truncated normal mirrored (its range
# above the mean), one per-component, one with a bound 40 sd out (CDF underflow)
CORNERS = (
    {"name": "luv", "target": "light:*/color", "dist": "loguniform", "low": [0.1, 0.2, 0.3], "high": [1.0, 2.0, 3.0]},
    {"name": "tnf", "target": "joint:*/damping", "dist": "truncnormal", "mean": 0.0, "std": 1.0, "low": 0.5,
     "high": 3.0},
    {"name": "tnv", "target": "body:*/com", "dist": "truncnormal", "mean": [0.0, 0.1, -0.1], "std": 0.05,
     "low": [-0.1, 0.0, -0.3], "high": [0.05, 0.3, 0.0]},
    {"name": "tnu", "target": "joint:*/armature", "dist": "truncnormal", "mean": 0.0, "std": 0.01, "low": 0.4,
     "high": 0.5},
    {"name": "nv", "target": "light:*/position", "dist": "normal", "mean": [0.0, 1.0, 2.0], "std": 0.5},
    uniform("camera:*/fovy", 40.0, 60.0, name="uf"),
)


def _portable(v: np.ndarray) -> str:
    """Object values (texture paths) without the checkout's own location, so the digest is the same in any clone."""
    return repr(v.tolist()).replace(str(REPO), "<repo>")


def digest(samples: list[Sample]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for s in samples:
        h.update(f"{s.event}{s.index}{list(s.ops.items())}".encode())
        for key, v in s.values.items():
            h.update(f"{key}{v.dtype.str}{v.shape}".encode())
            h.update(_portable(v).encode() if v.dtype == object else np.ascontiguousarray(v).tobytes())
    return h.hexdigest()


def events(r: Randomizer) -> list[Sample]:
    return [r.startup(), r.reset(0), r.frame(0), r.reset(3), r.frame(7), r.reset(799)]


CASES = {
    "every dist": (lambda: randomizer(profile(*EVERY_DIST), seed=3, n_envs=33), "df5ab4ec171c34143c2aaf5b068d04b1"),
    "corners": (lambda: randomizer(profile(*CORNERS), seed=5, n_envs=17), "167a2166b6ae61b93570d77773fc3f1e"),
    "tabletop": (lambda: Randomizer(load_profile(PROFILES / "tabletop.toml"), 7,
                                    load_entities(PROFILES / "tabletop.entities.json"), n_envs=9),
                 "b1e615e983c50bf1187c5a92c6b5b180"),
    "arm2 (curriculum, ADR, signal)": (lambda: Randomizer(load_profile(PROFILES / "arm2.toml"), 11, ARM2_ENTITIES,
                                                          n_envs=21), "403d0bcd30119a925c7e56ae1f8fe800"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_samples_keep_the_bytes_of_the_per_stream_draws(case: str) -> None:
    make, recorded = CASES[case]
    assert digest(events(make())) == recorded


def test_a_kept_sample_is_not_written_by_the_next_ones() -> None:
    """The block a sample's arrays view is that sample's own: later resets and frames leave it as it was."""
    r = randomizer(profile(*EVERY_DIST, *CORNERS), n_envs=6)
    first = r.reset(0)
    kept = {k: v.copy() for k, v in first.values.items()}
    later = [r.reset(1), r.frame(0), r.reset(0)]
    assert all(np.array_equal(first.values[k], kept[k]) for k in kept)
    assert all(not np.shares_memory(first.values[k], s.values[k]) for s in later for k in kept if k in s.values)
    assert all(np.array_equal(later[-1].values[k], kept[k]) for k in kept)  # and episode 0 again is the same


def test_block_rows_equal_each_streams_own_draw() -> None:
    """Stacked by family, each row is what its distribution draws alone from its stream: mixed shapes,
    bounds per component, mirrored and underflowing truncated normals, and degenerate ones (a curriculum
    scale of 0) sharing a family with ordinary ones."""
    from sim2real.randomize import dists
    from sim2real.randomize.block import KeyedBlock
    from sim2real.randomize.streams import RESET, Streams

    tn = dists.TruncNormal(0.3, 0.2, 0.0, 0.5)
    rows = [
        dists.Uniform(0.5, 1.5), dists.Uniform(np.array([0.0, 1.0]), np.array([1.0, 3.0]), (2,)),
        dists.LogUniform(0.1, 10.0), dists.Normal(0.0, np.array([0.1, 0.2, 0.3]), (3,)), dists.Normal(1.0, 0.5),
        tn, tn.scaled(0.0), dists.TruncNormal(0.0, 1.0, 0.5, 3.0), dists.TruncNormal(0.0, 0.01, 0.4, 0.5),
        dists.Uniform(-1.0, 1.0),
    ]
    streams, n = Streams(9), 13
    prefixes = [streams.prefix("row", str(i)) for i in range(len(rows))]
    out: dict[str, np.ndarray] = {}
    KeyedBlock([(str(i), p, d) for i, (p, d) in enumerate(zip(prefixes, rows))], n).fill(streams, RESET, 4, out)
    for i, (p, d) in enumerate(zip(prefixes, rows)):
        alone = d.draw(streams.generator(p, RESET, 4), n)
        assert out[str(i)].shape == alone.shape and out[str(i)].tobytes() == alone.tobytes(), i


def test_the_state_writer_keys_streams_as_numpys_setter_does() -> None:
    """The direct PCG64 state write is active on this numpy and gives every stream numpy's setter gives it,
    a half-used 32-bit output of the previous stream (odd float32 counts) included."""
    from sim2real.randomize.streams import RESET, Streams

    def draws(g: np.random.Generator) -> list[list]:  # ends on an odd number of 32-bit draws (float32)
        return [g.random(3).tolist(), g.integers(0, 1 << 40, 2).tolist(), g.standard_normal(2).tolist(),
                g.random(3, dtype=np.float32).tolist()]

    fast, slow = Streams(4), Streams(4)
    slow._writer = None
    assert fast._writer is not None
    for i in range(20):
        p = fast.prefix("t", str(i))
        a = fast.generator(p, RESET, i, i % 3)
        b = slow.generator(p, RESET, i, i % 3)  # (another Streams: its own generator)
        assert draws(a) == draws(b)
