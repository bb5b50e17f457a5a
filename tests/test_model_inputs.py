"""Input checks of the cost models: invalid rows and times fail with messages that name them.

The estimators apply the size rule of the dataset loader (every size an
integer from 1 to 2**31 - 1, at most 2**53 - 1 MACs per row). Every
rejected input raises ValueError, whose message names the row index, the
row's values and what to do.
"""

import re

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone

from alphaflops import load_dataset
from alphaflops.flops import MAX_DIMENSION, size_rule_masks
from alphaflops.models import (
    AlphaFlopsRegressor,
    FlopsRegressor,
    HybridRegressor,
    RecommendedRegressor,
    base,
    published_model,
)

LEAST_SQUARES_ESTIMATORS = [FlopsRegressor(), AlphaFlopsRegressor(), RecommendedRegressor(interval_folds=0)]
ESTIMATORS = [*LEAST_SQUARES_ESTIMATORS, HybridRegressor(inner_folds=0)]

# Rows that break the size rule, with the part of the message that names the broken rule.
INVALID_ROWS = [
    pytest.param([10, 10, 100.5, 100, 3, 3], "Cin = 100.5 is not an integer", id="fractional"),
    pytest.param([10, 10, 1e-3, 100, 3, 3], "Cin = 0.001 is below 1", id="below-one"),
    pytest.param([1e12, 10, 100, 100, 3, 3], "H = 1000000000000.0 is above 2**31 - 1", id="huge-size"),
    pytest.param([2**31, 1, 1, 1, 1, 1], "H = 2147483648.0 is above 2**31 - 1", id="just-above-int32"),
    pytest.param([2**20, 2**20, 2**10, 2**10, 1, 1], "H*W*Cin*Cout*K1*K2 = 1152921504606846976 MACs, above 2**53 - 1", id="too-many-macs"),
    pytest.param([1e6, 1e6, 1e6, 1e6, 3, 3], "H*W*Cin*Cout*K1*K2 = 9000000000000000000000000 MACs, above 2**53 - 1", id="overflowing-macs"),
]

# 2**53 - 1 = 6361 * 69431 * 20394401, so this row has exactly the maximum allowed MAC count.
MAX_MACS_ROW = [6361, 69431, 20394401, 1, 1, 1]

BAD_ROW = 4


def _name(estimator):
    return type(estimator).__name__


@pytest.fixture(scope="module")
def t2000(t2000_path):
    return load_dataset(t2000_path)


@pytest.fixture(scope="module")
def fitted_models(t2000):
    return {
        "flops": FlopsRegressor().fit(t2000.X, t2000.y),
        "recommended": RecommendedRegressor().fit(t2000.X, t2000.y),
        "published": published_model(),
    }


@pytest.fixture(params=["flops", "recommended", "published"])
def fitted(request, fitted_models):
    return fitted_models[request.param]


def _rows_with(t2000, row, index=BAD_ROW):
    X = t2000.X.copy()
    X[index] = row
    return X


def _times_with(t2000, value, index=7):
    y = t2000.y.copy()
    y[index] = value
    return y


def _shown_row(row, index=BAD_ROW):
    return f"X[{index}] = {[float(value) for value in row]}"


def _assert_names_invalid_row(message, row, problem):
    assert f"rows {BAD_ROW} (" in message
    assert _shown_row(row) in message
    assert problem in message


# Size rule in fit and predict -----------------------------------------------------


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_name)
@pytest.mark.parametrize(("row", "problem"), INVALID_ROWS)
def test_fit_invalid_size_names_row(t2000, estimator, row, problem):
    with pytest.raises(ValueError, match="invalid layer sizes") as raised:
        clone(estimator).fit(_rows_with(t2000, row), t2000.y)

    _assert_names_invalid_row(str(raised.value), row, problem)


@pytest.mark.parametrize(("row", "problem"), INVALID_ROWS)
def test_predict_invalid_size_names_row(t2000, fitted, row, problem):
    with pytest.raises(ValueError, match="invalid layer sizes") as raised:
        fitted.predict(_rows_with(t2000, row))

    _assert_names_invalid_row(str(raised.value), row, problem)


@pytest.mark.parametrize(("row", "problem"), INVALID_ROWS)
def test_invalid_size_message_gives_fix(t2000, fitted, row, problem):
    with pytest.raises(ValueError, match="must be an integer from 1 to 2147483647") as raised:
        fitted.predict(_rows_with(t2000, row))

    assert "fix or remove these rows" in str(raised.value)


