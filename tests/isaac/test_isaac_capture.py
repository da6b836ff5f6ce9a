"""What Sim2RealWriter decides, without Kit (sim2real.backends.isaac.capture): each delivered frame takes
the record of the frame captured at its reference time, whether Replicator delivers during the step
(synchronous) or after the next frame was prepared (asynchronous); ambiguous and unmatched frames are
refused; resume and repeats; which camera a render product shows."""

from __future__ import annotations

from fractions import Fraction as F
from types import SimpleNamespace

import numpy as np
import pytest

from sim2real.backends.isaac.capture import (CaptureError, FrameRecords, FrameState, PendingFrames, camera_of,
                                             frame_time, reference_time)
from sim2real.errors import InputError, RenderError, UserError


def _state(i: int) -> FrameState:
    return FrameState((), {}, {"light:key/intensity": float(i)}, {}, 0)


def _indices(pairs: list) -> list[tuple[int, str]]:  # type: ignore[type-arg]
    return [(capture.index, payload) for capture, payload in pairs]


def test_asynchronous_deliveries_take_the_record_of_their_own_frame() -> None:
    """The timeline advances 1/60 s per step; frame 0 arrives only after frame 1 was captured."""
    records = FrameRecords()
    assert records.captured(0, F(1, 60), _state(0)) == []
    assert records.captured(1, F(2, 60), _state(1)) == []  # frame 0 still in flight: nothing to pair
    assert _indices(records.delivered(F(1, 60), "pixels 0")) == [(0, "pixels 0")]
    (capture, _), = records.delivered(F(2, 60), "pixels 1")
    assert capture.index == 1 and capture.state.record == {"light:key/intensity": 1.0}
    records.finish()


def test_a_delivery_during_the_step_waits_for_its_capture() -> None:
    records = FrameRecords()
    assert records.delivered(F(1, 2), "pixels 7") == []  # synchronous render: written before step() returned
    assert _indices(records.captured(7, F(1, 2), _state(7))) == [(7, "pixels 7")]
    assert _indices(records.delivered(F(1, 2), "again")) == [(7, "again")]  # a repeat: the sink drops it
    records.finish()


def test_a_stopped_timeline_needs_each_frame_delivered_and_retired() -> None:
    """delta_time=0.0: every frame at the same time. Waiting + retiring keeps records exact; not waiting is
    refused rather than guessed."""
    records = FrameRecords()
    for i in range(3):
        records.delivered(F(0), f"pixels {i}")  # rendered during frame i's step
        assert _indices(records.captured(i, F(0), _state(i))) == [(i, f"pixels {i}")]
        records.retire(i)
    records.captured(3, F(0), _state(3))
    with pytest.raises(UserError, match="frames 3 and 4 were both captured at 0 s before Replicator delivered "
                                        "frame 3.*wait_until_complete"):
        records.captured(4, F(0), _state(4))
    with pytest.raises(CaptureError, match="frame 3: retired before Replicator delivered it"):
        records.retire(3)


def test_unmatched_deliveries_and_undelivered_captures_are_refused() -> None:
    records = FrameRecords(max_waiting=2)
    records.delivered(F(1), "a")
    with pytest.raises(CaptureError, match=r"frames at 1 s that no capture matches \(captured: none\)"):
        records.finish()
    records.delivered(F(2), "b")
    with pytest.raises(CaptureError, match="delivered 3 frames that no capture matches .*capture on play off"):
        records.delivered(F(3), "c")
    lonely = FrameRecords()
    lonely.captured(5, F(1, 4), _state(5))
    with pytest.raises(CaptureError, match="frames 5 were captured but Replicator delivered no data"):
        lonely.finish()


def test_only_recent_delivered_captures_are_remembered() -> None:
    records = FrameRecords(max_kept=3)
    for i in range(10):
        records.captured(i, F(i, 60), _state(i))
        records.delivered(F(i, 60), i)
    assert records.delivered(F(9, 60), "late repeat")  # still known
    assert records.delivered(F(0), "very late") == []  # forgotten: it waits and is refused at the end


def test_frames_are_keyed_by_exact_rational_time() -> None:
    """Replicator compares reference times as reduced fractions: (2, 120) is the frame captured at 1/60 s,
    and two frame times a tenth of a microsecond apart are two frames (a rounded float key merged them)."""
    records = FrameRecords()
    records.captured(0, F(1, 60), _state(0))
    later = F(1, 60) + F(1, 10**7)
    records.captured(1, later, _state(1))
    (capture, _), = records.delivered(reference_time({"reference_time": (2, 120)}), "pixels 0")
    assert capture.index == 0
    unreduced = {"reference_time": (later.numerator * 3, later.denominator * 3)}
    (capture, _), = records.delivered(reference_time(unreduced), "pixels 1")
    assert capture.index == 1
    records.finish()


def test_reference_time_of_writer_data() -> None:
    assert reference_time({"reference_time": (3, 60)}) == F(1, 20)
    assert reference_time({"reference_time": (np.int64(5), np.uint64(300))}) == F(1, 60)  # OmniGraph's int64/uint64
    for bad in ({}, {"reference_time": (1, 0)}, {"reference_time": (-1, 60)}, {"reference_time": "now"},
                {"reference_time": 3}, {"reference_time": (1.5, 60)}, {"reference_time": (True, 60)}):
        with pytest.raises(InputError, match="expected reference_time = \\(numerator >= 0, denominator > 0\\)"):
            reference_time(bad)


def test_the_capture_clock_is_the_rational_frame_time() -> None:
    """The simulation manager's get_current_time() (a RationalTime: numerator, denominator) is the key; the
    timeline's float time only when it is kInvalidRationalTime, read back as the fraction it stands for."""
    rational = SimpleNamespace(numerator=7, denominator=60)
    assert frame_time(rational, 99.0) == F(7, 60)
    for invalid in (SimpleNamespace(numerator=-1, denominator=0), SimpleNamespace(numerator=0, denominator=0), None):
        assert frame_time(invalid, 60001 / 60) == F(60001, 60)
        assert frame_time(invalid, 0.0) == F(0)
        with pytest.raises(RenderError, match="the frame time is unavailable .*start the timeline"):
            frame_time(invalid, float("nan"))


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
