"""The published T2000 measurement pickle (Asperti, Evangelista, Marzolla, LOD 2021).

The file is a dict ``{"plots": [...]}``; each plot dict has ``name``,
``no_lines``, ``axis``, ``x_axis_name``, ``ylim``, ``text`` (annotations),
``lines`` ((n, 7) float64 arrays) and ``hardware``. It was published at
https://github.com/asperti/alpha_flops_dataset (file ``data.pickle``).
"""

import hashlib
from pathlib import Path

from alphaflops.datasets.dataset import Dataset, Plot
from alphaflops.datasets.safe_pickle import safe_loads
from alphaflops.errors import DatasetError

#: SHA-256 of the published ``data.pickle`` (43,484 bytes).
T2000_SHA256 = "d63822d60e1002bdbdb881acf58f1aa0c2b843d81ae577cd8b80c25a3cce62a6"

#: Lines of the published set that time a dense layer rather than a 1x1
#: convolution, by plot name: ``None`` means every line of the plot. The
#: pickle itself does not record the layer kind.
PUBLISHED_DENSE_LINES = {
    "conv_fixed_progressive": {0},
    "increasing_batch": None,
}

_REQUIRED_PLOT_KEYS = ("name", "axis", "lines")

# The next step of every layout error, with the layout that the reader expects.
_LAYOUT_ADVICE = (
    "write the file in the published layout or as project JSON (Dataset.to_json). The published layout is "
    "a dict {'plots': [plot, ...]}, and each plot is a dict with 'name', 'axis' (a column index 0..5 or "
    "'progressive') and 'lines' (a list of (n, 7) arrays with columns H, W, Cin, Cout, K1, K2, T_ms)"
)


def read_pickle(path, data=None):
    """Read a measurement pickle in the published layout, without running code.

    Parameters
    ----------
    path : str or os.PathLike
        The pickle file; its path and SHA-256 become ``source`` and ``sha256``.
    data : bytes, optional
        The file's contents, when the caller has already read them.

    Returns
    -------
    Dataset
        Named "t2000" for the published file and after the file stem
        otherwise. Lines listed in
        :data:`PUBLISHED_DENSE_LINES` get kind "dense", all others "conv2d".

    Raises
    ------
    UnsafePickleError
        If the pickle names any global besides numpy's array rebuilders.
    DatasetError
        If the file is truncated, not a pickle, not in the published layout
        or holds invalid rows (the message names plot, line and row).
    """
    path = Path(path)
    if data is None:
        data = path.read_bytes()
    content = safe_loads(data, source=str(path))

    problem = _top_level_problem(content)
    if problem is not None:
        raise DatasetError(
            f"{path} is not a measurement pickle in the published layout: {problem}; {_LAYOUT_ADVICE}"
        )

    try:
        plots = [_read_plot(item, index) for index, item in enumerate(content["plots"])]
        digest = hashlib.sha256(data).hexdigest()
        name = "t2000" if digest == T2000_SHA256 else path.stem
        return Dataset(name, plots=plots, source=str(path), sha256=digest)
    except DatasetError as error:
        raise DatasetError(f"{path}: {error}") from None


def _top_level_problem(content):
    """Return what is wrong with the unpickled object's top level, or None for a dict with a 'plots' list."""
    if not isinstance(content, dict):
        return f"it contains an object of type {type(content).__name__}, not a dict"
    if not content:
        return "it contains an empty dict, without a 'plots' key"
    if "plots" not in content:
        keys = ", ".join(repr(key) for key in list(content)[:10])
        return f"the dict has no 'plots' key (its keys: {keys})"
    plots = content["plots"]
    if not isinstance(plots, list):
        return f"'plots' is of type {type(plots).__name__}, not a list of plot dicts"
    return None


def _read_plot(item, index):
    if not isinstance(item, dict):
        raise DatasetError(f"plot {index} is of type {type(item).__name__}, not a dict; {_LAYOUT_ADVICE}")
    missing = [key for key in _REQUIRED_PLOT_KEYS if key not in item]
    if missing:
        raise DatasetError(f"plot {index} is missing the key(s) {', '.join(missing)}; {_LAYOUT_ADVICE}")

    name = str(item["name"])
    lines = item["lines"]
    if not isinstance(lines, list):
        raise DatasetError(
            f"plot {name!r}: 'lines' is of type {type(lines).__name__}, not a list; {_LAYOUT_ADVICE}"
        )
    declared = item.get("no_lines")
    if declared is not None and declared != len(lines):
        raise DatasetError(
            f"plot {name!r} declares no_lines = {declared} but has {len(lines)} lines; "
            "set no_lines to the number of lines, or remove it"
        )

    return Plot(
        name=name,
        axis=item["axis"],
        lines=lines,
        line_kinds=published_line_kinds(name, len(lines)),
        x_label=str(item.get("x_axis_name", "")),
        ylim=item.get("ylim"),
        annotations=list(item.get("text") or []),
        hardware=item.get("hardware") or {},
    )


def published_line_kinds(plot_name, line_count):
    """Return the layer kind of each line of a plot in the published layout."""
    if plot_name not in PUBLISHED_DENSE_LINES:
        return ["conv2d"] * line_count
    dense = PUBLISHED_DENSE_LINES[plot_name]
    return ["dense" if dense is None or index in dense else "conv2d" for index in range(line_count)]
