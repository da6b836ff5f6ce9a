"""Image gap: SSIM against scikit-image, NCC against OpenCV, random features, KID/MMD, set statistics."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from gap_helpers import realistic, scene_image, write_images
from sim2real.dataset.imagesets import open_image_set
from sim2real.errors import InputError
from sim2real.gap.image_gap import image_gap
from sim2real.gap.images import (
    SetStats,
    grey,
    high_frequency_share,
    ncc,
    pair_metrics,
    radial_power,
    spectral_slope,
    ssim,
    wasserstein_hist,
)
from sim2real.train.features import FeatureExtractor, RandomConvFeatures, extractor_from_spec, kid, mmd_rbf
from skimage.metrics import structural_similarity


def _pair(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = scene_image(rng, 64)
    return a, realistic(a, rng)


def test_ssim_matches_scikit_image() -> None:
    a, b = _pair()
    ref = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                data_range=255, channel_axis=-1)
    assert ssim(a, b) == pytest.approx(ref, abs=1e-9)
    ga, gb = grey(a), grey(b)
    ref_g = structural_similarity(ga, gb, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    assert ssim(ga, gb) == pytest.approx(ref_g, abs=1e-9)
    assert ssim(a, a) == pytest.approx(1.0)


def test_ncc_matches_opencv_template_matching() -> None:
    a, b = _pair(1)
    ga = np.round(grey(a)).astype(np.float32)
    gb = np.round(grey(b)).astype(np.float32)
    ref = float(cv2.matchTemplate(ga, gb, cv2.TM_CCOEFF_NORMED)[0][0])
    assert ncc(np.repeat(ga[..., None], 3, 2), np.repeat(gb[..., None], 3, 2)) == pytest.approx(ref, abs=1e-5)
    assert ncc(a, 255 - a) == pytest.approx(-1.0)
    m = pair_metrics(a, np.asarray(cv2.resize(b, (96, 80))))  # real resized to the sim's size
    assert m["similarity"] == pytest.approx((m["ncc"] + 1) / 2) and 0 < m["ssim"] < 1


def test_random_features_are_seeded_and_fit_the_extractor_protocol() -> None:
    imgs = np.stack([scene_image(np.random.default_rng(i), 64) for i in range(5)])
    f1 = RandomConvFeatures(seed=3)
    assert isinstance(f1, FeatureExtractor) and f1.size == 64
    out = f1(imgs)
    assert out.shape == (5, f1.dim) == (5, 224) and out.dtype == np.float64
    assert RandomConvFeatures(seed=3)(imgs).tobytes() == out.tobytes()  # same seed, same bytes
    assert not np.allclose(RandomConvFeatures(seed=4)(imgs), out)
    assert np.linalg.matrix_rank(out) == 5  # images are told apart
    with pytest.raises(InputError, match="uint8"):
        f1(imgs.astype(np.float32))
    with pytest.raises(InputError, match="not a sim2real training run"):
        extractor_from_spec("model:runs/x")  # trained-model features: tests/train/test_train_features.py


def _mmd2_reference(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased estimator written as sums over distinct pairs."""
    k = lambda a, b: (a @ b / x.shape[1] + 1) ** 3
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kid_against_the_pairwise_formula_and_its_behaviour() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 6)), rng.normal(0.3, 1.0, size=(20, 6))
    one = kid(x, y, subsets=1, subset_size=20)  # a full subset is a permutation: the estimator is invariant
    assert one.mean == pytest.approx(_mmd2_reference(x, y), rel=1e-10) and one.std == 0
    same = kid(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)), subsets=20, subset_size=100)
    shifted = kid(rng.normal(size=(300, 8)), rng.normal(0.5, 1, size=(300, 8)), subsets=20, subset_size=100)
    assert abs(same.mean) < 3 * same.std + 1e-3 and shifted.mean > 10 * max(same.std, 1e-3)


