"""The web panel on hostile input, against a real `sim2real ui` subprocess: a NUL byte, a control
character, 5000 characters or an unusable path in profile load/save is a 4xx whose message shows
beside the field (in headless Chromium too: htmx swaps the 422), never a 500; the token redirect
only ever names a path of this server, whatever the request's path."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from web_helpers import browser, open_profile, start_server  # noqa: F401  (browser: a fixture)

HOSTILE_PATHS = {
    "nul": ("a\x00b.toml", "expected a path without NUL bytes or control characters"),
    "newline": ("profiles/x\n.toml", "expected a path without NUL bytes or control characters"),
    "5000 chars": ("x" * 5000, "expected a path of at most 4096 bytes (got 5000 characters)"),
    "long component": ("y" * 300 + ".toml", "(File name too long)"),
    "no such user": ("~no_such_user_here/p.toml", "expected a usable path"),
    "missing": ("no/such.toml", "expected an existing file or folder"),
}
HOSTILE_NAMES = {
    "nul": ("a\x00b", "name: expected a file name without folders or control characters (got 'a\\x00b')"),
    "5000 chars": ("n" * 5000, "name: expected a file name of at most 200 bytes (got 5000 characters)"),
    "250 x e-acute": ("\u00e9" * 250, "name: expected a file name of at most 200 bytes (got 250 characters)"),
    "folder": ("../../escape", "name: expected a file name without folders"),
}


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory):
    server = start_server(tmp_path_factory.mktemp("srv"))
    yield server
    server.stop()


def refused(client: httpx.Client, action: str, field: str, value: str) -> tuple[httpx.Response, str]:
    """POST a profile action with the tabletop profile open: its 422 and the message beside the field."""
    assert client.post("/profile/load", data={"path": "tabletop"}).status_code == 200
    r = client.post(f"/profile/{action}", data={field: value})
    assert r.status_code == 422, r.text[:300]
    m = re.search(rf'id="profile-{action}-error" role="alert">(.*?)</span>', r.text, re.S)
    assert m is not None, r.text[:300]
    assert 'id="profile-status"' in r.text and "tabletop" in r.text  # the open profile stays open
    return r, html.unescape(m.group(1))


@pytest.mark.parametrize("case", HOSTILE_PATHS)
def test_profile_load_refuses_a_hostile_path_beside_the_field(loopback, case: str) -> None:
    value, says = HOSTILE_PATHS[case]
    with httpx.Client(base_url=loopback.url, timeout=30) as c:
        _, message = refused(c, "load", "path", value)
    assert message.startswith("profile: ") and says in message, message
    assert len(message) < 400  # a 5000-character value is not echoed into the message
    assert " -> 500 " not in loopback.log_file.read_text()


@pytest.mark.parametrize("case", HOSTILE_NAMES)
def test_profile_save_refuses_a_hostile_name_beside_the_field(loopback, case: str) -> None:
    value, says = HOSTILE_NAMES[case]
    with httpx.Client(base_url=loopback.url, timeout=30) as c:
        r, message = refused(c, "save", "name", value)
        assert message.startswith(says) and 'aria-describedby="profile-save-error"' in r.text, message
        ok = c.post("/profile/save", data={"name": "fine"})
        assert ok.status_code == 200 and 'id="profile-save-error"' not in ok.text
    assert [p.name for p in (loopback.workdir / "profiles").iterdir()] == ["fine.toml"]
    assert " -> 500 " not in loopback.log_file.read_text()


def test_the_token_redirect_never_leaves_this_server(tmp_path: Path) -> None:
    server = start_server(tmp_path / "srv", host="0.0.0.0")
    try:
        base = f"http://127.0.0.1:{urlsplit(server.url).port}"
        with httpx.Client(follow_redirects=False, timeout=30) as c:
            for path, stays in [("//evil.example/profile", "/evil.example/profile"),
                                ("///evil.example/x", "/evil.example/x"),
                                ("/%5Cevil.example/x", "/evil.example/x"),
                                ("/%5C%5Cevil.example", "/evil.example"),
                                ("/%09/evil.example", "/%09/evil.example"),
                                ("/profile", "/profile")]:
                r = c.get(f"{base}{path}", params={"token": server.token, "tab": "a b"})
                assert r.status_code == 303, (path, r.status_code)
                location = r.headers["location"]
                assert location == f"{stays}?tab=a+b", (path, location)
                target = urlsplit(urljoin(f"{base}{path}", location))
                assert (target.scheme, target.netloc) == ("http", urlsplit(base).netloc), (path, location)
                assert server.token not in location
    finally:
        server.stop()


@pytest.mark.browser
def test_a_refused_name_shows_beside_its_field_in_the_browser(browser, loopback) -> None:
    page = browser.new_page()
    try:
        open_profile(page, loopback.url)
        page.fill("#profile-save-name", "n" * 5000)
        page.click("#profile-save")
        page.wait_for_selector("#profile-save-error")
        assert page.inner_text("#profile-save-error").startswith("name: expected a file name of at most 200 bytes")
        assert "tabletop" in page.inner_text("#profile-status")  # the editor is still there, the profile open
        page.fill("#profile-path", "x" * 5000)
        page.click("#profile-open")
        page.wait_for_selector("#profile-load-error")
        assert "at most 4096 bytes" in page.inner_text("#profile-load-error")
    finally:
        page.close()
