"""The alpha factor and the published alpha-FLOPs time model."""

import math
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphaflops.alpha import PUBLISHED_CONSTANTS, alpha_factor, published_alpha, published_alpha_time


def _published_formula(row):
    """The published formula written out term by term, one row at a time."""
    height, width, in_channels, out_channels, k1, k2 = row
    spatial = height * width
    kernel = k1 * k2
    channels = in_channels * out_channels
    log_kernel = math.log(kernel) + 1
    beta, gamma = (0.02, 0.99) if kernel == 1 else (0.001, 0.56)
    alpha = ((log_kernel + beta * (spatial - log_kernel)) / spatial) ** gamma
    return 0.0375 * alpha * (channels * kernel * spatial / 1e6)


def _load_published_rows(path):
    # A plain unpickler is acceptable here because the file's SHA-256 is
    # fixed; the project's loader has a restricted unpickler.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with open(path, "rb") as file:
            data = pickle.load(file)
    return np.vstack([line for plot in data["plots"] for line in plot["lines"]])


def test_published_constants():
    assert PUBLISHED_CONSTANTS["scale_ms_per_mmac"] == 0.0375
    assert PUBLISHED_CONSTANTS["classes"]["1x1"] == (0.02, 0.99)
    assert PUBLISHED_CONSTANTS["classes"]["larger"].beta == 0.001
    assert PUBLISHED_CONSTANTS["classes"]["larger"].gamma == 0.56


def test_published_time_matches_formula_on_t2000(t2000_path):
    rows = _load_published_rows(t2000_path)
    assert rows.shape == (721, 7)
    predicted = published_alpha_time(rows[:, :6])
    expected = np.array([_published_formula(row) for row in rows[:, :6]])
    np.testing.assert_allclose(predicted, expected, rtol=1e-12, atol=0)


def test_published_mape_on_t2000(t2000_path):
    rows = _load_published_rows(t2000_path)
    error = np.mean(np.abs(published_alpha_time(rows[:, :6]) - rows[:, 6]) / rows[:, 6])
    assert round(error, 4) == 0.2163


def test_alpha_factor_known_value():
    # K = 9, D = 100: S_K = ln 9 + 1, larger-kernel constants.
    log_kernel = math.log(9) + 1
    expected = ((log_kernel + 0.001 * (100 - log_kernel)) / 100) ** 0.56
    assert alpha_factor(9, 100) == pytest.approx(expected, rel=1e-15)
    assert alpha_factor(9, 100, beta=0.001, gamma=0.56) == pytest.approx(expected, rel=1e-15)


def test_alpha_factor_one_by_one_class():
    expected = ((1 + 0.02 * (49 - 1)) / 49) ** 0.99
    assert alpha_factor(1, 49) == pytest.approx(expected, rel=1e-15)


def test_alpha_factor_broadcasts():
    result = alpha_factor(np.array([1, 9, 25]), np.array([[4], [64]]))
    assert result.shape == (2, 3)


@given(st.floats(0.0, 1.0), st.floats(0.1, 2.0))
def test_alpha_factor_one_at_unit_sizes(beta, gamma):
    # With K = 1 and D = 1, S_K = 1 and the factor is (1 + beta * 0) ** gamma.
    assert alpha_factor(1, 1, beta, gamma) == pytest.approx(1.0)


@given(st.integers(1, 49), st.integers(1, 10**5))
def test_alpha_factor_decreases_with_spatial_size(kernel_area, spatial):
    assert alpha_factor(kernel_area, spatial + 1) <= alpha_factor(kernel_area, spatial)


def test_published_alpha_uses_row_columns():
    rows = np.array([[10, 10, 3, 4, 3, 3], [7, 7, 5, 5, 1, 1]])
    assert np.allclose(published_alpha(rows), [alpha_factor(9, 100), alpha_factor(1, 49)])


def test_published_time_accepts_single_row():
    assert published_alpha_time([10, 10, 3, 4, 3, 3]).shape == (1,)


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        ((0, 10), "kernel_area"),
        ((9, 0), "spatial"),
        ((9, np.inf), "spatial"),
    ],
)
def test_alpha_factor_rejects_invalid(arguments, fragment):
    with pytest.raises(ValueError, match=fragment):
        alpha_factor(*arguments)


def test_alpha_factor_needs_both_constants():
    with pytest.raises(ValueError, match="beta and gamma"):
        alpha_factor(9, 100, beta=0.1)


def test_published_time_rejects_bad_rows():
    with pytest.raises(ValueError, match="row 0"):
        published_alpha_time([[0, 10, 3, 4, 3, 3]])
