"""NeuSight's per-GPU convolution tables (Lee, Phanishayee, Mahajan, ASPLOS 2025).

Each row of a table is one ``torch.nn.Conv2d`` forward call in float32 on an
input of shape (B, Input_Channel, Input_Size, Input_Size). The kernel is
square (``Kernel_Szie``, spelled so in the files), and ``Stride`` and
``Padding`` apply to every side. ``Latency`` is in milliseconds. The other
columns describe the kernels that cuDNN chose and are kept as metadata.
"""

import logging

from alphaflops.datasets.generic_csv import read_csv

logger = logging.getLogger(__name__)

#: File columns of a NeuSight table and the layer argument each one holds.
NEUSIGHT_COLUMNS = {
    "B": "batch",
    "Input_Size": ["height", "width"],
    "Input_Channel": "in_channels",
    "Output_Channel": "out_channels",
    "Kernel_Szie": "kernel_size",
    "Stride": "stride",
    "Padding": "padding",
    "Latency": "time",
}

#: Metadata columns that describe the software stack; a value shared by every
#: row goes into ``Dataset.run``.
_RUN_COLUMNS = {
    "Torch Version": "torch_version",
    "CUDNN Version": "cudnn_version",
    "CUDA Version": "cuda_version",
    "OPName": "operation",
}


def is_neusight_header(header):
    """Return True when a CSV header line has NeuSight's layer and time columns."""
    names = {name.strip() for name in header.split(",")}
    return set(NEUSIGHT_COLUMNS) <= names


def read_neusight(path, data=None, group_column=None):
    """Read a NeuSight convolution table into a table Dataset.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file as NeuSight published it.
    data : bytes, optional
        The file's contents, when the caller has already read them.
    group_column : str, optional
        File column whose values group the rows, e.g. ``"Kernel Name"``.

    Returns
    -------
    Dataset
        One ``Conv2D(Input_Size, Input_Size, Input_Channel, Output_Channel,
        Kernel_Szie, stride=Stride, padding=Padding, batch=B)`` per row with
        its ``Latency`` in ms. The other columns are in ``metadata``.
        ``hardware`` contains only the GPU name from the ``Device`` column,
        so pass ``device=`` to :func:`load_dataset` for the full record.
        ``run`` contains the framework versions shared by every row.
    """
    dataset = read_csv(path, data, columns=NEUSIGHT_COLUMNS, time_unit="ms", group_column=group_column)
    dataset.run = {"tool": "NeuSight", **_shared_values(dataset.metadata)}

    devices = sorted(set(dataset.metadata.get("Device", []).tolist()))
    if len(devices) == 1:
        dataset.hardware = {"name": devices[0], "original": {"Device": devices[0]}}
    elif len(devices) > 1:
        # NOTE: a table that mixes GPUs gets no hardware record; split it by the Device column first.
        logger.warning("%s has rows from %d GPUs (%s); no hardware record set", path, len(devices), ", ".join(devices))
    return dataset


def _shared_values(metadata):
    run = {}
    for column, key in _RUN_COLUMNS.items():
        values = metadata.get(column)
        if values is not None and len(set(values.tolist())) == 1:
            run[key] = values[0].item()
    return run


def check_device_name(dataset, hardware):
    """Log a warning when a device record names another GPU than the table's rows."""
    table_name = dataset.hardware.get("name")
    device_name = hardware.get("name")
    if table_name and device_name and table_name != device_name:
        logger.warning("device record is for %r but the table was measured on %r", device_name, table_name)

