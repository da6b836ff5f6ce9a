"""The error hierarchy of sim2real.

Two families matter to the CLI:

* ``UserError``: something the user gave us is wrong (a config key, a file, an argument). The CLI
  prints one line naming the file, the key and what was expected, and exits 2; the traceback is
  shown only with ``--debug``.
* ``Sim2RealError`` (the rest): the tool could not do its job for a reason outside the user's
  input (no renderer, a corrupt dataset, an unreachable device). One line, exit 1.

Anything else escaping the CLI is a bug and is shown with its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from os import PathLike
from typing import Any


class Sim2RealError(Exception):
    """Base class of every error sim2real raises on purpose."""

    exit_code = 1


class UserError(Sim2RealError):
    """A mistake in the user's input: the message says what to change."""

    exit_code = 2


class ConfigError(UserError):
    """A configuration file (TOML profile, pipeline, target list) is invalid.

    The message has the shape ``FILE: KEY: expected WHAT (got VALUE)``.
    """

    def __init__(
        self,
        file: str | PathLike[str] | None,
        key: str | None,
        expected: str,
        got: Any = ...,
        hint: str = "",
    ) -> None:
        self.file = str(file) if file is not None else None
        self.key = key
        self.expected = expected
        self.got = got
        self.hint = hint  # e.g. "did you mean 'high'?", after the value
        super().__init__(self._format())

    def _format(self) -> str:
        parts = [p for p in (self.file, self.key) if p]
        where = ": ".join(parts)
        what = f"expected {self.expected}" if self.expected else "invalid"
        if self.got is not ...:
            what += f" (got {_short_repr(self.got)})"
        if self.hint:
            what += f"; {self.hint}"
        return _one_line(f"{where}: {what}" if where else what)


class InputError(UserError):
    """An input data file or directory is unusable (missing, empty, wrong shape, wrong format)."""


class NotInstalledError(UserError):
    """An optional component is not installed; the message says what to install."""

    def __init__(self, what: str, install: str) -> None:
        self.what = what
        self.install = install
        super().__init__(f"{what} is not installed; install it with: {install}")


class UnsupportedError(UserError):
    """A request a component cannot honour (e.g. a randomization target a backend cannot apply)."""


class LockedError(UserError):
    """An output directory is being written by another process."""


class IntegrityError(Sim2RealError):
    """Stored data does not match its manifest (checksum, missing file, corrupt record)."""


class RenderError(Sim2RealError):
    """No headless OpenGL context could be created."""


class RemoteError(Sim2RealError):
    """A remote device (SSH target) refused or failed an operation."""


def closest(word: object, options: Iterable[str]) -> str | None:
    """The one of ``options`` closest to ``word`` (difflib's ratio >= 0.6, never ``word`` itself)."""
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1)
    return close[0] if close and close[0] != str(word) else None


def did_you_mean(word: object, options: Iterable[str]) -> str:
    """``"did you mean 'key'?"`` when one of ``options`` is close to ``word``, else ``""``: the hint of
    a misspelt key, entity or distribution name."""
    close = closest(word, options)
    return f"did you mean {close!r}?" if close else ""


def _one_line(text: str) -> str:
    """Escape control characters (a key or value may hold a newline) so the message stays one line."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
