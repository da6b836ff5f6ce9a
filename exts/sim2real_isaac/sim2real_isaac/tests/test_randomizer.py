"""Kit tests of the randomizer service (omni.kit.test; run by Kit's test runner: tools/run_kit_tests.sh).

They check the wiring that plain pytest cannot: a profile applied to a stage opened in Kit and read
back through USD, and terms fired from Isaac Sim's physics-step callback on their schedule."""

from __future__ import annotations

import tempfile
from pathlib import Path

import omni.kit.app
import omni.kit.test
import omni.timeline
import omni.usd
from isaacsim.core.api import World
from pxr import UsdLux

from sim2real.paths import data_path
from sim2real_isaac import Sim2RealRandomizer

PROFILE = """
version = 1
name = "kit-test"

[[terms]]
name = "key_scale"
target = "light:key/intensity"
dist = "uniform"
low = 0.5
high = 0.6
when = "reset"

[[terms]]
name = "fill_every_5"
target = "light:fill/intensity"
dist = "uniform"
low = 0.1
high = 10.0
when = "interval"
every = 5

[[terms]]
name = "object_mass"
target = "body:obj_00/mass"
dist = "uniform"
low = 2.0
high = 3.0
op = "set"
when = "reset"
"""


def _intensity(stage, name: str) -> float:
    return float(UsdLux.LightAPI(stage.GetPrimAtPath(f"/World/Lights/{name}")).GetIntensityAttr().Get())


class TestSim2RealRandomizer(omni.kit.test.AsyncTestCase):
    async def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.profile = Path(self._tmp.name) / "profile.toml"
        self.profile.write_text(PROFILE)
        success, error = await omni.usd.get_context().open_stage_async(str(data_path("scenes", "tabletop.usda")))
        self.assertTrue(success, error)
        await omni.kit.app.get_app().next_update_async()
        self.stage = omni.usd.get_context().get_stage()

    async def tearDown(self) -> None:
        omni.timeline.get_timeline_interface().stop()
        World.clear_instance()
        await omni.kit.app.get_app().next_update_async()
        omni.usd.get_context().close_stage()
        self._tmp.cleanup()

    async def test_profile_is_applied_to_the_stage_and_restored(self) -> None:
        key0, fill0 = _intensity(self.stage, "key"), _intensity(self.stage, "fill")
        randomizer = Sim2RealRandomizer(self.profile, seed=3).attach(stage=self.stage, physics=False)
        sample = randomizer.reset(0)
        scale = float(sample.values["light:key/intensity"][0])
        self.assertAlmostEqual(_intensity(self.stage, "key"), key0 * scale, places=2)
        self.assertGreaterEqual(scale, 0.5)
        self.assertLessEqual(scale, 0.6)
        mass = self.stage.GetPrimAtPath("/World/Objects/obj_00").GetAttribute("physics:mass").Get()
        self.assertAlmostEqual(float(mass), float(sample.values["body:obj_00/mass"][0]), places=4)
        randomizer.detach()
        self.assertAlmostEqual(_intensity(self.stage, "key"), key0, places=3)
        self.assertAlmostEqual(_intensity(self.stage, "fill"), fill0, places=3)

    async def test_interval_terms_fire_every_5_physics_steps(self) -> None:
        # one physics step per World.step
        world = World(physics_dt=1.0 / 60.0, rendering_dt=1.0 / 60.0, stage_units_in_meters=1.0)
        await world.initialize_simulation_context_async()
        randomizer = Sim2RealRandomizer(self.profile, seed=1).attach(world)
        await world.reset_async()
        randomizer.reset(0)
        changed = []
        previous = _intensity(self.stage, "fill")
        for step in range(1, 13):
            world.step(render=False)
            value = _intensity(self.stage, "fill")
            if value != previous:
                changed.append(step)
            previous = value
        self.assertEqual(changed, [5, 10])
        self.assertEqual(randomizer.backend.clock.steps, 12)
        # the reset term on body mass went through the PhysX tensor view once the simulation ran
        self.assertIsNotNone(randomizer.backend.tensors)
        randomizer.detach()
        self.assertFalse(world.physics_callback_exists(randomizer.callback_name))
