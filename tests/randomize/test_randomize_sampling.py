"""Sampling: determinism, prefix stability, independence of terms and entities, distributions, records."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from randomize_helpers import ENTITIES, profile, randomizer, uniform

from sim2real.errors import ConfigError
from sim2real.randomize.runtime import Randomizer

EVERY_DIST = (
    uniform("light:*/intensity", name="u"),
    uniform("light:key/color", [0.1, 0.2, 0.3], [0.5, 0.6, 0.7], name="u3"),
    {"name": "lu", "target": "joint:*/damping", "dist": "loguniform", "low": 0.1, "high": 10.0},
    {"name": "n", "target": "body:*/com", "dist": "normal", "mean": 0.0, "std": [0.01, 0.02, 0.03]},
    {"name": "ns", "target": "camera:main/roll", "dist": "normal", "mean": 0.1, "std": 0.05},
    {
        "name": "tn",
        "target": "geom:*/restitution",
        "dist": "truncnormal",
        "mean": 0.3,
        "std": 0.2,
        "low": 0.0,
        "high": 0.5,
    },
    {
        "name": "c",
        "target": "object:*/asset",
        "dist": "choice",
        "values": ["cube", "mug", "torus"],
        "weights": [1, 2, 1],
    },
    {"name": "cb", "target": "light:rim/enabled", "dist": "choice", "values": [True, False]},
    {"name": "i", "target": "actuator:*/latency", "dist": "uniform", "low": 0, "high": 3},
    {"name": "k", "target": "world:gravity", "dist": "constant", "value": [0.0, 0.0, -9.81]},
)


def _arrays_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_keys_shapes_dtypes_and_ops() -> None:
    s = randomizer(profile(*EVERY_DIST), n_envs=5).reset(0)
    assert s.event == "reset" and s.index == 0 and s.n_envs == 5
    assert s.values["light:fill/intensity"].shape == (5,)
    assert s.values["light:key/color"].shape == (5, 3)
    assert s.values["body:obj_03/com"].shape == (5, 3)
    assert s.values["object:obj_02/asset"].dtype == object
    assert s.values["light:rim/enabled"].dtype == bool
    assert s.values["actuator:elbow/latency"].dtype.kind == "i"
    assert s.values["world:world/gravity"].tolist() == [[0.0, 0.0, -9.81]] * 5
    assert s.ops["light:key/intensity"] == "scale" and s.ops["body:obj_00/com"] == "add"
    assert s.ops["world:world/gravity"] == "set"
    # selectors expand over exactly the matching entities, in the backend's order
    assert [k for k in s.values if k.startswith("joint:")] == [
        "joint:shoulder/damping",
        "joint:elbow/damping",
    ]


def test_same_seed_same_bytes_other_seed_other_values() -> None:
    p = profile(*EVERY_DIST)
    a, b = randomizer(p, seed=3).reset(5), randomizer(p, seed=3).reset(5)
    assert _arrays_equal(a.values, b.values)
    c = randomizer(p, seed=4).reset(5)
    assert not np.array_equal(a.values["light:key/intensity"], c.values["light:key/intensity"])
    d = randomizer(p, seed=3).reset(6)  # another episode
    assert not np.array_equal(a.values["light:key/intensity"], d.values["light:key/intensity"])


def test_prefix_stable_in_the_number_of_envs() -> None:
    """Env i gets the same values whether 1, 7 or 1000 envs are sampled (every distribution)."""
    p = profile(*EVERY_DIST)
    big = randomizer(p, n_envs=1000).reset(2).values
    for n in (1, 7):
        small = randomizer(p, n_envs=n).reset(2).values
        for key, arr in small.items():
            assert np.array_equal(arr, big[key][:n]), key


def test_adding_or_removing_a_term_leaves_the_others_unchanged() -> None:
    base = randomizer(profile(*EVERY_DIST)).reset(1).values
    more = randomizer(profile(uniform("material:*/roughness", 0.0, 1.0), *EVERY_DIST)).reset(1).values
    fewer = randomizer(profile(*EVERY_DIST[2:])).reset(1).values
    assert all(np.array_equal(base[k], more[k]) for k in base)
    assert all(np.array_equal(fewer[k], base[k]) for k in fewer)
    # renaming a term is a different term: its values change (the name keys its stream)
    renamed = randomizer(profile(uniform("light:*/intensity", name="other"))).reset(1).values
    assert not np.array_equal(renamed["light:key/intensity"], base["light:key/intensity"])


def test_adding_an_entity_leaves_the_other_entities_unchanged() -> None:
    p = profile(*EVERY_DIST)
    base = randomizer(p).reset(0).values
    ents = {**ENTITIES, "light": ["spot", *ENTITIES["light"]], "object": [*ENTITIES["object"], "obj_09"]}
    more = randomizer(p, entities=ents).reset(0).values
    assert "light:spot/intensity" in more and "object:obj_09/asset" in more
    assert all(np.array_equal(base[k], more[k]) for k in base)


def test_entities_of_one_term_are_independent_draws() -> None:
    s = randomizer(profile(uniform("light:*/intensity")), n_envs=64).reset(0).values
    assert not np.array_equal(s["light:key/intensity"], s["light:fill/intensity"])


def _drawn(event: str, n: int) -> dict[str, np.ndarray]:
    """``n`` values of every key of EVERY_DIST: ``n`` environments at a reset, or 200 environments x
    ``n / 200`` interval firings (counter-based uniforms through each distribution's inverse CDF)."""
    if event == "reset":
        return randomizer(profile(*EVERY_DIST), n_envs=n).reset(0).values
    r = randomizer(profile(*({**term, "when": "interval", "every": 1} for term in EVERY_DIST)), n_envs=200)
    r.reset(0)
    chunk = r.interval(1, 1, n // 200)
    return {k: v.reshape(n, *v.shape[2:]) for k, v in chunk.values.items()}


@pytest.mark.parametrize("event", ["reset", "interval"])
def test_distribution_moments(event: str) -> None:
    n = 40_000
    v = _drawn(event, n)
    u = v["light:key/intensity"]
    assert u.min() >= 0.5 and u.max() <= 1.5 and abs(u.mean() - 1.0) < 0.01
    c3 = v["light:key/color"]
    assert np.all(c3 >= [0.1, 0.2, 0.3]) and np.all(c3 <= [0.5, 0.6, 0.7])
    lu = np.log(v["joint:shoulder/damping"])
    assert abs(lu.mean()) < 0.03 and abs(lu.std() - math.log(100) / math.sqrt(12)) < 0.02
    com = v["body:obj_00/com"]
    assert np.allclose(com.std(axis=0), [0.01, 0.02, 0.03], rtol=0.03) and np.allclose(
        com.mean(axis=0), 0, atol=5e-4
    )
    tn = v["geom:floor/restitution"]
    assert tn.min() >= 0.0 and tn.max() <= 0.5
    # mean of N(0.3, 0.2) truncated to [0, 0.5]: mu + sigma (phi(a) - phi(b)) / (Phi(b) - Phi(a))
    a, b = -1.5, 1.0
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    Phi = lambda z: 0.5 * math.erfc(-z / math.sqrt(2))  # noqa: E731
    expected = 0.3 + 0.2 * (phi(a) - phi(b)) / (Phi(b) - Phi(a))
    assert abs(tn.mean() - expected) < 0.003
    choices, counts = np.unique(v["object:obj_00/asset"], return_counts=True)
    freq = dict(zip(choices.tolist(), (counts / n).tolist(), strict=True))
    assert abs(freq["mug"] - 0.5) < 0.015 and abs(freq["cube"] - 0.25) < 0.015
    lat = v["actuator:shoulder/latency"]
    assert set(np.unique(lat).tolist()) == {0, 1, 2, 3}  # inclusive integer range
    assert abs(np.mean(lat == 3) - 0.25) < 0.015


def test_truncnormal_far_in_a_tail_stays_inside_its_bounds() -> None:
    """Bounds 8-10 sd above the mean: the inverse CDF must still land inside (no rejection)."""
    p = profile(
        {
            "target": "camera:main/roll",
            "dist": "truncnormal",
            "mean": 0.0,
            "std": 1.0,
            "low": 8.0,
            "high": 10.0,
        }
    )
    x = randomizer(p, n_envs=5000).reset(0).values["camera:main/roll"]
    assert np.all((x >= 8.0) & (x <= 10.0))
    assert abs(x.mean() - 8.12) < 0.02  # E[X | X > 8] = phi(8)/(1 - Phi(8)) ~ 8.1236 for a standard normal


def test_any_sample_regenerates_from_its_index_alone() -> None:
    p = profile(
        *EVERY_DIST, {"target": "image:*/blur", "dist": "uniform", "low": 0, "high": 2, "when": "frame"}
    )
    long_lived = randomizer(p)
    for episode in range(6):
        long_lived.reset(episode)
        long_lived.frame(episode * 10)
    fresh = randomizer(p)
    assert _arrays_equal(fresh.reset(5).values, long_lived.reset(5).values)
    assert _arrays_equal(fresh.frame(30).values, randomizer(p).frame(30).values)
    assert fresh.frame(30).event == "frame"


def test_startup_interval_and_frame_events() -> None:
    p = profile(
        uniform("light:*/intensity", when="startup"),
        uniform("geom:*/friction", when="interval", every=3),
        {"target": "image:*/noise_std", "dist": "uniform", "low": 0.0, "high": 0.1, "when": "frame"},
    )
    r = randomizer(p)
    assert set(r.startup().values) == {"light:key/intensity", "light:fill/intensity", "light:rim/intensity"}
    assert r.reset(0).values == {}
    fired = [k for k in range(1, 10) if r.step(k) is not None]
    assert fired == [3, 6, 9]
    a, b = r.step(3), r.step(6)
    assert not np.array_equal(a.values["geom:floor/friction"], b.values["geom:floor/friction"])
    r.reset(1)
    assert not np.array_equal(r.step(3).values["geom:floor/friction"], a.values["geom:floor/friction"])
    # image effects target cameras when the scene lists no "image" kind
    assert set(r.frame(0).values) == {"image:main/noise_std", "image:top/noise_std"}


def test_record_is_flat_json_and_merges_the_latest_values() -> None:
    from sim2real.sim.record import AppliedRecord

    p = profile(
        *EVERY_DIST, {"target": "image:main/blur", "dist": "uniform", "low": 0, "high": 2, "when": "frame"}
    )
    r = randomizer(p, n_envs=3)
    s = r.reset(0)
    rec = s.record(2)
    assert json.loads(json.dumps(rec)) == rec
    assert rec["light:key/intensity"] == s.values["light:key/intensity"][2]
    assert rec["world:world/gravity"] == [0.0, 0.0, -9.81] and isinstance(rec["object:obj_00/asset"], str)
    applied = AppliedRecord(n_envs=3)  # what a backend keeps of the samples it applied
    applied.applied(s, None)
    f = r.frame(4)
    applied.applied(f, None)
    merged = applied.record(1)
    assert merged["image:main/blur"] == f.values["image:main/blur"][1]
    assert merged["light:key/intensity"] == s.values["light:key/intensity"][1]
    assert applied.last == (r.seed, 4)

def test_selector_matching_nothing_names_term_and_lists_entities() -> None:
    p = profile(uniform("light:lamp*/intensity", name="lamps"))
    with pytest.raises(
        ConfigError,
        match=r"terms\[0\] 'lamps'\.target: expected a selector matching at least one "
        r"light \(available: key, fill, rim\) \(got 'light:lamp\*/intensity'\)",
    ):
        randomizer(p)


def test_optional_term_is_skipped_when_nothing_matches() -> None:
    p = profile(uniform("light:*/intensity"), uniform("joint:*/damping", optional=True, name="damp"))
    r = Randomizer(p, 0, {"light": ["key"]}, n_envs=2)
    assert r.skipped == ["damp"] and set(r.reset(0).values) == {"light:key/intensity"}
    assert "joint:shoulder/damping" in randomizer(p).reset(0).values


def test_a_later_term_overrides_an_earlier_one_for_the_values_both_set() -> None:
    general = uniform("light:*/intensity", 0.5, 1.5, name="all")
    special = {"name": "key", "target": "light:key/intensity", "dist": "constant", "value": 2.0, "op": "set"}
    r = randomizer(profile(general, special))
    s = r.reset(0)
    assert np.all(s.values["light:key/intensity"] == 2.0) and s.ops["light:key/intensity"] == "set"
    assert s.ops["light:fill/intensity"] == "scale"
    # the other lights keep exactly the values they have without the exception
    alone = randomizer(profile(general)).reset(0).values
    assert np.array_equal(s.values["light:fill/intensity"], alone["light:fill/intensity"])
    assert r.overridden == [("reset", "light:key/intensity", "key", "all")]
    # at different events there is nothing to override
    assert not randomizer(profile(general, {**special, "when": "frame"})).overridden


def test_a_later_interval_term_overrides_an_earlier_one_in_every_firing() -> None:
    general = uniform("light:*/intensity", 0.5, 1.5, name="all", when="interval", every=4)
    special = {"name": "key", "target": "light:key/intensity", "dist": "uniform", "low": 3.0, "high": 4.0,
               "when": "interval", "every": 4}
    r, alone = randomizer(profile(general, special)), randomizer(profile(general))
    r.reset(0)
    alone.reset(0)
    for step in (4, 8, 400):
        s, a = r.step(step), alone.step(step)
        assert np.all((s.values["light:key/intensity"] >= 3.0) & (s.values["light:key/intensity"] <= 4.0))
        assert np.array_equal(s.values["light:fill/intensity"], a.values["light:fill/intensity"])
    assert r.overridden == [("interval", "light:key/intensity", "key", "all")]


def test_overriding_signal_and_adr_terms_and_interval_conflicts() -> None:
    flicker = uniform(
        "light:*/intensity",
        name="flicker",
        signal={"kind": "sinusoid", "amplitude": 0.1, "frequency_hz": 5.0},
    )
    fixed = {"name": "key", "target": "light:key/intensity", "dist": "constant", "value": 1.0, "op": "set"}
    r = randomizer(profile(flicker, fixed), dt=0.01)
    r.reset(0)
    s = r.step(3)
    assert "light:key/intensity" not in s.values and "light:fill/intensity" in s.values  # the override holds
    # an ADR term overridden for one entity keeps driving the others
    adr = {"threshold_low": 0, "threshold_high": 1, "params": [{"term": "all", "limits": [0, 2]}]}
    a = randomizer(profile(uniform("light:*/intensity", name="all"), fixed, adr=adr), n_envs=50)
    v = a.reset(0)
    assert np.all(v.values["light:key/intensity"] == 1.0)
    pinned = v.meta["adr_boundary"] == 1
    assert pinned.any() and np.all(v.values["light:fill/intensity"][pinned] == 1.5)
    # between steps, an interval term and a time-varying one may not share a value
    wander = uniform("light:key/intensity", when="interval", every=10, name="wander")
    with pytest.raises(
        ConfigError,
        match="no interval term setting light:key/intensity, which the time-varying term 'flicker' also sets",
    ):
        randomizer(profile(flicker, wander))


def test_randomizer_refuses_bad_arguments() -> None:
    p = profile(uniform("light:*/intensity"))
    with pytest.raises(ValueError, match="n_envs"):
        Randomizer(p, 0, ENTITIES, n_envs=0)
    with pytest.raises(ValueError, match="seed"):
        Randomizer(p, -1, ENTITIES)
    with pytest.raises(ValueError, match="dt"):
        Randomizer(p, 0, ENTITIES, dt=0.0)


def test_package_facade_is_lazy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, sim2real.randomize as r; assert 'numpy' not in sys.modules; "
        "from sim2real.randomize import Randomizer, load_profile; print(Randomizer.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Randomizer"


def test_record_forgets_last_episodes_step_values_at_reset() -> None:
    from sim2real.sim.record import AppliedRecord

    p = profile(
        uniform("light:*/intensity", when="startup"),
        uniform("geom:*/friction", when="interval", every=2),
        uniform("joint:*/damping"),
    )
    r = randomizer(p)
    applied = AppliedRecord()
    start = r.startup()
    for sample in (start, r.reset(0), r.step(2)):
        applied.applied(sample, 0)
    assert "geom:floor/friction" in applied.record()
    assert [s for s, _ in applied.reset()] == [start]  # what a backend applies again after its reset
    applied.applied(start, 0)
    applied.applied(r.reset(1), 0)
    rec = applied.record()
    assert "geom:floor/friction" not in rec and "light:key/intensity" in rec and "joint:elbow/damping" in rec
    assert len(applied.startup) == 1  # the same start-up sample is kept once

def test_interval_firings_depend_on_episode_and_firing_alone_whatever_the_chunk() -> None:
    """A firing's values depend only on (episode, firing): the same whether drawn alone, in chunks of any
    size or offset, for one environment or six (prefix-stable), and different from firing to firing."""
    p = profile(
        uniform("geom:*/friction", when="interval", every=4, name="f"),
        {"name": "g", "target": "world:gravity", "dist": "normal", "mean": [0, 0, -9.81], "std": 0.1,
         "when": "interval", "every": 4},
        {"name": "tn", "target": "geom:*/restitution", "dist": "truncnormal", "mean": 0.3, "std": 0.2, "low": 0.0,
         "high": 0.5, "when": "interval", "every": 4},
        {"name": "c", "target": "object:*/asset", "dist": "choice", "values": ["cube", "mug"], "when": "interval",
         "every": 4},
    )
    one, many = randomizer(p, n_envs=1), randomizer(p, n_envs=6)
    one.reset(2)
    many.reset(2)
    whole = one.interval(4, 1, 200)
    assert whole.values["world:world/gravity"].shape == (1, 200, 3)
    for first, count in ((1, 1), (37, 7), (64, 64), (150, 51)):
        part = one.interval(4, first, count)
        assert part.step(0) == 4 * first
        for key, values in part.values.items():
            assert np.array_equal(values, whole.values[key][:, first - 1:first - 1 + count]), (key, first, count)
        wide = many.interval(4, first, count)
        assert all(np.array_equal(wide.values[k][:1], v) for k, v in part.values.items())
    for k in (4, 8, 4 * 64, 4 * 65, 4 * 197):
        assert _arrays_equal(one.step(k).values, whole.row(k // 4 - 1))  # Randomizer.step: the same firing
    firsts = whole.values["geom:floor/friction"][0]
    assert len(set(firsts.tolist())) == len(firsts)  # every firing its own value
    assert one.step(5) is None
    one.reset(3)
    assert not np.array_equal(one.interval(4, 1, 200).values["geom:floor/friction"], whole.values["geom:floor/friction"])

def test_interval_terms_of_different_periods_may_not_set_one_value() -> None:
    p = profile(
        uniform("geom:*/friction", when="interval", every=4, name="slow"),
        uniform("geom:floor/friction", when="interval", every=6, name="fast"),
    )
    with pytest.raises(ConfigError, match=r"'fast': expected every = 4, the period of the interval term 'slow', "
                                          r"which also sets geom:floor/friction \(got 6\)"):
        randomizer(p)


def test_records_include_interval_firings_applied_from_chunks() -> None:
    from sim2real.sim.record import AppliedRecord
    from sim2real.sim.schedule import IntervalSchedule

    p = profile(uniform("geom:*/friction", when="interval", every=2, name="f"))
    r = randomizer(p)
    schedule, applied = IntervalSchedule(r, chunk=8), AppliedRecord()
    r.reset(0)
    [firing] = schedule.due(6)  # what RandomizedSim's prepared path fires: no per-key work
    applied.fired(firing.chunk, firing.row, 0)
    assert firing.chunk.step(firing.row) == 6 and applied.last == (r.seed, 6)
    assert applied.record()["geom:floor/friction"] == firing.chunk.values["geom:floor/friction"][0, firing.row]
    applied.reset()
    assert "geom:floor/friction" not in applied.record()  # a reset ends the episode's step values


def test_a_shared_term_gives_every_entity_one_draw_and_leaves_other_terms_alone() -> None:
    """``shared = true`` (a tied parameter: one delay for one bus) at reset and at every interval firing;
    without it the entities draw independently; the flag changes no other term's values."""
    terms = [{"name": "delay", "target": "actuator:*/latency", "dist": "uniform", "low": 0, "high": 9},
             uniform("geom:*/friction", name="fric", when="interval", every=2),
             uniform("light:*/intensity", name="light")]
    apart = randomizer(profile(*terms), n_envs=64)
    tied = randomizer(profile({**terms[0], "shared": True}, {**terms[1], "shared": True}, terms[2]), n_envs=64)
    a, t = apart.reset(0), tied.reset(0)
    assert np.array_equal(t.values["actuator:shoulder/latency"], t.values["actuator:elbow/latency"])
    assert len(np.unique(t.values["actuator:shoulder/latency"])) > 3  # one draw per env, still random
    assert not np.array_equal(a.values["actuator:shoulder/latency"], a.values["actuator:elbow/latency"])
    fired = tied.step(2).values
    assert all(np.array_equal(fired[f"geom:{g}/friction"], fired["geom:floor/friction"]) for g in ENTITIES["geom"])
    assert not np.array_equal(apart.step(2).values["geom:obj_00/friction"], apart.step(2).values["geom:floor/friction"])
    assert all(np.array_equal(a.values[k], t.values[k]) for k in a.values if k.startswith("light:"))
    # profiles without the flag keep their normalised form (and so their hash)
    assert "shared" not in profile(*terms).to_dict()["terms"][0]
