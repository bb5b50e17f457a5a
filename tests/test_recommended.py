"""The recommended cost model: accuracy targets on T2000, intervals, JAX and model files."""

import json

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import LeaveOneGroupOut

from alphaflops.plausibility import audit, fit_without_flagged
from alphaflops.datasets import load_dataset
from alphaflops.errors import ModelFileError
from alphaflops.evaluation import cross_validate, metrics
from alphaflops.models import FlopsRegressor, load_model
from alphaflops.models.recommended import PARAMETER_NAMES, RecommendedRegressor, recommended_time

size_strategy = st.integers(min_value=1, max_value=512)


@pytest.fixture(scope="module")
def plausible_t2000(t2000_path):
    dataset = load_dataset(t2000_path)
    return dataset.subset(~audit(dataset).flagged_mask)


@pytest.fixture(scope="module")
def fitted(plausible_t2000):
    return RecommendedRegressor().fit(plausible_t2000.X, plausible_t2000.y)


@pytest.fixture(scope="module")
def leave_one_plot_out(plausible_t2000):
    X, y = plausible_t2000.X, plausible_t2000.y
    predictions = np.empty_like(y)
    lower = np.empty_like(y)
    upper = np.empty_like(y)
    for train, test in LeaveOneGroupOut().split(X, y, plausible_t2000.groups):
        model = RecommendedRegressor().fit(X[train], y[train])
        predictions[test] = model.predict(X[test])
        lower[test], upper[test] = model.predict_interval(X[test], coverage=0.9)
    return predictions, lower, upper


def test_t2000_in_sample_mape(fitted, plausible_t2000):
    result = metrics(plausible_t2000.y, fitted.predict(plausible_t2000.X))

    assert result["mape"] <= 0.08


def test_t2000_in_sample_spearman(fitted, plausible_t2000):
    result = metrics(plausible_t2000.y, fitted.predict(plausible_t2000.X))

    assert result["spearman"] >= 0.995


def test_t2000_leave_one_plot_out_mape(leave_one_plot_out, plausible_t2000):
    predictions, _, _ = leave_one_plot_out

    assert metrics(plausible_t2000.y, predictions)["mape"] <= 0.12


def test_t2000_held_out_interval_coverage(leave_one_plot_out, plausible_t2000):
    _, lower, upper = leave_one_plot_out
    y = plausible_t2000.y

    coverage = np.mean((y >= lower) & (y <= upper))

    assert 0.85 <= coverage <= 0.95


def test_cross_validate_matches_manual_folds(leave_one_plot_out, plausible_t2000):
    predictions, _, _ = leave_one_plot_out

    result = cross_validate(RecommendedRegressor(interval_folds=0), plausible_t2000, by="plot")

    np.testing.assert_allclose(result.predictions, predictions, rtol=1e-6)


def test_parameters_named_and_positive(fitted):
    assert list(fitted.params_) == list(PARAMETER_NAMES)
    for name in ("overhead", "flop_rate", "weight_bandwidth", "spatial_saturation", "channel_saturation"):
        assert fitted.params_[name] > 0, name
    assert fitted.params_["overlap_exponent"] >= 1


def test_overhead_near_published_floor(fitted):
    assert 0.15 < fitted.params_["overhead"] < 0.3


def test_standard_errors_finite(fitted):
    assert set(fitted.standard_errors_) == set(PARAMETER_NAMES)
    assert all(np.isfinite(value) for value in fitted.standard_errors_.values())


def test_interval_contains_prediction(fitted, plausible_t2000):
    predictions = fitted.predict(plausible_t2000.X)

    lower, upper = fitted.predict_interval(plausible_t2000.X, coverage=0.9)

    assert np.all(lower < predictions)
    assert np.all(predictions < upper)


@given(st.floats(min_value=0.05, max_value=0.9), st.floats(min_value=0.01, max_value=0.09))
@settings(max_examples=25, deadline=None)
def test_interval_widens_with_coverage(fitted, coverage, extra):
    X = np.array([[100.0, 100.0, 64.0, 64.0, 3.0, 3.0]])

    narrow_low, narrow_high = fitted.predict_interval(X, coverage=coverage)
    wide_low, wide_high = fitted.predict_interval(X, coverage=coverage + extra)

    assert wide_low[0] <= narrow_low[0]
    assert wide_high[0] >= narrow_high[0]


@pytest.mark.parametrize("coverage", [0, 1, 1.5, -0.2, True, "0.9"])
def test_invalid_coverage_raises(fitted, coverage):
    with pytest.raises(ValueError, match="coverage"):
        fitted.predict_interval(np.ones((1, 6)), coverage=coverage)


@given(st.lists(size_strategy, min_size=6, max_size=6), st.integers(min_value=0, max_value=3))
@settings(max_examples=50, deadline=None)
def test_time_grows_with_layer_sizes(fitted, row, column):
    # H, W, Cin and Cout only add work or parallelism-limited work, never remove it.
    row = np.array([row], dtype=np.float64)
    row[:, 4:] = np.minimum(row[:, 4:], 7)
    larger = row.copy()
    larger[0, column] *= 2

    assert fitted.predict(larger)[0] >= fitted.predict(row)[0] * (1 - 1e-12)


