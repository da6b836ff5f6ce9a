"""Simulator backends. Each lives in its own sub-package and is imported only when asked for."""
