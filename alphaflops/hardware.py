"""Peak arithmetic rate and memory figures of a GPU, from its hardware record.

The plausibility audit (:mod:`alphaflops.plausibility`) needs the fastest rate at
which a GPU can do FP32 arithmetic and the rate at which it can move bytes.
Records come in the shapes that :func:`alphaflops.datasets.hardware.normalize_hardware`
accepts (the published T2000 record, NeuSight device files, or an already
normalized record).

The FP32 peak is 2 FLOPs (one fused multiply-add) per FP32 lane per clock:
``2 x SMs x lanes per SM x clock``. Lanes per SM come from the record when it
gives them (NeuSight's ``Core_Per_SM``), else from the compute capability and
:data:`FP32_LANES_PER_SM`.

Every function here checks the record with ``normalize_hardware``, so a fact
that is not a positive number in its plausible range raises
:class:`~alphaflops.errors.DatasetError` instead of giving a negative, zero or
absurd peak or bandwidth.
"""

from alphaflops.datasets.hardware import normalize_hardware

#: FP32 add, multiply and multiply-add results per clock cycle per SM, by
#: compute capability. Source: the table "Throughput of Native Arithmetic
#: Instructions (Number of Results per Clock Cycle per Multiprocessor)" of the
#: CUDA C Programming Guide, section 5.4.1 "Arithmetic Instructions", in an
#: edition whose last column is 7.x (one value, 64, for 7.0, 7.2 and 7.5).
#: Later capabilities are left out because they have TF32 tensor cores (see
#: :data:`TF32_COMPUTE_CAPABILITY`), so their lane peak is no bound anyway.
FP32_LANES_PER_SM = {
    3.0: 192, 3.2: 192, 3.5: 192, 3.7: 192,
    5.0: 128, 5.2: 128, 5.3: 128,
    6.0: 64, 6.1: 128, 6.2: 128,
    7.0: 64, 7.2: 64, 7.5: 64,
}

#: First compute capability (8.0, Ampere) with TF32 tensor cores. cuDNN may run
#: FP32 convolutions on them: PyTorch's ``torch.backends.cudnn.allow_tf32``
#: controls whether it may on Ampere or newer GPUs (documentation of
#: ``torch.backends``, PyTorch 1.7). Their rate is above the FP32 lane peak,
#: so the lane peak is not an upper bound on such a GPU.
TF32_COMPUTE_CAPABILITY = 8.0


def peak_fp32_flops(hardware):
    """Derive the FP32 peak rate of the GPU in a hardware record.

    Parameters
    ----------
    hardware : dict or None
        A hardware record (see the module docstring).

    Returns
    -------
    peak : float or None
        FP32 peak in FLOP/s, or None when the record lacks the SM count, the
        clock, or both the lanes per SM and a compute capability listed in
        :data:`FP32_LANES_PER_SM`.
    explanation : str
        One sentence: how the peak was derived, or which fact is missing.

    Raises
    ------
    DatasetError
        If a fact of the record is invalid (see :func:`normalize_hardware`).
    """
    record = normalize_hardware(hardware or {})
    name = record.get("name") or "the GPU"
    sm_count = record.get("sm_count")
    clock_ghz = record.get("clock_ghz")
    if not sm_count or not clock_ghz:
        return None, f"The hardware record of {name} lacks the SM count or the clock, so no FP32 peak is derived."

    lanes, lanes_source = _fp32_lanes(record)
    if lanes is None:
        return None, f"The FP32 lanes per SM of {name} are unknown ({lanes_source}), so no FP32 peak is derived."

    peak = 2.0 * sm_count * lanes * clock_ghz * 1e9
    explanation = (
        f"FP32 peak of {name}: 2 FLOPs x {sm_count} SMs x {lanes} FP32 lanes per SM ({lanes_source}) "
        f"x {clock_ghz:g} GHz = {peak / 1e12:.3g} TFLOP/s."
    )
    return peak, explanation


def _fp32_lanes(record):
    original = record.get("original", {})
    if original.get("Core_Per_SM") is not None:
        return int(original["Core_Per_SM"]), "from the record"

    capability = record.get("compute_capability")
    if capability is None:
        return None, "the record gives neither lanes per SM nor a compute capability"
    lanes = FP32_LANES_PER_SM.get(round(float(capability), 1))
    if lanes is None:
        return None, f"compute capability {capability:g} is not in the lanes table"
    return lanes, f"compute capability {capability:g}, CUDA C Programming Guide throughput table"


def may_use_tf32(hardware):
    """Tell whether FP32 convolutions on this GPU may run on TF32 tensor cores.

    Parameters
    ----------
    hardware : dict or None
        A hardware record.

    Returns
    -------
    bool or None
        True for compute capability 8.0 or newer, False below it, None when
        the record gives no compute capability.
    """
    capability = normalize_hardware(hardware or {}).get("compute_capability")
    if capability is None:
        return None
    return float(capability) >= TF32_COMPUTE_CAPABILITY


def memory_bandwidth(hardware):
    """Return the DRAM bandwidth of the record in bytes/s, or None when absent."""
    value = normalize_hardware(hardware or {}).get("memory_bandwidth_bytes_per_s")
    return None if value is None else float(value)


def l2_cache_bytes(hardware):
    """Return the L2 cache size of the record in bytes, or None when absent."""
    value = normalize_hardware(hardware or {}).get("l2_cache_bytes")
    return None if value is None else int(value)
