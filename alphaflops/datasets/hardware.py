"""Hardware records: one set of keys and units for the GPU behind a dataset.

Measurement files describe their GPU in their own words: the published
T2000 pickle has ``GPU``, ``coreCount`` (SMs), ``coreClock`` (GHz) and
``computeCapability``; NeuSight device files have ``Num_Sm``,
``Core_Per_SM``, ``Freq`` (MHz), ``SingleFLOPs`` (GFLOP/s), ``Mem_Bw``
(GB/s), ``Dev_Mem`` (GB) and ``L2Cache`` (MB). :func:`normalize_hardware`
maps both to the keys below in SI units and keeps the input under
``"original"``:

- ``name``: GPU name
- ``sm_count``: streaming multiprocessors
- ``fp32_lanes_per_sm``: FP32 results per clock per SM
- ``clock_ghz``: core clock in GHz
- ``peak_fp32_flops``: FP32 peak in FLOP/s, 2 per fused multiply-add. For
  published records it is set only when the compute capability is listed in
  :data:`alphaflops.hardware.FP32_LANES_PER_SM`.
- ``compute_capability``: CUDA compute capability, e.g. 7.5
- ``memory_bandwidth_bytes_per_s``, ``memory_bytes``, ``l2_cache_bytes``

A key is absent when the record does not give or imply it.
"""

import json
from pathlib import Path

from alphaflops.errors import DatasetError

_NEUSIGHT_KEYS = {"Num_Sm", "Core_Per_SM", "Freq"}
_PUBLISHED_KEYS = {"coreCount", "coreClock"}


def normalize_hardware(record):
    """Map a hardware record to the normalized keys, keeping the input.

    Parameters
    ----------
    record : dict or None
        A published T2000 ``hardware`` dict, a NeuSight device record, an
        already normalized record or None / empty.

    Returns
    -------
    dict
        For the two source layouts, the normalized keys that the record
        gives or implies plus ``"original"`` (a copy of the input). Other
        records come back as a copy, with ``name`` added from a ``GPU`` or
        ``Device`` key. An empty input gives ``{}``.
    """
    if not record:
        return {}
    if "original" in record:
        return dict(record)

    if _NEUSIGHT_KEYS <= record.keys():
        normalized = _from_neusight(record)
    elif _PUBLISHED_KEYS <= record.keys():
        normalized = _from_published(record)
    else:
        return _from_other(record)
    normalized["original"] = dict(record)
    return normalized


def _from_other(record):
    # Records in neither source layout, such as the harness's JAX device
    # records, are kept as they are, with a name added from GPU or Device.
    normalized = dict(record)
    name = record.get("GPU", record.get("Device"))
    if "name" not in normalized and name is not None:
        normalized["name"] = str(name)
    return normalized


def _from_published(record):
    normalized = {
        "name": str(record.get("GPU", "")),
        "sm_count": int(record["coreCount"]),
        "clock_ghz": float(record["coreClock"]),
    }
    capability = record.get("computeCapability")
    if capability is None:
        return normalized

    from alphaflops.hardware import FP32_LANES_PER_SM

    normalized["compute_capability"] = float(capability)
    lanes = FP32_LANES_PER_SM.get(round(float(capability), 1))
    if lanes is not None:
        normalized["fp32_lanes_per_sm"] = lanes
        normalized["peak_fp32_flops"] = _peak_flops(normalized)
    return normalized


def _from_neusight(record):
    # NeuSight's Freq is in MHz although its upstream README gives GHz,
    # because 1590 for a T4 only makes sense in MHz.
    normalized = {
        "name": str(record.get("Device", "")),
        "sm_count": int(record["Num_Sm"]),
        "fp32_lanes_per_sm": int(record["Core_Per_SM"]),
        "clock_ghz": float(record["Freq"]) / 1000.0,
    }
    normalized["peak_fp32_flops"] = _peak_flops(normalized)
    if "SingleFLOPs" in record:
        normalized["published_peak_fp32_flops"] = float(record["SingleFLOPs"]) * 1e9
    if "Mem_Bw" in record:
        normalized["memory_bandwidth_bytes_per_s"] = float(record["Mem_Bw"]) * 1e9
    if "Dev_Mem" in record:
        normalized["memory_bytes"] = int(float(record["Dev_Mem"]) * 2**30)
    if "L2Cache" in record:
        normalized["l2_cache_bytes"] = int(float(record["L2Cache"]) * 2**20)
    return normalized


def _peak_flops(normalized):
    lanes_per_second = normalized["sm_count"] * normalized["fp32_lanes_per_sm"] * normalized["clock_ghz"] * 1e9
    return 2.0 * lanes_per_second


def read_neusight_device(path):
    """Read a NeuSight device file into a normalized hardware record.

    Parameters
    ----------
    path : str or os.PathLike
        JSON file with ``Num_Sm``, ``Core_Per_SM`` and ``Freq`` (MHz), and
        optionally ``Device``, ``SingleFLOPs`` (GFLOP/s), ``Mem_Bw`` (GB/s),
        ``Dev_Mem`` (GB) and ``L2Cache`` (MB).

    Returns
    -------
    dict
        See :func:`normalize_hardware`. ``peak_fp32_flops`` is computed as
        2 x SMs x lanes x clock; the file's own figure is kept as
        ``published_peak_fp32_flops``.

    Raises
    ------
    DatasetError
        If the file is not JSON or lacks a required key.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DatasetError(f"{path} is not a NeuSight device file: not valid JSON ({error})") from None

    if not isinstance(record, dict):
        raise DatasetError(f"{path} is not a NeuSight device file: expected a JSON object")
    missing = sorted(_NEUSIGHT_KEYS - record.keys())
    if missing:
        raise DatasetError(f"{path} is not a NeuSight device file: missing key(s) {', '.join(missing)}")
    try:
        return normalize_hardware(record)
    except (TypeError, ValueError) as error:
        raise DatasetError(f"{path}: invalid value in NeuSight device file ({error})") from None
