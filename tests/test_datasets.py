"""Dataset structure, validation, project JSON and tidy CSV on the published and small sets."""

import csv
import json
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from alphaflops.datasets import Dataset, Plot, bundled_datasets, load_dataset, normalize_hardware
from alphaflops.datasets.project_json import FORMAT_NAME, FORMAT_VERSION
from alphaflops.datasets.tidy_csv import is_tidy_header, read_tidy_csv
from alphaflops.errors import DatasetError

T2000_LINE_LENGTHS = {
    "conv_K_vs_S": [24] * 4,
    "increasing_W": [33] * 3,
    "increasing_Cout": [33] * 3,
    "increasing_Cout_with_K1": [33] * 3,
    "conv_K_vs_C": [28] * 4,
    "conv_fixed_progressive": [11] * 5,
    "incresing_Cin_100-1000": [10] * 3,
    "increasing_batch": [33, 33, 33, 32],
}


@pytest.fixture(scope="module")
def t2000(t2000_path):
    return load_dataset(t2000_path)


def _line(rows=3, time=0.5):
    return [[10.0 * (i + 1), 10.0, 3.0, 4.0, 3.0, 3.0, time] for i in range(rows)]


def _plot(name="p", lines=None, **options):
    return Plot(name=name, axis=0, lines=lines if lines is not None else [_line()], **options)


# The published set.


def test_t2000_plot_structure(t2000):
    assert t2000.plot_names == list(T2000_LINE_LENGTHS)
    for plot in t2000.plots:
        assert [line.shape[0] for line in plot.lines] == T2000_LINE_LENGTHS[plot.name]


def test_t2000_flat_arrays(t2000):
    assert len(t2000) == 721
    assert t2000.X.shape == (721, 6)
    assert t2000.y.shape == (721,)
    assert t2000.X.dtype == np.float64
    assert t2000.groups.tolist() == [i for i, lengths in enumerate(T2000_LINE_LENGTHS.values()) for _ in range(sum(lengths))]


def test_t2000_rows_match_lines(t2000):
    stacked = np.concatenate([line for plot in t2000.plots for line in plot.lines])

    np.testing.assert_array_equal(t2000.X, stacked[:, :6])
    np.testing.assert_array_equal(t2000.y, stacked[:, 6])


def test_t2000_line_and_row_indices(t2000):
    first = t2000.groups == 7
    assert t2000.line_index[first].tolist() == [0] * 33 + [1] * 33 + [2] * 33 + [3] * 32
    assert t2000.row_index[first][:3].tolist() == [0, 1, 2]


def test_t2000_dense_lines(t2000):
    kinds = {plot.name: plot.line_kinds for plot in t2000.plots}

    assert kinds["conv_fixed_progressive"] == ["dense"] + ["conv2d"] * 4
    assert kinds["increasing_batch"] == ["dense"] * 4
    assert kinds["conv_K_vs_S"] == ["conv2d"] * 4
    assert (t2000.kinds == "dense").sum() == 11 + 131


def test_t2000_source_and_checksum(t2000, t2000_path):
    assert t2000.name == "t2000"
    assert t2000.source == str(t2000_path)
    assert t2000.sha256 == "d63822d60e1002bdbdb881acf58f1aa0c2b843d81ae577cd8b80c25a3cce62a6"


def test_t2000_hardware_normalized(t2000):
    hardware = t2000.hardware

    assert hardware["name"] == "Quadro T2000"
    assert hardware["sm_count"] == 16
    assert hardware["clock_ghz"] == 1.62
    assert hardware["compute_capability"] == 7.5
    assert hardware["peak_fp32_flops"] == pytest.approx(2 * 16 * 64 * 1.62e9)
    assert hardware["original"] == t2000.plots[0].hardware


def test_t2000_plot_metadata(t2000):
    plot = t2000.plots[1]

    assert plot.name == "increasing_W"
    assert plot.axis == 0
    assert plot.x_label == "W size"
    assert plot.ylim == 10
    assert plot.annotations[1] == (0, 8, "$K = 3 x 3$")
    assert t2000.plots[5].axis == "progressive"


