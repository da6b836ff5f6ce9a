"""What a bundle may hold, checked the same way on the host and on the device.

* member names: relative POSIX paths of at most ``MAX_DEPTH`` parts, each part letters, digits and
  ``._+-`` not starting with a dot (so no ``..``, no absolute path, no hidden file, no backslash);
  nothing under a device folder (``engines/``: the device writes it after unpacking);
* release ids (the manifest's ``id``, ``rollback --to``): ``[A-Za-z0-9][A-Za-z0-9._-]{0,127}``,
  a folder NAME under ``releases/``, never a path;
* the manifest: every field the deploy commands and the runner read, with its type; every listed
  file with an integer ``size`` and a 64-hex ``sha256``; ``manifest_sha256`` (when present) the
  sha256 of the manifest's canonical JSON without that key, so that a changed byte of
  ``manifest.json`` itself is caught too (bundles made before it existed have none).

Every failure is a ``BundleError`` whose message is one line naming the file and the key.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Dict, Optional

MANIFEST = "manifest.json"
FORMAT = "sim2real-bundle"
VERSION = 1
DEVICE_DIRS = ("engines",)  # written on the device after unpacking; never shipped, never listed
SELF_KEY = "manifest_sha256"
MAX_DEPTH = 16
RELEASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
PRECISIONS = ("fp32", "fp16", "int8")


class BundleError(ValueError):
    """A bundle that is not one, or whose files do not match its manifest."""


def check_release_id(value: Any, what: str = "release id") -> str:
    if not isinstance(value, str) or not RELEASE_ID.match(value):
        raise BundleError("{} {!r}: expected a release id: a letter or digit, then up to 127 letters, digits, "
                          "'.', '_' or '-' (a name, not a path)".format(what, _short(value)))
    return value


def check_name(name: Any) -> str:
    """A member name (see the module docstring); the reason it is refused otherwise."""
    if not isinstance(name, str) or not name:
        raise BundleError("member {!r}: expected a relative path".format(_short(name)))
    if name.startswith(("/", "\\")) or name[1:2] == ":":
        raise BundleError("member {!r}: absolute path".format(_short(name)))
    parts = name.split("/")
    if ".." in parts or ".." in name.split("\\"):
        raise BundleError("member {!r}: '..' in the path".format(_short(name)))
    if len(parts) > MAX_DEPTH or not all(_PART.match(p) for p in parts):
        raise BundleError("member {!r}: expected at most {} parts of letters, digits and '._+-', none starting "
                          "with '.'".format(_short(name), MAX_DEPTH))
    if parts[0] in DEVICE_DIRS:
        raise BundleError("member {!r}: {}/ is written on the device; a bundle does not ship it".format(
            _short(name), parts[0]))
    return name


def manifest_digest(manifest: Dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``manifest`` without ``manifest_sha256`` (what the host's
    ``fsutil.canonical_json`` writes: sorted keys, no spaces, ASCII)."""
    body = {k: v for k, v in manifest.items() if k != SELF_KEY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_manifest(manifest: Any, source: str) -> Dict[str, Any]:
    """The manifest if every field the deploy commands and the runner read has its type."""
    if not isinstance(manifest, dict):
        raise BundleError("{}: expected a JSON object".format(source))
    if manifest.get("format") != FORMAT:
        raise BundleError("{}: not a sim2real bundle (format {!r})".format(source, _short(manifest.get("format"))))
    version = _field(manifest, "version", int, source)
    if version > VERSION:
        raise BundleError("{}: bundle format version {} is newer than this runner's ({}); update the runner"
                          .format(source, version, VERSION))
    check_release_id(manifest.get("id"), "{}: id".format(source))
    files = _field(manifest, "files", dict, source)
    for name, entry in files.items():
        _check_entry(name, entry, source)
    _field(manifest, "task", str, source)
    _field(manifest, "classes", list, source)
    models = _field(manifest, "models", dict, source)
    if not models:
        raise BundleError("{}: models: expected at least one model".format(source))
    for precision, entry in models.items():
        key = "models.{}".format(precision)
        if precision not in PRECISIONS or not isinstance(entry, dict):
            raise BundleError("{}: {}: expected a precision of {} with an object".format(source, key, PRECISIONS))
        _listed(entry, key, files, source)
        _field(entry, "input_name", str, source, key)
        _field(entry, "input_shape", list, source, key)
    for key in ("eval", "calibration"):
        if manifest.get(key) is not None:
            _listed(_field(manifest, key, dict, source), key, files, source)
    if SELF_KEY in manifest and manifest[SELF_KEY] != manifest_digest(manifest):
        raise BundleError("{}: does not match its own {} (the manifest was changed or is corrupt)".format(
            source, SELF_KEY))
    return manifest


def _check_entry(name: str, entry: Any, source: str) -> None:
    try:
        check_name(name)
    except BundleError as exc:
        raise BundleError("{}: files: {}".format(source, exc)) from None
    if name == MANIFEST:
        raise BundleError("{}: files: {} cannot list itself".format(source, MANIFEST))
    key = "files.{}".format(name)
    if not isinstance(entry, dict):
        raise BundleError("{}: {}: expected an object with size and sha256".format(source, key))
    size = _field(entry, "size", int, source, key)
    if size < 0:
        raise BundleError("{}: {}.size: expected a size in bytes (got {})".format(source, key, size))
    sha = _field(entry, "sha256", str, source, key)
    if not _SHA256.match(sha):
        raise BundleError("{}: {}.sha256: expected 64 lowercase hex digits (got {!r})".format(source, key, _short(sha)))


def _listed(entry: Dict[str, Any], key: str, files: Dict[str, Any], source: str) -> None:
    name = _field(entry, "file", str, source, key)
    if name not in files:
        raise BundleError("{}: {}.file: {!r} is not one of the listed files".format(source, key, _short(name)))


def _field(obj: Dict[str, Any], key: str, kind: type, source: str, parent: Optional[str] = None) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        where = "{}.{}".format(parent, key) if parent else key
        raise BundleError("{}: {}: expected {} (got {!r})".format(
            source, where, {int: "an integer", str: "a string", dict: "an object", list: "a list"}[kind],
            _short(value)))
    return value


def _short(value: Any) -> Any:
    """Values shown in one-line messages: long strings cut, control characters escaped by repr."""
    if isinstance(value, str) and len(value) > 80:
        return value[:77] + "..."
    if isinstance(value, (dict, list)):
        return type(value).__name__
    return value
