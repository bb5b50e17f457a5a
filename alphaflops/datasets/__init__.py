"""Measured layer timings: loading, validation, export and download.

``load_dataset`` reads the published T2000 pickle (without running code
from it), the project's JSON format, NeuSight's convolution tables and
generic CSV files into a :class:`Dataset`.
"""

from alphaflops.datasets.dataset import Dataset, Plot, Table
from alphaflops.datasets.download import DEFAULT_URL, download_t2000
from alphaflops.datasets.hardware import normalize_hardware, read_neusight_device
from alphaflops.datasets.loading import FORMATS, detect_format, load_dataset
from alphaflops.datasets.published import T2000_SHA256

__all__ = [
    "DEFAULT_URL",
    "FORMATS",
    "T2000_SHA256",
    "Dataset",
    "Plot",
    "Table",
    "bundled_datasets",
    "detect_format",
    "download_t2000",
    "load_dataset",
    "normalize_hardware",
    "read_neusight_device",
]


def bundled_datasets():
    """Return the datasets shipped with alphaflops as a dict name -> path."""
    from alphaflops.datasets.bundled import bundled_datasets as list_bundled

    return list_bundled()
