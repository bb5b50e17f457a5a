"""Tests of sweep specs: the published 'paper' sweep, custom specs and shards."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphaflops import load_dataset
from alphaflops.harness.sweeps import load_sweep, parse_shard, sweep_from_spec


def small_spec(**plot_changes):
    plot = {
        "name": "w",
        "axis": 0,
        "x_label": "W",
        "x": [2, {"range": [4, 10, 2]}],
        "columns": {"H": "x", "W": 8, "Cin": 4, "Cout": "x * 2", "K1": 3, "K2": 3},
        "lines": [{}, {"columns": {"Cin": 6}}],
    }
    plot.update(plot_changes)
    return {"name": "small", "plots": [plot]}


@pytest.fixture(scope="module")
def paper():
    return load_sweep("paper")


@pytest.fixture(scope="module")
def published(t2000_path):
    return load_dataset(t2000_path)


def test_paper_has_721_configurations(paper):
    assert len(paper) == 721


def test_paper_rows_equal_published(paper, published):
    values = np.array([configuration.values for configuration in paper.configurations], dtype=np.float64)
    np.testing.assert_array_equal(values, published.X)


def test_paper_positions_equal_published(paper, published):
    assert [c.plot for c in paper.configurations] == published.groups.tolist()
    assert [c.line for c in paper.configurations] == published.line_index.tolist()
    assert [c.row for c in paper.configurations] == published.row_index.tolist()


def test_paper_plot_fields_equal_published(paper, published):
    for plot, expected in zip(paper.plots, published.plots, strict=True):
        assert plot.name == expected.name
        assert plot.axis == expected.axis
        assert plot.x_label == expected.x_label
        assert plot.ylim == expected.ylim
        assert [tuple(item) for item in plot.annotations] == [tuple(item) for item in expected.annotations]
        assert len(plot.line_kinds) == len(expected.lines)


def test_paper_dense_lines(paper):
    dense = {(c.plot, c.line) for c in paper.configurations if c.kind == "dense"}
    names = [plot.name for plot in paper.plots]
    progressive = names.index("conv_fixed_progressive")
    batch = names.index("increasing_batch")
    assert dense == {(progressive, 0)} | {(batch, line) for line in range(4)}


def test_dense_configuration_builds_matrix_product(paper):
    configuration = next(c for c in paper.configurations if c.kind == "dense" and c.values[0] == 6)
    layer = configuration.layer()
    assert layer.kind == "dense"
    assert (layer.batch, layer.in_features, layer.out_features) == (6, 6400, 6400)


def test_conv_configuration_is_same_padding(paper):
    layer = paper.configurations[1].layer()
    assert layer.kind == "conv2d"
    assert layer.output_shape == (1, 150, 150, 50)


def test_fingerprint_ignores_spelling_of_spec():
    spec = small_spec()
    respelled = small_spec(x=[2, 4, 6, 8])
    respelled["description"] = "same rows, other words"
    assert sweep_from_spec(spec).fingerprint == sweep_from_spec(respelled).fingerprint


def test_fingerprint_changes_with_rows():
    assert sweep_from_spec(small_spec()).fingerprint != sweep_from_spec(small_spec(x=[2, 4])).fingerprint


def test_custom_spec_rows():
    sweep = sweep_from_spec(small_spec())
    assert [c.values for c in sweep.configurations[:4]] == [
        (2, 8, 4, 4, 3, 3),
        (4, 8, 4, 8, 3, 3),
        (6, 8, 4, 12, 3, 3),
        (8, 8, 4, 16, 3, 3),
    ]
    assert sweep.configurations[4].values == (2, 8, 6, 4, 3, 3)
    assert [c.key for c in sweep.configurations[3:5]] == ["0.0.3", "0.1.0"]


def test_spec_file_loads(tmp_path):
    path = tmp_path / "small.json"
    path.write_text(json.dumps(small_spec()))
    assert len(load_sweep(str(path))) == 8


def test_unknown_sweep_name_rejected():
    with pytest.raises(ValueError, match="not found"):
        load_sweep("no-such-sweep")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": {"H": "x", "W": 8, "Cin": 4, "Cout": 4, "K1": 3}}, "column 'K2'"),
        ({"columns": {"H": "x", "W": 8, "Cin": 4, "Cout": 4, "K1": 3, "K2": 3, "K3": 1}}, "column 'K3'"),
        ({"columns": {"H": "__import__('os')", "W": 8, "Cin": 4, "Cout": 4, "K1": 3, "K2": 3}}, "not valid"),
        ({"columns": {"H": "x ** 2", "W": 8, "Cin": 4, "Cout": 4, "K1": 3, "K2": 3}}, "not valid"),
        ({"columns": {"H": "x - 10", "W": 8, "Cin": 4, "Cout": 4, "K1": 3, "K2": 3}}, "not a positive"),
        ({"columns": {"H": "x // 0", "W": 8, "Cin": 4, "Cout": 4, "K1": 3, "K2": 3}}, "division by zero"),
        ({"x": [{"range": [1, 5, 0]}]}, "invalid x item"),
        ({"x": []}, "field 'x'"),
        ({"axis": 7}, "invalid axis"),
        ({"kind": "pooling"}, "invalid kind"),
        ({"kind": "dense"}, "dense line needs W = K1 = K2 = 1"),
        ({"colour": "red"}, "field 'colour'"),
        ({"lines": []}, "field 'lines'"),
    ],
)
def test_invalid_spec_names_field(change, message):
    with pytest.raises(ValueError, match=message):
        sweep_from_spec(small_spec(**change))


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"H": 2**31}, r"row H must be an integer from 1 to 2147483647"),
        ({"H": 2**26, "W": 2**27, "Cin": 1, "Cout": 1, "K1": 1, "K2": 1}, r"the layer has 9007199254740992 MACs"),
    ],
)
def test_spec_row_beyond_size_rule_rejected(columns, message):
    spec = small_spec(lines=[{"columns": columns}])

    with pytest.raises(ValueError, match=r"plot 0 \('w'\), line 0, x = 2: " + message):
        sweep_from_spec(spec)


def test_invalid_spec_names_plot_and_line():
    spec = small_spec(lines=[{}, {"columns": {"Cin": 0}}])
    with pytest.raises(ValueError, match=r"plot 0 \('w'\), line 1, column Cin"):
        sweep_from_spec(spec)


@given(count=st.integers(min_value=1, max_value=12))
def test_shards_partition_sweep(count):
    sweep = sweep_from_spec(small_spec())
    shards = [sweep.shard(index, count) for index in range(1, count + 1)]
    keys = sorted((c.index for shard in shards for c in shard))
    assert keys == list(range(len(sweep)))


@given(count=st.integers(min_value=1, max_value=12), index=st.integers(min_value=1, max_value=12))
def test_shard_takes_every_nth(count, index):
    if index > count:
        return
    sweep = sweep_from_spec(small_spec())
    assert [c.index for c in sweep.shard(index, count)] == list(range(index - 1, len(sweep), count))


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", "1/2/3"])
def test_invalid_shard_rejected(text):
    with pytest.raises(ValueError, match="invalid shard"):
        parse_shard(text)


def test_shard_parsed():
    assert parse_shard("2/8") == (2, 8)
