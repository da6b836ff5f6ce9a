"""The Kit extension object of the panel."""

import omni.ext


class Sim2RealUIExtension(omni.ext.IExt):
    """Adds the sim2real window; all behaviour lives in ``sim2real.app`` view-models."""

    def on_startup(self, ext_id: str) -> None:
        self._ext_id = ext_id

    def on_shutdown(self) -> None:
        self._ext_id = None