def test_predict_fraction_mentions_predict_jax(t2000, fitted_models):
    with pytest.raises(ValueError, match="predict_jax accepts non-integer sizes"):
        fitted_models["recommended"].predict(_rows_with(t2000, [10, 10, 100.5, 100, 3, 3]))


def test_fit_error_omits_predict_jax(t2000):
    with pytest.raises(ValueError, match="invalid layer sizes") as raised:
        FlopsRegressor().fit(_rows_with(t2000, [10, 10, 100.5, 100, 3, 3]), t2000.y)

    assert "predict_jax" not in str(raised.value)


@pytest.mark.parametrize(
    "row",
    [[MAX_DIMENSION, 1, 1, 1, 1, 1], MAX_MACS_ROW, [1, 1, 1, 1, 1, 1]],
    ids=["max-size", "max-macs", "smallest"],
)
def test_rows_at_size_limits_are_accepted(fitted_models, row):
    predictions = fitted_models["flops"].predict([row])

    assert np.all(np.isfinite(predictions))


@pytest.mark.parametrize(
    ("row", "macs"),
    [([2**20, 2**20, 2**13, 1, 1, 1], 2**53), ([*MAX_MACS_ROW[:5], 2], 2 * (2**53 - 1))],
    ids=["one-above", "double"],
)
def test_macs_above_limit_are_rejected(fitted_models, row, macs):
    with pytest.raises(ValueError, match=rf"rows 1 .*= {macs} MACs, above 2\*\*53 - 1"):
        fitted_models["flops"].predict([MAX_MACS_ROW, row])


def test_invalid_row_in_later_block_found(t2000, fitted_models):
    # The fast check reads X in blocks of 4096 rows, so the bad row sits in a later block.
    X = np.tile(t2000.X, (15, 1))
    X[9000, 2] = 100.5

    with pytest.raises(ValueError, match=r"rows 9000 \("):
        fitted_models["flops"].predict(X)


def test_message_lists_ten_rows(t2000, fitted_models):
    X = t2000.X.copy()
    X[:25, 0] += 0.5

    with pytest.raises(ValueError, match=r"rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 15 more \(") as raised:
        fitted_models["flops"].predict(X)

    message = str(raised.value)
    assert "X[2] = " in message
    assert "X[3] = " not in message


def test_integer_and_float32_rows_accepted(t2000, fitted_models):
    model = fitted_models["recommended"]

    np.testing.assert_array_equal(model.predict(t2000.X.astype(np.int64)), model.predict(t2000.X))
    np.testing.assert_array_equal(model.predict(t2000.X.astype(np.float32)), model.predict(t2000.X))


def test_recommended_fit_rejects_huge_row(t2000):
    # Without the size rule, this one row drives flop_rate to about 1e32 and no error is raised.
    X = _rows_with(t2000, [1e6, 1e6, 1e6, 1e6, 3, 3])

    with pytest.raises(ValueError, match=r"rows 4 \(X\[4\] = \[1000000.0, 1000000.0"):
        RecommendedRegressor().fit(X, t2000.y)


# Every size value from this list is a hard case for one part of the rule.
TRICKY_SIZES = [
    1.0, 2.0, 3.0, 7.0, 64.0, 0.5, 1e-3, 0.0, -1.0, 100.5, np.nan, np.inf, -np.inf,
    float(MAX_DIMENSION), float(MAX_DIMENSION + 1), 2.0**20, 6361.0, 69431.0, 20394401.0,
]


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 12), st.just(6)), elements=st.sampled_from(TRICKY_SIZES)))
def test_fast_check_agrees_with_size_rule(rows):
    _, valid_rows = size_rule_masks(rows)

    assert base._rows_follow_size_rule(rows) == bool(valid_rows.all())


# Most arrays drawn from TRICKY_SIZES alone contain an invalid row, for which
# both checks return False. Valid rows with one tricky cell test each limit.
@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 12), st.just(6)), elements=st.sampled_from([1.0, 2.0, 3.0, 7.0, 64.0])),
    st.integers(0, 11),
    st.integers(0, 5),
    st.sampled_from(TRICKY_SIZES),
)
@example(np.ones((1, 6)), 0, 0, float(MAX_DIMENSION))
@example(np.ones((1, 6)), 0, 2, 100.5)
@example(np.array([MAX_MACS_ROW], dtype=np.float64), 0, 0, 6361.0)
@example(np.array([MAX_MACS_ROW], dtype=np.float64), 0, 5, 2.0)
def test_fast_check_agrees_on_one_tricky_cell(rows, row, column, value):
    rows[row % len(rows), column] = value
    _, valid_rows = size_rule_masks(rows)

    assert base._rows_follow_size_rule(rows) == bool(valid_rows.all())


