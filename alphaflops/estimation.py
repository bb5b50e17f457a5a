"""Cost estimates of whole networks: JAX functions and layer lists.

:func:`estimate` traces a JAX function with ``jax.make_jaxpr`` (nothing is
executed), finds every convolution (``conv_general_dilated``) and matrix
product (``dot_general``), counts their FLOPs and, given a fitted cost
model, predicts their time. :func:`estimate_layers` does the same for a
list of :class:`~alphaflops.Conv2D` and :class:`~alphaflops.Dense` layers.

Each layer maps to the six-column model row as the published measurements
store layers (see :mod:`alphaflops.layers`): a convolution to
``(N * H_out, W_out, Cin / groups, Cout, K1, K2)`` and a matrix product
``[b, m, k] x [k, n]`` to ``(b * m, 1, k, n, 1, 1)``. A 1-D convolution is a
2-D one of width 1.

Totals and loops:

- ``scan`` bodies count ``length`` times. XLA's cost analysis counts a loop
  body once, so for a program with ``scan`` the totals here are larger than
  ``cost_analysis()["flops"]``.
- ``while`` bodies count once, because the trip count is unknown when
  tracing; ``Estimate.has_while_loop`` is then True and the layers inside
  have ``in_while_loop`` set.
- ``cond`` branches are all reported, but the totals count only the most
  expensive branch (by predicted time with a model, by FLOPs without). The
  layers of the other branches have ``counted`` set to False.

For a loop-free program of convolutions and matrix products only,
``total_flops_valid_taps`` equals XLA's ``cost_analysis()["flops"]``
(checked with jax 0.10 on CPU). The exception is a degenerate product that
XLA's simplifier rewrites first: a contraction over one element becomes a
multiply, and a vector-vector product a multiply and a reduction.

NOTE: for a convolution with ``batch_group_count`` above 1 (weight
gradients of grouped convolutions), the count here is the arithmetic the
operation needs. XLA on CPU may lower it as a full convolution plus selects
and then count up to ``batch_group_count`` times more.
"""

import csv
import dataclasses
import functools
import json
import math
import numbers
import os

import numpy as np

from alphaflops import _jaxpr
from alphaflops import flops as _flops
from alphaflops.alpha import published_alpha
from alphaflops.layers import Conv2D, Dense, conv_row, dense_row, layer_from_spec

DEFAULT_FITTED_KINDS = ("conv2d", "dense")
"""Layer kinds a model is taken to be fitted on when it has no ``layer_kinds_`` attribute."""

JOULES_PER_KWH = 3.6e6

ROW_COLUMNS = ("H", "W", "Cin", "Cout", "K1", "K2")

# The convolution fields of a LayerEstimate, which are all None for a matrix product.
_NO_CONVOLUTION_WINDOW = dict(
    stride=None, padding=None, dilation=None, lhs_dilation=None, groups=None, batch_groups=None
)


