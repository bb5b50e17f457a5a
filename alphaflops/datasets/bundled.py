"""Datasets shipped with alphaflops, found by name.

The files live in the repository's top-level ``data/`` folder, which the
package build installs as the ``alphaflops.data`` subpackage (see
``pyproject.toml``). An installed package reads them from there; a source
checkout without that mapping (such as an older editable install) reads
``data/`` beside the ``alphaflops`` folder.
"""

import importlib.util
import json
from pathlib import Path

#: Platforms whose datasets ``default_dataset_name`` prefers, in order.
GPU_PLATFORMS = ("gpu", "cuda", "rocm")


def bundled_data_dir():
    """Return the folder of the bundled dataset files, or None if there is none."""
    spec = importlib.util.find_spec("alphaflops.data")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)

    checkout_data = Path(__file__).resolve().parents[2] / "data"
    if checkout_data.is_dir():
        return checkout_data
    return None


def bundled_datasets():
    """List the bundled datasets.

    Returns
    -------
    dict of str -> pathlib.Path
        Dataset name (the file name without ``.json``) to file path, sorted
        by name. Empty when no dataset is bundled.
    """
    folder = bundled_data_dir()
    if folder is None:
        return {}
    return {path.stem: path for path in sorted(folder.glob("*.json"))}


def resolve_bundled(name):
    """Return the path of the bundled dataset ``name``, or None if there is no such dataset."""
    return bundled_datasets().get(str(name))


def bundled_summary(path):
    """Read the name, row count and hardware of a bundled dataset file without validating it.

    Returns
    -------
    dict
        ``rows``, ``platform``, ``device`` (GPU name or CPU model), ``reps``,
        ``max_seconds`` and ``date``; a value is None where the file lacks it.
    """
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    hardware = document.get("hardware") or {}
    rows = sum(len(line.get("rows", [])) for plot in document.get("plots") or [] for line in plot.get("lines", []))
    if document.get("table"):
        rows += len(document["table"].get("rows", []))
    return {
        "rows": rows,
        "platform": hardware.get("platform"),
        "device": hardware.get("name") or hardware.get("device_kind"),
        "reps": hardware.get("reps"),
        "max_seconds": hardware.get("max_seconds"),
        "date": hardware.get("date"),
    }


def default_dataset_name():
    """Return the name of the dataset that commands use when none is given.

    A GPU dataset is preferred, because the cost models predict GPU time;
    without one, the first CPU dataset by name is used.

    Raises
    ------
    FileNotFoundError
        If no dataset is bundled with this installation.
    """
    datasets = bundled_datasets()
    if not datasets:
        raise FileNotFoundError(
            "no dataset is bundled with this alphaflops installation; give a dataset file with --dataset"
        )
    for name, path in datasets.items():
        if bundled_summary(path)["platform"] in GPU_PLATFORMS:
            return name
    return next(iter(datasets))
