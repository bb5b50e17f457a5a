"""Base classes of the cost models: input checks, least-squares fitting, JAX predictions.

A cost model maps six-column layer rows ``X`` (H, W, Cin, Cout, K1, K2) to
times ``y``. :class:`CostModel` contains what every model shares (scikit-learn
conventions, input validation, positivity of predictions, model files).
:class:`LeastSquaresCostModel` adds fitting of a closed-form time formula by
``scipy.optimize.least_squares``. A new parametric model is a subclass that
names its parameters and writes its formula once for both numpy and
``jax.numpy``.

Fits minimise the relative error ``prediction / y - 1``, not the log error.
The relative error is the quantity that MAPE, the headline metric, averages.
For a formula linear in its parameters (the FLOPs line) it also makes the
fit a weighted linear least-squares problem with a single optimum. Relative
residuals do not depend on the time unit, and the parameters are scaled by
data-derived magnitudes before they reach the solver, so fitting the same
data in seconds instead of milliseconds gives the same relative predictions.
"""

import math
import numbers
import warnings
from typing import NamedTuple

import numpy as np
from scipy import sparse
from scipy.optimize import least_squares
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from alphaflops.flops import MAX_DIMENSION, MAX_ROW_MACS, describe_value, size_rule_masks
from alphaflops.models import files

N_FEATURES = 6
FEATURE_NAMES = ("H", "W", "Cin", "Cout", "K1", "K2")
LOSSES = ("linear", "soft_l1", "huber", "cauchy", "arctan")

# Input errors list the indices of up to _MAX_ROWS_SHOWN invalid rows and
# the values of the first _MAX_VALUES_SHOWN of them.
_MAX_ROWS_SHOWN = 10
_MAX_VALUES_SHOWN = 3

# The fix suggested at the end of errors about the shape of X.
_ROWS_ADVICE = (
    "pass one row of six sizes per layer, for example Dataset.X or alphaflops.layers_to_rows(layers)"
)

# Rows per block of the fast size-rule check. A block of 4096 rows of six
# float64 values is 192 KiB, chosen to fit a typical per-core L2 cache (an
# estimate, not measured per machine) while each of the block's checks reads it.
_CHECK_BLOCK_ROWS = 4096

# The solver's lower bound for a parameter that must stay above ``low``:
# this fraction of the parameter's typical size above it, so that the
# solver never reaches the excluded value itself.
_EXCLUSIVE_MARGIN = 1e-12


class ParameterRange(NamedTuple):
    """Allowed values of one model parameter, in the parameter's own unit.

    ``low <= value <= high``, or ``low < value`` when ``low_exclusive``.
    Fitting keeps every parameter inside its range and ``load_model``
    rejects files with a value outside it.
    """

    low: float = -math.inf
    high: float = math.inf
    low_exclusive: bool = False

    def contains(self, value):
        """Return True if ``value`` (a float) is an allowed value."""
        above = value > self.low if self.low_exclusive else value >= self.low
        return bool(above and value <= self.high)

    def __str__(self):
        opening = "(" if self.low_exclusive or math.isinf(self.low) else "["
        closing = ")" if math.isinf(self.high) else "]"
        return f"{opening}{self.low:g}, {self.high:g}{closing}"


def plain_repr(value):
    """Return ``repr(value)`` with numpy scalars shown as Python numbers, for messages.

    ``np.float64(2.5)`` becomes ``2.5``; tuples and lists are converted item
    by item.
    """
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, tuple):
        items = [plain_repr(item) for item in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(plain_repr(item) for item in value)}]"
    return repr(value)