# NaN, infinity, negative and zero values --------------------------------------------


@pytest.mark.parametrize(("value", "word"), [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")])
def test_fit_nonfinite_size_names_row(t2000, value, word):
    X = t2000.X.copy()
    X[3, 2] = value

    with pytest.raises(ValueError, match=f"Input X contains {word} in rows 3 ") as raised:
        FlopsRegressor().fit(X, t2000.y)

    assert _shown_row(X[3], index=3) in str(raised.value)


@pytest.mark.parametrize(("value", "word"), [(np.nan, "NaN"), (np.inf, "infinity")])
def test_predict_nonfinite_size_names_row(t2000, fitted, value, word):
    X = t2000.X.copy()
    X[3, 2] = value

    with pytest.raises(ValueError, match=f"Input X contains {word} in rows 3 ") as raised:
        fitted.predict(X)

    assert _shown_row(X[3], index=3) in str(raised.value)


def test_nan_message_drops_sklearn_advice(t2000, fitted_models):
    X = t2000.X.copy()
    X[3, 2] = np.nan

    with pytest.raises(ValueError, match="Input X contains NaN") as raised:
        fitted_models["flops"].predict(X)

    assert "HistGradientBoosting" not in str(raised.value)


@pytest.mark.parametrize(("value", "shown"), [(np.nan, "y[5] = nan"), (np.inf, "y[5] = inf")])
def test_fit_nonfinite_time_names_row(t2000, value, shown):
    word = "NaN" if np.isnan(value) else "infinity"

    with pytest.raises(ValueError, match=f"Input y contains {word} in rows 5 ") as raised:
        FlopsRegressor().fit(t2000.X, _times_with(t2000, value, index=5))

    assert shown in str(raised.value)


def test_none_time_names_row(t2000):
    y = t2000.y.tolist()
    y[5] = None

    with pytest.raises(ValueError, match=r"not numbers in rows 5 \(y\[5\] = None\)"):
        FlopsRegressor().fit(t2000.X, y)


def test_fit_negative_size_names_row(t2000):
    X = t2000.X.copy()
    X[0, 0] = -1.0

    expected = r"Negative values in data passed to FlopsRegressor \(X\) in rows 0 "
    with pytest.raises(ValueError, match=expected) as raised:
        FlopsRegressor().fit(X, t2000.y)

    assert _shown_row(X[0], index=0) in str(raised.value)


def test_predict_negative_size_names_row(t2000, fitted):
    X = t2000.X.copy()
    X[6, 3] = -50.0

    with pytest.raises(ValueError, match=r"Negative values in data passed to \w+ \(X\) in rows 6 ") as raised:
        fitted.predict(X)

    assert _shown_row(X[6], index=6) in str(raised.value)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_name)
def test_negative_time_names_row(t2000, estimator):
    y = _times_with(t2000, -1.0)

    with pytest.raises(ValueError, match=r"Negative values in data passed to \w+ \(y\) in rows 7 \(y\[7\] = -1.0\)"):
        clone(estimator).fit(t2000.X, y)


def test_zero_times_name_rows_and_values(t2000):
    y = t2000.y.copy()
    y[[3, 7]] = 0.0

    with pytest.raises(ValueError, match=r"zero times in rows 3, 7 \(y\[3\] = 0.0; y\[7\] = 0.0\)"):
        FlopsRegressor().fit(t2000.X, y)


def test_predict_zero_size_names_row(fitted):
    with pytest.raises(ValueError, match=r"zero size in rows 1 \(X\[1\] = \[1.0, 0.0, 1.0, 1.0, 1.0, 1.0\]\)"):
        fitted.predict([[1, 1, 1, 1, 1, 1], [1, 0, 1, 1, 1, 1]])


# Times that are not numbers -----------------------------------------------------------


@pytest.mark.parametrize(
    "convert",
    [
        lambda y: y.astype(str),
        lambda y: [str(value) for value in y],
        lambda y: np.array([f"{value}" for value in y], dtype=object),
    ],
    ids=["str-array", "str-list", "object-array"],
)
def test_string_times_raise_value_error(t2000, convert):
    with pytest.raises(ValueError, match=r"y contains values that are not numbers in rows 0, 1, 2, .* and 711 more"):
        FlopsRegressor().fit(t2000.X, convert(t2000.y))


def test_one_string_time_names_row_and_value(t2000):
    y = t2000.y.astype(object)
    y[5] = "0.25"

    with pytest.raises(ValueError, match=r"not numbers in rows 5 \(y\[5\] = '0.25'\)") as raised:
        FlopsRegressor().fit(t2000.X, y)

    assert "np.asarray(y, dtype=float)" in str(raised.value)


def test_bool_times_raise_value_error(t2000):
    with pytest.raises(ValueError, match=r"not numbers in rows 0, 1, .* \(y\[0\] = True"):
        FlopsRegressor().fit(t2000.X, np.ones(len(t2000.y), dtype=bool))


def test_object_times_of_numbers_are_accepted(t2000):
    y = t2000.y.astype(object)

    fitted = FlopsRegressor().fit(t2000.X, y)

    assert fitted.params_ == FlopsRegressor().fit(t2000.X, t2000.y).params_


def test_huge_integer_time_reads_as_infinity(t2000):
    y = t2000.y.astype(object)
    y[2] = 10**400

    with pytest.raises(ValueError, match=r"Input y contains infinity in rows 2 \(y\[2\] = inf\)"):
        FlopsRegressor().fit(t2000.X, y)


def test_mixed_list_names_only_text_time(t2000):
    y = t2000.y.tolist()
    y[5] = "abc"

    with pytest.raises(ValueError, match=r"not numbers in rows 5 \(y\[5\] = 'abc'\);"):
        FlopsRegressor().fit(t2000.X, y)


# Sizes that are not numbers -----------------------------------------------------------


def _sizes_with(t2000, value, row=BAD_ROW, column=1):
    X = t2000.X.astype(object)
    X[row, column] = value
    return X


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_name)
@pytest.mark.parametrize(
    ("value", "shown"),
    [("abc", "W = 'abc' is a str"), ("7", "W = '7' is a str"), (True, "W = True is a bool"), (None, "W = None is a NoneType")],
    ids=["text", "numeric-text", "bool", "none"],
)
def test_fit_text_size_names_row(t2000, estimator, value, shown):
    with pytest.raises(ValueError, match="X contains values that are not numbers") as raised:
        clone(estimator).fit(_sizes_with(t2000, value), t2000.y)

    message = str(raised.value)
    assert f"in rows {BAD_ROW} (X[{BAD_ROW}] = [" in message
    assert shown in message


