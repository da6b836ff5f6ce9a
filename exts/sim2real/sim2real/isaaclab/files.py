"""The two file-to-file translations the CLI runs, each returning a JSON-ready summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import UserError
from ..fsutil import atomic_write_text
from ..randomize.profile import load_profile, save_profile
from .export import Options, export_profile
from .importer import import_module
from .module import module_source
from .terms import Translation


def export_file(profile_path: str | Path, out: str | Path, options: Options | None = None) -> dict[str, Any]:
    """Write ``profile_path`` as an Isaac Lab event module at ``out`` (atomically)."""
    profile = load_profile(profile_path)
    out = Path(out)
    if out.suffix != ".py":
        raise UserError(f"{out}: expected a Python module path ending in .py")
    exported = export_profile(profile, options)
    title = f"from the sim2real profile {profile.name or Path(profile_path).stem!r} (hash {profile.hash})"
    atomic_write_text(
        out, module_source(exported.terms or [], title, exported.skipped, exported.approximations)
    )
    return {
        "profile": str(profile_path),
        "hash": profile.hash,
        "module": str(out),
        "terms": {t.name: {"func": t.func, "mode": t.mode, "from": t.sources} for t in exported.terms or []},
        **_left(exported),
    }


def import_file(module: str | Path, out: str | Path, **kwargs: Any) -> dict[str, Any]:
    """Write the event terms of ``module`` as a TOML profile at ``out``; kwargs as ``import_module``."""
    out = Path(out)
    if out.suffix != ".toml":
        raise UserError(f"{out}: expected a profile path ending in .toml")
    imported = import_module(module, **kwargs)
    assert imported.profile is not None
    save_profile(imported.profile, out)
    return {
        "module": str(module),
        "class": imported.class_name,
        "profile": str(out),
        "hash": imported.profile.hash,
        "terms_read": imported.terms_read,
        "terms": [t.id for t in imported.profile.terms],
        **_left(imported),
    }


def _left(t: Translation) -> dict[str, list[dict[str, str]]]:
    return {
        key: [{"term": x.term, "target": x.target, "reason": x.reason} for x in getattr(t, key)]
        for key in ("skipped", "approximations")
    }
