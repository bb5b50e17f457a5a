"""The alpha-FLOPs correction and the published alpha-FLOPs time model.

Asperti, Evangelista and Marzolla ("Dissecting FLOPs along input dimensions
for GreenAI cost estimations", LOD 2021, arXiv:2107.11949) observe that GPU
time grows less than linearly with the spatial size of a layer, and scale
the FLOP count by a factor alpha:

    D = H * W,  K = K1 * K2,  S_K = ln(K) + 1
    alpha = ((S_K + beta * (D - S_K)) / D) ** gamma

``beta`` and ``gamma`` depend on the kernel class (1x1 or larger). The
published model predicts

    T [ms] = 0.0375 * alpha * (Cin * Cout * K * D / 1e6)

so its FLOPs are millions of multiply-accumulates (no factor 2) and 0.0375
is milliseconds per million MACs, fitted on a Quadro T2000. The constants
come from the plotting script of the authors' public data set repository
(asperti/alpha_flops_dataset) and are kept in :data:`PUBLISHED_CONSTANTS`.
"""

from typing import NamedTuple

import numpy as np

from alphaflops.flops import as_rows


class AlphaConstants(NamedTuple):
    """The two constants of one kernel class; unpacks as ``beta, gamma``."""

    beta: float
    gamma: float


PUBLISHED_CONSTANTS = {
    "scale_ms_per_mmac": 0.0375,
    "classes": {
        "1x1": AlphaConstants(beta=0.02, gamma=0.99),
        "larger": AlphaConstants(beta=0.001, gamma=0.56),
    },
}
"""Published constants: the time scale in ms per million MACs and (beta, gamma) per kernel class."""


def kernel_class(kernel_area):
    """Return the kernel class names, "1x1" where ``kernel_area == 1`` and "larger" elsewhere.

    Returns
    -------
    numpy.ndarray of str, same shape as ``kernel_area``
    """
    return np.where(np.asarray(kernel_area) == 1, "1x1", "larger")


def alpha_factor(kernel_area, spatial, beta=None, gamma=None):
    """Compute the alpha factor ``((S_K + beta * (D - S_K)) / D) ** gamma``.

    Parameters
    ----------
    kernel_area : array_like
        K = K1 * K2, the number of kernel taps; ``S_K = ln(K) + 1``.
    spatial : array_like
        D = H * W, the spatial size of the input.
    beta, gamma : array_like, optional
        Constants of the kernel class. When both are omitted, the published
        constants of each element's class are used (see
        :data:`PUBLISHED_CONSTANTS`).

    Returns
    -------
    numpy.ndarray
        The broadcast shape of the arguments; a 0-d array for scalars.
    """
    kernel_area = np.asarray(kernel_area, dtype=np.float64)
    spatial = np.asarray(spatial, dtype=np.float64)
    if (beta is None) != (gamma is None):
        raise ValueError("pass both beta and gamma, or neither for the published constants")
    if np.any(~np.isfinite(kernel_area) | (kernel_area < 1)):
        raise ValueError(f"kernel_area must be finite and at least 1, got {kernel_area}")
    if np.any(~np.isfinite(spatial) | (spatial <= 0)):
        raise ValueError(f"spatial must be finite and positive, got {spatial}")

    if beta is None:
        beta, gamma = _published_class_constants(kernel_area)

    log_kernel = np.log(kernel_area) + 1
    return ((log_kernel + beta * (spatial - log_kernel)) / spatial) ** gamma


def _published_class_constants(kernel_area):
    classes = PUBLISHED_CONSTANTS["classes"]
    is_pointwise = kernel_area == 1
    beta = np.where(is_pointwise, classes["1x1"].beta, classes["larger"].beta)
    gamma = np.where(is_pointwise, classes["1x1"].gamma, classes["larger"].gamma)
    return beta, gamma


def published_alpha(X):
    """Compute the alpha factor of each six-column row with the published constants.

    Parameters
    ----------
    X : array_like, shape (n, 6) or (6,)
        Columns H, W, Cin, Cout, K1, K2.

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    rows = as_rows(X)
    return alpha_factor(rows[:, 4] * rows[:, 5], rows[:, 0] * rows[:, 1])


def published_alpha_time(X):
    """Predict layer time in milliseconds with the published alpha-FLOPs model.

    ``T = 0.0375 * alpha * (Cin * Cout * K1 * K2 * H * W / 1e6)`` with the
    constants of :data:`PUBLISHED_CONSTANTS`.

    Parameters
    ----------
    X : array_like, shape (n, 6) or (6,)
        Columns H, W, Cin, Cout, K1, K2.

    Returns
    -------
    numpy.ndarray, shape (n,)
        Milliseconds.
    """
    rows = as_rows(X)
    spatial = rows[:, 0] * rows[:, 1]
    kernel_area = rows[:, 4] * rows[:, 5]
    channels = rows[:, 2] * rows[:, 3]
    alpha = alpha_factor(kernel_area, spatial)
    mega_macs = channels * kernel_area * spatial / 1e6
    return PUBLISHED_CONSTANTS["scale_ms_per_mmac"] * alpha * mega_macs
