"""Layer construction, validation, specs and six-column rows."""

import json

import numpy as np
import pytest

from alphaflops.cli import main
from alphaflops.layers import (
    Conv2D,
    Dense,
    IntegerTooLongError,
    layer_from_row,
    layer_from_spec,
    layers_to_rows,
    parse_json_integer,
)


def test_conv_defaults_are_same_padding():
    layer = Conv2D(32, 32, 3, 64, 3)
    assert layer.kind == "conv2d"
    assert layer.padding_pairs == ((1, 1), (1, 1))
    assert layer.output_shape == (1, 32, 32, 64)


@pytest.mark.parametrize(
    "padding, pairs",
    [
        ("valid", ((0, 0), (0, 0))),
        ("SAME", ((1, 1), (0, 1))),
        (2, ((2, 2), (2, 2))),
        ((1, 0), ((1, 1), (0, 0))),
        ([[0, 2], [1, 0]], ((0, 2), (1, 0))),
    ],
)
def test_conv_padding_forms(padding, pairs):
    layer = Conv2D(8, 8, 1, 1, (3, 2), padding=padding)
    assert layer.padding_pairs == pairs


def test_same_padding_puts_extra_after():
    layer = Conv2D(4, 4, 1, 2, 2, padding="same")
    assert layer.padding_pairs == ((0, 1), (0, 1))
    assert layer.output_hw == (4, 4)


def test_same_padding_with_stride_and_dilation():
    layer = Conv2D(7, 10, 1, 1, 3, stride=2, dilation=2, padding="same")
    assert layer.output_hw == (4, 5)
    assert layer.padding_pairs == ((2, 2), (1, 2))


def test_pair_arguments():
    layer = Conv2D(9, 12, 4, 8, (3, 5), stride=(1, 2), dilation=(2, 1), padding="valid")
    assert layer.kernel_pair == (3, 5)
    assert layer.stride_pair == (1, 2)
    assert layer.dilation_pair == (2, 1)
    assert layer.output_hw == (5, 4)


def test_dense_shape_and_kind():
    layer = Dense(73, 256, batch=3)
    assert layer.kind == "dense"
    assert layer.output_shape == (3, 256)


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        (dict(height=0), "height"),
        (dict(width=-3), "width"),
        (dict(in_channels=2.5), "in_channels"),
        (dict(out_channels=True), "out_channels"),
        (dict(kernel_size=(3, 0)), r"kernel_size\[1\]"),
        (dict(kernel_size=(3, 3, 3)), "kernel_size"),
        (dict(stride=0), "stride"),
        (dict(dilation=(1, -1)), "dilation"),
        (dict(groups=3), "groups=3"),
        (dict(groups=0), "groups"),
        (dict(in_channels=4, out_channels=6, groups=4), "out_channels=6"),
        (dict(padding="full"), "'full'"),
        (dict(padding=-1), "padding"),
        (dict(padding=(1, 2, 3)), "padding"),
        (dict(padding=((1, 1), 2)), "padding"),
        (dict(padding="valid", kernel_size=9), "kernel_size=9"),
        (dict(padding="valid", kernel_size=3, dilation=4), "dilation=4"),
        (dict(bias=1), "bias"),
        (dict(batch=False), "batch"),
    ],
)
def test_conv_rejects_invalid_arguments(arguments, fragment):
    base = dict(height=8, width=8, in_channels=4, out_channels=8, kernel_size=3)
    with pytest.raises(ValueError, match=fragment):
        Conv2D(**{**base, **arguments})


def test_kernel_fits_with_padding():
    layer = Conv2D(2, 2, 1, 1, 4, padding=1)
    assert layer.output_hw == (1, 1)


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        (dict(in_features=0), "in_features"),
        (dict(out_features=-1), "out_features"),
        (dict(batch=1.5), "batch"),
        (dict(batch=True), "batch"),
        (dict(bias="yes"), "bias"),
    ],
)
def test_dense_rejects_invalid_arguments(arguments, fragment):
    base = dict(in_features=8, out_features=4)
    with pytest.raises(ValueError, match=fragment):
        Dense(**{**base, **arguments})


def test_integral_floats_accepted():
    layer = Conv2D(8.0, 8, np.int64(3), 4, 3.0)
    assert layer.height == 8
    assert isinstance(layer.height, int)
    assert layer.in_channels == 3


def test_spec_round_trip_through_json():
    layers = [
        Conv2D(13, 13, 512, 512, (3, 3), stride=(2, 1), padding=((0, 1), (1, 1)), dilation=2, groups=512, batch=4),
        Conv2D(8, 8, 3, 6, 2, padding=(1, 0), bias=True),
        Dense(73, 256, batch=3, bias=True),
    ]
    for layer in layers:
        spec = json.loads(json.dumps(layer.to_spec()))
        assert layer_from_spec(spec) == layer


def test_spec_contains_kind_and_arguments():
    spec = Dense(4, 5).to_spec()
    assert spec == {"kind": "dense", "in_features": 4, "out_features": 5, "batch": 1, "bias": False}


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ({"in_features": 3, "out_features": 4}, "'kind'"),
        ({"kind": "lstm", "units": 3}, "'lstm'"),
        ({"kind": "dense", "in_features": 3}, "'out_features' is missing"),
        ({"kind": "dense", "in_features": 3, "out_features": 4, "units": 2}, "'units' is unknown"),
        ({"kind": "conv2d", "height": 4, "width": 4, "in_channels": 1, "out_channels": 1, "kernel_size": "3"}, "kernel_size"),
        ([1, 2], "dict"),
    ],
)
def test_layer_from_spec_rejects_invalid(spec, fragment):
    with pytest.raises(ValueError, match=fragment):
        layer_from_spec(spec)


