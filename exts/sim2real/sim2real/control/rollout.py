"""Episodes of a policy on an environment (simulated or a robot): returns, lengths, successes, safety stops."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..progress import NullReporter, Reporter


@dataclass
class Episodes:
    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    successes: list[bool] = field(default_factory=list)
    safety_stops: list[list[dict[str, Any]]] = field(default_factory=list)  # violations per episode ([] = none)

    @property
    def n(self) -> int:
        return len(self.returns)

    @property
    def mean_return(self) -> float:
        return float(np.mean(self.returns)) if self.returns else float("nan")

    @property
    def success_rate(self) -> float:
        return float(np.mean(self.successes)) if self.successes else float("nan")

    @property
    def stopped(self) -> int:
        """Episodes the safety monitor ended."""
        return sum(1 for v in self.safety_stops if v)

    def to_dict(self) -> dict[str, Any]:
        return {"returns": self.returns, "lengths": self.lengths, "successes": self.successes,
                "safety_stops": self.safety_stops, "mean_return": self.mean_return,
                "success_rate": self.success_rate, "stopped": self.stopped}


def run_episodes(act: Callable[[np.ndarray], np.ndarray], env: Any, episodes: int, seed: int,
                 reporter: Reporter | None = None, name: str = "episodes",
                 on_step: Callable[[np.ndarray, np.ndarray], None] | None = None) -> Episodes:
    """Run ``episodes`` episodes of ``act`` (observation → action) on ``env``; episode ``k`` resets with
    seed ``seed + k`` (the same seeds give the same initial states). ``on_step(obs, action)`` sees every
    step (recording, replay checks)."""
    reporter = reporter or NullReporter()
    out = Episodes()
    with reporter.task(name, total=episodes, unit="episode") as task:
        for k in range(episodes):
            obs, _ = env.reset(seed=seed + k)
            total, steps, done, info = 0.0, 0, False, {}
            terminated = truncated = False
            while not done:
                action = act(obs)
                if on_step is not None:
                    on_step(obs, action)
                obs, reward, terminated, truncated, info = env.step(action)
                total += float(reward)
                steps += 1
                done = terminated or truncated
            out.returns.append(total)
            out.lengths.append(steps)
            out.successes.append(bool(info.get("is_success", truncated and not terminated)))
            out.safety_stops.append(list(info.get("safety", [])))
            task.advance(ret=f"{total:.4g}")
    return out
