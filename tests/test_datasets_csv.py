"""Generic CSV import with a column mapping, and its round trip through the project JSON."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphaflops.datasets import load_dataset
from alphaflops.errors import DatasetError
from alphaflops.layers import Conv2D, Dense, layers_to_rows

CONV_COLUMNS = {"h": "height", "w": "width", "cin": "in_channels", "cout": "out_channels", "k": "kernel_size", "t": "time"}


def _write(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _conv_file(tmp_path, rows="8,8,3,4,3,0.5\n16,16,3,4,3,1.5\n", extra_header=""):
    return _write(tmp_path, f"h,w,cin,cout,k,t{extra_header}\n{rows}")


def test_conv_rows_and_times(tmp_path):
    dataset = load_dataset(_conv_file(tmp_path), format="csv", columns=CONV_COLUMNS)

    assert dataset.X.tolist() == [[8, 8, 3, 4, 3, 3], [16, 16, 3, 4, 3, 3]]
    assert dataset.y.tolist() == [0.5, 1.5]
    assert dataset.kinds.tolist() == ["conv2d", "conv2d"]
    assert (dataset.groups == -1).all()


@pytest.mark.parametrize("unit, factor", [("ms", 1.0), ("s", 1000.0), ("us", 0.001)])
def test_time_unit_converted_to_ms(tmp_path, unit, factor):
    dataset = load_dataset(_conv_file(tmp_path), format="csv", columns=CONV_COLUMNS, time_unit=unit)

    assert dataset.y.tolist() == [0.5 * factor, 1.5 * factor]


def test_invalid_time_unit_rejected(tmp_path):
    with pytest.raises(ValueError, match="invalid time unit 'min'"):
        load_dataset(_conv_file(tmp_path), format="csv", columns=CONV_COLUMNS, time_unit="min")


def test_auto_format_with_columns(tmp_path):
    dataset = load_dataset(_conv_file(tmp_path), columns=CONV_COLUMNS)

    assert len(dataset) == 2


def test_missing_column_named(tmp_path):
    columns = {**CONV_COLUMNS, "stride_col": "stride"}

    with pytest.raises(DatasetError, match="column 'stride_col' not found"):
        load_dataset(_conv_file(tmp_path), format="csv", columns=columns)


def test_non_numeric_value_names_column_and_line(tmp_path):
    path = _conv_file(tmp_path, rows="8,8,3,4,3,0.5\n16,16,three,4,3,1.5\n16,16,x,4,3,1.5\n")

    with pytest.raises(DatasetError, match="line 3: column 'cin' has the non-numeric value 'three'"):
        load_dataset(path, format="csv", columns=CONV_COLUMNS)


@pytest.mark.parametrize("time", ["0", "-1.5"])
def test_nonpositive_time_names_file_and_line(tmp_path, time):
    path = _conv_file(tmp_path, rows=f"8,8,3,4,3,0.5\n16,16,3,4,3,{time}\n")

    with pytest.raises(DatasetError) as raised:
        load_dataset(path, format="csv", columns=CONV_COLUMNS)

    message = str(raised.value)
    assert message.startswith(f"{path}, line 3: column 't' has the time {time} ms, which is not positive")
    assert "fix or remove this line" in message


def test_nonpositive_times_counted(tmp_path):
    path = _conv_file(tmp_path, rows="8,8,3,4,3,0.5\n16,16,3,4,3,0\n16,16,3,4,3,-2\n")

    with pytest.raises(DatasetError, match=r"line 3: .*\(the first of 2 lines with such a time\)"):
        load_dataset(path, format="csv", columns=CONV_COLUMNS)


def test_invalid_layer_names_line(tmp_path):
    columns = {**CONV_COLUMNS, "p": "padding"}
    path = _write(tmp_path, "h,w,cin,cout,k,t,p\n8,8,3,4,3,0.5,same\n2,2,3,4,3,0.5,valid\n")

    with pytest.raises(DatasetError, match="line 3: invalid conv2d layer"):
        load_dataset(path, format="csv", columns=columns)


def test_padding_names_accepted(tmp_path):
    columns = {**CONV_COLUMNS, "p": "padding"}
    path = _write(tmp_path, "h,w,cin,cout,k,t,p\n8,8,3,4,3,0.5,same\n8,8,3,4,3,0.5,valid\n8,8,3,4,3,0.5,2\n")

    dataset = load_dataset(path, format="csv", columns=columns)

    assert dataset.X[:, 0].tolist() == [8, 6, 10]


def test_missing_layer_argument_rejected(tmp_path):
    columns = {key: value for key, value in CONV_COLUMNS.items() if key != "k"}

    with pytest.raises(DatasetError, match="a conv2d layer needs kernel_size"):
        load_dataset(_conv_file(tmp_path), format="csv", columns=columns)


def test_mapping_without_time_rejected(tmp_path):
    columns = {key: value for key, value in CONV_COLUMNS.items() if key != "t"}

    with pytest.raises(ValueError, match="exactly one file column to 'time'"):
        load_dataset(_conv_file(tmp_path), format="csv", columns=columns)


def test_unknown_target_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown target 'kernel'"):
        load_dataset(_conv_file(tmp_path), format="csv", columns={**CONV_COLUMNS, "k": "kernel"})


def test_csv_format_needs_columns(tmp_path):
    with pytest.raises(ValueError, match="needs a columns mapping"):
        load_dataset(_conv_file(tmp_path), format="csv")


def test_one_column_feeds_two_arguments(tmp_path):
    path = _write(tmp_path, "size,cin,cout,k,t\n8,3,4,1,0.5\n")
    columns = {"size": ["height", "width"], "cin": "in_channels", "cout": "out_channels", "k": "kernel_size", "t": "time"}

    dataset = load_dataset(path, format="csv", columns=columns)

    assert dataset.layers == [Conv2D(8, 8, 3, 4, 1)]


def test_split_pair_argument(tmp_path):
    path = _write(tmp_path, "h,w,cin,cout,kh,kw,t\n8,9,3,4,1,3,0.5\n")
    columns = {"h": "height", "w": "width", "cin": "in_channels", "cout": "out_channels", "kh": "kernel_size[0]", "kw": "kernel_size[1]", "t": "time"}

    dataset = load_dataset(path, format="csv", columns=columns)

    assert dataset.layers[0].kernel_pair == (1, 3)
    assert dataset.X[0].tolist() == [8, 9, 3, 4, 1, 3]


def test_dense_layers_inferred(tmp_path):
    path = _write(tmp_path, "batch,fin,fout,t\n32,128,64,0.2\n")
    columns = {"batch": "batch", "fin": "in_features", "fout": "out_features", "t": "time"}

    dataset = load_dataset(path, format="csv", columns=columns)

    assert dataset.layers == [Dense(128, 64, batch=32)]
    assert dataset.X[0].tolist() == [32, 1, 128, 64, 1, 1]
    assert dataset.kinds.tolist() == ["dense"]


def test_dense_row_ignores_kernel_cell(tmp_path):
    path = _write(tmp_path, "kind,h,cin,cout,k,t\nconv2d,8,3,4,3,0.5\ndense,16,3,4,,0.1\n")
    columns = {"kind": "kind", "h": ["height", "width", "batch"], "cin": ["in_channels", "in_features"], "cout": ["out_channels", "out_features"], "k": "kernel_size", "t": "time"}

    dataset = load_dataset(path, format="csv", columns=columns)

    assert dataset.layers[1] == Dense(3, 4, batch=16)


def test_empty_kernel_cell_of_conv_row(tmp_path):
    path = _write(tmp_path, "kind,h,cin,cout,k,t\ndense,16,3,4,,0.1\nconv2d,8,3,4,,0.5\n")
    columns = {"kind": "kind", "h": ["height", "width", "batch"], "cin": ["in_channels", "in_features"], "cout": ["out_channels", "out_features"], "k": "kernel_size", "t": "time"}

    with pytest.raises(DatasetError, match="line 3: column 'k' has the non-numeric value ''"):
        load_dataset(path, format="csv", columns=columns)


def test_unknown_kind_names_line(tmp_path):
    path = _write(tmp_path, "kind,h,cin,cout,k,t\npool,8,3,4,3,0.5\n")
    columns = {"kind": "kind", "h": ["height", "width"], "cin": "in_channels", "cout": "out_channels", "k": "kernel_size", "t": "time"}

    with pytest.raises(DatasetError, match="line 2: column 'kind' has the unknown layer kind 'pool'"):
        load_dataset(path, format="csv", columns=columns)


def test_kind_column_values(tmp_path):
    path = _write(tmp_path, "kind,h,cin,cout,k,t\nconv2d,8,3,4,3,0.5\ndense,16,3,4,1,0.1\n")
    columns = {"kind": "kind", "h": ["height", "width", "batch"], "cin": ["in_channels", "in_features"], "cout": ["out_channels", "out_features"], "k": "kernel_size", "t": "time"}

    dataset = load_dataset(path, format="csv", columns=columns)

    assert dataset.layers == [Conv2D(8, 8, 3, 4, 3, batch=8), Dense(3, 4, batch=16)]
    assert dataset.kinds.tolist() == ["conv2d", "dense"]


def test_unmapped_columns_become_metadata(tmp_path):
    path = _conv_file(tmp_path, rows="8,8,3,4,3,0.5,gemm,7\n16,16,3,4,3,1.5,fft,8\n", extra_header=",algo,run")

    dataset = load_dataset(path, format="csv", columns=CONV_COLUMNS)

    assert dataset.metadata["algo"].tolist() == ["gemm", "fft"]
    assert dataset.metadata["run"].dtype == np.int64
    assert list(dataset.metadata) == ["algo", "run"]


def test_group_column_sets_groups(tmp_path):
    path = _conv_file(tmp_path, rows="8,8,3,4,3,0.5,b\n16,16,3,4,3,1.5,a\n9,9,3,4,3,1.5,b\n", extra_header=",net")

    dataset = load_dataset(path, format="csv", columns=CONV_COLUMNS, group_column="net")

    assert dataset.group_names == ["a", "b"]
    assert dataset.groups.tolist() == [1, 0, 1]


def test_missing_group_column_named(tmp_path):
    with pytest.raises(DatasetError, match="column 'net' not found"):
        load_dataset(_conv_file(tmp_path), format="csv", columns=CONV_COLUMNS, group_column="net")


def test_blank_lines_skipped(tmp_path):
    path = _conv_file(tmp_path, rows="8,8,3,4,3,0.5\n\n16,16,3,4,3,1.5\n\n")

    dataset = load_dataset(path, format="csv", columns=CONV_COLUMNS)

    assert len(dataset) == 2


def test_short_row_names_line(tmp_path):
    path = _conv_file(tmp_path, rows="8,8,3,4,3,0.5\n16,16,3,4\n")

    with pytest.raises(DatasetError, match="line 3: 4 fields, but the header has 6; give every line one field per header column"):
        load_dataset(path, format="csv", columns=CONV_COLUMNS)


def test_header_only_rejected(tmp_path):
    with pytest.raises(DatasetError, match="no data rows; add one line per measurement below the header"):
        load_dataset(_conv_file(tmp_path, rows=""), format="csv", columns=CONV_COLUMNS)


def test_non_utf8_file_says_how_to_convert(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("h,w,cin,cout,k,t\n8,8,3,4,3,0.5 \u00b5s\n".encode("latin-1"))

    with pytest.raises(DatasetError, match="not UTF-8 text .*; save the table as UTF-8 CSV"):
        load_dataset(path, format="csv", columns=CONV_COLUMNS)


@pytest.mark.parametrize("delimiter, delimiter_name", [(";", "semicolon"), ("\t", "tab")])
def test_other_delimiter_named(tmp_path, delimiter, delimiter_name):
    path = _write(tmp_path, "h,w,cin,cout,k,t\n8,8,3,4,3,0.5\n".replace(",", delimiter))

    with pytest.raises(DatasetError) as raised:
        load_dataset(path, format="csv", columns=CONV_COLUMNS)

    message = str(raised.value)
    assert f"the file looks {delimiter_name}-separated" in message
    assert "save the table with ',' as the delimiter" in message


def test_missing_column_suggests_close_name(tmp_path):
    columns = {**CONV_COLUMNS, "T": "time"}
    del columns["t"]

    with pytest.raises(DatasetError, match="column 'T' not found; .* did you mean 't'[?] Column names must match exactly"):
        load_dataset(_conv_file(tmp_path), format="csv", columns=columns)


# Every error about one line of the file starts with "<file>, line <n>: ",
# with n counted from 1 at the header, as an editor shows it, and ends with
# what to do. Each case is a bad row after GOOD_ROWS, the unit of column t,
# the problem that the message names and the next step that it gives.
GOOD_ROWS = "8,8,3,4,3,0.5\n8,8,3,4,3,0.5\n"
FIX_LINE = "so fix or remove this line"
LINE_ERRORS = [
    pytest.param("8,8,3,4,3,0", "ms", "column 't' has the time 0 ms", FIX_LINE, id="zero-time"),
    pytest.param("8,8,3,4,3,inf", "ms", "column 't' has the non-finite value 'inf'", FIX_LINE, id="inf"),
    pytest.param("8,8,3,4,3,1e400", "ms", "column 't' has the non-finite value '1e400'", FIX_LINE, id="time-overflows-float"),
    pytest.param("8,8,3,4,3,1e306", "s", "column 't' has the time 1e+306 s, which overflows to infinity", FIX_LINE,
                 id="time-overflows-unit"),
    pytest.param("8,8,3,4,3,5e-324", "us", "column 't' has the time 5e-324 us, which rounds to 0 in milliseconds",
                 FIX_LINE, id="time-rounds-to-zero"),
    pytest.param("8,8,3,4,3," + "9" * 400, "ms", "column 't' has the integer 9999...9999 (400 digits), too large",
                 FIX_LINE, id="huge-integer-time"),
    pytest.param("8,8,x,4,3,0.5", "ms", "column 'cin' has the non-numeric value 'x'", "or fix or remove this line",
                 id="text"),
    pytest.param("8,8,3,4,3,n/a", "ms", "column 't' has the non-numeric value 'n/a'", "or fix or remove this line",
                 id="text-time"),
    pytest.param("2.5,8,3,4,3,0.5", "ms", "invalid conv2d layer: height must be an integer", "; fix or remove this line",
                 id="fraction"),
    pytest.param("8,8,1e30,4,3,0.5", "ms",
                 "invalid conv2d layer: in_channels must be an integer from 1 to 2147483647 (2**31 - 1), got 1e+30",
                 "; fix or remove this line", id="size-above-maximum"),
    pytest.param("8,8,3,4,3,0.5,7", "ms", "7 fields, but the header has 6", "; give every line one field per header column",
                 id="extra-field"),
]


@pytest.mark.parametrize("bad_row, time_unit, problem, next_step", LINE_ERRORS)
def test_line_error_names_file_and_line(tmp_path, bad_row, time_unit, problem, next_step):
    path = _conv_file(tmp_path, rows=f"{GOOD_ROWS}{bad_row}\n")

    with pytest.raises(DatasetError) as raised:
        load_dataset(path, format="csv", columns=CONV_COLUMNS, time_unit=time_unit)

    assert str(raised.value).startswith(f"{path}, line 4: {problem}")


@pytest.mark.parametrize("bad_row, time_unit, problem, next_step", LINE_ERRORS)
def test_line_error_says_what_to_do(tmp_path, bad_row, time_unit, problem, next_step):
    path = _conv_file(tmp_path, rows=f"{GOOD_ROWS}{bad_row}\n")

    with pytest.raises(DatasetError) as raised:
        load_dataset(path, format="csv", columns=CONV_COLUMNS, time_unit=time_unit)

    assert next_step in str(raised.value)


def test_table_json_round_trip_mixed_layers(tmp_path):
    path = _write(tmp_path, "kind,h,cin,cout,k,t,tag\nconv2d,8,3,4,3,0.5,x\ndense,16,3,4,1,0.1,y\n")
    columns = {"kind": "kind", "h": ["height", "width", "batch"], "cin": ["in_channels", "in_features"], "cout": ["out_channels", "out_features"], "k": "kernel_size", "t": "time"}
    dataset = load_dataset(path, format="csv", columns=columns, group_column="tag")
    json_path = tmp_path / "table.json"
    dataset.to_json(json_path)

    loaded = load_dataset(json_path)

    assert loaded.layers == dataset.layers
    np.testing.assert_array_equal(loaded.X, dataset.X)
    np.testing.assert_array_equal(loaded.y, dataset.y)
    np.testing.assert_array_equal(loaded.groups, dataset.groups)
    assert loaded.metadata["tag"].tolist() == ["x", "y"]


convolutions = st.builds(
    lambda size, cin, cout, kernel, stride, padding, batch: Conv2D(size, size + 1, cin, cout, kernel, stride=stride, padding=padding, batch=batch),
    size=st.integers(5, 40),
    cin=st.integers(1, 64),
    cout=st.integers(1, 64),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    batch=st.integers(1, 8),
)


@settings(max_examples=25, deadline=None)
@given(layers=st.lists(convolutions, min_size=1, max_size=8))
def test_rows_equal_layers_to_rows(layers, tmp_path_factory):
    lines = ["h,w,cin,cout,k,s,p,n,t"]
    lines += [f"{c.height},{c.width},{c.in_channels},{c.out_channels},{c.kernel_size},{c.stride},{c.padding},{c.batch},1.0" for c in layers]
    path = tmp_path_factory.mktemp("csv") / "random.csv"
    path.write_text("\n".join(lines) + "\n")
    columns = {**CONV_COLUMNS, "s": "stride", "p": "padding", "n": "batch"}

    dataset = load_dataset(path, format="csv", columns=columns)

    np.testing.assert_array_equal(dataset.X, layers_to_rows(layers))


def test_group_column_applies_to_json_table(tmp_path):
    path = _conv_file(tmp_path, rows="8,8,3,4,3,0.5,b\n16,16,3,4,3,1.5,a\n", extra_header=",net")
    json_path = tmp_path / "table.json"
    load_dataset(path, format="csv", columns=CONV_COLUMNS).to_json(json_path)

    dataset = load_dataset(json_path, group_column="net")

    assert dataset.groups.tolist() == [1, 0]
    assert dataset.group_names == ["a", "b"]


# Size rule: a huge integer names the column and the line. LINE_ERRORS has the other size cases.


@pytest.mark.parametrize("digits", [400, 5000])
def test_huge_integer_names_column_and_line(tmp_path, digits):
    path = _conv_file(tmp_path, rows="8,8,3,4,3,0.5\n" + "1" * digits + ",8,3,4,3,0.5\n")

    with pytest.raises(DatasetError) as raised:
        load_dataset(path, format="csv", columns=CONV_COLUMNS)

    message = str(raised.value)
    assert f"line 3: column 'h' has the integer 1111...1111 ({digits} digits), too large" in message
    assert "from 1 to 2147483647" in message
