"""The gap report's "after translation" section (``sim2real gap images --translator RUN``)."""

from __future__ import annotations

from typing import Any

from ..report import Assessment, Section


def translation_section(before: Any, after: Any, translator: str) -> Section:
    """Set metrics of the sim images as rendered and as translated, against the same real images."""
    rows = []
    for name, get in (("KID", lambda g: g.kid["mean"]), ("MMD²", lambda g: g.mmd["mmd2"]),
                      ("MMD p-value", lambda g: g.mmd["p_value"]),
                      ("colour mean |sim - real| (grey levels)", lambda g: g.stats["colour"]["mean_abs_diff"]),
                      ("log10 spectrum distance", lambda g: g.stats["frequency"]["log_spectrum_distance"])):
        b, a = get(before), get(after)
        rows.append([name, b, a, a / b if name != "MMD p-value" and b else ""])
    kb, ka = before.kid["mean"], after.kid["mean"]
    better = ka < kb
    sec = Section("translation", "After sim->real translation")
    sec.assessment(Assessment(
        f"Translation {'reduces' if better else 'does not reduce'} the image gap: KID {kb:.4g} -> {ka:.4g}",
        "good" if better else "warn", f"translator {translator}; the same features, subsets and real images"))
    sec.table(["metric", "sim as rendered", "sim translated", "after / before"], rows)
    return sec
