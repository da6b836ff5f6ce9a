"""Kit-only glue between Isaac Sim and the sim2real core (imported only inside Kit).

* ``Sim2RealRandomizer``: attaches a randomization profile to a stage / World (physics-step callbacks,
  USD before the simulation starts, PhysX tensor views while it runs);
* ``Sim2RealWriter``: a Replicator writer handing frames to sim2real's dataset writers;
* ``generation``: the frame source of the headless script ``tools/isaac/generate.py``.

Every decision they make is a function of ``sim2real.backends.isaac`` / ``sim2real.usd``, tested with pytest.
"""

from .extension import Sim2RealIsaacExtension
from .randomizer import Sim2RealRandomizer
from .writer import Sim2RealWriter

__all__ = ["Sim2RealIsaacExtension", "Sim2RealRandomizer", "Sim2RealWriter"]