@pytest.mark.parametrize("value", ["abc", "7"])
def test_predict_text_size_names_row(t2000, fitted, value):
    with pytest.raises(ValueError, match=rf"not numbers in rows {BAD_ROW} \(.*W = '{value}' is a str\)"):
        fitted.predict(_sizes_with(t2000, value))


def test_text_size_in_list_names_row(t2000, fitted_models):
    X = t2000.X.tolist()
    X[BAD_ROW][1] = "abc"

    with pytest.raises(ValueError, match=rf"not numbers in rows {BAD_ROW} \(X\[{BAD_ROW}\] = \[60.0, 'abc', "):
        fitted_models["flops"].predict(X)


def test_text_array_names_first_rows(t2000, fitted_models):
    with pytest.raises(ValueError, match=r"not numbers in rows 0, 1, .* and 711 more \(X\[0\] = \['300.0'"):
        fitted_models["flops"].predict(t2000.X.astype(str))


def test_text_size_message_gives_fix(t2000, fitted_models):
    with pytest.raises(ValueError, match="not numbers") as raised:
        fitted_models["flops"].predict(_sizes_with(t2000, "7"))

    assert "convert numeric text, for example with np.asarray(X, dtype=float)" in str(raised.value)


def test_object_sizes_of_numbers_are_accepted(t2000, fitted_models):
    model = fitted_models["flops"]

    np.testing.assert_array_equal(model.predict(t2000.X.astype(object)), model.predict(t2000.X))


def test_huge_integer_size_reads_as_infinity(t2000, fitted_models):
    with pytest.raises(ValueError, match=rf"Input X contains infinity in rows {BAD_ROW} \(X\[{BAD_ROW}\] = \[60.0, inf"):
        fitted_models["flops"].predict(_sizes_with(t2000, 10**400))


# Shapes of X ------------------------------------------------------------------------------


def test_single_row_as_1d_suggests_reshape(t2000, fitted):
    with pytest.raises(ValueError, match=r"Expected 2D array, got 1D array of shape \(6,\)") as raised:
        fitted.predict(t2000.X[0])

    message = str(raised.value)
    assert "pass [row] or row.reshape(1, -1)" in message
    assert "reshape(-1, 1)" not in message


