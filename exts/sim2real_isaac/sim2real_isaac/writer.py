"""``Sim2RealWriter``: a Replicator writer that hands each captured frame to sim2real's dataset writers.

    writer = rep.WriterRegistry.get("Sim2RealWriter")
    writer.initialize(output_dir="/data/tabletop", frames=1000, randomizer=randomizer, layout="native")
    writer.attach(rep.create.render_product(camera_path, (640, 480), name="main"))
    for index in writer.pending():            # frames the dataset still misses (resume)
        writer.capture(index, rt_subframes=8)  # randomizer.prepare(index), orchestrator.step, captured(index)
    rep.orchestrator.wait_until_complete()
    writer.on_final_frame()                   # commits, writes the manifest (and COCO with coco=True)

Calling ``rep.orchestrator.step`` yourself: ``writer.captured(index)`` right after it returns. Each frame
carries the record of the frame captured at its reference time, not the randomizer's current one
(``sim2real.backends.isaac.capture``): with ``delta_time=0.0`` wait for every frame
(``orchestrator.wait_until_complete``) and ``retire(index)`` it before the next.

It attaches rgb, distance_to_image_plane, semantic and instance segmentation, tight 2D boxes and camera
parameters (``sim2real.backends.isaac.annotators.ANNOTATORS``), names each render product after the
stage camera it shows (refusing one that shows none), converts its outputs to a ``Frame``
(``IsaacBackend.make_frame``) and commits it through ``DatasetWriter`` (native or BasicWriter layout:
checksums, resume, one writer per directory). ``sink=`` hands frames to a function instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import omni.replicator.core as rep
import omni.timeline
import omni.usd
from omni.replicator.core import AnnotatorRegistry, Writer

import sim2real
from sim2real.backends.isaac.annotators import ANNOTATORS, by_render_product
from sim2real.backends.isaac.capture import FrameRecords, PendingFrames, camera_of, frame_time, reference_time
from sim2real.dataset.encode import Outputs
from sim2real.dataset.writer import DatasetWriter
from sim2real.errors import UserError
from sim2real.generate.request import GenerateRequest, resolve
from sim2real.sim.rendered_frame import Frame
from sim2real.usd.cameras import render_product_camera

from . import services

log = logging.getLogger(__name__)
ON_FRAME = "omni.replicator.core.OgnOnFrame"  # Writer.attach's default trigger


class Sim2RealWriter(Writer):
    def __init__(self, output_dir: str | None = None, frames: int | None = None, randomizer: Any = None,
                 camera: str | None = None, layout: str = "native", depth_npy: bool = False, coco: bool = False,
                 sink: Callable[[Frame], None] | None = None) -> None:
        self.version = sim2real.__version__
        self.data_structure = "annotator"
        self.annotators = [AnnotatorRegistry.get_annotator(name, init_params=params) if params
                           else AnnotatorRegistry.get_annotator(name) for name, params in ANNOTATORS]
        attached = [s for s in services.attached() if s.backend is not None]
        self.randomizer = randomizer or (attached[-1] if attached else None)
        if self.randomizer is None:
            raise UserError("Sim2RealWriter: attach a Sim2RealRandomizer first (or pass randomizer=)")
        self.camera = camera
        self.coco = coco
        self.records = FrameRecords()
        self._clock: Any = None  # the simulation manager interface, acquired on the first capture
        self._cameras: dict[str, tuple[str, int]] = {}  # render product (path and name) -> (camera, env)
        self._dataset: DatasetWriter | None = None
        self._pending = PendingFrames([])
        if sink is not None:
            self._sink = sink
        elif output_dir is not None:
            if not frames:
                raise UserError("Sim2RealWriter: frames= (how many frames the dataset holds) is required "
                                "with output_dir")
            self._dataset = self._open(Path(output_dir), frames, Outputs(layout=layout, depth_npy=depth_npy))
            self._pending = PendingFrames(self._dataset.missing())
            self._sink = self._commit
        else:
            raise UserError("Sim2RealWriter: give output_dir= (a dataset) or sink= (a function taking Frames)")

    def _open(self, out: Path, frames: int, outputs: Outputs) -> DatasetWriter:
        """The dataset this writer fills: the same spec, manifest and resume as `sim2real generate`."""
        stage_file = omni.usd.get_context().get_stage().GetRootLayer().realPath
        if not stage_file:
            raise UserError("Sim2RealWriter: save the stage to a file first (the dataset records its checksum)")
        r = self.randomizer
        if r.profile.source is None:
            raise UserError("Sim2RealWriter: the randomizer's profile must come from a file (the dataset records it)")
        request = GenerateRequest(profile=str(r.profile.source), frames=frames, out=out, scene=stage_file,
                                  seed=r.seed, resolution=tuple(r.resolution), camera=self.camera or "main",
                                  backend="isaac", outputs=outputs)
        resolved = resolve(request)
        return DatasetWriter(out, resolved.spec, frames, resolved.versions,
                             runtime={"executor": "Sim2RealWriter"}).open()

    def attach(self, render_products: Any, trigger: Any = ON_FRAME) -> None:
        """Attach to render products (``HydraTexture``s or prim paths), each named after the stage camera it
        shows."""
        products = render_products if isinstance(render_products, (list, tuple)) else [render_products]
        stage, cameras = omni.usd.get_context().get_stage(), self.randomizer.backend.camera_paths()
        for product in products:
            path = str(getattr(product, "path", product))
            named = camera_of(render_product_camera(stage, path), cameras, path)
            self._cameras[path] = self._cameras[path.rsplit("/", 1)[-1]] = named
        super().attach(render_products, trigger=trigger)

    def pending(self) -> list[int]:
        """The frame indices the dataset still misses, in order."""
        return list(self._pending)

    # ------------------------------------------------------------------ capturing
    def captured(self, index: int) -> None:
        """Frame ``index`` was just captured (``rep.orchestrator.step`` returned): its records are taken now."""
        envs = sorted({env for _, env in self._cameras.values()}) or [0]
        state = {env: self.randomizer.backend.frame_state(env) for env in envs}
        self._emit(self.records.captured(index, self._frame_time(), state))

    def _frame_time(self) -> Any:
        """The Fabric frame time now: the clock of ``data["reference_time"]`` (``capture.frame_time``)."""
        if self._clock is None:
            from isaacsim.core.simulation_manager import _simulation_manager

            self._clock = _simulation_manager.acquire_simulation_manager_interface()
        return frame_time(self._clock.get_current_time(), omni.timeline.get_timeline_interface().get_current_time())

    def capture(self, index: int, **step: Any) -> None:
        """Prepare frame ``index`` (reset + frame terms), render it (``rep.orchestrator.step(**step)``), register it."""
        self.randomizer.prepare(index)
        rep.orchestrator.step(**step)
        self.captured(index)

    async def capture_async(self, index: int, **step: Any) -> None:
        self.randomizer.prepare(index)
        await rep.orchestrator.step_async(**step)
        self.captured(index)

    def retire(self, index: int) -> None:
        """Frame ``index`` was delivered and nothing more will come for it (see ``FrameRecords.retire``)."""
        self.records.retire(index)

    def write(self, data: dict) -> None:
        self._emit(self.records.delivered(reference_time(data), data))

    def _emit(self, pairs: list[tuple[Any, dict]]) -> None:
        for capture, data in pairs:
            for render_product, annotators in by_render_product(data).items():
                if render_product not in self._cameras:
                    raise UserError(f"Sim2RealWriter: data for render product {render_product}, which was not "
                                    "attached through Sim2RealWriter.attach")
                camera, env = self._cameras[render_product]
                if self._dataset is not None and camera != (self.camera or camera):
                    continue  # a dataset holds one camera's frames
                self._sink(self.randomizer.backend.make_frame(annotators, camera=camera, index=capture.index,
                                                              env=env, state=capture.state[env]))

    def _commit(self, frame: Frame) -> None:
        assert self._dataset is not None
        if self._pending.take(frame.index):
            self._dataset.write(frame.index, frame)

    def on_final_frame(self) -> None:
        self.records.finish()
        if self._dataset is not None:
            self._dataset.close()
            if self.coco:
                from sim2real.dataset.coco import export_coco

                export_coco(self._dataset.directory)
            self._dataset = None
        super().on_final_frame()
