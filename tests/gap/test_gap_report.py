"""The report builder: self-contained HTML (inline PNGs, no external assets), JSON beside it, stable bytes."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sim2real.errors import InputError
from sim2real.report import Assessment, Metric, Report, Section, grade, plots


class _Page(HTMLParser):
    """Collects what a reader of the page would need to fetch, and the structure."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[str] = []
        self.external: list[str] = []
        self.scripts = 0
        self.pills: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a["id"] or "")
        if tag == "img":
            self.images.append(a["src"] or "")
        if tag == "script":
            self.scripts += 1
        if tag in ("link", "iframe") or (tag in ("img", "script") and not (a.get("src") or "data:").startswith("data:")):
            self.external.append(tag)
        if tag == "span" and "pill" in (a.get("class") or ""):
            self.pills.append((a.get("class") or "").split()[-1])


def parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


def _report() -> Report:
    rep = Report("Gap <b>check</b>", subtitle="test", facts={"run": "gap-1", "n": 3}, kind="gap.test", data={"x": 1.5})
    sec = rep.section("summary", "Summary")
    sec.assessment(Assessment("Good - Manageable reality gap", "good", "score 0.2"))
    sec.metrics([Metric("RMSE", 0.0312345, unit="rad", status=grade(0.03, 0.05, 0.1), threshold="< 0.05"),
                 Metric("KS", float("nan")), Metric("n", np.int64(7), status="bad")])
    fig = plots.series(np.arange(10), {"a": np.arange(10) ** 2}, "x", "y")
    rep.section("plots", "Plots").figure(fig, caption="a curve").image_grid(
        [np.zeros((20, 30, 3), np.uint8), np.full((10, 10), 200, np.uint8)], ["black", "grey"])
    rep.section("table", "Table").table(["name", "value"], [["<script>alert(1)</script>", 2.0]])
    return rep


def test_html_is_self_contained_with_sections_and_inline_pngs(tmp_path: Path) -> None:
    html_path, json_path = _report().write(tmp_path)
    html = html_path.read_text()
    page = parse(html)
    assert page.sections == ["summary", "plots", "table"]
    assert page.external == [] and page.scripts == 0
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "Gap &lt;b&gt;check" in html
    assert page.pills == ["good", "info", "bad"]
    assert len(page.images) == 3
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        assert img.format == "PNG" and img.size[0] > 0
    data = json.loads(json_path.read_text())
    assert data["schema"] == "sim2real.report/1" and data["kind"] == "gap.test" and data["data"] == {"x": 1.5}
    blocks = data["sections"][0]["blocks"]
    assert blocks[0] == {"type": "assessment", "label": "Good - Manageable reality gap", "status": "good", "detail": "score 0.2"}
    rows = {r["name"]: r for r in blocks[1]["rows"]}
    assert rows["RMSE"]["value"] == pytest.approx(0.0312345) and rows["KS"]["value"] is None and rows["n"]["value"] == 7
    assert "0.03123 rad" in html  # 4 significant digits with the unit


def test_rendering_is_deterministic_and_extend_prefixes_ids() -> None:
    assert _report().to_html() == _report().to_html()
    assert _report().to_json() == _report().to_json()
    pipeline = Report("Pipeline")
    pipeline.extend(_report(), prefix="gap")
    pipeline.extend(_report(), prefix="sysid")
    assert [s.id for s in pipeline.sections][:3] == ["gap-summary", "gap-plots", "gap-table"]
    assert len(parse(pipeline.to_html()).sections) == 6


def test_bad_ids_and_tables_are_refused() -> None:
    rep = Report("x")
    rep.section("a", "A")
    with pytest.raises(InputError, match="used twice"):
        rep.section("a", "again")
    with pytest.raises(InputError, match="section id"):
        Section("1 bad id", "x")
    with pytest.raises(InputError, match="expected 2 cells"):
        Section("t", "t").table(["a", "b"], [[1]])


def test_non_finite_data_is_stored_as_null() -> None:
    rep = Report("x", data={"corr": float("nan"), "per": [1.0, np.float64("inf")], "ok": np.float32(0.5)})
    assert json.loads(rep.to_json())["data"] == {"corr": None, "per": [1.0, None], "ok": 0.5}


def test_grade_bands() -> None:
    assert [grade(v, 0.1, 0.3) for v in (0.05, 0.2, 0.5, None, float("nan"))] == ["good", "warn", "bad", "info", "info"]
    assert [grade(v, 0.9, 0.5, higher_is_better=True) for v in (0.95, 0.7, 0.1)] == ["good", "warn", "bad"]
