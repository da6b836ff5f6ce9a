"""sim2real.api: the public verbs import nothing heavy, each documents an example, and each does what
the package it wraps does (same seed, same bytes; resumes; one-line errors)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from testlib import PACKAGE

HEAVY = ("numpy", "torch", "mujoco", "pxr", "pydantic", "scipy", "onnx", "onnxruntime", "fastapi", "typer", "rich")


def test_importing_the_api_imports_nothing_heavy() -> None:
    code = ("import sys, sim2real; api = sim2real.api; import sim2real.api as same; assert api is same; "
            f"print([m for m in {HEAVY!r} if m in sys.modules]); print(sorted(api.__all__))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(PACKAGE.parent)}).stdout.splitlines()
    assert out[0] == "[]"
    assert len(eval(out[1])) == 10  # noqa: S307 (our own output)


def test_every_verb_has_a_docstring_with_an_example() -> None:
    from sim2real import api

    for name in api.__all__:
        doc = inspect.getdoc(getattr(api, name)) or ""
        assert ">>> " in doc and f"api.{name}(" in doc, name


def test_load_profile_by_name_or_path(tmp_path: Path) -> None:
    from sim2real import api
    from sim2real.errors import InputError
    from sim2real.paths import config_path

    by_name = api.load_profile("tabletop")
    assert by_name.hash == api.load_profile(config_path("profiles", "tabletop.toml")).hash
    with pytest.raises(InputError, match="nope.*tabletop"):
        api.load_profile("nope")


def test_randomize_gives_what_the_engine_gives_for_the_same_seed() -> None:
    """The verb path against the hand-written one (Randomizer + RandomizedSim): same records, same
    pixels; another seed differs."""
    from sim2real import api
    from sim2real.randomize.runtime import Randomizer
    from sim2real.sim.driver import RandomizedSim

    profile = api.load_profile("tabletop")

    def frames(seed: int, by_hand: bool) -> list:
        with api.make_backend("mujoco", scene="tabletop", resolution=(64, 48)) as backend:
            if by_hand:
                sim = RandomizedSim(backend, Randomizer(profile, seed=seed, entities=backend.entities(), dt=backend.dt))
                sim.start()
            else:
                sim = api.randomize(backend, profile, seed=seed)
            out = []
            for episode in range(2):
                sim.reset(episode)
                sim.step(20)
                f = sim.render("main")
                out.append((json.dumps(f.sample, sort_keys=True, default=str), f.rgb.tobytes()))
            return out

    assert frames(5, by_hand=False) == frames(5, by_hand=True)
    assert frames(6, by_hand=False) != frames(5, by_hand=False)


def test_randomize_refuses_a_profile_for_another_scene_in_one_line() -> None:
    from sim2real import api
    from sim2real.errors import ConfigError

    with api.make_backend("mujoco", scene="arm2") as backend, pytest.raises(ConfigError, match="tabletop.toml: terms"):
        api.randomize(backend, "tabletop")  # the tabletop's objects and materials are not arm2's


def test_generate_then_open_dataset_and_resume(tmp_path: Path) -> None:
    from sim2real import api

    out = tmp_path / "ds"
    first = api.generate("tabletop", 3, out, resolution=(64, 48), seed=2)
    assert (first["frames"], first["made"]) == (3, 3)
    ds = api.open_dataset(out)
    assert len(ds) == 3 and ds[0].rgb.shape == (48, 64, 3) and ds.labels[0] == "background"
    again = api.generate("tabletop", 3, out, resolution=(64, 48), seed=2)
    assert (again["made"], again["already_done"], again["dataset"]) == (0, 3, first["dataset"])


def _trajectory(path: Path, delay_s: float) -> Path:
    t = np.arange(0, 4, 0.01)
    rows = ["t,q"] + [f"{x:.4f},{np.sin(2 * np.pi * 0.5 * (x - delay_s)):.6f}" for x in t]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_measure_gap_of_trajectories_finds_the_delay(tmp_path: Path) -> None:
    from sim2real import api
    from sim2real.errors import UserError
    from sim2real.trajectory.readers import read_trajectory

    sim, real = _trajectory(tmp_path / "sim.csv", 0.0), _trajectory(tmp_path / "real.csv", 0.1)
    gap = api.measure_gap(sim, real)
    assert gap.delay_s == pytest.approx(0.1, abs=0.011)
    same = api.measure_gap(read_trajectory(sim), read_trajectory(sim))
    assert same.gap_score == 0.0 and gap.gap_score > 0
    with pytest.raises(UserError, match="kind: expected 'trajectories' or 'images'"):
        api.measure_gap(sim, real, kind="poses")


def test_measure_gap_of_image_sets_tells_a_shifted_look_apart(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent / "train"))
    from sim2real import api
    from train_helpers import make_dataset

    sim = make_dataset(tmp_path / "sim", 12)
    real = make_dataset(tmp_path / "real", 12, seed=1, real=True)
    other_sim = make_dataset(tmp_path / "sim2", 12, seed=2)
    far = api.measure_gap(sim, real, kind="images", size=32, pair="none", kid_subset_size=8, permutations=50)
    near = api.measure_gap(sim, other_sim, kind="images", size=32, pair="none", kid_subset_size=8, permutations=50)
    assert far.stats["colour"]["mean_abs_diff"] > 5 * near.stats["colour"]["mean_abs_diff"]
    assert far.mmd["p_value"] < 0.05
