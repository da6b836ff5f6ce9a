"""Kit UI tests (omni.kit.test + omni.kit.ui_test): Kit's test runner imports this ``tests`` sub-module."""

from .test_window import *  # noqa: F401,F403
