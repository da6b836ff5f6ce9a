"""Report sections for gap results, shared by ``sim2real gap``, the pipeline (#13) and control (#12).

Each function takes a result and returns ``Section``s; add them to any ``Report`` (ids can be
prefixed with ``Report.extend``). Status colours use the thresholds documented in docs/gap.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..report import Assessment, Metric, Section, grade
from .image_gap import ImageGap
from .images import SEEDS_SIMILARITY_THRESHOLD
from .metrics import SEVERITY, TrajectoryGap
from .poses import PoseValidation

# Our colour bands for single trajectory metrics (not from the seeds): (good, warn) bounds.
NRMSE_BANDS = (0.05, 0.15)
CORRELATION_BANDS = (0.95, 0.8)
VAF_BANDS = (90.0, 70.0)
MMD_ALPHA = 0.05


def _unit(units: list[str]) -> str:
    return units[0] if units and all(u == units[0] for u in units) else ""


def trajectory_sections(gap: TrajectoryGap) -> list[Section]:
    from ..report import plots

    o = gap.overall
    unit = _unit(gap.units)
    bounds = " / ".join(f"{b:g}" for b, _, _ in SEVERITY[:-1])
    norm = "range-normalised errors, mean over channels" if gap.normalize == "range" else "raw values (the seeds' formula)"
    summary = Section("summary", "Summary").assessment(Assessment(
        gap.assessment, gap.status,  # type: ignore[arg-type]
        f"gap score {gap.gap_score:.3g} = (RMSE + MAE + max error) / 3 on {norm}; "
        f"severity bounds {bounds} (the seeds' assess_gap_severity)",
    ))
    summary.metrics([
        Metric("gap score", gap.gap_score, status=gap.status, threshold=f"< {SEVERITY[1][0]:g} good", key="gap_score"),  # type: ignore[arg-type]
        Metric("NRMSE (mean over channels)", o["nrmse"], status=grade(o["nrmse"], *NRMSE_BANDS),
               threshold=f"< {NRMSE_BANDS[0]:g}", key="nrmse"),
        Metric("correlation (pooled)", o["correlation"], threshold=f"> {CORRELATION_BANDS[0]:g}",
               status=grade(o["correlation"], *CORRELATION_BANDS, higher_is_better=True), key="correlation"),
        Metric("VAF (mean over channels)", o["vaf_pct"], unit="%", threshold=f"> {VAF_BANDS[0]:g} %",
               status=grade(o["vaf_pct"], *VAF_BANDS, higher_is_better=True), key="vaf_pct"),
        Metric("RMSE (pooled)", o["rmse"], unit=unit, key="rmse", note="" if unit else "channels differ in units"),
        Metric("MAE (pooled)", o["mae"], unit=unit, key="mae"),
        Metric("max error (pooled)", o["max_error"], unit=unit, key="max_error"),
        Metric("KS statistic (pooled)", o["ks"], key="ks", note=f"p = {o['ks_pvalue']:.3g}; 0 = same value distribution"),
        Metric("DTW per step / range", o["dtw_normalised"], key="dtw_normalised", note="shape error once timing is forgiven"),
        Metric("delay (real behind sim)", gap.delay_s, unit="s", key="delay_s",
               note=("compensated before the metrics" if gap.delay_compensated else "not compensated")
               + f"; peak correlation {gap.delay_peak:.3g}"),
    ], title="Overall")

    cols = ["channel", "unit", "RMSE", "MAE", "max error", "correlation", "KS", "VAF %", "NRMSE", "DTW/step", "delay s"]
    keys = ["rmse", "mae", "max_error", "correlation", "ks", "vaf_pct", "nrmse", "dtw", "delay_s"]
    channels = Section("channels", "Per channel").table(
        cols, [[c, u, *(gap.per_channel[c][k] for k in keys)] for c, u in zip(gap.channels, gap.units, strict=True)])

    ov = gap.overlap
    align = Section("alignment", "Time alignment").table(["quantity", "value"], [
        ["common clock", ov["clock"]], ["overlap", f"{ov['duration_s']:.4g} s"], ["samples compared", ov["n_samples"]],
        ["sim recording inside the overlap", f"{100 * ov['sim_coverage']:.1f} %"],
        ["real recording inside the overlap", f"{100 * ov['real_coverage']:.1f} %"],
        ["offset added to sim time", f"{ov['offset_s']:.6f} s"], ["points dropped in recording gaps", ov["dropped_in_gaps"]],
        ["rows dropped on load (sim)", str(gap.dropped.get("sim") or "none")],
        ["rows dropped on load (real)", str(gap.dropped.get("real") or "none")],
    ]).text("Timestamps are compared as full seconds + nanoseconds. Sim values are linearly interpolated at the "
            "common clock's instants inside the overlap of both recordings.")

    a = gap.aligned
    figs = Section("plots", "Plots")
    figs.figure(plots.overlay_panels(a.t_s, {"sim": a.sim, "real": a.real}, a.channels, units=a.units,
                                     title="Sim and real, aligned"), caption="Sim and real trajectories on the common clock")
    err = a.sim - a.real
    figs.figure(plots.overlay_panels(a.t_s, {"sim - real": err}, a.channels, units=a.units, title="Error over time"),
                caption="Error (sim - real) over time")
    shown = a.channels[:6]
    figs.figure(plots.histogram({c: err[:, i] for i, c in enumerate(shown)}, xlabel="sim - real", title="Error histograms"),
                caption="Distribution of the error per channel" + (" (first 6 channels)" if len(a.channels) > 6 else ""))
    return [summary, channels, align, figs]


def pose_sections(v: PoseValidation) -> list[Section]:
    from ..report import plots

    s = v.summary
    th = s["thresholds"]
    status = "good" if s["passed"] else ("warn" if s["accuracy"] >= 0.8 else "bad")
    summary = Section("summary", "Summary").assessment(Assessment(
        f"{'PASS' if s['passed'] else 'FAIL'} - {100 * s['accuracy']:.1f} % of poses within tolerance",
        status,  # type: ignore[arg-type]
        f"valid pose: position error < {th['position_m']:g} m and orientation error < {th['orientation_rad']:g} rad "
        f"(the seeds' thresholds); pass: at least {100 * th['pass_share']:g} % valid",
    ))
    pe, oe = s["position_error_m"], s["orientation_error_rad"]
    summary.metrics([
        Metric("accuracy (both within tolerance)", s["accuracy"], status=status, key="accuracy",  # type: ignore[arg-type]
               threshold=f">= {th['pass_share']:g}"),
        Metric("accuracy, position only", s["accuracy_position"], key="accuracy_position", note="the seeds' pose_accuracy"),
        Metric("accuracy, orientation only", s["accuracy_orientation"], key="accuracy_orientation"),
        Metric("position error, mean", pe["mean"], unit="m", key="position_mean_m",
               status=grade(pe["mean"], th["position_m"] / 2, th["position_m"]), threshold=f"< {th['position_m']:g} m"),
        Metric("position error, p95", pe["p95"], unit="m", key="position_p95_m"),
        Metric("position error, max", pe["max"], unit="m", key="position_max_m"),
        Metric("orientation error, mean", oe["mean"], unit="rad", key="orientation_mean_rad",
               status=grade(oe["mean"], th["orientation_rad"] / 2, th["orientation_rad"]),
               threshold=f"< {th['orientation_rad']:g} rad", note=f"{math.degrees(oe['mean']):.2f} deg"),
        Metric("orientation error, p95", oe["p95"], unit="rad", key="orientation_p95_rad"),
        Metric("orientation error, max", oe["max"], unit="rad", key="orientation_max_rad"),
        Metric("poses compared", s["n"], key="n", note=f"matching: {v.match}; {v.unmatched} real poses unmatched"),
    ], title="Pose errors")

    roll = v.rolling()
    figs = Section("plots", "Errors over time")
    figs.figure(plots.series(v.t_s, {"position error": v.position_error_m, f"rolling mean ({v.window})": roll["position_mean_m"]},
                             "time [s]", "position error [m]", hlines={"threshold": th["position_m"]}),
                caption="Position error and its rolling mean")
    figs.figure(plots.series(v.t_s, {"orientation error": v.orientation_error_rad,
                                     f"rolling mean ({v.window})": roll["orientation_mean_rad"]},
                             "time [s]", "orientation error [rad]", hlines={"threshold": th["orientation_rad"]}),
                caption="Orientation error (geodesic angle) and its rolling mean")
    figs.figure(plots.series(v.t_s, {f"rolling accuracy ({v.window})": roll["accuracy"]}, "time [s]", "share valid",
                             hlines={"pass share": th["pass_share"]}), caption="Rolling share of valid poses")
    figs.figure(plots.histogram({"position error [m]": v.position_error_m}, "position error [m]", threshold=th["position_m"]),
                caption="Distribution of position errors")
    if v.sim_position is not None and v.real_position is not None:
        figs.figure(plots.paths_2d({"sim": v.sim_position[:, :2], "real": v.real_position[:, :2]}),
                    caption="Paths seen from above (dot: start)")
        figs.figure(plots.overlay_panels(v.t_s, {"sim": v.sim_position, "real": v.real_position}, ["x", "y", "z"],
                                         units=["m", "m", "m"]), caption="Positions over time")
    return [summary, figs]


def image_sections(g: ImageGap) -> list[Section]:
    """The image gap: the verdict, set and pair metrics, then the figures (``_image_figures``)."""
    distinguishable = g.mmd["p_value"] < MMD_ALPHA
    summary = Section("summary", "Summary").assessment(Assessment(
        ("Distinguishable - the sim and real image sets differ" if distinguishable
         else f"Not distinguishable - no detectable gap with these features and {min(g.n_sim, g.n_real)} images per side"),
        "warn" if distinguishable else "good",
        f"MMD permutation test on {g.extractor} features: p = {g.mmd['p_value']:.3g} (alpha {MMD_ALPHA:g}); "
        f"KID = {g.kid['mean']:.4g} ± {g.kid['std']:.2g}",
    ))
    st = g.stats
    rows = [
        Metric("KID", g.kid["mean"], key="kid", note=f"± {g.kid['std']:.2g} over {g.kid['subsets']} subsets of {g.kid['subset_size']}; 0 = same distribution"),
        Metric("MMD² (Gaussian kernel)", g.mmd["mmd2"], key="mmd2", status="warn" if distinguishable else "good",
               threshold=f"p >= {MMD_ALPHA:g}", note=f"permutation p = {g.mmd['p_value']:.3g}"),
        Metric("colour mean |sim - real|", st["colour"]["mean_abs_diff"], unit="grey levels", key="colour_mean_abs_diff"),
        Metric("colour histogram EMD (R, G, B)", ", ".join(f"{v:.3g}" for v in st["colour"]["histogram_emd"]),
               unit="grey levels", key="colour_histogram_emd"),
        Metric("spectral slope sim / real", f"{st['frequency']['slope_sim']:.3g} / {st['frequency']['slope_real']:.3g}",
               key="spectral_slope", note="log-log power vs frequency; natural images about -2"),
        Metric("high-frequency power share sim / real",
               f"{st['frequency']['high_freq_share_sim']:.3g} / {st['frequency']['high_freq_share_real']:.3g}",
               key="high_freq_share"),
        Metric("log10 spectrum distance", st["frequency"]["log_spectrum_distance"], key="log_spectrum_distance"),
        Metric("images", f"{g.n_sim} sim / {g.n_real} real", key="images"),
    ]
    ps = g.pair_summary()
    if not ps["n"]:  # set distances only: no frame-by-frame table with a pass threshold for unpaired sets
        rows.append(Metric("pairs compared", "none", key="pairs", note=g.pair_why))
    else:
        quality = ps["image_quality_score"]
        rows += [
            Metric("pairs compared", ps["n"], key="pairs", note=f"paired by {g.pair_mode} ({g.pair_why})"),
            Metric("SSIM, mean over pairs", ps["ssim_mean"], key="ssim_mean", status=grade(ps["ssim_mean"], 0.8, 0.5, True)),
            Metric("NCC, mean over pairs", ps["ncc_mean"], key="ncc_mean"),
            Metric("image quality score", quality, key="image_quality_score",
                   threshold=f"similarity (NCC+1)/2 > {SEEDS_SIMILARITY_THRESHOLD:g}",
                   status=grade(quality, 0.9, 0.5, True), note="the seeds' share of similar pairs"),
        ]
    summary.metrics(rows, title="Set and pair metrics")
    return [summary, *_image_figures(g)]


def _image_figures(g: ImageGap) -> list[Section]:
    """Sample images, colour and spectrum plots, the pairs and the per-class table."""
    from ..report import plots

    st = g.stats
    samples = Section("samples", "Samples")
    for side in ("sim", "real"):
        items = g.samples.get(side, [])
        if items:
            samples.image_grid([img for _, img in items], [n for n, _ in items], title=f"{side} images", columns=4)
    if g.worst_pairs:
        samples.image_grid([strip for _, _, strip in g.worst_pairs],
                           [f"{name}: SSIM {value:.3f} (sim | real)" for name, value, _ in g.worst_pairs],
                           title="Lowest-SSIM pairs (sim | real)", columns=2, max_side=512)

    figs = Section("statistics", "Colour and frequency")
    figs.figure(plots.bars(["R", "G", "B"], {"sim": st["colour"]["mean_sim"], "real": st["colour"]["mean_real"]},
                           "mean grey level"), caption="Mean colour per channel")
    spec_s, spec_r = g.sim_stats.mean_spectrum, g.real_stats.mean_spectrum
    f = np.arange(len(spec_s))[1:]
    figs.figure(plots.series(f, {"sim": spec_s[1:], "real": spec_r[1:]}, "spatial frequency [cycles / image]",
                             "power", log_x=True, log_y=True), caption="Radially averaged power spectrum")
    out = [samples, figs]
    if g.pairs:
        pairs = Section("pairs", "Pairs").table(
            ["sim", "real", "SSIM", "NCC", "similarity"],
            [[p["sim"], p["real"], p["ssim"], p["ncc"], p["similarity"]] for p in g.pairs[:200]],
            title="Per pair" + (" (first 200)" if len(g.pairs) > 200 else ""))
        pairs.figure(plots.histogram({"SSIM": np.array([p["ssim"] for p in g.pairs]),
                                      "similarity": np.array([p["similarity"] for p in g.pairs])}, "value",
                                     threshold=SEEDS_SIMILARITY_THRESHOLD), caption="Pair metric distribution")
        out.append(pairs)
    if g.per_class:
        out.append(Section("classes", "Per class").table(
            ["class", "sim images", "real images", "KID", "KID std", "MMD²", "MMD p"],
            [[c, d["n_sim"], d["n_real"], d["kid_mean"], d["kid_std"], d["mmd2"], d["mmd_p_value"]]
             for c, d in g.per_class.items()]))
    return out


def policy_sections(m: dict[str, Any], sim_returns: np.ndarray | None = None,
                    real_returns: np.ndarray | None = None) -> list[Section]:
    """The transfer assessment (``policy.transfer_metrics`` output), with return histograms if given."""
    from ..report import plots

    sec = Section("transfer", "Policy transfer").assessment(Assessment(
        m["assessment"], m["status"],
        "the seeds' wording on the transfer ratio (mean real return / mean sim return): > 0.8, > 0.6, > 0.4"))
    rows = [
        Metric("transfer ratio", m["transfer_ratio"], status=m["status"], threshold="> 0.8", key="transfer_ratio"),
        Metric("performance gap (sim - real)", m["performance_gap"], key="performance_gap"),
        Metric("sim return", m["sim"]["mean"], key="sim_mean",
               note=f"± {m['sim']['std']:.3g}, median {m['sim']['median']:.3g}, {m['sim']['n']} episodes"),
        Metric("real return", m["real"]["mean"], key="real_mean",
               note=f"± {m['real']['std']:.3g}, median {m['real']['median']:.3g}, {m['real']['n']} episodes"),
    ]
    for side in ("sim", "real"):
        if f"success_rate_{side}" in m:
            thr = m.get("success_threshold")
            rows.append(Metric(f"success rate ({side})", m[f"success_rate_{side}"], key=f"success_rate_{side}",
                               threshold=f"return >= {thr:g}" if thr is not None else "episode success flag"))
    sec.metrics(rows)
    if sim_returns is not None and real_returns is not None:
        sec.figure(plots.histogram({"sim": sim_returns, "real": real_returns}, "episode return", bins=20,
                                   threshold=m.get("success_threshold")), caption="Episode returns")
    return [sec]
