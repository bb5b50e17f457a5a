"""The project's own dataset file: versioned, human-readable JSON.

Layout (``FORMAT_NAME`` version ``FORMAT_VERSION``)::

    {"format": "alphaflops-dataset", "version": 1, "name": ..., "hardware": {...}, "run": {...},
     "plots": [{"name", "axis", "x_label", "ylim", "annotations": [[x, y, text], ...], "hardware",
                "lines": [{"kind": "conv2d" | "dense", "rows": [[H, W, Cin, Cout, K1, K2, T_ms], ...]}]}],
     "table": null | {"columns": ["kind", <layer arguments>..., "time_ms"], "rows": [[...], ...],
                      "metadata": {column: [values]}, "group_column": null | column}}

Floats are written with Python's shortest round-trip repr, so reading a file
gives arrays identical to the ones written. Table rows hold each layer's
``to_spec()`` values under the listed columns (null where a layer kind has
no such argument).
"""

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from alphaflops.datasets.dataset import Dataset, Plot, Table
from alphaflops.datasets.validation import check_time_value
from alphaflops.errors import DatasetError
from alphaflops.layers import IntegerTooLongError, parse_json_integer

FORMAT_NAME = "alphaflops-dataset"
FORMAT_VERSION = 1

_ROW_PLACEHOLDER = re.compile(r'"@row:(\d+)@"')


def dataset_to_document(dataset):
    """Return the JSON document (a dict) for ``dataset``."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": dataset.name,
        "hardware": _plain(dataset.hardware),
        "run": _plain(dataset.run),
        "plots": [_plot_document(plot) for plot in dataset.plots],
        "table": None if dataset.table is None else _table_document(dataset.table),
    }


def _plot_document(plot):
    return {
        "name": plot.name,
        "axis": plot.axis,
        "x_label": plot.x_label,
        "ylim": _plain(plot.ylim),
        "annotations": [[_plain(x), _plain(y), text] for x, y, text in plot.annotations],
        "hardware": _plain(plot.hardware),
        "lines": [{"kind": kind, "rows": line.tolist()} for line, kind in zip(plot.lines, plot.line_kinds)],
    }


def _table_document(table):
    specs = [layer.to_spec() for layer in table.layers]
    columns = ["kind"]
    for spec in specs:
        columns.extend(key for key in spec if key not in columns)
    columns.append("time_ms")

    rows = []
    for spec, time_ms in zip(specs, table.times_ms.tolist()):
        values = [_plain(spec.get(column)) for column in columns[:-1]]
        rows.append(values + [time_ms])
    return {
        "columns": columns,
        "rows": rows,
        "metadata": {name: values.tolist() for name, values in table.metadata.items()},
        "group_column": table.group_column,
    }


def _plain(value):
    """Convert numpy scalars, arrays and tuples inside ``value`` to JSON types."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    return value


def write_json(dataset, path):
    """Write ``dataset`` to ``path`` in the project JSON format.

    Each measured row and each annotation goes on its own line so that
    diffs and editors show one measurement per line.
    """
    document = dataset_to_document(dataset)
    rows = []
    for plot in document["plots"]:
        plot["annotations"] = [_placeholder(rows, item) for item in plot["annotations"]]
        for line in plot["lines"]:
            line["rows"] = [_placeholder(rows, row) for row in line["rows"]]
    if document["table"] is not None:
        document["table"]["rows"] = [_placeholder(rows, row) for row in document["table"]["rows"]]

    text = json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False)
    text = _ROW_PLACEHOLDER.sub(lambda match: json.dumps(rows[int(match.group(1))], allow_nan=False), text)
    Path(path).write_text(text + "\n", encoding="utf-8")


def _placeholder(rows, row):
    rows.append(row)
    return f"@row:{len(rows) - 1}@"


