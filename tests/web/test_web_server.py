"""The web panel's server without a browser: the token guard when bound beyond loopback (a real
`sim2real ui` subprocess), loopback protections, path checks, the SVG plot and form fields."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import html
import re

import httpx
import pytest

from web_helpers import start_server
from sim2real.errors import UserError
from sim2real.web import fields
from sim2real.web.paths import IMAGE_TYPES, output_path, served_file
from sim2real.web.svgplot import line_plot, nice_ticks


def test_token_guards_every_request_and_never_reaches_the_log(tmp_path: Path) -> None:
    server = start_server(tmp_path / "srv", host="0.0.0.0")
    try:
        assert server.token and len(server.token) >= 20
        port = urlsplit(server.url).port
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as c:
            for path in ("/profile", "/capture", "/static/htmx.min.js", "/jobs/1"):
                assert c.get(path).status_code == 401, path
            assert c.post("/profile/load", data={"path": "tabletop"}).status_code == 401
            assert c.get("/profile", params={"token": "x" + server.token[1:]}).status_code == 401
        with httpx.Client(base_url=base, cookies={"sim2real_token": server.token[:-1]}, timeout=30) as wrong:
            assert wrong.get("/profile").status_code == 401
        with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as c:

            r = c.get("/profile", params={"token": server.token})
            assert r.status_code == 303 and r.headers["location"] == "/profile"  # the token leaves the URL
            cookie = r.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
            page = c.get("/profile")  # the client now sends the cookie
            assert page.status_code == 200 and "Randomization profile" in page.text
            assert server.token not in page.text
            assert c.get("/static/htmx.min.js").status_code == 200
        # another client (no cookie) is still refused
        assert httpx.get(f"{base}/profile", timeout=30).status_code == 401
    finally:
        server.stop()
    log = server.log_file.read_text()
    assert "GET /profile -> 401" in log and "GET /profile -> 200" in log  # requests are logged ...
    assert server.token not in log  # ... but never the token
    assert server.token not in server.stderr_file.read_text()
    assert server.proc.returncode == 130  # Ctrl-C: the CLI's "interrupted" exit code, after a clean shutdown


def test_loopback_refuses_rebinding_and_cross_site_posts(tmp_path: Path) -> None:
    server = start_server(tmp_path / "srv")
    try:
        assert server.token is None
        with httpx.Client(base_url=server.url, timeout=30) as c:
            for path in ("/profile", "/capture", "/train", "/gap", "/sysid", "/deploy"):
                assert c.get(path).status_code == 200, path
            assert c.get("/nothing").status_code == 404
            # DNS rebinding: a hostile name resolving to 127.0.0.1 reaches us with its own Host header
            assert c.get("/profile", headers={"Host": "attacker.example"}).status_code == 403
            # a form on another site posting to the panel
            r = c.post("/profile/load", data={"path": "tabletop"}, headers={"Origin": "http://attacker.example"})
            assert r.status_code == 403
            r = c.post("/profile/load", data={"path": "tabletop"}, headers={"Origin": server.url.rstrip("/")})
            assert r.status_code == 200 and "profile-status" in r.text
            # a path outside the workdir is refused for outputs, a missing input is named
            r = c.post("/profile/save", data={"name": "../../escape"})
            assert "expected a file name without folders" in r.text
            r = c.post("/profile/field", data={"term": "no such term", "field": "low", "value": "1"})
            assert r.status_code == 200 and "no term named &#39;no such term&#39;" in r.text
            r = c.post("/profile/load", data={"path": "no/such.toml"})
            assert "profile: expected an existing file or folder" in r.text
            # no job, no files
            assert c.get("/jobs/7/artifacts/0").status_code == 200 and "no job 7" in c.get("/jobs/7/artifacts/0").text
            # a start refused by the view-model shows its reason instead of a job
            r = c.post("/jobs/train", data={"data": "datasets/none", "out": "train/x"})
            assert "train.data: expected an existing file or folder" in r.text
            r = c.post("/jobs/sysid", data={"logs": "logs/a.csv\nlogs/b.csv", "params": "body:*/mass"})
            assert "sysid.logs: expected an existing file or folder (got &#39;logs/a.csv&#39;" in r.text
            assert "no calibrated profile yet" in c.post("/sysid/use-calibrated").text
            r = c.post("/jobs/gap", data={"sim": ".", "real": ".", "out": ""})
            assert "gap.out: expected an output folder inside the panel" in html.unescape(r.text)
            r = c.post("/jobs/capture", data={"out": "/tmp/elsewhere"})
            assert "capture.out: expected a folder inside the panel's workdir" in html.unescape(r.text)
    finally:
        server.stop()
    assert "GET /profile -> 403 (forbidden)" in server.log_file.read_text()


def test_served_files_stay_in_the_job_folder(tmp_path: Path) -> None:
    job = tmp_path / "work" / "datasets" / "a"
    (job / "shard").mkdir(parents=True)
    img = job / "shard" / "rgb.png"
    img.write_bytes(b"\x89PNG")
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG")
    (job / "link.png").symlink_to(secret)
    assert served_file(job, str(img), IMAGE_TYPES) == (img.resolve(), "image/png")
    # a relative path is the job's (from its working folder), not the server's
    assert served_file(job, "datasets/a/shard/rgb.png", IMAGE_TYPES, cwd=tmp_path / "work")[0] == img.resolve()
    for bad in (str(secret), str(job / "shard" / ".." / ".." / ".." / "secret.png"), str(job / "link.png"),
                str(job / "shard"), "/etc/passwd", str(job / "missing.png")):
        with pytest.raises(UserError):
            served_file(job, bad, IMAGE_TYPES)
    (job / "notes.txt").write_text("x")
    with pytest.raises(UserError):
        served_file(job, str(job / "notes.txt"), IMAGE_TYPES)
    work = tmp_path / "work"
    assert output_path(work, "out", "datasets/b") == (work / "datasets" / "b").resolve()
    for escape in ("../b", "/tmp/b", "datasets/../../b"):
        with pytest.raises(UserError, match="inside the panel's workdir"):
            output_path(work, "out", escape)


def test_svg_plot_draws_finite_points_on_round_ticks() -> None:
    assert nice_ticks(0.0, 10.0, 6) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert nice_ticks(0.0, 1.0) == [0.0, 0.5, 1.0]  # steps of 1, 2 or 5 x 10^k, at most `count` ticks
    assert nice_ticks(0.13, 0.47, 4) == [0.2, 0.4] and nice_ticks(1.0, 1.0) == [1.0]
    svg = line_plot({"epoch.loss": [(1, 0.9), (2, 0.5), (3, float("nan")), (4, 0.3)], "empty": []})
    assert svg.startswith("<svg") and svg.endswith("</svg>") and 'data-points="3"' in svg
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 3 and "nan" not in svg
    # the highest loss is drawn highest (SVG y grows downwards)
    coords = re.search(r'<polyline[^>]* points="([^"]*)"', svg).group(1)
    ys = [float(p.split(",")[1]) for p in coords.split()]
    assert ys[0] < ys[1] < ys[2]
    assert "no data yet" in line_plot({})
    assert "&lt;b&gt;" in line_plot({"<b>": [(0, 1)]})  # names are escaped


def test_form_fields_come_from_the_settings_model() -> None:
    from sim2real.app.settings import CaptureSettings, TrainSettings

    specs = {s.name: s for s in fields.input_specs(CaptureSettings)}
    assert specs["frames"].kind == "number" and specs["frames"].step == "1" and specs["frames"].minimum == 1
    assert specs["layout"].kind == "select" and specs["layout"].choices == ["native", "basic"]
    assert specs["depth_npy"].kind == "checkbox" and specs["scene"].kind == "text" and not specs["scene"].required
    train = {s.name: s for s in fields.input_specs(TrainSettings)}
    assert train["method"].kind == "select" and not train["method"].required and train["lr"].step == "any"
    assert fields.coerce(specs["frames"], "12") == 12 and fields.coerce(specs["frames"], "twelve") == "twelve"
    assert fields.coerce(specs["frames"], " ") is None and fields.coerce(train["lr"], "1e-3") == 0.001
    assert fields.coerce(specs["depth_npy"], "true") is True and fields.coerce(specs["depth_npy"], "false") is False


def test_a_target_names_the_device_python_without_secrets(tmp_path: Path) -> None:
    """The additive `python` field of sim2real.app's DeployTarget (a device whose numpy/onnxruntime
    live in a venv) reaches every `sim2real deploy` command line; a key's contents are refused."""
    from sim2real.app.targets import TargetsStore

    store = TargetsStore(tmp_path / "targets.toml")
    assert store.put({"name": "dev", "host": "127.0.0.1", "user": "nvidia", "python": "/opt/venv/bin/python"})
    assert TargetsStore(tmp_path / "targets.toml").get("dev").ssh_args() == [
        "--target", "nvidia@127.0.0.1", "--python", "/opt/venv/bin/python"]
    assert store.put({"name": "bad", "host": "h", "user": "u", "python": "python3\n-----BEGIN KEY"}) is None
    assert "python" in store.errors


