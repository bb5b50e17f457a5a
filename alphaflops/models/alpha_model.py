"""The alpha-FLOPs model of Asperti, Evangelista and Marzolla (LOD 2021), with fitted constants.

For a row (H, W, Cin, Cout, K1, K2), with D = H * W, K = K1 * K2 and
C = Cin * Cout, the model predicts

    S_K   = ln(K) + 1
    alpha = ((S_K + beta * (D - S_K)) / D) ** gamma
    time  = time_per_mmac * alpha * (C * K * D / 1e6) + overhead

where C * K * D / 1e6 is the layer's multiply-accumulates in millions and
(beta, gamma) depend on the kernel class of the row. This is the formula of
the plotting script in the public repository asperti/alpha_flops_dataset,
plus an optional per-call overhead term.
"""

import numpy as np

from alphaflops.models.base import LeastSquaresCostModel, ParameterRange, plain_repr

# Published (beta, gamma) for 1x1 kernels and for larger ones, used as the
# starting point of a fit.
_START_ONE_BY_ONE = (0.02, 0.99)
_START_LARGER = (0.001, 0.56)

# Upper bound of every gamma. With beta -> 1 and gamma -> infinity at a fixed
# gamma * (1 - beta), alpha tends to exp(-gamma * (1 - beta) * (1 - S_K / D)),
# a curve that no finite (beta, gamma) gives. On data that this limit fits
# slightly better, least squares has no finite optimum and the solver walks
# along the ridge until max_nfev. The bound gives the fit an optimum.
# NOTE: 10 is a modelling choice, ten times the largest published gamma
# (0.99). Fits on the T2000 set and the NeuSight tables stay far below it.
GAMMA_MAX = 10.0


def kernel_class_names(kernel_classes):
    """Return the name of each kernel class for the given upper bounds of K1 * K2.

    ``(1,)`` gives ``["K<=1", "K>1"]``; ``(1, 9)`` gives
    ``["K<=1", "1<K<=9", "K>9"]``; ``()`` gives ``["all K"]``.
    """
    bounds = [float(bound) for bound in kernel_classes]
    if not bounds:
        return ["all K"]
    names = [f"K<={bounds[0]:g}"]
    names += [f"{low:g}<K<={high:g}" for low, high in zip(bounds[:-1], bounds[1:])]
    names.append(f"K>{bounds[-1]:g}")
    return names


def kernel_classes_for(X, kernel_classes=(1,)):
    """Drop the kernel-class bounds that would leave a class without rows of ``X``.

    Parameters
    ----------
    X : array-like of shape (n, 6)
        Rows H, W, Cin, Cout, K1, K2.
    kernel_classes : tuple of float, default=(1,)
        Increasing upper bounds of the kernel area K1 * K2 (see
        :class:`AlphaFlopsRegressor`); the default is the published split.

    Returns
    -------
    tuple of float
        The bounds of ``kernel_classes`` under which every class has at
        least one row: ``(1,)`` for rows with both 1x1 and larger kernels,
        ``()`` for rows with a single kernel size.
    """
    X = np.asarray(X, dtype=np.float64)
    kernel_area = X[:, 4] * X[:, 5]
    kept = []
    low = -np.inf
    for bound in kernel_classes:
        has_rows_below = np.any((kernel_area > low) & (kernel_area <= bound))
        has_rows_above = np.any(kernel_area > bound)
        if has_rows_below and has_rows_above:
            kept.append(bound)
            low = bound
    return tuple(kept)


def kernel_class_index(kernel_area, kernel_classes, xp=np):
    """Return the kernel class (0-based) of each kernel area K1 * K2.

    The class of K is the number of bounds below it, so a class
    (low, high] includes its upper bound. Comparisons are cheaper than a
    binary search for the few bounds a model has, and work on traced JAX
    arrays.
    """
    index = xp.zeros(kernel_area.shape, dtype=int)
    for bound in kernel_classes:
        index = index + (kernel_area > bound)
    return index


