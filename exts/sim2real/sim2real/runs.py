"""Run identities and provenance.

Every artefact folder (dataset, training run, sysid result, bundle, pipeline run) holds a
``run.json`` saying what it is, its id, and the ids of what it came from, so that any result can be
traced back to the profile, data and model that produced it.

Two kinds of id:
* ``content_id``: derived from the inputs that define the artefact (same inputs, same id), used
  where outputs must be byte-identical across re-runs (datasets);
* ``new_run_id``: time-ordered and unique, for runs whose identity is the act of running.
"""

from __future__ import annotations

import datetime as _dt
import json
import secrets
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from . import __version__
from .errors import InputError
from .fsutil import atomic_write_json, content_hash, read_json

RUN_INFO = "run.json"


def new_run_id(kind: str) -> str:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
    return f"{kind}-{stamp}-{secrets.token_hex(3)}"


def content_id(kind: str, inputs: Any) -> str:
    return f"{kind}-{content_hash(inputs, 12)}"


def write_run_info(
    directory: str | PathLike[str],
    kind: str,
    run_id: str,
    inputs: Mapping[str, Any] | None = None,
    parents: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``run.json``; ``parents`` maps a role ("dataset", "model", ...) to the id it came from."""
    info: dict[str, Any] = {
        "id": run_id,
        "kind": kind,
        "sim2real_version": __version__,
        "inputs": dict(inputs or {}),
        "parents": dict(parents or {}),
    }
    info.update(extra or {})
    path = Path(directory) / RUN_INFO
    atomic_write_json(path, info)
    return path


def read_run_info(directory: str | PathLike[str], kind: str | None = None) -> dict[str, Any]:
    info = read_json(Path(directory) / RUN_INFO, f"{directory}: not a sim2real run folder (no {RUN_INFO})")
    if kind is not None and info.get("kind") != kind:
        raise InputError(f"{directory}: expected a {kind} run, found a {info.get('kind')!r} run")
    return info


def claim_run_folder(
    directory: str | PathLike[str],
    kind: str,
    record: Mapping[str, Any],
    parents: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    config_name: str = "config.json",
) -> str:
    """Start or resume the ``kind`` run in ``directory`` whose settings are ``record``: a folder holds one
    experiment, so a ``config.json`` with other top-level entries is refused (naming them); the run id
    is kept across resumes. Writes ``config.json`` and ``run.json``; returns the run id."""
    out = Path(directory)
    path = out / config_name
    if path.is_file():
        try:
            have = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: unreadable ({exc}); remove the run folder or choose another --out") from None
        diffs = sorted(k for k in set(have) | set(record) if have.get(k) != record.get(k))
        if diffs:
            raise InputError(f"{out}: holds a {kind} run with other {', '.join(diffs)}; expected the same command "
                             "to resume, or choose another --out")
    try:
        run_id = read_run_info(out, kind)["id"]
    except InputError:
        run_id = new_run_id(kind)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, dict(record))
    write_run_info(out, kind, run_id, inputs=record, parents=parents,
                   extra={"config_hash": content_hash(dict(record)), **(extra or {})})
    return run_id
