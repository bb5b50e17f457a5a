"""Prediction intervals from the quantiles of held-out log errors.

A model that supports intervals stores the quantiles of the log errors
``log(y / prediction)`` of rows it did not see while fitting, at the levels
:data:`INTERVAL_LEVELS`. An interval of coverage c multiplies a prediction
by the exponentials of the (1 - c) / 2 and (1 + c) / 2 quantiles.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from alphaflops.models.files import corrupt_model_file

#: Quantile levels at which the held-out log errors are stored: 0, 0.005, ..., 1.
INTERVAL_LEVELS = np.linspace(0.0, 1.0, 201)

#: Maximum absolute log error a model file may store: a factor of about 5e8
#: between measured and predicted time, far beyond any fitted model's error.
MAX_LOG_ERROR = 20.0

#: Origins of the stored errors: refits without blocks of rows, or the fit itself.
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
    alphaflops.errors.ModelFileError
        If the object is missing or malformed.
    """
    interval = extras.get("interval")
    if not isinstance(interval, dict):
        raise _invalid(kind, "lacks extras.interval, an object")

    levels = interval.get("levels", INTERVAL_LEVELS.tolist())
    if not _same_numbers(levels, INTERVAL_LEVELS):
        raise _invalid(kind, f"extras.interval.levels must be the {INTERVAL_LEVELS.size} levels 0, 0.005, ..., 1")

    quantiles = interval.get("log_error_quantiles")
    if not _finite_numbers(quantiles, INTERVAL_LEVELS.size):
        raise _invalid(kind, f"'log_error_quantiles' must be {INTERVAL_LEVELS.size} finite numbers")
    quantiles = np.asarray(quantiles, dtype=np.float64)
    if np.any(np.diff(quantiles) < 0):
        raise _invalid(kind, "'log_error_quantiles' must be non-decreasing")
    if np.any(np.abs(quantiles) > MAX_LOG_ERROR):
        raise _invalid(
            kind,
            f"'log_error_quantiles' must lie within +-{MAX_LOG_ERROR:g} (prediction errors up to a factor "
            f"of about {np.exp(MAX_LOG_ERROR):.0e})",
        )

    source = interval.get("source")
    if source not in INTERVAL_SOURCES:
        expected = ", ".join(repr(name) for name in INTERVAL_SOURCES)
        raise _invalid(kind, f"extras.interval.source is {source!r}; expected one of {expected}")
    return quantiles, source


def _finite_numbers(values, size):
    if not isinstance(values, list) or len(values) != size:
        return False
    is_number = [isinstance(value, (int, float)) and not isinstance(value, bool) for value in values]
    return all(is_number) and bool(np.all(np.isfinite(np.asarray(values, dtype=np.float64))))


def _same_numbers(values, expected):
    return _finite_numbers(values, expected.size) and np.allclose(values, expected, rtol=0, atol=1e-12)


def _invalid(kind, problem):
    return corrupt_model_file(f"{kind} model file: {problem}")