class CostModel(RegressorMixin, BaseEstimator):
    """Base class of every alphaflops cost model.

    Subclasses set the class attribute ``kind`` (the name in model files),
    optionally ``benchmark_name`` (the name under which benchmarks and the
    report list a default instance), and implement ``_fit_rows``,
    ``_predict_rows`` and ``_parameter_names``.

    Attributes set by ``fit``
    -------------------------
    params_ : dict
        Parameter name -> fitted value (float).
    standard_errors_ : dict
        Parameter name -> standard error (float, NaN where unknown).
    feature_range_ : tuple of ndarray
        (min, max), each of shape (6,): the range of the fitted rows, used to
        mark predictions outside it as extrapolated.
    in_sample_metrics_ : dict
        Metrics of the fitted model on its own training rows.
    n_features_in_ : int
        Always 6.
    hardware_ : dict
        Hardware record of the data it was fitted on; empty unless set by
        :func:`alphaflops.models.fit_dataset` or the caller.
    dataset_sha256_ : str or None
        SHA-256 of the dataset file it was fitted on, when known.
    excluded_rows_ : list of dict
        Rows that :func:`alphaflops.plausibility.fit_without_flagged` left
        out of the fit; empty after a plain ``fit``.
    audit_ : dict or None
        What that audit checked (see :mod:`alphaflops.models.files`); None
        after a plain ``fit``.
    """

    kind = None
    benchmark_name = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__ and cls.kind is not None:
            files.register_model_kind(cls)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.target_tags.positive_only = True
        return tags

    # Fitting and prediction -------------------------------------------------

    def fit(self, X, y):
        """Fit the model to measured layer times.

        Parameters
        ----------
        X : array-like of shape (n, 6)
            Layer rows: H, W, Cin, Cout, K1, K2, each an integer from 1 to
            2**31 - 1, with at most 2**53 - 1 MACs (their product) per row,
            as in alphaflops datasets.
        y : array-like of shape (n,)
            Measured times, positive, in any unit (milliseconds by
            convention); predictions come out in the same unit.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For invalid rows or times, naming the rows and their values, or
            if the fit's starting point gives residuals that are not finite
            (times far too small or large for their rows, usually a wrong
            unit).
        """
        X, y = self._validate_training_data(X, y)
        self._check_settings()
        self._check_training_rows(X, y)
        self._check_starting_point(X, y)

        params, standard_errors = self._fit_rows(X, y)
        self.params_ = {name: float(value) for name, value in params.items()}
        self.standard_errors_ = {name: float(value) for name, value in standard_errors.items()}
        self.feature_range_ = (X.min(axis=0), X.max(axis=0))
        self.hardware_ = {}
        self.dataset_sha256_ = None
        # A plain fit uses every row given. fit_without_flagged sets these after fit returns.
        self.excluded_rows_ = []
        self.audit_ = None

        from alphaflops.evaluation import metrics

        self.in_sample_metrics_ = metrics(y, self.predict(X))
        return self

    def predict(self, X):
        """Predict the time of each layer row.

        Parameters
        ----------
        X : array-like of shape (n, 6)
            Layer rows as for :meth:`fit`. Use :meth:`predict_jax` for
            non-integer sizes.

        Returns
        -------
        ndarray of shape (n,)
            Predicted times in the unit of the training ``y``; every value is
            positive and finite.

        Raises
        ------
        ValueError
            For invalid rows, naming the rows and their values, or if the
            formula gives a non-positive or non-finite time for some row
            (named in the message).
        """
        check_is_fitted(self)
        X = self._validate_rows(X, reset=False)
        # Invalid values are reported by _check_predictions, with the rows.
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            predictions = np.asarray(self._predict_rows(X, np), dtype=np.float64)
        _check_predictions(predictions, X)
        return predictions

    def predict_jax(self, X):
        """Predict times with ``jax.numpy``, traceable by ``jax.jit`` and ``jax.grad``.

        Parameters
        ----------
        X : array-like of shape (n, 6)
            Layer rows, possibly traced and with non-integer sizes. They are
            not validated beyond their shape, so that the function stays
            traceable.

        Returns
        -------
        jax.Array of shape (n,)
            The same values as :meth:`predict`, in the dtype JAX computes in
            (float32 unless 64-bit mode is enabled).
        """
        import jax.numpy as jnp

        check_is_fitted(self)
        X = jnp.asarray(X)
        if X.ndim != 2 or X.shape[1] != N_FEATURES:
            raise ValueError(
                f"{type(self).__name__}.predict_jax expects an array of shape (n, 6) with columns "
                f"H, W, Cin, Cout, K1, K2, got shape {X.shape}"
            )
        return self._predict_rows(X, jnp)

    def extrapolated(self, X):
        """Mark rows outside the range of sizes the model was fitted on.

        Parameters
        ----------
        X : array-like of shape (n, 6)

        Returns
        -------
        ndarray of bool, shape (n,)
            True where any of the six columns is below the fitted minimum or
            above the fitted maximum.
        """
        check_is_fitted(self)
        X = np.asarray(X, dtype=np.float64).reshape(-1, N_FEATURES)
        low, high = self.feature_range_
        return np.any((X < low) | (X > high), axis=1)

    def save(self, path):
        """Write the fitted model to ``path`` as a versioned JSON model file.

        See :func:`alphaflops.models.files.save_model` for the format.
        """
        files.save_model(self, path)

    # Hooks for subclasses ---------------------------------------------------

    def _parameter_names(self):
        """Return the parameter names for the current settings, in a fixed order."""
        raise NotImplementedError

    def _parameter_ranges(self):
        """Return {name: ParameterRange}, the allowed values of each parameter.

        The default allows any finite value. A kind whose formula needs
        narrower ranges (a positive scale, a weight in [0, 1]) overrides
        this, and :meth:`LeastSquaresCostModel` fits inside these ranges.
        """
        return {name: ParameterRange() for name in self._parameter_names()}

    def _check_parameter_ranges(self, params):
        """Raise ValueError naming the first parameter in ``params`` outside its allowed range."""
        ranges = self._parameter_ranges()
        for name, value in params.items():
            allowed = ranges.get(name, ParameterRange())
            if not allowed.contains(value):
                raise ValueError(
                    f"parameter {name!r} is {plain_repr(value)}, outside its allowed range {allowed} "
                    f"for {type(self).__name__}"
                )

    def _check_settings(self):
        """Raise ValueError for an invalid setting; called at the start of fit."""

    def _check_training_rows(self, X, y):
        """Raise ValueError if valid rows still cannot fit this model (too few rows...)."""
        n_parameters = len(self._parameter_names())
        if len(y) <= n_parameters:
            raise ValueError(
                f"{type(self).__name__} has {n_parameters} parameters and needs at least "
                f"{n_parameters + 1} rows to fit them and their standard errors; got {len(y)} row(s)"
            )

    def _check_starting_point(self, X, y):
        """Raise ValueError if the fit cannot start from valid rows. Runs after ``_check_training_rows``."""

    def _fit_rows(self, X, y):
        """Fit validated rows; return (params, standard_errors), dicts by parameter name."""
        raise NotImplementedError

    def _predict_rows(self, X, xp):
        """Return the predicted times of validated rows, computed with namespace ``xp``."""
        raise NotImplementedError

    def _model_file_extras(self):
        """Return extra JSON-serialisable fields this kind stores in model files."""
        return {}

    def _restore_model_file_extras(self, extras):
        """Restore the fields written by ``_model_file_extras`` (already parsed JSON)."""

    def _upgrade_parameter_entries(self, entries):
        """Return a model file's ``parameters`` object in this release's form.

        Kinds whose parameter set grew override this to fill the new
        parameters in files written before they existed.
        """
        return entries

    # Input validation -------------------------------------------------------

    # scikit-learn's validate_data still checks dtypes, empty input, a missing
    # y and the sample count, with its standard messages. The shape of X, the
    # number of features, values that are not numbers, NaN, infinity and
    # negative values are checked here instead, so that the message names the
    # rows or the shape and the fix. These messages keep the words that
    # scikit-learn's estimator checks match: "NaN", "inf", "Negative values
    # in data passed to", "1 feature(s)", "Expected 2D array, got 1D array"
    # and "X has N features, but <model> is expecting 6 features as input".

    def _validate_training_data(self, X, y):
        # scikit-learn rejects NaN in y without naming a row and lets strings
        # in y through to a numpy error, so y is checked before it.
        _check_target_values(y)
        X = self._check_feature_input(X, predicting=False)
        X, y = validate_data(
            self, X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=2, ensure_all_finite=False
        )
        X = self._check_layer_rows(X, predicting=False)
        self._check_times(y)
        return X, y

    def _validate_rows(self, X, reset):
        X = self._check_feature_input(X, predicting=True)
        X = validate_data(self, X, dtype=np.float64, reset=reset, ensure_all_finite=False)
        return self._check_layer_rows(X, predicting=True)

    def _check_feature_input(self, X, predicting):
        """Return ``X`` ready for ``validate_data``, or raise ValueError for input that is not rows of six numbers.

        scikit-learn converts numeric text such as "7" without a warning,
        reports other text without its row, and advises ``reshape(-1, 1)``
        for 1-D input, which does not fit six features. Text, bools and
        other objects in X are rejected here as in y. A list comes back as
        an array, so that it is converted once. Numeric arrays of shape
        (n, 6) return at once, and the other checks run only on other input.
        """
        if isinstance(X, np.ndarray) and X.dtype.kind in "iuf" and X.ndim == 2 and X.shape[1] == N_FEATURES:
            return X

        array = _array_for_checks(X)
        if array is None:
            return X
        model_name = type(self).__name__
        if array.ndim != 2:
            raise ValueError(_shape_message(array.shape, model_name))
        if predicting and array.shape[1] != N_FEATURES:
            # The first words are scikit-learn's own message for a wrong feature count.
            raise ValueError(
                f"X has {array.shape[1]} features, but {model_name} is expecting {N_FEATURES} features as input "
                f"(H, W, Cin, Cout, K1, K2); {_ROWS_ADVICE}"
            )
        if array.dtype.kind in "OUSb":
            array = _float_features(array)
        # A DataFrame keeps its column names for scikit-learn's feature-name checks.
        return X if hasattr(X, "columns") else array

    def _check_layer_rows(self, X, predicting):
        """Return ``X`` if every row follows the size rule of :mod:`alphaflops.flops`, else raise ValueError.

        The size rule is the one that the dataset loader applies: every size
        is an integer from 1 to 2**31 - 1 and every row has at most
        2**53 - 1 MACs. The message names the first invalid rows, their
        values and what to do.
        """
        # Prediction throughput matters for million-row inputs, so valid rows
        # cost one blocked pass over X, and only invalid ones reach the
        # whole-array checks below that find the rows to name.
        if X.shape[1] == N_FEATURES and _rows_follow_size_rule(X):
            return X

        model_name = type(self).__name__
        _require_finite(X, "X", "H, W, Cin, Cout, K1 and K2 must be finite, so remove these rows or fix their sizes")

        negative = np.any(X < 0, axis=1)
        if negative.any():
            raise ValueError(
                f"Negative values in data passed to {model_name} (X) in {_describe_rows(negative, 'X', X)}; "
                "H, W, Cin, Cout, K1 and K2 must be positive integers, so fix or remove these rows"
            )

        if X.shape[1] != N_FEATURES:
            raise ValueError(
                f"{model_name} expects 6 features per row (H, W, Cin, Cout, K1, K2), got {X.shape[1]} feature(s) "
                f"in X of shape {X.shape}; {_ROWS_ADVICE}"
            )

        zero = np.any(X == 0, axis=1)
        if zero.any():
            raise ValueError(
                f"X contains a zero size in {_describe_rows(zero, 'X', X)}; H, W, Cin, Cout, K1 and K2 "
                "must all be positive, so remove these rows (an empty layer takes no time) or fix their sizes"
            )

        valid_values, valid_rows = size_rule_masks(X)
        if valid_rows.all():
            return X

        def size_problem(row):
            return _size_rule_problem(X[row], valid_values[row])

        advice = "fix or remove these rows"
        if predicting:
            advice += "; predict_jax accepts non-integer sizes, for example those of a continuous relaxation"
        raise ValueError(
            f"X has invalid layer sizes in {_describe_rows(~valid_rows, 'X', X, size_problem)}; "
            f"every size must be an integer from 1 to {MAX_DIMENSION} (2**31 - 1) and every row at most "
            f"{MAX_ROW_MACS} (2**53 - 1) MACs (H*W*Cin*Cout*K1*K2), the rule that load_dataset applies; {advice}"
        )

    def _check_times(self, y):
        """Raise ValueError naming the rows of finite float ``y`` that are not positive."""
        negative = y < 0
        if negative.any():
            raise ValueError(
                f"Negative values in data passed to {type(self).__name__} (y) in {_describe_rows(negative, 'y', y)}; "
                "measured times must be positive, so fix the sign of these times or remove these rows"
            )
        zero = y == 0
        if zero.any():
            raise ValueError(
                f"y contains zero times in {_describe_rows(zero, 'y', y)}; every measured time must be positive, "
                "so remove these rows or fix their times"
            )


