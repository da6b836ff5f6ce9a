"""Fuzz: random TOML documents and random profile-like structures either load or raise ConfigError.

Whatever loads must also sample (startup, reset, a step, a frame) without any other exception.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim2real.errors import ConfigError
from sim2real.randomize.entities import placeholder_entities
from sim2real.randomize.profile import Profile, load_profile
from sim2real.randomize.runtime import Randomizer
from sim2real.randomize.targets import CATALOGUE

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.dates(),
    st.datetimes(),
    st.times(),
)
toml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

KEYS = [
    "name",
    "target",
    "dist",
    "low",
    "high",
    "mean",
    "std",
    "values",
    "weights",
    "folder",
    "value",
    "op",
    "when",
    "every",
    "signal",
    "optional",
]
targets = st.one_of(
    st.sampled_from(
        [f"{a.kind}:*/{a.name}" for a in CATALOGUE]
        + ["world:gravity", "scene:object_count", "light:key/intensity", "bogus:*/x", "light"]
    ),
    st.text(max_size=20),
)
numbers = st.one_of(
    st.integers(-5, 10),
    st.floats(-10, 10),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70).filter(lambda v: abs(v) < 2**63),
)
field_values = st.one_of(
    numbers,
    st.lists(numbers, max_size=4),
    st.sampled_from(
        [
            "uniform",
            "loguniform",
            "normal",
            "truncnormal",
            "choice",
            "constant",
            "set",
            "scale",
            "add",
            "reset",
            "startup",
            "interval",
            "frame",
            "random",
        ]
    ),
    st.booleans(),
    st.lists(st.one_of(st.booleans(), st.text(max_size=5), numbers), max_size=4),
    st.fixed_dictionaries(
        {},
        optional={
            "kind": st.sampled_from(["sinusoid", "ou", "random_walk", "hold", "x"]),
            "amplitude": numbers,
            "frequency_hz": numbers,
            "phase": st.one_of(numbers, st.just("random")),
            "theta": numbers,
            "sigma": numbers,
            "hold_s": numbers,
            "every": st.integers(-1, 5),
            "clip": st.lists(numbers, max_size=3),
        },
    ),
)


@st.composite
def terms(draw: Any) -> dict[str, Any]:
    term = {
        "target": draw(targets),
        "dist": draw(
            st.sampled_from(["uniform", "loguniform", "normal", "truncnormal", "choice", "constant"])
        ),
    }
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=6, unique=True)):
        term[key] = draw(field_values)
    return term


SIGNALS = {
    "sinusoid": {"amplitude": 0.1, "frequency_hz": 2.0, "phase": "random"},
    "ou": {"theta": 1.0, "sigma": 0.1},
    "random_walk": {"sigma": 0.1},
    "hold": {"hold_s": 0.01},
}


FEW_BREAKS = st.sampled_from([0, 0, 0, 1, 2])  # how many keys of a valid term to break


@st.composite
def near_valid_terms(draw: Any, breaks: st.SearchStrategy[int] = FEW_BREAKS) -> dict[str, Any]:
    """A valid term for a random catalogue attribute, then up to two keys broken or removed."""
    attr = draw(st.sampled_from(CATALOGUE))
    target = f"{attr.kind}:{'' if attr.kind in ('world', 'scene') else '*/'}{attr.name}"
    lo = draw(st.floats(0, 5))
    hi = lo + draw(st.floats(0, 5))
    vec = (lambda v: [v] * attr.shape[0]) if attr.shape and draw(st.booleans()) else (lambda v: v)
    if attr.value == "float":
        dist = draw(st.sampled_from(["uniform", "loguniform", "normal", "truncnormal", "choice", "constant"]))
        fields = {
            "uniform": {"low": vec(lo), "high": vec(hi)},
            "loguniform": {"low": lo + 0.1, "high": hi + 0.1},
            "normal": {"mean": vec(lo), "std": hi + 0.01},
            "constant": {"value": vec(lo)},
            "truncnormal": {"mean": lo, "std": 0.5, "low": lo, "high": hi},
            "choice": {"values": [vec(lo), vec(hi)], "weights": [1, 2]},
        }[dist]
        if dist == "normal" and attr.nonnegative:
            fields["op"] = "add"
    elif attr.value == "int":
        dist, fields = "uniform", {"low": int(lo), "high": int(hi)}
    elif attr.value == "bool":
        dist, fields = "choice", {"values": [True, False]}
    else:
        dist, fields = "choice", {"values": ["a", "b"]}
    term = {"name": draw(st.sampled_from(["t1", "t2", "t3", "t4"])), "target": target, "dist": dist, **fields}
    term["when"] = draw(st.sampled_from(["startup", "reset", "interval", "frame"]))
    if term["when"] == "interval":
        term["every"] = draw(st.integers(1, 3))
    if term["when"] == "reset" and attr.value == "float" and dist != "choice" and draw(st.booleans()):
        kind = draw(st.sampled_from(sorted(SIGNALS)))
        term["signal"] = {"kind": kind, **SIGNALS[kind], "every": draw(st.integers(1, 2))}
    for key in draw(st.lists(st.sampled_from(KEYS), min_size=(n := draw(breaks)), max_size=n, unique=True)):
        if draw(st.booleans()):
            term.pop(key, None)
        else:
            term[key] = draw(field_values)
    return term


@st.composite
def profiles(draw: Any, chaotic: bool = True) -> dict[str, Any]:
    mostly_valid = (
        st.one_of(near_valid_terms(), near_valid_terms(), near_valid_terms(), terms())
        if chaotic
        else near_valid_terms()
    )
    doc: dict[str, Any] = {"terms": draw(st.lists(mostly_valid, max_size=4))}
    if not chaotic:
        for i, term in enumerate(doc["terms"]):
            term["name"] = f"t{i + 1}"
    if draw(st.integers(0, 2)) == 0:
        members = draw(st.lists(mostly_valid, min_size=1, max_size=3))
        for i, m in enumerate(members):
            for key in ("when", "every", "signal", "optional"):
                if not chaotic or draw(st.integers(0, 9)):  # usually: members take none of these
                    m.pop(key, None)
            m["name"] = draw(st.sampled_from(["a", "b", "c", str(i)]))
            if draw(st.booleans()):
                m.pop("dist", None)
                m["derive"] = {"source": draw(st.sampled_from(["a", "b", "c"])), "scale": draw(numbers)}
        doc["groups"] = [
            {
                "name": "g",
                "members": members,
                "constraints": draw(st.lists(st.sampled_from(["a <= b", "b >= c", "a<=c", "x"]), max_size=2)),
            }
        ]
    if draw(st.booleans()):
        doc["curriculum"] = draw(
            st.one_of(
                st.fixed_dictionaries(
                    {
                        "scales": st.lists(st.floats(0, 2), min_size=1, max_size=3),
                        "episodes_per_phase": st.integers(0, 3),
                        "terms": st.just(["t*"]),
                    }
                ),
                st.fixed_dictionaries(
                    {},
                    optional={
                        "scales": st.lists(numbers, max_size=3),
                        "start": numbers,
                        "end": numbers,
                        "phases": st.integers(-1, 5),
                        "episodes_per_phase": st.integers(-1, 5),
                        "terms": st.lists(st.sampled_from(["*", "a", "t1", "g/*"]), max_size=2),
                    },
                ),
            )
        )
    if draw(st.booleans()):
        doc["adr"] = {
            "threshold_low": draw(st.one_of(numbers, st.just(0.2))),
            "threshold_high": draw(st.one_of(numbers, st.just(0.8))),
            "params": [
                {
                    "term": draw(st.one_of(st.text(max_size=10), st.sampled_from(["t1", "t2"]))),
                    "limits": draw(st.one_of(st.lists(numbers, max_size=3), st.just([0.0, 20.0]))),
                    "step": draw(st.one_of(numbers, st.just(0.1))),
                }
            ],
        }
    return doc


def _check(text: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "fuzz.toml"
        path.write_text(text, encoding="utf-8")
        try:
            profile = load_profile(path)
        except ConfigError as exc:
            assert "\n" not in str(exc)
            return
        assert isinstance(profile, Profile)
        _sample(profile)


def _sample(profile: Profile) -> None:
    try:
        r = Randomizer(profile, 1, placeholder_entities(profile), n_envs=3)
    except ConfigError:
        return  # e.g. two terms setting one value at one event
    r.startup()
    r.reset(0)
    r.step(1)
    r.frame(0)


@SETTINGS
@given(st.dictionaries(st.text(max_size=10), toml_values, max_size=5))
def test_random_toml_documents_load_or_raise_config_error(doc: dict[str, Any]) -> None:
    _check(tomli_w.dumps(doc))


@SETTINGS
@given(st.text(max_size=200))
def test_random_text_loads_or_raises_config_error(text: str) -> None:
    _check(text)


@SETTINGS
@given(profiles())
def test_random_profile_structures_load_or_raise_config_error(doc: dict[str, Any]) -> None:
    _check(tomli_w.dumps(doc))


@SETTINGS
@given(profiles(chaotic=False))
def test_nearly_valid_profiles_load_or_raise_config_error(doc: dict[str, Any]) -> None:
    """Valid terms with a few keys broken: most load, so sampling is exercised as well as the loader."""
    _check(tomli_w.dumps(doc))


def test_the_fuzzer_reaches_valid_profiles_too() -> None:
    """A sanity check of the strategies themselves: a known-valid document passes through _check."""
    doc = {
        "terms": [{"target": "light:*/intensity", "dist": "uniform", "low": 0.5, "high": 1.5}],
        "curriculum": {"scales": [0.5, 1.0]},
        "when": dt.date(2024, 1, 1),
    }
    doc.pop("when")
    _check(tomli_w.dumps(doc))
