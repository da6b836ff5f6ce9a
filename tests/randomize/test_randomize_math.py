"""The numeric building blocks: the inverse normal CDF and the colour-temperature conversion."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from sim2real.randomize.color import kelvin_to_rgb, planckian_xy
from sim2real.randomize.normal import ndtr, ndtri


def test_ndtri_matches_the_standard_library_to_full_precision() -> None:
    p = np.concatenate(
        [np.logspace(-300, -1, 400), np.linspace(0.01, 0.99, 999), 1 - np.logspace(-16, -1, 200)]
    )
    ref = np.array([NormalDist().inv_cdf(float(x)) for x in p])
    assert np.allclose(ndtri(p), ref, rtol=1e-14, atol=1e-15)
    assert ndtri(0.5) == 0.0 and ndtri(np.array([0.975]))[0] == pytest.approx(1.959963984540054, abs=1e-14)


def test_ndtri_agrees_with_scipy_when_it_is_installed() -> None:
    special = pytest.importorskip("scipy.special")
    p = np.random.default_rng(0).random(10_000)
    assert np.allclose(ndtri(p), special.ndtri(p), rtol=1e-13, atol=1e-14)


def test_ndtr_is_accurate_deep_in_the_lower_tail() -> None:
    assert ndtr(0.0) == 0.5
    assert ndtr(-10.0) == pytest.approx(7.619853024160527e-24, rel=1e-12)  # 1 - erf would round to 0
    for z in (-30.0, -5.0, 1.5):
        assert ndtri(np.array([ndtr(z)]))[0] == pytest.approx(z, rel=1e-12)


# Published chromaticities of black bodies on the CIE 1931 Planckian locus:
# CIE standard illuminant A (2856 K, CIE 15:2004 table T.3) and values of the locus itself.
@pytest.mark.parametrize(
    ("kelvin", "xy"),
    [
        (2856, (0.44757, 0.40745)),
        (4000, (0.3805, 0.3768)),
        (5000, (0.3451, 0.3516)),
        (10000, (0.2807, 0.2884)),
    ],
)
def test_planckian_locus_matches_published_chromaticities(kelvin: float, xy: tuple[float, float]) -> None:
    assert np.allclose(planckian_xy(kelvin), xy, atol=1.5e-3)


def _wyman_cmf(lam: np.ndarray) -> np.ndarray:
    """CIE 1931 colour-matching functions, multi-lobe fit of Wyman, Sloan & Shirley (JCGT 2(2), 2013)."""

    def g(mu: float, s1: float, s2: float) -> np.ndarray:
        s = np.where(lam < mu, s1, s2)
        return np.exp(-0.5 * ((lam - mu) / s) ** 2)

    x = 1.056 * g(599.8, 37.9, 31.0) + 0.362 * g(442.0, 16.0, 26.7) - 0.065 * g(501.1, 20.4, 26.2)
    y = 0.821 * g(568.8, 46.9, 40.5) + 0.286 * g(530.9, 16.3, 31.1)
    z = 1.217 * g(437.0, 11.8, 36.0) + 0.681 * g(459.0, 26.0, 13.8)
    return np.stack([x, y, z], axis=-1)


@pytest.mark.parametrize("kelvin", [1800, 2500, 3300, 4500, 6500, 9000, 15000])
def test_planckian_locus_agrees_with_integrating_plancks_law(kelvin: float) -> None:
    """An independent derivation: Planck's law integrated against the colour-matching functions.

    The analytic CMF fit is itself approximate (about 3e-3 in xy below 2000 K), hence the tolerance."""
    lam = np.linspace(360, 830, 2000)  # nm
    h, c, k = 6.62607015e-34, 2.99792458e8, 1.380649e-23
    radiance = 1.0 / ((lam * 1e-9) ** 5 * (np.exp(h * c / (lam * 1e-9 * k * kelvin)) - 1.0))
    xyz = (radiance[:, None] * _wyman_cmf(lam)).sum(axis=0)
    assert np.allclose(planckian_xy(kelvin), xyz[:2] / xyz.sum(), atol=4e-3 if kelvin < 2200 else 1.5e-3)


def test_kelvin_to_rgb_tints_from_warm_to_cool() -> None:
    temps = np.array([1900.0, 2700.0, 4000.0, 5500.0, 6500.0, 8000.0, 12000.0])
    rgb = kelvin_to_rgb(temps)
    assert rgb.shape == (7, 3) and np.all(rgb >= 0) and np.allclose(rgb.max(axis=1), 1.0)
    ratio = rgb[:, 2] / rgb[:, 0]
    assert np.all(np.diff(ratio) > 0)  # bluer as it gets hotter
    assert np.all(rgb[4] > 0.9)  # 6500 K is near white in sRGB (D65)
    assert rgb[0, 0] == 1.0 and rgb[0, 2] < 0.1 and rgb[-1, 2] == 1.0 and rgb[-1, 0] < 0.8
    assert np.allclose(kelvin_to_rgb(500.0), kelvin_to_rgb(1667.0))  # clipped to the valid range
    assert math.isclose(float(kelvin_to_rgb(6500.0)[1]), float(rgb[4, 1]))