class LeastSquaresCostModel(CostModel):
    """A closed-form time formula fitted by ``scipy.optimize.least_squares``.

    Subclasses list ``loss``, ``f_scale`` and ``max_nfev`` among their
    ``__init__`` settings and implement:

    - ``_parameter_names()``: names, in the order of the parameter vector;
    - ``_formula(theta, X, xp)``: predicted times for parameter vector
      ``theta`` in original units, written with namespace ``xp`` (numpy or
      ``jax.numpy``) so that ``predict`` and ``predict_jax`` share one formula;
    - ``_initial_params(X, y)``: a starting vector in original units;
    - ``_parameter_scales(X, y)``: positive typical magnitude of each parameter.
      Time-valued parameters must scale with ``y`` so that the fit is
      independent of the time unit;
    - ``_parameter_ranges()``: the allowed range of each parameter in
      original units (see :class:`ParameterRange`). The fit stays inside
      these ranges and ``load_model`` checks them, so they must keep every
      prediction positive for positive rows;
    - optionally ``_bounds()``: (lower, upper) bounds on ``theta / scales``
      that replace the ones derived from ``_parameter_ranges()`` in the
      solver. Model files are then checked only against the ranges;
    - optionally ``_jacobian(theta, X)``: d(prediction)/d(theta), shape (n, p).
      Without it the Jacobian is taken by central differences.
    """

    def _check_starting_point(self, X, y):
        """Raise ValueError naming the rows whose residuals are unusable at ``_initial_params``.

        ``scipy.optimize.least_squares`` (checked with scipy 1.17) rejects
        residuals that are not finite at its starting point, but names no
        row. A finite residual whose square overflows, or a Jacobian entry
        that is not finite, fails later with "array must not contain infs
        or NaNs", so both are rejected here too. Such times, far too small
        or large for their rows, usually come from a wrong time unit.
        Subclasses that override ``_fit_rows`` get the check as long as they
        define ``_initial_params`` and ``_formula``.
        """
        with np.errstate(all="ignore"):
            start = np.asarray(self._initial_params(X, y), dtype=np.float64)
            residuals = self._formula(start, X, np) / y - 1.0
            jacobian = self._prediction_jacobian(start, X) / y[:, None]
            cost = residuals @ residuals
        finite_jacobian = np.all(np.isfinite(jacobian), axis=1)
        if np.isfinite(cost) and finite_jacobian.all():
            return

        # The sum of n squares of residuals up to this size cannot overflow,
        # so at least one row exceeds it whenever the cost does.
        largest_safe = math.sqrt(np.finfo(np.float64).max / len(y))
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(residuals) <= largest_safe) | ~finite_jacobian
        names = self._parameter_names()
        nonfinite_starts = [f"{name} = {float(value)!r}" for name, value in zip(names, start) if not np.isfinite(value)]
        start_note = ""
        if nonfinite_starts:
            start_note = f" The data-derived starting values {', '.join(nonfinite_starts)} are not finite."
        raise ValueError(
            f"{type(self).__name__} cannot start the fit, because at its starting point the relative residuals "
            f"prediction / y - 1 are not finite or too large to square in {_describe_rows(bad, 'y', y)}.{start_note} "
            "Times this small or this large for their layers usually come from a wrong time unit, so check "
            "the unit of y (milliseconds by convention) or remove these rows."
        )

    def _fit_rows(self, X, y):
        names = self._parameter_names()
        scales = np.asarray(self._parameter_scales(X, y), dtype=np.float64)
        lower, upper = (np.asarray(bound, dtype=np.float64) for bound in self._solver_bounds(scales))
        start = np.clip(np.asarray(self._initial_params(X, y), dtype=np.float64) / scales, lower, upper)

        def residuals(scaled):
            return self._formula(scaled * scales, X, np) / y - 1.0

        def jacobian(scaled):
            return self._prediction_jacobian(scaled * scales, X) * scales / y[:, None]

        result = least_squares(
            residuals,
            start,
            jac=jacobian,
            bounds=(lower, upper),
            method="trf",
            loss=self.loss,
            f_scale=self.f_scale,
            max_nfev=self.max_nfev,
        )
        warn_unless_converged(self, result, stacklevel=3)

        theta = result.x * scales
        standard_errors = _standard_errors(
            self._prediction_jacobian(theta, X) / y[:, None],
            self._formula(theta, X, np) / y - 1.0,
        )
        return dict(zip(names, theta)), dict(zip(names, standard_errors))

    def _predict_rows(self, X, xp):
        theta = [self.params_[name] for name in self._parameter_names()]
        return self._formula(theta, X, xp)

    def _solver_bounds(self, scales):
        """Return (lower, upper) bounds on ``theta / scales``, from ``_bounds()`` or the ranges."""
        bounds = self._bounds()
        if bounds is not None:
            return bounds

        ranges = self._parameter_ranges()
        lower = []
        upper = []
        for name, scale in zip(self._parameter_names(), scales):
            allowed = ranges[name]
            low = allowed.low / scale
            if allowed.low_exclusive:
                low += _EXCLUSIVE_MARGIN
            lower.append(low)
            upper.append(allowed.high / scale)
        return lower, upper

    def _bounds(self):
        """Return solver bounds on ``theta / scales``, or None to derive them from the ranges."""
        return None

    def _prediction_jacobian(self, theta, X):
        jacobian = self._jacobian(theta, X)
        if jacobian is not None:
            return jacobian
        return _central_difference_jacobian(lambda t: self._formula(t, X, np), theta)

    def _jacobian(self, theta, X):
        return None

    def _check_settings(self):
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {plain_repr(self.loss)}")
        if not (isinstance(self.f_scale, (int, float)) and np.isfinite(self.f_scale) and self.f_scale > 0):
            raise ValueError(
                f"f_scale must be a positive number (a relative error, e.g. 0.1); got {plain_repr(self.f_scale)}"
            )
        if self.max_nfev is not None and not (isinstance(self.max_nfev, (int, np.integer)) and self.max_nfev > 0):
            raise ValueError(f"max_nfev must be None or a positive integer; got {plain_repr(self.max_nfev)}")