# Validation: errors name plot, line and row.


@pytest.mark.parametrize(
    "column, value, message",
    [
        (0, 0.0, "H = 0.0 is not a positive finite integer"),
        (1, -3.0, "W = -3.0 is not a positive finite integer"),
        (2, 2.5, "Cin = 2.5 is not a positive finite integer"),
        (3, np.nan, "Cout = nan is not a positive finite integer"),
        (4, np.inf, "K1 = inf is not a positive finite integer"),
        (6, 0.0, "time 0.0 ms is not positive and finite"),
        (6, -1.0, "time -1.0 ms is not positive and finite"),
        (6, np.nan, "time nan ms is not positive and finite"),
    ],
)
def test_invalid_value_names_plot_line_row(column, value, message):
    bad = np.array(_line(rows=4))
    bad[2, column] = value

    with pytest.raises(DatasetError) as raised:
        _plot(name="sweep", lines=[_line(), bad])

    assert "plot 'sweep', line 1, row 2" in str(raised.value)
    assert message in str(raised.value)


def test_invalid_value_says_what_to_do():
    bad = np.array(_line())
    bad[1, 6] = 0.0

    with pytest.raises(DatasetError, match=r"\(1 invalid time\(s\) in this line\); .* so fix or remove these rows"):
        _plot(lines=[bad])


def test_too_many_macs_prints_exact_count():
    bad = np.array(_line())
    bad[1, :6] = [2**26, 2**27, 1, 1, 1, 1]

    with pytest.raises(DatasetError, match=r"row 1: the product H\*W\*Cin\*Cout\*K1\*K2 = 9007199254740992 MACs"):
        _plot(lines=[bad])


def test_table_time_error_counts_table_rows():
    from alphaflops.datasets.dataset import Table
    from alphaflops.layers import Dense

    with pytest.raises(DatasetError, match=r"table, row 1: .*\(2 invalid time\(s\) in this table\)"):
        Table([Dense(2, 2), Dense(3, 3), Dense(4, 4)], [1.0, 0.0, -1.0])


def test_missing_group_column_lists_metadata():
    from alphaflops.datasets.dataset import Table
    from alphaflops.layers import Dense

    with pytest.raises(DatasetError, match="group column 'x' not found; pass one of the metadata columns net"):
        Table([Dense(2, 2)], [1.0], {"net": ["a"]}, "x")


def test_six_column_line_rejected():
    with pytest.raises(DatasetError, match=r"plot 'p', line 0: expected an array of shape \(n, 7\)"):
        _plot(lines=[np.ones((3, 6))])


def test_empty_line_rejected():
    with pytest.raises(DatasetError, match="line 0: the line has no rows"):
        _plot(lines=[np.ones((0, 7))])


@pytest.mark.parametrize("axis", [6, -1, "diagonal", 2.0, True, None])
def test_unknown_axis_rejected(axis):
    with pytest.raises(DatasetError, match="invalid axis"):
        Plot(name="p", axis=axis, lines=[_line()])


def test_dense_line_needs_unit_kernel():
    line = np.array(_line())

    with pytest.raises(DatasetError, match=r"row 0: a dense layer row needs W = 1 .*; write a dense layer as \(batch, 1, "):
        _plot(lines=[line], line_kinds=["dense"])


def test_unknown_line_kind_rejected():
    with pytest.raises(DatasetError, match="invalid layer kind 'pool'"):
        _plot(line_kinds=["pool"])


def test_pickle_validation_error_names_file(tmp_path):
    line = np.array(_line())
    line[1, 6] = -2.0
    plot = {"name": "bad", "no_lines": 1, "axis": 0, "x_axis_name": "", "ylim": None, "text": [], "lines": [line], "hardware": {}}
    path = tmp_path / "bad.pickle"
    path.write_bytes(pickle.dumps({"plots": [plot]}, protocol=5))

    with pytest.raises(DatasetError) as raised:
        load_dataset(path)

    assert str(path) in str(raised.value)
    assert "plot 'bad', line 0, row 1" in str(raised.value)


