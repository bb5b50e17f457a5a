"""Regression tree ensembles as plain arrays: conversion, JSON form, validation, evaluation.

The hybrid model stores its learned correction, a scikit-learn
``HistGradientBoostingRegressor``, as node arrays rather than a pickle, so
that loading a model file never runs code. The JSON form (``to_json``) is::

    {"format": "alphaflops-trees", "version": 1,
     "n_features": F, "baseline": float,
     "trees": [{"feature": [int], "threshold": [float], "left": [int],
                "right": [int], "value": [float], "missing_go_left": [bool]}]}

Each tree is a list of nodes in parallel arrays, node 0 is the root. A split
node sends a row to ``left`` when its ``feature`` value is <= ``threshold``,
and NaN values to ``left`` when ``missing_go_left`` is true (to ``right``
otherwise). A leaf has ``left == right == -1``. Its ``value`` is the tree's
output, and its ``feature`` (-1) and ``threshold`` (0.0) are placeholders.
The ensemble's output is ``baseline`` plus the leaf values of all trees,
added in tree order as scikit-learn adds them, so the output equals
``HistGradientBoostingRegressor.predict`` bit for bit for the squared-error
loss.

Numeric splits only: scikit-learn's binning is not needed, because its
predictor compares raw values with ``num_threshold``. Categorical splits are
rejected on conversion.
"""

from dataclasses import dataclass

import numpy as np

from alphaflops.errors import ModelFileError

FORMAT_NAME = "alphaflops-trees"
FORMAT_VERSION = 1

_LEAF = -1
_TREE_FIELDS = ("feature", "threshold", "left", "right", "value", "missing_go_left")


