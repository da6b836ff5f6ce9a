"""Compiled distributions: draw ``(n_envs, *shape)`` arrays from a generator, prefix-stably.

Every draw fills its array in environment-major order from one keyed stream, and every method used
consumes the stream element by element (numpy's ``uniform``, ``normal`` (ziggurat, per-element
rejection), ``integers`` (per-element Lemire rejection), ``random``), so the values of environment
``i`` never depend on how many environments are drawn. Truncated normals use the inverse CDF, not
vectorised rejection (which would make env ``i`` depend on how many others were rejected).

``from_uniforms(u)`` makes the same distribution from independent uniforms in (0, 1), shaped
``(rows, *uniform_shape(dist))``: the inverse CDF, except the normal's Box-Muller transform (two uniforms
per value; a dozen numpy operations fewer than the inverse CDF on the small arrays of interval chunks).
Interval firings draw that way from counter-based uniforms (``streams.firing_uniforms``).

``scaled(s)`` narrows or widens a distribution about its centre by ``s`` (curriculum and editing).

The continuous families (uniform, log-uniform, normal, truncated normal) draw in two steps: numpy's base
variate (``VARIATE``: ``random``, or ``standard_normal`` for the normal) and ``into(x)``, which turns
variates into values in place. ``into`` does per element what numpy's ``uniform(low, high)`` and
``normal(mean, std)`` do in C (``low + (high - low) * u``, ``mean + std * z``), so the values are the
same bytes; it skips their ~6 us of argument handling per call, and works on the rows of several terms
stacked into one array (``block.py``: one pass per family, whatever the number of terms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

from .normal import ndtr, ndtri


class Dist(Protocol):
    shape: tuple[int, ...]

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray: ...

    def from_uniforms(self, u: np.ndarray) -> np.ndarray: ...

    def scaled(self, s: float) -> Dist: ...


def _centre_scale(low: Any, high: Any, s: float) -> tuple[Any, Any]:
    low_a, high_a = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    c, h = (low_a + high_a) / 2.0, (high_a - low_a) / 2.0
    return _plain(c - s * h), _plain(c + s * h)


def _plain(x: np.ndarray) -> Any:
    """0-d arrays become Python floats: numpy's scalar-parameter fast paths are faster."""
    return float(x) if x.ndim == 0 else x


class Uniform:
    """Uniform on [low, high]; bounds are numbers or per-component arrays."""

    VARIATE = "random"

    def __init__(self, low: Any, high: Any, shape: tuple[int, ...] = ()) -> None:
        self.low, self.high, self.shape = low, high, shape
        self._vector = isinstance(low, np.ndarray) or isinstance(high, np.ndarray)
        self._span = np.asarray(high, dtype=np.float64) - np.asarray(low, dtype=np.float64)

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray:
        return self.into(gen.random((n, *self.shape)))

    def into(self, x: np.ndarray) -> np.ndarray:
        """Uniforms ``x`` in [0, 1) (numpy's ``random``) become values, in place."""
        x *= self._span
        x += self.low
        return x

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        return self.low + self._span * u

    def scaled(self, s: float) -> Uniform:
        return Uniform(*_centre_scale(self.low, self.high, s), self.shape)

    def at(self, u: np.ndarray, low: Any, high: Any) -> np.ndarray:
        """Inverse CDF with per-element bounds (used by constrained groups)."""
        return low + u * (high - low)


class LogUniform:
    """Log-uniform on [low, high] (low > 0): uniform in log space."""

    VARIATE = "random"

    def __init__(self, low: Any, high: Any, shape: tuple[int, ...] = ()) -> None:
        self.low, self.high, self.shape = low, high, shape
        self._log = Uniform(_plain(np.log(low)), _plain(np.log(high)), shape)

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray:
        return self.into(gen.random((n, *self.shape)))

    def into(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self._log.into(x), out=x)

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        return np.exp(self._log.from_uniforms(u))

    def scaled(self, s: float) -> LogUniform:
        lo, hi = _centre_scale(np.log(self.low), np.log(self.high), s)
        return LogUniform(_plain(np.exp(lo)), _plain(np.exp(hi)), self.shape)

    def at(self, u: np.ndarray, low: Any, high: Any) -> np.ndarray:
        return low * np.power(high / low, u)


@dataclass(frozen=True)
class Normal:
    mean: Any
    std: Any
    shape: tuple[int, ...] = ()
    VARIATE: ClassVar[str] = "standard_normal"

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray:
        return self.into(gen.standard_normal((n, *self.shape)))

    def into(self, x: np.ndarray) -> np.ndarray:
        """Standard normals ``x`` become values, in place (numpy's ``normal``: ``mean + std * z``)."""
        x *= self.std
        x += self.mean
        return x

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        return self.mean + self.std * box_muller(u)

    def scaled(self, s: float) -> Normal:
        return Normal(self.mean, _plain(np.asarray(self.std, dtype=np.float64) * s), self.shape)


