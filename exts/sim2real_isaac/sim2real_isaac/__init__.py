"""Kit-only glue between Isaac Sim and the sim2real core. Imported only inside Kit."""

from .extension import Sim2RealIsaacExtension

__all__ = ["Sim2RealIsaacExtension"]
