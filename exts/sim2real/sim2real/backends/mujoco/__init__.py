"""The embedded MuJoCo backend.

Importing this package selects the headless OpenGL platform (``MUJOCO_GL``) before anything imports
``mujoco``; see ``gl.py``.
"""

from . import gl

gl.ensure_selected()
