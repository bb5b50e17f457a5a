"""The hybrid cost model: the recommended physical model times a learned correction.

The prediction for a six-column row x (H, W, Cin, Cout, K1, K2) is::

    time = physics(x) * exp(weight * g(features(x)))

``physics`` is :func:`~alphaflops.models.recommended.recommended_time` with
parameters fitted by :class:`~alphaflops.models.recommended.RecommendedRegressor`.
``g`` is a scikit-learn ``HistGradientBoostingRegressor`` (squared error)
fitted to the log residuals ``log(y / physics(x))`` on the layer features of
:data:`FEATURE_NAMES`. Most features are logs of the sizes and of the
products that set the work and the data moved (MACs, input, output and weight
elements). The others are the number of 128x64 GEMM tiles, and the channel
counts modulo 8 and 32, which decide whether cuDNN kernels can use
vectorised loads.

Trees extrapolate as constants, which is rarely right for a layer unlike
any in the training data. So the correction applies only to rows whose
features all lie within the range seen in training (``correction_range_``),
and other rows get the physical prediction alone.

``weight`` in [0, 1] shrinks the correction. ``fit`` chooses it from
cross-fitted predictions: the training rows are split, in the order given,
into ``inner_folds`` contiguous blocks. For each block both parts are
refitted on the other rows and predict the block. ``weight`` is the smallest
value on a grid of step 0.05 whose held-out MAPE is within one standard
error of the best grid value's (the one-standard-error rule). On rows in
random order (the NeuSight tables) the blocks are ordinary K-fold splits and
the weight comes out near 1. On rows ordered by plot (the published T2000
set) the blocks hold out large parts of sweeps. There a correction that
does not carry over to unseen sweeps gets a smaller weight. It is not
forced to 0, so on unseen sweeps the hybrid can still be less accurate than
the physical model alone.

The same held-out log errors give :meth:`HybridRegressor.predict_interval`.

Model files store the physical parameters as the ``parameters`` of the file,
and the trees as node arrays in JSON (see :mod:`alphaflops.models._trees`),
never as a pickle.

NOTE: the trees are piecewise constant in the layer sizes, so
:meth:`~HybridRegressor.predict_jax` differentiates only the physical part,
scaled by the correction of the cell the row falls in. Its gradient is the
gradient of a function that jumps at the split thresholds. Under JAX's
default float32 the features are rounded, so a row within rounding distance
of a threshold may fall in the neighbouring cell. With 64-bit mode enabled,
``predict_jax`` agrees with ``predict`` to rounding.
"""

import warnings

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning

from alphaflops.errors import ModelFileError
from alphaflops.models import _trees
from alphaflops.models.base import CostModel, ParameterRange
from alphaflops.models.files import corrupt_model_file
from alphaflops.models.intervals import IntervalMixin, error_quantiles, interval_from_extras, interval_to_extras
from alphaflops.models.recommended import PARAMETER_NAMES as PHYSICS_PARAMETER_NAMES
from alphaflops.models.recommended import RecommendedRegressor, recommended_time, upgrade_parameter_entries

FEATURE_NAMES = (
    "log_H",
    "log_W",
    "log_Cin",
    "log_Cout",
    "log_K1",
    "log_K2",
    "log_macs",
    "log_spatial",
    "log_reduction",
    "log_H_over_W",
    "log_input_elements",
    "log_output_elements",
    "log_weight_elements",
    "log_gemm_tiles",
    "Cin_mod_32",
    "Cout_mod_32",
    "Cin_mod_8",
    "Cout_mod_8",
)

#: GEMM tile of the tile-count feature: output positions x output channels.
GEMM_TILE = (128, 64)

#: Candidate values of the correction weight.
_WEIGHT_GRID = np.linspace(0.0, 1.0, 21)


def correction_features(X, xp=np):
    """Compute the correction's input features of six-column rows.

    Parameters
    ----------
    X : array of shape (n, 6)
        Rows H, W, Cin, Cout, K1, K2 (numpy or JAX array), all positive.
    xp : module, default=numpy
        ``numpy`` or ``jax.numpy``.

    Returns
    -------
    array of shape (n, 18)
        The columns of :data:`FEATURE_NAMES`, in that order.
    """
    height, width, in_channels, out_channels, kernel_1, kernel_2 = (X[:, column] for column in range(6))
    spatial = height * width
    kernel_area = kernel_1 * kernel_2
    tiles = xp.ceil(spatial / GEMM_TILE[0]) * xp.ceil(out_channels / GEMM_TILE[1])
    columns = [
        xp.log(height),
        xp.log(width),
        xp.log(in_channels),
        xp.log(out_channels),
        xp.log(kernel_1),
        xp.log(kernel_2),
        xp.log(spatial * in_channels * out_channels * kernel_area),
        xp.log(spatial),
        xp.log(in_channels * kernel_area),
        xp.log(height / width),
        xp.log(spatial * in_channels),
        xp.log(spatial * out_channels),
        xp.log(in_channels * out_channels * kernel_area),
        xp.log(tiles),
        xp.mod(in_channels, 32),
        xp.mod(out_channels, 32),
        xp.mod(in_channels, 8),
        xp.mod(out_channels, 8),
    ]
    return xp.stack(columns, axis=1)


