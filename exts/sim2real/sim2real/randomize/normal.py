"""The standard normal CDF and its inverse, vectorised with numpy only (scipy is an optional extra).

``ndtri`` is Wichura's algorithm AS241 (PPND16): M. J. Wichura, "Algorithm AS 241: The Percentage
Points of the Normal Distribution", Applied Statistics 37(3):477-484, 1988, doi:10.2307/2347330.
Its relative accuracy is about 1e-16; the coefficients are the published ones (CPython's
``statistics.NormalDist.inv_cdf`` uses the same algorithm, which the tests compare against).
"""

from __future__ import annotations

import math

import numpy as np

# AS241 coefficients, highest power first (for Horner evaluation)
# fmt: off
_A = (2.5090809287301226727e3, 3.3430575583588128105e4, 6.7265770927008700853e4, 4.5921953931549871457e4,
      1.3731693765509461125e4, 1.9715909503065514427e3, 1.3314166789178437745e2, 3.3871328727963666080e0)
_B = (5.2264952788528545610e3, 2.8729085735721942674e4, 3.9307895800092710610e4, 2.1213794301586595867e4,
      5.3941960214247511077e3, 6.8718700749205790830e2, 4.2313330701600911252e1, 1.0)
_C = (7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
      1.27045825245236838258e0, 3.64784832476320460504e0, 5.76949722146069140550e0,
      4.63033784615654529590e0, 1.42343711074968357734e0)
_D = (1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
      1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940e0,
      2.05319162663775882187e0, 1.0)
_E = (2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3,
      2.65321895265761230930e-2, 2.96560571828504891230e-1, 1.78482653991729133580e0,
      5.46378491116411436990e0, 6.65790464350110377720e0)
_F = (2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5,
      7.86869131145613259100e-4, 1.48753612908506148525e-2, 1.36929880922735805310e-1,
      5.99832206555887937690e-1, 1.0)
# fmt: on


def _horner(coeffs: tuple[float, ...], x: np.ndarray) -> np.ndarray:
    out = x * coeffs[0]
    out += coeffs[1]
    for c in coeffs[2:]:
        out *= x
        out += c
    return out


def ndtri(p: np.ndarray | float) -> np.ndarray:
    """Inverse of the standard normal CDF, elementwise; ``p`` must lie in (0, 1)."""
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    r = 0.180625 - q * q
    # the central formula everywhere (finite in the tails too), then the tails overwritten: cheaper
    # than gathering the ~85% central elements of a typical draw
    out = q * _horner(_A, r)
    out /= _horner(_B, r)
    tail = np.flatnonzero(np.abs(q) > 0.425)
    if tail.size:
        qt = q.flat[tail]
        pt = p.flat[tail]
        r = np.sqrt(-np.log(np.minimum(pt, 1.0 - pt)))  # the tail's own side: p below, 1 - p above
        if r.max() <= 5.0:  # p > 1.4e-11: the usual case, no further split
            rn = r - 1.6
            x = _horner(_C, rn) / _horner(_D, rn)
        else:
            x = np.empty_like(r)
            near = r <= 5.0
            rn = r[near] - 1.6
            x[near] = _horner(_C, rn) / _horner(_D, rn)
            rf = r[~near] - 5.0
            x[~near] = _horner(_E, rf) / _horner(_F, rf)
        out.flat[tail] = np.copysign(x, qt)  # x > 0; the lower tail (q < 0) is negative
    return out


def ndtr(z: float) -> float:
    """Standard normal CDF of a scalar, accurate in the lower tail (uses erfc, not 1 - erf)."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))
