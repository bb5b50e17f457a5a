"""Tree ensembles as JSON node arrays: exact conversion from scikit-learn and rejection of tampered trees."""

import copy
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from alphaflops.errors import ModelFileError
from alphaflops.models import _trees


@pytest.fixture(scope="module")
def booster():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(600, 4))
    target = np.sin(features[:, 0]) + features[:, 1] ** 2 + 0.1 * rng.normal(size=600)
    return HistGradientBoostingRegressor(max_iter=40, random_state=0).fit(features, target)


@pytest.fixture(scope="module")
def ensemble(booster):
    return _trees.from_histogram_gradient_boosting(booster)


@pytest.fixture
def contents(ensemble):
    return copy.deepcopy(ensemble.to_json())


@pytest.fixture(scope="module")
def queries():
    return np.random.default_rng(1).normal(size=(500, 4)) * 2


def _first_split(tree):
    return next(node for node, left in enumerate(tree["left"]) if left != -1)


def test_conversion_predicts_bit_for_bit(booster, ensemble, queries):
    assert np.array_equal(ensemble.predict(queries), booster.predict(queries))


def test_json_round_trip_predicts_bit_for_bit(booster, contents, queries):
    loaded = _trees.from_json(json.loads(json.dumps(contents)))

    assert np.array_equal(loaded.predict(queries), booster.predict(queries))


def test_missing_values_follow_the_stored_direction(contents):
    tree = {"feature": [0, -1, -1], "threshold": [0.5, 0.0, 0.0], "left": [1, -1, -1], "right": [2, -1, -1],
            "value": [0.0, 1.0, 2.0], "missing_go_left": [False, False, False]}
    contents["trees"] = [tree]
    contents["baseline"] = 0.0
    loaded = _trees.from_json(contents)

    assert loaded.predict(np.array([[np.nan] * 4]))[0] == 2.0


def test_jax_evaluation_matches_numpy(ensemble, queries):
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        values = jax.jit(ensemble.predict_jax)(jnp.asarray(queries))
    finally:
        jax.config.update("jax_enable_x64", previous)

    assert np.array_equal(np.asarray(values), ensemble.predict(queries))


def test_conversion_rejects_other_losses():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(200, 2))
    booster = HistGradientBoostingRegressor(loss="absolute_error", max_iter=5).fit(features, features[:, 0])

    with pytest.raises(ValueError, match="squared_error"):
        _trees.from_histogram_gradient_boosting(booster)


def test_changed_version_rejected(contents):
    contents["version"] = 2

    with pytest.raises(ModelFileError, match="version 2 is not supported"):
        _trees.from_json(contents)


def test_wrong_format_rejected(contents):
    contents["format"] = "something-else"

    with pytest.raises(ModelFileError, match="format"):
        _trees.from_json(contents)


def test_child_index_out_of_range_rejected(contents):
    tree = contents["trees"][0]
    tree["left"][_first_split(tree)] = len(tree["left"]) + 5

    with pytest.raises(ModelFileError, match="tree 0: child index .* is out of range"):
        _trees.from_json(contents)


def test_negative_child_index_rejected(contents):
    tree = contents["trees"][0]
    tree["right"][_first_split(tree)] = -3

    with pytest.raises(ModelFileError, match="out of range"):
        _trees.from_json(contents)


def test_half_leaf_rejected(contents):
    tree = contents["trees"][0]
    tree["right"][_first_split(tree)] = -1

    with pytest.raises(ModelFileError, match="both be -1"):
        _trees.from_json(contents)


def test_cycle_through_root_rejected(contents):
    tree = contents["trees"][0]
    split = _first_split(tree)
    tree["left"][split] = 0

    with pytest.raises(ModelFileError, match="cycle|parents"):
        _trees.from_json(contents)


def test_node_pointing_to_itself_rejected(contents):
    tree = contents["trees"][0]
    split = next(node for node, left in enumerate(tree["left"]) if left != -1 and node != 0)
    tree["left"][split] = split

    with pytest.raises(ModelFileError, match="parents"):
        _trees.from_json(contents)