class HybridRegressor(IntervalMixin, CostModel):
    """The recommended physical model times a gradient-boosted correction.

    See the module docstring for the formula, how the correction weight is
    chosen and how the intervals are built.

    Parameters
    ----------
    max_iter : int, default=500
        Boosting iterations (trees) of the correction.
    learning_rate : float, default=0.05
        Shrinkage of each tree.
    max_leaf_nodes : int, default=31
        Maximum leaves per tree.
    min_samples_leaf : int, default=20
        Minimum training rows per leaf.
    l2_regularization : float, default=0.0
        L2 penalty on the leaf values.
    inner_folds : int, default=5
        Contiguous blocks for the cross-fitted correction weight and the
        prediction intervals; 0 fixes the weight at 1 and uses in-sample
        errors for the intervals, which are then too narrow for unseen layers.
    random_state : int, default=0
        Seed of the boosting (used only for tie-breaking, as the correction
        uses neither early stopping nor subsampling).

    Attributes
    ----------
    params_ : dict
        The ten parameters of the physical model (see
        :class:`~alphaflops.models.recommended.RecommendedRegressor`) and
        ``correction_weight``, the weight in [0, 1] of the learned log
        correction.
    standard_errors_ : dict
        Standard errors of the physical parameters, from their own fit;
        NaN for ``correction_weight``.
    correction_ : TreeEnsemble
        The fitted trees as node arrays.
    correction_range_ : tuple of ndarray
        (min, max), each of shape (18,): the range of the correction features
        on the training rows; rows outside it get no correction.
    interval_quantiles_ : ndarray of shape (201,)
        Quantiles of the held-out log errors at levels 0, 0.005, ..., 1.
    interval_source_ : str
        "held-out blocks" or "in-sample".
    excluded_rows_ : list of dict
        Rows left out by :func:`alphaflops.plausibility.fit_without_flagged`.
    feature_range_, in_sample_metrics_, hardware_, dataset_sha256_
        See :class:`~alphaflops.models.base.CostModel`.
    """

    kind = "hybrid"
    benchmark_name = "hybrid"

    def __init__(
        self,
        max_iter=500,
        learning_rate=0.05,
        max_leaf_nodes=31,
        min_samples_leaf=20,
        l2_regularization=0.0,
        inner_folds=5,
        random_state=0,
    ):
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.inner_folds = inner_folds
        self.random_state = random_state

    # Prediction -------------------------------------------------------------------

    def _predict_rows(self, X, xp):
        physics = recommended_time(X, self.params_, xp)
        features = correction_features(X, xp)
        if xp is np:
            correction = self.correction_.predict(features)
        else:
            correction = self.correction_.predict_jax(features)
        low, high = (xp.asarray(bound) for bound in self.correction_range_)
        inside = xp.all((features >= low) & (features <= high), axis=1)
        return physics * xp.exp(xp.where(inside, self.params_["correction_weight"] * correction, 0.0))

    # Fitting ------------------------------------------------------------------------

    def _parameter_names(self):
        return [*PHYSICS_PARAMETER_NAMES, "correction_weight"]

    def _parameter_ranges(self):
        physics_ranges = RecommendedRegressor()._parameter_ranges()
        return {**physics_ranges, "correction_weight": ParameterRange(0.0, 1.0)}

    def _check_settings(self):
        _require_integer(self.max_iter, "max_iter", minimum=1)
        _require_integer(self.max_leaf_nodes, "max_leaf_nodes", minimum=2)
        _require_integer(self.min_samples_leaf, "min_samples_leaf", minimum=1)
        _require_integer(self.random_state, "random_state", minimum=0)
        folds = self.inner_folds
        if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 0 or folds == 1:
            raise ValueError(f"inner_folds must be 0 or an integer of at least 2, got {folds!r}")
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1:
            raise ValueError(f"learning_rate must be a number in (0, 1], got {rate!r}")
        penalty = self.l2_regularization
        if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or not penalty >= 0:
            raise ValueError(f"l2_regularization must be a number >= 0, got {penalty!r}")

    def _fit_rows(self, X, y):
        physics = RecommendedRegressor(interval_folds=0).fit(X, y)
        features = correction_features(X)
        residuals = np.log(y / physics.predict(X))

        held_out = self._cross_fitted_predictions(X, y, features)
        if held_out is None:
            weight = 1.0
            errors = residuals - self._fit_correction(features, residuals).predict(features)
            self.interval_source_ = "in-sample"
        else:
            physics_held_out, correction_held_out = held_out
            weight = _best_weight(y, physics_held_out, correction_held_out)
            errors = np.log(y / physics_held_out) - weight * correction_held_out
            self.interval_source_ = "held-out blocks"

        self.correction_ = _trees.from_histogram_gradient_boosting(self._fit_correction(features, residuals))
        self.correction_range_ = (features.min(axis=0), features.max(axis=0))
        self.interval_quantiles_ = error_quantiles(errors)

        params = {**physics.params_, "correction_weight": weight}
        standard_errors = {**physics.standard_errors_, "correction_weight": float("nan")}
        return params, standard_errors

    def _fit_correction(self, features, residuals):
        booster = HistGradientBoostingRegressor(
            loss="squared_error",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.random_state,
        )
        return booster.fit(features, residuals)

    def _cross_fitted_predictions(self, X, y, features):
        """Return held-out (physics, correction) predictions of every row, or None if too few rows."""
        n_rows = len(y)
        folds = self.inner_folds
        if folds == 0 or n_rows - int(np.ceil(n_rows / folds)) <= len(PHYSICS_PARAMETER_NAMES) + 1:
            return None

        physics_held_out = np.empty(n_rows)
        correction_held_out = np.empty(n_rows)
        edges = np.linspace(0, n_rows, folds + 1).astype(int)
        for start, stop in zip(edges[:-1], edges[1:]):
            block = np.zeros(n_rows, dtype=bool)
            block[start:stop] = True
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                physics = RecommendedRegressor(interval_folds=0).fit(X[~block], y[~block])
            residuals = np.log(y[~block] / physics.predict(X[~block]))
            correction = self._fit_correction(features[~block], residuals)
            physics_held_out[block] = physics.predict(X[block])
            low, high = features[~block].min(axis=0), features[~block].max(axis=0)
            inside = np.all((features[block] >= low) & (features[block] <= high), axis=1)
            correction_held_out[block] = np.where(inside, correction.predict(features[block]), 0.0)
        return physics_held_out, correction_held_out

    # Model files ----------------------------------------------------------------------

    def _upgrade_parameter_entries(self, entries):
        return upgrade_parameter_entries(entries)

    def _model_file_extras(self):
        return {
            "correction": {
                "feature_names": list(FEATURE_NAMES),
                "feature_min": [float(value) for value in self.correction_range_[0]],
                "feature_max": [float(value) for value in self.correction_range_[1]],
                "trees": self.correction_.to_json(),
            },
            "interval": interval_to_extras(self.interval_quantiles_, self.interval_source_),
            "excluded_rows": [dict(row) for row in getattr(self, "excluded_rows_", [])],
        }

    def _restore_model_file_extras(self, extras):
        correction = extras.get("correction")
        if not isinstance(correction, dict) or "trees" not in correction:
            raise corrupt_model_file("hybrid model file lacks extras.correction.trees, the learned correction")
        if correction.get("feature_names") != list(FEATURE_NAMES):
            raise ModelFileError(
                f"hybrid model file uses correction features {correction.get('feature_names')!r}, but this "
                f"alphaflops computes {list(FEATURE_NAMES)!r}; refit the model with this version"
            )
        try:
            ensemble = _trees.from_json(correction["trees"])
        except ModelFileError as error:
            raise corrupt_model_file(f"hybrid model file: {error}") from None
        if ensemble.n_features != len(FEATURE_NAMES):
            raise corrupt_model_file(
                f"hybrid model file: the trees expect {ensemble.n_features} features, "
                f"but the correction has {len(FEATURE_NAMES)}"
            )
        self.correction_ = ensemble
        self.correction_range_ = _feature_range_from_extras(correction)
        self.interval_quantiles_, self.interval_source_ = interval_from_extras(extras, "hybrid")