def warn_unless_converged(estimator, result, stacklevel):
    """Issue a ConvergenceWarning if ``least_squares`` stopped before converging.

    ``stacklevel`` counts from the caller of this function, as in
    :func:`warnings.warn`.
    """
    if result.status <= 0:
        warnings.warn(
            f"{type(estimator).__name__}: scipy.optimize.least_squares did not converge "
            f"(status {result.status}: {result.message}) after {result.nfev} function "
            "evaluations; increase max_nfev or check the data",
            ConvergenceWarning,
            stacklevel=stacklevel + 1,
        )


def _standard_errors(jacobian, residuals):
    """Return standard errors from the Jacobian of the residuals at the optimum.

    Uses the Gauss-Newton covariance ``s**2 (J^T J)^-1`` with
    ``s**2 = sum(r**2) / (n - p)``. The residuals are the plain relative
    errors even when a robust loss was used, and bounds are ignored, so the
    values describe the local curvature of the plain least-squares cost.
    """
    n_rows, n_parameters = jacobian.shape
    variance = float(residuals @ residuals) / (n_rows - n_parameters)

    # Parameters differ by many orders of magnitude (a FLOP rate near 1e9, an
    # exponent near 1), so the columns are scaled to unit norm before the
    # inverse. Unscaled, pinv drops the small singular values that belong to
    # the large parameters and reports standard errors near 0 for them.
    norms = np.linalg.norm(jacobian, axis=0)
    scale = np.where(norms > 0, norms, 1.0)
    scaled = jacobian / scale
    with np.errstate(invalid="ignore", divide="ignore"):
        covariance = variance * np.linalg.pinv(scaled.T @ scaled) / np.outer(scale, scale)
        diagonal = np.diag(covariance).copy()

    rank = np.linalg.matrix_rank(scaled)
    if rank < n_parameters or np.any(norms == 0):
        # NOTE: with a rank-deficient Jacobian at least one parameter is not
        # identifiable from the data; report NaN for all rather than guess which.
        diagonal[:] = np.nan
    return np.sqrt(np.clip(diagonal, 0.0, None))


