"""Dataset layouts by name: ``native`` (the default) and ``basic`` (Isaac Sim's BasicWriter files).

A dataset's manifest names its layout (``Outputs.layout``); writers encode and readers decode through
the registered ``Layout`` of that name. A new layout is a class implementing ``layout.Layout`` (file
names, ``encode``, ``decoders``) passed to ``register`` before the dataset is written or read
(exts/sim2real/docs/extending.md). COCO and YOLO are exports of a dataset, not layouts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .basic import BASIC
from .layout import Layout
from .native import NATIVE

_LAYOUTS: dict[str, Layout] = {}


def register(layout: Layout) -> None:
    """Make ``layout`` known by its name; its encodings must not be another layout's."""
    taken = {enc: other.name for other in _LAYOUTS.values() if other.name != layout.name for enc in other.decoders}
    clash = sorted(set(layout.decoders) & set(taken))
    if clash:
        raise ValueError(f"layout {layout.name!r}: encodings {', '.join(clash)} belong to layout {taken[clash[0]]!r}")
    _LAYOUTS[layout.name] = layout


def names() -> list[str]:
    return list(_LAYOUTS)


def get_layout(name: str) -> Layout:
    layout = _LAYOUTS.get(name)
    if layout is None:
        raise ValueError(f"layout: expected one of {', '.join(_LAYOUTS)} (got {name!r})")
    return layout


def decode(encoding: str, data: bytes, record: dict[str, Any], channel: str) -> np.ndarray:
    """The array a frame file holds, by the encoding its shard index names."""
    for layout in _LAYOUTS.values():
        decoder = layout.decoders.get(encoding)
        if decoder is not None:
            return decoder(data, record, channel)
    known = [enc for layout in _LAYOUTS.values() for enc in layout.decoders]
    raise ValueError(f"unknown encoding {encoding!r} (this sim2real reads {', '.join(known)})")


register(NATIVE)
register(BASIC)
