""""Randomize now": one draw of the edited profile applied to the open stage through sim2real_isaac.

The draw is chosen by the core (``panel.preview.next()``: profile, seed, draw number); the stage is
changed by ``sim2real_isaac``'s randomizer service (reset terms and frame terms of that draw, through
``sim2real.usd`` and the PhysX views); "Restore stage" detaches it, which puts back every value it
changed. A new profile or seed attaches a new randomizer (the old one restores the stage first).
"""

from __future__ import annotations

from typing import Any

import omni.usd

from sim2real.errors import Sim2RealError
from sim2real_isaac import services


class StagePreview:
    def __init__(self, preview: Any) -> None:
        self.preview = preview  # sim2real.app.stage_views.RandomizePreview
        self.randomizer: Any = None
        self._key: tuple[str, int] | None = None

    def randomize_now(self) -> None:
        profile, seed, draw = self.preview.next()
        try:
            if self._key != (profile.hash, seed):
                self.restore()
                stage = omni.usd.get_context().get_stage()
                self.randomizer = services.get("randomizer")(profile, seed=seed).attach(stage=stage, physics=False)
                self._key = (profile.hash, seed)
            self.randomizer.prepare(draw)  # reset to the stage's values, then this draw's terms
            self.preview.applied(self.randomizer.record())
        except Sim2RealError as err:  # e.g. a target the stage does not have: one line in the frame
            self.preview.failed(str(err))

    def stage_file(self) -> str | None:
        """The open stage's file (what a capture renders when its form names no scene); None when unsaved."""
        stage = omni.usd.get_context().get_stage()
        return (stage.GetRootLayer().realPath or None) if stage is not None else None

    def restore(self) -> None:
        if self.randomizer is not None:
            self.randomizer.detach()
        self.randomizer, self._key = None, None
