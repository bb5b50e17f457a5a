"""Measured layer timings: plots of lines (sweeps) or tables of random shapes.

A :class:`Dataset` contains either plots or one :class:`Table`. Plots come
from sweeps such as the published T2000 set, and each plot has lines of rows
(H, W, Cin, Cout, K1, K2, T_ms). A table lists layers and times, as imported
CSV files do. Both give the
same flat view: ``X`` (n, 6) layer dimensions, ``y`` (n,) times in ms and
per-row indices.
"""

from dataclasses import dataclass, field

import numpy as np

from alphaflops.datasets.hardware import normalize_hardware
from alphaflops.datasets.validation import check_axis, check_kind, check_line, check_times
from alphaflops.errors import DatasetError


@dataclass
class Plot:
    """One published figure: lines of measured rows that sweep one axis.

    Attributes
    ----------
    name : str
        Short id, e.g. ``"increasing_W"``.
    axis : int or "progressive"
        Column 0..5 (H, W, Cin, Cout, K1, K2) that grows along each line, or
        "progressive" (x = sqrt(H*W*Cin*Cout*K1*K2 / 10000)).
    lines : list of numpy.ndarray, each (n, 7) float64
        Rows H, W, Cin, Cout, K1, K2, T with T in milliseconds.
    line_kinds : list of {"conv2d", "dense"}
        Layer kind of each line; defaults to "conv2d" for every line.
    x_label : str
        Label of the x axis, possibly matplotlib mathtext.
    ylim : float or None
        Upper y limit in milliseconds.
    annotations : list of (x, y, text)
        Text to draw at data coordinates.
    hardware : dict
        Hardware record of the plot, as the source file gives it.
    """

    name: str
    axis: object
    lines: list
    line_kinds: list = None
    x_label: str = ""
    ylim: object = None
    annotations: list = field(default_factory=list)
    hardware: dict = field(default_factory=dict)

    def __post_init__(self):
        self.name = str(self.name)
        self.axis = check_axis(self.axis, self.name)
        if not self.lines:
            raise DatasetError(f"plot {self.name!r} has no lines; remove the plot or add its measured lines")

        kinds = ["conv2d"] * len(self.lines) if self.line_kinds is None else list(self.line_kinds)
        if len(kinds) != len(self.lines):
            raise DatasetError(
                f"plot {self.name!r}: {len(kinds)} line kinds given for {len(self.lines)} lines; "
                "give one kind per line"
            )
        self.lines = [check_line(line, self.name, index, kind) for index, (line, kind) in enumerate(zip(self.lines, kinds))]
        self.line_kinds = kinds

        self.annotations = [_check_annotation(item, self.name) for item in self.annotations]
        self.hardware = dict(self.hardware or {})

    @property
    def rows(self):
        """All lines stacked: float64 array of shape (n, 7)."""
        return np.concatenate(self.lines, axis=0)


def _check_annotation(item, plot_name):
    try:
        x, y, text = item
    except (TypeError, ValueError):
        raise DatasetError(f"plot {plot_name!r}: annotation {item!r} is not an (x, y, text) triple") from None
    return (x, y, str(text))


class Table:
    """Measured layers without plot structure.

    Parameters
    ----------
    layers : sequence of Conv2D or Dense
        One layer per measurement (``alphaflops.layers``).
    times_ms : array_like, shape (n,)
        Measured time of each layer in milliseconds, positive and finite.
    metadata : dict of str -> array_like, optional
        Extra per-row columns (n values each), kept as numpy arrays.
    group_column : str, optional
        Name of a metadata column whose values define the row groups (for
        grouped cross-validation); without it every row has group -1.

    Attributes
    ----------
    layers : list
    times_ms : numpy.ndarray, shape (n,)
    metadata : dict of str -> numpy.ndarray
    group_column : str or None
    X : numpy.ndarray, shape (n, 6)
        ``alphaflops.layers.layers_to_rows(layers)``.
    """

    def __init__(self, layers, times_ms, metadata=None, group_column=None):
        from alphaflops.layers import layers_to_rows

        self.layers = list(layers)
        count = len(self.layers)
        if count == 0:
            raise DatasetError("the table has no rows; pass at least one layer and its time")

        self.times_ms = np.array(times_ms, dtype=np.float64).reshape(-1)
        if self.times_ms.shape[0] != count:
            raise DatasetError(
                f"the table has {count} layers but {self.times_ms.shape[0]} times; pass one time per layer"
            )
        check_times(self.times_ms, "table", scope="table")

        for index, layer in enumerate(self.layers):
            check_kind(getattr(layer, "kind", None), f"table, row {index}")
        self.X = np.asarray(layers_to_rows(self.layers), dtype=np.float64).reshape(count, 6)

        self.metadata = {str(name): _metadata_column(name, values, count) for name, values in (metadata or {}).items()}
        if group_column is not None and group_column not in self.metadata:
            if self.metadata:
                advice = f"pass one of the metadata columns {', '.join(self.metadata)}"
            else:
                advice = "the table has no metadata columns, so pass no group column"
            raise DatasetError(f"group column {group_column!r} not found; {advice}")
        self.group_column = group_column

    def __len__(self):
        return len(self.layers)

    def select(self, indices):
        """Return a new Table with the rows at ``indices`` (int array)."""
        return Table(
            [self.layers[i] for i in indices],
            self.times_ms[indices],
            {name: values[indices] for name, values in self.metadata.items()},
            self.group_column,
        )


