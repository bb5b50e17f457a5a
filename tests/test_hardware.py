"""FP32 peak and memory facts derived from hardware records, and the checks of those records."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphaflops import hardware
from alphaflops.datasets.hardware import HARDWARE_FACTS, normalize_hardware
from alphaflops.errors import DatasetError

T2000_RECORD = {"GPU": "Quadro T2000", "computeCapability": 7.5, "coreClock": 1.62, "coreCount": 16}
T4_DEVICE = {"Device": "Tesla T4", "Num_Sm": 40, "Core_Per_SM": 64, "Freq": 1590, "Mem_Bw": 320, "L2Cache": 4}


def test_peak_of_published_record():
    peak, explanation = hardware.peak_fp32_flops(T2000_RECORD)

    assert peak == pytest.approx(2 * 16 * 64 * 1.62e9)
    assert "compute capability 7.5" in explanation


def test_peak_uses_lanes_from_record():
    peak, explanation = hardware.peak_fp32_flops(T4_DEVICE)

    assert peak == pytest.approx(2 * 40 * 64 * 1.59e9)
    assert "from the record" in explanation


@pytest.mark.parametrize("capability, lanes", [(3.5, 192), (5.2, 128), (6.0, 64), (6.1, 128), (7.0, 64), (7.5, 64)])
def test_lanes_table_entries(capability, lanes):
    record = {"GPU": "g", "computeCapability": capability, "coreClock": 1.0, "coreCount": 1}

    peak, _ = hardware.peak_fp32_flops(record)

    assert peak == pytest.approx(2 * lanes * 1e9)


def test_peak_unknown_for_capability_outside_table():
    record = {"GPU": "g", "computeCapability": 8.6, "coreClock": 1.0, "coreCount": 10}

    peak, explanation = hardware.peak_fp32_flops(record)

    assert peak is None
    assert "8.6" in explanation


@pytest.mark.parametrize("record", [None, {}, {"GPU": "g"}])
def test_peak_unknown_without_sm_count(record):
    peak, explanation = hardware.peak_fp32_flops(record)

    assert peak is None
    assert "SM count" in explanation


@given(st.integers(min_value=1, max_value=200))
def test_peak_proportional_to_sm_count(sm_count):
    single, _ = hardware.peak_fp32_flops({**T2000_RECORD, "coreCount": 1})
    many, _ = hardware.peak_fp32_flops({**T2000_RECORD, "coreCount": sm_count})

    assert many == pytest.approx(sm_count * single)


@pytest.mark.parametrize("capability, expected", [(7.5, False), (8.0, True), (8.6, True), (9.0, True)])
def test_tf32_by_capability(capability, expected):
    record = {"GPU": "g", "computeCapability": capability, "coreClock": 1.0, "coreCount": 1}

    assert hardware.may_use_tf32(record) is expected


def test_tf32_unknown_without_capability():
    assert hardware.may_use_tf32(T4_DEVICE) is None


def test_memory_facts_from_device_record():
    assert hardware.memory_bandwidth(T4_DEVICE) == pytest.approx(320e9)
    assert hardware.l2_cache_bytes(T4_DEVICE) == 4 * 2**20


def test_memory_facts_absent_from_published_record():
    assert hardware.memory_bandwidth(T2000_RECORD) is None
    assert hardware.l2_cache_bytes(T2000_RECORD) is None


# Field, invalid value, and the phrase of the error message that gives the problem.
INVALID_DEVICE_VALUES = [
    ("Freq", -1590, "expected a positive finite number"),
    ("Freq", 1.59, "outside the plausible range of 100 to 10000 MHz"),
    ("Freq", 1.59e9, "outside the plausible range of 100 to 10000 MHz"),
    ("Freq", "1590", "expected a number"),
    ("Freq", True, "expected a number"),
    ("Freq", None, "expected a number"),
    ("Freq", float("nan"), "expected a positive finite number"),
    ("Mem_Bw", -320, "expected a positive finite number"),
    ("Mem_Bw", 0.32, "outside the plausible range of 1 to 100000 GB/s"),
    ("Mem_Bw", 3.2e11, "outside the plausible range of 1 to 100000 GB/s"),
    ("Core_Per_SM", 0, "expected a positive finite number"),
    ("Core_Per_SM", 2560, "outside the plausible range of 1 to 1024"),
    ("Num_Sm", 40.5, "expected a whole number"),
    ("Num_Sm", 2560, "outside the plausible range of 1 to 1024"),
    ("L2Cache", 4 * 2**20, "above the plausible maximum of 1024 MB"),
    ("L2Cache", -4, "expected a positive finite number"),
    ("SingleFLOPs", float("inf"), "expected a positive finite number"),
    ("Dev_Mem", 0, "expected a positive finite number"),
]


@pytest.mark.parametrize("field, value, problem", INVALID_DEVICE_VALUES)
def test_invalid_device_fact_rejected(field, value, problem):
    with pytest.raises(DatasetError) as caught:
        normalize_hardware({**T4_DEVICE, field: value})

    assert problem in str(caught.value)


@pytest.mark.parametrize("field, value, problem", INVALID_DEVICE_VALUES)
def test_invalid_fact_message_names_field_and_fix(field, value, problem):
    with pytest.raises(DatasetError) as caught:
        normalize_hardware({**T4_DEVICE, field: value})

    message = str(caught.value)
    assert message.startswith(f"invalid {field} ")
    assert message.endswith(HARDWARE_FACTS[field].fix)
    assert "\n" not in message


def test_freq_in_ghz_message_says_mhz():
    with pytest.raises(DatasetError) as caught:
        normalize_hardware({**T4_DEVICE, "Freq": 1.59})

    assert str(caught.value) == (
        "invalid Freq 1.59 in the hardware record: outside the plausible range of 100 to 10000 MHz; "
        "Freq is the core clock in MHz, e.g. 1590 for a 1.59 GHz clock"
    )


@pytest.mark.parametrize("clock", [1620, 0.0162, -1.62, "fast"])
def test_invalid_published_clock_rejected(clock):
    with pytest.raises(DatasetError, match="coreClock is the core clock in GHz"):
        normalize_hardware({**T2000_RECORD, "coreClock": clock})


def test_invalid_capability_rejected():
    with pytest.raises(DatasetError, match="invalid computeCapability 75 "):
        normalize_hardware({**T2000_RECORD, "computeCapability": 75})


@pytest.mark.parametrize("field, value", [("clock_ghz", "fast"), ("clock_ghz", 1590.0), ("sm_count", 0),
                                          ("memory_bandwidth_bytes_per_s", 320.0), ("l2_cache_bytes", -1)])
def test_invalid_normalized_fact_rejected(field, value):
    record = {**normalize_hardware(T4_DEVICE), field: value}

    with pytest.raises(DatasetError, match=f"invalid {field} "):
        hardware.peak_fp32_flops(record)


def test_invalid_fact_without_original_rejected():
    with pytest.raises(DatasetError, match='invalid clock_ghz "fast"'):
        hardware.peak_fp32_flops({"name": "g", "sm_count": 40, "clock_ghz": "fast"})


def test_invalid_original_of_normalized_record_rejected():
    record = normalize_hardware(T4_DEVICE)
    record["original"] = {**record["original"], "Core_Per_SM": 0}

    with pytest.raises(DatasetError, match="invalid Core_Per_SM 0 "):
        hardware.peak_fp32_flops(record)


def test_memory_bandwidth_rejects_negative():
    with pytest.raises(DatasetError, match="invalid Mem_Bw -320 "):
        hardware.memory_bandwidth({**T4_DEVICE, "Mem_Bw": -320})


def test_null_optional_fact_is_absent():
    record = normalize_hardware({**T4_DEVICE, "Mem_Bw": None, "L2Cache": None})

    assert "memory_bandwidth_bytes_per_s" not in record
    assert "l2_cache_bytes" not in record


def test_whole_float_count_accepted():
    record = normalize_hardware({**T4_DEVICE, "Num_Sm": 40.0})

    assert record["sm_count"] == 40
    assert isinstance(record["sm_count"], int)


@pytest.mark.parametrize("freq", [100, 10000])
def test_clock_range_ends_accepted(freq):
    record = normalize_hardware({**T4_DEVICE, "Freq": freq})

    assert record["clock_ghz"] == freq / 1000


def test_harness_record_kept_as_is():
    record = {"name": "cpu", "platform": "cpu", "reps": 5, "max_seconds": None, "cpu_count": 2}

    assert normalize_hardware(record) == record
