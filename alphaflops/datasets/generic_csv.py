"""Import measured layer times from a CSV file with a column mapping.

The mapping names, for each file column used, the ``Conv2D`` or ``Dense``
argument it holds, ``"kind"`` (per-row layer kind) or ``"time"``. A pair
argument may be split over two columns as ``"kernel_size[0]"`` and
``"kernel_size[1]"``, and one column may feed several arguments, e.g.
``{"size": ["height", "width"]}`` for square inputs. Columns that the
mapping does not use are kept as per-row metadata.
"""

import csv
import difflib
import hashlib
import io
import re
from pathlib import Path

import numpy as np

from alphaflops.datasets.dataset import Dataset, Table
from alphaflops.errors import DatasetError
from alphaflops.flops import MAX_DIMENSION, describe_value, shorten_digits

#: Factor from each accepted time unit to milliseconds.
TIME_UNITS = {"ms": 1.0, "s": 1000.0, "us": 1e-3}

CONV2D_ARGUMENTS = (
    "height", "width", "in_channels", "out_channels", "kernel_size",
    "stride", "padding", "dilation", "groups", "bias", "batch",
)
DENSE_ARGUMENTS = ("in_features", "out_features", "batch", "bias")
PAIR_ARGUMENTS = ("kernel_size", "stride", "padding", "dilation")
_REQUIRED = {
    "conv2d": ("height", "width", "in_channels", "out_channels", "kernel_size"),
    "dense": ("in_features", "out_features"),
}
_TEXT_VALUES = {"padding": ("same", "valid")}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_BOOLEAN_TEXT = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}

# Delimiters of other CSV dialects, named when a header splits only on one of them.
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "vertical bar"}

# The next step of a message about one line of a CSV file.
_FIX_LINE = "fix or remove this line"


def read_csv(path, data=None, columns=None, time_unit="ms", group_column=None, name=None):
    """Read a CSV of layer shapes and times into a table Dataset.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (UTF-8, header line first). Its path and SHA-256 become
        ``source`` and ``sha256``.
    data : bytes, optional
        The file's contents, when the caller has already read them.
    columns : dict of str -> str or list of str
        Maps file columns to targets: ``Conv2D`` arguments (``height``,
        ``width``, ``in_channels``, ``out_channels``, ``kernel_size``,
        ``stride``, ``padding``, ``dilation``, ``groups``, ``bias``,
        ``batch``), ``Dense`` arguments (``in_features``, ``out_features``,
        ``batch``, ``bias``), ``"kernel_size[0]"``-style halves of pair
        arguments, ``"kind"`` or ``"time"``. Rows are dense layers when the
        mapping names ``in_features`` or ``out_features`` and no ``kind``
        column, else convolutions.
    time_unit : {"ms", "s", "us"}
        Unit of the time column; times are stored in milliseconds.
    group_column : str, optional
        File column whose values group the rows (``Dataset.groups``).
    name : str, optional
        Dataset name; defaults to the file stem.

    Returns
    -------
    Dataset
        A table dataset: no plots, ``X`` from ``layers_to_rows``, unmapped
        columns in ``metadata``.

    Raises
    ------
    DatasetError
        If a mapped column is missing, a value is not a number, a time is not
        positive, or a row is not a valid layer. The message names the file,
        the first bad line (counted from 1 at the header, as an editor shows
        it) and the column.
    ValueError
        If the mapping or the time unit is invalid.
    """
    path = Path(path)
    if data is None:
        data = path.read_bytes()
    targets = _check_mapping(columns)
    scale = _time_scale(time_unit)

    header, records = parse_csv(data, path)
    _check_columns_present(header, [*targets, *([group_column] if group_column else [])], path)
    layers, times = _build_layers(records, targets, path)
    time_column = next(column for column, names in targets.items() if "time" in names)
    with np.errstate(over="ignore"):
        times_ms = np.asarray(times, dtype=np.float64) * scale
    check_file_times(times_ms, times, [line for line, _ in records], time_column, time_unit, path)

    metadata_columns = [column for column in header if column not in targets or column == group_column]
    metadata = {column: metadata_array([record[1][column] for record in records]) for column in metadata_columns}
    table = Table(layers, times_ms, metadata, group_column)
    return Dataset(name or path.stem, table=table, source=str(path), sha256=hashlib.sha256(data).hexdigest())


