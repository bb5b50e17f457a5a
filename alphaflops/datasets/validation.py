"""Checks on measured rows, with errors that name the plot, line and row."""

import math
import numbers

import numpy as np

from alphaflops.errors import DatasetError
from alphaflops.flops import MAX_DIMENSION, MAX_ROW_MACS, describe_value, find_invalid_size

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
        If the shape is not (n, 7) with n >= 1, a value is a bool or a
        string, a row breaks the size rule of :mod:`alphaflops.flops`
        (dimensions are integers from 1 to 2**31 - 1 and their product is at
        most 2**53 - 1), or a time is not positive and finite.
    """
    where = f"plot {plot_name!r}, line {line_index}"
    check_number_types(values, where)
    try:
        rows = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DatasetError(f"{where}: values are not numbers ({error}); write sizes and times as plain numbers") from None

    if rows.ndim != 2 or rows.shape[1] != len(LINE_COLUMNS):
        raise DatasetError(
            f"{where}: expected an array of shape (n, 7) with columns "
            f"{', '.join(LINE_COLUMNS)}, found shape {rows.shape}"
        )
    if rows.shape[0] == 0:
        raise DatasetError(f"{where}: the line has no rows; remove the empty line or add its measurements")

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


def check_number_types(values, where):
    """Raise DatasetError naming the first value of a line that is not a real number.

    ``values`` is the line as given: an array or a list of rows. Bools and
    strings are rejected, although numpy would convert them, because a
    size given as ``true`` or ``"4"`` is a mistake in the file. Integers too
    large for float64 are rejected here, because converting them raises
    ``OverflowError``.
    """
    if isinstance(values, np.ndarray):
        if values.dtype.kind == "O":
            values = values.tolist()
        elif values.dtype.kind not in "iuf":
            raise DatasetError(f"{where}: values must be numbers, found an array of dtype {values.dtype}")
        else:
            return
    if not isinstance(values, (list, tuple)):
        return  # the shape check reports anything else

    for row_index, row in enumerate(values):
        if isinstance(row, np.ndarray) or not isinstance(row, (list, tuple)):
            continue
        for column_index, value in enumerate(row):
            _check_number(value, f"{where}, row {row_index}", column_index)


def _check_number(value, where, column_index):
    is_time = column_index == len(ROW_COLUMNS)
    if is_time:
        name = "time"
    elif column_index < len(ROW_COLUMNS):
        name = ROW_COLUMNS[column_index]
    else:
        name = f"column {column_index}"

    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise DatasetError(
            f"{where}: {name} = {describe_value(value)} is a {type(value).__name__}, not a number; "
            "write sizes and times as plain numbers"
        )
    if not isinstance(value, numbers.Integral):
        return

    try:
        float(value)
    except OverflowError:
        rule = "a positive finite number" if is_time else f"an integer from 1 to {MAX_DIMENSION} (2**31 - 1)"
        raise DatasetError(
            f"{where}: {name} = {describe_value(value)} is too large; it must be {rule}, so fix or remove this row"
        ) from None


def check_dimensions(dims, where, scope="line"):
    """Raise DatasetError naming the first row that breaks the size rule of :mod:`alphaflops.flops`.

    ``scope`` names what ``dims`` is ("line" or "table") in the count of invalid rows.
    """
    found = find_invalid_size(dims)
    if found is None:
        return

    row, column, count = found
    if column is None:
        # Every size of this row is a whole number up to 2**31 - 1, so the integer product is exact.
        macs = math.prod(int(value) for value in dims[row])
        raise DatasetError(
            f"{where}, row {row}: the product H*W*Cin*Cout*K1*K2 = {macs} MACs is above the maximum "
            f"{MAX_ROW_MACS} (2**53 - 1) that float64 counts exactly ({count} invalid row(s) in this {scope}); "
            "fix or remove these rows"
        )
    raise DatasetError(
        f"{where}, row {row}: {ROW_COLUMNS[column]} = {float(dims[row, column])!r} is not a positive finite "
        f"integer of at most {MAX_DIMENSION} (2**31 - 1) ({count} invalid row(s) in this {scope}); "
        "fix or remove these rows"
    )


def check_time_value(value, where):
    """Return one time in ms as a float, or raise DatasetError unless it is a positive finite number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise DatasetError(f"{where}: time {describe_value(value)} is not a number; write it as a plain number")
    try:
        time_ms = float(value)
    except OverflowError:
        time_ms = float("inf")
    if not (np.isfinite(time_ms) and time_ms > 0):
        raise DatasetError(
            f"{where}: time {describe_value(value)} ms is not positive and finite; fix or remove this row"
        )
    return time_ms


def check_times(times, where, scope="line"):
    """Raise DatasetError naming the first row whose time is not positive and finite.

    ``scope`` names what ``times`` belong to ("line" or "table") in the count of invalid times.
    """
    valid = np.isfinite(times) & (times > 0)
    bad_rows = np.flatnonzero(~valid)
    if bad_rows.size == 0:
        return

    row = int(bad_rows[0])
    raise DatasetError(
        f"{where}, row {row}: time {float(times[row])!r} ms is not positive and finite "
        f"({bad_rows.size} invalid time(s) in this {scope}); measured times must be positive, "
        "so fix or remove these rows"
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
        f"found {dims[row].tolist()}; write a dense layer as (batch, 1, in_features, out_features, 1, 1), "
        "or mark the line as conv2d"
    )
