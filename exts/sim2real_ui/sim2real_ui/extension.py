"""The Kit extension object of the panel: a Window > sim2real menu item that opens the window.

Settings (``[settings]`` of extension.toml, or ``--/exts/sim2real_ui/...`` on the command line):
``workdir`` (where jobs run and relative paths resolve; default: the current directory), ``python`` (the
interpreter of the ``sim2real`` jobs, e.g. a venv with sim2real's training extras; default: Isaac Sim's own
Python, ``python.sh`` of the install, seeing the packages Kit sees), ``targets`` (the deploy targets file;
default ``~/.config/sim2real/targets.toml``), ``profile`` (opened at start). Captures run Isaac Sim's headless
script with the isaac backend by default (``sim2real.app.stage_views.CaptureFrame``).
"""

from __future__ import annotations

import sys
from typing import Any

import carb
import carb.tokens
import omni.ext
import omni.kit.actions.core
import omni.kit.menu.utils
from omni.kit.menu.utils import MenuItemDescription

from sim2real.app import Panel

from .stage_preview import StagePreview
from .window import TITLE, Sim2RealWindow

MENU = "Window"
ACTION = "show_sim2real_window"
SETTINGS = "/exts/sim2real_ui"

_instance: Any = None


def get_instance() -> Any:
    """The enabled extension (tests and scripts reach the panel and window through it)."""
    return _instance


class Sim2RealUIExtension(omni.ext.IExt):
    """Adds the sim2real window; all behaviour lives in ``sim2real.app`` view-models."""

    def on_startup(self, ext_id: str) -> None:
        global _instance
        self._ext_id = ext_id
        settings = carb.settings.get_settings()
        # the app folder as Isaac Sim's own isaacsim.app.selector finds it: python.sh sits in its parent
        app_folder = settings.get_as_string("/app/folder") or carb.tokens.get_tokens_interface().resolve("${app}")
        self.panel = Panel.in_isaac_sim(app_folder, sys.executable, list(sys.path),
                                        workdir=settings.get(f"{SETTINGS}/workdir") or ".",
                                        python=settings.get(f"{SETTINGS}/python") or None,
                                        targets_path=settings.get(f"{SETTINGS}/targets") or None)
        profile = settings.get(f"{SETTINGS}/profile")
        if profile:
            self.panel.editor.load(profile)
        self.stage_preview = StagePreview(self.panel.preview)
        self.window: Sim2RealWindow | None = None
        omni.kit.actions.core.get_action_registry().register_action(
            ext_id, ACTION, self.show_window, display_name="sim2real", description="Open the sim2real panel")
        self._menu = [MenuItemDescription(name=TITLE, onclick_action=(ext_id, ACTION))]
        omni.kit.menu.utils.add_menu_items(self._menu, MENU)
        _instance = self

    def show_window(self) -> Sim2RealWindow:
        if self.window is None:
            self.window = Sim2RealWindow(self.panel, self.stage_preview)
        self.window.show()
        return self.window

    def on_shutdown(self) -> None:
        global _instance
        _instance = None
        omni.kit.menu.utils.remove_menu_items(self._menu, MENU)
        omni.kit.actions.core.get_action_registry().deregister_action(self._ext_id, ACTION)
        self.stage_preview.restore()
        if self.window is not None:
            self.window.destroy()
            self.window = None
        self.panel.shutdown(timeout=30)  # running jobs stop as with Ctrl-C: finished work is kept
