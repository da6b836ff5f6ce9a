"""Helpers of the web-panel tests (a module, not a conftest, so that it never shadows tests/conftest.py): `sim2real ui` as a real subprocess on a free port, and Debian's
headless Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))  # sshd: the real OpenSSH server fixture

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
URL_LINE = re.compile(r"at (http://\S+/)$")
TOKEN_LINE = re.compile(r"open (http://\S+/)\?token=(\S+)$")


@dataclass
class WebServer:
    proc: subprocess.Popen
    url: str
    token: str | None
    workdir: Path
    log_file: Path
    stderr_file: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def open_profile(page, url: str, name: str = "tabletop") -> None:
    """Open a profile in the panel's editor (a Playwright page) and wait until it has loaded."""
    page.set_default_timeout(30_000)
    page.goto(url + "profile")
    page.fill("#profile-path", name)
    page.click("#profile-open")
    page.wait_for_selector("#profile-status.ok")


def start_server(folder: Path, host: str = "127.0.0.1", extra: tuple[str, ...] = ()) -> WebServer:
    """``sim2real ui --port 0`` (the OS picks a free port; the server prints it) in a subprocess."""
    folder.mkdir(parents=True, exist_ok=True)
    workdir, log_file, stderr_file = folder / "work", folder / "server.log", folder / "server.stderr"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_CONFIG_HOME": str(folder / "config")}
    cmd = [sys.executable, "-m", "sim2real.cli", "ui", "--host", host, "--port", "0", "--workdir", str(workdir),
           "--log-file", str(log_file), *extra]
    with open(stderr_file, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=folder)
    url = token = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (url is None or (host != "127.0.0.1" and token is None)):
        line = proc.stdout.readline()
        if not line:
            break
        if m := URL_LINE.search(line.strip()):
            url = m.group(1)
        if m := TOKEN_LINE.search(line.strip()):
            token = m.group(2)
    if url is None:
        proc.kill()
        raise RuntimeError(f"sim2real ui did not start: {stderr_file.read_text()[-2000:]}")
    return WebServer(proc, url, token, workdir, log_file, stderr_file)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