def read_json(path, data=None):
    """Read a project JSON dataset file.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Its path and SHA-256 become the dataset's ``source`` and
        ``sha256``.
    data : bytes, optional
        The file's contents, when the caller has already read them.

    Returns
    -------
    Dataset

    Raises
    ------
    DatasetError
        If the file is not JSON, not in this format, from a newer version of
        the format, or holds invalid values (the message names the plot,
        line and row).
    """
    path = Path(path)
    if data is None:
        data = path.read_bytes()
    try:
        text = data.decode("utf-8")
        document = json.loads(text, parse_int=parse_json_integer)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DatasetError(f"{path} is not a JSON file: {error}") from None
    except IntegerTooLongError as error:
        line = text.count("\n", 0, max(text.find(error.literal), 0)) + 1
        raise DatasetError(f"{path}, line {line}: {error}") from None

    check_format(document, path)
    try:
        return document_to_dataset(document, source=str(path), sha256=hashlib.sha256(data).hexdigest())
    except DatasetError as error:
        raise DatasetError(f"{path}: {error}") from None


def check_format(document, path):
    """Raise DatasetError unless ``document`` is an alphaflops dataset this version reads."""
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise DatasetError(
            f"{path} is not an alphaflops dataset file: its format is {found!r}, not {FORMAT_NAME!r}; "
            "pass a dataset file written by the harness or by Dataset.to_json"
        )

    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DatasetError(f"{path}: invalid {FORMAT_NAME} version {version!r}; expected a positive integer")
    if version > FORMAT_VERSION:
        raise DatasetError(
            f"{path} is {FORMAT_NAME} version {version}, newer than version {FORMAT_VERSION} that this "
            "alphaflops reads; upgrade alphaflops to load it"
        )


def document_to_dataset(document, source=None, sha256=None):
    """Build a Dataset from a parsed JSON document that passed :func:`check_format`."""
    plots_document = _member(document, "plots", list, default=[])
    table_document = _member(document, "table", dict, default=None)
    plots = [_read_plot(item, index) for index, item in enumerate(plots_document)]
    table = None if table_document is None else _read_table(table_document)

    return Dataset(
        _member(document, "name", str, default=""),
        plots=plots,
        hardware=_member(document, "hardware", dict, default={}),
        source=source,
        sha256=sha256,
        run=_member(document, "run", dict, default={}),
        table=table,
    )


def _member(document, key, expected_type, default):
    value = document.get(key, default)
    if value is default or isinstance(value, expected_type):
        return value
    raise DatasetError(f"member {key!r} must be a {expected_type.__name__}, found {type(value).__name__}")


def _read_plot(item, index):
    if not isinstance(item, dict):
        raise DatasetError(f"plot {index} is not a JSON object")
    name = item.get("name", f"plot {index}")
    lines = _member(item, "lines", list, default=[])
    for number, line in enumerate(lines):
        if not isinstance(line, dict) or "rows" not in line:
            raise DatasetError(f"plot {name!r}, line {number}: expected an object with 'kind' and 'rows'")

    return Plot(
        name=name,
        axis=item.get("axis"),
        lines=[line["rows"] for line in lines],
        line_kinds=[line.get("kind", "conv2d") for line in lines],
        x_label=item.get("x_label", ""),
        ylim=item.get("ylim"),
        annotations=[tuple(annotation) for annotation in _member(item, "annotations", list, default=[])],
        hardware=_member(item, "hardware", dict, default={}),
    )


def _read_table(item):
    from alphaflops.layers import layer_from_spec

    columns = _member(item, "columns", list, default=[])
    if not columns or columns[-1] != "time_ms" or "kind" not in columns:
        raise DatasetError("table: 'columns' must name 'kind', the layer arguments and end with 'time_ms'")

    layers, times = [], []
    for index, row in enumerate(_member(item, "rows", list, default=[])):
        if not isinstance(row, list) or len(row) != len(columns):
            raise DatasetError(f"table, row {index}: expected a list of {len(columns)} values")
        spec = {column: _tuples(value) for column, value in zip(columns[:-1], row) if value is not None}
        try:
            layers.append(layer_from_spec(spec))
        except (TypeError, ValueError) as error:
            raise DatasetError(f"table, row {index}: invalid layer: {error}") from None
        times.append(check_time_value(row[-1], f"table, row {index}"))

    metadata = {name: np.asarray(values) for name, values in _member(item, "metadata", dict, default={}).items()}
    try:
        return Table(layers, np.asarray(times, dtype=np.float64), metadata, item.get("group_column"))
    except (TypeError, ValueError) as error:
        if isinstance(error, DatasetError):
            raise
        raise DatasetError(f"table: invalid times ({error})") from None


def _tuples(value):
    """Turn JSON lists back into the tuples that layer arguments use."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    return value
