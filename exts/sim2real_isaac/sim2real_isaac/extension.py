"""The Kit extension object. Kit instantiates every ``omni.ext.IExt`` subclass of the module on enable.

``on_startup`` only registers: the ``Sim2RealWriter`` with Replicator's ``WriterRegistry``, and the
randomizer service class (``services()``), which users and the sim2real panel attach to a World.
Nothing is created until someone asks for it.
"""

from __future__ import annotations

import omni.ext
from omni.replicator.core import WriterRegistry

from . import services
from .randomizer import Sim2RealRandomizer
from .writer import Sim2RealWriter


class Sim2RealIsaacExtension(omni.ext.IExt):
    def on_startup(self, ext_id: str) -> None:
        self._ext_id = ext_id
        WriterRegistry.register(Sim2RealWriter)
        services.register("randomizer", Sim2RealRandomizer)

    def on_shutdown(self) -> None:
        services.detach_all()
        services.unregister("randomizer")
        WriterRegistry.unregister(Sim2RealWriter.__name__)
        self._ext_id = None