@pytest.mark.render
def test_a_job_is_polled_until_it_ends_and_can_be_cancelled(tmp_path: Path) -> None:
    """A real generation started over HTTP: the fragment polls (200) while it runs, Cancel sends
    SIGINT through the view-model, and the ended job answers 286 (htmx stops polling)."""
    import time

    server = start_server(tmp_path / "srv")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            assert "profile-status" in c.post("/profile/load", data={"path": "tabletop"}).text
            r = c.post("/jobs/capture", data={"frames": "100000", "width": "32", "height": "24", "out": "datasets/big"})
            job_id = int(re.search(r'id="job-(\d+)"', r.text).group(1))
            assert 'hx-trigger="every 1s"' in r.text
            deadline = time.monotonic() + 120
            while "frame" not in (page := c.get(f"/jobs/{job_id}")).text:  # wait for the first frames
                assert page.status_code == 200 and time.monotonic() < deadline
                time.sleep(0.3)
            assert c.post(f"/jobs/{job_id}/cancel").status_code == 200
            while (page := c.get(f"/jobs/{job_id}")).status_code == 200:
                assert time.monotonic() < deadline
                time.sleep(0.3)
            assert page.status_code == 286 and 'data-state="cancelled"' in page.text
            assert "every 1s" not in page.text
            assert (server.workdir / "datasets" / "big" / "manifest.json").is_file()  # finished frames kept
    finally:
        server.stop()


