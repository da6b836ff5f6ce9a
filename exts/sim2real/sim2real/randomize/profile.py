"""Randomization profiles: load, validate, hash, edit and save.

A profile is a TOML file (format in ``exts/sim2real/docs/randomization.md``). ``load_profile`` turns
every mistake into one ``ConfigError`` naming the file, the term and the key. A ``Profile`` knows
its source file, a content hash for provenance, and the ``(kind, attribute)`` targets it uses (what
``Capabilities.require`` checks). Editing helpers return new, re-validated profiles; ``save_profile``
writes TOML atomically.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from pydantic import (
    Field,
    PrivateAttr,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from ..config import StrictModel, dotted_key, read_toml, validation_to_config_error
from ..errors import ConfigError
from ..fsutil import atomic_write_text, content_hash
from . import schema
from .schema import Adr, Curriculum, Group, Term
from .check_context import Checked
from .validate import check_profile


class Profile(StrictModel):
    """A validated randomization profile."""

    version: StrictInt = Field(1, ge=1, le=1)
    name: StrictStr | None = None
    description: StrictStr | None = None
    scene: StrictStr | None = None  # the scene (name or path) the profile is written for
    terms: list[Term] = []
    groups: list[Group] = []
    curriculum: Curriculum | None = None
    adr: Adr | None = None
    # physics steps run after each reset's values are applied, before anything is captured (objects come
    # to rest on what they stand on; interval and time-varying terms fire on them); None: 0
    settle_steps: StrictInt | None = Field(None, ge=0, le=100_000)

    _source: Path | None = PrivateAttr(None)
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _checked: Checked = PrivateAttr(default_factory=Checked)
    _hash: str | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> Profile:
        ctx = info.context or {}
        self._source = Path(ctx["source"]) if ctx.get("source") is not None else None
        self._base_dir = Path(ctx.get("base_dir") or (self._source.parent if self._source else Path.cwd()))
        self._checked = check_profile(self.terms, self.groups, self.curriculum, self.adr,
                                      str(self._source) if self._source else None, self._base_dir)
        return self

    # ------------------------------------------------------------------ contract with backends
    @property
    def source(self) -> Path | None:
        return self._source

    @property
    def base_dir(self) -> Path:
        """Relative folders and files in the profile are resolved against this directory."""
        return self._base_dir

    @property
    def hash(self) -> str:
        """Content hash of the normalised profile and the names of the texture files it draws from."""
        if self._hash is None:
            # where the images live is not content (a moved profile rewrites relative folders): their
            # names and sizes are
            files = {k: [(Path(p).name, _size(p)) for p in v] for k, v in sorted(self._checked.files.items())}
            data = self.to_dict()
            for spec in _specs(data):
                if spec.get("folder") is not None:
                    spec["folder"] = "<folder>"
                if _is_texture(spec):
                    for key in ("value", "values"):
                        if key in spec:
                            spec[key] = "<files>"
            self._hash = content_hash({"profile": data, "files": files})
        return self._hash

    def targets(self) -> set[tuple[str, str]]:
        """The (kind, attribute) pairs the profile randomizes."""
        return {(t.kind, t.attribute.name) for t in self._checked.targets.values()}

    def texture_files(self) -> list[str]:
        """Every image file the profile's ``material:*/texture`` terms may choose (absolute paths, sorted)."""
        return sorted({path for files in self._checked.files.values() for path in files})

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @property
    def checked(self) -> Checked:
        return self._checked

    def term(self, name: str) -> Term:
        for t in self.terms:
            if t.id == name:
                return t
        raise KeyError(name)

    # ------------------------------------------------------------------ editing
    def edited(self, data: dict[str, Any]) -> Profile:
        """A new profile from an edited ``to_dict()``, validated like a loaded one."""
        return parse_profile(data, source=self._source, base_dir=self._base_dir)

    def with_term(self, term: Term | Mapping[str, Any]) -> Profile:
        """Add ``term``, or replace the term of the same name."""
        new = term.model_dump(mode="json", exclude_none=True) if isinstance(term, Term) else dict(term)
        ident = new.get("name") or new.get("target")
        data = self.to_dict()
        terms = [t for t in data.get("terms", []) if (t.get("name") or t.get("target")) != ident]
        data["terms"] = terms + [new]
        return self.edited(data)

    def with_ranges(self, ranges: Mapping[str, tuple[Any, Any]]) -> Profile:
        """Replace the [low, high] of terms by name (uniform, loguniform, truncnormal terms)."""
        data = self.to_dict()
        by_id = {(t.get("name") or t.get("target")): t for t in data.get("terms", [])}
        for name, (low, high) in ranges.items():
            term = by_id.get(name)
            if term is None:
                raise ConfigError(self._source, name, f"the name of a term ({', '.join(by_id)})")
            if term["dist"] not in ("uniform", "loguniform", "truncnormal"):
                raise ConfigError(
                    self._source,
                    name,
                    "a uniform, loguniform or truncnormal term to set a range on",
                    term["dist"],
                )
            term["low"], term["high"] = _plain(low), _plain(high)
        return self.edited(data)

    def calibrated(self, estimates: Mapping[str, tuple[Any, Any, Any]], dist: str = "truncnormal",
                   ops: Mapping[str, str] | None = None, shared: Collection[str] = ()) -> Profile:
        """Centre values on identified ones: ``{key: (nominal, low, high)}`` (numbers or vectors).

        A key naming a term re-centres that term (in its op's units). A key that is a target
        (``joint:elbow/damping``, ``actuator:*/latency``) appends a term named ``calibrated <target>``
        that *sets* the value (or applies ``ops[key]``: ``scale``, ``add``); as the last term it
        overrides broader terms for those entities (later terms win). A key in ``shared`` gets one
        draw for all the entities it selects (``shared = true``: a tied parameter stays tied).
        ``dist``: ``"truncnormal"`` (mean = nominal, std = (high - low) / 4, within [low, high]) or
        ``"uniform"`` on [low, high]; an interval of zero width gives a constant. Whole-number
        attributes (``actuator/latency``) always get a uniform range of whole numbers.
        """
        import numpy as np

        from .targets import attribute, parse_target

        if dist not in ("truncnormal", "uniform"):
            raise ConfigError(self._source, "dist", "'truncnormal' or 'uniform'", dist)
        data = self.to_dict()
        by_id = {(t.get("name") or t.get("target")): t for t in data.get("terms", [])}
        for key, (nominal, low, high) in estimates.items():
            nom, lo, hi = (np.asarray(v, dtype=float) for v in (nominal, low, high))
            if np.any(lo > nom) or np.any(nom > hi):
                raise ConfigError(self._source, key, "low <= nominal <= high", (nominal, low, high))
            fields: dict[str, Any]
            term = by_id.get(key)
            attr = attribute(*_kind_attr(term["target"] if term is not None else key, parse_target))
            whole = attr is not None and attr.value == "int"
            if whole:
                nom, lo, hi = np.round(nom), np.floor(lo), np.ceil(hi)
            if np.all(hi == lo):
                fields = {"dist": "constant", "value": _plain(nom.astype(int) if whole else nom)}
            elif whole:
                fields = {"dist": "uniform", "low": _plain(lo.astype(int)), "high": _plain(hi.astype(int))}
            elif dist == "uniform":
                fields = {"dist": "uniform", "low": _plain(lo), "high": _plain(hi)}
            else:
                fields = {
                    "dist": "truncnormal",
                    "mean": _plain(nom),
                    "std": _plain(np.maximum((hi - lo) / 4, 1e-12)),
                    "low": _plain(lo),
                    "high": _plain(hi),
                }
            if term is not None:
                for k in schema.DIST_FIELDS + ("dist",):
                    term.pop(k, None)
                term.update(fields)
            else:
                term = {"name": f"calibrated {key}", "target": key, "op": (ops or {}).get(key, "set"), **fields}
                data.setdefault("terms", []).append({**term, "shared": True} if key in shared else term)
        return self.edited(data)

    def narrowed(self, scale: float, names: list[str] | None = None) -> Profile:
        """Every range (or the named terms' ranges) scaled by ``scale`` about its centre."""
        unknown = sorted(set(names or ()) - {t.id for t in self.terms})
        if unknown:
            raise ConfigError(
                self._source, unknown[0], f"the name of a term ({', '.join(t.id for t in self.terms)})"
            )
        data = self.to_dict()
        for term_data, term in zip(data.get("terms", []), self.terms, strict=True):
            if names is not None and term.id not in names:
                continue
            attr = self._checked.targets[term.id].attribute
            dist = term.compile(attr, self._checked.files.get(term.id)).scaled(scale)
            for key in ("low", "high", "mean", "std"):
                if key in term_data and hasattr(dist, key):
                    term_data[key] = _plain(getattr(dist, key))
        return self.edited(data)


