"""What the generation loop does to keep its render thread rendering changes no byte of a dataset:
image effects deferred to the writer threads, the texture library switched instead of copied."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim2real.dataset.encode import Outputs, encode_frame
from sim2real.generate.loop import FrameSource
from sim2real.generate.request import GenerateRequest, resolve
from sim2real.sim.frame import Frame

RESOLUTION = (96, 72)
INDICES = range(6)
OUTPUTS = Outputs()  # what a request writes by default


def _source(tmp_path: Path) -> FrameSource:
    resolved = resolve(GenerateRequest(profile="tabletop", frames=len(INDICES), out=tmp_path / "unused",
                                       resolution=RESOLUTION, seed=5))
    return FrameSource(resolved.spec, resolved.profile_path, resolved.scene_path)


def _files(frame: Frame, index: int) -> dict[str, bytes]:
    encoded = encode_frame(frame, index, OUTPUTS)
    return {f.name: f.data for f in encoded.files} | {"record": repr(encoded.record).encode()}


@pytest.fixture(scope="module")
def immediate(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, bytes]]:
    """Every frame with its effects applied inside ``render``, as a backend does by default."""
    source = _source(tmp_path_factory.mktemp("immediate"))
    source.backend.defer_effects = False
    try:
        return {i: _files(source.render(i), i) for i in INDICES}
    finally:
        source.close()


def test_effects_deferred_to_the_writer_give_the_bytes_of_effects_applied_in_render(
        tmp_path: Path, immediate: dict[int, dict[str, bytes]]) -> None:
    source = _source(tmp_path)
    try:
        assert source.backend.defer_effects  # the generation loop asks for it
        frames = {i: source.render(i) for i in INDICES}
    finally:
        source.close()
    assert all(f.effects is not None for f in frames.values())  # the tabletop profile has effects on every frame
    clean = frames[0].rgb.copy()
    for i, frame in frames.items():
        assert _files(frame, i) == immediate[i], f"frame {i}"
    assert (frames[0].finished().rgb != clean).any()  # the effects did change the image
