"""``Sim2RealWriter``: a Replicator writer that hands each captured frame to sim2real's dataset writers.

    writer = rep.WriterRegistry.get("Sim2RealWriter")
    writer.initialize(output_dir="/data/tabletop", frames=1000, randomizer=randomizer, layout="native")
    writer.attach(rep.create.render_product(camera_path, (640, 480), name="main"))
    for index in writer.pending():            # frames the dataset still misses (resume)
        randomizer.prepare(index)             # reset + frame terms of that frame
        rep.orchestrator.step(rt_subframes=8)
    rep.orchestrator.wait_until_complete()
    writer.on_final_frame()                   # commits, writes the manifest (and COCO with coco=True)

It attaches rgb, distance_to_image_plane, semantic and instance segmentation, tight 2D boxes and camera
parameters (``sim2real.backends.isaac.annotators.ANNOTATORS``), converts each render product's outputs to a
``Frame`` with that frame's randomization record (``IsaacBackend.make_frame``) and commits it through
``DatasetWriter`` (native or BasicWriter layout: checksums, resume, one writer per directory).
``sink=`` hands frames to a function instead (the headless script's frame source does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import omni.usd
from omni.replicator.core import AnnotatorRegistry, Writer

import sim2real
from sim2real.dataset.encode import Outputs
from sim2real.dataset.writer import DatasetWriter
from sim2real.errors import UserError
from sim2real.generate.request import GenerateRequest, resolve
from sim2real.backends.isaac.annotators import ANNOTATORS, by_render_product
from sim2real.sim.rendered_frame import Frame

from . import services

log = logging.getLogger(__name__)


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
        self._dataset: DatasetWriter | None = None
        self._pending: list[int] = []
        if sink is not None:
            self._sink = sink
        elif output_dir is not None:
            if not frames:
                raise UserError("Sim2RealWriter: frames= (how many frames the dataset holds) is required "
                                "with output_dir")
            self._dataset = self._open(Path(output_dir), frames, Outputs(layout=layout, depth_npy=depth_npy))
            self._pending = self._dataset.missing()
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

    def pending(self) -> list[int]:
        """The frame indices the dataset still misses, in order."""
        return list(self._pending)

    def write(self, data: dict) -> None:
        index = self.randomizer.frame_index
        if index is None:
            log.warning("Sim2RealWriter: a frame was captured before randomizer.prepare(index); skipped")
            return
        cameras = self.randomizer.backend.entities().get("camera", [])
        for render_product, annotators in by_render_product(data).items():
            camera = render_product if render_product in cameras else (self.camera or render_product)
            self._sink(self.randomizer.backend.make_frame(annotators, camera=camera, index=index))

    def _commit(self, frame: Frame) -> None:
        assert self._dataset is not None
        if frame.index not in self._pending:
            log.info("Sim2RealWriter: frame %d is already in the dataset; not written again", frame.index)
            return
        self._pending.remove(frame.index)
        self._dataset.write(frame.index, frame)

    def on_final_frame(self) -> None:
        if self._dataset is not None:
            self._dataset.close()
            if self.coco:
                from sim2real.dataset.coco import export_coco

                export_coco(self._dataset.directory)
            self._dataset = None
        super().on_final_frame()
