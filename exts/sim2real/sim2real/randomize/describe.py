"""Plain-text descriptions of a profile's terms, shared by ``sim2real profile show`` and reports."""

from __future__ import annotations

from typing import Any

TERM_COLUMNS = ("term", "target", "when", "distribution", "op", "varies")


def term_rows(profile: Any) -> list[list[str]]:
    """One row per term (``TERM_COLUMNS``): id, target, when it fires, distribution, op, time variation."""
    rows = []
    for t in profile.terms:
        attr = profile.checked.targets[t.id].attribute
        when = f"every {t.every} steps" if t.when == "interval" else t.when
        target = f"{t.target} (one draw for all)" if t.shared else t.target
        rows.append([t.id, target, when, dist_text(t, profile, t.id), t.op_for(attr), signal_text(t.signal)])
    return rows


def dist_text(spec: Any, profile: Any, ident: str) -> str:
    d = spec.dist
    if d in ("uniform", "loguniform"):
        return f"{d} [{spec.low}, {spec.high}]"
    if d == "normal":
        return f"normal(mean {spec.mean}, std {spec.std})"
    if d == "truncnormal":
        return f"truncnormal(mean {spec.mean}, std {spec.std}) in [{spec.low}, {spec.high}]"
    if d == "choice":
        n = len(profile.checked.files.get(ident, [])) if spec.folder is not None else len(spec.values or [])
        src = f"{n} images in {spec.folder}" if spec.folder is not None else ", ".join(map(str, spec.values or []))
        return f"choice of {src}" + (" (weighted)" if spec.weights else "")
    return f"constant {spec.value}"


def signal_text(sig: Any) -> str:
    if sig is None:
        return ""
    if sig.kind == "sinusoid":
        return f"sinusoid ±{sig.amplitude} at {sig.frequency_hz:g} Hz"
    if sig.kind == "ou":
        return f"OU θ={sig.theta:g}/s σ={sig.sigma}"
    if sig.kind == "random_walk":
        return f"random walk σ={sig.sigma}"
    return f"hold {sig.hold_s:g} s"
