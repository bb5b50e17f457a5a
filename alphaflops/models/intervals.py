"""Prediction intervals from the quantiles of held-out log errors.

A model that supports intervals stores the quantiles of the log errors
``log(y / prediction)`` of rows it did not see while fitting, at the levels
:data:`INTERVAL_LEVELS`. An interval of coverage c multiplies a prediction
by the exponentials of the (1 - c) / 2 and (1 + c) / 2 quantiles.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from alphaflops.errors import ModelFileError

#: Quantile levels at which the held-out log errors are stored: 0, 0.005, ..., 1.
INTERVAL_LEVELS = np.linspace(0.0, 1.0, 201)

#: Where the stored errors come from.
INTERVAL_SOURCES = ("held-out blocks", "in-sample")


class IntervalMixin:
    """Add :meth:`predict_interval` to a cost model with ``interval_quantiles_``."""

    def predict_interval(self, X, coverage=0.9):
        """Predict a central interval of the time of each layer row.

        Parameters
        ----------
        X : array-like of shape (n, 6)
            Layer rows: H, W, Cin, Cout, K1, K2, all positive.
        coverage : float, default=0.9
            Fraction of held-out rows the interval is meant to contain, in
            (0, 1).

        Returns
        -------
        lower, upper : ndarray of shape (n,)
            Interval ends in the unit of the training ``y``: the prediction
            times the exponentials of the (1 - coverage) / 2 and
            (1 + coverage) / 2 quantiles of the held-out log errors. For very
            low coverage the interval may miss ``predict(X)``, because the
            error distribution need not be centred on 0.
        """
        _check_coverage(coverage)
        check_is_fitted(self, "interval_quantiles_")

        predictions = self.predict(X)
        low_level, high_level = (1 - coverage) / 2, (1 + coverage) / 2
        low, high = np.interp([low_level, high_level], INTERVAL_LEVELS, self.interval_quantiles_)
        return predictions * np.exp(low), predictions * np.exp(high)


def _check_coverage(coverage):
    is_number = isinstance(coverage, (int, float, np.floating)) and not isinstance(coverage, bool)
    if not is_number or not 0 < coverage < 1:
        raise ValueError(f"coverage must be a number between 0 and 1 (exclusive), got {coverage!r}")


def error_quantiles(log_errors):
    """Return the quantiles of ``log_errors`` at :data:`INTERVAL_LEVELS`."""
    return np.quantile(log_errors, INTERVAL_LEVELS)


def interval_to_extras(quantiles, source):
    """Return the ``interval`` object that model files store."""
    return {
        "levels": INTERVAL_LEVELS.tolist(),
        "log_error_quantiles": [float(value) for value in quantiles],
        "source": source,
    }


def interval_from_extras(extras, kind):
    """Read and check the ``interval`` object of a model file's extras.

    Parameters
    ----------
    extras : dict
        The parsed ``extras`` field of a model file.
    kind : str
        Model kind, used in error messages.

    Returns
    -------
    quantiles : ndarray of shape (201,)
    source : str
        One of :data:`INTERVAL_SOURCES`.

    Raises
    ------
    ModelFileError
        If the object is missing or malformed.
    """
    interval = extras.get("interval")
    if not isinstance(interval, dict):
        raise ModelFileError(f"{kind} model file lacks extras.interval; fit and save the model again")

    try:
        quantiles = np.asarray(interval["log_error_quantiles"], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"{kind} model file has an invalid extras.interval field: {error!r}") from None
    if quantiles.shape != INTERVAL_LEVELS.shape or not np.all(np.isfinite(quantiles)):
        raise ModelFileError(
            f"{kind} model file: 'log_error_quantiles' must be {INTERVAL_LEVELS.size} finite numbers"
        )
    if np.any(np.diff(quantiles) < 0):
        raise ModelFileError(f"{kind} model file: 'log_error_quantiles' must be non-decreasing")

    source = interval.get("source")
    if source not in INTERVAL_SOURCES:
        raise ModelFileError(
            f"{kind} model file: extras.interval.source is {source!r}; expected one of "
            f"{', '.join(repr(name) for name in INTERVAL_SOURCES)}"
        )
    return quantiles, source
