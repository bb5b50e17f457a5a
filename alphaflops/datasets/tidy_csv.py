"""Tidy CSV export: one line per measurement, for pandas or a spreadsheet."""

import csv
from pathlib import Path

#: Leading columns of the tidy CSV; table datasets append their metadata columns.
TIDY_COLUMNS = ("plot", "line", "row", "kind", "H", "W", "Cin", "Cout", "K1", "K2", "time_ms")


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
