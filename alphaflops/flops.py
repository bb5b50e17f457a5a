"""FLOP and multiply-accumulate (MAC) counts of convolutions and dense layers.

Conventions used everywhere in alphaflops:

- One multiply-accumulate is ``FLOPS_PER_MAC = 2`` FLOPs (a multiply and an
  add). The published alpha-FLOPs model counts MACs instead, in millions;
  see :mod:`alphaflops.alpha`.
- A bias, when a layer has one, adds one FLOP per output element.
- ``taps="all"`` counts every kernel tap of every output element, padding
  included: output elements x kernel taps x input channels per group. This
  is the textbook count.
- ``taps="valid"`` skips the taps that land on padding (or, for an input
  dilated by ``lhs_dilation``, on the holes between input elements). This is
  the count that XLA's cost analysis reports, which
  ``jax.jit(f).lower(*args).compile().cost_analysis()["flops"]`` returns for
  a ``jax.lax.conv_general_dilated`` call (checked against jax 0.10 on CPU).
  Under "valid" padding with no input dilation both counts are equal.
- "same" and "valid" padding follow TensorFlow and XLA: with "same" the
  output has ``ceil(size / stride)`` positions and, when the total padding
  is odd, the extra row or column goes after (bottom, right).

Six-column rows ``(H, W, Cin, Cout, K1, K2)`` are the input of the cost
models; :func:`row_macs` is the product of the six columns.

Size rule, shared by layers (:mod:`alphaflops.layers`) and measured rows
(:mod:`alphaflops.datasets`): every layer argument and every row column is
an integer from 1 (0 for padding) to :data:`MAX_DIMENSION`, and the product
of a row's six columns is at most :data:`MAX_ROW_MACS`.
"""

import math
import numbers

import numpy as np

FLOPS_PER_MAC = 2

#: Largest accepted layer size, for every layer argument and row column:
#: the largest signed 32-bit integer, the type of a dimension in cuDNN's
#: tensor descriptors (``int n, c, h, w`` in ``cudnnSetTensor4dDescriptor``).
MAX_DIMENSION = 2**31 - 1

#: Largest accepted MAC count of one row (H*W*Cin*Cout*K1*K2). Below 2**53
#: every integer is exact in float64, so ``row_macs`` and ``row_flops`` (twice
#: the MACs) are exact.
MAX_ROW_MACS = 2**53 - 1

#: Integers with more digits than this are shortened in messages.
_MAX_SHOWN_DIGITS = 20

TAPS = ("all", "valid")


def check_taps(taps):
    """Raise ``ValueError`` unless ``taps`` is "all" or "valid"."""
    if taps not in TAPS:
        raise ValueError(f"taps must be 'all' or 'valid', got {taps!r}")


