"""The image gap between a sim and a real image set: pairs, set statistics, KID/MMD, per class."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..dataset.imagesets import ImageSet, iter_loaded
from ..progress import NullReporter, Reporter
from ..train.features import FeatureExtractor, extract, kid, mmd_rbf
from .images import (
    SEEDS_SIMILARITY_THRESHOLD,
    SetStats,
    compare_stats,
    pair_items,
    resolve_pair_mode,
    pair_metrics,
    resize,
    square,
)

SAMPLES_PER_SIDE = 8  # thumbnails kept for the report
WORST_PAIRS = 4


@dataclass
class ImageGap:
    n_sim: int
    n_real: int
    extractor: str
    kid: dict[str, float]
    mmd: dict[str, float]
    stats: dict[str, Any]
    pairs: list[dict[str, Any]]
    pair_mode: str
    pair_why: str  # how the mode was chosen (auto: why these sets are or are not paired captures)
    per_class: dict[str, dict[str, Any]]
    sim_stats: SetStats = field(repr=False)
    real_stats: SetStats = field(repr=False)
    samples: dict[str, list[tuple[str, np.ndarray]]] = field(repr=False, default_factory=dict)
    worst_pairs: list[tuple[str, float, np.ndarray]] = field(repr=False, default_factory=list)  # (name, SSIM, strip)

    def pair_summary(self) -> dict[str, Any]:
        if not self.pairs:
            return {"n": 0}
        ssim = np.array([p["ssim"] for p in self.pairs])
        ncc = np.array([p["ncc"] for p in self.pairs])
        sim_ = np.array([p["similarity"] for p in self.pairs])
        return {
            "n": len(self.pairs), "ssim_mean": float(ssim.mean()), "ssim_min": float(ssim.min()),
            "ncc_mean": float(ncc.mean()), "similarity_mean": float(sim_.mean()),
            # the seeds' image_quality_score: share of pairs whose similarity exceeds 0.7
            "image_quality_score": float(np.mean(sim_ > SEEDS_SIMILARITY_THRESHOLD)),
            "similarity_threshold": SEEDS_SIMILARITY_THRESHOLD,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"n_sim": self.n_sim, "n_real": self.n_real, "features": self.extractor, "kid": self.kid,
                "mmd": self.mmd, "statistics": self.stats, "pair_mode": self.pair_mode, "pair_why": self.pair_why,
                "pairs": self.pairs, "pair_summary": self.pair_summary(), "per_class": self.per_class}


def _load_side(images: ImageSet, size: int, task: Any) -> tuple[list[np.ndarray], SetStats, list[tuple[str, np.ndarray]]]:
    """One pass over a set: feature-sized copies, colour/frequency statistics, a few thumbnails."""
    small, stats, samples = [], SetStats(), []
    for item, img in iter_loaded(images.items):
        stats.add(img)
        small.append(square(img, size))
        if len(samples) < SAMPLES_PER_SIDE:
            samples.append((item.name, img))
        task.advance()
    return small, stats, samples


def image_gap(
    sim: ImageSet, real: ImageSet, extractor: FeatureExtractor, pair_mode: str = "auto",
    kid_subsets: int = 100, kid_subset_size: int = 1000, permutations: int = 200, seed: int = 0,
    reporter: Reporter | None = None,
) -> ImageGap:
    """Every image metric between two sets. Memory: the sets at feature size, one full image at a time."""
    rep = reporter or NullReporter()
    with rep.task("load images", total=len(sim) + len(real), unit="img") as task:
        sim_small, sim_stats, sim_samples = _load_side(sim, extractor.size, task)
        real_small, real_stats, real_samples = _load_side(real, extractor.size, task)
    with rep.task("features", total=len(sim_small) + len(real_small), unit="img") as task:
        fs = extract(extractor, sim_small, on_batch=task.advance)
        fr = extract(extractor, real_small, on_batch=task.advance)

    k = kid(fs, fr, kid_subsets, kid_subset_size, seed)
    mm = mmd_rbf(fs, fr, permutations, seed)

    pairs: list[dict[str, Any]] = []
    worst: list[tuple[str, float, np.ndarray]] = []
    pair_mode, pair_why = resolve_pair_mode(sim, real, pair_mode)
    matched = pair_items(sim, real, pair_mode)
    with rep.task("pairs", total=len(matched), unit="pair") as task:
        for s_item, r_item in matched:
            a, b = s_item.load(), r_item.load()
            pairs.append({"sim": s_item.name, "real": r_item.name, **pair_metrics(a, b)})
            worst = sorted([*worst, (s_item.name, pairs[-1]["ssim"], pair_strip(a, b))], key=lambda w: w[1])[:WORST_PAIRS]
            task.advance()

    per_class: dict[str, dict[str, Any]] = {}
    sim_labels = np.array([i.label for i in sim.items], dtype=object)
    real_labels = np.array([i.label for i in real.items], dtype=object)
    for label in sorted(set(sim.labels) & set(real.labels)):
        a, b = fs[sim_labels == label], fr[real_labels == label]
        if len(a) >= 2 and len(b) >= 2:
            kc = kid(a, b, kid_subsets, kid_subset_size, seed)
            mc = mmd_rbf(a, b, permutations, seed)
            per_class[label] = {"n_sim": len(a), "n_real": len(b), "kid_mean": kc.mean, "kid_std": kc.std,
                                "mmd2": mc.mmd2, "mmd_p_value": mc.p_value}

    return ImageGap(
        n_sim=len(sim), n_real=len(real), extractor=extractor.name,
        kid={"mean": k.mean, "std": k.std, "subsets": k.subsets, "subset_size": k.subset_size},
        mmd={"mmd2": mm.mmd2, "bandwidth": mm.bandwidth, "p_value": mm.p_value, "permutations": mm.permutations},
        stats=compare_stats(sim_stats, real_stats), pairs=pairs, pair_mode=pair_mode, pair_why=pair_why, per_class=per_class,
        sim_stats=sim_stats, real_stats=real_stats, samples={"sim": sim_samples, "real": real_samples},
        worst_pairs=worst,
    )


def pair_strip(sim: np.ndarray, real: np.ndarray, height: int = 160) -> np.ndarray:
    """A sim image and its real counterpart side by side, ``height`` pixels high (thumbnail)."""
    width = max(1, round(sim.shape[1] * height / sim.shape[0]))
    return np.concatenate([resize(sim, width, height), resize(real, width, height)], axis=1)
