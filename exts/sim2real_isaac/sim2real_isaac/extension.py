"""The Kit extension object: Kit instantiates every ``omni.ext.IExt`` subclass of the module."""

import omni.ext


class Sim2RealIsaacExtension(omni.ext.IExt):
    """Thin glue: registers services on startup and removes them on shutdown."""

    def on_startup(self, ext_id: str) -> None:
        self._ext_id = ext_id

    def on_shutdown(self) -> None:
        self._ext_id = None
