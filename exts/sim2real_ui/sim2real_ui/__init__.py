"""The sim2real panel for Isaac Sim (omni.ui). Imported only inside Kit."""

from .extension import Sim2RealUIExtension, get_instance

__all__ = ["Sim2RealUIExtension", "get_instance"]
