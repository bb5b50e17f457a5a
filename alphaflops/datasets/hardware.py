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

Every fact of these layouts, in the input and in an already normalized
record, must be a positive finite number (a whole one for counts) within a
plausible range for a GPU (see :data:`HARDWARE_FACTS`). The ranges catch
unit mix-ups, such as a clock in GHz where MHz is expected, which would
otherwise make the plausibility audit flag every row or none. A fact given
as None counts as absent.
"""

import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path

from alphaflops.errors import DatasetError

_NEUSIGHT_KEYS = {"Num_Sm", "Core_Per_SM", "Freq"}
_PUBLISHED_KEYS = {"coreCount", "coreClock"}


@dataclass(frozen=True)
class HardwareFact:
    """Valid values of one hardware record field.

    Attributes
    ----------
    unit : str
        Unit of the field, or "" for counts and compute capabilities.
    whole : bool
        Whether the value must be a whole number (a count).
    low : float or None
        Lowest plausible value in ``unit``, included. None accepts any
        positive value up to ``high``.
    high : float
        Highest plausible value in ``unit``, included.
    fix : str
        Sentence that ends the error message: what the field contains, with
        an example.
    """

    unit: str
    whole: bool
    low: float | None
    high: float
    fix: str


# The ranges are far wider than the figures of current GPUs (below 200 SMs,
# 4 GHz, 10 TB/s and 256 MB of L2) and far from the unit mistakes they catch.
# NOTE: the limits are judgment, not a standard, so widen one if a real device exceeds it.
_SM_COUNT_RANGE = (1, 1024)
_LANES_PER_SM_RANGE = (1, 1024)
_CLOCK_GHZ_RANGE = (0.1, 10.0)
_BANDWIDTH_GB_PER_S_RANGE = (1.0, 1e5)
_L2_MB_MAX = 1024.0
_MEMORY_GB_MAX = 1e4
_COMPUTE_CAPABILITY_RANGE = (1.0, 20.0)
_PEAK_GFLOP_PER_S_RANGE = (1.0, 1e6)

#: Fields of the NeuSight, published T2000 and normalized layouts that hold
#: hardware facts, and their valid values. Field names differ between the
#: layouts, so one table serves all three.
HARDWARE_FACTS = {
    # NeuSight device files
    "Num_Sm": HardwareFact("", True, *_SM_COUNT_RANGE,
                           "Num_Sm is the number of streaming multiprocessors (SMs), e.g. 40 for a Tesla T4, "
                           "not of CUDA cores"),
    "Core_Per_SM": HardwareFact("", True, *_LANES_PER_SM_RANGE,
                                "Core_Per_SM is the number of FP32 lanes (CUDA cores) of one SM, "
                                "e.g. 64 for a Tesla T4"),
    "Freq": HardwareFact("MHz", False, _CLOCK_GHZ_RANGE[0] * 1e3, _CLOCK_GHZ_RANGE[1] * 1e3,
                         "Freq is the core clock in MHz, e.g. 1590 for a 1.59 GHz clock"),
    "SingleFLOPs": HardwareFact("GFLOP/s", False, *_PEAK_GFLOP_PER_S_RANGE,
                                "SingleFLOPs is the FP32 peak in GFLOP/s, e.g. 8141 for 8.141 TFLOP/s"),
    "Mem_Bw": HardwareFact("GB/s", False, *_BANDWIDTH_GB_PER_S_RANGE,
                           "Mem_Bw is the memory bandwidth in GB/s, e.g. 320 for a Tesla T4"),
    "Dev_Mem": HardwareFact("GB", False, None, _MEMORY_GB_MAX,
                            "Dev_Mem is the device memory in GB (2^30 bytes), e.g. 15 for a Tesla T4"),
    "L2Cache": HardwareFact("MB", False, None, _L2_MB_MAX,
                            "L2Cache is the L2 cache size in MB (2^20 bytes), e.g. 4 for a Tesla T4"),
    # published T2000 records
    "coreCount": HardwareFact("", True, *_SM_COUNT_RANGE,
                              "coreCount is the number of streaming multiprocessors (SMs), e.g. 16 for a "
                              "Quadro T2000"),
    "coreClock": HardwareFact("GHz", False, *_CLOCK_GHZ_RANGE,
                              "coreClock is the core clock in GHz, e.g. 1.62 for a Quadro T2000"),
    "computeCapability": HardwareFact("", False, *_COMPUTE_CAPABILITY_RANGE,
                                      "computeCapability is the CUDA compute capability as major.minor, e.g. 7.5"),
    # normalized records
    "sm_count": HardwareFact("", True, *_SM_COUNT_RANGE,
                             "sm_count is the number of streaming multiprocessors (SMs), e.g. 40"),
    "fp32_lanes_per_sm": HardwareFact("", True, *_LANES_PER_SM_RANGE,
                                      "fp32_lanes_per_sm is the number of FP32 lanes of one SM, e.g. 64"),
    "clock_ghz": HardwareFact("GHz", False, *_CLOCK_GHZ_RANGE,
                              "clock_ghz is the core clock in GHz, e.g. 1.59"),
    "compute_capability": HardwareFact("", False, *_COMPUTE_CAPABILITY_RANGE,
                                       "compute_capability is the CUDA compute capability as major.minor, "
                                       "e.g. 7.5"),
    # The range contains every peak that the ranges above allow: from 2 x 1 SM x 1 lane x 0.1 GHz = 2e8
    # to 2 x 1024 SMs x 1024 lanes x 10 GHz, about 2.1e16 FLOP/s.
    "peak_fp32_flops": HardwareFact("FLOP/s", False, 1e8, 1e17,
                                    "peak_fp32_flops is the FP32 peak in FLOP/s, e.g. 8.1e12"),
    "published_peak_fp32_flops": HardwareFact("FLOP/s", False, _PEAK_GFLOP_PER_S_RANGE[0] * 1e9,
                                              _PEAK_GFLOP_PER_S_RANGE[1] * 1e9,
                                              "published_peak_fp32_flops is the FP32 peak in FLOP/s, e.g. 8.1e12"),
    "memory_bandwidth_bytes_per_s": HardwareFact("bytes/s", False, _BANDWIDTH_GB_PER_S_RANGE[0] * 1e9,
                                                 _BANDWIDTH_GB_PER_S_RANGE[1] * 1e9,
                                                 "memory_bandwidth_bytes_per_s is the memory bandwidth in "
                                                 "bytes/s, e.g. 3.2e11 for 320 GB/s"),
    "memory_bytes": HardwareFact("bytes", True, None, _MEMORY_GB_MAX * 2**30,
                                 "memory_bytes is the device memory in bytes, e.g. 16106127360 for 15 GB"),
    "l2_cache_bytes": HardwareFact("bytes", True, None, _L2_MB_MAX * 2**20,
                                   "l2_cache_bytes is the L2 cache size in bytes, e.g. 4194304 for 4 MB"),
}


def check_hardware_fact(field, value):
    """Raise DatasetError unless ``value`` is valid for the hardware record field ``field``.

    ``field`` is a key of :data:`HARDWARE_FACTS`. The one-line message names
    the field, the value and the problem, and ends with what the field
    contains, e.g. "Freq is the core clock in MHz, e.g. 1590 for a 1.59 GHz
    clock".
    """
    fact = HARDWARE_FACTS[field]
    problem = _fact_problem(fact, value)
    if problem is not None:
        raise DatasetError(f"invalid {field} {_format_value(value)} in the hardware record: {problem}; {fact.fix}")


def _format_value(value):
    """Write a value as it appears in a JSON file: null, true, "fast", 1590."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return str(value)
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _fact_problem(fact, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return "expected a number"
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        return "expected a positive finite number"
    if fact.whole and not number.is_integer():
        return "expected a whole number"

    unit = f" {fact.unit}" if fact.unit else ""
    if fact.low is None and number > fact.high:
        return f"above the plausible maximum of {fact.high:g}{unit}"
    if fact.low is not None and not fact.low <= number <= fact.high:
        return f"outside the plausible range of {fact.low:g} to {fact.high:g}{unit}"
    return None


def _check_facts(record, required=()):
    """Check every hardware fact in ``record``, where None counts as absent except for the ``required`` fields."""
    for field in sorted(required):
        check_hardware_fact(field, record[field])
    for field, value in record.items():
        if field in HARDWARE_FACTS and value is not None:
            check_hardware_fact(field, value)


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

    Raises
    ------
    DatasetError
        If a hardware fact of the record, or of its ``"original"``, is not
        a positive finite number, not whole where it counts something, or
        outside its plausible range (see :data:`HARDWARE_FACTS`), or a
        field that the layout requires is None. The message names the
        field, the value and what the field contains, but not the file, so
        readers of files prefix the path.
    """
    if not record:
        return {}
    if "original" in record:
        _check_normalized(record)
        return dict(record)

    required = _required_keys(record)
    _check_facts(record, required)
    if not required:
        return _from_other(record)
    normalized = _from_neusight(record) if required is _NEUSIGHT_KEYS else _from_published(record)
    normalized["original"] = dict(record)
    return normalized


def _required_keys(record):
    """Return the keys of the source layout that ``record`` is in, or an empty set for other layouts."""
    if _NEUSIGHT_KEYS <= record.keys():
        return _NEUSIGHT_KEYS
    if _PUBLISHED_KEYS <= record.keys():
        return _PUBLISHED_KEYS
    return set()


def _check_normalized(record):
    # alphaflops.hardware reads Core_Per_SM from "original", so the input record is checked too.
    _check_facts(record)
    original = record["original"]
    if isinstance(original, dict):
        _check_facts(original, _required_keys(original))


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
    if record.get("SingleFLOPs") is not None:
        normalized["published_peak_fp32_flops"] = float(record["SingleFLOPs"]) * 1e9
    if record.get("Mem_Bw") is not None:
        normalized["memory_bandwidth_bytes_per_s"] = float(record["Mem_Bw"]) * 1e9
    if record.get("Dev_Mem") is not None:
        normalized["memory_bytes"] = int(float(record["Dev_Mem"]) * 2**30)
    if record.get("L2Cache") is not None:
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
        If the file is not JSON, lacks a required key, or has a value that
        :func:`normalize_hardware` rejects; the message starts with the path.
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
    except DatasetError as error:
        raise DatasetError(f"{path}: {error}") from None