def test_conv_row_folds_batch_and_groups():
    layer = Conv2D(32, 32, 16, 32, (3, 5), stride=2, padding="same", groups=4, batch=3)
    assert layer.to_row().tolist() == [3 * 16, 16, 4, 32, 3, 5]


def test_conv_row_dilation_acts_through_output_size():
    layer = Conv2D(32, 32, 3, 64, 3, padding=1, dilation=2)
    assert layer.to_row().tolist() == [30, 30, 3, 64, 3, 3]


def test_dense_row():
    assert Dense(73, 256, batch=3).to_row().tolist() == [3, 1, 73, 256, 1, 1]


def test_layer_from_row_conv_is_published_row():
    row = np.array([64.0, 48.0, 16.0, 32.0, 3.0, 5.0])
    layer = layer_from_row(row)
    assert layer == Conv2D(64, 48, 16, 32, (3, 5))
    assert np.array_equal(layer.to_row(), row)


def test_layer_from_row_dense():
    layer = layer_from_row([6400, 1, 128, 256, 1, 1], kind="dense")
    assert layer == Dense(128, 256, batch=6400)
    assert layer.to_row().tolist() == [6400, 1, 128, 256, 1, 1]


@pytest.mark.parametrize(
    "row, kind, fragment",
    [
        ([4, 2, 1, 1, 1, 1], "dense", "W = K1 = K2 = 1"),
        ([4, 4, 1, 1, 3], "conv2d", "6 values"),
        ([4, 4, 0, 1, 3, 3], "conv2d", "Cin"),
        ([4, 4, 1.5, 1, 3, 3], "conv2d", "Cin"),
        ([4, 4, 1, 1, 3, 3], "pool", "'pool'"),
    ],
)
def test_layer_from_row_rejects_invalid(row, kind, fragment):
    with pytest.raises(ValueError, match=fragment):
        layer_from_row(row, kind=kind)


def test_layers_to_rows_stacks_rows():
    layers = [Conv2D(8, 8, 3, 4, 3), Dense(10, 20, batch=2)]
    rows = layers_to_rows(layers)
    assert rows.dtype == np.float64
    assert rows.tolist() == [[8, 8, 3, 4, 3, 3], [2, 1, 10, 20, 1, 1]]


def test_layers_to_rows_empty():
    assert layers_to_rows([]).shape == (0, 6)


def test_layers_are_hashable():
    assert len({Conv2D(8, 8, 3, 4, 3), Conv2D(8, 8, 3, 4, 3), Dense(3, 4)}) == 2


# Size rule: integers from 1 to 2**31 - 1, at most 2**53 - 1 MACs per row.


@pytest.mark.parametrize(
    "value, fragment",
    [
        (10**400 - 1, r"in_features must be an integer from 1 to 2147483647 \(2\*\*31 - 1\), got 9999\.\.\.9999 \(400 digits\)"),
        (1e30, r"in_features must be an integer from 1 to 2147483647 \(2\*\*31 - 1\), got 1e\+30"),
        ("4", "in_features must be an integer, got '4'"),
        (True, "in_features must be an integer, got the bool True"),
    ],
)
def test_dense_spec_rejects_absurd_size(value, fragment):
    with pytest.raises(ValueError, match=fragment):
        layer_from_spec({"kind": "dense", "in_features": value, "out_features": 4})


def test_dense_rejects_macs_above_maximum():
    with pytest.raises(ValueError, match=r"the layer has 1152921504606846976 MACs, above the maximum 9007199254740991"):
        Dense(2**30, 2**30)


def test_conv_rejects_macs_above_maximum():
    with pytest.raises(ValueError, match="MACs, above the maximum 9007199254740991"):
        Conv2D(100_000, 100_000, 1000, 1000, 3)


def test_conv_rejects_folded_row_height_above_maximum():
    with pytest.raises(ValueError, match=r"row column H = batch \* out_height is 4294967296, above the maximum"):
        Conv2D(2**16, 1, 1, 1, 1, batch=2**16)


def test_conv_accepts_row_at_macs_maximum():
    # 2**53 - 1 = 6361 * 69431 * 20394401
    layer = Conv2D(6361, 69431, 20394401, 1, 1)

    assert layer.macs() == 2**53 - 1
    assert layer.to_row().prod() == 2**53 - 1


def test_layer_from_row_rejects_huge_integer():
    with pytest.raises(ValueError, match="too large for float64"):
        layer_from_row([8, 8, 10**400, 4, 3, 3])


def test_json_integer_too_long_named():
    text = '[{"kind": "dense", "in_features": ' + "9" * 5000 + ', "out_features": 4}]'

    with pytest.raises(IntegerTooLongError, match=r"the integer 9999\.\.\.9999 \(5000 digits\) is too large"):
        json.loads(text, parse_int=parse_json_integer)


def test_estimate_cli_rejects_huge_layer_size(tmp_path, capsys):
    path = tmp_path / "layers.json"
    path.write_text('[{"kind": "dense", "in_features": ' + "9" * 400 + ', "out_features": 4}]')

    status = main(["estimate", "--model", "published", "--layers", str(path)])

    error = capsys.readouterr().err
    assert status == 1
    assert "layer 0: in_features must be an integer from 1 to 2147483647" in error
    assert "9999...9999 (400 digits)" in error
    assert "Traceback" not in error
