"""The hybrid model: fitting, intervals, JAX, model files and the accuracy targets on real tables."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks
from test_estimator_checks import CHECKS_WITHOUT_LAYER_COLUMNS, REASON

from alphaflops.datasets import load_dataset
from alphaflops.errors import ModelFileError
from alphaflops.evaluation import cross_validate
from alphaflops.models import (
    MODEL_KINDS,
    AlphaFlopsRegressor,
    FlopsRegressor,
    HybridRegressor,
    RecommendedRegressor,
    load_model,
)
from alphaflops.models.hybrid import FEATURE_NAMES, correction_features

# Small boosting settings keep the unit tests fast; the target tests use the defaults.
FAST = dict(max_iter=30, inner_folds=3)

TABLES = {
    "T4": ("conv-Tesla_T4.csv", "device-Tesla_T4.json"),
    "V100": ("conv-Tesla_V100-PCIE-32GB.csv", "device-Tesla_V100-PCIE-32GB.json"),
}


def _random_rows(n, seed):
    rng = np.random.default_rng(seed)
    batch = rng.integers(1, 33, n)
    size = rng.integers(4, 64, n)
    in_channels = rng.integers(3, 256, n)
    out_channels = rng.integers(3, 256, n)
    kernel = rng.choice([1, 3, 5], n)
    return np.column_stack([batch * size, size, in_channels, out_channels, kernel, kernel]).astype(np.float64)


def _synthetic_times(X, seed):
    # A FLOPs line with a floor, a step at 64 output channels and 5% noise.
    rng = np.random.default_rng(seed)
    flops = 2 * np.prod(X, axis=1)
    step = np.where(X[:, 3] > 64, 1.3, 1.0)
    return (0.02 + flops / 5e9) * step * np.exp(0.05 * rng.normal(size=len(X)))


@pytest.fixture(scope="module")
def synthetic():
    X = _random_rows(400, seed=0)
    return X, _synthetic_times(X, seed=1)


@pytest.fixture(scope="module")
def fitted(synthetic):
    X, y = synthetic
    return HybridRegressor(**FAST).fit(X, y)


@pytest.fixture
def x64():
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("hybrid") / "model.json"
    fitted.save(path)
    return path


def _tampered(saved, tmp_path, change):
    contents = json.loads(saved.read_text())
    change(contents)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(contents))
    return path


# Estimator behaviour ---------------------------------------------------------------


def test_kind_registered():
    assert MODEL_KINDS["hybrid"] is HybridRegressor


def test_predict_before_fit_raises(synthetic):
    X, _ = synthetic

    with pytest.raises(NotFittedError):
        HybridRegressor().predict(X)


def test_fit_returns_self(synthetic):
    X, y = synthetic
    model = HybridRegressor(**FAST)

    assert model.fit(X, y) is model


def test_predictions_positive_and_finite(fitted):
    predictions = fitted.predict(_random_rows(300, seed=5))

    assert np.all(np.isfinite(predictions))
    assert np.all(predictions > 0)


def test_correction_beats_physics_in_sample(fitted, synthetic):
    X, y = synthetic
    physics = RecommendedRegressor(interval_folds=0).fit(X, y)

    hybrid_error = np.mean(np.abs(fitted.predict(X) / y - 1))
    physics_error = np.mean(np.abs(physics.predict(X) / y - 1))
    assert hybrid_error < physics_error


def test_refit_is_idempotent(synthetic):
    X, y = synthetic
    model = HybridRegressor(**FAST)
    first = model.fit(X, y).predict(X)
    second = model.fit(X, y).predict(X)

    assert np.array_equal(first, second)


def test_clone_keeps_settings():
    model = HybridRegressor(max_iter=7, learning_rate=0.2, inner_folds=0)

    assert clone(model).get_params() == model.get_params()


def test_parameters_include_physics_and_weight(fitted):
    assert set(fitted.params_) == {*RecommendedRegressor()._parameter_names(), "correction_weight"}
    assert 0 <= fitted.params_["correction_weight"] <= 1


def test_rows_outside_range_get_physics_only(fitted):
    far = np.array([[2000.0, 2000.0, 5000.0, 5000.0, 7.0, 7.0]])
    physics = RecommendedRegressor()
    physics.params_ = {name: fitted.params_[name] for name in physics._parameter_names()}

    assert fitted.predict(far)[0] == physics._predict_rows(far, np)[0]


def test_wrong_column_count_rejected(fitted):
    with pytest.raises(ValueError, match="6 features"):
        fitted.predict(np.ones((3, 5)))


@pytest.mark.parametrize(
    "setting, value",
    [("max_iter", 0), ("learning_rate", 0.0), ("inner_folds", 1), ("min_samples_leaf", 0), ("l2_regularization", -1.0)],
)
def test_invalid_setting_rejected(synthetic, setting, value):
    X, y = synthetic

    with pytest.raises(ValueError, match=setting):
        HybridRegressor(**{setting: value}).fit(X, y)


def test_inner_folds_zero_uses_in_sample_errors(synthetic):
    X, y = synthetic
    model = HybridRegressor(max_iter=20, inner_folds=0).fit(X, y)

    assert model.interval_source_ == "in-sample"
    assert model.params_["correction_weight"] == 1.0


def test_feature_count_matches_names(synthetic):
    X, _ = synthetic

    assert correction_features(X).shape == (len(X), len(FEATURE_NAMES))


def _expected_failed_checks(estimator):
    # check_non_transformer_estimators_n_iter fits on the 4-column iris data.
    names = (*CHECKS_WITHOUT_LAYER_COLUMNS, "check_non_transformer_estimators_n_iter")
    return {name: REASON for name in names}


@parametrize_with_checks(
    [HybridRegressor(max_iter=5, inner_folds=0)], expected_failed_checks=_expected_failed_checks, xfail_strict=True
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# Prediction intervals ----------------------------------------------------------------


def test_interval_contains_prediction(fitted, synthetic):
    X, _ = synthetic
    lower, upper = fitted.predict_interval(X, coverage=0.9)
    predictions = fitted.predict(X)

    assert np.all(lower <= predictions)
    assert np.all(predictions <= upper)


def test_interval_widens_with_coverage(fitted, synthetic):
    X, _ = synthetic
    narrow = fitted.predict_interval(X, coverage=0.5)
    wide = fitted.predict_interval(X, coverage=0.95)

    assert np.all(wide[0] <= narrow[0])
    assert np.all(narrow[1] <= wide[1])


def test_interval_coverage_on_new_rows(fitted):
    X = _random_rows(600, seed=11)
    y = _synthetic_times(X, seed=12)
    lower, upper = fitted.predict_interval(X, coverage=0.9)
    covered = np.mean((lower <= y) & (y <= upper))

    assert 0.8 <= covered <= 0.98


@pytest.mark.parametrize("coverage", [0, 1, 1.5, True])
def test_invalid_coverage_rejected(fitted, synthetic, coverage):
    X, _ = synthetic

    with pytest.raises(ValueError, match="coverage"):
        fitted.predict_interval(X, coverage=coverage)


# JAX -----------------------------------------------------------------------------------


def test_predict_jax_matches_predict(x64, fitted, synthetic):
    X, _ = synthetic
    values = jax.jit(fitted.predict_jax)(jnp.asarray(X))

    np.testing.assert_allclose(np.asarray(values), fitted.predict(X), rtol=1e-12)


def test_grad_comes_from_physics_part(x64, fitted, synthetic):
    # Inside one tree cell the correction is a constant factor, so the
    # gradient equals that factor times the gradient of the physical part.
    X, _ = synthetic
    row = jnp.asarray(X[:1])
    physics = RecommendedRegressor()
    physics.params_ = {name: fitted.params_[name] for name in physics._parameter_names()}
    factor = fitted.predict(X[:1])[0] / physics._predict_rows(X[:1], np)[0]

    hybrid_grad = jax.grad(lambda r: fitted.predict_jax(r)[0])(row)
    physics_grad = jax.grad(lambda r: physics._predict_rows(r, jnp)[0])(row)
    np.testing.assert_allclose(np.asarray(hybrid_grad), factor * np.asarray(physics_grad), rtol=1e-9)


# Model files -----------------------------------------------------------------------------


def test_saved_file_loads_with_identical_predictions(fitted, saved):
    X = _random_rows(500, seed=21)
    loaded = load_model(saved)

    assert isinstance(loaded, HybridRegressor)
    assert np.array_equal(loaded.predict(X), fitted.predict(X))


def test_loaded_intervals_identical(fitted, saved, synthetic):
    X, _ = synthetic
    loaded = load_model(saved)

    for original, restored in zip(fitted.predict_interval(X), loaded.predict_interval(X)):
        assert np.array_equal(original, restored)


def _drop_small_kernel_speedup(contents):
    del contents["parameters"]["small_kernel_speedup"]


def test_old_file_copies_kernel_speedup(fitted, saved, tmp_path):
    # Files written before small_kernel_speedup existed had one physics
    # speedup for every kernel larger than 1x1.
    loaded = load_model(_tampered(saved, tmp_path, _drop_small_kernel_speedup))

    expected = {**fitted.params_, "small_kernel_speedup": fitted.params_["kernel_speedup"]}
    assert loaded.params_ == expected


def test_old_file_keeps_large_kernel_predictions(fitted, saved, tmp_path):
    # Only 1x1 and 5x5 rows, which small_kernel_speedup does not affect.
    X = _random_rows(200, seed=22)
    X[:, 4:] = np.where(X[:, 4:] == 3, 5, X[:, 4:])

    loaded = load_model(_tampered(saved, tmp_path, _drop_small_kernel_speedup))

    assert np.array_equal(loaded.predict(X), fitted.predict(X))


def test_file_stores_trees_as_json(saved):
    contents = json.loads(saved.read_text())
    trees = contents["extras"]["correction"]["trees"]

    assert trees["format"] == "alphaflops-trees"
    assert len(trees["trees"]) == FAST["max_iter"]


def _first_split(contents):
    tree = contents["extras"]["correction"]["trees"]["trees"][0]
    return tree, next(node for node, left in enumerate(tree["left"]) if left != -1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("right", 10_000, "out of range"),
        ("left", 0, "cycle|parents"),
        ("feature", len(FEATURE_NAMES), "feature 18 is out of range"),
        ("threshold", float("nan"), "not a finite number"),
    ],
    ids=["node-index", "cycle", "feature", "threshold"],
)
def test_tampered_split_node_rejected(saved, tmp_path, field, value, message):
    def change(contents):
        tree, node = _first_split(contents)
        tree[field][node] = value

    with pytest.raises(ModelFileError, match=message):
        load_model(_tampered(saved, tmp_path, change))


def test_tampered_tree_version_rejected(saved, tmp_path):
    def change(contents):
        contents["extras"]["correction"]["trees"]["version"] = 99

    with pytest.raises(ModelFileError, match="version 99"):
        load_model(_tampered(saved, tmp_path, change))


def test_tampered_feature_names_rejected(saved, tmp_path):
    def change(contents):
        contents["extras"]["correction"]["feature_names"][0] = "log_batch"

    with pytest.raises(ModelFileError, match="refit"):
        load_model(_tampered(saved, tmp_path, change))


def test_missing_correction_rejected(saved, tmp_path):
    def change(contents):
        del contents["extras"]["correction"]

    with pytest.raises(ModelFileError, match="correction"):
        load_model(_tampered(saved, tmp_path, change))


def test_weight_outside_unit_interval_rejected(saved, tmp_path):
    def change(contents):
        contents["parameters"]["correction_weight"]["value"] = 3.0

    with pytest.raises(ModelFileError, match="correction_weight"):
        load_model(_tampered(saved, tmp_path, change))


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("overlap_exponent", -1.0), ("overlap_exponent", 0.0), ("weight_bandwidth", 0.0), ("kernel_speedup", 0.0),
     ("flop_rate", -1.0)],
)
def test_physics_parameter_out_of_range_rejected(saved, tmp_path, parameter, value):
    def change(contents):
        contents["parameters"][parameter]["value"] = value

    with pytest.raises(ModelFileError, match=f"parameter '{parameter}' is {value}"):
        load_model(_tampered(saved, tmp_path, change))


def test_descending_interval_quantiles_rejected(saved, tmp_path):
    def change(contents):
        contents["extras"]["interval"]["log_error_quantiles"].reverse()

    with pytest.raises(ModelFileError, match="non-decreasing"):
        load_model(_tampered(saved, tmp_path, change))


@pytest.mark.parametrize("source", [7, None, "made up"])
def test_invalid_interval_source_rejected(saved, tmp_path, source):
    def change(contents):
        contents["extras"]["interval"]["source"] = source

    with pytest.raises(ModelFileError, match="extras.interval.source"):
        load_model(_tampered(saved, tmp_path, change))


# Accuracy on the published tables ---------------------------------------------------------


@pytest.fixture(scope="module")
def tables(neusight_dir):
    return {
        name: load_dataset(neusight_dir / table, format="neusight", device=neusight_dir / device)
        for name, (table, device) in TABLES.items()
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TABLES))
def test_table_hybrid_beats_recommended_and_flops(tables, name):
    dataset = tables[name]
    hybrid = cross_validate(HybridRegressor(), dataset, by="kfold").metrics["mape"]
    recommended = cross_validate(RecommendedRegressor(), dataset, by="kfold").metrics["mape"]
    flops = cross_validate(FlopsRegressor(), dataset, by="kfold").metrics["mape"]
    # Every row is 3x3, so the alpha model gets a single kernel class.
    alpha = cross_validate(AlphaFlopsRegressor(kernel_classes=()), dataset, by="kfold").metrics["mape"]

    assert hybrid < recommended
    assert recommended < flops
    assert recommended < alpha


@pytest.mark.parametrize("excluded_rows", [5, "abc", [1, 2]])
def test_tampered_excluded_rows_rejected(saved, tmp_path, excluded_rows):
    def change(contents):
        contents["extras"]["excluded_rows"] = excluded_rows

    with pytest.raises(ModelFileError, match="extras.excluded_rows must be a list of objects"):
        load_model(_tampered(saved, tmp_path, change))
