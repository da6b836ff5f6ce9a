"""Subprocess entry point of ``sim2real.backends.glplatform.probe``: render one frame with the platform in MUJOCO_GL.

Prints one JSON line: {"backend", "ok", "renderer", "error"}.
"""

from __future__ import annotations

import json
import os

_XML = """
<mujoco>
  <visual><headlight ambient="1 1 1" diffuse="0 0 0" specular="0 0 0"/></visual>
  <worldbody>
    <geom type="box" size="0.5 0.5 0.01" rgba="1 0 0 1"/>
    <camera name="probe" pos="0 0 2" xyaxes="1 0 0 0 1 0" fovy="30"/>
  </worldbody>
</mujoco>
"""


def main() -> None:
    backend = os.environ.get("MUJOCO_GL", "")
    result = {"backend": backend, "ok": False, "renderer": "", "error": ""}
    try:
        import mujoco

        model = mujoco.MjModel.from_xml_string(_XML)
        data = mujoco.MjData(model)
        mujoco.mj_forward(model, data)
        renderer = mujoco.Renderer(model, 32, 32)
        try:
            renderer.update_scene(data, camera="probe")
            img = renderer.render()
            try:
                from OpenGL import GL

                result["renderer"] = (GL.glGetString(GL.GL_RENDERER) or b"").decode(errors="replace")
            except Exception:  # the GL string is informative only
                pass
        finally:
            renderer.close()
        red, green = int(img[16, 16, 0]), int(img[16, 16, 1])
        result["ok"] = red > 150 and green < 100
        if not result["ok"]:
            result["error"] = f"rendered a wrong colour at the centre (r={red}, g={green})"
    except Exception as exc:  # report any failure as data: this runs in a throwaway process
        result["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
