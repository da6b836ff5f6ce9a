"""USD stages for sim2real (the only place ``pxr`` is imported): find prims by a profile's selectors,
apply sampled values to lights, materials, transforms, visibility, physics and semantic labels, and
restore the stage exactly. Used by the Isaac Sim extension (``exts/sim2real_isaac``) from its Kit
callbacks, and tested here on real stages with the ``pxr`` of ``usd-exchange``::

    from sim2real.usd import UsdScene, open_stage
    scene = UsdScene(open_stage("data/scenes/tabletop.usda"))

Public names load lazily, so importing this package does not import ``pxr``.
"""

from __future__ import annotations

from ..lazy import exports

_PUBLIC = {
    "UsdScene": "scene",
    "open_stage": "scene",
    "TARGETS": "scene",
    "class_labels": "entities",
    "set_class_labels": "semantics",
}
__all__, __getattr__ = exports(__name__, _PUBLIC)
