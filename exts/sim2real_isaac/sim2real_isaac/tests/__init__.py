"""Kit tests (omni.kit.test): Kit's test runner imports this ``tests`` sub-module of the extension."""

from .test_randomizer import *  # noqa: F401,F403
from .test_writer import *  # noqa: F401,F403