@given(st.lists(size_strategy, min_size=6, max_size=6))
@settings(max_examples=50, deadline=None)
def test_time_at_least_overhead(fitted, row):
    row = np.array([row], dtype=np.float64)

    assert fitted.predict(row)[0] >= fitted.params_["overhead"]


def _device_time_params(**changes):
    # A model with no per-call floor and no weight traffic, so that the time is the compute term alone.
    params = {
        "overhead": 1e-12,
        "flop_rate": 1e9,
        "weight_bandwidth": 1e300,
        "spatial_saturation": 500.0,
        "kernel_saturation_exponent": 0.15,
        "reduction_overhead": 300.0,
        "channel_saturation": 10.0,
        "overlap_exponent": 8.0,
        "kernel_speedup": 1.0,
        "small_kernel_speedup": 1.0,
    }
    return {**params, **changes}


@pytest.mark.parametrize(("kernel", "uses_small"), [
    ((2, 2), True), ((3, 3), True), ((1, 3), True), ((3, 2), True),
    ((4, 4), False), ((1, 4), False), ((5, 5), False), ((3, 7), False), ((1, 1), False),
])
def test_small_kernel_speedup_by_kernel_shape(kernel, uses_small):
    # small_kernel_speedup applies to kernels larger than 1x1 with both sides at most 3.
    X = np.array([[64.0, 64.0, 32.0, 32.0, *kernel]])
    base = recommended_time(X, _device_time_params())[0]

    faster = recommended_time(X, _device_time_params(small_kernel_speedup=2.0))[0]

    np.testing.assert_allclose(faster, base / 2 if uses_small else base, rtol=1e-9)


@pytest.mark.parametrize("kernel", [(4, 4), (1, 5), (7, 7)])
def test_kernel_speedup_applies_to_larger_kernels(kernel):
    X = np.array([[64.0, 64.0, 32.0, 32.0, *kernel]])
    base = recommended_time(X, _device_time_params())[0]

    faster = recommended_time(X, _device_time_params(kernel_speedup=2.0))[0]

    np.testing.assert_allclose(faster, base / 2, rtol=1e-9)


def test_predict_jax_matches_predict(fitted, plausible_t2000):
    expected = fitted.predict(plausible_t2000.X)

    actual = np.asarray(jax.jit(fitted.predict_jax)(plausible_t2000.X))

    np.testing.assert_allclose(actual, expected, rtol=1e-4)


def test_predict_jax_gradient_finite(fitted):
    X = np.array([[32.0, 32.0, 64.0, 128.0, 3.0, 3.0], [1.0, 1.0, 4096.0, 4096.0, 1.0, 1.0]])

    gradient = jax.grad(lambda rows: fitted.predict_jax(rows).sum())(X)

    assert np.all(np.isfinite(np.asarray(gradient)))
    assert np.all(np.asarray(gradient)[:, :4] >= 0)


def test_fit_independent_of_time_unit(fitted, plausible_t2000):
    in_seconds = RecommendedRegressor().fit(plausible_t2000.X, plausible_t2000.y / 1e3)

    np.testing.assert_allclose(
        in_seconds.predict(plausible_t2000.X) * 1e3, fitted.predict(plausible_t2000.X), rtol=1e-3
    )


def test_standard_errors_finite_in_tiny_time_unit(fitted, plausible_t2000):
    # Times of about 1e-16 put the fitted overhead far below any absolute finite-difference step.
    tiny = RecommendedRegressor(interval_folds=0).fit(plausible_t2000.X, plausible_t2000.y * 1e-15)

    relative = {name: tiny.standard_errors_[name] / tiny.params_[name] for name in PARAMETER_NAMES}
    expected = {name: fitted.standard_errors_[name] / fitted.params_[name] for name in PARAMETER_NAMES}
    for name in PARAMETER_NAMES:
        assert relative[name] == pytest.approx(expected[name], rel=1e-2), name


def test_clone_keeps_settings():
    model = RecommendedRegressor(loss="linear", f_scale=0.2, interval_folds=3)

    copy = clone(model)

    assert copy.get_params() == model.get_params()


@pytest.mark.parametrize("folds", [1, -1, 2.5, True])
def test_invalid_interval_folds_raises(plausible_t2000, folds):
    with pytest.raises(ValueError, match="interval_folds"):
        RecommendedRegressor(interval_folds=folds).fit(plausible_t2000.X, plausible_t2000.y)


def test_few_rows_use_in_sample_errors(plausible_t2000):
    model = RecommendedRegressor().fit(plausible_t2000.X[:12], plausible_t2000.y[:12])

    assert model.interval_source_ == "in-sample"


def test_enough_rows_use_held_out_blocks(fitted):
    assert fitted.interval_source_ == "held-out blocks"


