"""What every profile check shares: where the profile came from, one-line errors, values of an
attribute's type, image files and folders, and ``Checked`` (what the checks learned for the sampler).

The checks themselves live with what they check: ``validate`` (the profile, its terms and signals),
``dist_specs`` (each distribution), ``group_checks`` (groups and constraints), ``curriculum_checks``
(curriculum and ADR).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from .targets import Attribute, Target, parse_target

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tga", ".tif", ".tiff", ".exr", ".hdr")


@dataclass
class Checked:
    """What the checks learned and the sampler needs: parsed targets and texture files per id."""

    targets: dict[str, Target] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)  # id -> absolute image paths, sorted
    order: dict[str, list[str]] = field(default_factory=dict)  # group -> members, derive sources first
    # group -> (constrained members from the top down, (lower, upper) pairs)
    constraints: dict[str, tuple[list[str], list[tuple[str, str]]]] = field(default_factory=dict)


class CheckContext:
    """One profile's checks in progress: ``fail`` makes the error, ``out`` collects what they learn."""

    def __init__(self, source: str | None, base_dir: Path) -> None:
        self.source = source
        self.base_dir = base_dir
        self.out = Checked()

    def fail(self, key: str, expected: str, got: Any = ...) -> ConfigError:
        return ConfigError(self.source, key, expected, got)

    def unique(self, ids: dict[str, str], ident: str, key: str, hint: str) -> None:
        """Record ``ident`` as used by ``key``; refuse it if another key has it."""
        if ident in ids:
            raise self.fail(f"{key}.name", f"a unique name; {ids[ident]} already uses {ident!r} ({hint})")
        ids[ident] = key

    def target(self, text: str, key: str) -> Target:
        try:
            return parse_target(text)
        except ValueError as exc:
            raise self.fail(key, str(exc).removeprefix("expected ")) from None

    def numeric(self, v: Any, attr: Attribute, key: str) -> np.ndarray:
        """A number, or a list matching a vector attribute's length; int attributes need integers."""
        if isinstance(v, list) and (not attr.shape or len(v) != attr.shape[0]):
            n = attr.shape[0] if attr.shape else 0
            raise self.fail(key, f"a number or a list of {n} numbers for {attr.kind}/{attr.name}" if n
                            else f"a single number for {attr.kind}/{attr.name}", v)
        if attr.value == "int" and any(not float(x).is_integer() for x in np.ravel(v)):
            raise self.fail(key, f"an integer for {attr.kind}/{attr.name}", v)
        return np.asarray(v, dtype=float)

    def value(self, v: Any, attr: Attribute, key: str) -> None:
        """A choice/constant value of the attribute's type."""
        expected = {"bool": bool, "choice": str}.get(attr.value)
        if expected is not None:
            if not isinstance(v, expected):
                raise self.fail(key, f"a {'boolean' if expected is bool else 'string'} for {attr.kind}/{attr.name}", v)
            return
        if isinstance(v, bool | str):
            raise self.fail(key, f"a number for {attr.kind}/{attr.name}", v)
        self.numeric(v, attr, key)

    def folder(self, text: str, ident: str, key: str) -> list[str]:
        """The images of a folder (sorted), recorded as ``ident``'s files."""
        path = self.resolve(text)
        if not path.is_dir():
            raise self.fail(key, f"an existing folder of images (looked in {path})", text)
        files = sorted(str(p) for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise self.fail(key, f"a folder holding images ({', '.join(IMAGE_SUFFIXES)}); {path} has none", text)
        self.out.files[ident] = files
        return files

    def image(self, text: str, key: str) -> Path:
        path = self.resolve(text)
        if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
            raise self.fail(key, f"an existing image file (looked for {path})", text)
        return path

    def resolve(self, text: str) -> Path:
        path = Path(text).expanduser()
        return (path if path.is_absolute() else self.base_dir / path).resolve()
