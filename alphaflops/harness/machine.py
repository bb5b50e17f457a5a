"""Describe the machine and JAX device that a measurement runs on."""

import os
import platform
import sys
from datetime import datetime, timezone

from alphaflops._version import __version__


def cpu_model():
    """Return the CPU model name from /proc/cpuinfo, or what ``platform`` reports."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def nvidia_driver_version():
    """Return the NVIDIA kernel driver version, or None where it cannot be read.

    Only Linux exposes it without running a program, in /proc/driver/nvidia/version.
    """
    try:
        with open("/proc/driver/nvidia/version", encoding="utf-8") as version_file:
            first_line = version_file.readline()
    except OSError:
        return None
    for word in first_line.split():
        if word[:1].isdigit() and "." in word:
            return word
    return first_line.strip() or None


def utc_now():
    """Return the current UTC time as an ISO 8601 string with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def hardware_record(device, dtype, reps, warmup, max_seconds, timing_mode):
    """Build the hardware record stored with a measured dataset.

    Parameters
    ----------
    device : jax.Device
        The device that runs the layers.
    dtype : str
        Data type of inputs and weights.
    reps, warmup : int
        Requested timed repetitions and warm-up calls per configuration.
    max_seconds : float or None
        Time budget per configuration, or None.
    timing_mode : str
        Identifier of the timing method (see ``alphaflops.harness.timing``).

    Returns
    -------
    dict
        ``name`` (GPU name or CPU model), ``platform``, ``device_kind``,
        ``device_count``, ``cpu_model``, ``gpu_name`` (None on CPU),
        ``driver`` (None where unknown), ``jax_version``, ``jaxlib_version``,
        ``dtype``, ``reps``, ``warmup``, ``max_seconds``, ``timing_mode``,
        ``date``, plus ``cpu_count``, ``python_version``, ``os``,
        ``alphaflops_version`` and ``command`` (the command line that ran).
    """
    import jax
    import jaxlib

    # NOTE: this GPU branch has not run on a GPU yet; all measurements so far
    # were on CPU. JAX reports NVIDIA and AMD GPUs with platform "gpu".
    is_gpu = device.platform in ("gpu", "cuda", "rocm")
    cpu = cpu_model()
    return {
        "name": device.device_kind if is_gpu else cpu,
        "platform": device.platform,
        "device_kind": device.device_kind,
        "device_count": jax.device_count(device.platform),
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "gpu_name": device.device_kind if is_gpu else None,
        "driver": nvidia_driver_version() if is_gpu else None,
        "jax_version": jax.__version__,
        "jaxlib_version": jaxlib.__version__,
        "python_version": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "alphaflops_version": __version__,
        "dtype": dtype,
        "reps": reps,
        "warmup": warmup,
        "max_seconds": max_seconds,
        "timing_mode": timing_mode,
        "date": utc_now(),
        "command": " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]]) if sys.argv else None,
    }


def select_device(name=None):
    """Return the JAX device to measure on: the default one, or the first of platform ``name``.

    Raises
    ------
    ValueError
        If JAX has no device of that platform.
    """
    import jax

    if name is None:
        return jax.devices()[0]
    try:
        return jax.devices(name)[0]
    except RuntimeError as error:
        raise ValueError(f"no JAX device of platform {name!r} is available ({error}); try 'cpu'") from None
