"""Observable state for view-models: subscribe to changes, read a JSON-serialisable snapshot.

Every view-model of the panel is a plain Python object. A UI binds to one by subscribing a callback
(called with the model after each change) and reading ``snapshot()``, a dict of JSON types only, so
that an omni.ui window and a web page show the same thing. ``revision`` counts changes: a UI that
polls (the web panel) re-reads the snapshot when it moved.

Jobs change from their reader threads, so callbacks may run on a worker thread: omni.ui hands them
to Kit's main loop (``loop.call_soon_threadsafe``) before touching widgets; a web server only reads
snapshots. Reads and writes of a model's state are guarded by its lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]


class Observable:
    """Base of the view-models: ``subscribe``, ``revision``, ``snapshot``."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._subscribers: list[Callback] = []
        self.revision = 0

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback(model)`` after every change; returns the function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _changed(self) -> None:
        with self._lock:
            self.revision += 1
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(self)
            except Exception:  # a broken widget must not stop a job's reader thread
                log.exception("a subscriber of %s failed", type(self).__name__)

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON types (dict, list, str, int, float, bool, None)."""
        raise NotImplementedError
