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
import warnings
from typing import NamedTuple

import numpy as np
from scipy.optimize import least_squares
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

from alphaflops.models import files

N_FEATURES = 6
FEATURE_NAMES = ("H", "W", "Cin", "Cout", "K1", "K2")
LOSSES = ("linear", "soft_l1", "huber", "cauchy", "arctan")

_MAX_ROWS_SHOWN = 10

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
            Layer rows: H, W, Cin, Cout, K1, K2, all positive.
        y : array-like of shape (n,)
            Measured times, positive, in any unit (milliseconds by
            convention); predictions come out in the same unit.

        Returns
        -------
        self
        """
        X, y = self._validate_training_data(X, y)
        self._check_settings()
        self._check_training_rows(X, y)

        params, standard_errors = self._fit_rows(X, y)
        self.params_ = {name: float(value) for name, value in params.items()}
        self.standard_errors_ = {name: float(value) for name, value in standard_errors.items()}
        self.feature_range_ = (X.min(axis=0), X.max(axis=0))
        self.hardware_ = {}
        self.dataset_sha256_ = None

        from alphaflops.evaluation import metrics

        self.in_sample_metrics_ = metrics(y, self.predict(X))
        return self

    def predict(self, X):
        """Predict the time of each layer row.

        Parameters
        ----------
        X : array-like of shape (n, 6)
            Layer rows: H, W, Cin, Cout, K1, K2, all positive.

        Returns
        -------
        ndarray of shape (n,)
            Predicted times in the unit of the training ``y``; every value is
            positive and finite.

        Raises
        ------
        ValueError
            For invalid rows, or if the formula gives a non-positive or
            non-finite time for some row (named in the message).
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
        parameters of files written by earlier releases.
        """
        return entries

    # Input validation -------------------------------------------------------

    def _validate_training_data(self, X, y):
        # scikit-learn's checks first (missing y, NaN/inf, shapes, negative
        # values), so that their standard messages reach the caller unchanged,
        # then the checks specific to layer rows.
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=2)
        check_non_negative(X, f"{type(self).__name__} (X)")
        check_non_negative(y, f"{type(self).__name__} (y)")
        X = self._check_layer_rows(X)
        _require_rows(y > 0, "y", "contains zero times; every measured time must be positive", y)
        return X, y

    def _validate_rows(self, X, reset):
        X = validate_data(self, X, dtype=np.float64, reset=reset)
        # The common case costs one pass over X, because prediction
        # throughput matters for million-row inputs.
        if X.shape[1] == N_FEATURES and X.min() > 0:
            return X
        check_non_negative(X, type(self).__name__)
        return self._check_layer_rows(X)

    def _check_layer_rows(self, X):
        if X.shape[1] != N_FEATURES:
            raise ValueError(
                f"{type(self).__name__} expects 6 features per row (H, W, Cin, Cout, K1, K2), "
                f"got {X.shape[1]} feature(s)"
            )
        _require_rows(
            np.all(X > 0, axis=1),
            "X",
            "contains a zero size; H, W, Cin, Cout, K1 and K2 must all be positive",
            X,
        )
        return X


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
        if result.status <= 0:
            warnings.warn(
                f"{type(self).__name__}: scipy.optimize.least_squares did not converge "
                f"(status {result.status}: {result.message}) after {result.nfev} function "
                "evaluations; increase max_nfev or check the data",
                ConvergenceWarning,
                stacklevel=3,
            )

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
        step = 1e-6 * max(abs(theta[index]), 1e-8)
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


def _require_rows(ok, name, problem, values):
    bad = np.flatnonzero(~ok)
    if bad.size == 0:
        return
    shown = ", ".join(str(row) for row in bad[:_MAX_ROWS_SHOWN])
    more = f" and {bad.size - _MAX_ROWS_SHOWN} more" if bad.size > _MAX_ROWS_SHOWN else ""
    raise ValueError(f"{name} {problem}; rows {shown}{more}")


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
