"""What the generation loop does to keep its render thread rendering changes no byte of a dataset:
image effects deferred to the writer threads, the texture library switched instead of copied, the
scene compiled once for the worker processes. The
reference is the plain path: effects applied inside ``render``, images copied into the materials'
own textures and uploaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim2real.backends.mujoco.textures import RGB_ROLE
from sim2real.dataset.encode import Outputs, encode_frame
from sim2real.generate.loop import FrameSource, prepare_scene, rasterizer_threads
from sim2real.generate.request import GenerateRequest, resolve
from sim2real.randomize.profile import Profile
from sim2real.sim.rendered_frame import Frame

RESOLUTION = (96, 72)
INDICES = range(6)
OUTPUTS = Outputs()  # what a request writes by default


def _source(tmp_path: Path, *, defer: bool, library: bool) -> FrameSource:
    resolved = resolve(GenerateRequest(profile="tabletop", frames=len(INDICES), out=tmp_path / "unused",
                                       resolution=RESOLUTION, seed=5))
    with pytest.MonkeyPatch.context() as mp:
        if not library:
            mp.setattr(Profile, "texture_files", lambda self: [])
        source = FrameSource(resolved.spec, resolved.profile_path, resolved.scene_path)
    source.backend.defer_effects = defer
    return source


def _files(frame: Frame, index: int) -> dict[str, bytes]:
    encoded = encode_frame(frame, index, OUTPUTS)
    return {f.name: f.data for f in encoded.files} | {"record": repr(encoded.record).encode()}


def _render(source: FrameSource) -> dict[int, Frame]:
    try:
        return {i: source.render(i) for i in INDICES}
    finally:
        source.close()


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, bytes]]:
    source = _source(tmp_path_factory.mktemp("plain"), defer=False, library=False)
    assert not source.backend.scene.texture_library
    return {i: _files(f, i) for i, f in _render(source).items()}


def test_effects_deferred_to_the_writer_give_the_bytes_of_effects_applied_in_render(
        tmp_path: Path, plain: dict[int, dict[str, bytes]]) -> None:
    frames = _render(_source(tmp_path, defer=True, library=False))
    assert all(f.effects is not None for f in frames.values())  # the tabletop profile has effects on every frame
    assert (frames[0].finished().rgb != frames[0].rgb).any()  # and they change the image
    for i, frame in frames.items():
        assert _files(frame, i) == plain[i], f"frame {i}"


def test_textures_switched_from_the_library_give_the_bytes_of_textures_copied_and_uploaded(
        tmp_path: Path, plain: dict[int, dict[str, bytes]]) -> None:
    source = _source(tmp_path, defer=False, library=True)
    library = set(source.backend.scene.texture_library.values())
    model = source.backend.model
    shown = []
    try:
        for i in INDICES:
            files = _files(source.render(i), i)
            shown.append({int(t) for t in model.mat_texid[:, RGB_ROLE]} & library)
            assert files == plain[i], f"frame {i}"
    finally:
        source.close()
    assert len(library) == 16  # the profile's 8 images, at the tabletop's two texture sizes
    assert all(len(s) >= 4 for s in shown)  # every frame showed library textures


def test_the_generation_loop_asks_for_both(tmp_path: Path) -> None:
    resolved = resolve(GenerateRequest(profile="tabletop", frames=1, out=tmp_path / "unused", resolution=RESOLUTION))
    source = FrameSource(resolved.spec, resolved.profile_path, resolved.scene_path)
    try:
        assert source.backend.defer_effects
        assert len(source.backend.scene.texture_library) == 16
    finally:
        source.close()


def test_a_scene_compiled_once_and_pickled_for_workers_gives_the_bytes_of_the_file(
        tmp_path: Path, plain: dict[int, dict[str, bytes]]) -> None:
    import pickle

    resolved = resolve(GenerateRequest(profile="tabletop", frames=len(INDICES), out=tmp_path / "unused",
                                       resolution=RESOLUTION, seed=5))
    prepared = prepare_scene(resolved.spec, resolved.profile_path, resolved.scene_path)
    shipped = pickle.loads(pickle.dumps(prepared))  # what a spawned worker receives
    assert shipped.spec is None and len(shipped.texture_library) == 16
    source = FrameSource(resolved.spec, resolved.profile_path, resolved.scene_path, prepared=shipped)
    source.backend.defer_effects = False
    for i, frame in _render(source).items():
        assert _files(frame, i) == plain[i], f"frame {i}"
    assert shipped.model.geom_group.max() < 5  # the backend edited its own copy, not the shipped compilation


def test_one_worker_and_n_workers_give_the_rasterizer_every_core(monkeypatch) -> None:
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert [rasterizer_threads(n) for n in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