def test_line_count_mismatch_rejected(tmp_path):
    plot = {"name": "bad", "no_lines": 2, "axis": 0, "lines": [np.array(_line())]}
    path = tmp_path / "bad.pickle"
    path.write_bytes(pickle.dumps({"plots": [plot]}, protocol=5))

    with pytest.raises(DatasetError, match="declares no_lines = 2 but has 1 lines"):
        load_dataset(path)


# Foreign and unknown files.


def test_foreign_binary_file_rejected(tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)

    with pytest.raises(DatasetError, match="is not a dataset file"):
        load_dataset(path)


def test_empty_file_rejected(tmp_path):
    path = tmp_path / "empty.json"
    path.write_bytes(b"")

    with pytest.raises(DatasetError, match="it is empty"):
        load_dataset(path)


def test_unknown_csv_needs_columns(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b\n1,2\n")

    with pytest.raises(DatasetError) as raised:
        load_dataset(path)

    message = str(raised.value)
    assert "a NeuSight table or a tidy CSV written by Dataset.to_csv" in message
    assert "pass format='csv' and a columns mapping" in message


def test_missing_dataset_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file and no bundled dataset"):
        load_dataset(tmp_path / "absent.pickle")


def test_unknown_format_rejected(t2000_path):
    with pytest.raises(ValueError, match="unknown dataset format 'xml'"):
        load_dataset(t2000_path, format="xml")


# Project JSON.


def test_json_round_trip_identical_arrays(t2000, tmp_path):
    path = tmp_path / "t2000.json"
    t2000.to_json(path)

    loaded = load_dataset(path)

    for before, after in zip(t2000.plots, loaded.plots):
        for line_before, line_after in zip(before.lines, after.lines):
            np.testing.assert_array_equal(line_before, line_after)
    np.testing.assert_array_equal(loaded.X, t2000.X)
    np.testing.assert_array_equal(loaded.y, t2000.y)
    np.testing.assert_array_equal(loaded.groups, t2000.groups)


def test_json_round_trip_keeps_plot_metadata(t2000, tmp_path):
    path = tmp_path / "t2000.json"
    t2000.to_json(path)

    loaded = load_dataset(path)

    for before, after in zip(t2000.plots, loaded.plots):
        assert (after.name, after.axis, after.x_label) == (before.name, before.axis, before.x_label)
        assert after.ylim == before.ylim
        assert type(after.ylim) is type(before.ylim)
        assert after.annotations == before.annotations
        assert after.line_kinds == before.line_kinds
        assert after.hardware == before.hardware
    assert loaded.hardware == t2000.hardware
    assert loaded.name == t2000.name


def test_json_records_its_own_source(t2000, tmp_path):
    path = tmp_path / "t2000.json"
    t2000.to_json(path)

    loaded = load_dataset(path)

    assert loaded.source == str(path)
    assert loaded.sha256 != t2000.sha256
    assert len(loaded.sha256) == 64


def test_json_is_versioned_and_readable(t2000, tmp_path):
    path = tmp_path / "t2000.json"
    t2000.to_json(path)

    document = json.loads(path.read_text())
    lines = path.read_text().splitlines()

    assert document["format"] == FORMAT_NAME
    assert document["version"] == FORMAT_VERSION
    assert document["table"] is None
    assert len(lines) > 721  # one line per measured row


def test_json_newer_version_rejected(tmp_path):
    path = tmp_path / "future.json"
    path.write_text(json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION + 1, "plots": []}))

    with pytest.raises(DatasetError, match=f"version {FORMAT_VERSION + 1}, newer than version {FORMAT_VERSION}.*upgrade"):
        load_dataset(path)


def test_json_other_format_rejected(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"format": "something-else", "version": 1}))

    with pytest.raises(DatasetError, match="is not an alphaflops dataset file"):
        load_dataset(path)


