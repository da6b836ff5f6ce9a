"""The profile editor: validation errors beside the field, categories, save/load round trip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from testlib import REPO
from sim2real.app.stage_views import RandomizePreview
from sim2real.app.profile_editor import CATEGORIES, ProfileEditor, parse_value
from sim2real.errors import UserError
from sim2real.randomize.profile import load_profile

TABLETOP = REPO / "config" / "profiles" / "tabletop.toml"


@pytest.fixture
def editor() -> ProfileEditor:
    e = ProfileEditor()
    assert e.load(TABLETOP)
    return e


def test_range_errors_are_filed_under_the_term_and_field(editor: ProfileEditor) -> None:
    seen = []
    editor.subscribe(lambda m: seen.append(m.revision))
    assert not editor.set_range("fill_rim_intensity", 2.0, 1.0)
    assert editor.errors == {"fill_rim_intensity": {"low": "expected low <= high (got 'low=2.0, high=1.0')"}}
    row = next(r for r in editor.rows() if r["id"] == "fill_rim_intensity")
    assert row["fields"]["low"] == 2.0 and row["errors"] == {"low": "expected low <= high (got 'low=2.0, high=1.0')"}
    assert editor.profile.term("fill_rim_intensity").low == 0.4  # the last valid profile is kept
    with pytest.raises(UserError, match=r"^fill_rim_intensity\.low: expected low <= high"):
        editor.require()
    assert editor.set_text("fill_rim_intensity", "high", "2.5")
    assert editor.errors == {} and editor.profile.term("fill_rim_intensity").high == 2.5
    row = next(r for r in editor.rows() if r["id"] == "fill_rim_intensity")
    assert row["range"] and row["slider"] == [0.0, 5.0]  # intensity cannot be negative
    assert seen == sorted(seen) and len(seen) == 2


def test_type_and_meaning_errors_use_the_profile_validation(editor: ProfileEditor) -> None:
    assert not editor.set_text("key_temperature", "low", "-5")  # meaning (validate.py)
    assert list(editor.errors) == ["key_temperature"] and "values >= 0" in editor.errors["key_temperature"]["low"]
    assert not editor.set_text("key_temperature", "low", '"warm"')  # type (schema.py)
    assert editor.errors == {"key_temperature": {"low": "expected a number (got 'warm')"}}
    assert editor.set_field("key_temperature", "low", 2500.0)
    assert not editor.set_field("key_temperature", "target", "light:key/brightness")
    assert "expected an attribute of light" in editor.errors["key_temperature"]["target"]
    assert editor.set_field("key_temperature", "target", "light:key/temperature")
    assert editor.set_fields("key_temperature", {"dist": "truncnormal", "mean": 5000.0, "std": 300.0})
    assert editor.profile.term("key_temperature").low == 2500.0  # truncnormal keeps the range
    assert editor.set_fields("key_temperature", {"dist": "constant", "value": 4000.0})
    assert editor.profile.term("key_temperature").low is None  # keys of other distributions went


def test_categories_leave_terms_groups_and_adr_out(editor: ProfileEditor, tmp_path: Path) -> None:
    n_all = len(editor.profile.terms)
    assert editor.set_category("lighting", False)
    assert all(editor.profile.checked.targets[t.id].attribute.category != "lighting" for t in editor.profile.terms)
    assert len(editor.profile.terms) < n_all
    for category in CATEGORIES:
        editor.set_category(category, False)
    assert editor.profile is not None and editor.profile.terms == [] and editor.profile.groups == []
    assert editor.profile.adr is None  # its parameters' terms are gone
    snap = editor.snapshot()
    assert not any(snap["categories"].values()) and all(not r["enabled"] for r in snap["terms"])
    json.dumps(snap, allow_nan=False)
    for category in CATEGORIES:
        editor.set_category(category, True)
    assert len(editor.profile.terms) == n_all


def test_save_writes_the_enabled_profile_and_reopens_it(editor: ProfileEditor, tmp_path: Path) -> None:
    editor.set_range("fill_rim_intensity", 0.5, 1.5)
    editor.set_category("physics", False)
    out = tmp_path / "sub" / "edited.toml"
    out.parent.mkdir()
    assert editor.save(out) == out and editor.path == out and not editor.dirty
    saved = load_profile(out)  # relative texture folders were rebased: it loads from its new place
    assert saved.term("fill_rim_intensity").low == 0.5
    assert saved.hash == editor.profile.hash
    assert not any(a == "physics" for a in {saved.checked.targets[t.id].attribute.category for t in saved.terms})


def test_an_invalid_file_opens_with_its_error_and_a_broken_one_does_not(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 1\n[[terms]]\nname = "a"\ntarget = "light:*/intensity"\ndist = "uniform"\n'
                   'low = 1.0\nhigh = 0.5\n')
    e = ProfileEditor()
    assert not e.load(bad)
    assert e.doc is not None and e.errors == {"a": {"low": "expected low <= high (got 'low=1.0, high=0.5')"}}
    assert e.set_field("a", "high", 2.0) and e.save() == bad and load_profile(bad).term("a").high == 2.0
    broken = tmp_path / "broken.toml"
    broken.write_text("version = = 1\n")
    assert not e.load(broken)
    assert list(e.errors) == [""] and "valid TOML" in e.errors[""][""]
    assert e.path == bad  # the open profile stays open


def test_parse_value() -> None:
    assert parse_value("0.5") == 0.5 and parse_value("[1, 2.5]") == [1, 2.5] and parse_value("true") is True
    assert parse_value("light:*/intensity") == "light:*/intensity" and parse_value("  ") is None


def test_preview_draws_new_episodes_of_the_valid_profile(editor: ProfileEditor) -> None:
    preview = RandomizePreview(editor)
    preview.set_seed(7)
    assert preview.next()[1:] == (7, 0) and preview.next()[1:] == (7, 1)
    preview.applied({"light:key/intensity": 1.2})
    editor.set_range("fill_rim_intensity", 3.0, 1.0)
    with pytest.raises(UserError):
        preview.next()
    snap = preview.snapshot()
    assert snap["episode"] == 1 and snap["error"].startswith("fill_rim_intensity.low")
    with pytest.raises(UserError):
        preview.set_seed(-1)


def test_texture_folders_follow_the_file(tmp_path: Path) -> None:
    copy = tmp_path / "p.toml"
    shutil.copy(TABLETOP, copy)
    e = ProfileEditor()
    assert not e.load(copy)  # ../../data/textures does not exist from here
    assert "textures" in e.errors and "folder" in e.errors["textures"]
