"""Tests of predict_jax: agreement with predict, jax.jit, and jax.grad against finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from alphaflops import load_dataset
from alphaflops.models import AlphaFlopsRegressor, FlopsRegressor, published_model


@pytest.fixture
def x64():
    """Enable 64-bit JAX arrays for one test and restore the previous setting."""
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


@pytest.fixture(scope="module")
def t2000(t2000_path):
    return load_dataset(t2000_path)


@pytest.fixture(scope="module")
def models(t2000):
    return {
        "published": published_model(),
        "flops": FlopsRegressor().fit(t2000.X, t2000.y),
        "flops_no_overhead": FlopsRegressor(overhead=False).fit(t2000.X, t2000.y),
        "alpha": AlphaFlopsRegressor().fit(t2000.X, t2000.y),
        "alpha_three_classes": AlphaFlopsRegressor(kernel_classes=(1, 9)).fit(t2000.X, t2000.y),
    }


CLASS_BOUNDS = (1.0, 9.0)
MODEL_NAMES = ["published", "flops", "flops_no_overhead", "alpha", "alpha_three_classes"]

# Rows with non-integer sizes, as an architecture search would pass them,
# covering 1x1 kernels, larger ones and a kernel area between classes.
CONTINUOUS_ROWS = np.array(
    [
        [7.5, 9.25, 64.0, 96.5, 1.0, 1.0],
        [32.0, 30.5, 48.25, 128.0, 3.0, 3.0],
        [3.5, 120.0, 700.0, 12.5, 2.5, 4.0],
        [250.0, 1.0, 8.0, 4000.0, 5.0, 1.5],
    ]
)


def _numpy_formula(model, rows):
    # predict accepts only whole-number layer sizes, so continuous rows go
    # through the same formula in numpy without the layer checks.
    return np.asarray(model._predict_rows(np.asarray(rows, dtype=np.float64), np))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_predict_jax_matches_predict(x64, models, t2000, name):
    model = models[name]

    result = np.asarray(model.predict_jax(jnp.asarray(t2000.X)))

    assert result.dtype == np.float64
    np.testing.assert_allclose(result, model.predict(t2000.X), rtol=1e-6, atol=0)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_predict_jax_under_jit(x64, models, name):
    model = models[name]

    result = jax.jit(model.predict_jax)(jnp.asarray(CONTINUOUS_ROWS))

    np.testing.assert_allclose(np.asarray(result), _numpy_formula(model, CONTINUOUS_ROWS), rtol=1e-6, atol=0)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_grad_matches_central_differences(x64, models, name):
    model = models[name]

    def total_time(rows):
        return jnp.sum(model.predict_jax(rows))

    gradient = np.asarray(jax.jit(jax.grad(total_time))(jnp.asarray(CONTINUOUS_ROWS)))

    expected = np.zeros_like(CONTINUOUS_ROWS)
    for row in range(CONTINUOUS_ROWS.shape[0]):
        for column in range(6):
            expected[row, column] = _finite_difference(model, row, column)
    np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=0)


def _finite_difference(model, row, column):
    """Return d(sum of predict)/d(CONTINUOUS_ROWS[row, column]) by finite differences.

    Central differences, except for a kernel side of a row whose kernel area
    lies on a class bound (K1 * K2 = 1 or 9). The formula jumps there, and
    the class (low, high] includes its bound, so the derivative JAX returns
    is the one from below, matched by a second-order backward difference.
    """

    def total(offset):
        rows = CONTINUOUS_ROWS.copy()
        rows[row, column] += offset
        return _numpy_formula(model, rows).sum()

    step = 1e-6 * CONTINUOUS_ROWS[row, column]
    kernel_area = CONTINUOUS_ROWS[row, 4] * CONTINUOUS_ROWS[row, 5]
    if column >= 4 and kernel_area in CLASS_BOUNDS:
        return (3 * total(0.0) - 4 * total(-step) + total(-2 * step)) / (2 * step)
    return (total(step) - total(-step)) / (2 * step)


def test_grad_through_parameterised_layer(x64, models):
    # A pruning penalty: d time / d Cout of a 3x3 convolution is positive.
    model = models["alpha"]

    def time_of_width(out_channels):
        row = jnp.stack([56.0, 56.0, 64.0, out_channels, 3.0, 3.0])[None, :]
        return model.predict_jax(row)[0]

    assert jax.jit(jax.grad(time_of_width))(128.0) > 0


def test_predict_jax_default_precision_runs(models):
    result = models["alpha"].predict_jax(CONTINUOUS_ROWS.astype(np.float32))

    np.testing.assert_allclose(np.asarray(result), _numpy_formula(models["alpha"], CONTINUOUS_ROWS), rtol=1e-4)


def test_predict_jax_rejects_wrong_shape(models):
    with pytest.raises(ValueError, match=r"shape \(n, 6\).* got shape \(3, 5\)"):
        models["flops"].predict_jax(np.ones((3, 5)))


def test_predict_jax_before_fit_raises():
    with pytest.raises(NotFittedError):
        FlopsRegressor().predict_jax(np.ones((1, 6)))
