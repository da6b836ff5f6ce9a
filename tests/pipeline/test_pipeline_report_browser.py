"""The quick demo's report in Debian's headless Chromium: one self-contained page (no request leaves it),
every stage a section, every picture decoded. Its first screen is saved to the artefacts folder
(``report/report.png``; ``tools/docs_pictures.py`` puts it in docs/ for the README)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pipeline_helpers import Demo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from web_helpers import browser  # noqa: E402,F401  (a fixture)

pytestmark = [pytest.mark.browser]
SECTIONS = ["Overview", "Synthetic data", "Training and adaptation", "Deployed model", "Reality gap: images",
            "System identification", "Export (ONNX)", "Quantization"]


def test_the_demo_report_reads_in_a_browser(quick_demo: Demo, browser, artifacts_dir: Path) -> None:  # noqa: F811
    report = quick_demo.out / "report" / "report.html"
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(report.resolve().as_uri())
        page.wait_for_load_state("load")
        titles = page.eval_on_selector_all("section > h2", "els => els.map(e => e.textContent)")
        assert [t for t in titles if not t.startswith("Target images")] == SECTIONS, titles
        sizes = page.eval_on_selector_all("img", "els => els.map(i => [i.complete, i.naturalWidth])")
        assert sizes and all(done and width > 0 for done, width in sizes), sizes
        assert all(u.startswith(("file:", "data:")) for u in requests), requests  # nothing from a network
        shots = artifacts_dir / "report"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "report.png"))  # the first screen, as the README shows it
    finally:
        page.close()
