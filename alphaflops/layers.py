"""Layer descriptions: 2-D convolutions and dense layers.

A layer provides its output shape, its MAC and FLOP counts (conventions in
:mod:`alphaflops.flops`) and its six-column row ``(H, W, Cin, Cout, K1, K2)``,
the input of the cost models:

- ``Conv2D`` -> ``(batch * H_out, W_out, in_channels / groups, out_channels,
  K1, K2)``. The batch is folded into the first spatial axis, and stride,
  padding and dilation act through the output size. A convolution with
  "same" padding, stride 1 and batch 1 gives ``(H, W, Cin, Cout, K1, K2)``,
  a row of the published measurements.
- ``Dense(in_features, out_features, batch)`` -> ``(batch, 1, in_features,
  out_features, 1, 1)``, the way the published measurements store dense
  layers (as 1x1 convolutions).

The product of a row's columns equals ``macs(taps="all")`` of its layer.
Layers follow the size rule of :mod:`alphaflops.flops`: every argument and
row column is at most ``MAX_DIMENSION`` (2**31 - 1) and the MACs of the row
at most ``MAX_ROW_MACS`` (2**53 - 1), so float64 FLOP counts are exact.
"""

import dataclasses

import numpy as np

from alphaflops import flops as _flops

PADDING_NAMES = ("same", "valid")


def _check_int(name, value, minimum=1):
    """Return ``value`` as an int under the size rule of :func:`alphaflops.flops.check_size`."""
    return _flops.check_size(name, value, minimum)


def _is_pair(value):
    return isinstance(value, (tuple, list)) and len(value) == 2


def _check_int_or_pair(name, value):
    """Return ``value`` as an int or a tuple of two ints, all positive."""
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {_flops.describe_value(value)}")
        return (_check_int(f"{name}[0]", value[0]), _check_int(f"{name}[1]", value[1]))
    return _check_int(name, value)


def _as_pair(value):
    return value if isinstance(value, tuple) else (value, value)


def _check_padding(value):
    """Return a normalised padding: "same", "valid", an int, a pair or a pair of pairs."""
    if isinstance(value, str):
        if value.lower() not in PADDING_NAMES:
            raise ValueError(f"padding must be 'same', 'valid', an int or pairs of ints, got {value!r}")
        return value.lower()

    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (tuple, list)):
        if len(value) == 2 and all(_is_pair(side) for side in value):
            return tuple(
                (
                    _check_int(f"padding[{axis}][0]", side[0], minimum=0),
                    _check_int(f"padding[{axis}][1]", side[1], minimum=0),
                )
                for axis, side in enumerate(value)
            )
        if len(value) == 2 and not any(isinstance(side, (tuple, list)) for side in value):
            return (_check_int("padding[0]", value[0], minimum=0), _check_int("padding[1]", value[1], minimum=0))
        raise ValueError(
            "padding must be 'same', 'valid', an int, a pair (height, width) or "
            f"((top, bottom), (left, right)), got {value!r}"
        )
    return _check_int("padding", value, minimum=0)


