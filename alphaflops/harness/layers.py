"""Build the jitted JAX call that the harness times for one layer.

The inputs and weights are arguments of the jitted function and never
closed over, so XLA compiles them as runtime parameters and cannot fold the
computation into a constant. They are random normal values created on the
target device, because all-zero inputs can take faster paths on some
hardware.
"""

from functools import partial

import numpy as np


def as_layer(layer):
    """Return ``layer`` as a Conv2D or Dense object.

    A sequence of 6 numbers is read as a published row (H, W, Cin, Cout, K1,
    K2): a convolution with "same" padding, stride 1 and batch 1.
    """
    if hasattr(layer, "kind"):
        return layer

    from alphaflops.layers import layer_from_row

    row = np.asarray(layer, dtype=np.float64).reshape(-1)
    if row.size != 6:
        raise ValueError(
            f"a layer row needs 6 values (H, W, Cin, Cout, K1, K2); got {row.size}: {row.tolist()}"
        )
    return layer_from_row(row, kind="conv2d")


def build_layer_call(layer, dtype="float32", device=None, seed=0):
    """Build a jitted function and its device arguments for one layer.

    Parameters
    ----------
    layer : Conv2D, Dense or array_like of 6 numbers
        See ``as_layer``.
    dtype : str, default "float32"
        Data type of inputs and weights.
    device : jax.Device or None, default None
        Device that stores the arguments and therefore runs the function.
    seed : int, default 0
        Seed of the random normal values.

    Returns
    -------
    function : jax.stages.Wrapped
        Jitted function of the arguments.
    args : tuple of jax.Array
        Input, weights and (when the layer has one) bias, on ``device``.
    """
    import jax

    layer = as_layer(layer)
    shapes = _argument_shapes(layer)
    args = _random_arguments(shapes, dtype, device, seed)

    if layer.kind == "conv2d":
        function = partial(
            _conv2d,
            strides=tuple(layer.stride_pair),
            padding=tuple(tuple(pair) for pair in layer.padding_pairs),
            dilation=tuple(layer.dilation_pair),
            groups=int(layer.groups),
        )
    elif layer.kind == "dense":
        function = _dense
    else:
        raise ValueError(f"cannot time a layer of kind {layer.kind!r}; expected 'conv2d' or 'dense'")

    return jax.jit(function), args


def _argument_shapes(layer):
    if layer.kind == "conv2d":
        kernel_height, kernel_width = layer.kernel_pair
        shapes = [
            (layer.batch, layer.height, layer.width, layer.in_channels),
            (kernel_height, kernel_width, layer.in_channels // layer.groups, layer.out_channels),
        ]
        channels = layer.out_channels
    elif layer.kind == "dense":
        shapes = [(layer.batch, layer.in_features), (layer.in_features, layer.out_features)]
        channels = layer.out_features
    else:
        raise ValueError(f"cannot time a layer of kind {layer.kind!r}; expected 'conv2d' or 'dense'")

    if layer.bias:
        shapes.append((channels,))
    return [tuple(int(size) for size in shape) for shape in shapes]


def _random_arguments(shapes, dtype, device, seed):
    import jax

    if device is None:
        device = jax.devices()[0]

    # The "rbg" generator (XLA's RngBitGenerator) compiles faster for each
    # new shape than the default threefry, which matters across a sweep of
    # hundreds of shapes. Its statistical quality does not matter here.
    with jax.default_device(device):
        keys = jax.random.split(jax.random.key(seed, impl="rbg"), len(shapes))
        return tuple(jax.random.normal(key, shape, dtype=dtype) for key, shape in zip(keys, shapes))


def _conv2d(inputs, kernel, *bias, strides, padding, dilation, groups):
    from jax import lax

    outputs = lax.conv_general_dilated(
        inputs,
        kernel,
        window_strides=strides,
        padding=padding,
        rhs_dilation=dilation,
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        feature_group_count=groups,
    )
    if bias:
        outputs = outputs + bias[0]
    return outputs


def _dense(inputs, weights, *bias):
    outputs = inputs @ weights
    if bias:
        outputs = outputs + bias[0]
    return outputs
