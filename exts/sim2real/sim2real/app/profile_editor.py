"""The profile editor: load a TOML profile, switch categories on and off, edit terms, save.

The editor keeps the profile *document* (the TOML as a dict) so that what the user typed stays on
screen even while it is invalid. After every edit the document is validated by
``sim2real.randomize.parse_profile`` (the same checks as ``sim2real profile validate``) and the first
problem is filed under the term and field its key names (``terms[3] 'table friction'.low`` ->
``errors["table friction"]["low"]``), for display next to that field; a problem outside the terms is
filed under ``""``. ``profile`` is the last valid ``Profile`` of the enabled categories.

Categories are the catalogue's (lighting, materials, objects, camera, physics, sensors, actuators).
A disabled category's terms are left out of the validated profile, of what jobs use, and of what
``save`` writes; groups go with their members' categories (a group is sampled jointly, so it is left
out when any member's category is off), and ADR parameters of left-out terms are dropped.
"""

from __future__ import annotations

import copy
import tomllib
from os import PathLike
from pathlib import Path
from typing import Any

from ..config import read_toml
from ..errors import ConfigError, UserError
from ..randomize.profile import Profile, parse_profile, save_profile
from ..randomize.schema import DIST_KEYS
from ..randomize.targets import CATALOGUE, parse_target
from .forms import field_message
from .observable import Observable

CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(a.category for a in CATALOGUE))
RANGE_DISTS = ("uniform", "loguniform", "truncnormal")
EDITABLE = ("name", "target", "dist", "op", "when", "every", "optional",
            *dict.fromkeys(k for keys in DIST_KEYS.values() for k in keys))
PROFILE_KEY = ""  # errors not about one term


def category_of(target: str) -> str | None:
    """The catalogue category of a target text; None when it does not parse (validation says why)."""
    try:
        return parse_target(str(target)).attribute.category
    except ValueError:
        return None


def parse_value(text: str) -> Any:
    """A field as typed: a TOML value (``0.5``, ``[0.1, 0.2]``, ``true``, ``"x"``), else the text itself;
    an empty text unsets the field."""
    text = text.strip()
    if not text:
        return None
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