PIPELINE = """
version = 1
name = "web_tiny"
[generate]
profile = "tabletop_plain"
frames = 6
resolution = [32, 24]
seed = 0
"""


@pytest.mark.render
def test_a_pipeline_runs_from_the_panel_and_its_report_is_served(tmp_path: Path) -> None:
    """`sim2real run` (#13) through the Pipeline frame: stage progress, summary, the report served with a
    script-blocking CSP; a shipped name resolves to config/pipelines; a missing file is refused."""
    import time

    from sim2real.app.pipeline import PipelineSettings

    assert PipelineSettings(pipeline="demo_quick").file().endswith("config/pipelines/demo_quick.toml")
    server = start_server(tmp_path / "srv")
    (server.workdir / "tiny.toml").write_text(PIPELINE)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            assert "Pipeline" in c.get("/pipeline").text
            r = c.post("/jobs/pipeline", data={"pipeline": "nope.toml", "out": "pipeline/run"})
            assert "pipeline.pipeline: expected an existing file" in r.text
            r = c.post("/jobs/pipeline", data={"pipeline": "tiny.toml", "out": "pipeline/run"})
            job_id = int(re.search(r'id="job-(\d+)"', r.text).group(1))
            deadline = time.monotonic() + 180
            while (page := c.get(f"/jobs/{job_id}")).status_code == 200:
                assert time.monotonic() < deadline
                time.sleep(0.5)
            assert 'data-state="succeeded"' in page.text, page.text
            assert 'data-task="pipeline">100%' in page.text and "result-stages" in page.text
            report = re.search(r'href="(/jobs/\d+/artifacts/\d+)"', page.text).group(1)
            served = c.get(report)
            assert served.status_code == 200 and served.headers["content-type"].startswith("text/html")
            assert "script-src" not in served.headers["content-security-policy"]  # default-src 'none' blocks scripts
            assert "default-src 'none'" in served.headers["content-security-policy"] and "<html" in served.text
    finally:
        server.stop()


def test_results_read_as_rounded_tables_and_labels_as_words(tmp_path: Path) -> None:
    """#26: a job's result shows numbers to 4 significant digits and nested results as nested tables
    (they were raw 16-digit floats, deeper mappings dropped); every settings field has a human label."""
    from sim2real.app.settings import CaptureSettings, DeploySettings, GapSettings, SysidSettings, TrainSettings
    from sim2real.web.state import WebPanel
    from sim2real.web.views import Views

    views = Views(WebPanel(tmp_path / "work"))
    job = {"id": 1, "kind": "gap", "state": "succeeded", "tasks": [], "artifacts": [], "error": None,
           "cancel_requested": False, "log_tail": [],
           "result": {"kid": 0.123456789012, "frames": 32, "metrics": {"ssim": {"mean": 0.98765432101}},
                      "sizes": [0.333333333333, 2]}}
    text = views.templates.get_template("job.html").render(job=job, sample=None, reports=[], plot="", extra="")
    cells = re.findall(r"<td>([^<]*)</td>", text)
    assert "0.1235" in cells and "32" in cells and "0.9877" in text and "0.3333, 2" in cells, cells
    assert "0.123456789" not in text and "0.98765" not in text
    for model in (CaptureSettings, TrainSettings, GapSettings, SysidSettings, DeploySettings):
        for spec in fields.input_specs(model):
            assert spec.label and spec.label != spec.name, (model.__name__, spec.name)
    capture = {s.name: s for s in fields.input_specs(CaptureSettings, {"backend": ["isaac", "mujoco"]})}
    assert capture["backend"].kind == "select" and capture["backend"].choices == ["isaac", "mujoco"]
    assert not capture["backend"].optional and not capture["layout"].optional and capture["scene"].optional
    assert capture["width"].label == "Width (px)" and "pixels" in capture["width"].help
