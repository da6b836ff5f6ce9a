"""#26: the sysid comparison plots were titled with the log's absolute path and had no residual panel."""

from __future__ import annotations

import numpy as np
import pytest

from sim2real.report import plots
from sim2real.sysid.report_sections import validation_section
from sim2real.sysid.validate import Validation


def test_comparison_plots_name_the_log_and_show_residuals(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[str, dict[str, np.ndarray]]] = []
    real_panels = plots.overlay_panels

    def spy(t, curves, channels, **kw):
        drawn.append((kw.get("title", ""), {k: np.asarray(v) for k, v in curves.items()}))
        return real_panels(t, curves, channels, **kw)

    monkeypatch.setattr(plots, "overlay_panels", spy)
    t = np.linspace(0, 1, 20)
    measured = np.stack([np.sin(t), np.cos(t)], axis=1)
    v = Validation("/home/someone/robot/logs/run_07.csv", t, measured,
                   {"calibrated": measured + 0.1, "nominal": measured - 0.3}, ["q0", "q1"])
    per = {k: {c: {"rmse": 0.1, "vaf_pct": 99.0} for c in v.channels} for k in v.predicted}
    sec = validation_section([v], {"per_channel": per}, ["rad", "rad"])
    titles = [title for title, _ in drawn]
    assert titles == ["run_07.csv", "run_07.csv: residuals"]
    residuals = drawn[1][1]
    assert set(residuals) == {"sim calibrated - measured", "sim nominal - measured"}
    np.testing.assert_allclose(residuals["sim calibrated - measured"], 0.1)
    np.testing.assert_allclose(residuals["sim nominal - measured"], -0.3)
    captions = [b.payload["caption"] for b in sec.blocks if b.kind == "figure"]
    assert len(captions) == 2 and "residuals" in captions[1] and v.run in captions[0]  # the full path stays in a caption