@dataclass(frozen=True)
class Tree:
    """One regression tree as parallel node arrays (see the module docstring)."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    missing_go_left: np.ndarray
    depth: int


@dataclass(frozen=True)
class TreeEnsemble:
    """A sum of regression trees plus a constant, evaluated without scikit-learn.

    Attributes
    ----------
    n_features : int
        Number of input columns the trees split on.
    baseline : float
        Constant added to the sum of the trees.
    trees : tuple of Tree
    """

    n_features: int
    baseline: float
    trees: tuple

    def predict(self, features):
        """Evaluate the ensemble on ``features`` of shape (n, n_features); returns (n,) float64."""
        # One contiguous array per feature makes the per-node gathers cheap.
        columns = np.ascontiguousarray(np.asarray(features, dtype=np.float64).T)
        output = np.full(columns.shape[1], self.baseline, dtype=np.float64)
        for tree in self.trees:
            output += _tree_output(tree, columns)
        return output

    def predict_jax(self, features):
        """Evaluate the ensemble with ``jax.numpy``; traceable by ``jax.jit``.

        The output is piecewise constant in ``features``, so its gradient
        with respect to them is zero wherever it is defined.
        """
        import jax.numpy as jnp

        if not self.trees:
            return jnp.full(features.shape[0], self.baseline, dtype=features.dtype)

        # All trees step together, one level per iteration, so the traced
        # program has max-depth steps however many trees there are.
        stacked = {name: jnp.asarray(array) for name, array in _stack_trees(self.trees).items()}
        depth = max(tree.depth for tree in self.trees)
        tree_index = jnp.arange(len(self.trees))[None, :]
        rows = jnp.arange(features.shape[0])[:, None]
        node = jnp.zeros((features.shape[0], len(self.trees)), dtype=jnp.int32)
        for _ in range(depth):
            at_leaf = stacked["left"][tree_index, node] == _LEAF
            values = features[rows, stacked["feature"][tree_index, node]]
            go_left = jnp.where(
                jnp.isnan(values),
                stacked["missing_go_left"][tree_index, node],
                values <= stacked["threshold"][tree_index, node],
            )
            child = jnp.where(go_left, stacked["left"][tree_index, node], stacked["right"][tree_index, node])
            node = jnp.where(at_leaf, node, child)
        leaf_values = stacked["value"].astype(features.dtype)[tree_index, node]

        # Adding tree by tree, in order, keeps the sum bit-identical to predict.
        output = jnp.full(features.shape[0], self.baseline, dtype=features.dtype)
        for index in range(len(self.trees)):
            output = output + leaf_values[:, index]
        return output

    def to_json(self):
        """Return the ensemble as a JSON-serialisable dict (see the module docstring)."""
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "n_features": self.n_features,
            "baseline": float(self.baseline),
            "trees": [_tree_to_json(tree) for tree in self.trees],
        }


def _tree_output(tree, columns):
    # Splits the row indices node by node, so each row costs one comparison
    # per level of its own path rather than per level of the deepest leaf.
    output = np.empty(columns.shape[1], dtype=np.float64)
    stack = [(0, np.arange(columns.shape[1]))]
    while stack:
        node, rows = stack.pop()
        if tree.left[node] == _LEAF:
            output[rows] = tree.value[node]
            continue
        values = columns[tree.feature[node], rows]
        go_left = values <= tree.threshold[node]
        if tree.missing_go_left[node]:
            go_left |= np.isnan(values)
        stack.append((tree.left[node], rows[go_left]))
        stack.append((tree.right[node], rows[~go_left]))
    return output


def _stack_trees(trees):
    # Pads every tree's node arrays to the largest tree with leaves of value 0.
    size = max(len(tree.value) for tree in trees)
    stacked = {
        "feature": np.zeros((len(trees), size), dtype=np.int32),
        "threshold": np.zeros((len(trees), size)),
        "left": np.full((len(trees), size), _LEAF, dtype=np.int32),
        "right": np.full((len(trees), size), _LEAF, dtype=np.int32),
        "value": np.zeros((len(trees), size)),
        "missing_go_left": np.zeros((len(trees), size), dtype=bool),
    }
    for index, tree in enumerate(trees):
        count = len(tree.value)
        stacked["feature"][index, :count] = np.maximum(tree.feature, 0)
        stacked["threshold"][index, :count] = tree.threshold
        stacked["left"][index, :count] = tree.left
        stacked["right"][index, :count] = tree.right
        stacked["value"][index, :count] = tree.value
        stacked["missing_go_left"][index, :count] = tree.missing_go_left
    return stacked


def _tree_to_json(tree):
    return {
        "feature": [int(v) for v in tree.feature],
        "threshold": [float(v) for v in tree.threshold],
        "left": [int(v) for v in tree.left],
        "right": [int(v) for v in tree.right],
        "value": [float(v) for v in tree.value],
        "missing_go_left": [bool(v) for v in tree.missing_go_left],
    }


# Conversion from scikit-learn ---------------------------------------------------------


def from_histogram_gradient_boosting(estimator):
    """Convert a fitted ``HistGradientBoostingRegressor`` to a :class:`TreeEnsemble`.

    Parameters
    ----------
    estimator : sklearn.ensemble.HistGradientBoostingRegressor
        Fitted with the squared-error loss (identity link) and without
        categorical features.

    Returns
    -------
    TreeEnsemble
        Its predictions equal ``estimator.predict`` bit for bit.

    Raises
    ------
    ValueError
        For another loss, a categorical split, or a split threshold that is
        not finite (scikit-learn uses +inf for splits on missing values only).

    Notes
    -----
    Reads the private attributes ``_predictors`` (one list of
    ``TreePredictor`` per boosting iteration, whose ``nodes`` is a structured
    array with ``feature_idx``, ``num_threshold``, ``left``, ``right``,
    ``value``, ``missing_go_to_left``, ``is_leaf``, ``is_categorical``) and
    ``_baseline_prediction``, as in scikit-learn 1.6 to 1.9.
    """
    if estimator.loss != "squared_error":
        raise ValueError(f"only the squared_error loss converts to a tree ensemble, got loss={estimator.loss!r}")
    trees = []
    for iteration, predictors in enumerate(estimator._predictors):
        (predictor,) = predictors
        trees.append(_tree_from_nodes(predictor.nodes, iteration))
    baseline = float(np.asarray(estimator._baseline_prediction).reshape(-1)[0])
    return TreeEnsemble(n_features=int(estimator.n_features_in_), baseline=baseline, trees=tuple(trees))


def _tree_from_nodes(nodes, iteration):
    if np.any(nodes["is_categorical"]):
        raise ValueError(f"tree {iteration} has a categorical split; only numeric splits are supported")
    is_leaf = nodes["is_leaf"].astype(bool)
    tree = _make_tree(
        feature=np.where(is_leaf, _LEAF, nodes["feature_idx"]),
        threshold=np.where(is_leaf, 0.0, nodes["num_threshold"]),
        left=np.where(is_leaf, _LEAF, nodes["left"].astype(np.int64)),
        right=np.where(is_leaf, _LEAF, nodes["right"].astype(np.int64)),
        value=nodes["value"],
        missing_go_left=nodes["missing_go_to_left"].astype(bool),
    )
    if not np.all(np.isfinite(tree.threshold)):
        raise ValueError(f"tree {iteration} splits on missing values only (threshold inf); this is not supported")
    return tree


def _make_tree(feature, threshold, left, right, value, missing_go_left):
    tree = Tree(
        feature=np.asarray(feature, dtype=np.intp),
        threshold=np.asarray(threshold, dtype=np.float64),
        left=np.asarray(left, dtype=np.intp),
        right=np.asarray(right, dtype=np.intp),
        value=np.asarray(value, dtype=np.float64),
        missing_go_left=np.asarray(missing_go_left, dtype=bool),
        depth=0,
    )
    return Tree(**{**tree.__dict__, "depth": _depth(tree.left, tree.right)})


def _depth(left, right):
    depth = np.zeros(left.size, dtype=np.intp)
    # Children have larger indices than their parents in scikit-learn's
    # trees, but loaded trees need not, so walk the tree from the root.
    stack = [0]
    while stack:
        node = stack.pop()
        if left[node] != _LEAF:
            for child in (left[node], right[node]):
                depth[child] = depth[node] + 1
                stack.append(child)
    return int(depth.max())


# Loading and validation ---------------------------------------------------------------


def from_json(contents):
    """Validate the JSON form of an ensemble and return the :class:`TreeEnsemble`.

    Parameters
    ----------
    contents : dict
        As written by :meth:`TreeEnsemble.to_json`.

    Returns
    -------
    TreeEnsemble

    Raises
    ------
    ModelFileError
        If the format or version is not the one this module writes, or a
        field is missing or of the wrong type. Also if a node index is out of
        range, a node has two parents or none, or the nodes form a cycle. Also
        if a split uses a feature outside ``0 .. n_features - 1``, or a
        threshold or value is not finite. The message names the tree and the
        node.
    """
    if not isinstance(contents, dict):
        raise ModelFileError(f"tree ensemble must be a JSON object, got {type(contents).__name__}")
    if contents.get("format") != FORMAT_NAME:
        raise ModelFileError(f'tree ensemble has format {contents.get("format")!r}, expected "{FORMAT_NAME}"')
    version = contents.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ModelFileError(
            f"tree ensemble format version {version!r} is not supported (this alphaflops reads version "
            f"{FORMAT_VERSION})"
        )
    n_features = contents.get("n_features")
    if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1:
        raise ModelFileError(f"tree ensemble n_features must be a positive integer, got {n_features!r}")
    baseline = _finite_float(contents.get("baseline"), "tree ensemble baseline")
    trees = contents.get("trees")
    if not isinstance(trees, list):
        raise ModelFileError(f"tree ensemble trees must be a list, got {type(trees).__name__}")
    parsed = tuple(_tree_from_json(tree, index, n_features) for index, tree in enumerate(trees))
    return TreeEnsemble(n_features=n_features, baseline=baseline, trees=parsed)


def _tree_from_json(entry, index, n_features):
    where = f"tree {index}"
    if not isinstance(entry, dict):
        raise ModelFileError(f"{where} must be a JSON object, got {type(entry).__name__}")
    missing = [name for name in _TREE_FIELDS if name not in entry]
    if missing:
        raise ModelFileError(f"{where} lacks the field(s) {', '.join(missing)}")
    arrays = {name: entry[name] for name in _TREE_FIELDS}
    for name, values in arrays.items():
        if not isinstance(values, list):
            raise ModelFileError(f"{where}: {name} must be a list, got {type(values).__name__}")
    sizes = {len(values) for values in arrays.values()}
    if len(sizes) != 1 or 0 in sizes:
        lengths = ", ".join(f"{name} {len(values)}" for name, values in arrays.items())
        raise ModelFileError(f"{where}: node arrays must be non-empty and of equal length, got {lengths}")

    feature = _integers(arrays["feature"], f"{where} feature")
    left = _integers(arrays["left"], f"{where} left")
    right = _integers(arrays["right"], f"{where} right")
    threshold = _floats(arrays["threshold"], f"{where} threshold")
    value = _floats(arrays["value"], f"{where} value")
    if not all(isinstance(flag, bool) for flag in arrays["missing_go_left"]):
        raise ModelFileError(f"{where}: missing_go_left must contain only true or false")

    _check_structure(where, feature, left, right, n_features)
    return _make_tree(feature, threshold, left, right, value, arrays["missing_go_left"])


def _check_structure(where, feature, left, right, n_features):
    size = left.size
    is_leaf = left == _LEAF
    half_leaf = is_leaf != (right == _LEAF)
    if np.any(half_leaf):
        node = int(np.flatnonzero(half_leaf)[0])
        raise ModelFileError(f"{where} node {node}: left and right must both be -1 (a leaf) or both be node indices")
    children = np.concatenate([left[~is_leaf], right[~is_leaf]])
    out_of_range = (children < 0) | (children >= size)
    if np.any(out_of_range):
        raise ModelFileError(
            f"{where}: child index {int(children[out_of_range][0])} is out of range; the tree has {size} node(s)"
        )
    bad_feature = ~is_leaf & ((feature < 0) | (feature >= n_features))
    if np.any(bad_feature):
        node = int(np.flatnonzero(bad_feature)[0])
        raise ModelFileError(
            f"{where} node {node}: feature {int(feature[node])} is out of range; features are 0 to {n_features - 1}"
        )
    parents = np.bincount(children, minlength=size)
    if parents[0] != 0:
        raise ModelFileError(f"{where}: the root (node 0) is the child of another node, which makes a cycle")
    wrong = np.flatnonzero(parents[1:] != 1) + 1
    if wrong.size:
        node = int(wrong[0])
        raise ModelFileError(
            f"{where} node {node} has {int(parents[node])} parents; every node but the root must have exactly one"
        )
    _check_reachable(where, left, right)


def _check_reachable(where, left, right):
    # With one parent per node and none for the root, a node the root cannot
    # reach lies on a cycle of its own.
    seen = np.zeros(left.size, dtype=bool)
    stack = [0]
    while stack:
        node = stack.pop()
        seen[node] = True
        if left[node] != _LEAF:
            stack.extend((int(left[node]), int(right[node])))
    if not np.all(seen):
        node = int(np.flatnonzero(~seen)[0])
        raise ModelFileError(f"{where} node {node} is not reachable from the root; its nodes form a cycle")


def _integers(values, field):
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ModelFileError(f"{field} must contain only integers")
    try:
        return np.asarray(values, dtype=np.intp)
    except OverflowError:
        raise ModelFileError(f"{field} contains an integer too large to be a node or feature index") from None


def _floats(values, field):
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ModelFileError(f"{field} must contain only numbers")
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        node = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ModelFileError(f"{field} of node {node} is {array[node]!r}, not a finite number")
    return array


def _finite_float(value, field):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ModelFileError(f"{field} must be a finite number, got {value!r}")
    return float(value)
