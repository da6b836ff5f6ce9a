"""Property tests of the web panel (issue 22): random requests (every route, random path parameters,
random form fields and values: NUL bytes, 5000 characters, control characters, numbers out of
range, invalid UTF-8, malformed bodies) against a real `sim2real ui` subprocess never get a 5xx; the
token redirect, for any request path, names a page of the same server. Jobs the panel starts run
``/bin/true`` (``--python``): nothing heavy runs, and a start is still a start."""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from web_helpers import start_server

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

FIELDS = ["frames", "out", "scene", "seed", "width", "height", "camera", "backend", "workers", "layout", "depth_npy",
          "data", "target", "eval", "task", "method", "config", "epochs", "batch_size", "lr", "device", "sim", "real",
          "features", "size", "max_images", "model", "logs", "params", "profile", "optimizer", "max_iter", "pipeline",
          "run", "onnx", "bundle", "precision", "root", "iterations", "warmup", "path", "name", "category", "enabled",
          "term", "field", "value", "host", "user", "port", "identity_file", "known_hosts", "python"]
NASTY = ["", "\x00", "a\x00b", "tabletop", "../../x", "/etc/passwd", "~root/x", "~no_such_user/x", "x" * 5000,
         "y" * 300 + ".toml", "0", "-1", "99999999999999999999", "1e999", "nan", "inf", "true", "[1, 2]", "{", "\r\n",
         "\u00e9" * 300, "datasets/capture", "train/run", ".", "..", "/", "\\", "%00", "a\\b", "profiles/x.toml",
         "lighting", "light:*", "low", "mean", "127.0.0.1", "jetson", "-----BEGIN OPENSSH PRIVATE KEY-----\nx", "\t",
         "demo_quick"]
ACTIONS = ["load", "category", "field", "save", "capture", "train", "gap", "sysid", "pipeline", "bundle", "push",
           "bench", "deploy", "profile", "nothing"]
values = st.one_of(st.sampled_from(NASTY), st.text(max_size=40), st.text(alphabet="x/.\\~\x00\n", max_size=6000))
forms = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)), values, max_size=8)
segment = st.one_of(st.sampled_from(ACTIONS), st.text(max_size=30), st.integers(-2, 3).map(str),
                    st.sampled_from(["99999999999999999999999", "-0", "1.5", "%00", "..", "%2e%2e", "a%2Fb"]))


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str] | bytes | None]:
    """(method, path, body): a route of the panel with drawn parameters, or any path."""
    a, b = draw(segment), draw(segment)
    q = lambda s: quote(s, safe="%")  # noqa: E731  (a drawn "%2F" stays an encoded slash)
    method, path = draw(st.sampled_from([
        ("POST", f"/profile/{q(a)}"), ("POST", f"/forms/{q(a)}"), ("POST", f"/jobs/{q(a)}"),
        ("POST", f"/jobs/{q(a)}/cancel"), ("POST", "/sysid/use-calibrated"), ("POST", "/targets"),
        ("POST", f"/targets/{q(a)}/delete"), ("GET", f"/{q(a)}"), ("GET", f"/jobs/{q(a)}"),
        ("GET", f"/jobs/{q(a)}/artifacts/{q(b)}"), ("GET", f"/static/{q(a)}"), ("GET", "/"),
    ]))
    if method == "GET":
        return method, path, None
    body: dict[str, str] | bytes = draw(st.one_of(forms, st.binary(max_size=200)))
    return method, path, body


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory):
    """A panel whose forms are valid enough for random values to reach a job's command line: a
    profile open, the default input folders present, a deploy target stored."""
    server = start_server(tmp_path_factory.mktemp("srv"), extra=("--python", "/bin/true"))
    for folder in ("datasets/capture", "train/run", "model"):
        (server.workdir / folder).mkdir(parents=True, exist_ok=True)
    (server.workdir / "model" / "bundle.tar").write_bytes(b"not a bundle: the job never runs")
    with httpx.Client(base_url=server.url, timeout=60) as client:
        assert "profile-status" in client.post("/profile/load", data={"path": "tabletop"}).text
        client.post("/targets", data={"name": "jetson", "host": "127.0.0.1", "user": "nvidia"}).raise_for_status()
        yield server, client
    server.stop()


@SETTINGS
@given(requests())
@example(("POST", "/profile/load", {"path": "a\x00b"}))
@example(("POST", "/profile/save", {"name": "x" * 5000}))
@example(("POST", "/forms/nothing", {"out": "x"}))
@example(("POST", "/jobs/capture", {"out": "\x00"}))
@example(("POST", "/targets", {"name": "jetson", "host": "127.0.0.1", "user": "x", "python": "py\x00thon"}))
@example(("POST", "/profile/load", b"path=%ff%fe%00"))
@example(("POST", "/jobs/capture", {"scene": "a\x00b"}))  # reached the command line: exec refuses NUL
@example(("POST", "/jobs/train", {"config": "quick\x00"}))
@example(("POST", "/targets", {"name": "jetson", "host": "127.0.0.1", "user": "nvidia", "python": "py\x00"}))
@example(("POST", "/jobs/push", {"target": "jetson", "bundle": "model/bundle.tar"}))
def test_no_request_gets_a_server_error(panel, req: tuple[str, str, dict[str, str] | bytes | None]) -> None:
    server, client = panel
    method, path, body = req
    if isinstance(body, bytes):
        r = client.request(method, path, content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    else:
        r = client.request(method, path, data=body)
    assert r.status_code < 500, (method, path, r.status_code, r.text[:300])
    assert server.proc.poll() is None  # still serving


def test_the_server_logged_no_server_error(panel) -> None:
    server, client = panel
    assert client.get("/profile").status_code == 200
    log = server.log_file.read_text()
    assert " -> 5" not in log, [line for line in log.splitlines() if " -> 5" in line][:5]


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.text(max_size=60).map(lambda s: "/" + s), st.dictionaries(st.text(max_size=8), st.text(max_size=8),
                                                                     max_size=3))
@example("//evil.example/x", {})
@example("/\\evil.example", {})
@example("/\t/evil.example", {})
@example("/\\\t\\evil.example", {})
def test_the_token_redirect_names_a_page_of_this_server(path: str, query: dict[str, str]) -> None:
    from sim2real.web.auth import local_location

    base = "http://10.0.0.7:8765"
    location = local_location(path, query)
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location
    assert all(33 <= ord(c) < 127 for c in location), location  # nothing a browser would strip or reinterpret
    target = urlsplit(urljoin(base + "/profile", location))
    assert (target.scheme, target.netloc) == ("http", "10.0.0.7:8765"), location
