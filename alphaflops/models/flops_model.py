"""The FLOPs baseline: time = a * FLOPs + b."""

import numpy as np

from alphaflops.models.base import LeastSquaresCostModel, ParameterRange, plain_repr

# 1e9 FLOPs per GFLOP: the slope is reported per GFLOP so that it reads as a
# number near 1 for milliseconds on a current GPU instead of near 1e-9.
_FLOPS_PER_GFLOP = 1e9


def _row_flops(X):
    # Written with operators only, so X may be a numpy or a (traced) JAX array.
    return 2.0 * X[:, 0] * X[:, 1] * X[:, 2] * X[:, 3] * X[:, 4] * X[:, 5]


class FlopsRegressor(LeastSquaresCostModel):
    """Predict a layer's time as a straight line in its FLOPs.

    ``time = time_per_gflop * FLOPs / 1e9 + overhead``, with FLOPs counted as
    2 per multiply-accumulate over every kernel tap (H * W * Cin * Cout * K1 *
    K2 multiply-accumulates per row). The slope is bounded away from zero and
    the overhead is non-negative, so every prediction is positive.

    Parameters
    ----------
    overhead : bool, default=True
        Fit the constant term ``overhead`` (time per call). If False the line
        goes through the origin.
    loss : {"linear", "soft_l1", "huber", "cauchy", "arctan"}, default="linear"
        Loss applied by ``scipy.optimize.least_squares`` to the relative
        errors; anything but "linear" is a robust fit that down-weights
        outliers.
    f_scale : float, default=0.1
        Relative error at which a robust loss starts to down-weight a row
        (0.1 = 10%). Unused with ``loss="linear"``.
    max_nfev : int or None, default=None
        Maximum number of function evaluations of the solver (None: the
        solver's default). A fit that stops there warns with
        ``ConvergenceWarning``.

    Attributes
    ----------
    params_ : dict
        ``"time_per_gflop"`` (time unit of ``y`` per 1e9 FLOPs) and, with
        ``overhead=True``, ``"overhead"`` (time unit of ``y``).
    standard_errors_ : dict
        Standard error of each parameter, same keys.
    feature_range_, in_sample_metrics_, hardware_, dataset_sha256_
        See :class:`~alphaflops.models.base.CostModel`.
    """

    kind = "flops"
    benchmark_name = "flops"

    def __init__(self, overhead=True, loss="linear", f_scale=0.1, max_nfev=None):
        self.overhead = overhead
        self.loss = loss
        self.f_scale = f_scale
        self.max_nfev = max_nfev

    def _parameter_names(self):
        return ["time_per_gflop", "overhead"] if self.overhead else ["time_per_gflop"]

    def _check_settings(self):
        super()._check_settings()
        if not isinstance(self.overhead, (bool, np.bool_)):
            raise ValueError(f"overhead must be True or False; got {plain_repr(self.overhead)}")

    def _formula(self, theta, X, xp):
        time = theta[0] * (_row_flops(X) / _FLOPS_PER_GFLOP)
        if self.overhead:
            time = time + theta[1]
        return time

    def _jacobian(self, theta, X):
        columns = [_row_flops(X) / _FLOPS_PER_GFLOP]
        if self.overhead:
            columns.append(np.ones(len(X)))
        return np.column_stack(columns)

    def _initial_params(self, X, y):
        slope = np.median(y / (_row_flops(X) / _FLOPS_PER_GFLOP))
        return [slope, 0.1 * np.min(y)] if self.overhead else [slope]

    def _parameter_scales(self, X, y):
        slope = np.median(y / (_row_flops(X) / _FLOPS_PER_GFLOP))
        return [slope, np.median(y)] if self.overhead else [slope]

    def _parameter_ranges(self):
        # A positive slope and a non-negative overhead keep a * FLOPs + b > 0.
        ranges = {"time_per_gflop": ParameterRange(0.0, low_exclusive=True)}
        if self.overhead:
            ranges["overhead"] = ParameterRange(0.0)
        return ranges