def test_json_truncated_rejected(t2000, tmp_path):
    path = tmp_path / "t2000.json"
    t2000.to_json(path)
    path.write_bytes(path.read_bytes()[:5000])

    with pytest.raises(DatasetError, match="is not a JSON file"):
        load_dataset(path)


def test_json_invalid_row_names_plot_line_row(tmp_path):
    document = {
        "format": FORMAT_NAME,
        "version": 1,
        "name": "x",
        "plots": [{"name": "q", "axis": 1, "lines": [{"kind": "conv2d", "rows": _line()}, {"kind": "conv2d", "rows": _line(time=-1.0)}]}],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))

    with pytest.raises(DatasetError, match=r"plot 'q', line 1, row 0: time -1.0 ms"):
        load_dataset(path)


finite_rows = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 6), st.just(7)),
    elements=st.floats(min_value=1.0, max_value=1e6, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=30, deadline=None)
@given(rows=finite_rows)
def test_json_round_trip_any_float(rows, tmp_path_factory):
    rows = rows.copy()
    # Sizes up to 400 keep the row's MACs (400**6) below the 2**53 - 1 maximum.
    rows[:, :6] = np.floor(np.minimum(rows[:, :6], 400.0))
    dataset = Dataset("random", plots=[Plot("r", "progressive", [rows])])
    path = tmp_path_factory.mktemp("json") / "random.json"
    dataset.to_json(path)

    loaded = load_dataset(path)

    np.testing.assert_array_equal(loaded.plots[0].lines[0], rows)


# Tidy CSV.


@pytest.fixture(scope="module")
def t2000_csv(t2000, tmp_path_factory):
    """Path of the T2000 set written as a tidy CSV by Dataset.to_csv."""
    path = tmp_path_factory.mktemp("tidy") / "t2000.csv"
    t2000.to_csv(path)
    return path


def test_csv_has_one_row_per_measurement(t2000_csv):
    with t2000_csv.open(newline="") as handle:
        records = list(csv.DictReader(handle))

    assert len(records) == 721
    assert list(records[0]) == ["plot", "line", "row", "kind", "H", "W", "Cin", "Cout", "K1", "K2", "time_ms"]


def test_csv_values_match_dataset(t2000, t2000_csv):
    with t2000_csv.open(newline="") as handle:
        records = list(csv.DictReader(handle))
    X = np.array([[float(record[column]) for column in ("H", "W", "Cin", "Cout", "K1", "K2")] for record in records])
    y = np.array([float(record["time_ms"]) for record in records])

    np.testing.assert_array_equal(X, t2000.X)
    np.testing.assert_array_equal(y, t2000.y)
    assert [record["plot"] for record in records] == [t2000.plot_names[g] for g in t2000.groups]
    assert [record["kind"] for record in records] == t2000.kinds.tolist()


def test_tidy_csv_reads_back_rows(t2000, t2000_csv):
    loaded = read_tidy_csv(t2000_csv)

    np.testing.assert_array_equal(loaded.X, t2000.X)
    np.testing.assert_array_equal(loaded.y, t2000.y)
    np.testing.assert_array_equal(loaded.kinds, t2000.kinds)


def test_tidy_csv_groups_by_plot(t2000, t2000_csv):
    loaded = read_tidy_csv(t2000_csv)

    assert loaded.group_names == sorted(t2000.plot_names)
    assert [loaded.group_names[g] for g in loaded.groups] == [t2000.plot_names[g] for g in t2000.groups]
    assert loaded.metadata["line"].tolist() == t2000.line_index.tolist()
    assert loaded.metadata["row"].tolist() == t2000.row_index.tolist()


