"""End to end in Debian's headless Chromium (Playwright, executable_path=/usr/bin/chromium): the
web panel served by a real `sim2real ui` subprocess drives real jobs. Load a profile and see a
validation error beside its field, generate a small dataset (progress reaches 100 %, a sample image
shows), measure its image gap (the report shows in the page), train for 8 short epochs (the loss plot gains points while it runs), bundle the model and push it to
a real OpenSSH server on 127.0.0.1 (tests/deploy/sshd.py), then bench it there.
Screenshots go to the artefacts folder."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from web_helpers import browser, open_profile, start_server  # noqa: F401  (browser: a fixture)
from sshd import Sshd, start_sshd  # noqa: E402  (tests/deploy is on the path through web_helpers)

pytestmark = [pytest.mark.browser, pytest.mark.ssh, pytest.mark.render, pytest.mark.slow]  # ~45 s: real jobs end to end
JOB_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory):
    server: Sshd = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


def fill(page, selector: str, value: str) -> None:
    """Type a value and leave the field, as a person does (htmx validates on `change`)."""
    page.fill(selector, value)
    page.dispatch_event(selector, "change")
    settle(page)


def settle(page) -> None:
    """Wait for htmx's request (the server's validation and the swapped form) to finish."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def wait_job(page, kind_button: str) -> str:
    """Click a job button; wait for the job it started to end; return its final state."""
    before = page.eval_on_selector_all(".job", "els => els.map(e => e.id)")
    page.click(kind_button)
    page.wait_for_function("before => { const j = document.querySelector('.job');"
                           " return j && !before.includes(j.id); }", arg=before)
    job_id = page.get_attribute(".job", "id")
    page.wait_for_function("id => { const j = document.getElementById(id);"
                           " return j && !['pending', 'running'].includes(j.dataset.state); }", arg=job_id,
                           timeout=JOB_TIMEOUT_MS)
    return page.get_attribute(f"#{job_id}", "data-state")


def test_click_through_the_panel(browser, sshd: Sshd, tmp_path: Path, artifacts_dir: Path) -> None:
    shots = artifacts_dir / "web"
    shots.mkdir(parents=True, exist_ok=True)
    known = tmp_path / "known_hosts"
    algo, blob = Path(f"{sshd.host_key}.pub").read_text().split()[:2]
    known.write_text(f"[127.0.0.1]:{sshd.port} {algo} {blob}\n")
    device = tmp_path / "device"
    server = start_server(tmp_path / "srv")
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    try:
        # ---- profile: open the shipped tabletop profile, break a range, see the error beside it, fix it
        open_profile(page, server.url)
        assert "tabletop" in page.inner_text("#profile-status")
        low = page.locator("tr[data-term='fill_rim_intensity'] input[data-field='low']")
        original = low.input_value()
        low.fill("-1")
        low.dispatch_event("change")
        settle(page)
        error = page.locator("tr[data-term='fill_rim_intensity'] .error")
        error.wait_for()
        assert "low" in error.get_attribute("id") and "got -1" in error.inner_text()
        assert "not valid" in page.inner_text("#profile-status")
        page.screenshot(path=str(shots / "1-profile-error.png"), full_page=True)
        low = page.locator("tr[data-term='fill_rim_intensity'] input[data-field='low']")
        low.fill(original)
        low.dispatch_event("change")
        page.wait_for_selector("#profile-status.ok")

        # ---- generate: a small dataset, progress to 100 %, a sample image
        page.click("#nav-capture")
        fill(page, "#capture-frames", "0")
        page.wait_for_selector("#error-capture-frames")  # validation beside the field, start disabled
        assert page.is_disabled("#start-capture")
        fill(page, "#capture-frames", "16")
        fill(page, "#capture-width", "64")
        fill(page, "#capture-height", "48")
        page.wait_for_selector("#start-capture:not([disabled])")
        assert wait_job(page, "#start-capture") == "succeeded", page.inner_text(".job")
        assert page.inner_text(".percent[data-task='generate']") == "100%"
        img = page.locator("img.sample")
        img.wait_for()
        page.wait_for_function("() => { const i = document.querySelector('img.sample');"
                               " return i && i.complete && i.naturalWidth === 64 && i.naturalHeight === 48; }")
        page.screenshot(path=str(shots / "2-generate.png"), full_page=True)
        assert (server.workdir / "datasets" / "capture" / "manifest.json").is_file()

        # ---- gap: the synthetic images against a second look at them; the report shows in the page
        page.click("#nav-gap")
        fill(page, "#gap-real", "datasets/capture")
        fill(page, "#gap-size", "32")
        assert wait_job(page, "#start-gap") == "succeeded", page.inner_text(".job")
        frame = page.frame_locator("iframe.report")
        frame.locator("body").wait_for()
        assert "gap" in frame.locator("body").inner_text().lower()
        assert page.locator(".job .result").inner_text().count("report") >= 1
        page.screenshot(path=str(shots / "3-gap.png"), full_page=True)

        # ---- train: a short run; the loss plot gains points while the job runs
        page.click("#nav-train")
        page.select_option("#train-method", "source-only")
        settle(page)
        fill(page, "#train-epochs", "8")  # enough epochs to span several of the page's 1 s polls
        fill(page, "#train-batch_size", "2")
        page.wait_for_selector("#start-train:not([disabled])")
        page.click("#start-train")
        seen = set()  # point counts of the plot while the job ran, read with its state in one step
        state, deadline = "running", time.monotonic() + JOB_TIMEOUT_MS / 1000
        while state in ("pending", "running"):
            assert time.monotonic() < deadline, "the training job did not end"
            state, points = page.evaluate("() => { const j = document.querySelector('.job');"
                                          " const s = j && j.querySelector('svg.plot');"
                                          " return [j ? j.dataset.state : 'pending', s ? Number(s.dataset.points) : 0]; }")
            if state == "running" and points:
                seen.add(points)
            page.wait_for_timeout(100)
        assert state == "succeeded", page.inner_text(".job")
        last = int(page.get_attribute(".job svg.plot", "data-points"))
        assert last == 8 and len(seen | {last}) >= 2, seen  # the plot grew while the job ran
        assert page.locator(".job svg.plot polyline[data-series='epoch.loss']").count() == 1
        page.screenshot(path=str(shots / "4-train.png"), full_page=True)
        page.screenshot(path=str(shots / "panel.png"))  # the first screen: the README's picture of the panel

        # ---- deploy: a target (paths only), a bundle, a push over real SSH, a bench on the device
        page.click("#nav-deploy")
        for field, value in {"name": "loopback", "host": "127.0.0.1", "user": sshd.user, "port": str(sshd.port),
                             "identity_file": str(sshd.user_key), "known_hosts": str(known),
                             "python": sys.executable}.items():
            page.fill(f"#target-{field}", value)
        page.click("#target-add")
        page.wait_for_selector("tr[data-target='loopback']")
        fill(page, "#deploy-target", "loopback")
        fill(page, "#deploy-root", str(device))
        fill(page, "#deploy-precision", "fp32")
        fill(page, "#deploy-iterations", "5")
        fill(page, "#deploy-warmup", "1")
        page.wait_for_selector("#start-bundle:not([disabled])")
        assert wait_job(page, "#start-bundle") == "succeeded", page.inner_text(".job")
        assert wait_job(page, "#start-push") == "succeeded", page.inner_text(".job")
        release = os.readlink(device / "current")
        assert release.startswith("releases/bundle-")
        assert wait_job(page, "#start-bench") == "succeeded", page.inner_text(".job")
        page.wait_for_selector("table.bench tr[data-precision='fp32']")
        page.screenshot(path=str(shots / "5-deploy.png"), full_page=True)
    finally:
        page.close()
        server.stop()
    targets = (tmp_path / "srv" / "config" / "sim2real" / "targets.toml").read_text()
    assert "loopback" in targets and "PRIVATE KEY" not in targets


