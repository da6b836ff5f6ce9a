"""The data both directions share: an Isaac Lab event term as data, and what a translation left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entity:
    """``SceneEntityCfg(asset, body_names=[...], joint_names=[...])``: names are regular expressions."""

    asset: str
    body_names: tuple[str, ...] | None = None
    joint_names: tuple[str, ...] | None = None


@dataclass
class IsaacTerm:
    """One ``EventTermCfg``: ``func`` (an ``isaaclab.envs.mdp`` name), Isaac Lab's ``mode``, params."""

    name: str  # the EventCfg attribute
    func: str
    mode: str
    params: dict[str, Any]  # SceneEntityCfg values as Entity
    interval_range_s: tuple[float, float] | None = None
    sources: list[str] = field(default_factory=list)  # the sim2real terms it came from
    line: int = 0  # where it was read (import)


@dataclass(frozen=True)
class Left:
    """A term (or a whole section) a translation did not carry over, and why."""

    term: str
    target: str
    reason: str

    def text(self) -> str:
        return f"{self.term} ({self.target}): {self.reason}" if self.target else f"{self.term}: {self.reason}"


@dataclass
class Translation:
    """What a translation made, what it left out, and what it carried over only approximately."""

    skipped: list[Left] = field(default_factory=list)
    approximations: list[Left] = field(default_factory=list)
