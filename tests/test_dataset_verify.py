"""``dataset verify`` sees everything (issue 22): a changed byte of ``manifest.json`` that still
parses, files and folders that are not part of the dataset (an error, or a warning with
``--allow-strays``), a ``run.json`` of another dataset; hostile names in a manifest or a shard index
are one-line refusals, never a path outside the dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_dataset_format import generate

from sim2real.dataset.manifest import load_manifest
from sim2real.dataset.reader import Dataset
from sim2real.dataset.verify import verify
from sim2real.errors import IntegrityError


def _problems(out: Path, **kw: str) -> list[tuple[str, str, str]]:
    return [(p.path, p.severity, p.message) for p in verify(out, **kw).problems]


def test_a_changed_byte_of_the_manifest_that_still_parses_is_caught(tmp_path: Path, run_cli) -> None:
    out = tmp_path / "ds"
    generate(out, 9)
    manifest = out / "manifest.json"
    original = manifest.read_bytes()
    label = original.index(b'"cube"')
    manifest.write_bytes(original[:label + 1] + b"t" + original[label + 2:])  # class "cube" -> "tube"
    assert json.loads(manifest.read_bytes())["labels"]["1"] == "tube"  # still a valid manifest
    assert _problems(out) == [("manifest.json", "error", "manifest_sha256 does not match the manifest's contents "
                                                         "(a value changed after it was written)")]
    with pytest.raises(IntegrityError, match="manifest.json: manifest_sha256 does not match"):
        Dataset(out)  # a reader refuses it too: it would train on a renamed class
    r = run_cli("dataset", "verify", str(out), "--progress", "none")
    assert r.returncode == 1 and "1 problem(s) found" in r.stderr

    renamed = original.replace(b'"manifest_sha256"', b'"manifest_sha257"')  # the key itself hit
    manifest.write_bytes(renamed)
    assert _problems(out)[0][2].startswith("unexpected key 'manifest_sha257'")
    legacy = json.loads(original)
    del legacy["manifest_sha256"]  # written before the key existed: accepted, and said so
    manifest.write_text(json.dumps(legacy))
    assert _problems(out) == [("manifest.json", "warning", "no manifest_sha256 (written before sim2real recorded "
                                                           "one): its values are not checked, only the files it lists")]
    assert len(Dataset(out)) == 9
    manifest.write_bytes(original[:40] + b"\xff" + original[41:])  # not even UTF-8
    assert _problems(out)[0][2].startswith(f"{manifest}: corrupt JSON")


def test_files_that_are_not_part_of_the_dataset_are_errors_unless_allowed(tmp_path: Path, run_cli) -> None:
    out = tmp_path / "ds"
    generate(out, 9)  # shards 00000..00002
    (out / "shards" / "00007").mkdir()
    (out / "shards" / "00007" / "000028.rgb.png").write_bytes(b"x")
    (out / "notes.txt").write_text("x")
    (out / "shards" / "00001" / "copy.png").write_bytes(b"x")
    (out / "coco").mkdir()
    (out / "coco" / "instances.json").write_text("{}")  # export-coco's product: expected
    (out / "runtime.jsonl").write_text("{}\n")
    (out / "shards" / "00002" / "000009.rgb.png").symlink_to(out / "notes.txt")
    expected = [
        ("shards/00001/copy.png", "error", "file not listed in the shard index"),
        ("shards/00002/000009.rgb.png", "error", "a symbolic link (a dataset holds none)"),
        ("notes.txt", "error", "not part of the dataset"),
        ("shards/00007", "error", "not a shard of this dataset (manifest.json lists 3)"),
    ]
    assert _problems(out) == expected
    r = run_cli("dataset", "verify", str(out), "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["ok"] is False and "4 problem(s) found" in r.stderr
    strays = [(path, "warning", what) for path, _, what in expected]
    strays[1] = expected[1]  # a link is never a stray: readers would follow it
    assert _problems(out, strays="warning") == strays
    (out / "shards" / "00002" / "000009.rgb.png").unlink()
    ok = run_cli("dataset", "verify", str(out), "--allow-strays", "--progress", "none")
    assert ok.returncode == 0, ok.stderr
    assert "warning notes.txt: not part of the dataset" in ok.stdout and "ok: 9 frames" in ok.stdout


def test_run_json_must_name_the_manifests_dataset(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate(out, 4)
    info = json.loads((out / "run.json").read_text())
    (out / "run.json").write_text(json.dumps({**info, "id": "dataset-000000000000"}))
    assert _problems(out) == [("run.json", "error", "id: do not match manifest.json's dataset")]
    (out / "run.json").unlink()
    assert _problems(out) == [("run.json", "error", "missing")]


def test_hostile_names_in_the_manifest_and_index_never_leave_the_dataset(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate(out, 4)
    manifest = out / "manifest.json"
    data = json.loads(manifest.read_text())
    data["shards"][0]["name"] = "../../elsewhere"
    data.pop("manifest_sha256", None)  # no checksum to catch it: the shard check must
    manifest.write_text(json.dumps(data))
    with pytest.raises(IntegrityError, match=r"manifest.json: shards\[0\]: expected name '00000'"):
        load_manifest(out)
    assert "shards[0]: expected name '00000'" in _problems(out)[0][2]
    generate(tmp_path / "ds2", 4)
    index = tmp_path / "ds2" / "shards" / "00000" / "index.json"
    frames = json.loads(index.read_text())
    first = next(iter(frames["frames"].values()))
    first["files"] = {"../../../manifest.json": "0" * 64}
    index.write_text(json.dumps(frames))
    problems = _problems(tmp_path / "ds2")
    assert ("shards/00000/index.json", "error", "corrupt (frame 0: '../../../manifest.json' is not a file name of "
                                               "the shard folder)") in problems
    first["files"] = ["not", "a", "mapping"]
    index.write_text(json.dumps(frames))
    assert ("shards/00000/index.json", "error", "corrupt ('list' object has no attribute 'values')") in \
        _problems(tmp_path / "ds2")  # one line, not a traceback