class ProfileEditor(Observable):
    def __init__(self) -> None:
        super().__init__()
        self.path: Path | None = None
        self.doc: dict[str, Any] | None = None
        self.enabled: set[str] = set(CATEGORIES)
        self.errors: dict[str, dict[str, str]] = {}
        self.profile: Profile | None = None
        self.dirty = False

    # ------------------------------------------------------------------ files
    def load(self, path: str | PathLike[str]) -> bool:
        """Open a profile; True when it is valid. An invalid one opens too, with its errors shown;
        a file that is not TOML at all leaves the editor empty with the error under ``""``."""
        path = Path(path)
        with self._lock:
            try:
                doc = read_toml(path)
            except ConfigError as err:
                self.errors, ok = {PROFILE_KEY: {"": str(err)}}, False
            else:
                self.path, self.doc, self.profile, self.dirty = path, doc, None, False
                ok = self._validate()
        self._changed()
        return ok

    def save(self, path: str | PathLike[str] | None = None) -> Path:
        """Write the valid profile of the enabled categories (atomically) and reopen it from there."""
        with self._lock:
            profile = self.require()
            target = Path(path) if path is not None else self.path
            if target is None:
                raise UserError("the profile has no file yet: save it under a name")
            save_profile(profile, target)
        self.load(target)
        return target

    def require(self) -> Profile:
        """The valid profile, or a ``UserError`` with the first problem."""
        with self._lock:
            if self.doc is None:
                raise UserError("no profile is open")
            if self.errors or self.profile is None:
                raise UserError(self.first_error() or "the profile is not valid")
            return self.profile

    # ------------------------------------------------------------------ edits
    def set_category(self, category: str, enabled: bool) -> bool:
        if category not in CATEGORIES:
            raise KeyError(f"unknown category {category!r} ({', '.join(CATEGORIES)})")
        with self._lock:
            (self.enabled.add if enabled else self.enabled.discard)(category)
            ok = self._validate()
        self._changed()
        return ok

    def set_field(self, term: str, field: str, value: Any) -> bool:
        """Set (``None``: remove) a field of the term named ``term``; True when the profile is valid."""
        return self.set_fields(term, {field: value})

    def set_text(self, term: str, field: str, text: str) -> bool:
        """``set_field`` from what a text field holds (see ``parse_value``)."""
        return self.set_fields(term, {field: parse_value(text)})

    def set_range(self, term: str, low: Any, high: Any) -> bool:
        return self.set_fields(term, {"low": low, "high": high})

    def set_fields(self, term: str, values: dict[str, Any]) -> bool:
        with self._lock:
            item = self._term(term)
            for field, value in values.items():
                if field not in EDITABLE:
                    raise KeyError(f"not an editable field of a term: {field!r} ({', '.join(EDITABLE)})")
                if value is None:
                    item.pop(field, None)
                else:
                    item[field] = value
            if "dist" in values and values["dist"] in DIST_KEYS:  # keys of the old distribution would be refused
                for key in {k for keys in DIST_KEYS.values() for k in keys} - set(DIST_KEYS[values["dist"]]):
                    item.pop(key, None)
            self.dirty = True
            ok = self._validate()
        self._changed()
        return ok

    def _term(self, name: str) -> dict[str, Any]:
        if self.doc is None:
            raise UserError("no profile is open")
        for item in self.doc.get("terms", []):
            if _ident(item) == name:
                return item
        raise KeyError(f"no term named {name!r}")

    # ------------------------------------------------------------------ validation
    def effective(self) -> dict[str, Any]:
        """The document of the enabled categories (what is validated, saved and used by jobs)."""
        doc = copy.deepcopy(self.doc or {})
        doc["terms"] = [t for t in doc.get("terms", []) if self._on(t.get("target"))]
        doc["groups"] = [g for g in doc.get("groups", [])
                         if all(self._on(m.get("target")) for m in g.get("members", []) if isinstance(m, dict))]
        kept = {_ident(t) for t in doc["terms"]}
        if isinstance(doc.get("adr"), dict):
            params = [p for p in doc["adr"].get("params", []) if not isinstance(p, dict) or p.get("term") in kept]
            if params:
                doc["adr"]["params"] = params
            else:
                del doc["adr"]
        return doc

    def _on(self, target: Any) -> bool:
        category = category_of(target)
        return category is None or category in self.enabled  # an unparsable target stays, to show its error

    def _validate(self) -> bool:
        if self.doc is None:
            return False
        doc = self.effective()
        base = self.path.parent if self.path else None
        try:
            self.profile = parse_profile(doc, source=self.path, base_dir=base)
            self.errors = {}
        except ConfigError as err:
            self.errors = {_owner(err.key or "", doc): {_field(err.key or "", doc): field_message(err)}}
        except UserError as err:
            self.errors = {PROFILE_KEY: {"": str(err)}}
        return not self.errors

    def first_error(self) -> str | None:
        for owner, fields in self.errors.items():
            for field, message in fields.items():
                where = ".".join(p for p in (owner, field) if p)
                return f"{where}: {message}" if where else message
        return None

    # ------------------------------------------------------------------ views
    def rows(self) -> list[dict[str, Any]]:
        """One row per term of the document: what a table of terms shows, errors beside the fields."""
        rows = []
        for item in (self.doc or {}).get("terms", []):
            ident = _ident(item)
            category = category_of(item.get("target"))
            attr = _attribute(item.get("target"))
            low, high = item.get("low"), item.get("high")
            rows.append({
                "id": ident, "target": item.get("target"), "category": category,
                "enabled": category is None or category in self.enabled,
                "dist": item.get("dist"), "op": item.get("op") or (attr.default_op if attr else None),
                "when": item.get("when", "reset"), "unit": attr.unit if attr else "",
                "fields": {k: item[k] for k in EDITABLE if k in item and k not in ("name", "target")},
                "range": item.get("dist") in RANGE_DISTS and _scalar(low) and _scalar(high),
                "slider": _slider(low, high, attr.nonnegative if attr else False),
                "errors": dict(self.errors.get(ident, {})),
            })
        return rows

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            doc = self.doc or {}
            return {
                "revision": self.revision, "path": str(self.path) if self.path else None,
                "name": doc.get("name"), "description": doc.get("description"), "scene": doc.get("scene"),
                "categories": {c: c in self.enabled for c in CATEGORIES},
                "terms": self.rows(),
                "groups": [{"name": g.get("name"), "members": [_ident(m) for m in g.get("members", [])],
                            "enabled": all(self._on(m.get("target")) for m in g.get("members", []))}
                           for g in doc.get("groups", [])],
                "errors": {k: dict(v) for k, v in self.errors.items()},
                "valid": self.profile is not None and not self.errors,
                "hash": self.profile.hash if self.profile is not None and not self.errors else None,
                "dirty": self.dirty,
            }


def _ident(item: Any) -> str:
    return str(item.get("name") or item.get("target")) if isinstance(item, dict) else ""


def _attribute(target: Any) -> Any:
    try:
        return parse_target(str(target)).attribute
    except ValueError:
        return None


def _scalar(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _slider(low: Any, high: Any, nonnegative: bool) -> list[float] | None:
    """Slider bounds for a scalar range: one span either side of [low, high] (not below 0 when the
    attribute cannot be negative), so a drag can widen the range to three times its width."""
    if not (_scalar(low) and _scalar(high)):
        return None
    span = max(float(high) - float(low), abs(float(high)), 1e-6)
    lo, hi = float(low) - span, float(high) + span
    return [max(lo, 0.0) if nonnegative else lo, hi]


def _split(key: str, doc: dict[str, Any]) -> tuple[str, str] | None:
    """``terms[3] 'name'.low`` -> (term id, "low"); groups keep the rest of the key as the field."""
    for section in ("terms", "groups"):
        if not key.startswith(section + "["):
            continue
        index = key[len(section) + 1:].split("]", 1)[0]
        if not index.isdigit() or int(index) >= len(doc.get(section, [])):
            return None
        item = doc[section][int(index)]
        ident = _ident(item) if section == "terms" else str(item.get("name", ""))
        rest = key[len(section) + len(index) + 2:]
        rest = rest.removeprefix(f" {ident!r}").lstrip(".")
        if section == "terms":
            rest = rest.split(".")[0].split("[")[0]
        return (ident if section == "terms" else f"group:{ident}"), rest
    return None


def _owner(key: str, doc: dict[str, Any]) -> str:
    split = _split(key, doc)
    return split[0] if split else PROFILE_KEY


def _field(key: str, doc: dict[str, Any]) -> str:
    split = _split(key, doc)
    return split[1] if split else key
