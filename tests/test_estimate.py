"""Whole-network estimates: jaxpr walking, XLA agreement, models, energy, files, command."""

import csv
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jax import lax

from alphaflops.cli import main
from alphaflops.estimation import estimate, estimate_layers, layers_from_specs
from alphaflops.layers import Conv2D, Dense
from alphaflops.models import FlopsRegressor, published_model


def _xla_flops(function, *arguments):
    cost = jax.jit(function).lower(*arguments).compile().cost_analysis()
    if isinstance(cost, (list, tuple)):
        cost = cost[0]
    return cost.get("flops", 0.0)


def _weights(*shape):
    return jnp.ones(shape, jnp.float32)


# Small loop-free networks of convolutions and matrix products only -----------


def _nhwc_network(x, w1, w2, w3, dense):
    y = lax.conv_general_dilated(x, w1, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    y = lax.conv_general_dilated(
        y, w2, (1, 1), ((1, 0), (0, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=4
    )
    y = lax.conv_general_dilated(y, w3, (1, 2), "VALID", rhs_dilation=(2, 2), dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y.reshape(y.shape[0], -1) @ dense


NHWC_ARGUMENTS = (_weights(2, 16, 16, 3), _weights(3, 3, 3, 8), _weights(3, 3, 2, 16), _weights(3, 3, 16, 8),
                  _weights(3 * 2 * 8, 10))


def _nchw_network(x, w, batched):
    y = lax.conv_general_dilated(x, w, (2, 1), ((2, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW"))
    y = y.reshape(y.shape[0], y.shape[1], -1)
    y = jnp.einsum("bcs,bst->bct", y, batched)
    return jnp.einsum("bct,bcu->btu", y, y)


NCHW_ARGUMENTS = (_weights(3, 4, 9, 7), _weights(6, 4, 3, 2), _weights(3, 5 * 8, 5))


def _transposed_network(x, w, signal, kernel_1d):
    y = lax.conv_transpose(x, w, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    z = lax.conv_general_dilated(signal, kernel_1d, (2,), ((1, 1),), dimension_numbers=("NWC", "WIO", "NWC"))
    return y, z


TRANSPOSED_ARGUMENTS = (_weights(1, 5, 6, 3), _weights(3, 3, 3, 4), _weights(2, 20, 3), _weights(4, 3, 5))


def _nested_network(x, w, dense):
    @jax.custom_jvp
    def block(x):
        return lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))

    block.defjvp(lambda primals, tangents: (block(primals[0]), tangents[0]))
    y = jax.jit(block)(x)
    y = jax.checkpoint(lambda y: y.reshape(-1, y.shape[-1]) @ dense)(y)
    return y


NESTED_ARGUMENTS = (_weights(1, 6, 6, 2), _weights(2, 2, 2, 3), _weights(3, 7))


@pytest.mark.parametrize(
    "network, arguments",
    [
        (_nhwc_network, NHWC_ARGUMENTS),
        (_nchw_network, NCHW_ARGUMENTS),
        (_transposed_network, TRANSPOSED_ARGUMENTS),
        (_nested_network, NESTED_ARGUMENTS),
    ],
    ids=["nhwc-strided-grouped-dilated", "nchw-batched-matmul", "transposed-and-1d", "jit-custom-jvp-remat"],
)
def test_valid_taps_equal_xla(network, arguments):
    result = estimate(network, *arguments)
    assert result.unsupported == {}
    assert result.total_flops_valid_taps == _xla_flops(network, *arguments)


def test_gradient_network_equals_xla():
    # The weight gradient of a grouped convolution uses a batch group count.
    def loss_vjp(x, w1, w2, w3, dense, cotangent):
        # The output is returned too, so that XLA cannot drop the last forward product.
        output, pullback = jax.vjp(lambda *weights: _nhwc_network(x, *weights), w1, w2, w3, dense)
        return output, pullback(cotangent)

    arguments = (*NHWC_ARGUMENTS, _weights(2, 10))
    result = estimate(loss_vjp, *arguments)
    variants = {layer.variant for layer in result.layers}
    assert "batch_grouped" in variants
    assert result.total_flops_valid_taps == _xla_flops(loss_vjp, *arguments)


def test_package_name_calls_estimate():
    import alphaflops

    # This file imports alphaflops.estimation first; the package name must
    # still be the function, not a module.
    result = alphaflops.estimate(jnp.matmul, _weights(2, 3), _weights(3, 4))
    assert result.total_flops == 2 * 2 * 3 * 4


def test_valid_taps_below_all_taps_with_padding():
    result = estimate(_nhwc_network, *NHWC_ARGUMENTS)
    assert result.total_flops_valid_taps < result.total_flops
    assert result.total_flops == 2 * result.total_macs


# Loops and branches --------------------------------------------------------


def _conv_step(carry, w):
    return lax.conv_general_dilated(carry, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))


def test_scan_counts_length_times_body():
    x, w = _weights(1, 8, 8, 4), _weights(3, 3, 4, 4)

    def scanned(x, w):
        carry, _ = lax.scan(lambda carry, _: (_conv_step(carry, w), None), x, None, length=5)
        return carry

    result = estimate(scanned, x, w)
    assert len(result.layers) == 1
    assert result.layers[0].repeats == 5
    assert result.total_flops_valid_taps == 5 * _xla_flops(_conv_step, x, w)


def test_nested_scans_multiply_lengths():
    x, w = _weights(1, 8, 8, 4), _weights(3, 3, 4, 4)

    def inner(carry, _):
        carry, _ = lax.scan(lambda c, _: (_conv_step(c, w), None), carry, None, length=3)
        return carry, None

    result = estimate(lambda x: lax.scan(inner, x, None, length=2)[0], x)
    assert result.layers[0].repeats == 6
    assert result.total_flops == 6 * result.layers[0].flops


def test_fori_loop_with_static_bounds_is_scan():
    m = _weights(8, 8)
    result = estimate(lambda m: lax.fori_loop(0, 4, lambda i, c: c @ m, m), m)
    assert result.layers[0].repeats == 4
    assert not result.has_while_loop


def test_while_counted_once_and_flagged():
    m = _weights(8, 8)
    result = estimate(lambda m: lax.while_loop(lambda c: c.sum() < 1e6, lambda c: c @ m, m), m)
    assert result.has_while_loop
    assert result.layers[0].in_while_loop
    assert result.layers[0].repeats == 1
    assert result.total_flops == 2 * 8 * 8 * 8


def test_cond_reports_branches_counts_max():
    m = _weights(8, 8)

    def branched(flag, m):
        return lax.cond(flag, lambda m: m @ m @ m, lambda m: m @ m, m)

    result = estimate(branched, True, m)
    assert len(result.layers) == 3
    assert [layer.counted for layer in result.layers].count(True) == 2
    assert result.total_flops == 2 * (2 * 8 * 8 * 8)


def test_cond_picks_branch_by_predicted_time():
    x = _weights(64, 64)

    def branched(flag, x):
        # The single product has more FLOPs; the two narrow ones are slower under the model below.
        return lax.cond(flag, lambda x: x @ x, lambda x: (x[:, :16] @ x[:16, :]) + (x[:, :16] @ x[:16, :]), x)

    class SlowNarrowProducts:
        def predict(self, X):
            return np.where(np.asarray(X)[:, 2] == 16, 5.0, 1.0)

    # The jaxpr lists the false branch first: layers 0 and 1 are the narrow products.
    by_flops = estimate(branched, True, x)
    assert [layer.counted for layer in by_flops.layers] == [False, False, True]

    by_time = estimate(branched, True, x, model=SlowNarrowProducts())
    assert [layer.counted for layer in by_time.layers] == [True, True, False]
    assert by_time.total_ms == pytest.approx(10.0)


# Dimension numbers and the row mapping ---------------------------------------


def test_conv_layouts_give_same_counts():
    def nhwc(x, w):
        return lax.conv_general_dilated(x, w, (2, 1), "SAME", rhs_dilation=(1, 2),
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=2)

    def nchw(x, w):
        return lax.conv_general_dilated(x, w, (2, 1), "SAME", rhs_dilation=(1, 2),
                                        dimension_numbers=("NCHW", "OIHW", "NCHW"), feature_group_count=2)

    first = estimate(nhwc, _weights(3, 10, 9, 4), _weights(3, 2, 2, 6)).layers[0]
    second = estimate(nchw, _weights(3, 4, 10, 9), _weights(6, 2, 3, 2)).layers[0]
    assert first.row == second.row
    assert first.flops == second.flops
    assert first.flops_valid_taps == second.flops_valid_taps
    assert second.dimension_numbers == "NCHW, OIHW, NCHW"


def test_conv_row_matches_conv2d_layer():
    layer = Conv2D(13, 11, 6, 9, (3, 2), stride=(2, 1), padding=((1, 0), (0, 1)), dilation=(1, 2), groups=3, batch=2)
    x = _weights(2, 13, 11, 6)
    w = _weights(3, 2, 2, 9)

    def conv(x, w):
        return lax.conv_general_dilated(x, w, layer.stride_pair, layer.padding_pairs, rhs_dilation=layer.dilation_pair,
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=3)

    record = estimate(conv, x, w).layers[0]
    assert record.row == tuple(layer.to_row())
    assert record.flops == layer.flops("all")
    assert record.flops_valid_taps == layer.flops("valid")
    assert record.output_shape == layer.output_shape


def test_batch_grouped_conv_counts():
    def conv(x, w):
        return lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                        batch_group_count=2)

    record = estimate(conv, _weights(4, 5, 5, 3), _weights(2, 2, 3, 6)).layers[0]
    assert record.variant == "batch_grouped"
    assert record.batch == 2
    assert record.output_shape == (2, 4, 4, 6)
    assert record.macs == 2 * 4 * 4 * 6 * 3 * 2 * 2
    assert record.row == (8, 4, 3, 6, 2, 2)


def test_batched_matmul_row():
    record = estimate(jnp.matmul, _weights(4, 5, 6), _weights(6, 7)).layers[0]
    assert record.kind == "dense"
    assert record.row == (20, 1, 6, 7, 1, 1)
    assert record.macs == 4 * 5 * 6 * 7


def test_dot_general_any_dimensions():
    def contract(a, b):
        # a is [k1, b, m, k2] and b is [b, k2, n, k1], with batch axis b and contracting axes k1, k2.
        return lax.dot_general(a, b, (((0, 3), (3, 1)), ((1,), (0,))))

    record = estimate(contract, _weights(2, 3, 5, 4), _weights(3, 4, 6, 2)).layers[0]
    assert record.batch == 3
    assert record.row == (15, 1, 8, 6, 1, 1)
    assert record.macs == 3 * 5 * 8 * 6
    assert record.flops == _xla_flops(contract, _weights(2, 3, 5, 4), _weights(3, 4, 6, 2))


def test_one_dimensional_conv_row():
    def conv(x, w):
        return lax.conv_general_dilated(x, w, (1,), "SAME", dimension_numbers=("NWC", "WIO", "NWC"))

    record = estimate(conv, _weights(2, 20, 3), _weights(5, 3, 4)).layers[0]
    assert record.kind == "conv1d"
    assert record.row == (40, 1, 3, 4, 5, 1)


def test_three_dimensional_conv_unsupported():
    def conv(x, w):
        return lax.conv_general_dilated(x, w, (1, 1, 1), "SAME", dimension_numbers=("NDHWC", "DHWIO", "NDHWC"))

    result = estimate(conv, _weights(1, 4, 4, 4, 2), _weights(2, 2, 2, 2, 3))
    assert result.layers == []
    assert result.unsupported == {"conv_general_dilated": 1}
    assert "3 spatial dimensions" in result.notes[0]


def test_linear_solve_counts_solve_only():
    m = _weights(6, 6)

    def solve(b):
        return lax.custom_linear_solve(lambda x: m @ x, b, solve=lambda matvec, b: m @ (m @ b))

    result = estimate(solve, _weights(6))
    assert len(result.layers) == 2
    assert all(layer.path == "custom_linear_solve.solve" for layer in result.layers)


def test_unsupported_arithmetic_counted_by_name():
    def network(x, m):
        y = jnp.tanh(x @ m) + 1.0
        return jnp.fft.fft(y).real.sum()

    result = estimate(network, _weights(4, 8), _weights(8, 8))
    assert len(result.layers) == 1
    assert result.unsupported["tanh"] == 1
    assert result.unsupported["add"] == 1
    assert result.unsupported["fft"] == 1
    assert result.unsupported["reduce_sum"] == 1
    assert result.unsupported_elements["tanh"] == 32
    assert "reshape" not in result.unsupported


def test_unsupported_inside_scan_counts_executions():
    def network(x):
        return lax.scan(lambda c, _: (jnp.sin(c), None), x, None, length=7)[0]

    assert estimate(network, _weights(3)).unsupported == {"sin": 7}


def test_shape_dtype_structs_trace_without_data():
    x = jax.ShapeDtypeStruct((2, 16, 16, 3), jnp.float32)
    weights = [jax.ShapeDtypeStruct(argument.shape, jnp.float32) for argument in NHWC_ARGUMENTS[1:]]
    result = estimate(_nhwc_network, x, *weights)
    assert result.total_flops_valid_taps == estimate(_nhwc_network, *NHWC_ARGUMENTS).total_flops_valid_taps


def test_keyword_arguments_are_static():
    def network(x, m, repeat=1):
        for _ in range(repeat):
            x = x @ m
        return x

    assert len(estimate(network, _weights(4, 4), _weights(4, 4), repeat=3).layers) == 3


# Models, extrapolation and energy ------------------------------------------


def test_published_model_predictions():
    model = published_model()
    result = estimate(_nhwc_network, *NHWC_ARGUMENTS, model=model)
    rows = result.to_rows()
    expected = model.predict(rows)
    assert [layer.predicted_ms for layer in result.layers] == pytest.approx(expected.tolist(), rel=1e-12)
    assert result.total_ms == pytest.approx(expected.sum(), rel=1e-12)


def test_no_model_leaves_times_absent():
    result = estimate(_nhwc_network, *NHWC_ARGUMENTS)
    assert result.total_ms is None
    assert all(layer.predicted_ms is None for layer in result.layers)
    assert all(layer.extrapolated is None for layer in result.layers)


def test_extrapolated_outside_fitted_range():
    rows = np.array([[16, 16, 8, 8, 3, 3], [32, 32, 16, 16, 3, 3], [8, 1, 64, 64, 1, 1]], dtype=float)
    model = FlopsRegressor().fit(rows, np.array([0.1, 0.5, 0.05]))
    inside = Conv2D(16, 16, 8, 8, 3)
    outside = Conv2D(64, 64, 8, 8, 3)
    result = estimate_layers([inside, outside], model=model)
    assert result.layers[0].extrapolated is False
    assert result.layers[1].extrapolated is True


def test_unfitted_kinds_are_extrapolated():
    class Everything:
        feature_range_ = (np.zeros(6), np.full(6, 1e9))

        def predict(self, X):
            return np.ones(len(X))

    result = estimate(_transposed_network, *TRANSPOSED_ARGUMENTS, model=Everything())
    kinds = {(layer.kind, layer.variant): layer.extrapolated for layer in result.layers}
    assert kinds == {("conv2d", "transposed"): True, ("conv1d", None): True}

    plain = estimate_layers([Conv2D(8, 8, 3, 4, 3), Dense(3, 4)], model=Everything())
    assert [layer.extrapolated for layer in plain.layers] == [False, False]


def test_model_file_path(tmp_path):
    rows = np.array([[16, 16, 8, 8, 3, 3], [32, 32, 16, 16, 3, 3], [8, 1, 64, 64, 1, 1]], dtype=float)
    model = FlopsRegressor().fit(rows, np.array([0.1, 0.5, 0.05]))
    path = tmp_path / "model.json"
    model.save(path)
    layers = [Conv2D(16, 16, 8, 8, 3), Dense(64, 64, batch=8)]
    from_file = estimate_layers(layers, model=str(path))
    in_memory = estimate_layers(layers, model=model)
    assert from_file.total_ms == in_memory.total_ms


def test_energy_from_time_and_power():
    result = estimate_layers([Conv2D(32, 32, 16, 16, 3), Dense(256, 10, batch=4)], model=published_model(),
                             power_watts=50)
    for layer in result.layers:
        assert layer.joules == pytest.approx(layer.predicted_ms / 1000 * 50)
        assert layer.kwh == pytest.approx(layer.joules / 3.6e6)
    assert result.total_joules == pytest.approx(result.total_ms / 1000 * 50)
    assert result.total_kwh == pytest.approx(result.total_joules / 3.6e6)


@pytest.mark.parametrize("power, fragment", [(-5, "positive"), (math.nan, "finite"), (True, "number"), ("60", "number")])
def test_invalid_power_rejected(power, fragment):
    with pytest.raises(ValueError, match=fragment):
        estimate_layers([Dense(3, 4)], model=published_model(), power_watts=power)


def test_power_needs_model():
    with pytest.raises(ValueError, match="needs a model"):
        estimate_layers([Dense(3, 4)], power_watts=60)


def test_model_without_predict_rejected():
    with pytest.raises(TypeError, match="predict"):
        estimate_layers([Dense(3, 4)], model=object())


# Layer lists and files -----------------------------------------------------


def test_layer_list_counts():
    layers = [Conv2D(32, 32, 3, 64, 3, stride=2), Dense(4096, 10, batch=8, bias=True)]
    result = estimate_layers(layers)
    assert result.total_flops == sum(layer.flops() for layer in layers)
    assert result.total_flops_valid_taps == sum(layer.flops("valid") for layer in layers)
    assert result.to_rows().tolist() == [layer.to_row().tolist() for layer in layers]


def test_layer_specs_accepted():
    specs = [{"kind": "dense", "in_features": 8, "out_features": 4, "batch": 2}]
    assert estimate_layers(specs).total_flops == 2 * 8 * 4 * 2


def test_invalid_spec_names_index_and_field():
    specs = [{"kind": "dense", "in_features": 8, "out_features": 4}, {"kind": "conv2d", "height": 0}]
    with pytest.raises(ValueError, match=r"layer 1: .*'width' is missing"):
        layers_from_specs(specs)
    with pytest.raises(ValueError, match="layer 0: .*in_features"):
        layers_from_specs([{"kind": "dense", "in_features": -1, "out_features": 4}])


def test_specs_must_be_list():
    with pytest.raises(ValueError, match="list"):
        layers_from_specs({"kind": "dense"})


def test_json_file_round_trip(tmp_path):
    result = estimate(_nhwc_network, *NHWC_ARGUMENTS, model=published_model(), power_watts=40)
    path = tmp_path / "estimate.json"
    result.to_json(path)
    data = json.loads(path.read_text())
    assert data["total_flops_valid_taps"] == result.total_flops_valid_taps
    assert data["power_watts"] == 40
    assert len(data["layers"]) == len(result.layers)
    assert data["layers"][0]["row"] == list(result.layers[0].row)


def test_csv_file_has_row_columns(tmp_path):
    result = estimate(_nhwc_network, *NHWC_ARGUMENTS, model=published_model())
    path = tmp_path / "estimate.csv"
    result.to_csv(path)
    with open(path, newline="") as file:
        records = list(csv.DictReader(file))
    assert len(records) == len(result.layers)
    first = result.layers[0]
    assert [float(records[0][name]) for name in ("H", "W", "Cin", "Cout", "K1", "K2")] == list(first.row)
    assert float(records[0]["predicted_ms"]) == pytest.approx(first.predicted_ms)
    assert int(records[0]["flops_valid_taps"]) == first.flops_valid_taps


# Command line --------------------------------------------------------------


def _write_specs(tmp_path, specs):
    path = tmp_path / "layers.json"
    path.write_text(json.dumps(specs))
    return path


def test_command_prints_table_and_totals(tmp_path, capsys):
    specs = [Conv2D(32, 32, 3, 16, 3).to_spec(), Dense(1024, 10, batch=4).to_spec()]
    layers_path = _write_specs(tmp_path, specs)
    model_path = tmp_path / "model.json"
    published_model().save(model_path)
    out_path = tmp_path / "out.csv"

    status = main(["estimate", "--model", str(model_path), "--layers", str(layers_path), "--csv", str(out_path),
                   "--power-watts", "75"])
    output = capsys.readouterr().out
    expected = estimate_layers(specs, model=published_model(), power_watts=75)
    assert status == 0
    assert "total FLOPs" in output
    assert f"{expected.total_flops:,}" in output
    assert "75 W" in output
    assert "kWh" in output
    assert out_path.exists()


def test_command_published_model_name(tmp_path, capsys):
    layers_path = _write_specs(tmp_path, [Dense(64, 64, batch=8).to_spec()])
    assert main(["estimate", "--model", "published", "--layers", str(layers_path)]) == 0
    assert "total time" in capsys.readouterr().out


def test_command_invalid_spec_message(tmp_path, capsys):
    specs = [Dense(4, 4).to_spec(), {"kind": "conv2d", "height": 8, "width": 8, "in_channels": 3,
                                     "out_channels": 4, "kernel_size": 3, "groups": 2}]
    layers_path = _write_specs(tmp_path, specs)
    status = main(["estimate", "--model", "published", "--layers", str(layers_path)])
    error = capsys.readouterr().err
    assert status == 1
    assert "layer 1" in error
    assert "groups" in error


def test_command_missing_model_file(tmp_path, capsys):
    layers_path = _write_specs(tmp_path, [Dense(4, 4).to_spec()])
    status = main(["estimate", "--model", str(tmp_path / "absent.json"), "--layers", str(layers_path)])
    assert status == 1
    assert "not found" in capsys.readouterr().err


# FLOP-count cases with hand-worked counts, traced from JAX calls -------------


def _traced_case(case):
    """Return a JAX function and argument shapes that compute one FLOP-count case."""
    batch = case["batch"]
    if case["kind"] == "dense":
        inputs = jax.ShapeDtypeStruct((batch, case["in_features"]), jnp.float32)
        weights = jax.ShapeDtypeStruct((case["in_features"], case["out_features"]), jnp.float32)
        return jnp.matmul, (inputs, weights)

    padding = case["padding"].upper() if isinstance(case["padding"], str) else [tuple(side) for side in case["padding"]]
    inputs = jax.ShapeDtypeStruct((batch, case["height"], case["width"], case["in_channels"]), jnp.float32)
    kernel_shape = (*case["kernel"], case["in_channels"] // case["groups"], case["out_channels"])
    kernel = jax.ShapeDtypeStruct(kernel_shape, jnp.float32)

    def convolve(inputs, kernel):
        return lax.conv_general_dilated(
            inputs,
            kernel,
            tuple(case["stride"]),
            padding,
            rhs_dilation=tuple(case["dilation"]),
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
            feature_group_count=case["groups"],
        )

    return convolve, (inputs, kernel)


def test_flop_cases_through_estimate(cases_dir):
    with open(cases_dir / "flops.json") as file:
        cases = json.load(file)["cases"]

    for case in cases:
        function, arguments = _traced_case(case)
        result = estimate(function, *arguments)

        assert len(result.layers) == 1, case["id"]
        if case["kind"] == "dense":
            assert result.total_flops == case["flops"], case["id"]
            assert result.total_flops_valid_taps == case["flops"], case["id"]
        else:
            assert result.total_flops == case["flops_all_taps"], case["id"]
            assert result.total_flops_valid_taps == case["flops_valid_taps"], case["id"]


# Random convolutions in any layout against XLA -------------------------------


def _layout(draw, letters):
    return "".join(draw(st.permutations(letters)))


@st.composite
def general_convolutions(draw):
    """Draw a 2-D convolution call in random layouts with groups, dilations and padding.

    Batch groups are left out: XLA on CPU may expand such a convolution into
    a full one plus selects and count that, as described in alphaflops.estimation.
    """
    groups = draw(st.integers(1, 3))
    batch = draw(st.integers(1, 2))
    in_channels = groups * draw(st.integers(1, 3))
    out_channels = groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    spatial = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    padding = tuple((draw(st.integers(-1, 3)), draw(st.integers(-1, 3))) for _ in range(2))
    options = dict(
        window_strides=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        padding=padding,
        lhs_dilation=(draw(st.integers(1, 3)), draw(st.integers(1, 2))),
        rhs_dilation=(draw(st.integers(1, 2)), draw(st.integers(1, 2))),
        feature_group_count=groups,
    )
    layouts = (_layout(draw, "NCHW"), _layout(draw, "OIHW"), _layout(draw, "NCHW"))
    sizes = {"N": batch, "C": in_channels, "H": spatial[0], "W": spatial[1]}
    kernel_sizes = {"O": out_channels, "I": in_channels // groups, "H": kernel[0], "W": kernel[1]}
    lhs = jax.ShapeDtypeStruct(tuple(sizes[letter] for letter in layouts[0]), jnp.float32)
    rhs = jax.ShapeDtypeStruct(tuple(kernel_sizes[letter] for letter in layouts[1]), jnp.float32)

    def convolve(lhs, rhs):
        return lax.conv_general_dilated(lhs, rhs, dimension_numbers=layouts, **options)

    try:
        output = jax.eval_shape(convolve, lhs, rhs)
    except (TypeError, ValueError):
        assume(False)
    assume(min(output.shape) > 0)
    return convolve, lhs, rhs


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(general_convolutions())
def test_random_layouts_match_xla(case):
    convolve, lhs, rhs = case
    compiled = jax.jit(convolve).lower(lhs, rhs).compile()
    # XLA's simplifier turns some small products (a vector-vector or
    # matrix-vector product, in effect) into multiplies and reductions,
    # which it counts differently. Only cases where it keeps a convolution
    # or dot are compared.
    hlo = compiled.as_text()
    assume(" convolution(" in hlo or " dot(" in hlo)

    result = estimate(convolve, lhs, rhs)
    assert len(result.layers) == 1
    assert result.total_flops_valid_taps == _xla_flops(convolve, lhs, rhs)


def test_package_names_are_functions():
    import alphaflops
    import alphaflops.estimation  # noqa: F401
    import alphaflops.plausibility  # noqa: F401

    assert callable(alphaflops.estimate)
    assert callable(alphaflops.audit)
    assert alphaflops.audit.__module__ == "alphaflops.plausibility"