def describe_value(value):
    """Format a value for an error message: ``repr(value)``, shortened for huge integers and long strings.

    An integer of more than 20 digits becomes ``1234...6789 (400 digits)``.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        number = int(value)
        if abs(number) < 10**_MAX_SHOWN_DIGITS:
            return repr(number)
        sign = "-" if number < 0 else ""
        try:
            return sign + shorten_digits(str(abs(number)))
        except ValueError:
            # str() raises ValueError above sys.get_int_max_str_digits() digits (4300 by default).
            digits = int(abs(number).bit_length() * math.log10(2)) + 1
            return f"{sign}an integer of about {digits} digits"
    if isinstance(value, str) and len(value) > 2 * _MAX_SHOWN_DIGITS:
        return f"{value[:_MAX_SHOWN_DIGITS]!r}... ({len(value)} characters)"
    return repr(value)


def shorten_digits(digits):
    """Shorten a string of more than 20 digits to ``1234...6789 (400 digits)``."""
    if len(digits) <= _MAX_SHOWN_DIGITS:
        return digits
    return f"{digits[:4]}...{digits[-4:]} ({len(digits)} digits)"


def check_size(name, value, minimum=1):
    """Check a layer size and return it as an int; raise ``ValueError`` naming ``name`` and the value.

    Parameters
    ----------
    name : str
        Argument or column name for the message.
    value : int or float
        An integer from ``minimum`` to :data:`MAX_DIMENSION`. Integral floats
        (3.0, as JSON may give) are accepted. Bools and strings are not,
        because ``True`` or ``"4"`` given as a size is almost always a mistake.
    minimum : int, default 1
    """
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got the bool {value!r}")
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real) and float(value).is_integer():
        number = int(value)
    else:
        raise ValueError(f"{name} must be an integer, got {describe_value(value)}")

    if not minimum <= number <= MAX_DIMENSION:
        raise ValueError(
            f"{name} must be an integer from {minimum} to {MAX_DIMENSION} (2**31 - 1), got {describe_value(value)}"
        )
    return number


def check_row_sizes(columns, names):
    """Raise ``ValueError`` unless one row's columns follow the size rule.

    Parameters
    ----------
    columns : sequence of int
        The six columns of a layer's row, as exact Python ints.
    names : sequence of str
        How each column is computed from the layer's arguments, for the message.
    """
    for name, value in zip(names, columns):
        if value > MAX_DIMENSION:
            raise ValueError(
                f"the layer's row column {name} is {describe_value(value)}, above the maximum {MAX_DIMENSION} "
                "(2**31 - 1); use smaller sizes"
            )
    macs = math.prod(columns)
    if macs > MAX_ROW_MACS:
        raise ValueError(
            f"the layer has {describe_value(macs)} MACs, above the maximum {MAX_ROW_MACS} (2**53 - 1) "
            "that float64 counts exactly; use smaller sizes"
        )


def size_rule_masks(dims):
    """Return boolean masks of the values and the rows of a float array that follow the size rule.

    Parameters
    ----------
    dims : numpy.ndarray, shape (n, 6), float64
        Columns H, W, Cin, Cout, K1, K2.

    Returns
    -------
    valid_values : numpy.ndarray of bool, shape (n, 6)
        True where the value is a finite integer from 1 to :data:`MAX_DIMENSION`.
    valid_rows : numpy.ndarray of bool, shape (n,)
        True where every value of the row is valid and the row has at most
        :data:`MAX_ROW_MACS` MACs.
    """
    finite = np.isfinite(dims)
    whole = np.floor(np.where(finite, dims, 0.0)) == dims
    valid_values = finite & whole & (dims >= 1) & (dims <= MAX_DIMENSION)

    # With every column in range the float64 product cannot overflow. It is
    # below 2**53 exactly when the integer product is, because every partial
    # product below 2**53 is exact and rounding never moves a value across 2**53.
    macs = np.prod(np.where(valid_values, dims, 1.0), axis=1)
    valid_rows = valid_values.all(axis=1) & (macs <= MAX_ROW_MACS)
    return valid_values, valid_rows


def find_invalid_size(dims):
    """Locate the first row of a float array that breaks the size rule.

    Parameters
    ----------
    dims : numpy.ndarray, shape (n, 6), float64
        Columns H, W, Cin, Cout, K1, K2.

    Returns
    -------
    tuple (row, column, count) or None
        ``None`` when every row is valid. Otherwise the first invalid row,
        the first invalid column in it (``None`` when only the product of
        the columns is too large) and the number of invalid rows.
    """
    valid_values, valid_rows = size_rule_masks(dims)
    bad_rows = np.flatnonzero(~valid_rows)
    if bad_rows.size == 0:
        return None

    row = int(bad_rows[0])
    bad_columns = np.flatnonzero(~valid_values[row])
    column = int(bad_columns[0]) if bad_columns.size else None
    return row, column, int(bad_rows.size)


def same_padding(size, kernel, stride, dilation):
    """Return the (before, after) padding of one axis under "same" padding.

    The output has ``ceil(size / stride)`` positions; when the total padding
    is odd the extra element goes after, as in TensorFlow and XLA.
    """
    effective_kernel = (kernel - 1) * dilation + 1
    output_size = -(-size // stride)
    total = max((output_size - 1) * stride + effective_kernel - size, 0)
    return total // 2, total - total // 2


def conv_output_size(size, kernel, stride, dilation, padding, lhs_dilation=1):
    """Return the number of output positions along one axis.

    Parameters
    ----------
    size : int
        Input size along the axis, before ``lhs_dilation``.
    kernel, stride, dilation : int
        Kernel size, stride and kernel (rhs) dilation along the axis.
    padding : (int, int)
        Padding before and after the input.
    lhs_dilation : int, default 1
        Input dilation (the stride of a transposed convolution).
    """
    dilated_size = (size - 1) * lhs_dilation + 1 + padding[0] + padding[1]
    effective_kernel = (kernel - 1) * dilation + 1
    if dilated_size < effective_kernel:
        return 0
    return (dilated_size - effective_kernel) // stride + 1


def _count_outputs_in_range(output_size, stride, low, high):
    """Count output positions ``o`` in ``[0, output_size)`` with ``low <= o * stride <= high``."""
    first = max(-(-low // stride), 0)
    last = min(high // stride, output_size - 1)
    return max(last - first + 1, 0)


def valid_tap_pairs(size, kernel, stride, dilation, padding_before, output_size, lhs_dilation=1):
    """Count the (output position, kernel tap) pairs of one axis that land on input.

    A tap ``t`` of output position ``o`` reads the padded, dilated input at
    ``i = o * stride + t * dilation - padding_before``. The pair counts when
    ``i`` is a multiple of ``lhs_dilation`` and ``i / lhs_dilation`` lies in
    ``[0, size)``, i.e. when it reads an input element and not padding or a
    hole. The loop runs over taps, so the cost is O(kernel), or
    O(kernel x lhs_dilation) with input dilation.

    Returns
    -------
    int
        Between 0 and ``output_size * kernel``.
    """
    pairs = 0
    for tap in range(kernel):
        offset = tap * dilation - padding_before
        if lhs_dilation == 1:
            pairs += _count_outputs_in_range(output_size, stride, -offset, size - 1 - offset)
            continue

        # With input dilation only every lhs_dilation-th position contains an
        # element: count, for each element j, the outputs with o * stride == j * lhs_dilation - offset.
        pairs += _count_outputs_on_elements(size, stride, lhs_dilation, offset, output_size)
    return pairs


def _count_outputs_on_elements(size, stride, lhs_dilation, offset, output_size):
    """Count outputs ``o`` in range with ``o * stride + offset == j * lhs_dilation`` for some ``j`` in ``[0, size)``."""
    # o * stride + offset is a multiple of lhs_dilation for o in one residue
    # class modulo period = lhs_dilation / gcd(stride, lhs_dilation).
    period = lhs_dilation // math.gcd(stride, lhs_dilation)
    count = 0
    for residue in range(period):
        if (residue * stride + offset) % lhs_dilation:
            continue

        # Outputs o = residue + period * m; the read position must lie in
        # [0, (size - 1) * lhs_dilation].
        low = -offset - residue * stride
        high = (size - 1) * lhs_dilation - offset - residue * stride
        step = period * stride
        remaining = output_size - residue
        if remaining <= 0:
            continue
        count += _count_outputs_in_range(-(-remaining // period), step, low, high)
    return count


def conv_macs(
    batch,
    out_channels,
    in_channels_per_group,
    input_size,
    kernel_size,
    stride,
    dilation,
    padding,
    lhs_dilation=None,
    taps="all",
):
    """Count the multiply-accumulates of an N-dimensional convolution.

    Parameters
    ----------
    batch : int
        Output batch size (the input batch divided by any batch group count).
    out_channels : int
        Output features.
    in_channels_per_group : int
        Input features that each output feature reads (Cin / groups).
    input_size, kernel_size, stride, dilation : sequence of int
        Per spatial axis, in the same order. ``dilation`` is the kernel
        (rhs) dilation.
    padding : sequence of (int, int)
        Explicit padding before and after, per spatial axis.
    lhs_dilation : sequence of int, optional
        Input dilation per axis; ones by default.
    taps : {"all", "valid"}, default "all"
        See the module docstring.

    Returns
    -------
    int
        MACs; multiply by :data:`FLOPS_PER_MAC` for FLOPs.
    """
    check_taps(taps)
    if lhs_dilation is None:
        lhs_dilation = (1,) * len(input_size)

    spatial = 1
    for axis, size in enumerate(input_size):
        output_size = conv_output_size(
            size, kernel_size[axis], stride[axis], dilation[axis], padding[axis], lhs_dilation[axis]
        )
        if taps == "all":
            spatial *= output_size * kernel_size[axis]
        else:
            spatial *= valid_tap_pairs(
                size,
                kernel_size[axis],
                stride[axis],
                dilation[axis],
                padding[axis][0],
                output_size,
                lhs_dilation[axis],
            )
    return batch * out_channels * in_channels_per_group * spatial


def conv2d_macs(height, width, in_channels, out_channels, kernel_size, taps="all", **options):
    """Count the MACs of a 2-D convolution given :class:`alphaflops.Conv2D` arguments.

    ``options`` are the other ``Conv2D`` arguments (stride, padding,
    dilation, groups, batch); invalid values raise ``ValueError``.
    """
    from alphaflops.layers import Conv2D

    layer = Conv2D(height, width, in_channels, out_channels, kernel_size, **options)
    return layer.macs(taps)


def dense_macs(in_features, out_features, batch=1, taps="all"):
    """Count the MACs of a dense layer: ``batch * in_features * out_features``.

    ``taps`` is accepted for symmetry with convolutions; both counts agree.
    """
    from alphaflops.layers import Dense

    return Dense(in_features, out_features, batch=batch).macs(taps)


MAC_COUNTERS = {"conv2d": conv2d_macs, "dense": dense_macs}
"""Counters by layer kind; each takes that layer's constructor arguments (without ``bias``) and ``taps``."""