def _metadata_column(name, values, count):
    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] != count:
        raise DatasetError(f"metadata column {name!r} has shape {array.shape}; expected ({count},)")
    return array


class Dataset:
    """Measured layer times with their plot structure and hardware.

    Parameters
    ----------
    name : str
        Name of the set.
    plots : sequence of Plot, optional
        Plots of lines. Give either plots or ``table``.
    hardware : dict, optional
        Hardware record; normalized with
        :func:`~alphaflops.datasets.hardware.normalize_hardware`. Defaults to
        the plots' common record when every plot has the same one.
    source : str, optional
        Path or URL of the file the data was read from.
    sha256 : str, optional
        SHA-256 hex digest of that file.
    run : dict, optional
        Measurement metadata (tool versions, repetitions and so on).
    table : Table, optional
        Measured layers without plots.

    Attributes
    ----------
    X : numpy.ndarray, shape (n, 6), float64
        Columns H, W, Cin, Cout, K1, K2, in plot, line, row order.
    y : numpy.ndarray, shape (n,), float64
        Measured times in milliseconds.
    groups : numpy.ndarray, shape (n,), int
        Plot index of each row; for tables, the index of the row's value in
        ``group_names``, or -1 everywhere without a group column.
    group_names : list of str
        Plot names, or the sorted values of the table's group column.
    line_index, row_index : numpy.ndarray, shape (n,), int
        Line within the plot and row within the line (-1 and the table row
        for tables).
    kinds : numpy.ndarray, shape (n,), str
        "conv2d" or "dense" per row.
    metadata : dict of str -> numpy.ndarray
        Extra per-row columns (tables only; empty for plots).
    """

    def __init__(self, name, plots=(), hardware=None, source=None, sha256=None, run=None, table=None):
        self.name = str(name)
        self.plots = list(plots)
        self.table = table
        if self.plots and table is not None:
            raise DatasetError(f"dataset {self.name!r}: give either plots or a table, not both")
        if not self.plots and table is None:
            raise DatasetError(f"dataset {self.name!r} has no plots and no table")

        if hardware is None:
            hardware = _common_hardware(self.plots)
        self.hardware = normalize_hardware(hardware)
        self.source = None if source is None else str(source)
        self.sha256 = sha256
        self.run = dict(run or {})
        self._build_rows()

    def _build_rows(self):
        if self.table is not None:
            self._build_table_rows()
            return

        rows, groups, line_index, row_index, kinds = [], [], [], [], []
        for plot_number, plot in enumerate(self.plots):
            for line_number, (line, kind) in enumerate(zip(plot.lines, plot.line_kinds)):
                count = line.shape[0]
                rows.append(line)
                groups.append(np.full(count, plot_number))
                line_index.append(np.full(count, line_number))
                row_index.append(np.arange(count))
                kinds.append(np.full(count, kind))

        stacked = np.concatenate(rows, axis=0)
        self.X = np.ascontiguousarray(stacked[:, :6])
        self.y = np.ascontiguousarray(stacked[:, 6])
        self.groups = np.concatenate(groups).astype(np.int64)
        self.line_index = np.concatenate(line_index).astype(np.int64)
        self.row_index = np.concatenate(row_index).astype(np.int64)
        self.kinds = np.concatenate(kinds)
        self.metadata = {}
        self.group_names = [plot.name for plot in self.plots]

    def _build_table_rows(self):
        table = self.table
        count = len(table)
        self.X = table.X
        self.y = table.times_ms
        self.line_index = np.full(count, -1, dtype=np.int64)
        self.row_index = np.arange(count, dtype=np.int64)
        self.kinds = np.array([layer.kind for layer in table.layers])
        self.metadata = table.metadata

        if table.group_column is None:
            self.groups = np.full(count, -1, dtype=np.int64)
            self.group_names = []
            return
        values = table.metadata[table.group_column].astype(str)
        names, codes = np.unique(values, return_inverse=True)
        self.groups = codes.astype(np.int64)
        self.group_names = names.tolist()

    def __len__(self):
        return self.y.shape[0]

    def __repr__(self):
        shape = f"{len(self.plots)} plots" if self.plots else "a table"
        return f"Dataset({self.name!r}, {len(self)} rows in {shape})"

    @property
    def has_plots(self):
        """True when the rows come from plots of lines."""
        return bool(self.plots)

    @property
    def plot_names(self):
        """Names of the plots, in order (empty for tables)."""
        return [plot.name for plot in self.plots]

    @property
    def layers(self):
        """One ``Conv2D`` or ``Dense`` layer per row (``alphaflops.layers``).

        Plot rows become layers with :func:`alphaflops.layers.layer_from_row`
        ("same" padding, stride 1; a dense row's H is the batch).
        """
        if self.table is not None:
            return list(self.table.layers)

        from alphaflops.layers import layer_from_row

        return [layer_from_row(row, kind=kind) for row, kind in zip(self.X, self.kinds)]

    def subset(self, mask):
        """Return a Dataset with the selected rows, in dataset order.

        Parameters
        ----------
        mask : array_like
            Boolean mask of shape (n,) or integer row indices. Index order
            and repeats are ignored: each selected row appears once, in the
            order of this dataset.

        Returns
        -------
        Dataset
            Same name, hardware, source, sha256 and run. Plot datasets keep
            their plots and lines, minus lines and plots left without rows,
            so ``groups`` numbers the remaining plots.

        Raises
        ------
        DatasetError
            If no row is selected.
        """
        selected = _as_mask(mask, len(self))
        if not selected.any():
            raise DatasetError(f"dataset {self.name!r}: the subset selects no rows")

        common = dict(hardware=self.hardware, source=self.source, sha256=self.sha256, run=self.run)
        if self.table is not None:
            return Dataset(self.name, table=self.table.select(np.flatnonzero(selected)), **common)
        return Dataset(self.name, plots=self._subset_plots(selected), **common)

    def _subset_plots(self, selected):
        plots = []
        for plot_number, plot in enumerate(self.plots):
            lines, kinds = [], []
            for line_number, (line, kind) in enumerate(zip(plot.lines, plot.line_kinds)):
                in_line = (self.groups == plot_number) & (self.line_index == line_number)
                keep = selected[in_line]
                if keep.any():
                    lines.append(line[keep])
                    kinds.append(kind)
            if lines:
                plots.append(
                    Plot(plot.name, plot.axis, lines, kinds, plot.x_label, plot.ylim, plot.annotations, plot.hardware)
                )
        return plots

    def to_json(self, path):
        """Write the project JSON format (see :mod:`alphaflops.datasets.project_json`)."""
        from alphaflops.datasets.project_json import write_json

        write_json(self, path)

    def to_csv(self, path):
        """Write a tidy CSV with one row per measurement (see :mod:`alphaflops.datasets.tidy_csv`)."""
        from alphaflops.datasets.tidy_csv import write_tidy_csv

        write_tidy_csv(self, path)


def _common_hardware(plots):
    records = [plot.hardware for plot in plots]
    if records and all(record == records[0] for record in records):
        return records[0]
    # Plots measured on different GPUs have no common record; each plot keeps its own.
    return {}


def _as_mask(mask, count):
    array = np.asarray(mask)
    if array.dtype == bool:
        if array.shape != (count,):
            raise DatasetError(f"boolean mask has shape {array.shape}; expected ({count},)")
        return array

    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise DatasetError(f"mask must be booleans or integer row indices, found dtype {array.dtype}")
    indices = array.astype(np.int64).reshape(-1)
    if indices.size and (indices.min() < -count or indices.max() >= count):
        raise DatasetError(f"row index out of range for a dataset of {count} rows")
    selected = np.zeros(count, dtype=bool)
    selected[indices] = True
    return selected