def _check_mapping(columns):
    if not isinstance(columns, dict) or not columns:
        raise ValueError("columns must be a non-empty dict from file column names to layer arguments or 'time'")

    allowed = set(CONV2D_ARGUMENTS) | set(DENSE_ARGUMENTS) | {"kind", "time"}
    allowed |= {f"{name}[{side}]" for name in PAIR_ARGUMENTS for side in (0, 1)}
    targets = {}
    for column, target in columns.items():
        names = [target] if isinstance(target, str) else list(target)
        unknown = [item for item in names if item not in allowed]
        if unknown:
            raise ValueError(f"column {column!r} maps to unknown target {unknown[0]!r}; expected one of {sorted(allowed)}")
        targets[str(column)] = names

    mapped = [item for names in targets.values() for item in names]
    if mapped.count("time") != 1:
        raise ValueError("columns must map exactly one file column to 'time'")
    duplicates = sorted({item for item in mapped if mapped.count(item) > 1})
    if duplicates:
        raise ValueError(f"target {duplicates[0]!r} is mapped from more than one column")
    return targets


def _time_scale(time_unit):
    if time_unit not in TIME_UNITS:
        raise ValueError(f"invalid time unit {time_unit!r}; expected one of {', '.join(TIME_UNITS)}")
    return TIME_UNITS[time_unit]