def test_tidy_csv_of_table_keeps_metadata(tmp_path):
    source = tmp_path / "layers.csv"
    source.write_text("h,cin,cout,k,s,n,t,net,algo\n8,3,4,3,2,4,0.5,b,gemm\n16,3,4,1,1,1,1.5,a,fft\n")
    columns = {"h": ["height", "width"], "cin": "in_channels", "cout": "out_channels", "k": "kernel_size", "s": "stride", "n": "batch", "t": "time"}
    table = load_dataset(source, format="csv", columns=columns, group_column="net")
    path = tmp_path / "tidy.csv"
    table.to_csv(path)

    loaded = read_tidy_csv(path)

    np.testing.assert_array_equal(loaded.X, table.X)
    np.testing.assert_array_equal(loaded.y, table.y)
    np.testing.assert_array_equal(loaded.groups, table.groups)
    assert loaded.metadata["algo"].tolist() == ["gemm", "fft"]
    assert loaded.metadata["net"].tolist() == ["b", "a"]


def test_tidy_csv_without_groups(tmp_path):
    source = tmp_path / "layers.csv"
    source.write_text("batch,fin,fout,t\n32,128,64,0.2\n")
    table = load_dataset(source, format="csv", columns={"batch": "batch", "fin": "in_features", "fout": "out_features", "t": "time"})
    path = tmp_path / "tidy.csv"
    table.to_csv(path)

    loaded = read_tidy_csv(path)

    assert (loaded.groups == -1).all()
    assert loaded.kinds.tolist() == ["dense"]
    assert loaded.X.tolist() == [[32, 1, 128, 64, 1, 1]]


def test_tidy_header_recognised(t2000_csv):
    header_line = t2000_csv.read_text().splitlines()[0]

    assert is_tidy_header(header_line)
    assert not is_tidy_header("H,W,Cin,Cout,K1,K2,time_ms")
    assert not is_tidy_header(header_line.replace(",", ";"))


TIDY_HEADER = "plot,line,row,kind,H,W,Cin,Cout,K1,K2,time_ms"


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("p,0,1,pool,8,8,3,4,3,3,0.5", "line 3: column 'kind' has the unknown layer kind 'pool'"),
        ("p,0,1,dense,8,2,3,4,1,1,0.5", "line 3: invalid dense row: a dense row needs W = K1 = K2 = 1"),
        ("p,0,1,conv2d,8,8,2.5,4,3,3,0.5", "line 3: invalid conv2d row: row Cin must be an integer"),
        ("p,0,1,conv2d,8,8,3,4,3,3,0", "line 3: column 'time_ms' has the time 0 ms, which is not positive"),
        ("p,0,1,conv2d,8,8,x,4,3,3,0.5", "line 3: column 'Cin' has the non-numeric value 'x'"),
    ],
)
def test_tidy_csv_error_names_line(tmp_path, bad_line, message):
    path = tmp_path / "tidy.csv"
    path.write_text(f"{TIDY_HEADER}\np,0,0,conv2d,8,8,3,4,3,3,0.5\n{bad_line}\n")

    with pytest.raises(DatasetError) as raised:
        read_tidy_csv(path)

    assert str(raised.value).startswith(f"{path}, {message}")


def test_tidy_csv_loads_without_options(t2000, t2000_csv):
    loaded = load_dataset(t2000_csv)

    np.testing.assert_array_equal(loaded.X, t2000.X)
    np.testing.assert_array_equal(loaded.y, t2000.y)


def test_tidy_csv_regrouped_by_load_option(t2000_csv):
    loaded = load_dataset(t2000_csv, group_column="line")

    assert loaded.group_names == ["0", "1", "2", "3", "4"]