def as_rows(X, name="X"):
    """Return ``X`` as a float64 (n, 6) array of positive, finite layer rows.

    A single row of shape (6,) becomes (1, 6). Raises ``ValueError`` naming
    the first bad row otherwise.
    """
    rows = np.asarray(X, dtype=np.float64)
    if rows.ndim == 1:
        rows = rows.reshape(1, -1)
    if rows.ndim != 2 or rows.shape[1] != 6:
        raise ValueError(
            f"{name} must have shape (n, 6) with columns H, W, Cin, Cout, K1, K2, got shape {np.shape(X)}"
        )

    bad = ~(np.isfinite(rows) & (rows > 0)).all(axis=1)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} row {index} has a non-positive or non-finite size: {rows[index].tolist()}"
        )
    return rows


def row_macs(X):
    """Return the MACs of each six-column row, ``H * W * Cin * Cout * K1 * K2``.

    Parameters
    ----------
    X : array_like, shape (n, 6) or (6,)
        Columns H, W, Cin, Cout, K1, K2.

    Returns
    -------
    numpy.ndarray, shape (n,), float64
    """
    return np.prod(as_rows(X), axis=1)


def row_flops(X):
    """Return the FLOPs of each six-column row: ``FLOPS_PER_MAC * row_macs(X)``, shape (n,)."""
    return FLOPS_PER_MAC * row_macs(X)
