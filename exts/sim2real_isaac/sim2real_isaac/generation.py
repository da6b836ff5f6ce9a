"""The frame source of the headless script (``tools/isaac/generate.py``): Isaac Sim renders frame ``i``
of a dataset; ``sim2real.generate.api.generate`` does everything else (resume, shards, manifest,
encoding threads), exactly as for the MuJoCo backend.

Frame ``i``: open the stage once; for each frame, ``Sim2RealWriter.capture(i)``: ``randomizer.prepare(i)``
(restore the stage, apply episode ``i``'s reset terms and frame ``i``'s terms, through ``sim2real.usd``),
``rep.orchestrator.step`` renders it, and the frame's records are taken; the writer turns the annotator
outputs into the Frame (``sink=``: handed back here, committed by the generation loop). The timeline stays
stopped (``delta_time=0.0``): frames show the randomized scene at rest, as the MuJoCo backend renders it
after a reset (no physics steps). Every frame has the same timeline time then, so each is waited for
(``wait_until_complete``) and retired before the next is prepared: its record is exactly its own.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import omni.replicator.core as rep
import omni.usd

from sim2real.backends.isaac.capture import CaptureError
from sim2real.errors import InputError, UserError
from sim2real.generate.api import generate
from sim2real.progress import Reporter
from sim2real.sim.rendered_frame import Frame

from .randomizer import Sim2RealRandomizer
from .writer import Sim2RealWriter

log = logging.getLogger(__name__)


class KitFrameSource:
    def __init__(self, resolved: Any, rt_subframes: int = 8) -> None:
        spec = resolved.spec
        context = omni.usd.get_context()
        if not context.open_stage(str(resolved.scene_path)):
            raise InputError(f"{resolved.scene_path}: Isaac Sim cannot open this stage")
        rep.orchestrator.set_capture_on_play(False)
        self.randomizer = Sim2RealRandomizer(resolved.profile_path, seed=spec.seed, resolution=spec.resolution)
        self.randomizer.attach(stage=context.get_stage(), physics=False)
        cameras = self.randomizer.backend.entities().get("camera", [])
        if spec.camera not in cameras:
            raise UserError(f"--camera: no camera named {spec.camera!r} in {resolved.scene_path.name}; "
                            f"known: {', '.join(cameras) or 'none'}")
        camera_path = str(self.randomizer.backend.scene.ctx.path("camera", spec.camera, 0))
        self.render_product = rep.create.render_product(camera_path, tuple(spec.resolution), name=spec.camera)
        self.frames: list[Frame] = []
        self.writer = Sim2RealWriter(randomizer=self.randomizer, camera=spec.camera, sink=self.frames.append)
        self.writer.attach([self.render_product])
        self.rt_subframes = rt_subframes

    def render(self, index: int) -> Frame:
        self.frames.clear()
        self.writer.capture(index, rt_subframes=self.rt_subframes, delta_time=0.0)
        rep.orchestrator.wait_until_complete()  # the frame is delivered before the next is prepared
        mine = [f for f in self.frames if f.index == index]
        if not mine:
            raise CaptureError(f"frame {index}: Replicator delivered no annotator data")
        self.writer.retire(index)
        return mine[0]

    def close(self) -> None:
        self.writer.detach()  # (render() checked each frame: nothing is left to match)
        self.render_product.destroy()
        self.randomizer.detach()


def run(args: argparse.Namespace, request: Any, reporter: Reporter) -> dict[str, Any]:
    """Generate ``request`` here, rendering with Isaac Sim."""
    return generate(request, reporter, source_factory=lambda resolved: KitFrameSource(resolved, args.rt_subframes))
