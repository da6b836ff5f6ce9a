"""Kit UI tests of the sim2real window (omni.kit.ui_test; run by tools/run_kit_tests.sh where Isaac Sim
exists). They drive the real widgets: the menu, fields, buttons, and a real ``sim2real generate`` job,
and "Randomize now" on the tabletop stage. The view-models behind them are tested with pytest."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import omni.kit.app
import omni.kit.test
import omni.kit.ui_test as ui_test
import omni.usd
from pxr import UsdLux

from sim2real.paths import data_path
from sim2real_ui import get_instance

PROFILE = """
version = 1
name = "ui-test"

[[terms]]
name = "key_scale"
target = "light:key/intensity"
dist = "uniform"
low = 0.5
high = 0.6
"""
WINDOW = "sim2real"
JOB_LIMIT_S = 900.0  # seconds before a capture job counts as stuck (an upper bound, not a timing)


def _find(kind: str, identifier: str) -> ui_test.WidgetRef:
    return ui_test.find(f"{WINDOW}//Frame/**/{kind}[*].identifier=='{identifier}'")


def _key_intensity(stage) -> float:
    return float(UsdLux.LightAPI(stage.GetPrimAtPath("/World/Lights/key")).GetIntensityAttr().Get())


class TestSim2RealWindow(omni.kit.test.AsyncTestCase):
    async def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = Path(self._tmp.name)
        self.profile = self.tmp / "profile.toml"
        self.profile.write_text(PROFILE)
        self.ext = get_instance()
        self.ext.panel.runner.cwd = self.tmp  # jobs write under the test's folder
        await ui_test.menu_click("Window/sim2real")
        await ui_test.wait_n_updates(4)

    async def tearDown(self) -> None:
        self.ext.stage_preview.restore()
        self.ext.panel.runner.shutdown(timeout=60)
        omni.usd.get_context().close_stage()
        await omni.kit.app.get_app().next_update_async()
        self._tmp.cleanup()

    async def _load_profile(self) -> None:
        await _find("StringField", "profile.path").input(str(self.profile))
        await _find("Button", "profile.load").click()
        await ui_test.wait_n_updates(4)

    async def test_menu_opens_the_window_with_its_frames(self) -> None:
        self.assertIsNotNone(ui_test.find(WINDOW))
        self.assertTrue(self.ext.window.visible)
        for frame in ("randomize", "capture", "train", "gap", "deploy"):
            self.assertIsNotNone(_find("CollapsableFrame", f"frame.{frame}"), frame)

    async def test_a_range_error_shows_beside_the_term(self) -> None:
        await self._load_profile()
        self.assertTrue(self.ext.panel.editor.snapshot()["valid"])
        await _find("FloatField", "term.key_scale.low").input("0.9")
        await ui_test.wait_n_updates(4)
        error = _find("Label", "term.key_scale.error")
        self.assertIn("low: expected low <= high", error.widget.text)
        await _find("FloatField", "term.key_scale.low").input("0.55")
        await ui_test.wait_n_updates(4)
        self.assertEqual(self.ext.panel.editor.profile.term("key_scale").low, 0.55)
        self.assertEqual(self.ext.panel.editor.errors, {})

    async def test_a_bad_setting_shows_beside_its_field(self) -> None:
        await _find("IntField", "capture.frames").input("0")
        await ui_test.wait_n_updates(4)
        self.assertIn("greater than or equal to 1", _find("Label", "capture.frames.error").widget.text)
        await _find("IntField", "capture.frames").input("3")
        await ui_test.wait_n_updates(4)
        self.assertEqual(_find("Label", "capture.frames.error").widget.text, "")

    async def _capture_form(self) -> None:
        tabletop = self.tmp / "tabletop.toml"
        tabletop.write_text(PROFILE.replace('name = "ui-test"', 'name = "ui-test"\nscene = "tabletop"'))
        await _find("StringField", "profile.path").input(str(tabletop))
        await _find("Button", "profile.load").click()
        for field, value in (("frames", "3"), ("width", "64"), ("height", "48")):
            await _find("IntField", f"capture.{field}").input(value)
        await _find("StringField", "capture.out").input(str(self.tmp / "dataset"))

    async def _finish(self, job) -> None:
        deadline = time.monotonic() + JOB_LIMIT_S  # a bound for a stuck job (a headless Isaac Sim boots first)
        while not job.finished and time.monotonic() < deadline:
            await omni.kit.app.get_app().next_update_async()
        await ui_test.wait_n_updates(4)

    async def test_capture_runs_isaac_sims_headless_script_and_the_progress_bar_fills(self) -> None:
        await self._capture_form()
        self.assertEqual(self.ext.panel.capture.form.values["backend"], "isaac")  # the default inside Isaac Sim
        await _find("Button", "capture.start").click()
        job = self.ext.panel.capture.job()
        self.assertIsNotNone(job)
        self.assertTrue(job.argv[1].endswith(str(Path("tools") / "isaac" / "generate.py")), job.argv)
        self.assertNotIn(Path(job.argv[0]).name, ("kit", "kit.exe"))  # Isaac Sim's python.sh, never Kit's binary
        await self._finish(job)
        self.assertEqual(job.state, "succeeded", list(job.log_tail))
        self.assertTrue((self.tmp / "dataset" / "manifest.json").is_file())
        self.assertTrue(Path(_find("Image", "capture.sample").widget.source_url).is_file())
        self.assertEqual(_find("ProgressBar", "capture.progress").widget.model.as_float, 1.0)
        self.assertIn("succeeded", _find("Label", "capture.state").widget.text)

    async def test_the_backend_choice_runs_sim2real_generate_with_mujoco(self) -> None:
        await self._capture_form()
        _find("ComboBox", "capture.backend").widget.model.get_item_value_model().set_value(1)  # isaac, mujoco
        await ui_test.wait_n_updates(4)
        self.assertEqual(self.ext.panel.capture.form.values["backend"], "mujoco")
        await _find("Button", "capture.start").click()
        job = self.ext.panel.capture.job()
        self.assertEqual(job.argv[1:4], ["-m", "sim2real.cli", "generate"])
        await self._finish(job)
        # Isaac Sim's Python bundles no mujoco: either it was installed there, or one line says how to
        if job.state != "succeeded":
            self.assertEqual(job.returncode, 2, list(job.log_tail))
            self.assertIn("mujoco", job.user_error)
            self.assertIn(job.user_error, _find("Label", "capture.error").widget.text)

    async def test_randomize_now_applies_a_draw_and_restore_puts_the_stage_back(self) -> None:
        ok, error = await omni.usd.get_context().open_stage_async(str(data_path("scenes", "tabletop.usda")))
        self.assertTrue(ok, error)
        await omni.kit.app.get_app().next_update_async()
        stage = omni.usd.get_context().get_stage()
        before = _key_intensity(stage)
        await self._load_profile()
        await _find("Button", "preview.apply").click()
        await ui_test.wait_n_updates(4)
        scale = _key_intensity(stage) / before
        self.assertGreaterEqual(scale, 0.5 - 1e-4)
        self.assertLessEqual(scale, 0.6 + 1e-4)
        self.assertIn("draw 0", _find("Label", "preview.state").widget.text)
        await _find("Button", "preview.apply").click()  # the next draw of the same seed
        await ui_test.wait_n_updates(4)
        self.assertIn("draw 1", _find("Label", "preview.state").widget.text)
        await _find("Button", "preview.restore").click()
        await ui_test.wait_n_updates(4)
        self.assertAlmostEqual(_key_intensity(stage), before, places=3)