def _central_difference_jacobian(function, theta):
    theta = np.asarray(theta, dtype=np.float64)
    columns = []
    for index in range(theta.size):
        # A relative step keeps theta +- step on the same side of 0, as
        # parameters that must stay positive (such as a tiny overhead) require.
        step = 1e-6 * abs(theta[index]) if theta[index] != 0 else 1e-8
        forward = theta.copy()
        backward = theta.copy()
        forward[index] += step
        backward[index] -= step
        columns.append((function(forward) - function(backward)) / (2 * step))
    return np.column_stack(columns)


def _check_predictions(predictions, X):
    ok = np.isfinite(predictions) & (predictions > 0)
    if np.all(ok):
        return
    bad = np.flatnonzero(~ok)
    shown = ", ".join(f"{row} {X[row].tolist()} -> {float(predictions[row])!r}" for row in bad[:_MAX_ROWS_SHOWN])
    raise ValueError(
        f"the model predicts a non-positive or non-finite time for {bad.size} row(s): {shown}; "
        "either these rows lie outside the range where its formula is valid or its parameters "
        "(params_) were set outside their allowed ranges"
    )


def _rows_follow_size_rule(X):
    """Return True if every row of ``X``, a float64 array of shape (n, 6), follows the size rule.

    The rule is that of :func:`alphaflops.flops.size_rule_masks`, checked
    block by block so that X is read from memory once, not once per check.
    False means only that some row is invalid, and ``size_rule_masks``
    finds which.
    """
    n_rows = len(X)
    buffer_rows = min(n_rows, _CHECK_BLOCK_ROWS)
    floors = np.empty((buffer_rows, N_FEATURES))
    macs = np.empty(buffer_rows)
    for start in range(0, n_rows, _CHECK_BLOCK_ROWS):
        block = X[start : start + _CHECK_BLOCK_ROWS]
        size = len(block)

        # NaN fails both comparisons.
        if not (block.min() >= 1 and block.max() <= MAX_DIMENSION):
            return False
        np.floor(block, out=floors[:size])
        if not np.array_equal(floors[:size], block):
            return False

        # Whole values up to 2**31 - 1 cannot overflow the product, and the
        # float64 product exceeds 2**53 - 1 exactly when the integer one does.
        block_macs = macs[:size]
        np.multiply(block[:, 0], block[:, 1], out=block_macs)
        for column in range(2, N_FEATURES):
            np.multiply(block_macs, block[:, column], out=block_macs)
        if block_macs.max() > MAX_ROW_MACS:
            return False
    return True