@dataclasses.dataclass
class LayerEstimate:
    """Counts and predicted cost of one convolution or matrix product.

    Shapes are in the operands' own layouts. Counts are for one execution;
    the totals multiply them by ``repeats``.

    Attributes
    ----------
    index : int
        Position in :attr:`Estimate.layers`.
    kind : str
        "conv2d", "conv1d" or "dense" (every matrix product).
    variant : str or None
        "transposed" for an input-dilated convolution, "batch_grouped" for a
        convolution with a batch group count above 1 (as in weight
        gradients), None otherwise.
    primitive : str or None
        The JAX primitive, or None for a layer from a layer list.
    path : str
        Where the operation sits in the program, e.g. "jit(block)/scan(length=4)".
    lhs_shape, rhs_shape, output_shape : tuple of int
        Input (or left operand), kernel (or right operand) and output shapes.
    dimension_numbers : str or None
        JAX dimension numbers of the operation.
    stride, padding, dilation, lhs_dilation : tuple or None
        Convolution window: per spatial axis, ``padding`` as (before, after)
        pairs and ``dilation`` for the kernel.
    groups, batch_groups : int or None
        Feature and batch group counts of a convolution.
    batch : int
        Output batch size (the product of the batch dimensions for a matrix
        product).
    row : tuple of float
        The six-column model row (H, W, Cin, Cout, K1, K2).
    macs, flops, flops_valid_taps : int
        Multiply-accumulates, FLOPs counting every kernel tap and FLOPs
        counting only taps on input (see :mod:`alphaflops.flops`). For a
        layer from a layer list, a bias adds one FLOP per output element.
    alpha : float or None
        Alpha factor of the row with the published constants; None for an
        empty operation.
    repeats : int
        Executions per call of the program (the product of the enclosing
        ``scan`` lengths).
    in_while_loop : bool
        Inside a ``while`` loop, whose trip count is unknown.
    counted : bool
        Included in the totals; False in a ``cond`` branch that is not the
        most expensive.
    predicted_ms : float or None
        Predicted time of one execution in milliseconds, with a model.
    extrapolated : bool or None
        True when the row lies outside the model's fitted range or the kind
        or variant is not one the model was fitted on. None without a model,
        or when the model has no fitted range and the kind is a fitted one.
    joules, kwh : float or None
        Energy of one execution at the given power.
    """

    index: int
    kind: str
    variant: "str | None"
    primitive: "str | None"
    path: str
    lhs_shape: tuple
    rhs_shape: tuple
    output_shape: tuple
    dimension_numbers: "str | None"
    stride: "tuple | None"
    padding: "tuple | None"
    dilation: "tuple | None"
    lhs_dilation: "tuple | None"
    groups: "int | None"
    batch_groups: "int | None"
    batch: int
    row: tuple
    macs: int
    flops: int
    flops_valid_taps: int
    alpha: "float | None" = None
    repeats: int = 1
    in_while_loop: bool = False
    counted: bool = True
    predicted_ms: "float | None" = None
    extrapolated: "bool | None" = None
    joules: "float | None" = None
    kwh: "float | None" = None

    def to_dict(self):
        """Return the record as a JSON-ready dict (tuples become lists)."""
        return {field.name: _to_json(getattr(self, field.name)) for field in dataclasses.fields(self)}