def test_tidy_reader_rejects_other_header(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("H,W,Cin,Cout,K1,K2,time_ms\n8,8,3,4,3,3,0.5\n")

    with pytest.raises(DatasetError, match="is not a tidy CSV: .* for another CSV file, pass format='csv' and a columns mapping"):
        read_tidy_csv(path)


# Subsets.


def test_subset_keeps_selected_plot(t2000):
    part = t2000.subset(t2000.groups == 7)

    assert part.plot_names == ["increasing_batch"]
    assert len(part) == 131
    assert part.plots[0].line_kinds == ["dense"] * 4
    assert part.sha256 == t2000.sha256


def test_subset_by_indices_keeps_order(t2000):
    part = t2000.subset([700, 3, 0])

    np.testing.assert_array_equal(part.X, t2000.X[[0, 3, 700]])
    assert part.plot_names == [t2000.plot_names[0], t2000.plot_names[-1]]


def test_subset_drops_empty_lines(t2000):
    mask = (t2000.groups == 0) & (t2000.line_index == 2)

    part = t2000.subset(mask)

    assert len(part.plots[0].lines) == 1
    np.testing.assert_array_equal(part.plots[0].lines[0], t2000.plots[0].lines[2])


def test_subset_of_nothing_rejected(t2000):
    with pytest.raises(DatasetError, match="selects no rows"):
        t2000.subset(np.zeros(len(t2000), dtype=bool))


def test_dataset_without_rows_rejected():
    with pytest.raises(DatasetError, match="no plots and no table"):
        Dataset("empty")


def test_plots_with_different_hardware_have_no_common_record():
    first = _plot("a", hardware={"GPU": "one", "coreCount": 1, "coreClock": 1.0})
    second = _plot("b", hardware={"GPU": "two", "coreCount": 2, "coreClock": 1.0})

    dataset = Dataset("mixed", plots=[first, second])

    assert dataset.hardware == {}
    assert dataset.plots[1].hardware["GPU"] == "two"


# Hardware records.


def test_hardware_of_other_layout_kept():
    record = {"name": "NVIDIA H200", "platform": "gpu", "reps": 2000}

    assert normalize_hardware(record) == record


def test_hardware_name_from_gpu_key():
    assert normalize_hardware({"GPU": "Quadro T2000"})["name"] == "Quadro T2000"


def test_hardware_normalization_idempotent(t2000):
    assert normalize_hardware(t2000.hardware) == t2000.hardware


def test_hardware_without_lanes_has_no_peak():
    # Compute capability 8.0 may run FP32 convolutions on TF32 tensor cores, so no lane peak is derived.
    record = {"GPU": "A100", "coreCount": 108, "coreClock": 1.41, "computeCapability": 8.0}

    hardware = normalize_hardware(record)

    assert hardware["sm_count"] == 108
    assert "peak_fp32_flops" not in hardware


def test_bundled_datasets_load():
    for name, path in bundled_datasets().items():
        dataset = load_dataset(name)

        assert dataset.source == str(path)
        assert len(dataset) > 0


# Size rule: absurd and huge values name plot, line and row.


def _json_document(bad_row):
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": "sizes",
        "plots": [{"name": "sweep", "axis": 2, "lines": [{"kind": "conv2d", "rows": [_line()[0], bad_row]}]}],
    }


def _write_json(tmp_path, bad_row):
    path = tmp_path / "sizes.json"
    path.write_text(json.dumps(_json_document(bad_row)))
    return path


@pytest.mark.parametrize(
    "bad_row, message",
    [
        ([8, 8, 10**400, 4, 3, 3, 0.5], r"Cin = 1000\.\.\.0000 \(401 digits\) is too large; it must be an integer from 1"),
        ([8, 8, 4, 4, 3, 3, 10**400], r"time = 1000\.\.\.0000 \(401 digits\) is too large; it must be a positive finite"),
        ([8, 8, "4", 4, 3, 3, 0.5], "Cin = '4' is a str, not a number"),
        ([8, 8, True, 4, 3, 3, 0.5], "Cin = True is a bool, not a number"),
        ([8, 8, 4, 4, 3, 3, "0.5"], "time = '0.5' is a str, not a number"),
        ([8, 8, 1e30, 4, 3, 3, 0.5], r"Cin = 1e\+30 is not a positive finite integer of at most 2147483647"),
        ([2**26, 2**27, 1, 1, 1, 1, 0.5], r"H\*W\*Cin\*Cout\*K1\*K2 = 9007199254740992 MACs is above the maximum 9007199254740991"),
    ],
)
def test_json_absurd_size_names_row(tmp_path, bad_row, message):
    path = _write_json(tmp_path, bad_row)

    with pytest.raises(DatasetError, match=message) as raised:
        load_dataset(path)

    assert f"{path}: plot 'sweep', line 0, row 1" in str(raised.value)