def _size_rule_problem(row, valid_values):
    """Return which part of the size rule a row breaks, for example "Cin = 100.5 is not an integer"."""
    bad_columns = np.flatnonzero(~valid_values)
    if bad_columns.size == 0:
        # Every size is then a whole number up to 2**31 - 1, so the integer product is exact.
        macs = math.prod(int(value) for value in row)
        return f"H*W*Cin*Cout*K1*K2 = {macs} MACs, above 2**53 - 1"

    column = int(bad_columns[0])
    value = float(row[column])
    if value < 1:
        problem = "is below 1"
    elif value > MAX_DIMENSION:
        problem = "is above 2**31 - 1"
    else:
        problem = "is not an integer"
    return f"{FEATURE_NAMES[column]} = {value!r} {problem}"


def _describe_rows(bad, name, values, explain=None):
    """Name the rows where ``bad`` is True, for example "rows 3, 7 (y[3] = 0.0; y[7] = 0.0)".

    Lists up to ``_MAX_ROWS_SHOWN`` row indices and the values of the first
    ``_MAX_VALUES_SHOWN`` rows. ``explain(row)``, when given, returns text
    that follows a row's values.
    """
    rows = np.flatnonzero(bad)
    listed = ", ".join(str(row) for row in rows[:_MAX_ROWS_SHOWN])
    if rows.size > _MAX_ROWS_SHOWN:
        listed += f" and {rows.size - _MAX_ROWS_SHOWN} more"

    value_texts = []
    for row in rows[:_MAX_VALUES_SHOWN]:
        # tolist() turns a numpy row or scalar into Python numbers, which print without "np.float64(...)".
        value = values[row]
        value = value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value
        text = f"{name}[{row}] = {value if isinstance(value, list) else describe_value(value)}"
        if explain is not None:
            text += f": {explain(row)}"
        value_texts.append(text)
    return f"rows {listed} ({'; '.join(value_texts)})"


