"""The embedded MuJoCo backend.

Importing this package selects the headless OpenGL platform (``MUJOCO_GL``) before anything imports
``mujoco``; see ``gl.py``. When no platform renders, physics still works and the first render raises
``RenderError`` with the reason and the fix.
"""

from . import gl

gl.select_or_defer()