def _kind_attr(target: str, parse: Any) -> tuple[str, str]:
    """(kind, attribute) of a target text; ("", "") when it does not parse (validation says why)."""
    try:
        t = parse(target)
    except ValueError:
        return "", ""
    return t.kind, t.attribute.name


def _plain(v: Any) -> Any:
    """numpy values to TOML-ready Python numbers/lists; ints stay ints."""
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, tuple):
        v = list(v)
    return v


def parse_profile(
    data: Any, source: str | PathLike[str] | None = None, base_dir: str | PathLike[str] | None = None
) -> Profile:
    """Validate an already-parsed profile document; relative paths resolve against ``base_dir``
    (default: the source file's directory, else the current directory)."""
    try:
        return Profile.model_validate(data, context={"source": source, "base_dir": base_dir})
    except ValidationError as exc:
        err = validation_to_config_error(exc, Profile, source)
        loc = tuple(exc.errors(include_url=False)[0].get("loc", ()))
        raise ConfigError(err.file, _named_key(loc, data) or err.key, err.expected, err.got, err.hint) from None


def load_profile(path: str | PathLike[str], overrides: Sequence[str] = ()) -> Profile:
    """Read and validate a TOML profile, with dotted ``key=value`` ``overrides`` on top (``settle_steps=20``,
    ``terms.object_position.high=[0.1,0.1,0]``: sim2real.overrides); any problem is one ConfigError (exit 2
    in the CLI)."""
    path = Path(path)
    data = read_toml(path)
    if overrides:
        from ..overrides import apply_overrides, parse_overrides

        data = apply_overrides(data, parse_overrides(overrides, Profile))
    return parse_profile(data, source=path)