@dataclasses.dataclass
class Estimate:
    """Estimated cost of a network.

    Attributes
    ----------
    layers : list of LayerEstimate
    total_macs, total_flops, total_flops_valid_taps : int
        Sums over counted layers of the per-execution count times ``repeats``.
    total_ms : float or None
        Predicted time in milliseconds; None without a model.
    total_joules, total_kwh : float or None
        Energy at ``power_watts``; None without a power.
    power_watts : float or None
        Assumed constant power draw.
    unsupported : dict
        Primitive name -> executions of primitives that do arithmetic but
        have no formula here (elementwise, reductions, FFT, ...). Their cost
        is not in the totals.
    unsupported_elements : dict
        Primitive name -> output elements those executions produce, a rough
        measure of the work left out.
    has_while_loop : bool
        The program has a ``while`` loop, counted once.
    notes : list of str
        Operations left out of the layers and why.
    """

    layers: list
    total_macs: int
    total_flops: int
    total_flops_valid_taps: int
    total_ms: "float | None"
    total_joules: "float | None"
    total_kwh: "float | None"
    power_watts: "float | None"
    unsupported: dict
    unsupported_elements: dict
    has_while_loop: bool
    notes: list

    def to_rows(self):
        """Return the six-column rows of all layers, shape (n, 6), float64."""
        if not self.layers:
            return np.zeros((0, 6), dtype=np.float64)
        return np.array([layer.row for layer in self.layers], dtype=np.float64)

    def to_dict(self):
        """Return the estimate as a JSON-ready dict."""
        data = {field.name: _to_json(getattr(self, field.name)) for field in dataclasses.fields(self)}
        data["layers"] = [layer.to_dict() for layer in self.layers]
        return data

    def to_json(self, path):
        """Write :meth:`to_dict` to ``path`` as indented JSON."""
        with open(path, "w", encoding="utf-8") as file:
            json.dump(self.to_dict(), file, indent=2)
            file.write("\n")

    def to_csv(self, path):
        """Write one CSV row per layer.

        The model row becomes six columns H, W, Cin, Cout, K1, K2; other
        tuples are written as JSON lists and None as an empty cell.
        """
        names = [field.name for field in dataclasses.fields(LayerEstimate) if field.name != "row"]
        with open(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow([*names[:1], *ROW_COLUMNS, *names[1:]])
            for layer in self.layers:
                values = layer.to_dict()
                cells = [_csv_value(values[name]) for name in names]
                sizes = [int(size) for size in layer.row]
                writer.writerow([*cells[:1], *sizes, *cells[1:]])

    def format_table(self):
        """Return an aligned text table: one line per layer, then the totals."""
        from alphaflops._estimate_table import format_estimate

        return format_estimate(self)


def _to_json(value):
    if isinstance(value, tuple):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    return value


def _csv_value(value):
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if value is None:
        return ""
    return value


# Public entry points ---------------------------------------------------------


def estimate(fn, *example_args, model=None, power_watts=None, **kwargs):
    """Estimate the FLOPs and, with a model, the time of a JAX function.

    ``fn`` is traced with ``jax.make_jaxpr`` on the example arguments and
    never executed; arrays, ``jax.ShapeDtypeStruct`` objects and pytrees of
    them all work. Keyword arguments are bound with ``functools.partial``
    before tracing, so they may be static Python values. Keywords named
    ``model`` or ``power_watts`` go to this function, not to ``fn``.

    Parameters
    ----------
    fn : callable
    *example_args
        Arguments with the shapes and dtypes to estimate for.
    model : estimator, str or path-like, optional
        A fitted cost model (any object with ``predict(X)`` on six-column
        rows returning milliseconds) or the path of a model file for
        :func:`alphaflops.load_model`. Without one, times are None.
    power_watts : float, optional
        Assumed constant power draw of the GPU in watts; adds joules and
        kWh (predicted time x power). Needs a model.
    **kwargs
        Keyword arguments of ``fn``.

    Returns
    -------
    Estimate
    """
    import jax

    model = _resolve_model(model)
    power_watts = _check_power(power_watts, model)
    if kwargs:
        fn = functools.partial(fn, **kwargs)

    walk = _jaxpr.collect_operations(jax.make_jaxpr(fn)(*example_args))
    layers, notes = [], []
    items = _records_from_items(walk.items, layers, notes, walk.unsupported)
    return _finish(
        layers,
        items,
        model,
        power_watts,
        unsupported=dict(walk.unsupported),
        unsupported_elements=dict(walk.unsupported_elements),
        has_while_loop=walk.has_while_loop,
        notes=notes,
    )


def estimate_layers(layers, model=None, power_watts=None):
    """Estimate the FLOPs and, with a model, the time of a list of layers.

    Parameters
    ----------
    layers : iterable of Conv2D, Dense or dict
        Layers, or layer specs ``{"kind": "conv2d" | "dense", ...}`` with the
        constructor arguments.
    model : estimator, str or path-like, optional
        As for :func:`estimate`.
    power_watts : float, optional
        As for :func:`estimate`.

    Returns
    -------
    Estimate

    Raises
    ------
    ValueError
        For an invalid spec; the message names its index and field.
    """
    model = _resolve_model(model)
    power_watts = _check_power(power_watts, model)
    records = [_record_from_layer(index, layer) for index, layer in enumerate(_as_layers(layers))]
    return _finish(records, list(records), model, power_watts, {}, {}, False, [])


def layers_from_specs(specs):
    """Build layers from a list of specs, naming the index of an invalid one.

    Raises
    ------
    ValueError
        ``"layer 3: field 'kernel_size' ..."`` for an invalid spec, or when
        ``specs`` is not a list.
    """
    if not isinstance(specs, (list, tuple)):
        raise ValueError(f"layer specs must be a list of objects, got {type(specs).__name__}")
    return _as_layers(specs)


def _as_layers(layers):
    result = []
    for index, layer in enumerate(layers):
        if isinstance(layer, (Conv2D, Dense)):
            result.append(layer)
            continue
        try:
            result.append(layer_from_spec(layer))
        except ValueError as error:
            raise ValueError(f"layer {index}: {error}") from None
    return result


def _resolve_model(model):
    if model is None:
        return None
    if isinstance(model, (str, os.PathLike)):
        from alphaflops.models import load_model

        return load_model(model)
    if not callable(getattr(model, "predict", None)):
        raise TypeError(
            f"model must be a fitted estimator with predict(X) or a model file path, got {type(model).__name__}"
        )
    return model


def _check_power(power_watts, model):
    if power_watts is None:
        return None
    if isinstance(power_watts, bool) or not isinstance(power_watts, numbers.Real):
        raise ValueError(f"power_watts must be a number of watts, got {power_watts!r}")
    if not math.isfinite(power_watts) or power_watts <= 0:
        raise ValueError(f"power_watts must be positive and finite, got {power_watts!r}")
    if model is None:
        raise ValueError("power_watts needs a model: energy is predicted time x power")
    return float(power_watts)


# Records -------------------------------------------------------------------


def _record_from_layer(index, layer):
    """Describe a Conv2D or Dense as a LayerEstimate."""
    common = dict(
        index=index,
        variant=None,
        primitive=None,
        path="",
        row=tuple(layer.to_row().tolist()),
        macs=layer.macs("all"),
        flops=layer.flops("all"),
        flops_valid_taps=layer.flops("valid"),
    )
    if isinstance(layer, Dense):
        return LayerEstimate(
            kind="dense",
            lhs_shape=(layer.batch, layer.in_features),
            rhs_shape=(layer.in_features, layer.out_features),
            output_shape=layer.output_shape,
            dimension_numbers=None,
            **_NO_CONVOLUTION_WINDOW,
            batch=layer.batch,
            **common,
        )
    return LayerEstimate(
        kind="conv2d",
        lhs_shape=(layer.batch, layer.height, layer.width, layer.in_channels),
        rhs_shape=(*layer.kernel_pair, layer.in_channels // layer.groups, layer.out_channels),
        output_shape=layer.output_shape,
        dimension_numbers="NHWC, HWIO, NHWC",
        stride=layer.stride_pair,
        padding=layer.padding_pairs,
        dilation=layer.dilation_pair,
        lhs_dilation=(1, 1),
        groups=layer.groups,
        batch_groups=1,
        batch=layer.batch,
        **common,
    )


def _records_from_items(items, layers, notes, unsupported):
    """Turn walked items into LayerEstimate records, keeping the cond structure.

    Records are appended to ``layers`` in program order; the returned tree
    has records where the walk had operations.
    """
    tree = []
    for item in items:
        if isinstance(item, _jaxpr.Branches):
            branches = [_records_from_items(branch, layers, notes, unsupported) for branch in item.branches]
            tree.append(_jaxpr.Branches(item.path, branches))
            continue

        record = _record_from_equation(item, len(layers), notes, unsupported)
        if record is not None:
            layers.append(record)
            tree.append(record)
    return tree


def _record_from_equation(operation, index, notes, unsupported):
    equation = operation.equation
    if equation.primitive.name == "dot_general":
        record = _dot_record(equation, index)
    else:
        record = _conv_record(equation, index)
        if record is None:
            unsupported["conv_general_dilated"] = unsupported.get("conv_general_dilated", 0) + operation.repeats
            shape = equation.invars[0].aval.shape
            notes.append(
                f"{operation.path or 'top level'}: convolution with input shape {tuple(shape)} has "
                f"{len(shape) - 2} spatial dimensions; only 1-D and 2-D convolutions map to a model row"
            )
            return None

    record.path = operation.path
    record.repeats = operation.repeats
    record.in_while_loop = operation.in_while_loop
    return record


def _shape(variable):
    return tuple(int(size) for size in variable.aval.shape)


def _conv_record(equation, index):
    """Describe a ``conv_general_dilated`` equation, or return None for 3 or more spatial dimensions."""
    from jax import lax

    lhs_shape, rhs_shape = _shape(equation.invars[0]), _shape(equation.invars[1])
    output_shape = _shape(equation.outvars[0])
    params = equation.params
    dimension_numbers = lax.conv_dimension_numbers(lhs_shape, rhs_shape, params["dimension_numbers"])
    lhs_spec, rhs_spec, out_spec = dimension_numbers

    spatial_axes = len(lhs_spec) - 2
    if spatial_axes not in (1, 2):
        return None

    input_size = tuple(lhs_shape[axis] for axis in lhs_spec[2:])
    kernel_size = tuple(rhs_shape[axis] for axis in rhs_spec[2:])
    output_size = tuple(output_shape[axis] for axis in out_spec[2:])
    batch = output_shape[out_spec[0]]
    out_channels = rhs_shape[rhs_spec[0]]
    in_channels_per_group = rhs_shape[rhs_spec[1]]
    window = dict(
        input_size=input_size,
        kernel_size=kernel_size,
        stride=tuple(params["window_strides"]),
        dilation=tuple(params["rhs_dilation"]),
        padding=tuple(tuple(int(side) for side in pair) for pair in params["padding"]),
        lhs_dilation=tuple(params["lhs_dilation"]),
    )
    counts = dict(batch=batch, out_channels=out_channels, in_channels_per_group=in_channels_per_group)
    macs = _flops.conv_macs(**counts, **window, taps="all")
    valid_macs = _flops.conv_macs(**counts, **window, taps="valid")

    variant = None
    if any(factor > 1 for factor in window["lhs_dilation"]):
        variant = "transposed"
    elif params["batch_group_count"] > 1:
        variant = "batch_grouped"

    return LayerEstimate(
        index=index,
        kind=f"conv{spatial_axes}d",
        variant=variant,
        primitive="conv_general_dilated",
        path="",
        lhs_shape=lhs_shape,
        rhs_shape=rhs_shape,
        output_shape=output_shape,
        dimension_numbers=_format_conv_numbers(lhs_spec, rhs_spec, out_spec),
        stride=window["stride"],
        padding=window["padding"],
        dilation=window["dilation"],
        lhs_dilation=window["lhs_dilation"],
        groups=int(params["feature_group_count"]),
        batch_groups=int(params["batch_group_count"]),
        batch=batch,
        row=tuple(conv_row(batch, output_size, in_channels_per_group, out_channels, kernel_size).tolist()),
        macs=macs,
        flops=_flops.FLOPS_PER_MAC * macs,
        flops_valid_taps=_flops.FLOPS_PER_MAC * valid_macs,
    )


SPATIAL_LETTERS = {1: "W", 2: "HW", 3: "DHW"}


def _format_conv_numbers(lhs_spec, rhs_spec, out_spec):
    """Spell dimension numbers as layout strings, e.g. "NCHW, OIHW, NCHW"."""
    spatial_axes = len(lhs_spec) - 2
    spatial = SPATIAL_LETTERS.get(spatial_axes, "".join(str(axis) for axis in range(spatial_axes)))

    def spell(spec, first, second):
        letters = [""] * len(spec)
        letters[spec[0]] = first
        letters[spec[1]] = second
        for letter, axis in zip(spatial, spec[2:]):
            letters[axis] = letter
        return "".join(letters)

    return ", ".join((spell(lhs_spec, "N", "C"), spell(rhs_spec, "O", "I"), spell(out_spec, "N", "C")))


def _dot_record(equation, index):
    """Describe a ``dot_general`` equation as the matrix product [batch, m, k] x [k, n]."""
    lhs_shape, rhs_shape = _shape(equation.invars[0]), _shape(equation.invars[1])
    output_shape = _shape(equation.outvars[0])
    (lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch) = equation.params["dimension_numbers"]

    batch = math.prod(lhs_shape[axis] for axis in lhs_batch)
    contracted = math.prod(lhs_shape[axis] for axis in lhs_contracting)
    lhs_free = math.prod(
        size for axis, size in enumerate(lhs_shape) if axis not in lhs_contracting and axis not in lhs_batch
    )
    rhs_free = math.prod(
        size for axis, size in enumerate(rhs_shape) if axis not in rhs_contracting and axis not in rhs_batch
    )
    macs = batch * lhs_free * contracted * rhs_free
    dimension_numbers = (
        f"contracting {tuple(lhs_contracting)} x {tuple(rhs_contracting)}, "
        f"batch {tuple(lhs_batch)} x {tuple(rhs_batch)}"
    )
    return LayerEstimate(
        index=index,
        kind="dense",
        variant=None,
        primitive="dot_general",
        path="",
        lhs_shape=lhs_shape,
        rhs_shape=rhs_shape,
        output_shape=output_shape,
        dimension_numbers=dimension_numbers,
        **_NO_CONVOLUTION_WINDOW,
        batch=batch,
        row=tuple(dense_row(batch * lhs_free, contracted, rhs_free).tolist()),
        macs=macs,
        flops=_flops.FLOPS_PER_MAC * macs,
        flops_valid_taps=_flops.FLOPS_PER_MAC * macs,
    )


# Predictions and totals ----------------------------------------------------


def _finish(layers, tree, model, power_watts, unsupported, unsupported_elements, has_while_loop, notes):
    """Add alpha factors, predictions and energy to the records and sum the totals."""
    _add_alpha(layers)
    if model is not None:
        _add_predictions(layers, model)
        if power_watts is not None:
            _add_energy(layers, power_watts)
    _mark_counted(tree, model is not None)

    counted = [layer for layer in layers if layer.counted]
    total_ms = None
    total_joules = None
    total_kwh = None
    if model is not None:
        total_ms = float(sum(layer.predicted_ms * layer.repeats for layer in counted if layer.predicted_ms))
        if power_watts is not None:
            total_joules = total_ms / 1000 * power_watts
            total_kwh = total_joules / JOULES_PER_KWH

    return Estimate(
        layers=layers,
        total_macs=sum(layer.macs * layer.repeats for layer in counted),
        total_flops=sum(layer.flops * layer.repeats for layer in counted),
        total_flops_valid_taps=sum(layer.flops_valid_taps * layer.repeats for layer in counted),
        total_ms=total_ms,
        total_joules=total_joules,
        total_kwh=total_kwh,
        power_watts=power_watts,
        unsupported=unsupported,
        unsupported_elements=unsupported_elements,
        has_while_loop=has_while_loop,
        notes=notes,
    )


def _predictable(layers):
    """Return the layers whose rows are positive (an empty operation has a zero size)."""
    return [layer for layer in layers if min(layer.row) > 0]


def _add_alpha(layers):
    predictable = _predictable(layers)
    if not predictable:
        return
    alphas = published_alpha(np.array([layer.row for layer in predictable]))
    for layer, alpha in zip(predictable, alphas.tolist()):
        layer.alpha = alpha


def _add_predictions(layers, model):
    predictable = _predictable(layers)
    if not predictable:
        return
    rows = np.array([layer.row for layer in predictable], dtype=np.float64)
    times = np.asarray(model.predict(rows), dtype=np.float64).reshape(-1)
    if times.shape != (len(predictable),):
        raise ValueError(f"model.predict returned {times.size} values for {len(predictable)} rows")
    outside = _outside_fitted_range(model, rows)
    fitted_kinds = set(getattr(model, "layer_kinds_", DEFAULT_FITTED_KINDS))

    for position, layer in enumerate(predictable):
        layer.predicted_ms = float(times[position])
        unfamiliar = layer.kind not in fitted_kinds or layer.variant is not None
        if unfamiliar:
            layer.extrapolated = True
        elif outside is not None:
            layer.extrapolated = bool(outside[position])


def _outside_fitted_range(model, rows):
    """Return a bool per row, True outside the model's fitted range; None when the model has no range."""
    if callable(getattr(model, "extrapolated", None)):
        return np.asarray(model.extrapolated(rows), dtype=bool)
    feature_range = getattr(model, "feature_range_", None)
    if feature_range is None:
        return None
    low, high = (np.asarray(bound, dtype=np.float64) for bound in feature_range)
    return np.any((rows < low) | (rows > high), axis=1)


def _add_energy(layers, power_watts):
    for layer in layers:
        if layer.predicted_ms is None:
            continue
        layer.joules = layer.predicted_ms / 1000 * power_watts
        layer.kwh = layer.joules / JOULES_PER_KWH


def _mark_counted(tree, by_time):
    """Keep the most expensive branch of each ``cond`` in the totals and return the tree's cost."""
    cost = 0.0
    for item in tree:
        if isinstance(item, LayerEstimate):
            cost += _cost(item, by_time)
            continue

        branch_costs = [_mark_counted(branch, by_time) for branch in item.branches]
        chosen = int(np.argmax(branch_costs)) if branch_costs else 0
        for position, branch in enumerate(item.branches):
            if position != chosen:
                _exclude(branch)
        cost += max(branch_costs, default=0.0)
    return cost


def _cost(layer, by_time):
    if by_time:
        return (layer.predicted_ms or 0.0) * layer.repeats
    return float(layer.flops * layer.repeats)


def _exclude(tree):
    for item in tree:
        if isinstance(item, LayerEstimate):
            item.counted = False
        else:
            for branch in item.branches:
                _exclude(branch)
