"""Checks on measured rows, with errors that name the plot, line and row."""

import numbers

import numpy as np

from alphaflops.errors import DatasetError

#: Names of the seven columns of a measured line, in order.
LINE_COLUMNS = ("H", "W", "Cin", "Cout", "K1", "K2", "T_ms")

#: Names of the six layer dimensions of a model input row, in order.
ROW_COLUMNS = LINE_COLUMNS[:6]

#: Axis values a plot may have: a column index of H..K2, or "progressive".
AXIS_CHOICES = (0, 1, 2, 3, 4, 5, "progressive")

#: Layer kinds a line or table row may hold.
LAYER_KINDS = ("conv2d", "dense")


def check_axis(axis, plot_name):
    """Return the axis as an int 0..5 or "progressive", or raise DatasetError."""
    if isinstance(axis, str):
        if axis == "progressive":
            return axis
    elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        if 0 <= int(axis) <= 5:
            return int(axis)
    raise DatasetError(
        f"plot {plot_name!r}: invalid axis {axis!r}; "
        "expected a column index 0..5 (H, W, Cin, Cout, K1, K2) or 'progressive'"
    )


def check_line(values, plot_name, line_index, kind="conv2d"):
    """Convert one measured line to a float64 (n, 7) array and check its values.

    Parameters
    ----------
    values : array_like, shape (n, 7)
        Rows H, W, Cin, Cout, K1, K2, T with T in milliseconds.
    plot_name : str
        Name of the plot, used in error messages.
    line_index : int
        Index of the line in its plot, used in error messages.
    kind : {"conv2d", "dense"}
        Layer kind of the line. Dense rows must have W = 1 and a 1x1 kernel,
        because a dense layer with batch B is the row (B, 1, in, out, 1, 1).

    Returns
    -------
    numpy.ndarray, shape (n, 7), float64
        A new array that the caller owns.

    Raises
    ------
    DatasetError
        If the shape is not (n, 7) with n >= 1, a dimension is not a
        positive finite integer, or a time is not positive and finite.
    """
    where = f"plot {plot_name!r}, line {line_index}"
    try:
        rows = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DatasetError(f"{where}: values are not numbers ({error})") from None

    if rows.ndim != 2 or rows.shape[1] != len(LINE_COLUMNS):
        raise DatasetError(
            f"{where}: expected an array of shape (n, 7) with columns "
            f"{', '.join(LINE_COLUMNS)}, found shape {rows.shape}"
        )
    if rows.shape[0] == 0:
        raise DatasetError(f"{where}: the line has no rows")

    check_kind(kind, where)
    check_dimensions(rows[:, :6], where)
    check_times(rows[:, 6], where)
    if kind == "dense":
        check_dense_rows(rows[:, :6], where)
    return rows


def check_kind(kind, where):
    """Raise DatasetError unless ``kind`` is a known layer kind."""
    if kind not in LAYER_KINDS:
        raise DatasetError(f"{where}: invalid layer kind {kind!r}; expected one of {LAYER_KINDS}")


def check_dimensions(dims, where):
    """Raise DatasetError naming the first row whose dimensions are not positive integers."""
    finite = np.isfinite(dims)
    valid = finite & (dims > 0) & (np.floor(np.where(finite, dims, 0.0)) == dims)
    bad_rows = np.flatnonzero(~valid.all(axis=1))
    if bad_rows.size == 0:
        return

    row = int(bad_rows[0])
    column = int(np.flatnonzero(~valid[row])[0])
    raise DatasetError(
        f"{where}, row {row}: {ROW_COLUMNS[column]} = {float(dims[row, column])!r} is not a positive "
        f"finite integer ({bad_rows.size} invalid row(s) in this line)"
    )


def check_times(times, where):
    """Raise DatasetError naming the first row whose time is not positive and finite."""
    valid = np.isfinite(times) & (times > 0)
    bad_rows = np.flatnonzero(~valid)
    if bad_rows.size == 0:
        return

    row = int(bad_rows[0])
    raise DatasetError(
        f"{where}, row {row}: time {float(times[row])!r} ms is not positive and finite "
        f"({bad_rows.size} invalid time(s) in this line)"
    )


def check_dense_rows(dims, where):
    """Raise DatasetError naming the first dense row that is not (B, 1, in, out, 1, 1)."""
    valid = (dims[:, 1] == 1) & (dims[:, 4] == 1) & (dims[:, 5] == 1)
    bad_rows = np.flatnonzero(~valid)
    if bad_rows.size == 0:
        return

    row = int(bad_rows[0])
    raise DatasetError(
        f"{where}, row {row}: a dense layer row needs W = 1 and K1 = K2 = 1, "
        f"found {dims[row].tolist()}"
    )