def test_a_new_user_reads_the_panel(browser, tmp_path: Path, artifacts_dir: Path) -> None:
    """#26: a choice of strings survives the profile editor and a save (it showed as ``[``: ``tojson``
    inside a double-quoted attribute); form fields read as words with units and help, run-time names
    are choice lists, and the page has an icon."""
    import json

    shots = artifacts_dir / "web"
    shots.mkdir(parents=True, exist_ok=True)
    server = start_server(tmp_path / "srv")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        open_profile(page, server.url)
        values = page.locator("tr[data-term='object_asset'] input[data-field='values']")
        assert json.loads(values.input_value()) == ["cube", "sphere", "cylinder", "cone", "mug", "torus", "l_block"]
        values.fill('["mug", "cube", "it\'s \\"quoted\\""]')
        values.dispatch_event("change")
        settle(page)
        page.wait_for_selector("#profile-status.ok")
        page.fill("#profile-save-name", "mine")
        page.click("#profile-save")
        page.wait_for_selector("#profile-status.ok:has-text('mine')")
        page.fill("#profile-path", "profiles/mine.toml")
        page.click("#profile-open")
        page.wait_for_selector("#profile-status.ok:has-text('mine.toml')")
        values = page.locator("tr[data-term='object_asset'] input[data-field='values']")
        assert json.loads(values.input_value()) == ["mug", "cube", 'it\'s "quoted"']
        page.screenshot(path=str(shots / "profile-editor.png"), full_page=True)

        page.click("#nav-capture")
        assert page.inner_text("label[for='capture-width']").startswith("Width (px)")
        assert "pixels" in page.inner_text("#field-capture-width")
        assert page.eval_on_selector("#capture-backend", "e => e.tagName") == "SELECT"
        assert page.eval_on_selector_all("#capture-backend option", "os => os.map(o => o.value)") == ["isaac", "mujoco"]
        assert page.input_value("#capture-backend") == "mujoco"
        cameras = page.eval_on_selector_all("#capture-camera option", "os => os.map(o => o.value)")
        assert cameras == ["main", "top"] and page.input_value("#capture-camera") == "main"
        page.screenshot(path=str(shots / "capture-form.png"), full_page=True)
        icon = page.get_attribute("link[rel='icon']", "href")
        assert page.request.get(server.url.rstrip("/") + icon).headers["content-type"].startswith("image/svg")
        assert page.request.get(server.url + "favicon.ico").status == 200
    finally:
        page.close()
        server.stop()