class TruncNormal:
    """Normal(mean, std) restricted to [low, high], sampled by inverse CDF.

    Intervals lying mostly above the mean are mirrored so the CDF is evaluated in the lower tail,
    where ``erfc`` keeps full relative precision (bounds many standard deviations out still work).
    """

    VARIATE = "random"

    def __init__(self, mean: Any, std: Any, low: Any, high: Any, shape: tuple[int, ...] = ()) -> None:
        self.mean, self.std, self.low, self.high, self.shape = mean, std, low, high, shape
        m, sd, lo, hi = np.broadcast_arrays(
            *(np.asarray(v, dtype=np.float64) for v in (mean, std, low, high))
        )
        degenerate = (sd <= 0) | (hi <= lo)
        safe_sd = np.where(degenerate, 1.0, sd)
        a, b = (lo - m) / safe_sd, (hi - m) / safe_sd
        self._flip = (a + b) > 0
        a, b = np.where(self._flip, -b, a), np.where(self._flip, -a, b)
        self._pa = np.vectorize(ndtr, otypes=[float])(a)
        self._dp = np.vectorize(ndtr, otypes=[float])(b) - self._pa
        self.underflow = bool(np.any(self._pa <= 0))
        if self._pa.ndim == 0:  # Python floats: numpy's scalar fast paths
            self._pa, self._dp = float(self._pa), float(self._dp)
        # the width numpy's uniform(Phi(a), Phi(a) + dp) used, (Phi(a) + dp) - Phi(a): the same bytes
        self._range = (self._pa + self._dp) - self._pa
        self._degenerate = degenerate if degenerate.any() else None
        self._m, self._sd, self._lo, self._hi = m, safe_sd, lo, hi
        self._scalar = m.ndim == 0

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray:
        return self.into(gen.random((n, *self.shape)))

    def into(self, x: np.ndarray) -> np.ndarray:
        """Uniforms ``x`` in [0, 1) become values: uniform on [Phi(a), Phi(b)), then the inverse CDF."""
        x *= self._range
        x += self._pa
        x[...] = self._at(x)
        return x

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        return self._at(self._pa + self._dp * u)

    def _at(self, p: np.ndarray) -> np.ndarray:
        """The values whose (mirrored) standard-normal CDF is ``p``."""
        if self.underflow:
            p = np.maximum(p, 1e-300)  # a bound 38+ sd out: Phi underflows to 0
        z = ndtri(p)
        if self._scalar:
            z = -z if self._flip else z
        else:
            z = np.where(self._flip, -z, z)
        x = self._sd * z
        x += self._m
        np.maximum(x, self._lo, out=x)  # rounding can step 1 ulp outside [low, high]
        np.minimum(x, self._hi, out=x)
        if self._degenerate is not None:
            x = np.where(self._degenerate, np.clip(self._m, self._lo, self._hi), x)
        return x

    def scaled(self, s: float) -> TruncNormal:
        m = np.asarray(self.mean, dtype=np.float64)
        lo = m - s * (m - np.asarray(self.low, dtype=np.float64))
        hi = m + s * (np.asarray(self.high, dtype=np.float64) - m)
        sd = np.asarray(self.std, dtype=np.float64) * s
        return TruncNormal(self.mean, _plain(sd), _plain(lo), _plain(hi), self.shape)


@dataclass(frozen=True)
class IntUniform:
    """Integers uniformly from ``low`` to ``high`` inclusive."""

    low: int
    high: int
    shape: tuple[int, ...] = ()

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray:
        return gen.integers(self.low, self.high, (n, *self.shape), endpoint=True)

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        return self.low + np.minimum(np.floor(u * (self.high - self.low + 1)), self.high - self.low).astype(np.int64)

    def scaled(self, s: float) -> IntUniform:
        c, h = (self.low + self.high) / 2.0, (self.high - self.low) / 2.0
        return IntUniform(int(math.floor(c - s * h + 0.5)), int(math.floor(c + s * h + 0.5)), self.shape)


class Choice:
    """One of ``values`` with probabilities proportional to ``weights``."""

    def __init__(
        self, values: list[Any], weights: list[float] | None = None, shape: tuple[int, ...] = ()
    ) -> None:
        self.values, self.weights, self.shape = values, weights, shape
        w = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=np.float64)
        cum = np.cumsum(w)
        self._cum = cum / cum[-1]
        self._cum[-1] = 1.0  # no u in [0, 1) falls past the last value through rounding
        if values and isinstance(values[0], str):
            self._table = np.empty(len(values), dtype=object)
            self._table[:] = values
        else:
            self._table = np.asarray(values)

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray:
        return self.from_uniforms(gen.random(n))

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        if len(self._cum) <= 16:  # a few comparisons beat a binary search per element
            idx = np.zeros(u.shape, dtype=np.intp)
            for c in self._cum[:-1]:
                idx += u >= c
        else:
            idx = np.searchsorted(self._cum, u, side="right")
        return self._table[idx]

    def scaled(self, s: float) -> Choice:
        return self


class Constant:
    def __init__(self, value: Any, shape: tuple[int, ...] = ()) -> None:
        self.value, self.shape = value, shape
        self._obj = isinstance(value, str)

    def draw(self, gen: np.random.Generator | None, n: int) -> np.ndarray:
        return self._filled((n,))

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        return self._filled(u.shape)

    def _filled(self, rows: tuple[int, ...]) -> np.ndarray:
        if self._obj:
            out = np.empty(rows, dtype=object)
            out[...] = self.value
            return out
        return np.broadcast_to(np.asarray(self.value), (*rows, *self.shape)).copy()

    def scaled(self, s: float) -> Constant:
        return self


RANGED = (Uniform, LogUniform, IntUniform)  # distributions with a [low, high] range


def box_muller(u: np.ndarray) -> np.ndarray:
    """Standard normals from pairs of uniforms in (0, 1) along the last axis (its size is 2)."""
    return np.sqrt(-2.0 * np.log(u[..., 0])) * np.cos(2.0 * math.pi * u[..., 1])


def uniform_shape(dist: Dist) -> tuple[int, ...]:
    """The uniforms ``from_uniforms`` takes per row: one per component (a normal: two), one for a whole
    choice (a row picks one value, whatever its shape), none that matter for a constant."""
    if isinstance(dist, (Choice, Constant)):
        return ()
    return (*dist.shape, 2) if isinstance(dist, Normal) else tuple(dist.shape)