def require_randomization(profile: Profile) -> Profile:
    """``profile`` if it randomizes something: an empty one (no terms, no groups) validates as a
    document, but a dataset or a training run made with it would silently not be randomized."""
    if not profile.terms and not profile.groups:
        raise ConfigError(profile.source or profile.name, "terms", "at least one [[terms]] or [[groups]] entry (an "
                          "empty profile randomizes nothing: every frame or episode is the scene as it is)")
    return profile


def save_profile(profile: Profile, path: str | PathLike[str]) -> Path:
    """Write ``profile`` as TOML (atomically); relative folders are rewritten to stay valid there."""
    import tomli_w

    path = Path(path)
    data = _relocated(profile, path.resolve().parent)
    atomic_write_text(path, tomli_w.dumps(data))
    return path


def _size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return -1  # removed since the profile was loaded: the name still identifies it


def _specs(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every term and group member of a profile document."""
    return list(data.get("terms", [])) + [m for g in data.get("groups", []) for m in g.get("members", [])]


def _is_texture(spec: dict[str, Any]) -> bool:
    target = str(spec.get("target", ""))
    return target.startswith("material:") and target.endswith("/texture")


def _relocated(profile: Profile, new_dir: Path) -> dict[str, Any]:
    data = profile.to_dict()
    for spec in _specs(data):
        if "folder" in spec:
            spec["folder"] = _rebase(spec["folder"], profile.base_dir, new_dir)
        if _is_texture(spec):
            if isinstance(spec.get("value"), str):
                spec["value"] = _rebase(spec["value"], profile.base_dir, new_dir)
            if isinstance(spec.get("values"), list):
                spec["values"] = [_rebase(v, profile.base_dir, new_dir) for v in spec["values"]]
    return data


def _rebase(text: str, old_dir: Path, new_dir: Path) -> str:
    path = Path(text).expanduser()
    if path.is_absolute():
        return text
    return Path(os.path.relpath((old_dir / path).resolve(), new_dir)).as_posix()


def _named_key(loc: tuple[Any, ...], data: Any) -> str | None:
    """('terms', 3, 'low') -> "terms[3] 'table friction'.low": the key with the term's name."""
    if len(loc) < 2 or loc[0] not in ("terms", "groups") or not isinstance(loc[1], int):
        return None
    try:
        item = data[loc[0]][loc[1]]
        name = item.get("name") or item.get("target")
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    if not isinstance(name, str):
        return None
    rest = dotted_key(loc[2:])
    head = f"{loc[0]}[{loc[1]}] {name!r}"
    return f"{head}.{rest}" if rest and not rest.startswith("[") else head + rest


__all__ = ["Profile", "load_profile", "parse_profile", "require_randomization", "save_profile", "schema"]
