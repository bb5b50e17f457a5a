"""Tests of the published alpha-FLOPs model, FlopsRegressor and AlphaFlopsRegressor."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from alphaflops import load_dataset
from alphaflops.alpha import PUBLISHED_CONSTANTS, published_alpha_time
from alphaflops.evaluation import metrics
from alphaflops.models import base
from alphaflops.models import (
    AlphaFlopsRegressor,
    FlopsRegressor,
    PublishedAlphaModel,
    benchmark_models,
    published_model,
)
from alphaflops.models.alpha_model import (
    GAMMA_MAX,
    alpha_time,
    kernel_class_index,
    kernel_class_names,
    kernel_classes_for,
)


@pytest.fixture(scope="module")
def t2000(t2000_path):
    return load_dataset(t2000_path)


@pytest.fixture(scope="module")
def cpu_set():
    return load_dataset("cpu-amd-epyc")


@pytest.fixture(scope="module", params=["Tesla_T4", "Tesla_V100-PCIE-32GB"])
def neusight_table(request, neusight_dir):
    table = request.param
    return load_dataset(neusight_dir / f"conv-{table}.csv", device=neusight_dir / f"device-{table}.json")


@pytest.fixture(scope="module")
def fitted_alpha(t2000):
    return AlphaFlopsRegressor().fit(t2000.X, t2000.y)


@pytest.fixture(scope="module")
def fitted_flops(t2000):
    return FlopsRegressor().fit(t2000.X, t2000.y)


def _rows_with_flops(flops, in_channels=1):
    """Return rows (H, 1, in_channels, 1, 1, 1) whose FLOPs (2 * H * in_channels) equal ``flops``."""
    flops = np.asarray(flops, dtype=np.float64)
    assert np.all(flops % (2 * in_channels) == 0), "H must come out a whole number"
    rows = np.ones((flops.size, 6))
    rows[:, 0] = flops / (2 * in_channels)
    rows[:, 2] = in_channels
    return rows


def _geomspace_multiples(start, stop, num, step):
    return step * np.round(np.geomspace(start, stop, num) / step)


def _relative_sum_of_squares(y, predictions):
    return float(np.sum((predictions / y - 1) ** 2))


def _synthetic_alpha_rows(n_rows, seed):
    # Log-uniform spatial sizes from 1 to 128 per side, so that D = H * W
    # spans both sides of 1 / beta and every parameter is identifiable.
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [
            np.round(np.exp(rng.uniform(0, np.log(128), n_rows))),
            np.round(np.exp(rng.uniform(0, np.log(128), n_rows))),
            rng.integers(8, 1024, n_rows),
            rng.integers(8, 1024, n_rows),
            rng.choice([1, 3, 5, 7], n_rows),
            rng.choice([1, 3, 5, 7], n_rows),
        ]
    ).astype(np.float64)
    X[: n_rows // 3, 4:] = 1.0  # enough 1x1 kernels for their own class
    return X


TRUE_ALPHA = {
    "time_per_mmac": 0.03,
    "overhead": 0.05,
    "beta[K<=1]": 0.01,
    "gamma[K<=1]": 0.9,
    "beta[K>1]": 0.002,
    "gamma[K>1]": 0.6,
}


def _true_alpha_times(X, overhead=TRUE_ALPHA["overhead"]):
    betas = [TRUE_ALPHA["beta[K<=1]"], TRUE_ALPHA["beta[K>1]"]]
    gammas = [TRUE_ALPHA["gamma[K<=1]"], TRUE_ALPHA["gamma[K>1]"]]
    return alpha_time(X, TRUE_ALPHA["time_per_mmac"], betas, gammas, (1,), overhead)


# Published model -------------------------------------------------------------------


def test_published_matches_formula_on_t2000(t2000):
    predictions = published_model().predict(t2000.X)
    expected = published_alpha_time(t2000.X)

    assert len(predictions) == 721
    np.testing.assert_allclose(predictions, expected, rtol=1e-12, atol=0)


def test_published_mape_on_t2000(t2000):
    result = metrics(t2000.y, published_model().predict(t2000.X))

    assert round(result["mape"], 4) == 0.2163


def test_published_params_are_published_constants():
    params = published_model().params_
    classes = PUBLISHED_CONSTANTS["classes"]

    assert params["time_per_mmac"] == PUBLISHED_CONSTANTS["scale_ms_per_mmac"]
    assert (params["beta[K<=1]"], params["gamma[K<=1]"]) == tuple(classes["1x1"])
    assert (params["beta[K>1]"], params["gamma[K>1]"]) == tuple(classes["larger"])


def test_published_standard_errors_are_unknown():
    assert all(np.isnan(value) for value in published_model().standard_errors_.values())


def test_published_records_t2000_origin(t2000):
    model = published_model()

    assert model.hardware_ == t2000.hardware
    assert model.dataset_sha256_ == t2000.sha256
    np.testing.assert_array_equal(model.feature_range_[0], t2000.X.min(axis=0))
    np.testing.assert_array_equal(model.feature_range_[1], t2000.X.max(axis=0))


def test_published_fit_keeps_constants(t2000):
    model = PublishedAlphaModel().fit(t2000.X, 2 * t2000.y)

    assert model.params_ == published_model().params_
    np.testing.assert_array_equal(model.predict(t2000.X), published_model().predict(t2000.X))


def test_published_model_is_a_fresh_copy():
    first = published_model()
    first.params_["time_per_mmac"] = 1.0

    assert published_model().params_["time_per_mmac"] == 0.0375


# FlopsRegressor ---------------------------------------------------------------


def test_flops_line_stays_positive():
    # Ordinary least squares through these points has intercept -0.70 and
    # predicts -0.63 ms at 2 FLOPs, the smallest layer.
    flops = np.array([20.0, 40.0, 60.0, 80.0])
    y = np.array([0.2, 0.3, 2.0, 2.1])
    slope, intercept = np.polyfit(flops, y, 1)
    assert intercept == pytest.approx(-0.70)
    assert slope * 2 + intercept == pytest.approx(-0.626)

    model = FlopsRegressor().fit(_rows_with_flops(flops), y)

    assert model.params_["overhead"] >= 0
    assert model.params_["time_per_gflop"] > 0
    assert model.predict(_rows_with_flops([2.0]))[0] > 0


def test_flops_recovers_exact_line():
    flops = _geomspace_multiples(1e6, 1e11, 30, step=2000)
    y = 0.4 * flops / 1e9 + 0.02

    model = FlopsRegressor().fit(_rows_with_flops(flops, in_channels=1000), y)

    assert model.params_["time_per_gflop"] == pytest.approx(0.4, rel=1e-8)
    assert model.params_["overhead"] == pytest.approx(0.02, rel=1e-8)


def test_flops_minimises_relative_error(t2000, fitted_flops):
    # Minimising sum((a * F + b) / y - 1)**2 is linear least squares with
    # columns F / y and 1 / y and target 1. The fitted overhead is inside its
    # bound, so the bounded fit must reach the unconstrained optimum.
    gflops = 2 * np.prod(t2000.X, axis=1) / 1e9
    design = np.column_stack([gflops / t2000.y, 1 / t2000.y])
    expected, *_ = np.linalg.lstsq(design, np.ones(len(t2000.y)), rcond=None)

    assert fitted_flops.params_["time_per_gflop"] == pytest.approx(expected[0], rel=1e-7)
    assert fitted_flops.params_["overhead"] == pytest.approx(expected[1], rel=1e-7)


def test_flops_standard_errors_match_linear_formula(t2000, fitted_flops):
    gflops = 2 * np.prod(t2000.X, axis=1) / 1e9
    design = np.column_stack([gflops / t2000.y, 1 / t2000.y])
    residuals = fitted_flops.predict(t2000.X) / t2000.y - 1
    variance = residuals @ residuals / (len(t2000.y) - 2)
    expected = np.sqrt(np.diag(variance * np.linalg.inv(design.T @ design)))

    assert fitted_flops.standard_errors_["time_per_gflop"] == pytest.approx(expected[0], rel=1e-6)
    assert fitted_flops.standard_errors_["overhead"] == pytest.approx(expected[1], rel=1e-6)


def test_flops_without_overhead_has_one_parameter(t2000):
    model = FlopsRegressor(overhead=False).fit(t2000.X, t2000.y)

    assert list(model.params_) == ["time_per_gflop"]
    assert list(model.standard_errors_) == ["time_per_gflop"]


def test_flops_robust_loss_resists_outlier():
    flops = _geomspace_multiples(1e8, 1e11, 40, step=2000)
    y = 0.4 * flops / 1e9 + 0.02
    y[5] *= 20
    rows = _rows_with_flops(flops, in_channels=1000)

    plain = FlopsRegressor().fit(rows, y)
    robust = FlopsRegressor(loss="soft_l1").fit(rows, y)

    plain_error = abs(plain.params_["time_per_gflop"] / 0.4 - 1)
    robust_error = abs(robust.params_["time_per_gflop"] / 0.4 - 1)
    assert robust_error < plain_error / 5


def test_flops_fit_in_seconds_matches_milliseconds(t2000, fitted_flops):
    in_seconds = FlopsRegressor().fit(t2000.X, t2000.y / 1000)

    np.testing.assert_allclose(in_seconds.predict(t2000.X) * 1000, fitted_flops.predict(t2000.X), rtol=1e-9)


# AlphaFlopsRegressor ----------------------------------------------------------


def test_alpha_default_beats_published_mape(t2000, fitted_alpha):
    fitted = metrics(t2000.y, fitted_alpha.predict(t2000.X))["mape"]

    assert fitted < 0.2163


def test_alpha_default_in_sample_metrics_stored(t2000, fitted_alpha):
    assert fitted_alpha.in_sample_metrics_ == metrics(t2000.y, fitted_alpha.predict(t2000.X))


def test_alpha_parameter_names(fitted_alpha):
    assert list(fitted_alpha.params_) == list(TRUE_ALPHA)
    assert list(fitted_alpha.standard_errors_) == list(TRUE_ALPHA)
    assert fitted_alpha.kernel_class_names_ == ["K<=1", "K>1"]


def test_alpha_pure_form_improves_published_objective(t2000):
    # Without overhead the model has the published form, so the fitted
    # constants can only lower the relative least-squares cost.
    model = AlphaFlopsRegressor(overhead=False).fit(t2000.X, t2000.y)

    assert "overhead" not in model.params_
    fitted_cost = _relative_sum_of_squares(t2000.y, model.predict(t2000.X))
    published_cost = _relative_sum_of_squares(t2000.y, published_model().predict(t2000.X))
    assert fitted_cost < published_cost


def test_alpha_recovers_exact_parameters():
    X = _synthetic_alpha_rows(200, seed=1)

    model = AlphaFlopsRegressor().fit(X, _true_alpha_times(X))

    for name, value in TRUE_ALPHA.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-6), name


def test_alpha_standard_errors_match_spread_of_fits():
    X = _synthetic_alpha_rows(150, seed=2)
    rng = np.random.default_rng(3)
    fits = []
    errors = []
    for _ in range(40):
        y = _true_alpha_times(X) * (1 + 0.05 * rng.standard_normal(len(X)))
        model = AlphaFlopsRegressor().fit(X, y)
        fits.append(list(model.params_.values()))
        errors.append(list(model.standard_errors_.values()))

    spread = np.std(fits, axis=0, ddof=1)
    mean_error = np.mean(errors, axis=0)
    np.testing.assert_allclose(mean_error, spread, rtol=0.35)


def test_alpha_fit_in_seconds_matches_milliseconds(t2000, fitted_alpha):
    in_seconds = AlphaFlopsRegressor().fit(t2000.X, t2000.y / 1000)

    np.testing.assert_allclose(in_seconds.predict(t2000.X) * 1000, fitted_alpha.predict(t2000.X), rtol=1e-6)


def test_alpha_robust_loss_lowers_median_error(t2000, fitted_alpha):
    robust = AlphaFlopsRegressor(loss="soft_l1").fit(t2000.X, t2000.y)

    robust_median = metrics(t2000.y, robust.predict(t2000.X))["median_ape"]
    assert robust_median < fitted_alpha.in_sample_metrics_["median_ape"]


def test_alpha_three_kernel_classes(t2000):
    model = AlphaFlopsRegressor(kernel_classes=(1, 9)).fit(t2000.X, t2000.y)

    assert model.kernel_class_names_ == ["K<=1", "1<K<=9", "K>9"]
    assert "beta[1<K<=9]" in model.params_


def test_alpha_single_kernel_class(t2000):
    model = AlphaFlopsRegressor(kernel_classes=()).fit(t2000.X, t2000.y)

    assert list(model.params_) == ["time_per_mmac", "overhead", "beta[all K]", "gamma[all K]"]


def test_alpha_bounds_hold(t2000, fitted_alpha):
    params = fitted_alpha.params_

    assert params["time_per_mmac"] > 0
    assert params["overhead"] >= 0
    for name in fitted_alpha.kernel_class_names_:
        assert 0 <= params[f"beta[{name}]"] <= 1
        assert 0 <= params[f"gamma[{name}]"] <= GAMMA_MAX


def test_kernel_class_names():
    assert kernel_class_names((1,)) == ["K<=1", "K>1"]
    assert kernel_class_names((1, 9)) == ["K<=1", "1<K<=9", "K>9"]
    assert kernel_class_names(()) == ["all K"]


def test_kernel_class_index_bounds_are_inclusive():
    X = np.ones((4, 6))
    X[:, 4] = [1, 3, 3, 5]
    X[:, 5] = [1, 1, 3, 5]

    np.testing.assert_array_equal(kernel_class_index(X[:, 4] * X[:, 5], (1, 9)), [0, 1, 1, 2])


# Errors and warnings shared by the fitted models ----------------------------


def test_convergence_warning_names_status(t2000):
    with pytest.warns(ConvergenceWarning, match=r"status 0: .*max_nfev"):
        AlphaFlopsRegressor(max_nfev=1).fit(t2000.X, t2000.y)


def test_converged_fit_does_not_warn(t2000):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AlphaFlopsRegressor().fit(t2000.X, t2000.y)


def test_alpha_default_converges_on_cpu_set(cpu_set):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        AlphaFlopsRegressor().fit(cpu_set.X, cpu_set.y)

    assert [str(warning.message) for warning in caught if warning.category is ConvergenceWarning] == []


@pytest.mark.parametrize("settings", [{}, {"kernel_classes": ()}, {"overhead": False}])
def test_alpha_converges_on_cpu_ridge(cpu_set, settings):
    # Without the plot conv_K_vs_C, the least-squares cost of the CPU set
    # keeps falling as gamma grows with beta -> 1, so only the bound on gamma
    # gives the fit an optimum to converge to.
    rows = np.asarray(cpu_set.plot_names)[cpu_set.groups] != "conv_K_vs_C"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = AlphaFlopsRegressor(**settings).fit(cpu_set.X[rows], cpu_set.y[rows])

    assert [str(warning.message) for warning in caught if warning.category is ConvergenceWarning] == []
    assert all(value <= GAMMA_MAX for name, value in model.params_.items() if name.startswith("gamma"))


def test_alpha_single_class_converges_on_neusight(neusight_table):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        AlphaFlopsRegressor(kernel_classes=()).fit(neusight_table.X, neusight_table.y)

    assert [str(warning.message) for warning in caught if warning.category is ConvergenceWarning] == []


def test_stopped_fit_warns_on_cpu_set(cpu_set):
    with pytest.warns(ConvergenceWarning, match=r"did not converge \(status 0: .*\) after 2 function evaluations"):
        AlphaFlopsRegressor(max_nfev=2).fit(cpu_set.X, cpu_set.y)


@pytest.mark.parametrize(
    ("estimator", "n_rows", "needed"),
    [(FlopsRegressor(), 2, 3), (AlphaFlopsRegressor(overhead=False), 5, 6), (AlphaFlopsRegressor(), 6, 7)],
)
def test_too_few_rows_raise(t2000, estimator, n_rows, needed):
    # One 1x1 row and the rest larger kernels, so both kernel classes are present.
    rows = np.r_[np.flatnonzero(t2000.X[:, 4] == 1)[:1], np.flatnonzero(t2000.X[:, 4] > 1)[: n_rows - 1]]

    with pytest.raises(ValueError, match=f"needs at least {needed} rows"):
        estimator.fit(t2000.X[rows], t2000.y[rows])


def test_single_row_raises_sklearn_error(t2000):
    with pytest.raises(ValueError, match="1 sample"):
        FlopsRegressor().fit(t2000.X[:1], t2000.y[:1])


def test_empty_kernel_class_raises(t2000):
    one_by_one = t2000.X[:, 4] * t2000.X[:, 5] == 1

    with pytest.raises(ValueError, match=r"kernel class 'K>1' .* no rows"):
        AlphaFlopsRegressor().fit(t2000.X[one_by_one], t2000.y[one_by_one])


def test_empty_middle_kernel_class_raises(t2000):
    with pytest.raises(ValueError, match=r"kernel class '1<K<=2'"):
        AlphaFlopsRegressor(kernel_classes=(1, 2)).fit(t2000.X, t2000.y)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"loss": "l2"}, "loss must be one of"),
        ({"f_scale": 0.0}, "f_scale must be a positive number"),
        ({"max_nfev": 0}, "max_nfev must be None or a positive integer"),
        ({"overhead": "yes"}, "overhead must be True or False"),
        ({"kernel_classes": (9, 1)}, "kernel_classes must be a tuple of increasing"),
        ({"kernel_classes": (0,)}, "kernel_classes must be a tuple of increasing"),
        ({"kernel_classes": 1}, "kernel_classes must be a tuple of increasing"),
    ],
)
def test_invalid_setting_raises(t2000, settings, message):
    with pytest.raises(ValueError, match=message):
        AlphaFlopsRegressor(**settings).fit(t2000.X, t2000.y)


def test_zero_time_raises_naming_rows(t2000):
    y = t2000.y.copy()
    y[[3, 7]] = 0.0

    with pytest.raises(ValueError, match="zero times.*rows 3, 7"):
        FlopsRegressor().fit(t2000.X, y)


def test_zero_size_raises_naming_rows(t2000):
    X = t2000.X.copy()
    X[4, 2] = 0.0

    with pytest.raises(ValueError, match="zero size.*rows 4"):
        FlopsRegressor().fit(X, t2000.y)


def test_wrong_width_names_count(t2000):
    with pytest.raises(ValueError, match=r"expects 6 features .* got 1 feature\(s\)"):
        FlopsRegressor().fit(t2000.X[:, :1], t2000.y)


def test_predict_before_fit_raises():
    with pytest.raises(NotFittedError):
        AlphaFlopsRegressor().predict(np.ones((1, 6)))


def test_predict_zero_size_raises(fitted_alpha):
    with pytest.raises(ValueError, match="zero size"):
        fitted_alpha.predict([[0, 1, 1, 1, 1, 1]])


def test_non_finite_prediction_raises(fitted_alpha):
    # A gamma far outside its range overflows the alpha power for large
    # layers, so predict must raise instead of returning inf.
    model = clone(fitted_alpha)
    model.__dict__.update(fitted_alpha.__dict__)
    model.params_ = {name: value for name, value in fitted_alpha.params_.items()}
    gamma_names = [name for name in model.params_ if name.startswith("gamma")]
    model.params_.update({name: -400.0 for name in gamma_names})

    with pytest.raises(ValueError, match="non-positive or non-finite time for 1 row"):
        model.predict([[1000, 1000, 1, 1, 3, 3]])


def test_nonpositive_prediction_message_has_plain_floats(t2000, fitted_alpha):
    model = clone(fitted_alpha)
    model.__dict__.update(fitted_alpha.__dict__)
    model.params_ = dict(fitted_alpha.params_, time_per_mmac=np.float64(-1.0))

    with pytest.raises(ValueError, match="non-positive") as raised:
        model.predict(t2000.X[:3])

    assert "np.float64" not in str(raised.value)


def test_setting_message_has_plain_floats(t2000):
    with pytest.raises(ValueError, match=r"f_scale must be a positive number .*; got -1.0$"):
        AlphaFlopsRegressor(f_scale=np.float64(-1.0)).fit(t2000.X, t2000.y)


layer_rows = arrays(
    np.float64,
    st.tuples(st.integers(1, 20), st.just(6)),
    elements=st.integers(1, 4096).map(float),
)


@settings(max_examples=60, deadline=None)
@given(layer_rows)
def test_predictions_are_positive(rows):
    # Fitted once outside hypothesis would be faster, but module fixtures
    # cannot be used with @given; these fits take milliseconds.
    rows[:, 4:] = np.minimum(rows[:, 4:], 31)
    # Keep each row within 2**53 - 1 multiply-accumulates, the layer size limit.
    rows[:, 2:4] = np.minimum(rows[:, 2:4], 512)
    for model in _positive_check_models():
        assert np.all(model.predict(rows) > 0)


_MODELS_CACHE = []


def _positive_check_models():
    if not _MODELS_CACHE:
        X = _synthetic_alpha_rows(80, seed=5)
        y = _true_alpha_times(X)
        y_without_overhead = _true_alpha_times(X, overhead=0.0)
        _MODELS_CACHE.extend(
            [
                published_model(),
                FlopsRegressor().fit(X, y),
                FlopsRegressor(overhead=False).fit(X, y),
                AlphaFlopsRegressor().fit(X, y),
                AlphaFlopsRegressor(overhead=False).fit(X, y_without_overhead),
            ]
        )
    return _MODELS_CACHE


def test_extrapolated_marks_rows_outside_range(fitted_alpha):
    inside = fitted_alpha.feature_range_[0]
    outside = fitted_alpha.feature_range_[1] * 2

    np.testing.assert_array_equal(fitted_alpha.extrapolated([inside, outside]), [False, True])


def test_feature_range_is_min_and_max(t2000, fitted_flops):
    low, high = fitted_flops.feature_range_

    np.testing.assert_array_equal(low, t2000.X.min(axis=0))
    np.testing.assert_array_equal(high, t2000.X.max(axis=0))


def test_benchmark_models_names_and_states():
    models = benchmark_models()

    assert list(models)[:3] == ["flops", "alpha_published", "alpha_fitted"]
    assert isinstance(models["flops"], FlopsRegressor)
    assert not hasattr(models["flops"], "params_")
    assert hasattr(models["alpha_published"], "params_")
    assert isinstance(models["alpha_fitted"], AlphaFlopsRegressor)


def test_kernel_classes_for_drops_empty_classes():
    X = np.ones((2, 6))
    X[:, 4:] = [[1, 1], [5, 5]]

    assert kernel_classes_for(X) == (1,)
    assert kernel_classes_for(X, (1, 9)) == (1,)
    assert kernel_classes_for(X, (1, 9, 100)) == (1,)
    assert kernel_classes_for(X[1:]) == ()
    assert kernel_classes_for(X[:1]) == ()


def test_benchmark_models_for_single_kernel_table(neusight_table):
    models = benchmark_models(neusight_table.X)

    assert models["alpha_fitted"].kernel_classes == ()
    models["alpha_fitted"].fit(neusight_table.X, neusight_table.y)
    assert hasattr(models["alpha_published"], "params_")


def test_benchmark_models_keep_published_split(t2000):
    models = benchmark_models(t2000.X)

    assert models["alpha_fitted"].kernel_classes == (1,)
    assert list(models)[:3] == ["flops", "alpha_published", "alpha_fitted"]


@pytest.mark.parametrize("column_scales", [(1e-9, 1.0, 1e6), (1e-12, 1e-3, 1.0), (1.0, 1.0, 1.0)])
def test_standard_errors_follow_parameter_scale(column_scales):
    # Rescaling a parameter by c rescales its Jacobian column by 1 / c and its standard error by c.
    rng = np.random.default_rng(3)
    jacobian = rng.normal(size=(50, 3))
    residuals = 0.05 * rng.normal(size=50)
    reference = base._standard_errors(jacobian, residuals)
    scales = np.array(column_scales)

    rescaled = base._standard_errors(jacobian * scales, residuals)

    np.testing.assert_allclose(rescaled, reference / scales, rtol=1e-9)


def test_standard_errors_nan_for_unused_parameter():
    rng = np.random.default_rng(4)
    jacobian = rng.normal(size=(50, 3))
    jacobian[:, 1] = 0.0

    errors = base._standard_errors(jacobian, 0.05 * rng.normal(size=50))

    assert np.all(np.isnan(errors))
