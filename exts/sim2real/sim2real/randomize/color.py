"""Colour temperature (kelvin) to linear RGB, for lights whose engine takes an RGB colour (MuJoCo).

Method: the chromaticity of a black body at temperature T on the CIE 1931 Planckian locus, by the
cubic-spline approximation of Kim et al. (B. Kang, O. Moon, C. Hong, H. Lee, B. Cho, Y. Kim,
"Design of Advanced Color Temperature Control System for HDTV Applications", Journal of the Korean
Physical Society 41(6):865-871, 2002; also US patent 7,024,034), valid from 1667 K to 25000 K and
within about 1e-3 of the exact locus in (x, y). The chromaticity becomes CIE XYZ with Y = 1, then
linear sRGB / Rec. 709 primaries (D65 white) with the matrix of IEC 61966-2-1. The result is
normalised so its largest channel is 1: temperature sets the tint, ``light:*/intensity`` the
brightness. Channels outside the sRGB gamut (blue below about 1900 K) are clipped at 0.

USD lights take the temperature itself (``inputs:colorTemperature``), so only RGB engines need this.
"""

from __future__ import annotations

import numpy as np

T_MIN, T_MAX = 1667.0, 25000.0  # K, the validity range of the locus approximation

# XYZ -> linear sRGB (IEC 61966-2-1:1999, D65 white point)
# fmt: off
XYZ_TO_LINEAR_SRGB = np.array(
    [[3.2406, -1.5372, -0.4986],
     [-0.9689, 1.8758, 0.0415],
     [0.0557, -0.2040, 1.0570]]
)
# fmt: on


def planckian_xy(kelvin: np.ndarray | float) -> np.ndarray:
    """CIE 1931 (x, y) of a black body at ``kelvin`` (clipped to 1667..25000 K); shape (..., 2)."""
    t = np.clip(np.asarray(kelvin, dtype=np.float64), T_MIN, T_MAX)
    x = np.where(
        t <= 4000.0,
        -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910,
        -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390,
    )
    y = np.select(
        [t <= 2222.0, t <= 4000.0],
        [
            -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683,
            -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867,
        ],
        3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483,
    )
    return np.stack([x, y], axis=-1)


def kelvin_to_rgb(kelvin: np.ndarray | float) -> np.ndarray:
    """Linear RGB (largest channel 1) of a black body at ``kelvin``; shape (..., 3)."""
    xy = planckian_xy(kelvin)
    x, y = xy[..., 0], xy[..., 1]
    xyz = np.stack([x / y, np.ones_like(x), (1.0 - x - y) / y], axis=-1)
    rgb = np.clip(xyz @ XYZ_TO_LINEAR_SRGB.T, 0.0, None)
    return rgb / rgb.max(axis=-1, keepdims=True)
