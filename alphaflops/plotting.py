"""Plots of measured and predicted layer times.

Two kinds of figure:

- :func:`plot_plot` redraws one published-style plot: each measured line
  solid, and the times that one or more predictors give for the same rows
  dashed in the line's colour.
- :func:`plot_predicted_vs_measured` and :func:`plot_residuals` are for
  datasets without plots (tables of random shapes): a log-log scatter of
  predicted against measured time with the +-10% band, and the relative
  error against each of the six layer dimensions.

Figures are built with :class:`matplotlib.figure.Figure` and never through
``pyplot``, so they work headless and do not change matplotlib's global
backend.
"""

from collections.abc import Mapping

import numpy as np
from matplotlib import cbook, mathtext
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

COLUMN_NAMES = ("H", "W", "Cin", "Cout", "K1", "K2")

# Linestyles of the first, second, ... predictor. Measured lines are solid.
PREDICTOR_LINESTYLES = ("--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))

BAND = 0.10

_MATHTEXT_PARSER = mathtext.MathTextParser("path")


def is_valid_mathtext(text):
    """Return whether matplotlib can draw ``text`` as mathtext.

    A string is mathtext when it has an even, non-zero number of unescaped
    ``$`` signs and matplotlib's parser accepts it.

    Parameters
    ----------
    text : str
        Label or annotation.

    Returns
    -------
    bool
        False for plain strings, strings with an odd number of ``$`` and
        strings that the mathtext parser rejects.
    """
    if not cbook.is_math_text(text):
        return False
    try:
        _MATHTEXT_PARSER.parse(text)
    except ValueError:
        return False
    return True


def x_values(rows, axis):
    """Compute the x coordinate of each row of a plot's line.

    Parameters
    ----------
    rows : array_like, shape (n, 6) or (n, 7)
        Layer dimensions H, W, Cin, Cout, K1, K2 (a time column is ignored).
    axis : int or str
        Column index 0..5, or ``"progressive"`` for
        sqrt(H * W * Cin * Cout * K1 * K2 / 10000), the x axis of the
        published plot whose dimensions all grow together.

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    rows = np.asarray(rows, dtype=np.float64)
    if axis == "progressive":
        return np.sqrt(np.prod(rows[:, :6], axis=1) / 10000.0)
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) and 0 <= axis < 6:
        return rows[:, int(axis)]
    raise ValueError(f"invalid plot axis {axis!r}: expected a column index 0..5 or 'progressive'")


def plot_plot(plot, lines=None, predict=None, save_as=None, ax=None):
    """Draw a plot's measured lines and, optionally, predicted times.

    Parameters
    ----------
    plot : alphaflops.Plot
        Uses ``name``, ``axis``, ``x_label``, ``ylim``, ``annotations``
        (x, y, text) and ``lines`` ((n, 7) arrays H, W, Cin, Cout, K1, K2,
        time in ms).
    lines : iterable of int, optional
        Indices of the lines to draw. Default: every line.
    predict : callable or mapping of str to callable, optional
        A predictor takes an (n, 6) float array of layer dimensions and
        returns n times in ms, so a fitted model's ``predict`` works. Each
        predictor's times are drawn in the colour of the measured line,
        one linestyle per predictor. A mapping draws several predictors and
        labels them in the legend by their keys.
    save_as : str or path-like, optional
        File to write (format from the suffix, e.g. PNG). The figure is
        written after drawing.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into. Default: a new figure with one axes.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If a line index is out of range or a predictor returns anything
        but n finite times.
    """
    predictors = _predictor_mapping(predict)
    line_indices = _line_indices(plot, lines)
    if ax is None:
        ax = Figure(figsize=(7.0, 5.0), layout="constrained").add_subplot()

    colors = _color_cycle()
    for index in line_indices:
        _draw_line(ax, plot, index, colors[index % len(colors)], predictors)

    _decorate(ax, plot)
    _add_plot_legend(ax, predictors)
    if save_as is not None:
        ax.figure.savefig(save_as, dpi=100)
    return ax


def plot_predicted_vs_measured(y_true, predictions, title=None, save_as=None, ax=None):
    """Draw a log-log scatter of predicted against measured times.

    The diagonal marks a perfect prediction and the shaded band the
    predictions within +-10% of the measured time.

    Parameters
    ----------
    y_true : array_like, shape (n,)
        Measured times in ms, positive.
    predictions : mapping of str to array_like, shape (n,)
        Predicted times in ms per model name, positive.
    title : str, optional
    save_as : str or path-like, optional
        File to write after drawing.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into. Default: a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    y_true = _positive_times(y_true, "measured times")
    if ax is None:
        ax = Figure(figsize=(6.0, 6.0), layout="constrained").add_subplot()

    low, high = _log_limits(y_true, predictions)
    diagonal = np.geomspace(low, high, 50)
    ax.fill_between(diagonal, diagonal * (1 - BAND), diagonal * (1 + BAND),
                    color="0.85", label="within +-10%")
    ax.plot(diagonal, diagonal, color="0.4", linewidth=1.0, label="predicted = measured")

    for name, y_pred in predictions.items():
        y_pred = _positive_times(y_pred, f"predictions of {name!r}", len(y_true))
        ax.scatter(y_true, y_pred, s=8, alpha=0.6, label=name)

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel("measured time (ms)")
    ax.set_ylabel("predicted time (ms)")
    if title:
        ax.set_title(title, parse_math=is_valid_mathtext(title))
    ax.legend(loc="upper left", fontsize="small")
    if save_as is not None:
        ax.figure.savefig(save_as, dpi=100)
    return ax


def plot_residuals(X, y_true, predictions, title=None, save_as=None):
    """Draw the relative error of each model against each layer dimension.

    Parameters
    ----------
    X : array_like, shape (n, 6)
        Layer dimensions H, W, Cin, Cout, K1, K2.
    y_true : array_like, shape (n,)
        Measured times in ms, positive.
    predictions : mapping of str to array_like, shape (n,)
        Predicted times in ms per model name.
    title : str, optional
    save_as : str or path-like, optional
        File to write after drawing.

    Returns
    -------
    matplotlib.figure.Figure
        Six axes, one per dimension, on a log x scale. The y value is
        (predicted - measured) / measured.
    """
    X = np.asarray(X, dtype=np.float64)
    y_true = _positive_times(y_true, "measured times")
    if X.ndim != 2 or X.shape != (len(y_true), 6):
        raise ValueError(f"X must have shape ({len(y_true)}, 6), got {X.shape}")
    relative_errors = {}
    for name, y_pred in predictions.items():
        y_pred = _positive_times(y_pred, f"predictions of {name!r}", len(y_true))
        relative_errors[name] = (y_pred - y_true) / y_true

    figure = Figure(figsize=(12.0, 7.0), layout="constrained")
    axes = figure.subplots(2, 3, sharey=True).ravel()
    for column, ax in enumerate(axes):
        ax.axhspan(-BAND, BAND, color="0.85")
        ax.axhline(0.0, color="0.4", linewidth=1.0)
        for name, errors in relative_errors.items():
            ax.scatter(X[:, column], errors, s=6, alpha=0.5, label=name)
        ax.set_xscale("log")
        ax.set_xlabel(COLUMN_NAMES[column])
    axes[0].set_ylabel("relative error")
    axes[3].set_ylabel("relative error")
    axes[0].legend(fontsize="small")
    if title:
        figure.suptitle(title, parse_math=is_valid_mathtext(title))
    if save_as is not None:
        figure.savefig(save_as, dpi=100)
    return figure


def _predictor_mapping(predict):
    if predict is None:
        return {}
    if isinstance(predict, Mapping):
        predictors = dict(predict)
    elif callable(predict):
        predictors = {_predictor_name(predict): predict}
    else:
        raise TypeError(f"predict must be a callable or a mapping of names to callables, "
                        f"got {type(predict).__name__}")
    for name, function in predictors.items():
        if not callable(function):
            raise TypeError(f"predictor {name!r} is not callable: {type(function).__name__}")
    return predictors


def _predictor_name(function):
    owner = getattr(function, "__self__", None)
    if owner is not None:
        return type(owner).__name__
    return getattr(function, "__name__", "predicted")


def _line_indices(plot, lines):
    count = len(plot.lines)
    if lines is None:
        return list(range(count))
    indices = [int(index) for index in lines]
    for index in indices:
        if not 0 <= index < count:
            raise ValueError(f"line index {index} out of range: plot {plot.name!r} has {count} lines")
    return indices


def _color_cycle():
    from matplotlib import rcParams

    return rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])


