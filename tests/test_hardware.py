"""FP32 peak and memory facts derived from hardware records."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphaflops import hardware

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