@pytest.mark.parametrize(
    ("left", "right", "message"),
    [
        # Nodes 1 and 2 point at each other and nothing else points at them.
        ([-1, 2, 1], [-1, 2, 1], "node 1 has 2 parents"),
        # Nodes 1 and 2 point at each other and at leaves 3 and 4, so every
        # node but the leaf root has exactly one parent.
        ([-1, 2, 1, -1, -1], [-1, 3, 4, -1, -1], "node 1 is not reachable from the root; its nodes form a cycle"),
    ],
    ids=["two-parents", "one-parent-each"],
)
def test_detached_cycle_rejected(contents, left, right, message):
    size = len(left)
    tree = {"feature": [-1 if child == -1 else 0 for child in left], "threshold": [0.0] * size, "left": left,
            "right": right, "value": [0.0] * size, "missing_go_left": [False] * size}
    contents["trees"] = [tree]

    with pytest.raises(ModelFileError, match=message):
        _trees.from_json(contents)


def test_non_finite_threshold_rejected(contents):
    tree = contents["trees"][0]
    tree["threshold"][_first_split(tree)] = float("inf")
    text = json.dumps(contents)

    with pytest.raises(ModelFileError, match="threshold of node .* not a finite number"):
        _trees.from_json(json.loads(text))


def test_nan_leaf_value_rejected(contents):
    tree = contents["trees"][0]
    leaf = tree["left"].index(-1)
    tree["value"][leaf] = float("nan")

    with pytest.raises(ModelFileError, match="value of node"):
        _trees.from_json(contents)


def test_out_of_range_feature_rejected(contents):
    tree = contents["trees"][0]
    tree["feature"][_first_split(tree)] = contents["n_features"]

    with pytest.raises(ModelFileError, match="feature 4 is out of range; features are 0 to 3"):
        _trees.from_json(contents)


def test_unequal_array_lengths_rejected(contents):
    contents["trees"][0]["value"].append(0.0)

    with pytest.raises(ModelFileError, match="equal length"):
        _trees.from_json(contents)


def test_missing_tree_field_rejected(contents):
    del contents["trees"][0]["missing_go_left"]

    with pytest.raises(ModelFileError, match="lacks the field"):
        _trees.from_json(contents)


def test_non_integer_index_rejected(contents):
    tree = contents["trees"][0]
    tree["left"][_first_split(tree)] = 1.5

    with pytest.raises(ModelFileError, match="left must contain only integers"):
        _trees.from_json(contents)


def test_oversized_child_index_rejected(contents):
    tree = contents["trees"][0]
    tree["left"][_first_split(tree)] = 10**30

    with pytest.raises(ModelFileError, match="tree 0 left contains an integer too large"):
        _trees.from_json(contents)


def test_jax_gathers_do_not_grow_with_trees(ensemble):
    # The traced program steps all trees together, so its gathers scale with
    # the depth only. A program that steps each tree in turn grows with the
    # tree count, and jax.jit of a hybrid model fitted on a NeuSight table
    # then compiles for more than ten minutes.
    one_tree = _trees.TreeEnsemble(ensemble.n_features, ensemble.baseline, ensemble.trees[:1])
    features = jnp.zeros((3, ensemble.n_features))

    def count_gathers(model):
        jaxpr = jax.make_jaxpr(model.predict_jax)(features)
        return sum(equation.primitive.name == "gather" for equation in jaxpr.jaxpr.eqns)

    depth_ratio = max(tree.depth for tree in ensemble.trees) / ensemble.trees[0].depth

    assert len(ensemble.trees) == 40
    assert count_gathers(ensemble) <= count_gathers(one_tree) * depth_ratio + 1


def test_ensemble_without_trees_predicts_baseline():
    empty = _trees.TreeEnsemble(n_features=4, baseline=0.25, trees=())
    features = np.ones((3, 4))

    assert np.array_equal(empty.predict(features), np.full(3, 0.25))
    assert np.array_equal(np.asarray(empty.predict_jax(jnp.asarray(features))), np.full(3, 0.25))
