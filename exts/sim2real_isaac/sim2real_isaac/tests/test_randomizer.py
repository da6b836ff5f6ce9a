"""Kit tests of the randomizer service (omni.kit.test; run by Kit's test runner: tools/run_kit_tests.sh).

They check the wiring that plain pytest cannot: a profile applied to a stage opened in Kit and read
back through USD, terms fired from Isaac Sim's physics-step callback on their schedule (through a World,
and through 5.1's SimulationManager without one, stepped as isaacsim.core.simulation_manager's own
test_physics_callbacks does), and several randomizers on one World."""

from __future__ import annotations

import tempfile
from pathlib import Path

import omni.kit.app
import omni.kit.test
import omni.timeline
import omni.usd
from isaacsim.core.api import World
from isaacsim.core.simulation_manager import SimulationManager
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


KEY_EVERY_3 = """
version = 1
name = "kit-test-key"

[[terms]]
name = "key_every_3"
target = "light:key/intensity"
dist = "uniform"
low = 0.1
high = 10.0
when = "interval"
every = 3
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

    async def test_interval_terms_fire_without_a_world(self) -> None:
        """Isaac Sim 5.1: SimulationManager.register_callback(fn, IsaacEvents.PRE_PHYSICS_STEP), no World."""
        randomizer = Sim2RealRandomizer(self.profile, seed=1).attach(stage=self.stage)
        timeline = omni.timeline.get_timeline_interface()
        timeline.play()
        timeline.commit()
        await omni.kit.app.get_app().next_update_async()
        randomizer.reset(0)  # restarts the step count
        self.assertEqual(randomizer.backend.clock.steps, 0)
        changed, previous = [], _intensity(self.stage, "fill")
        for _ in range(12):
            SimulationManager.step(render=False)
            value = _intensity(self.stage, "fill")
            if value != previous:
                changed.append(randomizer.backend.clock.steps)
            previous = value
        self.assertEqual(randomizer.backend.clock.steps, 12)
        self.assertEqual(changed, [5, 10])
        self.assertIsNone(randomizer.callback_name)  # no World callback was made
        self.assertIsNotNone(randomizer.backend.tensors)  # attached when physics was ready, not in a step
        timeline.stop()
        await omni.kit.app.get_app().next_update_async()
        self.assertIsNone(randomizer.backend.tensors)  # the stop event detached the invalidated view
        randomizer.detach()

    async def test_two_randomizers_on_one_world_both_fire(self) -> None:
        key_profile = Path(self._tmp.name) / "key.toml"
        key_profile.write_text(KEY_EVERY_3)
        world = World(physics_dt=1.0 / 60.0, rendering_dt=1.0 / 60.0, stage_units_in_meters=1.0)
        await world.initialize_simulation_context_async()
        fill = Sim2RealRandomizer(self.profile, seed=1).attach(world)
        key = Sim2RealRandomizer(key_profile, seed=2).attach(world)
        self.assertNotEqual(fill.callback_name, key.callback_name)
        self.assertTrue(world.physics_callback_exists(fill.callback_name))
        self.assertTrue(world.physics_callback_exists(key.callback_name))
        await world.reset_async()
        fill.reset(0)
        key.reset(0)
        fills, keys = [_intensity(self.stage, "fill")], [_intensity(self.stage, "key")]
        for _ in range(6):
            world.step(render=False)
            fills.append(_intensity(self.stage, "fill"))
            keys.append(_intensity(self.stage, "key"))
        self.assertEqual([s for s in range(1, 7) if keys[s] != keys[s - 1]], [3, 6])
        self.assertEqual([s for s in range(1, 7) if fills[s] != fills[s - 1]], [5])
        names = (fill.callback_name, key.callback_name)
        key.detach()
        fill.detach()
        self.assertFalse(any(world.physics_callback_exists(n) for n in names))