def test_mmd_permutation_test() -> None:
    rng = np.random.default_rng(1)
    same = mmd_rbf(rng.normal(size=(60, 5)), rng.normal(size=(60, 5)), permutations=99)
    diff = mmd_rbf(rng.normal(size=(60, 5)), rng.normal(0.8, 1, size=(60, 5)), permutations=99)
    assert same.p_value > 0.05
    assert diff.p_value == pytest.approx(1 / 100) and diff.mmd2 > same.mmd2


def test_frequency_statistics() -> None:
    rng = np.random.default_rng(2)
    f = np.fft.fftfreq(128)
    fx, fy = np.meshgrid(f, f)
    radius = np.hypot(fx, fy)
    radius[0, 0] = 1
    pink = np.real(np.fft.ifft2(np.fft.fft2(rng.normal(size=(128, 128))) / radius))  # power ~ 1/f^2
    assert spectral_slope(radial_power(pink)) == pytest.approx(-2.0, abs=0.3)
    white = rng.normal(size=(128, 128))
    assert spectral_slope(radial_power(white)) == pytest.approx(0.0, abs=0.3)
    assert high_frequency_share(radial_power(white)) > 0.5 > high_frequency_share(radial_power(pink))


def test_image_gap_on_folders(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    clean = [scene_image(rng, 48) for _ in range(24)]
    names = [f"{'mug' if i % 2 else 'box'}/{i:03d}" for i in range(24)]
    sim = write_images(tmp_path / "sim", clean, names)
    real = write_images(tmp_path / "real", [realistic(c, rng) for c in clean], names)
    g = image_gap(open_image_set(sim), open_image_set(real), RandomConvFeatures(size=32), "name", permutations=49,
                  kid_subsets=10, kid_subset_size=12)
    assert g.n_sim == g.n_real == 24 and len(g.pairs) == 24
    assert g.mmd["p_value"] == pytest.approx(1 / 50) and g.kid["mean"] > 0  # noise and colour cast are seen
    col = g.stats["colour"]
    assert col["mean_real"][0] > col["mean_sim"][0] and col["mean_real"][2] < col["mean_sim"][2]  # warm cast
    fr = g.stats["frequency"]
    assert fr["high_freq_share_real"] > fr["high_freq_share_sim"]  # sensor noise adds high frequencies
    assert set(g.per_class) == {"box", "mug"} and g.per_class["mug"]["n_sim"] == 12
    assert len(g.worst_pairs) == 4 and g.worst_pairs[0][1] <= g.worst_pairs[-1][1]
    # the same set against itself: no gap
    g0 = image_gap(open_image_set(sim), open_image_set(sim), RandomConvFeatures(size=32), "name", permutations=49,
                   kid_subsets=10, kid_subset_size=12)
    assert g0.pair_summary()["ssim_mean"] == pytest.approx(1.0) and g0.mmd["p_value"] > 0.5


def test_colour_statistics_against_numpy() -> None:
    rng = np.random.default_rng(8)
    imgs = [rng.integers(0, 256, (20, 30, 3), dtype=np.uint8) for _ in range(3)]
    st = SetStats()
    for img in imgs:
        st.add(img)
    px = np.concatenate([i.reshape(-1, 3) for i in imgs]).astype(float)
    np.testing.assert_allclose(st.mean, px.mean(0))
    np.testing.assert_allclose(st.std, px.std(0))
    for c in range(3):
        np.testing.assert_array_equal(st.hist[c], np.histogram(px[:, c], bins=32, range=(0, 256))[0])
    p, q = np.zeros(32), np.zeros(32)
    p[[3, 10]], q[[5, 10]] = 1, 1  # half the mass moves two bins (16 grey levels): EMD 8
    assert wasserstein_hist(p, q, 8.0) == pytest.approx(8.0)


def test_image_set_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="expected .png or .jpg images"):
        open_image_set(tmp_path / "empty")
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "manifest.json").write_text("{}")
    with pytest.raises(InputError, match="not a sim2real dataset manifest"):
        open_image_set(tmp_path / "ds")  # real datasets and bags: tests/train/test_train_sources.py
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="not a readable image"):
        open_image_set(tmp_path / "bad").items[0].load()
