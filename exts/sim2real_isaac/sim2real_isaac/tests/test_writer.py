"""Kit tests of Sim2RealWriter (omni.kit.test; run by Kit's test runner: tools/run_kit_tests.sh): three
randomized frames rendered by RTX and written as a sim2real dataset, and frames that overlap in flight
each carrying the record they were captured with."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import omni.kit.app
import omni.kit.test
import omni.replicator.core as rep
import omni.usd

from sim2real.dataset.reader import Dataset
from sim2real.dataset.verify import verify
from sim2real.paths import config_path, data_path
from sim2real_isaac import Sim2RealRandomizer, Sim2RealWriter


class TestSim2RealWriter(omni.kit.test.AsyncTestCase):
    async def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        success, error = await omni.usd.get_context().open_stage_async(str(data_path("scenes", "tabletop.usda")))
        self.assertTrue(success, error)
        await omni.kit.app.get_app().next_update_async()
        rep.orchestrator.set_capture_on_play(False)

    async def tearDown(self) -> None:
        await omni.kit.app.get_app().next_update_async()
        omni.usd.get_context().close_stage()
        self._tmp.cleanup()

    async def test_three_frames_make_a_verified_dataset(self) -> None:
        out = Path(self._tmp.name) / "dataset"
        stage = omni.usd.get_context().get_stage()
        randomizer = Sim2RealRandomizer(config_path("profiles", "tabletop.toml"), seed=0, resolution=(128, 96))
        randomizer.attach(stage=stage, physics=False)
        camera = str(randomizer.backend.scene.ctx.path("camera", "main", 0))
        render_product = rep.create.render_product(camera, (128, 96), name="main")
        writer = rep.WriterRegistry.get("Sim2RealWriter")
        self.assertIsInstance(writer, Sim2RealWriter)
        writer.initialize(output_dir=str(out), frames=3, randomizer=randomizer, camera="main")
        writer.attach([render_product])
        self.assertEqual(writer.pending(), [0, 1, 2])
        for index in writer.pending():  # a stopped timeline: each frame is awaited, then retired
            await writer.capture_async(index, rt_subframes=4, delta_time=0.0)
            await rep.orchestrator.wait_until_complete_async()
            writer.retire(index)
        writer.detach()
        writer.on_final_frame()
        render_product.destroy()
        randomizer.detach()

        report = verify(out)
        self.assertTrue(report.ok, report.problems)
        ds = Dataset(out)
        self.assertEqual(len(ds), 3)
        for index in range(3):
            record = ds.record(index)
            self.assertEqual((record["width"], record["height"]), (128, 96))
            self.assertIn("light:key/intensity", record["sample"])
            rgb = ds.channel(index, "rgb", record)
            self.assertEqual(rgb.shape, (96, 128, 3))
            self.assertGreater(int(rgb.max()), 0)  # something was lit
            visible = [i for i in record["instances"] if i["box"] is not None]
            self.assertGreater(len(visible), 0)
        # the three frames were randomized differently
        keys = [ds.record(i)["sample"]["light:key/intensity"] for i in range(3)]
        self.assertEqual(len(set(np.round(keys, 6))), 3)

    async def test_frames_in_flight_carry_their_own_records(self) -> None:
        """The timeline advances per capture (orchestrator.step's default delta_time) and frames are not
        awaited one by one: however late Replicator delivers a frame, it carries the record captured with it."""
        stage = omni.usd.get_context().get_stage()
        randomizer = Sim2RealRandomizer(config_path("profiles", "tabletop.toml"), seed=5, resolution=(64, 48))
        randomizer.attach(stage=stage, physics=False)
        camera = str(randomizer.backend.scene.ctx.path("camera", "main", 0))
        render_product = rep.create.render_product(camera, (64, 48), name="main")
        frames = []
        writer = rep.WriterRegistry.get("Sim2RealWriter")
        writer.initialize(randomizer=randomizer, sink=frames.append)
        writer.attach([render_product])
        expected = {}
        for index in range(4):
            await writer.capture_async(index, rt_subframes=2)
            expected[index] = randomizer.record()["light:key/intensity"]
        await rep.orchestrator.wait_until_complete_async()
        writer.on_final_frame()  # every capture was delivered and every delivery matched one
        writer.detach()
        render_product.destroy()
        randomizer.detach()
        self.assertEqual({f.index for f in frames}, set(expected))
        for frame in frames:
            self.assertEqual(frame.camera, "main")
            self.assertAlmostEqual(frame.sample["light:key/intensity"], expected[frame.index], places=6)
        self.assertEqual(len(set(np.round(list(expected.values()), 6))), 4)
