"""Run the web panel: bind, print the address (with the token when one is needed), serve until
Ctrl-C/SIGTERM, then cancel the jobs still running (they keep what they finished)."""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path

from ..errors import NotInstalledError, UserError
from .auth import Guard, is_loopback, new_token

log = logging.getLogger(__name__)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise UserError(f"--host/--port: cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _log_to(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    for name in ("sim2real", "uvicorn.error"):
        logger = logging.getLogger(name)
        for other in logger.handlers:  # the terminal keeps the level -v/--debug chose
            if other.level == logging.NOTSET:
                other.setLevel(logger.getEffectiveLevel())
        logger.addHandler(handler)
        logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))


def serve(host: str, port: int, workdir: Path, targets_file: Path | None, python: str | None,
          log_file: Path | None) -> None:
    try:
        import uvicorn

        from .server import create_app
    except ImportError as exc:
        raise NotInstalledError(f"the web panel ({exc.name})", "pip install 'sim2real[web]'") from None
    from .state import WebPanel

    if log_file is not None:
        _log_to(log_file)
    token = None if is_loopback(host) else new_token()
    panel = WebPanel(workdir, python=python, targets_file=targets_file)
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}/"
    # The one place the token is shown: the terminal of whoever started the server (not the log).
    sys.stdout.write(f"sim2real ui: serving {panel.workdir} at {url}\n")
    if token is not None:
        sys.stdout.write(f"sim2real ui: bound to a non-loopback address; open {url}?token={token}\n")
    sys.stdout.flush()
    log.info("serving %s on %s:%d (token %s)", panel.workdir, host, bound, "required" if token else "not required")
    config = uvicorn.Config(Guard(create_app(panel), token), log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        panel.shutdown()
        sock.close()
        log.info("stopped")
