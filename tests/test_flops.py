"""FLOP counts: the shared cases, algebraic properties and XLA's cost analysis."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from alphaflops import flops
from alphaflops.layers import Conv2D, Dense


def _load_cases(cases_dir):
    with open(cases_dir / "flops.json") as file:
        return json.load(file)["cases"]


def _conv_from_case(case, bias=False):
    return Conv2D(
        case["height"],
        case["width"],
        case["in_channels"],
        case["out_channels"],
        case["kernel"],
        stride=case["stride"],
        padding=case["padding"],
        dilation=case["dilation"],
        groups=case["groups"],
        batch=case["batch"],
        bias=bias,
    )


def test_cases_cover_both_kinds(cases_dir):
    kinds = {case["kind"] for case in _load_cases(cases_dir)}
    assert kinds == {"conv2d", "dense"}


def test_conv_cases_match(cases_dir):
    for case in _load_cases(cases_dir):
        if case["kind"] != "conv2d":
            continue
        layer = _conv_from_case(case)
        assert layer.output_hw == tuple(case["output_hw"]), case["id"]
        assert layer.flops("all") == case["flops_all_taps"], case["id"]
        assert layer.flops("valid") == case["flops_valid_taps"], case["id"]
        if "macs_all_taps" in case:
            assert layer.macs("all") == case["macs_all_taps"], case["id"]
        if "flops_all_taps_with_bias" in case:
            assert _conv_from_case(case, bias=True).flops("all") == case["flops_all_taps_with_bias"], case["id"]


def test_dense_cases_match(cases_dir):
    for case in _load_cases(cases_dir):
        if case["kind"] != "dense":
            continue
        layer = Dense(case["in_features"], case["out_features"], batch=case["batch"])
        with_bias = Dense(case["in_features"], case["out_features"], batch=case["batch"], bias=True)
        assert layer.flops() == case["flops"], case["id"]
        assert layer.flops("valid") == case["flops"], case["id"]
        assert with_bias.flops() == case["flops_with_bias"], case["id"]


def test_dense_batch_cases_scale_linearly(cases_dir):
    dense = {case["batch"]: case for case in _load_cases(cases_dir) if case["kind"] == "dense"}
    for batch, case in dense.items():
        layer = Dense(case["in_features"], case["out_features"], batch=batch)
        assert layer.flops() == batch * dense[1]["flops"]


# Small layers for the properties: every padding form, odd and even kernels.
sizes = st.integers(1, 12)
small = st.integers(1, 3)
int_or_pair = st.one_of(small, st.tuples(small, small))
paddings = st.one_of(
    st.sampled_from(["same", "valid"]),
    st.integers(0, 3),
    st.tuples(st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.tuples(st.integers(0, 3), st.integers(0, 3)), st.tuples(st.integers(0, 3), st.integers(0, 3))),
)


@st.composite
def convolutions(draw, padding=paddings):
    groups = draw(small)
    arguments = dict(
        height=draw(sizes),
        width=draw(sizes),
        in_channels=groups * draw(small),
        out_channels=groups * draw(small),
        kernel_size=draw(st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)))),
        stride=draw(int_or_pair),
        padding=draw(padding),
        dilation=draw(st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 2), st.integers(1, 2)))),
        groups=groups,
        batch=draw(small),
        bias=draw(st.booleans()),
    )
    try:
        return Conv2D(**arguments)
    except ValueError:
        assume(False)


def _replace(layer, **changes):
    spec = layer.to_spec()
    spec.pop("kind")
    spec.update(changes)
    return type(layer)(**spec)


@given(convolutions(), st.integers(2, 4))
def test_conv_flops_linear_in_batch(layer, factor):
    scaled = _replace(layer, batch=layer.batch * factor)
    for taps in flops.TAPS:
        assert scaled.flops(taps) == factor * layer.flops(taps)


@given(convolutions(), st.integers(2, 4))
def test_conv_flops_linear_in_out_channels(layer, factor):
    scaled = _replace(layer, out_channels=layer.out_channels * factor)
    for taps in flops.TAPS:
        assert scaled.flops(taps) == factor * layer.flops(taps)


def _swap(value):
    if isinstance(value, tuple):
        return tuple(reversed(value))
    return value


@given(convolutions())
def test_conv_flops_symmetric_under_axis_swap(layer):
    swapped = _replace(
        layer,
        height=layer.width,
        width=layer.height,
        kernel_size=_swap(layer.kernel_size),
        stride=_swap(layer.stride),
        dilation=_swap(layer.dilation),
        padding=_swap(layer.padding),
    )
    for taps in flops.TAPS:
        assert swapped.flops(taps) == layer.flops(taps)


@given(st.integers(1, 64), st.integers(1, 64), st.integers(1, 8), st.booleans())
def test_pointwise_conv_equals_dense(in_features, out_features, batch, bias):
    conv = Conv2D(1, 1, in_features, out_features, 1, batch=batch, bias=bias)
    dense = Dense(in_features, out_features, batch=batch, bias=bias)
    for taps in flops.TAPS:
        assert conv.flops(taps) == dense.flops(taps)


@given(convolutions())
def test_valid_taps_at_most_all_taps(layer):
    assert layer.macs("valid") <= layer.macs("all")


@given(convolutions(padding=st.just("valid")))
def test_valid_taps_equal_all_under_valid_padding(layer):
    assert layer.macs("valid") == layer.macs("all")


@given(convolutions())
def test_conv_flops_are_two_macs_plus_bias(layer):
    bias_term = int(np.prod(layer.output_shape)) if layer.bias else 0
    for taps in flops.TAPS:
        assert layer.flops(taps) == 2 * layer.macs(taps) + bias_term


@given(st.integers(1, 64), st.integers(1, 64), st.integers(1, 8), st.booleans())
def test_dense_flops_are_two_macs_plus_bias(in_features, out_features, batch, bias):
    layer = Dense(in_features, out_features, batch=batch, bias=bias)
    assert layer.flops() == 2 * layer.macs() + (batch * out_features if bias else 0)


@given(convolutions())
def test_row_macs_equal_all_taps(layer):
    assert flops.row_macs(layer.to_row())[0] == layer.macs("all")


def _valid_pairs_by_enumeration(size, kernel, stride, dilation, padding_before, output_size, lhs_dilation):
    outputs = np.arange(output_size)[:, None]
    taps = np.arange(kernel)[None, :]
    position = outputs * stride + taps * dilation - padding_before
    on_element = (position % lhs_dilation == 0) & (position >= 0) & (position <= (size - 1) * lhs_dilation)
    return int(on_element.sum())


@given(
    size=st.integers(1, 15),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 4),
    dilation=st.integers(1, 3),
    padding=st.tuples(st.integers(0, 5), st.integers(0, 5)),
    lhs_dilation=st.integers(1, 4),
)
def test_valid_tap_pairs_match_enumeration(size, kernel, stride, dilation, padding, lhs_dilation):
    output_size = flops.conv_output_size(size, kernel, stride, dilation, padding, lhs_dilation)
    expected = _valid_pairs_by_enumeration(size, kernel, stride, dilation, padding[0], output_size, lhs_dilation)
    actual = flops.valid_tap_pairs(size, kernel, stride, dilation, padding[0], output_size, lhs_dilation)
    assert actual == expected


def _xla_flops(function, *arguments):
    cost = jax.jit(function).lower(*arguments).compile().cost_analysis()
    # jax 0.4.30 returned a list with one dict per computation; 0.10 returns the dict.
    if isinstance(cost, (list, tuple)):
        cost = cost[0]
    # The key is absent when the computation does no arithmetic, e.g. a
    # convolution whose every tap lands on padding.
    return cost.get("flops", 0.0)


def _xla_conv_flops(layer):
    padding = "SAME" if layer.padding == "same" else layer.padding_pairs
    image = jnp.zeros((layer.batch, layer.height, layer.width, layer.in_channels), jnp.float32)
    kernel = jnp.zeros((*layer.kernel_pair, layer.in_channels // layer.groups, layer.out_channels), jnp.float32)

    def convolve(image, kernel):
        return jax.lax.conv_general_dilated(
            image,
            kernel,
            window_strides=layer.stride_pair,
            padding=padding,
            rhs_dilation=layer.dilation_pair,
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
            feature_group_count=layer.groups,
        )

    output = jax.eval_shape(convolve, image, kernel)
    assert output.shape == layer.output_shape
    return _xla_flops(convolve, image, kernel)


def _becomes_degenerate_dot(layer):
    """Tell whether XLA turns this convolution into a product it counts differently.

    XLA rewrites a 1x1 convolution with stride 1 and no padding into a dot
    or, with one input channel per group, into an elementwise multiply, and
    then simplifies the dot as described above the dense test.
    """
    pointwise = (
        layer.kernel_pair == (1, 1)
        and layer.stride_pair == (1, 1)
        and layer.padding_pairs == ((0, 0), (0, 0))
    )
    rows = layer.batch * layer.height * layer.width
    vector_product = layer.groups == 1 and rows == 1 and layer.out_channels == 1
    return pointwise and (layer.in_channels == layer.groups or vector_product)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(convolutions())
def test_conv_valid_taps_match_xla(layer):
    assume(not _becomes_degenerate_dot(layer))
    layer = _replace(layer, bias=False)
    assert layer.flops("valid") == _xla_conv_flops(layer)


# XLA's algebraic simplifier rewrites degenerate products before the cost
# analysis: with one input feature the dot becomes an elementwise multiply
# (1 FLOP per output), and a vector-vector dot becomes a multiply and a
# reduction (2 * in_features - 1 FLOPs). alphaflops counts 2 FLOPs per MAC
# there too, so those shapes are left out of the comparison.
@settings(max_examples=15, deadline=None)
@given(st.integers(2, 64), st.integers(1, 64), st.integers(1, 8))
def test_dense_flops_match_xla(in_features, out_features, batch):
    assume(batch > 1 or out_features > 1)
    layer = Dense(in_features, out_features, batch=batch)
    inputs = jnp.zeros((batch, in_features), jnp.float32)
    weights = jnp.zeros((in_features, out_features), jnp.float32)
    assert layer.flops("valid") == _xla_flops(jnp.matmul, inputs, weights)


def test_row_flops_are_twice_row_macs():
    rows = np.array([[7, 7, 64, 128, 3, 3], [1, 1, 512, 10, 1, 1]])
    assert np.array_equal(flops.row_macs(rows), [7 * 7 * 64 * 128 * 9, 512 * 10])
    assert np.array_equal(flops.row_flops(rows), 2 * flops.row_macs(rows))


def test_row_macs_accept_single_row():
    assert flops.row_macs([2, 3, 4, 5, 1, 1]).shape == (1,)


@pytest.mark.parametrize(
    "rows, fragment",
    [
        (np.ones((3, 5)), "shape (n, 6)"),
        (np.array([[1, 1, 1, 1, 1, 1], [1, 0, 1, 1, 1, 1]]), "row 1"),
        (np.array([[1, 1, np.nan, 1, 1, 1]]), "row 0"),
    ],
)
def test_row_macs_reject_invalid_rows(rows, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        flops.row_macs(rows)


def test_mac_counters_registry():
    assert flops.MAC_COUNTERS["conv2d"](4, 4, 1, 2, 2, padding="same", taps="valid") == 98
    assert flops.MAC_COUNTERS["dense"](73, 256, batch=3) == 3 * 73 * 256


def test_all_taps_on_padding_count_zero():
    # Width 1 padded on the left only, stride 3: the one output column reads padding.
    layer = Conv2D(7, 1, 2, 2, (2, 1), stride=3, padding=((0, 2), (1, 0)), groups=2)
    assert layer.output_hw == (3, 1)
    assert layer.macs("valid") == 0
    assert _xla_conv_flops(layer) == 0


def test_unknown_taps_rejected():
    with pytest.raises(ValueError, match="taps"):
        Dense(2, 3).macs("some")


# Size rule shared by layers and measured rows.


@pytest.mark.parametrize("value", [1, 3.0, flops.MAX_DIMENSION, np.int64(7)])
def test_check_size_accepts_range(value):
    assert flops.check_size("height", value) == int(value)


@pytest.mark.parametrize(
    "value, fragment",
    [
        (0, "from 1 to 2147483647"),
        (flops.MAX_DIMENSION + 1, "got 2147483648"),
        (1e30, r"got 1e\+30"),
        (10**400, r"got 1000\.\.\.0000 \(401 digits\)"),
        (True, "got the bool True"),
        ("4", "must be an integer, got '4'"),
        (float("inf"), "must be an integer, got inf"),
    ],
)
def test_check_size_rejects(value, fragment):
    with pytest.raises(ValueError, match=fragment):
        flops.check_size("height", value)


def test_describe_value_beyond_str_digit_limit():
    text = flops.describe_value(10**6000)

    assert text == "an integer of about 6001 digits"


def test_describe_value_shortens_long_string():
    text = flops.describe_value("7" * 5000)

    assert text == "'77777777777777777777'... (5000 characters)"


def test_row_macs_at_maximum_accepted():
    # 2**53 - 1 = 6361 * 69431 * 20394401
    rows = np.array([[6361.0, 69431.0, 20394401.0, 1.0, 1.0, 1.0]])

    assert flops.find_invalid_size(rows) is None
    assert flops.row_macs(rows)[0] == flops.MAX_ROW_MACS


@pytest.mark.parametrize("row", [[2.0**26, 2.0**27, 1, 1, 1, 1], [2.0**26 + 1, 2.0**27 + 1, 1, 1, 1, 1]])
def test_row_macs_above_maximum_found(row):
    found = flops.find_invalid_size(np.array([[1.0] * 6, row]))

    assert found == (1, None, 1)


@pytest.mark.parametrize(
    "value, column",
    [(0.0, 0), (2.5, 1), (np.nan, 2), (np.inf, 3), (1e300, 4), (2.0**31, 5)],
)
def test_find_invalid_size_names_column(value, column):
    rows = np.ones((3, 6))
    rows[2, column] = value

    assert flops.find_invalid_size(rows) == (2, column, 1)


def test_size_rule_masks_values_and_rows():
    rows = np.array(
        [
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            [1.0, 2.5, 3.0, 4.0, 5.0, 6.0],
            [2.0**26, 2.0**27, 1.0, 1.0, 1.0, 1.0],
        ]
    )

    valid_values, valid_rows = flops.size_rule_masks(rows)

    assert valid_values.tolist()[0] == [True] * 6
    assert valid_values.tolist()[1] == [True, False, True, True, True, True]
    assert valid_values.tolist()[2] == [True] * 6
    assert valid_rows.tolist() == [True, False, False]