def alpha_time(X, time_per_mmac, betas, gammas, kernel_classes, overhead=0.0, xp=np):
    """Evaluate the alpha-FLOPs formula (see the module docstring) row by row.

    Parameters
    ----------
    X : array of shape (n, 6)
        Rows H, W, Cin, Cout, K1, K2 (numpy or JAX array).
    time_per_mmac : float
        Time per million multiply-accumulates.
    betas, gammas : sequence of float
        One value per kernel class.
    kernel_classes : tuple of float
        Upper bounds of the kernel area of each class but the last (see
        :class:`AlphaFlopsRegressor`).
    overhead : float, default=0.0
        Time added to every call.
    xp : module, default=numpy
        ``numpy`` or ``jax.numpy``.

    Returns
    -------
    array of shape (n,)
        Predicted times in the unit of ``time_per_mmac`` and ``overhead``.
    """
    spatial = X[:, 0] * X[:, 1]
    kernel_area = X[:, 4] * X[:, 5]
    channels = X[:, 2] * X[:, 3]
    class_index = kernel_class_index(kernel_area, kernel_classes, xp)
    beta = xp.asarray(betas, dtype=spatial.dtype)[class_index]
    gamma = xp.asarray(gammas, dtype=spatial.dtype)[class_index]

    kernel_term = xp.log(kernel_area) + 1
    alpha = ((kernel_term + beta * (spatial - kernel_term)) / spatial) ** gamma
    time = time_per_mmac * alpha * (channels * kernel_area * spatial / 1e6)
    if overhead:
        time = time + overhead
    return time