def test_json_integer_beyond_digit_limit_names_line(tmp_path):
    path = tmp_path / "sizes.json"
    text = json.dumps(_json_document([8, 8, 4, 4, 3, 3, 0.5]), indent=1)
    path.write_text(text.replace("4,\n", "7" * 5000 + ",\n", 1))

    with pytest.raises(DatasetError) as raised:
        load_dataset(path)

    message = str(raised.value)
    assert message.startswith(f"{path}, line ")
    assert "the integer 7777...7777 (5000 digits) is too large" in message
    assert "sys.set_int_max_str_digits" not in message


@pytest.mark.parametrize(
    "time, message",
    [(10**400, "time 1000...0000 (401 digits) ms is not positive and finite"), ("0.5", "time '0.5' is not a number")],
)
def test_json_table_invalid_time_names_row(tmp_path, time, message):
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "table": {"columns": ["kind", "in_features", "out_features", "time_ms"], "rows": [["dense", 4, 4, 0.5], ["dense", 4, 4, time]]},
    }
    path = tmp_path / "table.json"
    path.write_text(json.dumps(document))

    with pytest.raises(DatasetError) as raised:
        load_dataset(path)

    assert f"{path}: table, row 1: " in str(raised.value)
    assert message in str(raised.value)


def test_json_table_huge_size_names_field(tmp_path):
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "table": {"columns": ["kind", "in_features", "out_features", "time_ms"], "rows": [["dense", 10**400, 4, 0.5]]},
    }
    path = tmp_path / "table.json"
    path.write_text(json.dumps(document))

    with pytest.raises(DatasetError, match=r"table, row 0: invalid layer: in_features must be an integer from 1 to 2147483647"):
        load_dataset(path)


def test_pickle_absurd_channels_names_row(tmp_path):
    line = np.array(_line())
    line[1, 2] = 1e300
    path = tmp_path / "absurd.pickle"
    path.write_bytes(pickle.dumps({"plots": [{"name": "bad", "axis": 2, "lines": [line]}]}, protocol=5))

    with pytest.raises(DatasetError, match=r"plot 'bad', line 0, row 1: Cin = 1e\+300 is not a positive finite integer"):
        load_dataset(path)


@pytest.mark.parametrize("command", ["fit", "evaluate"])
def test_cli_rejects_huge_dataset_size(tmp_path, capsys, command):
    from alphaflops.cli import main
    from alphaflops.models import published_model

    path = _write_json(tmp_path, [8, 8, 10**400, 4, 3, 3, 0.5])
    model_path = tmp_path / "published.json"
    published_model().save(model_path)
    arguments = {
        "fit": ["fit", "--dataset", str(path), "--model", "flops", "--out", str(tmp_path / "fitted.json")],
        "evaluate": ["evaluate", "--model", str(model_path), "--dataset", str(path), "--out", str(tmp_path / "out")],
    }

    status = main(arguments[command])

    error = capsys.readouterr().err
    assert status == 1
    assert "plot 'sweep', line 0, row 1: Cin = 1000...0000 (401 digits) is too large" in error
    assert "Traceback" not in error
    assert "OverflowError" not in error


def test_missing_dataset_error_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="run 'alphaflops datasets' for the bundled names"):
        load_dataset(tmp_path / "missing.pickle")


def test_folder_as_dataset_error_says_what_to_do(tmp_path):
    with pytest.raises(DatasetError, match="pass the path of a dataset file inside it"):
        load_dataset(tmp_path)


def test_binary_file_error_says_what_to_do(tmp_path):
    path = tmp_path / "random.bin"
    path.write_bytes(bytes(range(256)) * 4)

    with pytest.raises(DatasetError, match="pass a measurement file in one of those formats"):
        load_dataset(path)


def test_other_json_error_says_what_to_do(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"format": "something-else"}')

    with pytest.raises(DatasetError, match="pass a dataset file written by the harness"):
        load_dataset(path)