def _best_weight(y, physics, correction):
    # The one-standard-error rule: the smallest weight whose held-out MAPE
    # is within one standard error (of the paired per-row difference) of the
    # best weight's, so that a correction with a gain lost in the noise is
    # shrunk toward the physical model.
    errors = np.array([np.abs(physics * np.exp(weight * correction) / y - 1) for weight in _WEIGHT_GRID])
    best = int(np.argmin(errors.mean(axis=1)))
    for index in range(best + 1):
        difference = errors[index] - errors[best]
        standard_error = difference.std(ddof=1) / np.sqrt(difference.size)
        if difference.mean() <= standard_error:
            return float(_WEIGHT_GRID[index])
    return float(_WEIGHT_GRID[best])


def _feature_range_from_extras(correction):
    bounds = []
    for side in ("feature_min", "feature_max"):
        values = correction.get(side)
        valid = (
            isinstance(values, list)
            and len(values) == len(FEATURE_NAMES)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        )
        if not valid or not np.all(np.isfinite(values)):
            raise corrupt_model_file(
                f"hybrid model file: extras.correction.{side} must be {len(FEATURE_NAMES)} finite numbers"
            )
        bounds.append(np.asarray(values, dtype=np.float64))
    if np.any(bounds[0] > bounds[1]):
        raise corrupt_model_file("hybrid model file: extras.correction.feature_min exceeds feature_max")
    return tuple(bounds)


def _require_integer(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}")
