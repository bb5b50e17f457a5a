"""Write and read the tidy CSV: one line per measurement, for pandas or a spreadsheet."""

import csv
import hashlib
from pathlib import Path

import numpy as np

from alphaflops.datasets.dataset import Dataset, Table
from alphaflops.datasets.generic_csv import check_file_times, metadata_array, parse_csv, parse_kind, parse_number
from alphaflops.errors import DatasetError

#: Leading columns of the tidy CSV; table datasets append their metadata columns.
TIDY_COLUMNS = ("plot", "line", "row", "kind", "H", "W", "Cin", "Cout", "K1", "K2", "time_ms")

_ROW_COLUMNS = TIDY_COLUMNS[4:10]


def write_tidy_csv(dataset, path):
    """Write ``dataset`` as a tidy CSV.

    Columns are :data:`TIDY_COLUMNS` followed by the dataset's metadata
    columns. ``plot`` is the plot name (the group name for tables with a
    group column, empty otherwise), ``line`` the line index in the plot
    (empty for tables) and ``row`` the row index in the line or table.
    Integral dimensions are written without a decimal point and times with
    Python's shortest round-trip repr.
    """
    metadata_names = list(dataset.metadata)
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*TIDY_COLUMNS, *metadata_names])
        for index in range(len(dataset)):
            writer.writerow(_tidy_row(dataset, index, metadata_names))


def _tidy_row(dataset, index, metadata_names):
    group = int(dataset.groups[index])
    plot = dataset.group_names[group] if group >= 0 else ""
    line = int(dataset.line_index[index])
    dims = [_number(value) for value in dataset.X[index]]
    extra = [dataset.metadata[name][index].item() for name in metadata_names]
    return [plot, line if line >= 0 else "", int(dataset.row_index[index]), dataset.kinds[index], *dims, repr(float(dataset.y[index])), *extra]


def _number(value):
    value = float(value)
    return int(value) if value.is_integer() else repr(value)


def is_tidy_header(header_line):
    """Return True when a CSV header line starts with the columns of :data:`TIDY_COLUMNS`, in order."""
    names = next(csv.reader([header_line]), [])
    return tuple(names[: len(TIDY_COLUMNS)]) == TIDY_COLUMNS


def read_tidy_csv(path, data=None):
    """Read a tidy CSV, as :meth:`Dataset.to_csv` writes it, into a table Dataset.

    ``X``, ``y`` and ``kinds`` come back exactly as written. The file has no
    plot axes, labels, hardware record or run metadata, so the result is a
    table, not plots. The ``plot``, ``line`` and ``row`` columns and any
    further columns become metadata. Rows are grouped by ``plot`` when it is
    filled in, with groups numbered in sorted name order, not in plot order.
    Each row becomes the layer of :func:`alphaflops.layers.layer_from_row`,
    so a strided or batched convolution comes back as the stride-1 layer
    with the same row. :meth:`Dataset.to_json` keeps all of this.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file. Its path and SHA-256 become ``source`` and ``sha256``.
    data : bytes, optional
        The file's contents, when the caller has already read them.

    Returns
    -------
    Dataset
        A table dataset named after the file stem.

    Raises
    ------
    DatasetError
        If the header does not start with :data:`TIDY_COLUMNS`, or a line
        has a value that is not a number, an unknown kind, an invalid layer
        row or a time that is not positive. The message names the file line.
    """
    from alphaflops.layers import layer_from_row

    path = Path(path)
    if data is None:
        data = path.read_bytes()
    header, records = parse_csv(data, path)
    if tuple(header[: len(TIDY_COLUMNS)]) != TIDY_COLUMNS:
        raise DatasetError(
            f"{path} is not a tidy CSV: its header starts with {', '.join(header[: len(TIDY_COLUMNS)])}, "
            f"not {', '.join(TIDY_COLUMNS)}; for another CSV file, pass format='csv' and a columns mapping"
        )

    layers, times = [], []
    for line, record in records:
        kind = parse_kind(record["kind"], "kind", line, path)
        row = [parse_number(record[column], column, line, path) for column in _ROW_COLUMNS]
        try:
            layers.append(layer_from_row(row, kind))
        except ValueError as error:
            raise DatasetError(f"{path}, line {line}: invalid {kind} row: {error}; fix or remove this line") from None
        times.append(parse_number(record["time_ms"], "time_ms", line, path))
    times_ms = np.asarray(times, dtype=np.float64)
    check_file_times(times_ms, times, [line for line, _ in records], "time_ms", "ms", path)

    layer_columns = {"kind", *_ROW_COLUMNS, "time_ms"}
    metadata = {
        column: metadata_array([record[column] for _, record in records])
        for column in header
        if column not in layer_columns
    }
    group_column = "plot" if any(record["plot"] for _, record in records) else None
    table = Table(layers, times_ms, metadata, group_column)
    return Dataset(path.stem, table=table, source=str(path), sha256=hashlib.sha256(data).hexdigest())