class AlphaFlopsRegressor(LeastSquaresCostModel):
    """Fit the alpha-FLOPs time formula to measured layer times.

    Fits one time scale, a (beta, gamma) pair per kernel class and, by
    default, a per-call overhead, minimising the relative error with
    ``scipy.optimize.least_squares``. Bounds keep every prediction positive
    for rows with K1 * K2 >= 1: ``time_per_mmac > 0``, ``overhead >= 0``,
    ``0 <= beta <= 1`` and ``0 <= gamma <= GAMMA_MAX`` (10). The upper bound
    on gamma gives the least-squares problem a finite optimum, see
    :data:`GAMMA_MAX`.

    Parameters
    ----------
    kernel_classes : tuple of float, default=(1,)
        Increasing upper bounds of the kernel area K1 * K2 that split the rows
        into classes with their own beta and gamma. ``(1,)`` is the published
        split (1x1 kernels versus larger ones). ``(1, 9)`` adds a class for
        kernels up to 3x3, and ``()`` uses one class for all.
    overhead : bool, default=True
        Fit a constant time per call. ``False`` gives the pure published form.
    loss : {"linear", "soft_l1", "huber", "cauchy", "arctan"}, default="linear"
        Loss applied to the relative errors by ``least_squares``; anything but
        "linear" is a robust fit.
    f_scale : float, default=0.1
        Relative error at which a robust loss starts to down-weight a row.
    max_nfev : int or None, default=None
        Maximum number of function evaluations (None: the solver's default).
        A fit that stops there warns with ``ConvergenceWarning``.

    Attributes
    ----------
    params_ : dict
        ``"time_per_mmac"`` (time per million multiply-accumulates),
        ``"overhead"`` (with ``overhead=True``), and ``"beta[NAME]"``,
        ``"gamma[NAME]"`` for each kernel class NAME (see
        :func:`kernel_class_names`; "K<=1" and "K>1" by default).
    standard_errors_ : dict
        Standard error of each parameter, same keys.
    kernel_class_names_ : list of str
        Names of the kernel classes.
    feature_range_, in_sample_metrics_, hardware_, dataset_sha256_
        See :class:`~alphaflops.models.base.CostModel`.
    """

    kind = "alpha"
    benchmark_name = "alpha_fitted"

    def __init__(self, kernel_classes=(1,), overhead=True, loss="linear", f_scale=0.1, max_nfev=None):
        self.kernel_classes = kernel_classes
        self.overhead = overhead
        self.loss = loss
        self.f_scale = f_scale
        self.max_nfev = max_nfev

    def fit(self, X, y):
        super().fit(X, y)
        self.kernel_class_names_ = kernel_class_names(self.kernel_classes)
        return self

    def _restore_model_file_extras(self, extras):
        self.kernel_class_names_ = kernel_class_names(self.kernel_classes)

    @classmethod
    def _benchmark_instance(cls, X=None):
        # The default kernel classes, less those without rows in X, so that
        # benchmarks fit this model on tables of a single kernel size too.
        if X is None:
            return cls()
        return cls(kernel_classes=kernel_classes_for(X))

    # Parameters -------------------------------------------------------------

    def _parameter_names(self):
        names = ["time_per_mmac"]
        if self.overhead:
            names.append("overhead")
        for class_name in kernel_class_names(self.kernel_classes):
            names += [f"beta[{class_name}]", f"gamma[{class_name}]"]
        return names

    def _check_settings(self):
        super()._check_settings()
        if not isinstance(self.overhead, (bool, np.bool_)):
            raise ValueError(f"overhead must be True or False; got {plain_repr(self.overhead)}")
        _check_kernel_classes(self.kernel_classes)

    def _check_training_rows(self, X, y):
        super()._check_training_rows(X, y)
        counts = np.bincount(
            kernel_class_index(X[:, 4] * X[:, 5], self.kernel_classes), minlength=len(self.kernel_classes) + 1
        )
        for name, count in zip(kernel_class_names(self.kernel_classes), counts):
            if count == 0:
                raise ValueError(
                    f"kernel class {name!r} (K = K1 * K2) has no rows in the training data, so its "
                    f"beta and gamma cannot be fitted; change kernel_classes={plain_repr(self.kernel_classes)} "
                    "to leave it out"
                )

    def _split(self, theta):
        time_per_mmac = theta[0]
        overhead = theta[1] if self.overhead else 0.0
        first = 2 if self.overhead else 1
        return time_per_mmac, overhead, theta[first::2], theta[first + 1 :: 2]

    # Formula ------------------------------------------------------------------

    def _formula(self, theta, X, xp):
        time_per_mmac, overhead, betas, gammas = self._split(list(theta))
        return alpha_time(X, time_per_mmac, betas, gammas, self.kernel_classes, overhead, xp)

    def _jacobian(self, theta, X):
        time_per_mmac, _, betas, gammas = self._split(list(theta))
        class_index = kernel_class_index(X[:, 4] * X[:, 5], self.kernel_classes)
        beta = np.asarray(betas)[class_index]
        gamma = np.asarray(gammas)[class_index]

        spatial = X[:, 0] * X[:, 1]
        kernel_area = X[:, 4] * X[:, 5]
        mmacs = X[:, 2] * X[:, 3] * kernel_area * spatial / 1e6
        kernel_term = np.log(kernel_area) + 1
        base = (kernel_term + beta * (spatial - kernel_term)) / spatial
        alpha = base**gamma

        columns = [alpha * mmacs]
        if self.overhead:
            columns.append(np.ones(len(X)))
        for index in range(len(betas)):
            in_class = class_index == index
            d_beta = time_per_mmac * mmacs * gamma * base ** (gamma - 1) * (spatial - kernel_term) / spatial
            d_gamma = time_per_mmac * mmacs * alpha * np.log(base)
            columns += [np.where(in_class, d_beta, 0.0), np.where(in_class, d_gamma, 0.0)]
        return np.column_stack(columns)

    # Starting point, scales and bounds of the fit -----------------------------

    def _start_classes(self):
        bounds = list(self.kernel_classes) + [np.inf]
        return [_START_ONE_BY_ONE if bound <= 1 else _START_LARGER for bound in bounds]

    def _initial_params(self, X, y):
        starts = self._start_classes()
        betas = [beta for beta, _ in starts]
        gammas = [gamma for _, gamma in starts]
        unit_time = alpha_time(X, 1.0, betas, gammas, self.kernel_classes)
        theta = [np.median(y / unit_time)]
        if self.overhead:
            theta.append(0.1 * np.min(y))
        for beta, gamma in starts:
            theta += [beta, gamma]
        return theta

    def _parameter_scales(self, X, y):
        initial = self._initial_params(X, y)
        scales = [initial[0]]
        if self.overhead:
            scales.append(np.median(y))
        for beta, _ in self._start_classes():
            scales += [beta, 1.0]
        return scales

    def _parameter_ranges(self):
        ranges = {"time_per_mmac": ParameterRange(0.0, low_exclusive=True)}
        if self.overhead:
            ranges["overhead"] = ParameterRange(0.0)
        for class_name in kernel_class_names(self.kernel_classes):
            ranges[f"beta[{class_name}]"] = ParameterRange(0.0, 1.0)
            ranges[f"gamma[{class_name}]"] = ParameterRange(0.0, GAMMA_MAX)
        return ranges


def _check_kernel_classes(kernel_classes):
    message = (
        "kernel_classes must be a tuple of increasing positive kernel areas K1 * K2, "
        f"e.g. (1,) or (1, 9); got {plain_repr(kernel_classes)}"
    )
    if not isinstance(kernel_classes, (tuple, list)):
        raise ValueError(message)
    for bound in kernel_classes:
        if isinstance(bound, bool) or not isinstance(bound, (int, float, np.integer, np.floating)):
            raise ValueError(message)
        if not (np.isfinite(bound) and bound > 0):
            raise ValueError(message)
    if any(high <= low for low, high in zip(kernel_classes[:-1], kernel_classes[1:])):
        raise ValueError(message)
