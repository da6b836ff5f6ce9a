"""Small builders shared by the randomization tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim2real.randomize.profile import Profile, parse_profile
from sim2real.randomize.runtime import Randomizer

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "config" / "profiles"
TEXTURES = REPO / "data" / "textures"

ENTITIES: dict[str, list[str]] = {
    "light": ["key", "fill", "rim"],
    "camera": ["main", "top"],
    "object": [f"obj_{i:02d}" for i in range(4)],
    "body": [f"obj_{i:02d}" for i in range(4)],
    "geom": ["floor", "table_top", "obj_00", "obj_01"],
    "material": ["floor", "table_top", "obj_00"],
    "joint": ["shoulder", "elbow"],
    "actuator": ["shoulder", "elbow"],
    "sensor": ["shoulder_pos", "elbow_pos"],
}


def profile(*terms: dict[str, Any], base_dir: Path | None = None, **top: Any) -> Profile:
    return parse_profile({"terms": list(terms), **top}, base_dir=base_dir or REPO)


def randomizer(
    p: Profile, seed: int = 0, n_envs: int = 4, entities: dict | None = None, dt: float = 0.002
) -> Randomizer:
    return Randomizer(p, seed, entities or ENTITIES, n_envs=n_envs, dt=dt)


def uniform(target: str, low: Any = 0.5, high: Any = 1.5, **kw: Any) -> dict[str, Any]:
    return {"target": target, "dist": "uniform", "low": low, "high": high, **kw}