@dataclasses.dataclass(frozen=True)
class Conv2D:
    """A 2-D convolution on an NHWC input.

    Parameters
    ----------
    height, width : int
        Input spatial size.
    in_channels, out_channels : int
        Input and output features; both must be divisible by ``groups``.
    kernel_size : int or (int, int)
        Kernel height and width (K1, K2).
    stride : int or (int, int), default 1
    padding : "same", "valid", int, (int, int) or ((int, int), (int, int)), default "same"
        "same" and "valid" follow TensorFlow/XLA (extra padding after). An
        int pads every side, a pair pads (height, width) on both sides, and
        ``((top, bottom), (left, right))`` gives every side.
    dilation : int or (int, int), default 1
        Kernel dilation.
    groups : int, default 1
        Feature groups; ``groups == in_channels`` is a depthwise convolution.
    bias : bool, default False
        Whether a bias is added (one FLOP per output element).
    batch : int, default 1

    Raises
    ------
    ValueError
        For a size that is not an integer from 1 (0 for padding) to
        2**31 - 1, channels not divisible by ``groups``, an unknown padding
        form, a (dilated) kernel larger than the padded input, or a row
        beyond the size rule (see the module docstring). The message names
        the argument and value.
    """

    height: int
    width: int
    in_channels: int
    out_channels: int
    kernel_size: "int | tuple[int, int]"
    stride: "int | tuple[int, int]" = 1
    padding: "str | int | tuple" = "same"
    dilation: "int | tuple[int, int]" = 1
    groups: int = 1
    bias: bool = False
    batch: int = 1

    kind = "conv2d"

    def __post_init__(self):
        for name in ("height", "width", "in_channels", "out_channels", "groups", "batch"):
            object.__setattr__(self, name, _check_int(name, getattr(self, name)))
        for name in ("kernel_size", "stride", "dilation"):
            object.__setattr__(self, name, _check_int_or_pair(name, getattr(self, name)))
        object.__setattr__(self, "padding", _check_padding(self.padding))
        if not isinstance(self.bias, (bool, np.bool_)):
            raise ValueError(f"bias must be True or False, got {self.bias!r}")
        object.__setattr__(self, "bias", bool(self.bias))

        self._check_groups()
        self._check_kernel_fits()
        out_height, out_width = self.output_hw
        _flops.check_row_sizes(
            (self.batch * out_height, out_width, self.in_channels // self.groups, self.out_channels, *self.kernel_pair),
            ("H = batch * out_height", "W = out_width", "Cin / groups", "Cout", "K1", "K2"),
        )

    def _check_groups(self):
        for name in ("in_channels", "out_channels"):
            channels = getattr(self, name)
            if channels % self.groups:
                raise ValueError(
                    f"{name}={channels} is not divisible by groups={self.groups}; "
                    "both channel counts must be multiples of groups"
                )

    def _check_kernel_fits(self):
        sizes = (self.height, self.width)
        for axis, name in enumerate(("height", "width")):
            effective = (self.kernel_pair[axis] - 1) * self.dilation_pair[axis] + 1
            padded = sizes[axis] + sum(self.padding_pairs[axis])
            if effective > padded:
                raise ValueError(
                    f"kernel_size={self.kernel_size!r} with dilation={self.dilation!r} spans {effective} "
                    f"positions along the {name}, more than the padded input ({padded}); "
                    "use a smaller kernel or dilation, or more padding"
                )

    @property
    def kernel_pair(self):
        """Kernel size as (K1, K2)."""
        return _as_pair(self.kernel_size)

    @property
    def stride_pair(self):
        """Stride as (height, width)."""
        return _as_pair(self.stride)

    @property
    def dilation_pair(self):
        """Kernel dilation as (height, width)."""
        return _as_pair(self.dilation)

    @property
    def padding_pairs(self):
        """Explicit padding ``((top, bottom), (left, right))``."""
        padding = self.padding
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding == "same":
            return tuple(
                _flops.same_padding(size, self.kernel_pair[axis], self.stride_pair[axis], self.dilation_pair[axis])
                for axis, size in enumerate((self.height, self.width))
            )
        if isinstance(padding, int):
            return ((padding, padding), (padding, padding))
        if isinstance(padding[0], int):
            return ((padding[0], padding[0]), (padding[1], padding[1]))
        return padding

    @property
    def output_hw(self):
        """Output spatial size (out_height, out_width)."""
        return tuple(
            _flops.conv_output_size(
                size, self.kernel_pair[axis], self.stride_pair[axis], self.dilation_pair[axis], self.padding_pairs[axis]
            )
            for axis, size in enumerate((self.height, self.width))
        )

    @property
    def output_shape(self):
        """Output shape (batch, out_height, out_width, out_channels), NHWC."""
        return (self.batch, *self.output_hw, self.out_channels)

    def macs(self, taps="all"):
        """Count multiply-accumulates.

        Parameters
        ----------
        taps : {"all", "valid"}, default "all"
            "all" counts every kernel tap, padding included; "valid" skips
            taps on padding (the count of XLA's cost analysis).

        Returns
        -------
        int
        """
        return _flops.conv_macs(
            batch=self.batch,
            out_channels=self.out_channels,
            in_channels_per_group=self.in_channels // self.groups,
            input_size=(self.height, self.width),
            kernel_size=self.kernel_pair,
            stride=self.stride_pair,
            dilation=self.dilation_pair,
            padding=self.padding_pairs,
            taps=taps,
        )

    def flops(self, taps="all"):
        """Count FLOPs: ``2 * macs(taps)`` plus one per output element when ``bias`` is set."""
        bias_flops = int(np.prod(self.output_shape)) if self.bias else 0
        return _flops.FLOPS_PER_MAC * self.macs(taps) + bias_flops

    def to_row(self):
        """Return the six-column row ``(batch * H_out, W_out, Cin / groups, Cout, K1, K2)`` as float64."""
        return conv_row(self.batch, self.output_hw, self.in_channels // self.groups, self.out_channels, self.kernel_pair)

    def to_spec(self):
        """Return a JSON-ready dict ``{"kind": "conv2d", <constructor arguments>}``."""
        spec = {"kind": self.kind}
        for field in dataclasses.fields(self):
            spec[field.name] = _to_json_value(getattr(self, field.name))
        return spec


@dataclasses.dataclass(frozen=True)
class Dense:
    """A dense (fully connected) layer: ``[batch, in_features] x [in_features, out_features]``.

    Parameters
    ----------
    in_features, out_features : int
    batch : int, default 1
    bias : bool, default False
        Whether a bias is added (one FLOP per output element).

    Raises
    ------
    ValueError
        For a size that is not an integer from 1 to 2**31 - 1, or more than
        2**53 - 1 MACs. The message names the argument and value.
    """

    in_features: int
    out_features: int
    batch: int = 1
    bias: bool = False

    kind = "dense"

    def __post_init__(self):
        for name in ("in_features", "out_features", "batch"):
            object.__setattr__(self, name, _check_int(name, getattr(self, name)))
        if not isinstance(self.bias, (bool, np.bool_)):
            raise ValueError(f"bias must be True or False, got {self.bias!r}")
        object.__setattr__(self, "bias", bool(self.bias))
        _flops.check_row_sizes((self.batch, self.in_features, self.out_features), ("batch", "in_features", "out_features"))

    @property
    def output_shape(self):
        """Output shape (batch, out_features)."""
        return (self.batch, self.out_features)

    def macs(self, taps="all"):
        """Count multiply-accumulates, ``batch * in_features * out_features``.

        ``taps`` is accepted for symmetry with :class:`Conv2D`; a dense layer
        has no padding, so both counts agree.
        """
        _flops.check_taps(taps)
        return self.batch * self.in_features * self.out_features

    def flops(self, taps="all"):
        """Count FLOPs: ``2 * macs()`` plus ``batch * out_features`` when ``bias`` is set."""
        bias_flops = self.batch * self.out_features if self.bias else 0
        return _flops.FLOPS_PER_MAC * self.macs(taps) + bias_flops

    def to_row(self):
        """Return the six-column row ``(batch, 1, in_features, out_features, 1, 1)`` as float64."""
        return dense_row(self.batch, self.in_features, self.out_features)

    def to_spec(self):
        """Return a JSON-ready dict ``{"kind": "dense", <constructor arguments>}``."""
        spec = {"kind": self.kind}
        for field in dataclasses.fields(self):
            spec[field.name] = _to_json_value(getattr(self, field.name))
        return spec


def conv_row(batch, output_size, in_channels_per_group, out_channels, kernel_size):
    """Map a 1-D or 2-D convolution to its six-column row.

    The row is ``(batch * H_out, W_out, Cin / groups, Cout, K1, K2)``: the
    batch is folded into the first spatial axis, and stride, padding and
    dilation act only through the output size. A 1-D convolution is a 2-D
    one of width 1 and kernel width 1.

    NOTE: this function does not apply the size rule of the module docstring.
    ``Conv2D`` applies it, but rows that :mod:`alphaflops.estimation` builds
    from traced JAX programs are not checked.

    Parameters
    ----------
    batch : int
        Output batch size.
    output_size : sequence of int
        Output spatial size, one or two values.
    in_channels_per_group, out_channels : int
    kernel_size : sequence of int
        Kernel spatial size, as many values as ``output_size``.

    Returns
    -------
    numpy.ndarray, shape (6,), float64
    """
    if len(output_size) not in (1, 2) or len(kernel_size) != len(output_size):
        raise ValueError(
            f"a six-column row describes 1-D or 2-D convolutions, got output size {tuple(output_size)} "
            f"and kernel size {tuple(kernel_size)}"
        )
    output_size = (*output_size, 1)[:2]
    kernel_size = (*kernel_size, 1)[:2]
    return np.array(
        [batch * output_size[0], output_size[1], in_channels_per_group, out_channels, *kernel_size],
        dtype=np.float64,
    )


def dense_row(rows, in_features, out_features):
    """Map a matrix product ``[rows, in_features] x [in_features, out_features]`` to ``(rows, 1, in, out, 1, 1)``.

    A batched product ``[b, m, k] x [k, n]`` has ``rows = b * m``.
    """
    return np.array([rows, 1, in_features, out_features, 1, 1], dtype=np.float64)


def _to_json_value(value):
    if isinstance(value, tuple):
        return [_to_json_value(item) for item in value]
    return value


LAYER_KINDS = {"conv2d": Conv2D, "dense": Dense}


class IntegerTooLongError(ValueError):
    """A JSON integer literal with more digits than ``int()`` converts (``sys.get_int_max_str_digits()``).

    ``literal`` is the literal's text.
    """

    def __init__(self, literal):
        self.literal = literal
        super().__init__(
            f"the integer {_flops.shorten_digits(literal.lstrip('-'))} is too large; layer sizes must be "
            f"integers from 1 to {_flops.MAX_DIMENSION} (2**31 - 1)"
        )


def parse_json_integer(literal):
    """Convert a JSON integer literal, for ``json.loads(text, parse_int=parse_json_integer)``.

    Raises
    ------
    IntegerTooLongError
        For a literal longer than Python converts (4300 digits by default),
        in place of Python's message, which names an interpreter setting.
    """
    try:
        return int(literal)
    except ValueError:
        raise IntegerTooLongError(literal) from None


def layer_from_spec(spec):
    """Build a layer from a dict ``{"kind": "conv2d" | "dense", <constructor arguments>}``.

    Raises
    ------
    ValueError
        When ``kind`` is missing or unknown, a field is unknown or missing, or
        a value is invalid; the message names the field.
    """
    if not isinstance(spec, dict):
        raise ValueError(f"a layer spec must be a JSON object (dict), got {type(spec).__name__}")
    if "kind" not in spec:
        raise ValueError(f"layer spec has no 'kind' field; expected one of {sorted(LAYER_KINDS)}")

    kind = spec["kind"]
    layer_class = LAYER_KINDS.get(kind)
    if layer_class is None:
        raise ValueError(f"kind {kind!r} is unknown; expected one of {sorted(LAYER_KINDS)}")

    arguments = {key: value for key, value in spec.items() if key != "kind"}
    field_names = [field.name for field in dataclasses.fields(layer_class)]
    unknown = sorted(set(arguments) - set(field_names))
    if unknown:
        raise ValueError(f"field {unknown[0]!r} is unknown for kind {kind!r}; expected fields {field_names}")
    required = [field.name for field in dataclasses.fields(layer_class) if field.default is dataclasses.MISSING]
    missing = [name for name in required if name not in arguments]
    if missing:
        raise ValueError(f"field {missing[0]!r} is missing for kind {kind!r}")
    return layer_class(**arguments)


def layer_from_row(row, kind="conv2d"):
    """Build the layer that a published six-column row describes.

    Parameters
    ----------
    row : array_like, shape (6,)
        H, W, Cin, Cout, K1, K2.
    kind : {"conv2d", "dense"}, default "conv2d"
        "conv2d" gives a convolution with "same" padding, stride 1 and batch
        1. "dense" reads H as the batch and needs W = K1 = K2 = 1.

    Returns
    -------
    Conv2D or Dense
    """
    try:
        values = np.asarray(row, dtype=np.float64).ravel()
    except OverflowError:
        raise ValueError(
            f"row values must be integers from 1 to {_flops.MAX_DIMENSION} (2**31 - 1); an integer in the row "
            "is too large for float64"
        ) from None
    if values.shape != (6,):
        raise ValueError(f"row must have 6 values H, W, Cin, Cout, K1, K2, got shape {np.shape(row)}")
    names = ("H", "W", "Cin", "Cout", "K1", "K2")
    height, width, in_channels, out_channels, k1, k2 = (
        _check_int(f"row {name}", value) for name, value in zip(names, values.tolist())
    )

    if kind == "conv2d":
        return Conv2D(height, width, in_channels, out_channels, (k1, k2))
    if kind == "dense":
        if (width, k1, k2) != (1, 1, 1):
            raise ValueError(f"a dense row needs W = K1 = K2 = 1, got {values.tolist()}")
        return Dense(in_channels, out_channels, batch=height)
    raise ValueError(f"kind {kind!r} is unknown; expected one of {sorted(LAYER_KINDS)}")


def layers_to_rows(layers):
    """Map layers to six-column rows, the input of the cost models.

    Parameters
    ----------
    layers : iterable of Conv2D or Dense

    Returns
    -------
    numpy.ndarray, shape (n, 6), float64
        Columns H, W, Cin, Cout, K1, K2; see the module docstring.
    """
    rows = [layer.to_row() for layer in layers]
    if not rows:
        return np.zeros((0, 6), dtype=np.float64)
    return np.vstack(rows)