def _require_finite(values, name, advice):
    """Raise ValueError naming the rows of a float array that contain NaN, else those that contain infinity.

    The message starts with scikit-learn's "Input X contains NaN" or
    "Input X contains infinity" (with ``name`` for X).
    """
    finite = np.isfinite(values)
    if finite.all():
        return

    rows_with = np.isnan(values)
    problem = "NaN"
    if not rows_with.any():
        rows_with = ~finite
        problem = "infinity"
    if rows_with.ndim == 2:
        rows_with = rows_with.any(axis=1)
    raise ValueError(f"Input {name} contains {problem} in {_describe_rows(rows_with, name, values)}; {advice}")


def _shape_message(shape, model_name):
    """Return the error message for X of ``shape``, which is not 2-D."""
    needed = f"{model_name} needs X of shape (n, 6) with columns H, W, Cin, Cout, K1, K2"
    if len(shape) != 1:
        return f"{needed}, got an array of shape {shape}; {_ROWS_ADVICE}"

    # The first words are scikit-learn's own message for 1-D input.
    if shape[0] == N_FEATURES:
        advice = "for a single layer, pass [row] or row.reshape(1, -1)"
    else:
        advice = _ROWS_ADVICE
    return f"Expected 2D array, got 1D array of shape {shape}; {needed}, so {advice}"


