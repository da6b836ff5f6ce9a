"""Declarative, engine-neutral domain randomization: profiles, samplers, schedules, curriculum, ADR.

The public names load lazily (importing this package stays as light as ``import sim2real``)::

    from sim2real.randomize import load_profile, Randomizer
    r = Randomizer(load_profile("config/profiles/tabletop.toml"), seed=0, entities=backend.entities())

Format and algorithms: ``exts/sim2real/docs/randomization.md``.
"""

from __future__ import annotations

from ..lazy import exports

_PUBLIC = {
    "Profile": "profile",
    "load_profile": "profile",
    "parse_profile": "profile",
    "require_randomization": "profile",
    "save_profile": "profile",
    "Randomizer": "runtime",
    "Sample": "sample",
    "kelvin_to_rgb": "color",
    "check_capabilities": "entities",
    "load_entities": "entities",
    "placeholder_entities": "entities",
}
__all__, __getattr__ = exports(__name__, _PUBLIC)
