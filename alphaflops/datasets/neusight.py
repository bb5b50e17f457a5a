"""NeuSight's per-GPU convolution tables (Lee, Phanishayee, Mahajan, ASPLOS 2025)."""

#: Columns that identify a NeuSight convolution table; ``Kernel_Szie`` is
#: spelled as in the published files.
NEUSIGHT_LAYER_COLUMNS = ("B", "Input_Channel", "Output_Channel", "Kernel_Szie", "Input_Size", "Stride", "Padding")
NEUSIGHT_TIME_COLUMN = "Latency"


def is_neusight_header(header):
    """Return True when a CSV header line has NeuSight's layer and time columns."""
    names = {name.strip() for name in header.split(",")}
    return NEUSIGHT_TIME_COLUMN in names and set(NEUSIGHT_LAYER_COLUMNS) <= names
