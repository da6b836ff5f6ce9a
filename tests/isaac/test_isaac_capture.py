"""What Sim2RealWriter decides, without Kit (sim2real.backends.isaac.capture): each delivered frame takes
the record of the frame captured at its reference time, whether Replicator delivers during the step
(synchronous) or after the next frame was prepared (asynchronous); ambiguous and unmatched frames are
refused; resume and repeats; which camera a render product shows."""

from __future__ import annotations

import pytest

from sim2real.backends.isaac.capture import (CaptureError, FrameRecords, FrameState, PendingFrames, camera_of,
                                             reference_seconds)
from sim2real.errors import InputError, UserError


def _state(i: int) -> FrameState:
    return FrameState((), {}, {"light:key/intensity": float(i)}, {}, 0)


def _indices(pairs: list) -> list[tuple[int, str]]:  # type: ignore[type-arg]
    return [(capture.index, payload) for capture, payload in pairs]


def test_asynchronous_deliveries_take_the_record_of_their_own_frame() -> None:
    """The timeline advances 1/60 s per step; frame 0 arrives only after frame 1 was captured."""
    records = FrameRecords()
    assert records.captured(0, 1 / 60, _state(0)) == []
    assert records.captured(1, 2 / 60, _state(1)) == []  # frame 0 still in flight: nothing to pair
    assert _indices(records.delivered(1 / 60, "pixels 0")) == [(0, "pixels 0")]
    (capture, _), = records.delivered(2 / 60, "pixels 1")
    assert capture.index == 1 and capture.state.record == {"light:key/intensity": 1.0}
    records.finish()


def test_a_delivery_during_the_step_waits_for_its_capture() -> None:
    records = FrameRecords()
    assert records.delivered(0.5, "pixels 7") == []  # synchronous render: written before step() returned
    assert _indices(records.captured(7, 0.5, _state(7))) == [(7, "pixels 7")]
    assert _indices(records.delivered(0.5, "again")) == [(7, "again")]  # a repeat: the sink drops it
    records.finish()


def test_a_stopped_timeline_needs_each_frame_delivered_and_retired() -> None:
    """delta_time=0.0: every frame at the same time. Waiting + retiring keeps records exact; not waiting is
    refused rather than guessed."""
    records = FrameRecords()
    for i in range(3):
        records.delivered(0.0, f"pixels {i}")  # rendered during frame i's step
        assert _indices(records.captured(i, 0.0, _state(i))) == [(i, f"pixels {i}")]
        records.retire(i)
    records.captured(3, 0.0, _state(3))
    with pytest.raises(UserError, match="frames 3 and 4 were both captured at 0 s before Replicator delivered "
                                        "frame 3.*wait_until_complete"):
        records.captured(4, 0.0, _state(4))
    with pytest.raises(CaptureError, match="frame 3: retired before Replicator delivered it"):
        records.retire(3)


def test_unmatched_deliveries_and_undelivered_captures_are_refused() -> None:
    records = FrameRecords(max_waiting=2)
    records.delivered(1.0, "a")
    with pytest.raises(CaptureError, match=r"frames at 1 s that no capture matches \(captured: none\)"):
        records.finish()
    records.delivered(2.0, "b")
    with pytest.raises(CaptureError, match="delivered 3 frames that no capture matches .*capture on play off"):
        records.delivered(3.0, "c")
    lonely = FrameRecords()
    lonely.captured(5, 0.25, _state(5))
    with pytest.raises(CaptureError, match="frames 5 were captured but Replicator delivered no data"):
        lonely.finish()


def test_only_recent_delivered_captures_are_remembered() -> None:
    records = FrameRecords(max_kept=3)
    for i in range(10):
        records.captured(i, i / 60, _state(i))
        records.delivered(i / 60, i)
    assert records.delivered(9 / 60, "late repeat")  # still known
    assert records.delivered(0.0, "very late") == []  # forgotten: it waits and is refused at the end


def test_reference_time_of_writer_data() -> None:
    assert reference_seconds({"reference_time": (3, 60)}) == pytest.approx(0.05)
    for bad in ({}, {"reference_time": (1, 0)}, {"reference_time": "now"}):
        with pytest.raises(InputError, match="expected reference_time = \\(numerator, denominator\\)"):
            reference_seconds(bad)


def test_resume_and_repeated_frames() -> None:
    pending = PendingFrames([2, 5, 6])
    assert list(pending) == [2, 5, 6] and len(pending) == 3
    assert pending.take(5) and not pending.take(5)  # delivered twice: written once
    assert not pending.take(0)  # the dataset holds it already
    assert list(pending) == [2, 6]


def test_a_render_product_is_named_after_its_camera_never_itself() -> None:
    cameras = {("main", 0): "/World/envs/env_0/cam", ("main", 1): "/World/envs/env_1/cam", ("side", 0): "/World/side"}
    assert camera_of("/World/envs/env_1/cam", cameras, "/Render/rp") == ("main", 1)
    with pytest.raises(UserError, match="render product /Render/main: shows /OmniverseKit_Persp, not a camera of "
                                        "the stage \\(known: main, side\\)"):
        camera_of("/OmniverseKit_Persp", cameras, "/Render/main")
    with pytest.raises(UserError, match="shows no camera"):
        camera_of(None, cameras, "/Render/main")
