"""Keyed random streams: every (term, entity, event, index) gets its own generator.

Why: a sample must depend only on (profile, seed, event, index, term, entity, env). Drawing every
term from one shared generator would make each value depend on how many draws came before it, so
adding a term would change all the others. Instead each (term, entity) pair owns a stream whose
state is a cryptographic hash of ``(seed, term name, entity, event code, index, sub-index)``:

* per-term independence: a term's stream does not depend on any other term;
* prefix stability: a stream fills its ``(n_envs, *shape)`` array in environment-major order, so
  environment ``i`` gets the same values whether 1 or 4096 environments are sampled;
* speed: one PCG64 bit generator is re-keyed in place rather than built from a ``SeedSequence`` per call
  (tens of microseconds), so draws cost what bare numpy draws cost. Re-keying writes the digest straight
  into the bit generator's state (``_StateWriter``: a 32-byte copy, under a microsecond); numpy's
  ``state`` setter, which validates a dict of Python ints, costs several microseconds a stream and was
  most of the fixed cost of a call with a few hundred environments. The writer checks itself against
  the setter once and is not used where the two disagree (another layout of numpy's PCG64).

Hashing: BLAKE2b (hashlib) with a personalisation string; the 32-byte digest gives PCG64's 128-bit
state and its 128-bit odd increment (its stream selector).

Interval firings are counter-based instead (``firing_uniforms``): a (term, entity) stream's key for an
episode is hashed once, and uniform ``(e, f, c)`` (environment ``e``, firing ``f``, component ``c``) is
output ``e * width + c + 1`` of SplitMix64 seeded with output ``f`` of SplitMix64 seeded with that key
(the construction of Java's ``SplittableRandom.split``). Any set of firings is then one vectorised
expression, and a value depends on its firing's number alone, never on how many firings are drawn
together.
"""

from __future__ import annotations

import ctypes
import hashlib
import struct

import numpy as np

_PERSON = b"sim2real-dr-v1"  # change only together with the sampling format (it changes every value)
_PACK = struct.Struct("<BQQ")
_MASK64, _MASK128 = (1 << 64) - 1, (1 << 128) - 1

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64's increment (2^64 / golden ratio, odd)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)

# event codes mixed into stream keys (never renumber: recorded datasets depend on them)
STARTUP, RESET, INTERVAL, FRAME, SIGNAL, PHASE, HOLD, ADR = 1, 2, 3, 4, 5, 6, 7, 8


class Streams:
    """Hands out generators re-keyed for one (prefix, event, index, sub) at a time.

    The returned ``Generator`` is shared: use it before asking for the next one.
    """

    def __init__(self, seed: int) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"expected a non-negative integer seed (got {seed!r})")
        self.seed = seed
        self._bitgen = np.random.PCG64(0)
        self._gen = np.random.Generator(self._bitgen)
        self._inner = {"state": 0, "inc": 1}
        self._state = {"bit_generator": "PCG64", "state": self._inner, "has_uint32": 0, "uinteger": 0}
        self._writer = _StateWriter.checked(self._bitgen, self._set_state)

    def prefix(self, *parts: str) -> hashlib._Hash:  # type: ignore[name-defined]
        """A hash of the seed and the name parts, to be extended per draw (``generator``)."""
        h = hashlib.blake2b(digest_size=32, person=_PERSON)
        h.update(str(self.seed).encode())
        for part in parts:
            data = part.encode("utf-8")
            h.update(len(data).to_bytes(4, "little"))  # length-prefixed: ("ab","c") != ("a","bc")
            h.update(data)
        return h

    def generator(self, prefix: hashlib._Hash, code: int, index: int, sub: int = 0) -> np.random.Generator:  # type: ignore[name-defined]
        h = prefix.copy()
        h.update(_PACK.pack(code, index & _MASK64, sub & _MASK64))
        if self._writer is not None:
            self._writer.write(h.digest())
        else:
            self._set_state(h.digest())
        return self._gen

    def _set_state(self, digest: bytes) -> None:
        """The state of a 32-byte digest through numpy's setter: its first 16 bytes (little-endian) the
        128-bit state, the last 16 the increment, made odd (PCG64 needs an odd increment)."""
        key = int.from_bytes(digest, "little")
        self._inner["state"] = key & _MASK128
        self._inner["inc"] = (key >> 128) | 1
        self._bitgen.state = self._state

    def counter_key(self, prefix: hashlib._Hash, code: int, index: int) -> np.uint64:  # type: ignore[name-defined]
        """A 64-bit key for ``firing_uniforms``: the same hash as ``generator``'s, first 8 bytes."""
        h = prefix.copy()
        h.update(_PACK.pack(code, index & _MASK64, 0))
        return np.uint64(int.from_bytes(h.digest()[:8], "little"))


