"""scikit-learn's estimator checks, and the same contracts tested on layer data.

Many of scikit-learn's checks fit on random data with 1 to 10 columns. The
models need the six layer columns H, W, Cin, Cout, K1, K2, so those checks
cannot apply and are declared as expected failures. A test makes sure they
fail only with the models' own error about the column count. The contract
each of them guards is tested below on six-column layer rows.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import estimator_checks_generator, parametrize_with_checks

from alphaflops import load_dataset
from alphaflops.models import AlphaFlopsRegressor, FlopsRegressor

ESTIMATORS = [FlopsRegressor(), AlphaFlopsRegressor()]

# The checks that fit or predict on data without exactly six columns.
CHECKS_WITHOUT_LAYER_COLUMNS = (
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_readonly_memmap_input",
    "check_regressor_data_not_an_array",
    "check_regressors_int",
    "check_regressors_no_decision_function",
    "check_regressors_train",
    "check_supervised_y_2d",
)

REASON = (
    "fits on data with other than 6 columns, but the model needs the layer columns "
    "H, W, Cin, Cout, K1, K2; the same contract is tested on layer rows in this file"
)

COLUMN_COUNT_ERROR = r"expects 6 features per row \(H, W, Cin, Cout, K1, K2\), got \d+ feature\(s\)"


def expected_failed_checks(estimator):
    return {name: REASON for name in CHECKS_WITHOUT_LAYER_COLUMNS}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _check_name(check):
    while hasattr(check, "func"):
        check = check.func
    return check.__name__


def _checks_without_layer_columns():
    cases = []
    for estimator in ESTIMATORS:
        for instance, check in estimator_checks_generator(estimator):
            if _check_name(check) in CHECKS_WITHOUT_LAYER_COLUMNS:
                cases.append(pytest.param(instance, check, id=f"{type(estimator).__name__}-{_check_name(check)}"))
    return cases


@pytest.mark.parametrize(("estimator", "check"), _checks_without_layer_columns())
def test_inapplicable_check_fails_with_column_error(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=COLUMN_COUNT_ERROR):
            check(estimator)


def test_every_declared_check_exists():
    names = {_check_name(check) for _, check in estimator_checks_generator(FlopsRegressor())}

    assert set(CHECKS_WITHOUT_LAYER_COLUMNS) <= names


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda estimator: type(estimator).__name__)
def test_tags_are_positive_only(estimator):
    tags = get_tags(estimator)

    assert tags.input_tags.positive_only
    assert tags.target_tags.positive_only


# The contracts of the inapplicable checks, on layer rows ----------------------


@pytest.fixture(scope="module")
def t2000(t2000_path):
    return load_dataset(t2000_path)


@pytest.fixture(params=ESTIMATORS, ids=lambda estimator: type(estimator).__name__)
def estimator(request):
    return clone(request.param)


def test_fit_returns_self(estimator, t2000):
    assert estimator.fit(t2000.X, t2000.y) is estimator


def test_refit_is_idempotent(estimator, t2000):
    first = estimator.fit(t2000.X, t2000.y).predict(t2000.X)
    second = estimator.fit(t2000.X, t2000.y).predict(t2000.X)

    np.testing.assert_array_equal(first, second)


def test_refit_replaces_previous_fit(estimator, t2000):
    half = len(t2000.y) // 2
    estimator.fit(t2000.X[:half], t2000.y[:half])
    estimator.fit(t2000.X, t2000.y)

    fresh = clone(estimator).fit(t2000.X, t2000.y)
    assert estimator.params_ == fresh.params_


def test_fit_keeps_settings(estimator, t2000):
    settings = estimator.get_params()
    estimator.fit(t2000.X, t2000.y)

    assert estimator.get_params() == settings


def test_predict_keeps_fitted_state(estimator, t2000):
    estimator.fit(t2000.X, t2000.y)
    state = pickle.dumps(estimator.__dict__)
    estimator.predict(t2000.X)

    assert pickle.dumps(estimator.__dict__) == state


def test_pickled_estimator_predicts_the_same(estimator, t2000):
    # In-memory pickling is part of the scikit-learn contract (joblib, clone
    # across processes); model files never use pickle.
    estimator.fit(t2000.X, t2000.y)
    restored = pickle.loads(pickle.dumps(estimator))

    np.testing.assert_array_equal(restored.predict(t2000.X), estimator.predict(t2000.X))


def test_clone_is_unfitted_with_same_settings(estimator, t2000):
    estimator.fit(t2000.X, t2000.y)
    copy = clone(estimator)

    assert copy.get_params() == estimator.get_params()
    assert not hasattr(copy, "params_")


def test_pipeline_predicts_like_estimator(estimator, t2000):
    pipeline = make_pipeline(FunctionTransformer(None), clone(estimator)).fit(t2000.X, t2000.y)
    estimator.fit(t2000.X, t2000.y)

    np.testing.assert_array_equal(pipeline.predict(t2000.X), estimator.predict(t2000.X))


def test_row_order_does_not_change_predictions(estimator, t2000):
    order = np.random.default_rng(0).permutation(len(t2000.y))
    estimator.fit(t2000.X, t2000.y)

    np.testing.assert_array_equal(estimator.predict(t2000.X[order]), estimator.predict(t2000.X)[order])


def test_row_order_does_not_change_fit(estimator, t2000):
    order = np.random.default_rng(0).permutation(len(t2000.y))
    shuffled = clone(estimator).fit(t2000.X[order], t2000.y[order])
    estimator.fit(t2000.X, t2000.y)

    for name, value in estimator.params_.items():
        assert shuffled.params_[name] == pytest.approx(value, rel=1e-7), name


def test_predicting_subsets_matches_whole(estimator, t2000):
    estimator.fit(t2000.X, t2000.y)
    whole = estimator.predict(t2000.X)

    for rows in (slice(0, 1), slice(10, 50), slice(700, None)):
        np.testing.assert_array_equal(estimator.predict(t2000.X[rows]), whole[rows])


@pytest.mark.parametrize(
    ("value", "message"), [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity")]
)
def test_nonfinite_x_raises_sklearn_error(estimator, t2000, value, message):
    X = t2000.X.copy()
    X[3, 2] = value

    with pytest.raises(ValueError, match=message):
        estimator.fit(X, t2000.y)
    fitted = clone(estimator).fit(t2000.X, t2000.y)
    with pytest.raises(ValueError, match=message):
        fitted.predict(X)


def test_nonfinite_y_raises_sklearn_error(estimator, t2000):
    y = t2000.y.copy()
    y[5] = np.nan

    with pytest.raises(ValueError, match="Input y contains NaN"):
        estimator.fit(t2000.X, y)


def test_missing_y_raises_sklearn_error(estimator, t2000):
    with pytest.raises(ValueError, match="requires y to be passed"):
        estimator.fit(t2000.X, None)


def test_negative_sizes_raise_sklearn_error(estimator, t2000):
    X = t2000.X.copy()
    X[0, 0] = -1.0

    with pytest.raises(ValueError, match="Negative values in data passed to"):
        estimator.fit(X, t2000.y)


def test_negative_times_raise_sklearn_error(estimator, t2000):
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        estimator.fit(t2000.X, -t2000.y)


def test_read_only_input(estimator, t2000):
    X = t2000.X.copy()
    y = t2000.y.copy()
    X.setflags(write=False)
    y.setflags(write=False)

    predictions = estimator.fit(X, y).predict(X)

    np.testing.assert_array_equal(predictions, clone(estimator).fit(t2000.X, t2000.y).predict(t2000.X))


def test_fortran_ordered_input(estimator, t2000):
    X = np.asfortranarray(t2000.X)

    predictions = estimator.fit(X, t2000.y).predict(X)

    np.testing.assert_array_equal(predictions, clone(estimator).fit(t2000.X, t2000.y).predict(t2000.X))


def test_integer_input(estimator, t2000):
    X = t2000.X.astype(np.int64)

    predictions = estimator.fit(X, t2000.y).predict(X)

    np.testing.assert_array_equal(predictions, clone(estimator).fit(t2000.X, t2000.y).predict(t2000.X))


def test_float32_input(estimator, t2000):
    X = t2000.X.astype(np.float32)

    predictions = estimator.fit(X, t2000.y.astype(np.float32)).predict(X)

    assert predictions.dtype == np.float64
    np.testing.assert_allclose(predictions, clone(estimator).fit(t2000.X, t2000.y).predict(t2000.X), rtol=1e-5)


def test_list_input(estimator, t2000):
    predictions = estimator.fit(t2000.X.tolist(), t2000.y.tolist()).predict(t2000.X.tolist())

    np.testing.assert_array_equal(predictions, clone(estimator).fit(t2000.X, t2000.y).predict(t2000.X))


def test_column_vector_y_warns(estimator, t2000):
    with pytest.warns(DataConversionWarning):
        estimator.fit(t2000.X, t2000.y[:, None])

    np.testing.assert_array_equal(
        estimator.predict(t2000.X), clone(estimator).fit(t2000.X, t2000.y).predict(t2000.X)
    )


def test_n_features_in_is_six(estimator, t2000):
    estimator.fit(t2000.X, t2000.y)

    assert estimator.n_features_in_ == 6


def test_predict_with_wrong_width_raises_sklearn_error(estimator, t2000):
    estimator.fit(t2000.X, t2000.y)

    with pytest.raises(ValueError, match="X has 5 features, but .* is expecting 6 features"):
        estimator.predict(t2000.X[:, :5])


def test_one_dimensional_x_raises(estimator, t2000):
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        estimator.fit(t2000.X[:, 0], t2000.y)


def test_score_is_r2(estimator, t2000):
    from sklearn.metrics import r2_score

    estimator.fit(t2000.X, t2000.y)

    assert estimator.score(t2000.X, t2000.y) == pytest.approx(r2_score(t2000.y, estimator.predict(t2000.X)))


def test_no_decision_function(estimator, t2000):
    estimator.fit(t2000.X, t2000.y)

    for method in ("decision_function", "predict_proba", "predict_log_proba"):
        assert not hasattr(estimator, method), method