def test_model_file_round_trip(t2000_path, tmp_path):
    model, result = fit_without_flagged(RecommendedRegressor(), load_dataset(t2000_path))
    path = tmp_path / "recommended.json"
    X = np.array([[64.0, 64.0, 32.0, 32.0, 3.0, 3.0]])

    model.save(path)
    loaded = load_model(path)

    assert isinstance(loaded, RecommendedRegressor)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict_interval(X)[1], model.predict_interval(X)[1])
    assert loaded.excluded_rows_ == result.rows


def test_model_file_records_excluded_rows(t2000_path, tmp_path):
    model, _ = fit_without_flagged(RecommendedRegressor(), load_dataset(t2000_path))
    path = tmp_path / "recommended.json"

    model.save(path)
    contents = json.loads(path.read_text())

    assert len(contents["extras"]["excluded_rows"]) == 5
    assert contents["extras"]["excluded_rows"][0]["config"] == [300.0, 300.0, 150.0, 150.0, 1.0, 1.0]


def _edited_file(model, tmp_path, change):
    """Save ``model``, apply ``change`` to the parsed contents and return the path of the edited file."""
    path = tmp_path / "recommended.json"
    model.save(path)
    contents = json.loads(path.read_text())
    change(contents)
    path.write_text(json.dumps(contents))
    return path


def _drop_small_kernel_speedup(contents):
    del contents["parameters"]["small_kernel_speedup"]


def test_old_file_uses_one_speedup(fitted, plausible_t2000, tmp_path):
    # Files written before small_kernel_speedup existed had one speedup for
    # every kernel larger than 1x1.
    single_speedup = {**fitted.params_, "small_kernel_speedup": fitted.params_["kernel_speedup"]}

    loaded = load_model(_edited_file(fitted, tmp_path, _drop_small_kernel_speedup))

    expected = recommended_time(plausible_t2000.X, single_speedup)
    np.testing.assert_allclose(loaded.predict(plausible_t2000.X), expected, rtol=1e-12)


def test_file_without_either_speedup_rejected(fitted, tmp_path):
    def drop_both_speedups(contents):
        del contents["parameters"]["small_kernel_speedup"]
        del contents["parameters"]["kernel_speedup"]

    path = _edited_file(fitted, tmp_path, drop_both_speedups)

    with pytest.raises(ModelFileError, match="missing \\['kernel_speedup', 'small_kernel_speedup'\\]"):
        load_model(path)


def test_tampered_interval_rejected(fitted, tmp_path):
    def shorten_quantiles(contents):
        contents["extras"]["interval"]["log_error_quantiles"] = [0.0]

    path = _edited_file(fitted, tmp_path, shorten_quantiles)

    with pytest.raises(ModelFileError, match="log_error_quantiles"):
        load_model(path)


@pytest.mark.parametrize("source", [7, None, ["held-out blocks"], "made up"])
def test_invalid_interval_source_rejected(fitted, tmp_path, source):
    def replace_source(contents):
        contents["extras"]["interval"]["source"] = source

    path = _edited_file(fitted, tmp_path, replace_source)

    with pytest.raises(ModelFileError, match="extras.interval.source"):
        load_model(path)


def test_missing_interval_rejected(fitted, tmp_path):
    def drop_interval(contents):
        del contents["extras"]["interval"]

    path = _edited_file(fitted, tmp_path, drop_interval)

    with pytest.raises(ModelFileError, match="lacks extras.interval"):
        load_model(path)


def test_decreasing_interval_quantiles_rejected(fitted, tmp_path):
    def reverse_quantiles(contents):
        contents["extras"]["interval"]["log_error_quantiles"].reverse()

    path = _edited_file(fitted, tmp_path, reverse_quantiles)

    with pytest.raises(ModelFileError, match="'log_error_quantiles' must be non-decreasing"):
        load_model(path)


@pytest.mark.slow
def test_neusight_t4_beats_flops_line(neusight_dir):
    dataset = load_dataset(neusight_dir / "conv-Tesla_T4.csv", device=neusight_dir / "device-Tesla_T4.json")

    recommended = cross_validate(RecommendedRegressor(interval_folds=0), dataset, by="kfold")
    flops_line = cross_validate(FlopsRegressor(), dataset, by="kfold")

    assert recommended.metrics["mape"] < flops_line.metrics["mape"]


@pytest.mark.parametrize(("parameter", "value"), [("flop_rate", -2.0), ("overlap_exponent", 0.5)])
def test_out_of_range_parameter_rejected(fitted, tmp_path, parameter, value):
    def replace_value(contents):
        contents["parameters"][parameter]["value"] = value

    path = _edited_file(fitted, tmp_path, replace_value)

    with pytest.raises(ModelFileError, match=f"parameter '{parameter}' is {value}"):
        load_model(path)


def test_fitted_parameters_within_ranges(fitted):
    ranges = fitted._parameter_ranges()

    for name, value in fitted.params_.items():
        assert ranges[name].contains(value), (name, value)
