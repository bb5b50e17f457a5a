"""Error metrics of predicted layer times and held-out (cross-validated) evaluation.

All error measures are fractions, not percent: a MAPE of 0.2163 is 21.63%.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata

METRIC_NAMES = ("mape", "median_ape", "max_ape", "rmse_ms", "spearman", "within_10pct")

# Shown in error messages that list offending rows.
_MAX_ROWS_SHOWN = 10


def metrics(y_true, y_pred, skip_nonpositive=False):
    """Compute the error metrics of predicted times against measured times.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Measured times, milliseconds by convention. Every time must be
        positive and finite.
    y_pred : array-like of shape (n,)
        Predicted times in the same unit. Every prediction must be positive
        and finite, because a cost model that predicts a zero or negative
        time is broken whatever its error.
    skip_nonpositive : bool, default=False
        If True, rows whose measured time is zero or negative are left out of
        every metric and counted in ``"rows_left_out"``, instead of raising.

    Returns
    -------
    dict
        ``"mape"`` (mean absolute percentage error), ``"median_ape"``,
        ``"max_ape"`` (fractions), ``"rmse_ms"`` (root mean squared error in
        the unit of ``y_true``), ``"spearman"`` (rank correlation, NaN when
        either side is constant or there is one row), ``"within_10pct"``
        (share of rows with an absolute percentage error of at most 0.1),
        and ``"rows_left_out"`` (int) when ``skip_nonpositive`` is True.

    Raises
    ------
    ValueError
        If the arrays are not 1-D of the same length, are empty, a measured
        time is non-finite or (unless skipped) not positive, or a prediction
        is not positive and finite. The message names the rows.
    """
    y_true = _as_1d(y_true, "y_true")
    y_pred = _as_1d(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true has {y_true.size} rows but y_pred has {y_pred.size}; pass one prediction per measured time"
        )
    if y_true.size == 0:
        raise ValueError("metrics need at least one row; y_true and y_pred are empty")

    _require_rows(np.isfinite(y_true), "measured time", "is not finite (NaN or infinite)", y_true)
    _require_rows(np.isfinite(y_pred) & (y_pred > 0), "predicted time", "is not positive and finite", y_pred)

    positive = y_true > 0
    rows_left_out = int(np.count_nonzero(~positive))
    if skip_nonpositive:
        if rows_left_out == y_true.size:
            raise ValueError("every measured time is zero or negative, so no row is left to evaluate")
        y_true = y_true[positive]
        y_pred = y_pred[positive]
    else:
        _require_rows(
            positive,
            "measured time",
            "is zero or negative",
            y_true,
            "; relative errors need positive times, so drop those rows or pass skip_nonpositive=True",
        )

    result = _error_metrics(y_true, y_pred)
    if skip_nonpositive:
        result["rows_left_out"] = rows_left_out
    return result


def _error_metrics(y_true, y_pred):
    # NOTE: "within_10pct" compares float64 errors with 0.1 exactly, so a
    # nominal 10% error can fall on either side. For example, 1.1 against 1.0
    # gives 0.10000000000000009, which counts as outside.
    absolute_percentage_error = np.abs(y_pred - y_true) / y_true
    return {
        "mape": float(np.mean(absolute_percentage_error)),
        "median_ape": float(np.median(absolute_percentage_error)),
        "max_ape": float(np.max(absolute_percentage_error)),
        "rmse_ms": float(np.sqrt(np.mean((y_pred - y_true) ** 2))),
        "spearman": _spearman(y_true, y_pred),
        "within_10pct": float(np.mean(absolute_percentage_error <= 0.1)),
    }


def _spearman(a, b):
    # Pearson correlation of the ranks. Computed here rather than with
    # scipy.stats.spearmanr so that constant input gives NaN without a warning.
    if a.size < 2:
        return float("nan")
    rank_a = rankdata(a) - (a.size + 1) / 2
    rank_b = rankdata(b) - (b.size + 1) / 2
    denominator = np.sqrt(np.sum(rank_a**2) * np.sum(rank_b**2))
    if denominator == 0:
        return float("nan")
    return float(np.sum(rank_a * rank_b) / denominator)


def _as_1d(values, name):
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of times, got shape {array.shape}")
    return array


def _require_rows(ok, quantity, problem, values, fix=""):
    bad = np.flatnonzero(~ok)
    if bad.size == 0:
        return
    shown = ", ".join(f"{row} ({float(values[row])!r})" for row in bad[:_MAX_ROWS_SHOWN])
    more = f" and {bad.size - _MAX_ROWS_SHOWN} more" if bad.size > _MAX_ROWS_SHOWN else ""
    raise ValueError(f"{quantity} {problem} in {bad.size} row(s): {shown}{more}{fix}")


@dataclass
class CrossValidationResult:
    """Held-out evaluation of one estimator on one dataset.

    Attributes
    ----------
    metrics : dict
        Metrics (see :func:`metrics`) of all held-out predictions together.
    per_plot : dict
        Plot name (or group label) -> metrics of that group's held-out
        predictions.
    predictions : ndarray of shape (n,)
        Held-out prediction of every row, in the dataset's row order.
    splits : list of ndarray
        Row indices held out in each split, in the order they were fitted.
    """

    metrics: dict
    per_plot: dict
    predictions: np.ndarray
    splits: list = field(default_factory=list)


def cross_validate(estimator, dataset, by="plot", n_splits=5, seed=0, groups=None):
    """Predict every row of ``dataset`` with a copy of ``estimator`` fitted without it.

    Parameters
    ----------
    estimator : scikit-learn regressor
        Cloned (unfitted) for every split, so the argument is left unchanged.
    dataset : Dataset
        Any object with ``X`` (n, 6), ``y`` (n,) and ``groups`` (n,) arrays;
        ``plot_names`` (list of str), when present, names the groups.
    by : {"plot", "kfold"}, default="plot"
        ``"plot"`` holds out one group at a time (scikit-learn's
        ``LeaveOneGroupOut``); ``"kfold"`` holds out ``n_splits`` shuffled
        folds drawn with ``seed``.
    n_splits : int, default=5
        Number of folds for ``by="kfold"``; ignored for ``by="plot"``.
    seed : int, default=0
        Seed of the fold shuffle for ``by="kfold"``.
    groups : array-like of shape (n,), optional
        Group label of every row, used in place of ``dataset.groups`` both to
        hold out rows (``by="plot"``) and to report ``per_plot``.

    Returns
    -------
    CrossValidationResult
        Metrics of the held-out predictions overall and per group, the
        held-out predictions and the splits.

    Raises
    ------
    ValueError
        For an unknown ``by``, a dataset without groups under ``by="plot"``,
        fewer than two groups, or ``groups`` of the wrong length.
    """
    from sklearn.base import clone
    from sklearn.model_selection import KFold, LeaveOneGroupOut

    X = np.asarray(dataset.X, dtype=np.float64)
    y = np.asarray(dataset.y, dtype=np.float64)
    labels, names = _group_labels(dataset, groups, len(y))

    if by == "plot":
        if labels is None:
            raise ValueError(
                "the dataset has no plots to hold out; pass groups=... or use by='kfold'"
            )
        if np.unique(labels).size < 2:
            raise ValueError("leave-one-plot-out needs at least two plots (groups); use by='kfold'")
        splits = [test for _, test in LeaveOneGroupOut().split(X, y, labels)]
    elif by == "kfold":
        folds = KFold(n_splits=n_splits, shuffle=True, random_state=seed)
        splits = [test for _, test in folds.split(X, y)]
    else:
        raise ValueError(f"by must be 'plot' or 'kfold', got {str(by)!r}")

    predictions = np.empty_like(y)
    for test in splits:
        train = np.ones(len(y), dtype=bool)
        train[test] = False
        fitted = clone(estimator).fit(X[train], y[train])
        predictions[test] = fitted.predict(X[test])

    per_plot = {}
    if labels is not None:
        for label in np.unique(labels):
            rows = labels == label
            per_plot[names(label)] = metrics(y[rows], predictions[rows])
    return CrossValidationResult(metrics(y, predictions), per_plot, predictions, splits)


def _group_labels(dataset, groups, n_rows):
    """Return the group label of every row (or None) and a function naming a label."""
    if groups is not None:
        labels = np.asarray(groups)
        if labels.shape != (n_rows,):
            raise ValueError(f"groups must have one label per row ({n_rows}), got shape {labels.shape}")
        return labels, str

    labels = getattr(dataset, "groups", None)
    if labels is None:
        return None, str
    labels = np.asarray(labels)
    if labels.size == 0 or np.all(labels < 0):
        return None, str
    plot_names = list(getattr(dataset, "plot_names", None) or [])

    def name_of(label):
        if 0 <= label < len(plot_names):
            return plot_names[label]
        return str(label)

    return labels, name_of
