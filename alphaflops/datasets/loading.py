"""``load_dataset``: read any supported measurement file, or a bundled set by name."""

from pathlib import Path

from alphaflops.datasets.dataset import Dataset, Table
from alphaflops.datasets.hardware import normalize_hardware, read_neusight_device
from alphaflops.datasets.neusight import check_device_name, is_neusight_header
from alphaflops.datasets.tidy_csv import is_tidy_header
from alphaflops.errors import DatasetError

#: Formats that :func:`load_dataset` reads.
FORMATS = ("auto", "pickle", "json", "neusight", "tidy", "csv")

_PICKLE_PROTOCOL_2_AND_LATER = b"\x80"
#: Bytes at the start of a file that :func:`detect_format` reads.
SNIFF_BYTES = 4096


def load_dataset(
    path_or_name,
    format="auto",
    device=None,
    *,
    columns=None,
    time_unit="ms",
    group_column=None,
    name=None,
):
    """Load measured layer times from a file or a bundled dataset name.

    Parameters
    ----------
    path_or_name : str or os.PathLike
        A file, or the name of a dataset shipped with alphaflops (see
        :func:`bundled_datasets`) when no such file exists.
    format : {"auto", "pickle", "json", "neusight", "tidy", "csv"}
        "pickle": the published T2000 layout, read without running code.
        "json": the project's own format. "neusight": NeuSight's per-GPU
        convolution CSV. "tidy": the CSV that ``Dataset.to_csv`` writes,
        read as a table. "csv": any CSV with a ``columns`` mapping.
        "auto" (default) picks by content: a pickle header, a JSON object,
        NeuSight's column names, "csv" when ``columns`` is given, or the
        tidy CSV columns.
    device : str or os.PathLike or dict, optional
        Hardware record for the dataset: a NeuSight device JSON file or a
        dict; replaces the record stored in the file.
    columns : dict of str -> str or list of str, optional
        For "csv": maps file columns to layer arguments (``height``,
        ``in_channels``, ``kernel_size``, ``batch``, ...), ``"kind"`` or
        ``"time"``; see :func:`alphaflops.datasets.generic_csv.read_csv`.
    time_unit : {"ms", "s", "us"}
        For "csv": unit of the time column.
    group_column : str, optional
        For table datasets: a file or metadata column whose values group the
        rows (``Dataset.groups``); without it every row has group -1. Plot
        datasets ignore it, because their groups are the plots.
    name : str, optional
        Dataset name; defaults to the file stem.

    Returns
    -------
    Dataset
        ``source`` is the file path and ``sha256`` its digest.

    Raises
    ------
    DatasetError
        If the file is invalid, truncated or of an unknown format; the
        message names the file and what it is not.
    UnsafePickleError
        If a pickle names a global other than numpy's array rebuilders.
    FileNotFoundError
        If ``path_or_name`` is neither a file nor a bundled dataset.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown dataset format {format!r}; expected one of {', '.join(FORMATS)}")

    path = _resolve_path(path_or_name)
    data = path.read_bytes()
    if format == "auto":
        format = detect_format(data, path, has_columns=columns is not None)

    dataset = _read(format, path, data, columns=columns, time_unit=time_unit, group_column=group_column)
    if group_column is not None and dataset.table is not None and dataset.table.group_column != group_column:
        dataset = _regroup(dataset, group_column)
    if name is not None:
        dataset.name = str(name)
    if device is not None:
        hardware = _read_device(device)
        check_device_name(dataset, hardware)
        dataset.hardware = hardware
    return dataset


def _resolve_path(path_or_name):
    path = Path(path_or_name)
    if path.is_file():
        return path

    bundled = _resolve_bundled(str(path_or_name))
    if bundled is not None:
        return Path(bundled)
    if path.exists():
        raise DatasetError(f"{path} is not a file; pass the path of a dataset file inside it")
    raise FileNotFoundError(
        f"dataset {str(path_or_name)!r} not found: no such file and no bundled dataset of that name; "
        "check the path, or run 'alphaflops datasets' for the bundled names"
    )


def _resolve_bundled(name):
    try:
        from alphaflops.datasets.bundled import resolve_bundled
    except ModuleNotFoundError as error:
        if error.name != "alphaflops.datasets.bundled":
            raise
        return None
    return resolve_bundled(name)


def detect_format(data, path="data", has_columns=False):
    """Return the format name of a dataset file's contents.

    Parameters
    ----------
    data : bytes
        The file's contents (the first few kilobytes suffice).
    path : str or os.PathLike
        Name of the file for error messages.
    has_columns : bool
        Whether the caller gave a column mapping, which selects "csv" for a
        text file that is not a NeuSight table.

    Raises
    ------
    DatasetError
        If the contents match no supported format.
    """
    if data.startswith(_PICKLE_PROTOCOL_2_AND_LATER):
        return "pickle"

    head = data[:SNIFF_BYTES]
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the sniff limit is still text.
        if error.start < len(head) - 4:
            raise DatasetError(
                f"{path} is not a dataset file: not a pickle (protocol 2 or later), JSON or CSV "
                f"(binary data starting {data[:8]!r}); pass a measurement file in one of those formats"
            ) from None
        text = head[: error.start].decode("utf-8-sig")

    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "json"
    if not stripped:
        raise DatasetError(f"{path} is not a dataset file: it is empty")

    header = stripped.splitlines()[0]
    if is_neusight_header(header):
        return "neusight"
    if has_columns:
        return "csv"
    if is_tidy_header(header):
        return "tidy"
    raise DatasetError(
        f"{path} is not a pickle, an alphaflops JSON file, a NeuSight table or a tidy CSV written by "
        "Dataset.to_csv; if it is another CSV file, pass format='csv' and a columns mapping"
    )


def _read(format, path, data, **options):
    if format == "pickle":
        from alphaflops.datasets.published import read_pickle

        return read_pickle(path, data)
    if format == "json":
        from alphaflops.datasets.project_json import read_json

        return read_json(path, data)
    if format == "neusight":
        from alphaflops.datasets.neusight import read_neusight

        return read_neusight(path, data, group_column=options["group_column"])
    if format == "tidy":
        from alphaflops.datasets.tidy_csv import read_tidy_csv

        return read_tidy_csv(path, data)

    from alphaflops.datasets.generic_csv import read_csv

    if options["columns"] is None:
        raise ValueError("format='csv' needs a columns mapping from file columns to layer arguments and 'time'")
    return read_csv(path, data, **options)


def _regroup(dataset, group_column):
    table = dataset.table
    regrouped = Table(table.layers, table.times_ms, table.metadata, group_column)
    return Dataset(
        dataset.name, hardware=dataset.hardware, source=dataset.source, sha256=dataset.sha256, run=dataset.run, table=regrouped
    )


def _read_device(device):
    if isinstance(device, dict):
        return normalize_hardware(device)
    return read_neusight_device(device)