def _draw_line(ax, plot, index, color, predictors):
    rows = np.asarray(plot.lines[index], dtype=np.float64)
    x = x_values(rows, plot.axis)
    order = np.argsort(x, kind="stable")
    ax.plot(x[order], rows[order, 6], color=color, linestyle="-", marker=".", markersize=4)

    for number, (name, function) in enumerate(predictors.items()):
        predicted = _call_predictor(function, rows[:, :6], name, plot.name, index)
        linestyle = PREDICTOR_LINESTYLES[number % len(PREDICTOR_LINESTYLES)]
        ax.plot(x[order], predicted[order], color=color, linestyle=linestyle)


def _call_predictor(function, rows, name, plot_name, line_index):
    predicted = np.asarray(function(rows.copy()), dtype=np.float64)
    if predicted.shape != (len(rows),):
        raise ValueError(f"predictor {name!r} returned shape {predicted.shape} for line {line_index} "
                         f"of plot {plot_name!r}; expected ({len(rows)},)")
    if not np.all(np.isfinite(predicted)):
        raise ValueError(f"predictor {name!r} returned non-finite times for line {line_index} "
                         f"of plot {plot_name!r}")
    return predicted


def _decorate(ax, plot):
    label = plot.x_label or ""
    ax.set_xlabel(label, parse_math=is_valid_mathtext(label))
    ax.set_ylabel("time (ms)")
    ax.set_title(plot.name, parse_math=False)
    if plot.ylim is not None:
        ax.set_ylim(0.0, float(plot.ylim))
    else:
        ax.set_ylim(bottom=0.0)

    for x, y, text in plot.annotations:
        text = str(text)
        ax.text(float(x), float(y), text, fontsize="small", parse_math=is_valid_mathtext(text))


def _add_plot_legend(ax, predictors):
    if not predictors:
        return
    handles = [Line2D([], [], color="0.2", linestyle="-", marker=".", label="measured")]
    for number, name in enumerate(predictors):
        linestyle = PREDICTOR_LINESTYLES[number % len(PREDICTOR_LINESTYLES)]
        handles.append(Line2D([], [], color="0.2", linestyle=linestyle, label=name))
    ax.legend(handles=handles, loc="best", fontsize="small")


def _positive_times(values, description, length=None):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or (length is not None and len(values) != length):
        expected = "(n,)" if length is None else f"({length},)"
        raise ValueError(f"{description} must have shape {expected}, got {values.shape}")
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(f"{description} must be positive and finite for a log-scale plot")
    return values


def _log_limits(y_true, predictions):
    values = [np.asarray(y_true, dtype=np.float64)]
    values += [np.asarray(y_pred, dtype=np.float64) for y_pred in predictions.values()]
    values = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in values])
    low, high = values.min(), values.max()
    return low / 1.3, high * 1.3


__all__ = [
    "plot_plot",
    "plot_predicted_vs_measured",
    "plot_residuals",
    "x_values",
    "is_valid_mathtext",
]
