"""A new model kind written as a small LeastSquaresCostModel subclass gets fitting, files and JAX for free."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alphaflops.models import MODEL_KINDS, LeastSquaresCostModel, benchmark_models, load_model


def _gflops(X):
    return 2.0 * X[:, 0] * X[:, 1] * X[:, 2] * X[:, 3] * X[:, 4] * X[:, 5] / 1e9


@pytest.fixture
def power_law_class():
    """Define a power-law kind (time = scale * GFLOPs ** exponent), registered only during the test."""

    class PowerLawRegressor(LeastSquaresCostModel):
        kind = "test_power_law"

        def __init__(self, loss="linear", f_scale=0.1, max_nfev=None):
            self.loss = loss
            self.f_scale = f_scale
            self.max_nfev = max_nfev

        def _parameter_names(self):
            return ["scale", "exponent"]

        def _formula(self, theta, X, xp):
            return theta[0] * _gflops(X) ** theta[1]

        def _initial_params(self, X, y):
            return [np.median(y / _gflops(X)), 1.0]

        def _parameter_scales(self, X, y):
            return [np.median(y / _gflops(X)), 1.0]

        def _bounds(self):
            return [1e-12, 0.0], [np.inf, np.inf]

    yield PowerLawRegressor
    MODEL_KINDS.pop("test_power_law", None)


@pytest.fixture
def rows():
    rng = np.random.default_rng(0)
    return rng.integers(1, 128, size=(60, 6)).astype(np.float64)


def _power_law_times(X):
    return 0.3 * _gflops(X) ** 0.8


def test_subclass_is_registered(power_law_class):
    assert MODEL_KINDS["test_power_law"] is power_law_class


def test_subclass_without_benchmark_name_is_not_benchmarked(power_law_class):
    assert power_law_class not in [type(model) for model in benchmark_models().values()]


def test_subclass_recovers_parameters(power_law_class, rows):
    # No _jacobian: the fit and the standard errors use central differences.
    model = power_law_class().fit(rows, _power_law_times(rows))

    assert model.params_["scale"] == pytest.approx(0.3, rel=1e-6)
    assert model.params_["exponent"] == pytest.approx(0.8, rel=1e-6)


def test_subclass_standard_errors_are_finite(power_law_class, rows):
    noise = 1 + 0.05 * np.random.default_rng(1).standard_normal(len(rows))

    model = power_law_class().fit(rows, _power_law_times(rows) * noise)

    assert all(np.isfinite(error) and error > 0 for error in model.standard_errors_.values())


def test_subclass_model_file_round_trip(power_law_class, rows, tmp_path):
    model = power_law_class().fit(rows, _power_law_times(rows))
    model.save(tmp_path / "power_law.json")

    loaded = load_model(tmp_path / "power_law.json")

    assert type(loaded) is power_law_class
    np.testing.assert_array_equal(loaded.predict(rows), model.predict(rows))


def test_subclass_predict_jax(power_law_class, rows):
    model = power_law_class().fit(rows, _power_law_times(rows))
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        result = np.asarray(jax.jit(model.predict_jax)(jnp.asarray(rows)))
    finally:
        jax.config.update("jax_enable_x64", previous)

    np.testing.assert_allclose(result, model.predict(rows), rtol=1e-12)


def test_duplicate_kind_raises(power_law_class):
    with pytest.raises(ValueError, match="model kind 'test_power_law' is already used by PowerLawRegressor"):

        class OtherRegressor(power_law_class):
            kind = "test_power_law"