def test_one_column_as_x_names_shape(t2000):
    with pytest.raises(ValueError, match=r"Expected 2D array, got 1D array of shape \(721,\)") as raised:
        FlopsRegressor().fit(t2000.X[:, 0], t2000.y)

    message = str(raised.value)
    assert "needs X of shape (n, 6) with columns H, W, Cin, Cout, K1, K2" in message
    assert "reshape(-1, 1)" not in message
    assert "array=[" not in message


@pytest.mark.parametrize("X", [np.ones((2, 3, 6)), 3.0], ids=["3d", "scalar"])
def test_other_dimensions_name_shape(fitted_models, X):
    shape = np.shape(X)

    with pytest.raises(ValueError, match=rf"needs X of shape \(n, 6\) .*, got an array of shape {re.escape(str(shape))}"):
        fitted_models["flops"].predict(X)


@pytest.mark.parametrize("width", [5, 7])
def test_fit_wrong_width_gives_fix(t2000, width):
    X = np.ones((len(t2000.y), width))

    with pytest.raises(ValueError, match=rf"got {width} feature\(s\) in X of shape \(721, {width}\); pass one row of six sizes"):
        FlopsRegressor().fit(X, t2000.y)


@pytest.mark.parametrize("width", [5, 7])
def test_predict_wrong_width_gives_fix(t2000, fitted, width):
    X = np.ones((3, width))

    with pytest.raises(ValueError, match=rf"X has {width} features, but \w+ is expecting 6 features as input \(H, W, Cin, Cout, K1, K2\); pass"):
        fitted.predict(X)


# Times that the solver cannot start from ---------------------------------------------


@pytest.mark.parametrize("estimator", LEAST_SQUARES_ESTIMATORS, ids=_name)
def test_tiny_time_names_row_before_solver(t2000, estimator):
    y = _times_with(t2000, 1e-300)

    with pytest.raises(ValueError, match=r"cannot start the fit.* in rows 7 \(y\[7\] = 1e-300\)"):
        clone(estimator).fit(t2000.X, y)


@pytest.mark.parametrize("estimator", LEAST_SQUARES_ESTIMATORS, ids=_name)
def test_tiny_time_message_suggests_time_unit(t2000, estimator):
    y = _times_with(t2000, 1e-300)

    with pytest.raises(ValueError, match="check the unit of y"):
        clone(estimator).fit(t2000.X, y)


def test_hybrid_tiny_time_names_row(t2000):
    # The hybrid model fits the recommended model first, which runs the check.
    y = _times_with(t2000, 1e-300)

    with pytest.raises(ValueError, match=r"cannot start the fit.* in rows 7 \(y\[7\] = 1e-300\)"):
        HybridRegressor(inner_folds=0).fit(t2000.X, y)


def test_all_tiny_times_name_nonfinite_start(t2000):
    # flop_rate starts at a quantile of FLOPs / y, which overflows for times near 1e-300.
    with pytest.raises(ValueError, match=r"starting values flop_rate = (nan|inf) are not finite"):
        RecommendedRegressor(interval_folds=0).fit(t2000.X, t2000.y * 1e-300)


def test_infinite_start_jacobian_raises(t2000):
    # The residuals stay finite, but d(prediction)/d(beta) overflows at the start.
    with pytest.raises(ValueError, match="cannot start the fit"):
        AlphaFlopsRegressor().fit(t2000.X, t2000.y * 1e300)


def test_overflowing_squared_residual_rejected(t2000):
    # The residual, about 4e155, is finite, but its square is not.
    with pytest.raises(ValueError, match=r"rows 7 \(y\[7\] = 1e-156\)"):
        FlopsRegressor().fit(t2000.X, _times_with(t2000, 1e-156))


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_other_time_units_fit(t2000, scale):
    fitted = FlopsRegressor().fit(t2000.X, t2000.y * scale)

    assert fitted.params_["time_per_gflop"] > 0


# Messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("X_change", "y_change"),
    [
        ((3, 2, np.nan), None),
        ((0, 0, -1.0), None),
        ((4, 2, 100.5), None),
        (None, (7, -1.0)),
        (None, (7, 1e-300)),
    ],
    ids=["nan", "negative-size", "fractional", "negative-time", "tiny-time"],
)
def test_messages_show_plain_numbers(t2000, X_change, y_change):
    X = t2000.X.copy()
    y = t2000.y.copy()
    if X_change is not None:
        row, column, value = X_change
        X[row, column] = value
    if y_change is not None:
        row, value = y_change
        y[row] = value

    with pytest.raises(ValueError) as raised:
        FlopsRegressor().fit(X, y)

    assert "np.float64" not in str(raised.value)
