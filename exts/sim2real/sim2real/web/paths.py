"""Paths typed into the web panel, checked before any job or file read sees them.

The panel works in one folder (``sim2real ui --workdir``, default ``runs/ui``): outputs (datasets,
training runs, reports, bundles) must stay inside it; inputs (a profile, real images, logs) may be
anywhere the user can read but must exist. Files are served back only when a job reported them and
they lie inside that job's output folder (``served_file``), never from a path taken from a request.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, UserError

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
REPORT_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json"}


def _resolve(workdir: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return (path if path.is_absolute() else workdir / path).resolve()


def output_path(workdir: Path, field: str, value: str) -> Path:
    """``value`` (relative to the workdir) as an absolute path that stays inside the workdir."""
    path = _resolve(workdir, value)
    if not path.is_relative_to(workdir.resolve()):
        raise UserError(f"{field}: expected a folder inside the panel's workdir {workdir} (got {value!r})")
    return path


def input_path(workdir: Path, field: str, value: str) -> Path:
    """``value`` (relative to the workdir, or absolute) as an existing absolute path."""
    path = _resolve(workdir, value)
    if not path.exists():
        raise InputError(f"{field}: expected an existing file or folder (got {value!r}, which resolves to {path})")
    return path


def served_file(folder: Path, reported: str, types: dict[str, str], cwd: Path | None = None) -> tuple[Path, str]:
    """A file a job reported (relative paths are the job's, from its ``cwd``), with its media type,
    when it lies in the job's output ``folder`` and has one of the allowed ``types``; ``UserError``
    otherwise (symlinks are resolved first)."""
    path = ((cwd or folder) / reported).resolve()
    media = types.get(path.suffix.lower())
    if media is None or not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise UserError(f"not a servable file of this job: {reported!r}")
    return path, media
