"""Logging for the CLI: warnings by default, info with ``-v``, debug with ``--debug``; on stderr."""

from __future__ import annotations

import logging


def configure(debug: bool = False, verbose: bool = False) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    handler = RichHandler(console=Console(stderr=True), show_path=debug, rich_tracebacks=debug)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("sim2real")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
