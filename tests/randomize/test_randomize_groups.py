"""Correlated groups: order constraints met exactly, derived members, feasibility checked at load."""

from __future__ import annotations

import numpy as np
import pytest
from randomize_helpers import ENTITIES, profile, randomizer

from sim2real.errors import ConfigError
from sim2real.randomize.runtime import Randomizer


def _member(name: str, target: str, low: float, high: float, dist: str = "uniform") -> dict:
    return {"name": name, "target": target, "dist": dist, "low": low, "high": high}


def _surface(constraints: list[str], **member_ranges: tuple[float, float]) -> dict:
    s = member_ranges.get("static", (0.5, 1.2))
    d = member_ranges.get("dynamic", (0.3, 1.0))
    return {
        "name": "surface",
        "constraints": constraints,
        "members": [
            _member("static", "geom:*/static_friction", *s),
            _member("dynamic", "geom:*/dynamic_friction", *d),
            {
                "name": "restitution",
                "target": "geom:*/restitution",
                "derive": {
                    "source": "static",
                    "scale": -0.5,
                    "offset": 1.0,
                    "noise_std": 0.01,
                    "clip": [0.0, 1.0],
                },
            },
        ],
    }


def test_static_friction_is_never_below_dynamic_and_both_stay_in_range() -> None:
    r = randomizer(profile(groups=[_surface(["dynamic <= static"])]), n_envs=20_000)
    v = r.reset(0).values
    for geom in ENTITIES["geom"]:
        st, dy = v[f"geom:{geom}/static_friction"], v[f"geom:{geom}/dynamic_friction"]
        assert np.all(dy <= st)
        assert st.min() >= 0.5 and st.max() <= 1.2 and dy.min() >= 0.3 and dy.max() <= 1.0
    # without the constraint the two are independent and often violate it
    free = randomizer(profile(groups=[_surface([])]), n_envs=20_000).reset(0).values
    assert np.mean(free["geom:floor/dynamic_friction"] > free["geom:floor/static_friction"]) > 0.1


def test_restitution_falls_with_friction_as_declared() -> None:
    v = randomizer(profile(groups=[_surface(["static >= dynamic"])]), n_envs=5000).reset(3).values
    st, rest = v["geom:table_top/static_friction"], v["geom:table_top/restitution"]
    residual = rest - (1.0 - 0.5 * st)
    assert abs(residual.mean()) < 1e-3 and abs(residual.std() - 0.01) < 1e-3
    assert np.corrcoef(st, rest)[0, 1] < -0.95


def test_a_chain_of_constraints_and_a_shared_upper_bound() -> None:
    group = {
        "name": "chain",
        "constraints": ["a <= b", "b <= c"],
        "members": [
            _member("a", "joint:*/damping", 0.0, 3.0),
            _member("b", "joint:*/armature", 1.0, 2.0),
            _member("c", "joint:*/frictionloss", 0.0, 5.0),
        ],
    }
    v = randomizer(profile(groups=[group]), n_envs=5000).reset(0).values
    a, b, c = (v[f"joint:elbow/{n}"] for n in ("damping", "armature", "frictionloss"))
    assert np.all(a <= b) and np.all(b <= c)
    assert c.min() >= 1.0  # c's floor: it must leave room for b >= 1
    # one upper entity bounding every lower entity (the world-wide cap broadcasts)
    cap = {
        "name": "cap",
        "constraints": ["each <= cap"],
        "members": [
            _member("each", "geom:*/torsional_friction", 0.0, 1.0),
            _member("cap", "geom:floor/rolling_friction", 0.0, 1.0),
        ],
    }
    w = randomizer(profile(groups=[cap]), n_envs=2000).reset(0).values
    for g in ENTITIES["geom"]:
        assert np.all(w[f"geom:{g}/torsional_friction"] <= w["geom:floor/rolling_friction"])


def test_group_values_are_prefix_stable_and_deterministic() -> None:
    p = profile(groups=[_surface(["dynamic <= static"])])
    big = randomizer(p, n_envs=300).reset(4).values
    small = randomizer(p, n_envs=3).reset(4).values
    assert all(np.array_equal(small[k], big[k][:3]) for k in small)


def test_a_constraint_that_cannot_be_met_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError,
        match=r"groups\[0\] 'surface'\.constraints: expected constraints that can be met: "
        r"'dynamic' must be >= 1\.5 but its high is 1\.2",
    ):
        profile(groups=[_surface(["static <= dynamic"], static=(1.5, 2.0), dynamic=(0.3, 1.2))])


@pytest.mark.parametrize(
    ("constraints", "message"),
    [
        (["static < dynamic"], "expected a constraint 'a <= b'"),
        (["static <= nobody"], "expected members of this group"),
        (["static <= restitution"], "uniform or loguniform members"),
        (["static <= dynamic", "dynamic <= static"], "constraints without a cycle"),
    ],
)
def test_malformed_constraints(constraints: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        profile(groups=[_surface(constraints)])


def test_derivation_cycles_and_unknown_sources_are_refused() -> None:
    cyc = {
        "name": "g",
        "members": [
            {"name": "a", "target": "joint:*/damping", "derive": {"source": "b"}},
            {"name": "b", "target": "joint:*/armature", "derive": {"source": "a"}},
        ],
    }
    with pytest.raises(ConfigError, match=r"derive\.source: expected derivations without a cycle"):
        profile(groups=[cyc])
    unknown = {
        "name": "g",
        "members": [{"name": "a", "target": "joint:*/damping", "derive": {"source": "zz"}}],
    }
    with pytest.raises(ConfigError, match=r"expected a member of this group"):
        profile(groups=[unknown])


def test_members_with_incompatible_entity_sets_are_refused() -> None:
    group = {
        "name": "g",
        "constraints": ["a <= b"],
        "members": [_member("a", "light:*/intensity", 0.0, 1.0), _member("b", "joint:*/damping", 0.0, 1.0)],
    }
    with pytest.raises(ConfigError, match="same number of entities or one entity"):
        Randomizer(profile(groups=[group]), 0, ENTITIES)


def test_constraints_are_checked_at_the_curriculum_scales_of_the_members_it_moves() -> None:
    # a in [0, 1], b in [0.2, 0.4], a <= b: feasible; shrinking a to its centre (0.5) would not be
    group = {
        "name": "g",
        "constraints": ["a <= b"],
        "members": [_member("a", "joint:*/damping", 0.0, 1.0), _member("b", "joint:*/armature", 0.2, 0.4)],
    }
    with pytest.raises(ConfigError, match="constraints that can be met at curriculum scale 0"):
        profile(groups=[group], curriculum={"scales": [0.0, 1.0], "terms": ["g/a"]})
    p = profile(groups=[group], curriculum={"scales": [0.0, 1.0], "terms": ["g/b"]})  # only b narrows: fine
    v = randomizer(p, n_envs=500).reset(0).values
    assert np.all(v["joint:elbow/damping"] <= v["joint:elbow/armature"])
    assert np.allclose(v["joint:elbow/armature"], 0.3)  # phase 0 of the curriculum: b at its centre
