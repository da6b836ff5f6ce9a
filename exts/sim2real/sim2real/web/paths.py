"""Paths typed into the web panel, checked before any job or file read sees them.

The panel works in one folder (``sim2real ui --workdir``, default ``runs/ui``): outputs (datasets,
training runs, reports, bundles) must stay inside it; inputs (a profile, real images, logs) may be
anywhere the user can read but must exist. Files are served back only when a job reported them and
they lie inside that job's output folder (``served_file``), never from a path taken from a request.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError, InputError, UserError

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
REPORT_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json"}
# Linux's PATH_MAX is 4096 bytes; a longer value is a paste accident or a probe, refused before the OS sees it
MAX_PATH_BYTES = 4096


def _resolve(workdir: Path, field: str, value: str) -> Path:
    """A typed path as an absolute one; a value no file system path can be (a NUL byte, a control
    character, longer than PATH_MAX, ``~nobody``) is a ``ConfigError`` naming the field."""
    if not value.isprintable():
        raise ConfigError(None, field, "a path without NUL bytes or control characters", value)
    if len(value.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        raise ConfigError(None, field, f"a path of at most {MAX_PATH_BYTES} bytes (got {len(value)} characters)")
    try:
        path = Path(value).expanduser()
        return (path if path.is_absolute() else workdir / path).resolve()
    except (RuntimeError, OSError, ValueError) as exc:  # ~user of no such user, a symlink loop
        raise ConfigError(None, field, f"a usable path ({exc})", value) from None


def output_path(workdir: Path, field: str, value: str) -> Path:
    """``value`` (relative to the workdir) as an absolute path that stays inside the workdir."""
    path = _resolve(workdir, field, value)
    if not path.is_relative_to(workdir.resolve()):
        raise ConfigError(None, field, f"a folder inside the panel's workdir {workdir}", value)
    return path


def input_path(workdir: Path, field: str, value: str) -> Path:
    """``value`` (relative to the workdir, or absolute) as an existing absolute path."""
    path = _resolve(workdir, field, value)
    try:
        exists = path.exists()
    except OSError as exc:  # a component longer than NAME_MAX, a permission denied on the way
        raise ConfigError(None, field, f"an existing file or folder ({exc.strerror})", value) from None
    if not exists:
        raise InputError(f"{field}: expected an existing file or folder (got {_short(value)}, which resolves to "
                         f"{_short(str(path))})")
    return path


def _short(text: str, limit: int = 120) -> str:
    return repr(text) if len(text) <= limit else repr(text[: limit - 3]) + "..."


def served_file(folder: Path, reported: str, types: dict[str, str], cwd: Path | None = None) -> tuple[Path, str]:
    """A file a job reported (relative paths are the job's, from its ``cwd``), with its media type,
    when it lies in the job's output ``folder`` and has one of the allowed ``types``; ``UserError``
    otherwise (symlinks are resolved first)."""
    path = ((cwd or folder) / reported).resolve()
    media = types.get(path.suffix.lower())
    if media is None or not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise UserError(f"not a servable file of this job: {reported!r}")
    return path, media
