"""Tests of the error metrics and of cross_validate."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import spearmanr

from alphaflops import load_dataset
from alphaflops.evaluation import METRIC_NAMES, CrossValidationResult, cross_validate, metrics
from alphaflops.models import AlphaFlopsRegressor, FlopsRegressor, published_model


@pytest.fixture(scope="module")
def t2000(t2000_path):
    return load_dataset(t2000_path)


# Metrics ---------------------------------------------------------------------


def test_metrics_known_values():
    result = metrics([1.0, 2.0, 4.0, 8.0], [1.05, 1.0, 4.0, 8.4])

    assert set(result) == set(METRIC_NAMES)
    assert result["mape"] == pytest.approx((0.05 + 0.5 + 0.0 + 0.05) / 4)
    assert result["median_ape"] == pytest.approx(0.05)
    assert result["max_ape"] == pytest.approx(0.5)
    assert result["rmse_ms"] == pytest.approx(np.sqrt((0.0025 + 1.0 + 0.0 + 0.16) / 4))
    assert result["within_10pct"] == pytest.approx(0.75)
    assert result["spearman"] == pytest.approx(0.8)


def test_metrics_are_plain_floats():
    result = metrics([1.0, 2.0, 3.0], [1.0, 2.5, 2.0])

    for name in METRIC_NAMES:
        assert type(result[name]) is float, name


def test_zero_measured_time_names_row():
    # A plain MAPE divides by machine epsilon here and reports about 1.5e14.
    with pytest.raises(ValueError, match=r"zero or negative.* row\(s\): 0 \(0\.0\)"):
        metrics([0.0, 1.0, 2.0], [0.1, 1.1, 1.8])


def test_negative_measured_times_name_every_row():
    with pytest.raises(ValueError, match=r"2 row\(s\): 1 \(-1\.0\), 3 \(-2\.0\)"):
        metrics([1.0, -1.0, 2.0, -2.0], [1.0, 1.0, 1.0, 1.0])


def test_skip_nonpositive_counts_rows_left_out():
    result = metrics([0.0, 1.0, 2.0], [0.1, 1.1, 1.8], skip_nonpositive=True)

    assert result["mape"] == pytest.approx(0.1)
    assert result["rows_left_out"] == 1


def test_skip_nonpositive_with_no_valid_row_raises():
    with pytest.raises(ValueError, match="no row is left"):
        metrics([0.0, -1.0], [1.0, 1.0], skip_nonpositive=True)


@pytest.mark.parametrize("bad", [-0.33, 0.0, np.nan, np.inf])
def test_invalid_prediction_raises(bad):
    # A straight line through (1, 0.2), (2, 0.3), (3, 2.0), (4, 2.1) predicts
    # -0.33 ms at x = 0.5; no metric may silently accept such a prediction.
    with pytest.raises(ValueError, match=r"predicted time is not positive and finite in 1 row\(s\): 1"):
        metrics([0.2, 0.3], [0.2, bad])


def test_invalid_prediction_raises_when_skipping():
    with pytest.raises(ValueError, match="predicted time"):
        metrics([0.0, 1.0], [1.0, -1.0], skip_nonpositive=True)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_measured_time_raises(bad):
    with pytest.raises(ValueError, match=r"measured time is not finite .* row\(s\): 2"):
        metrics([1.0, 2.0, bad], [1.0, 2.0, 3.0])


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="3 rows but y_pred has 2"):
        metrics([1.0, 2.0, 3.0], [1.0, 2.0])


def test_empty_input_raises():
    with pytest.raises(ValueError, match="at least one row"):
        metrics([], [])


def test_two_dimensional_input_raises():
    with pytest.raises(ValueError, match=r"1-D array .* shape \(2, 2\)"):
        metrics(np.ones((2, 2)), np.ones((2, 2)))


def test_column_vector_is_accepted():
    result = metrics(np.array([[1.0], [2.0]]), np.array([1.0, 2.0]))

    assert result["mape"] == 0.0


def test_spearman_of_constant_prediction_is_nan():
    assert np.isnan(metrics([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])["spearman"])


def test_spearman_of_one_row_is_nan():
    assert np.isnan(metrics([1.0], [2.0])["spearman"])


positive_times = arrays(
    np.float64, st.integers(2, 40), elements=st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)
)


@settings(max_examples=50, deadline=None)
@given(positive_times, st.randoms(use_true_random=False))
def test_spearman_matches_scipy(y_true, random):
    y_pred = np.array([random.uniform(1e-3, 1e3) for _ in y_true])
    with warnings.catch_warnings():
        # scipy warns on constant input; metrics() returns NaN silently.
        warnings.simplefilter("ignore")
        expected = spearmanr(y_true, y_pred).statistic

    result = metrics(y_true, y_pred)["spearman"]

    if np.isnan(expected):
        assert np.isnan(result)
    else:
        assert result == pytest.approx(expected, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(positive_times, st.floats(1e-6, 1e6))
def test_relative_metrics_do_not_depend_on_unit(y_true, unit):
    y_pred = y_true[::-1].copy()
    plain = metrics(y_true, y_pred)
    scaled = metrics(y_true * unit, y_pred * unit)

    for name in ("mape", "median_ape", "max_ape", "spearman"):
        assert scaled[name] == pytest.approx(plain[name], rel=1e-9, abs=1e-12, nan_ok=True), name
    # Rounding may move an error of exactly 10% across the boundary.
    if not np.any(np.isclose(np.abs(y_pred / y_true - 1), 0.1, rtol=1e-9)):
        assert scaled["within_10pct"] == plain["within_10pct"]
    assert scaled["rmse_ms"] == pytest.approx(plain["rmse_ms"] * unit, rel=1e-9)


@settings(max_examples=50, deadline=None)
@given(positive_times)
def test_perfect_prediction_has_zero_error(y_true):
    result = metrics(y_true, y_true)

    assert result["mape"] == 0.0
    assert result["max_ape"] == 0.0
    assert result["rmse_ms"] == 0.0
    assert result["within_10pct"] == 1.0


def test_published_model_mape_on_t2000(t2000):
    result = metrics(t2000.y, published_model().predict(t2000.X))

    assert round(result["mape"], 4) == 0.2163


# Cross-validation ----------------------------------------------------------------


def test_leave_one_plot_out_covers_every_plot(t2000):
    result = cross_validate(FlopsRegressor(), t2000, by="plot")

    assert isinstance(result, CrossValidationResult)
    assert list(result.per_plot) == t2000.plot_names
    assert len(result.splits) == len(t2000.plot_names)
    assert sorted(np.concatenate(result.splits).tolist()) == list(range(len(t2000)))


def test_leave_one_plot_out_predictions_are_held_out(t2000):
    estimator = AlphaFlopsRegressor()
    result = cross_validate(estimator, t2000, by="plot")

    held_out = t2000.groups == 0
    expected = AlphaFlopsRegressor().fit(t2000.X[~held_out], t2000.y[~held_out]).predict(t2000.X[held_out])
    np.testing.assert_array_equal(result.predictions[held_out], expected)


def test_cross_validate_leaves_estimator_unfitted(t2000):
    estimator = FlopsRegressor()
    cross_validate(estimator, t2000, by="plot")

    assert not hasattr(estimator, "params_")


def test_cross_validation_metrics_match_predictions(t2000):
    result = cross_validate(FlopsRegressor(), t2000, by="plot")

    assert result.metrics == metrics(t2000.y, result.predictions)
    first = t2000.groups == 0
    assert result.per_plot[t2000.plot_names[0]] == metrics(t2000.y[first], result.predictions[first])


def test_published_model_cross_validation_equals_in_sample(t2000):
    result = cross_validate(published_model(), t2000, by="plot")

    np.testing.assert_array_equal(result.predictions, published_model().predict(t2000.X))


def test_alpha_fitted_beats_flops_held_out(t2000):
    flops = cross_validate(FlopsRegressor(), t2000, by="plot")
    alpha = cross_validate(AlphaFlopsRegressor(), t2000, by="plot")

    assert alpha.metrics["mape"] < flops.metrics["mape"]


def test_kfold_is_reproducible_with_seed(t2000):
    first = cross_validate(FlopsRegressor(), t2000, by="kfold", n_splits=4, seed=3)
    second = cross_validate(FlopsRegressor(), t2000, by="kfold", n_splits=4, seed=3)

    np.testing.assert_array_equal(first.predictions, second.predictions)
    assert len(first.splits) == 4


def test_kfold_seed_changes_folds(t2000):
    first = cross_validate(FlopsRegressor(), t2000, by="kfold", seed=0)
    second = cross_validate(FlopsRegressor(), t2000, by="kfold", seed=1)

    assert not np.array_equal(first.splits[0], second.splits[0])


def test_kfold_reports_per_plot(t2000):
    result = cross_validate(FlopsRegressor(), t2000, by="kfold")

    assert list(result.per_plot) == t2000.plot_names


def test_explicit_groups_replace_plots(t2000):
    groups = (t2000.X[:, 4] > 1).astype(int)
    result = cross_validate(FlopsRegressor(), t2000, by="plot", groups=groups)

    assert len(result.splits) == 2
    assert set(result.per_plot) == {"0", "1"}


def _table(n_rows=40, groups=None):
    rng = np.random.default_rng(0)
    X = rng.integers(1, 64, size=(n_rows, 6)).astype(float)
    y = 1e-6 * np.prod(X, axis=1) + 0.05
    if groups is None:
        groups = np.full(n_rows, -1)
    return SimpleNamespace(X=X, y=y, groups=groups)


def test_dataset_without_plots_needs_kfold():
    with pytest.raises(ValueError, match="no plots to hold out.*by='kfold'"):
        cross_validate(FlopsRegressor(), _table(), by="plot")


def test_dataset_without_plots_has_no_per_plot():
    result = cross_validate(FlopsRegressor(), _table(), by="kfold")

    assert result.per_plot == {}


def test_single_group_raises():
    with pytest.raises(ValueError, match="at least two plots"):
        cross_validate(FlopsRegressor(), _table(groups=np.zeros(40, dtype=int)), by="plot")


def test_unknown_split_raises():
    with pytest.raises(ValueError, match="by must be 'plot' or 'kfold', got 'rows'"):
        cross_validate(FlopsRegressor(), _table(), by="rows")


def test_groups_of_wrong_length_raise():
    with pytest.raises(ValueError, match=r"one label per row \(40\)"):
        cross_validate(FlopsRegressor(), _table(), groups=[0, 1])