class _StateWriter:
    """Writes a digest into a PCG64's state in place: what ``Streams._set_state`` does, as one copy.

    numpy's PCG64 keeps ``{pcg64_random_t *pcg_state; int has_uint32; uint32_t uinteger}`` behind
    ``ctypes.state_address``, and ``pcg64_random_t`` is ``{uint128 state; uint128 inc}``: on a
    little-endian machine with 128-bit integers the digest's bytes are those two words as they are, the
    increment's low bit set. ``checked`` compares the result with the setter's; where they differ (a
    build without 128-bit integers, a future layout) it returns None and the setter is used."""

    __slots__ = ("_bitgen", "_words", "_inc_low", "_buffered")

    def __init__(self, bitgen: np.random.PCG64) -> None:
        self._bitgen = bitgen  # keeps the memory written below alive
        address = bitgen.ctypes.state_address
        words = ctypes.c_void_p.from_address(address).value
        assert words is not None
        self._words = words
        self._inc_low = ctypes.c_uint8.from_address(words + 16)
        # has_uint32 and uinteger, side by side after the pointer: cleared as one 64-bit word
        self._buffered = ctypes.c_uint64.from_address(address + ctypes.sizeof(ctypes.c_void_p))

    def write(self, digest: bytes) -> None:
        ctypes.memmove(self._words, digest, 32)
        self._inc_low.value |= 1
        self._buffered.value = 0

    @classmethod
    def checked(cls, bitgen: np.random.PCG64, slow: object) -> _StateWriter | None:
        try:
            writer = cls(bitgen)
        except (AttributeError, TypeError, ValueError, AssertionError):
            return None
        probe = hashlib.blake2b(b"sim2real state writer probe", digest_size=32).digest()
        bitgen.random_raw(3)  # leave the setter's state behind, with a half-used 32-bit draw
        bitgen.ctypes.next_uint32(bitgen.ctypes.state)
        slow(probe)  # type: ignore[operator]
        wanted = bitgen.state, bitgen.random_raw(4).tolist()
        bitgen.ctypes.next_uint32(bitgen.ctypes.state)
        writer.write(probe)
        got = bitgen.state, bitgen.random_raw(4).tolist()
        return writer if got == wanted else None


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's output function (Stafford's Mix13), in place on a uint64 array (arithmetic mod 2^64)."""
    z ^= z >> _S30
    z *= _MIX1
    z ^= z >> _S27
    z *= _MIX2
    z ^= z >> _S31
    return z


def column_increments(offsets: np.ndarray) -> np.ndarray:
    """SplitMix64's state increments for uniform number ``offsets`` (``e * width + c``) of a firing."""
    return (np.asarray(offsets, dtype=np.uint64) + np.uint64(1)) * _GOLDEN


def firing_uniforms(keys: np.ndarray, owner: np.ndarray, increments: np.ndarray, first: int, count: int) -> np.ndarray:
    """Uniforms in (0, 1) of firings ``first .. first + count - 1``: ``(count, columns)``, column ``j``
    belonging to stream ``owner[j]`` (its key in ``keys``) with increment ``increments[j]``
    (``column_increments(e * width + c)``).

    A value depends on (key, firing, e * width + c) only (module docstring): environment ``e`` gets the
    same values whatever the number of environments, and a firing the same whatever ``first`` and ``count``."""
    firings = np.arange(first, first + count, dtype=np.uint64)
    seeds = _mix(firings[:, None] * _GOLDEN + keys[None, :])  # one SplitMix64 state per (firing, stream)
    z = _mix(seeds[:, owner] + increments)
    return ((z >> _S11).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)  # 53 bits, centred: never 0 or 1
