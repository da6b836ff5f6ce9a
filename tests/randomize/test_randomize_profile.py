"""Loading, checking, hashing, editing and saving profiles; each mistake is one line: file, term, key."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest
from randomize_helpers import ENTITIES, TEXTURES, profile, randomizer, uniform

from sim2real.errors import ConfigError, UnsupportedError
from sim2real.randomize.entities import check_capabilities, placeholder_entities
from sim2real.randomize.profile import load_profile, parse_profile, save_profile
from sim2real.randomize.sample import Capabilities

GOOD = """
name = "t"
[[terms]]
name = "fric"
target = "geom:*/friction"
dist = "uniform"
low = 0.5
high = 1.5
"""


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "p.toml"
    path.write_text(text)
    return load_profile(path)


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        (
            "hihg = 2.0",
            "terms[0] 'fric'.hihg",
            "expected a known key; 'hihg' is not one (allowed: dist, every,",
        ),
        ("low = 2.0\nhigh = 1.0", "terms[0] 'fric'.low", "expected low <= high (got 'low=2.0, high=1.0')"),
        ("low = -0.5", "terms[0] 'fric'.low", "expected values >= 0 for geom/friction with op = 'scale'"),
        ("low = nan", "terms[0] 'fric'.low", "expected a finite number"),
        ("high = inf", "terms[0] 'fric'.high", "expected a finite number"),
        ("low = true", "terms[0] 'fric'.low", "expected a number"),
        ('low = "0.5"', "terms[0] 'fric'.low", "expected a number"),
        ("low = 1e300", "terms[0] 'fric'.low", "expected a number of magnitude at most 1e+15"),
        ('target = "surface:*/friction"', "terms[0] 'fric'.target", "expected a target kind among light,"),
        (
            'target = "geom:*/frictoin"',
            "terms[0] 'fric'.target",
            "expected an attribute of geom among friction,",
        ),
        (
            "mean = 1.0",
            "terms[0] 'fric'.mean",
            "expected no 'mean' with dist = 'uniform' (it takes low, high)",
        ),
        ('dist = "gauss"', "terms[0] 'fric'.dist", "expected 'uniform', 'loguniform'"),
        ('op = "multiply"', "terms[0] 'fric'.op", "expected 'set', 'scale' or 'add'"),
        ('when = "interval"', "terms[0] 'fric'.every", "expected the number of physics steps between draws"),
        ("every = 5", "terms[0] 'fric'.every", "expected no 'every' unless when = 'interval'"),
    ],
)
def test_each_mistake_is_one_line_naming_file_term_and_key(
    tmp_path: Path, change: str, key: str, expected: str
) -> None:
    lines = [
        ln
        for ln in GOOD.splitlines()
        if ln.split(" = ")[0] not in {c.split(" = ")[0] for c in change.splitlines()}
    ]
    text = "\n".join(lines) + "\n" + change + "\n"
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{tmp_path / 'p.toml'}: {key}: "), msg
    assert expected in msg, msg


def test_negative_mass_and_normal_scales_are_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"terms\[0\] 'body:\*/mass'\.low: expected values >= 0 for body/mass"
    ):
        profile(uniform("body:*/mass", -1.0, 2.0, op="set"))
    with pytest.raises(ConfigError, match=r"\.dist: expected values >= 0 .* \(use truncnormal, loguniform"):
        profile({"target": "body:*/mass", "dist": "normal", "mean": 1.0, "std": 0.1})
    # an additive offset may be negative: the default it is added to is what stays positive
    profile(uniform("body:*/mass", -0.1, 0.1, op="add"))


def test_value_types_follow_the_attribute() -> None:
    with pytest.raises(ConfigError, match=r"\.low: expected a number or a list of 3 numbers for light/color"):
        profile(uniform("light:*/color", [0, 0], [1, 1]))
    with pytest.raises(ConfigError, match=r"\.low: expected a single number for light/intensity"):
        profile(uniform("light:*/intensity", [0, 0], [1, 1]))
    with pytest.raises(ConfigError, match=r"\.dist: expected one of choice, constant for light/enabled"):
        profile(uniform("light:*/enabled", 0, 1))
    with pytest.raises(ConfigError, match=r"\.values\[1\]: expected a boolean for light/enabled"):
        profile({"target": "light:*/enabled", "dist": "choice", "values": [True, "no"]})
    with pytest.raises(ConfigError, match=r"\.low: expected an integer for actuator/latency"):
        profile(uniform("actuator:*/latency", 0.5, 2))
    with pytest.raises(ConfigError, match=r"\.op: expected op = 'set' for object/asset"):
        profile({"target": "object:*/asset", "dist": "choice", "values": ["a"], "op": "scale"})
    with pytest.raises(ConfigError, match=r"\.weights: expected one weight per value \(2\)"):
        profile({"target": "object:*/asset", "dist": "choice", "values": ["a", "b"], "weights": [1]})
    with pytest.raises(ConfigError, match=r"terms\[1\] 'light:\*/intensity'\.name: expected a unique name"):
        profile(uniform("light:*/intensity"), uniform("light:*/intensity", when="frame"))


def test_texture_folder_must_exist_and_hold_images(tmp_path: Path) -> None:
    def tex(folder: str) -> dict:
        return {"name": "tex", "target": "material:*/texture", "dist": "choice", "folder": folder}

    with pytest.raises(
        ConfigError,
        match=r"terms\[0\] 'tex'\.folder: expected an existing folder of images "
        r"\(looked in .*missing\) \(got 'missing'\)",
    ):
        profile(tex("missing"), base_dir=tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    with pytest.raises(ConfigError, match=r"\.folder: expected a folder holding images"):
        profile(tex("empty"), base_dir=tmp_path)
    p = profile(tex(str(TEXTURES)))
    values = randomizer(p, n_envs=200).reset(0).values["material:table_top/texture"]
    assert {Path(v).name for v in values} == {f.name for f in TEXTURES.glob("*.png")}
    assert all(Path(v).is_absolute() and Path(v).is_file() for v in values)
    with pytest.raises(ConfigError, match=r"\.folder: expected a folder only for material/texture"):
        profile({"target": "object:*/asset", "dist": "choice", "folder": str(TEXTURES)})


def test_syntax_errors_and_missing_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected valid TOML"):
        _load(tmp_path, "[[terms]\n")
    with pytest.raises(ConfigError, match="expected an existing TOML file"):
        load_profile(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"terms\[0\]\.target: expected this required key to be set"):
        _load(tmp_path, "[[terms]]\ndist = 'uniform'\n")


def test_hash_is_content_based() -> None:
    a = profile(uniform("light:*/intensity"))
    b = parse_profile(
        {
            "terms": [
                {"high": 1.5, "low": 0.5, "dist": "uniform", "target": "light:*/intensity", "when": "reset"}
            ]
        }
    )  # same content: other key order, a default spelled out
    c = profile(uniform("light:*/intensity", 0.5, 1.6))
    assert a.hash == b.hash != c.hash and len(a.hash) == 16
    assert a.targets() == {("light", "intensity")}


def test_save_and_load_round_trip_and_folders_follow(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    shutil.copytree(TEXTURES, tmp_path / "a" / "tex")
    src = tmp_path / "a" / "p.toml"
    src.write_text(
        GOOD + '[[terms]]\nname = "t"\ntarget = "material:*/texture"\ndist = "choice"\nfolder = "tex"\n'
    )
    p = load_profile(src)
    (tmp_path / "b" / "deeper").mkdir(parents=True)
    out = save_profile(p, tmp_path / "b" / "deeper" / "q.toml")
    assert tomllib.loads(out.read_text())["terms"][1]["folder"] == "../../a/tex"
    q = load_profile(out)
    assert q.hash == p.hash  # the hash holds the texture names, not where the folder lives
    assert q.to_dict()["terms"][0] == p.to_dict()["terms"][0]
    assert (
        randomizer(q).reset(0).values["material:floor/texture"].tolist()
        == randomizer(p).reset(0).values["material:floor/texture"].tolist()
    )


def test_editing_helpers_return_validated_profiles(tmp_path: Path) -> None:
    p = profile(
        uniform("joint:*/damping", 0.5, 1.5, name="damp"),
        {"name": "g", "target": "world:gravity", "dist": "normal", "mean": [0, 0, -9.81], "std": 0.1},
    )
    narrow = p.with_ranges({"damp": (0.9, 1.1)})
    assert narrow.term("damp").low == 0.9 and narrow.hash != p.hash
    half = p.narrowed(0.5)
    assert (half.term("damp").low, half.term("damp").high) == (0.75, 1.25) and half.term("g").std == 0.05
    added = p.with_term(
        {"name": "kp", "target": "actuator:*/kp", "dist": "uniform", "low": 0.95, "high": 1.05}
    )
    assert [t.id for t in added.terms] == ["damp", "g", "kp"]
    replaced = added.with_term(uniform("actuator:*/kp", 0.9, 1.1, name="kp"))
    assert replaced.term("kp").low == 0.9 and len(replaced.terms) == 3
    with pytest.raises(
        ConfigError, match=r"damp: expected low <= high|terms\[0\] 'damp'\.low: expected low <= high"
    ):
        p.with_ranges({"damp": (2.0, 1.0)})
    with pytest.raises(ConfigError, match="expected a uniform, loguniform or truncnormal term"):
        p.with_ranges({"g": (0, 1)})
    saved = load_profile(save_profile(replaced, tmp_path / "cal.toml"))
    assert saved.hash == replaced.hash


def test_capabilities_check_lists_what_a_backend_supports() -> None:
    p = profile(uniform("light:*/intensity"), uniform("geom:*/static_friction"))
    caps = Capabilities(targets=frozenset({("light", "intensity"), ("geom", "friction")}))
    with pytest.raises(
        UnsupportedError,
        match=r"cannot apply geom:\*/static_friction; it supports: "
        r"geom/friction, light/intensity",
    ):
        check_capabilities(p, caps, "mujoco")
    check_capabilities(profile(uniform("light:*/intensity")), caps, "mujoco")


def test_placeholder_entities_stand_in_for_a_scene() -> None:
    p = profile(
        uniform("light:key/intensity"),
        uniform("object:obj_*/scale"),
        uniform("geom:[tf]*/friction"),
        {"target": "world:gravity", "dist": "constant", "value": [0, 0, -9.8]},
    )
    ents = placeholder_entities(p)
    assert ents == {"light": ["key"], "object": ["obj_any"], "geom": ["tany"], "world": ["world"]}
    assert set(randomizer(p, entities=ents).reset(0).values) == {
        "light:key/intensity",
        "object:obj_any/scale",
        "geom:tany/friction",
        "world:world/gravity",
    }
    assert ENTITIES  # the shared entity list is untouched by placeholders


def test_calibrated_profiles_centre_on_identified_values(tmp_path: Path) -> None:
    p = profile(
        uniform("joint:*/damping", 0.5, 2.0, name="damp"), uniform("actuator:*/kp", 0.8, 1.2, name="kp")
    )
    cal = p.calibrated(
        {
            "joint:elbow/damping": (0.12, 0.1, 0.14),
            "kp": (1.05, 1.0, 1.1),
            "world:gravity": ([0, 0, -9.79], [0, 0, -9.79], [0, 0, -9.79]),
        }
    )
    names = [t.id for t in cal.terms]
    assert names == ["damp", "kp", "calibrated joint:elbow/damping", "calibrated world:gravity"]
    assert (
        cal.term("kp").dist == "truncnormal"
        and cal.term("kp").op_for(cal.checked.targets["kp"].attribute) == "scale"
    )
    assert cal.term("calibrated world:gravity").dist == "constant"
    r = randomizer(cal, n_envs=2000)
    v = r.reset(0).values
    elbow = v["joint:elbow/damping"]
    assert r.reset(0).ops["joint:elbow/damping"] == "set" and np.all((elbow >= 0.1) & (elbow <= 0.14))
    assert abs(elbow.mean() - 0.12) < 0.002
    assert v["joint:shoulder/damping"].min() < 0.6  # the broad term still randomizes the other joint
    assert load_profile(save_profile(cal, tmp_path / "cal.toml")).hash == cal.hash
    with pytest.raises(ConfigError, match=r"kp: expected low <= nominal <= high"):
        p.calibrated({"kp": (2.0, 1.0, 1.1)})


def test_calibrated_whole_number_attributes_get_whole_ranges() -> None:
    cal = profile().calibrated({"actuator:shoulder/latency": (6.2, 5.4, 7.1), "actuator:elbow/latency": (3, 3, 3)})
    shoulder, elbow = cal.term("calibrated actuator:shoulder/latency"), cal.term("calibrated actuator:elbow/latency")
    assert (shoulder.dist, shoulder.low, shoulder.high) == ("uniform", 5, 8)
    assert (elbow.dist, elbow.value) == ("constant", 3)
    drawn = randomizer(cal, n_envs=500).reset(0).values["actuator:shoulder/latency"]
    assert set(np.unique(drawn)) == {5, 6, 7, 8}