def parse_csv(data, path):
    """Parse CSV bytes into the header and (line number, record dict) pairs.

    Line numbers count from 1 at the header, as an editor shows them.
    Blank lines are skipped.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DatasetError(
            f"{path} is not a CSV file: not UTF-8 text ({error}); save the table as UTF-8 CSV, for example "
            "with a spreadsheet's 'CSV UTF-8' option or 'iconv -f latin1 -t utf-8'"
        ) from None

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        records = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                raise DatasetError(
                    f"{path}, line {reader.line_num}: {len(values)} fields, but the header has {len(header)}; "
                    "give every line one field per header column, and quote a value that contains a comma"
                )
            records.append((reader.line_num, dict(zip(header, values))))
    except StopIteration:
        raise DatasetError(
            f"{path} is not a CSV table: it is empty; write a header line and one line per measurement"
        ) from None
    except csv.Error as error:
        raise DatasetError(
            f"{path}, line {reader.line_num}: not valid CSV ({error}); fix this line"
        ) from None

    if not records:
        raise DatasetError(f"{path} has a header but no data rows; add one line per measurement below the header")
    return header, records


def _check_columns_present(header, needed, path):
    for column in needed:
        if column not in header:
            raise DatasetError(f"{path}: column {column!r} not found; {_missing_column_advice(column, header)}")


def _missing_column_advice(column, header):
    """Return the advice for a column missing from ``header``, naming the delimiter, a close name or the mapping."""
    if len(header) == 1:
        for delimiter, delimiter_name in _OTHER_DELIMITERS.items():
            if delimiter in header[0]:
                return (
                    f"the header is one column, {header[0]!r}, and the file looks {delimiter_name}-separated, "
                    "but alphaflops reads only comma-separated files, so save the table with ',' as the delimiter"
                )

    listed = f"the file has columns {', '.join(header)}"
    same_words = [name for name in header if name.strip().lower() == column.strip().lower()]
    if same_words:
        return f"{listed}; did you mean {same_words[0]!r}? Column names must match exactly, in case and spaces too"
    close = difflib.get_close_matches(column, header, n=1)
    if close:
        return f"{listed}; did you mean {close[0]!r}?"
    return f"{listed}; name one of these in the column mapping (--columns on the command line)"


def _build_layers(records, targets, path):
    from alphaflops.layers import layer_from_spec

    mapped = {item for names in targets.values() for item in names}
    default_kind = "dense" if {"in_features", "out_features"} & mapped else "conv2d"
    converters = {column: _converter(names) for column, names in targets.items()}
    kind_column = next((column for column, names in targets.items() if "kind" in names), None)

    layers, times = [], []
    for line, record in records:
        kind = default_kind
        if kind_column is not None:
            kind = parse_kind(record[kind_column], kind_column, line, path)
        allowed = {"time", *(CONV2D_ARGUMENTS if kind == "conv2d" else DENSE_ARGUMENTS)}

        arguments = {}
        for column, names in targets.items():
            used = [target for target in names if target.partition("[")[0] in allowed]
            if not used:
                continue  # an empty cell is fine in a column this row's layer kind does not use
            value = converters[column](record[column], column, line, path)
            for target in used:
                arguments[target] = value

        times.append(arguments.pop("time"))
        spec = _layer_spec(kind, arguments, line, path)
        try:
            layers.append(layer_from_spec(spec))
        except (TypeError, ValueError) as error:
            raise DatasetError(
                f"{path}, line {line}: invalid {kind} layer: {error}; {_FIX_LINE}, or check which "
                "layer argument the column mapping gives each column"
            ) from None
    return layers, times


def check_file_times(times_ms, file_times, lines, column, time_unit, path):
    """Raise DatasetError naming the first line whose time is not positive and finite in milliseconds.

    ``file_times`` are the values as the file gives them, in ``time_unit``,
    and ``lines`` their line numbers. A positive finite time can still
    overflow when converted from seconds or round to 0 from microseconds.
    """
    valid = np.isfinite(times_ms) & (times_ms > 0)
    if valid.all():
        return

    bad = np.flatnonzero(~valid)
    index = int(bad[0])
    value = file_times[index]
    if value <= 0:
        problem = "which is not positive"
    elif times_ms[index] == 0:
        problem = "which rounds to 0 in milliseconds"
    else:
        problem = "which overflows to infinity in milliseconds"
    count = "" if bad.size == 1 else f" (the first of {bad.size} lines with such a time)"
    raise DatasetError(
        f"{path}, line {lines[index]}: column {column!r} has the time {value!r} {time_unit}, {problem}{count}; "
        f"measured times must be positive and finite, so {_FIX_LINE}"
    )


def _converter(names):
    if "bias" in names:
        return _parse_boolean
    text_values = _TEXT_VALUES.get(names[0].split("[")[0], ())
    return lambda text, column, line, path: parse_number(text, column, line, path, text_values)


def parse_number(text, column, line, path, text_values=()):
    """Return a cell as an int, a float or one of ``text_values``.

    Text that is not a number, integers too large for float64 (or with more
    digits than Python converts) and non-finite floats raise DatasetError
    naming the line.
    """
    stripped = text.strip()
    if stripped.lower() in text_values:
        return stripped.lower()

    if _INTEGER.fullmatch(stripped):
        try:
            value = int(stripped)
            float(value)
        except (ValueError, OverflowError):
            raise DatasetError(
                f"{path}, line {line}: column {column!r} has the integer {shorten_digits(stripped.lstrip('+-'))}, "
                f"too large; layer sizes must be integers from 1 to {MAX_DIMENSION} (2**31 - 1) and times "
                f"finite numbers, so {_FIX_LINE}"
            ) from None
        return value

    try:
        value = float(stripped)
    except ValueError:
        raise DatasetError(
            f"{path}, line {line}: column {column!r} has the non-numeric value {describe_value(text)}; "
            f"write a plain number such as 3 or 0.25, or {_FIX_LINE}"
        ) from None
    if not np.isfinite(value):
        raise DatasetError(
            f"{path}, line {line}: column {column!r} has the non-finite value {describe_value(text)}; "
            f"layer sizes and times must be finite numbers, so {_FIX_LINE}"
        )
    return value


def parse_kind(text, column, line, path):
    """Return a cell as the layer kind "conv2d" or "dense", or raise DatasetError naming the line."""
    kind = text.strip().lower()
    if kind not in _REQUIRED:
        raise DatasetError(
            f"{path}, line {line}: column {column!r} has the unknown layer kind {describe_value(text)}; "
            f"expected conv2d or dense, so {_FIX_LINE}"
        )
    return kind


def _parse_boolean(text, column, line, path):
    value = _BOOLEAN_TEXT.get(text.strip().lower())
    if value is None:
        raise DatasetError(
            f"{path}, line {line}: column {column!r} has the non-boolean value {describe_value(text)}; "
            f"expected true, false, yes, no, 1 or 0, so {_FIX_LINE}"
        )
    return value


def _layer_spec(kind, arguments, line, path):
    spec = {"kind": kind}
    for target, value in arguments.items():
        base, _, side = target.partition("[")
        if side:
            pair = spec.setdefault(base, [None, None])
            pair[int(side[0])] = value
        else:
            spec[base] = value

    for base in PAIR_ARGUMENTS:
        if isinstance(spec.get(base), list):
            if None in spec[base]:
                raise DatasetError(
                    f"{path}, line {line}: {base} is split over columns but one half is not mapped; "
                    f"map both {base}[0] and {base}[1]"
                )
            spec[base] = tuple(spec[base])

    missing = [argument for argument in _REQUIRED[kind] if argument not in spec]
    if missing:
        raise DatasetError(
            f"{path}, line {line}: a {kind} layer needs {', '.join(missing)}, which no mapped column provides; "
            "add these arguments to the column mapping"
        )
    return spec


def metadata_array(values):
    """Return a metadata column as int64, float64 or str array, whichever fits every value."""
    for dtype, parse in ((np.int64, int), (np.float64, float)):
        try:
            array = np.asarray([parse(value) for value in values], dtype=dtype)
        except (ValueError, OverflowError):
            continue
        if dtype is np.int64 or np.isfinite(array).all():
            return array
    return np.asarray(values, dtype=str)