def _array_for_checks(values):
    """Return array-like ``values`` as a numpy array, or None where scikit-learn reports the problem better.

    Text mixed with numbers in a list becomes an object array of the
    caller's values, because numpy would turn every number into text.
    Sparse matrices, ragged lists and complex values return None.
    """
    if sparse.issparse(values):
        return None
    try:
        array = np.asarray(values)
        if array.dtype.kind in "US" and not isinstance(values, np.ndarray):
            array = np.asarray(values, dtype=object)
    except (TypeError, ValueError):
        return None
    if array.dtype.kind == "c":
        return None
    return array


def _is_real_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _float_features(array):
    """Convert a 2-D object, text or bool array of X to float64, or raise ValueError naming the cells that are not numbers."""
    is_number = np.frompyfunc(_is_real_number, 1, 1)(array).astype(bool)
    if not is_number.all():
        bad_rows = ~is_number.all(axis=1)

        def first_bad_value(row):
            column = int(np.flatnonzero(~is_number[row])[0])
            name = FEATURE_NAMES[column] if column < N_FEATURES else f"column {column}"
            value = array[row, column]
            if isinstance(value, np.generic):
                # item() makes np.str_ and np.bool_ print as plain str and bool.
                value = value.item()
            return f"{name} = {describe_value(value)} is a {type(value).__name__}"

        raise ValueError(
            f"X contains values that are not numbers in {_describe_rows(bad_rows, 'X', array, first_bad_value)}; "
            "H, W, Cin, Cout, K1 and K2 must be int or float values, so convert numeric text, for example "
            "with np.asarray(X, dtype=float), and fix or remove the other rows"
        )
    # Integers too large for float64 become infinity, which _check_layer_rows rejects, naming the row.
    return np.frompyfunc(_float_or_infinity, 1, 1)(array).astype(np.float64)


def _check_target_values(y):
    """Raise ValueError naming the rows of ``y`` that are not finite numbers.

    Strings, bools and other objects that are not real numbers are rejected,
    as the dataset loader rejects them, although numpy converts numeric
    strings. A missing ``y``, complex values and shapes other than (n,) and
    (n, 1) are left to scikit-learn's checks.
    """
    if y is None:
        return
    times = _array_for_checks(y)
    if times is None:
        return
    if times.ndim == 2 and times.shape[1] == 1:
        times = times[:, 0]
    if times.ndim != 1:
        return

    if times.dtype.kind not in "iuf":
        items = times.tolist()
        is_number = np.array([_is_real_number(item) for item in items], dtype=bool)
        if not is_number.all():
            original_values = np.empty(len(items), dtype=object)
            original_values[:] = items
            raise ValueError(
                f"y contains values that are not numbers in {_describe_rows(~is_number, 'y', original_values)}; "
                "measured times must be int or float values, so convert them, for example with "
                "np.asarray(y, dtype=float)"
            )
        times = np.array([_float_or_infinity(item) for item in items], dtype=np.float64)

    if times.dtype.kind == "f":
        advice = "every measured time must be a positive finite number, so remove these rows or fix their times"
        _require_finite(times, "y", advice)


def _float_or_infinity(number):
    """Convert a real number to float, giving ``inf`` (with its sign) for an integer too large for float64."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def fit_dataset(estimator, dataset):
    """Fit ``estimator`` on a dataset and record what it was fitted on.

    Parameters
    ----------
    estimator : CostModel
        Fitted in place.
    dataset : Dataset
        Any object with ``X`` (n, 6) and ``y`` (n,). Its ``hardware`` (dict)
        and ``sha256`` (str or None), when present, become the estimator's
        ``hardware_`` and ``dataset_sha256_``, which model files record.

    Returns
    -------
    estimator
    """
    estimator.fit(dataset.X, dataset.y)
    estimator.hardware_ = dict(getattr(dataset, "hardware", None) or {})
    estimator.dataset_sha256_ = getattr(dataset, "sha256", None)
    return estimator
