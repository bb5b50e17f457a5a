"""Plausibility audit: measured times that are faster than the hardware allows.

A layer cannot finish faster than the arithmetic it must do at the GPU's
peak rate, nor faster than the bytes it must move at the memory bandwidth.
:func:`audit` computes, for every row of a dataset, a lower bound on its time
that holds for every algorithm the framework may pick, and flags the rows
measured below it.

Compute bound
    The bound counts one multiplication (one fused multiply-add, 2 FLOPs) per
    output element per input-output channel pair: ``2 * H * W * Cin * Cout``
    FLOPs for a six-column row, i.e. the direct FLOPs divided by the kernel
    area ``K1 * K2``. For 1x1 kernels and dense layers this is the direct
    count: they are matrix products, and the bound assumes no Strassen-type
    fast matrix product. For larger kernels the division by ``K1 * K2`` is
    the largest reduction that any of cuDNN's algorithms can reach:

    - Winograd's minimal filtering F(m x m, r x r) computes m^2 outputs with
      (m + r - 1)^2 multiplications (A. Lavin, S. Gray, "Fast Algorithms for
      Convolutional Neural Networks", arXiv:1509.09308), more than one per
      output for every tile size m, so it saves less than a factor r^2. The
      paper's F(4x4, 3x3) saves a factor 4 on 3x3 kernels.
    - FFT convolution multiplies the transforms pointwise, with at least one
      complex product (3 or 4 real multiplications) per frequency bin. A real
      transform of at least as many points as outputs has at least half as
      many bins, so FFT needs 1.5 or more multiplications per output.
    - Implicit GEMM that skips taps falling in the zero padding still needs
      at least one valid tap per output.

    The peak is the FP32 lane peak of :func:`alphaflops.hardware.peak_fp32_flops`.
    On compute capability 8.0 and newer, cuDNN may run FP32 convolutions on
    TF32 tensor cores, which are faster than the lanes, so there the compute
    bound applies only with an explicit ``peak_flops``.

Memory bound
    Every output element must be written and, per channel pair, at least
    ``min(K1, H) * min(K2, W)`` weight taps meet the input and must be read.
    Data that stays in the L2 cache between repeated calls need not reach
    DRAM, so the L2 size is subtracted. The bound is
    ``max(0, bytes - L2) / bandwidth`` and applies only when the bandwidth is
    known (from the record or the caller).

When neither bound applies (a CPU dataset, or a record that gives neither a
peak nor a bandwidth), the audit checks no row: :attr:`AuditResult.bounds_applied` is
empty, and :func:`fit_without_flagged` issues a :class:`NoBoundWarning`.
"""

import math
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from alphaflops import hardware as hardware_facts

#: Bytes per element by the dtype recorded in a dataset's run metadata.
BYTES_PER_ELEMENT = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}

#: Smallest ``peak_flops`` (FLOP/s) and ``bandwidth`` (bytes/s) accepted: 1e9.
#: Current GPUs and server CPUs exceed both by orders of magnitude, so a
#: smaller value is a unit mistake, such as 3.3 for 3.3 TFLOP/s, and would
#: flag every row.
MIN_RATE = 1e9

#: For each rate argument: its unit, a larger unit that users may type the
#: value in by mistake, the size of that unit in the base unit, and an example
#: value for messages.
RATE_UNITS = {
    "peak_flops": ("FLOP/s", "TFLOP/s", 1e12, 3.3e12),
    "bandwidth": ("bytes/s", "GB/s", 1e9, 3.2e11),
}

#: Advice that ends the messages about an audit that applied no bound.
NO_BOUND_ADVICE = "pass peak_flops (--peak-flops, in FLOP/s) or bandwidth (--bandwidth, in bytes/s) to apply one"


class NoBoundWarning(UserWarning):
    """Warning that the plausibility audit applied no bound, so it checked no row."""


@dataclass
class AuditResult:
    """Outcome of :func:`audit` on one dataset.

    Attributes
    ----------
    rows : list of dict
        One dict per flagged row: ``plot`` (plot name, None for tables),
        ``line`` (line index, None for tables), ``row`` (row within the line,
        or table row), ``config`` (the six columns H, W, Cin, Cout, K1, K2),
        ``time_ms``, ``bound_ms`` and ``ratio`` (``bound_ms / time_ms``, > 1).
        Sorted by decreasing ratio.
    peak_flops : float or None
        Peak in FLOP/s used for the compute bound: the caller's value, else
        the FP32 peak of the hardware record. None when the bound did not
        apply.
    bandwidth : float or None
        Memory bandwidth in bytes/s used for the memory bound; None when it
        did not apply.
    assumptions : list of str
        Plain sentences: which bounds applied, which did not and why, and the
        reduction factors allowed.
    flagged_mask : numpy.ndarray of bool, shape (n,)
        True for the rows in ``rows``, in dataset row order.
    bound_ms : numpy.ndarray, shape (n,)
        Lower bound of every row in milliseconds (0 where no bound applied).
    bounds_applied : tuple of str
        ``"compute"`` and ``"memory"`` for the bounds that applied; empty
        when none did, and then no row was checked.
    """

    rows: list
    peak_flops: float | None
    bandwidth: float | None
    assumptions: list
    flagged_mask: np.ndarray
    bound_ms: np.ndarray = field(repr=False)

    @property
    def bounds_applied(self):
        bounds = []
        if self.peak_flops is not None:
            bounds.append("compute")
        if self.bandwidth is not None:
            bounds.append("memory")
        return tuple(bounds)

    def model_file_entry(self):
        """Return what the audit checked, as model files record it in ``trained_on.audit``.

        The entry is ``{"bounds_applied": [...], "peak_flops": float or None,
        "bandwidth": float or None}``. An empty ``bounds_applied`` means that
        no row was checked, so an empty list of excluded rows does not mean
        that every row passed.
        """
        return {
            "bounds_applied": list(self.bounds_applied),
            "peak_flops": self.peak_flops,
            "bandwidth": self.bandwidth,
        }

    def to_dict(self):
        """Return the JSON-ready record ``{"rows", "peak_flops", "bandwidth", "bounds_applied", "assumptions"}``.

        Non-finite numbers in the rows (a ratio that overflows for a time
        near 0 ms) become None, so that the record is valid JSON.
        """
        return {
            "rows": [{key: _finite_or_none(value) for key, value in row.items()} for row in self.rows],
            "peak_flops": self.peak_flops,
            "bandwidth": self.bandwidth,
            "bounds_applied": list(self.bounds_applied),
            "assumptions": list(self.assumptions),
        }


def _finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def audit(dataset, peak_flops=None, bandwidth=None, *, l2_bytes=None):
    """Flag the rows of a dataset measured faster than the hardware allows.

    Parameters
    ----------
    dataset : Dataset
        Measured rows (``X``, ``y`` in ms, ``hardware``, ``run``, plot
        structure when present).
    peak_flops : float, optional
        Peak arithmetic rate in FLOP/s. Defaults to the FP32 peak derived from
        ``dataset.hardware``. An explicit value also applies where the default
        does not: on GPUs with TF32 tensor cores and to rows measured in a
        dtype other than float32.
    bandwidth : float, optional
        Memory bandwidth in bytes/s. Defaults to the record's bandwidth.
    l2_bytes : int, optional
        Cache size subtracted from the bytes moved. Defaults to the record's
        L2 size, else 0 (stated in the assumptions).

    Returns
    -------
    AuditResult

    Raises
    ------
    ValueError
        If ``peak_flops`` or ``bandwidth`` is not a finite number of at least
        :data:`MIN_RATE`, or ``l2_bytes`` is not a non-negative number.
    DatasetError
        If a fact of ``dataset.hardware`` is invalid or implausible (see
        :func:`alphaflops.datasets.hardware.normalize_hardware`); it derives
        from ValueError.
    """
    _check_rate("peak_flops", peak_flops)
    _check_rate("bandwidth", bandwidth)
    if l2_bytes is not None and not (np.isfinite(l2_bytes) and l2_bytes >= 0):
        raise ValueError(f"l2_bytes must be a non-negative number of bytes, got {l2_bytes!r}")

    X = np.asarray(dataset.X, dtype=np.float64)
    y = np.asarray(dataset.y, dtype=np.float64)
    record = getattr(dataset, "hardware", None) or {}
    dtype = str((getattr(dataset, "run", None) or {}).get("dtype", "float32"))
    assumptions = []

    peak = _choose_peak(record, peak_flops, dtype, assumptions)
    compute_ms = np.zeros(len(y)) if peak is None else minimum_flops(X) / peak * 1e3

    memory_ms, bandwidth_used = _memory_bound(X, record, bandwidth, l2_bytes, dtype, assumptions)

    bound_ms = np.maximum(compute_ms, memory_ms)
    flagged = bound_ms > y
    rows = _flagged_rows(dataset, X, y, bound_ms, flagged)
    result = AuditResult(rows, peak, bandwidth_used, assumptions, flagged, bound_ms)
    assumptions.append(_summary_sentence(len(y), rows, result.bounds_applied))
    return result


def minimum_flops(X):
    """Return the fewest FLOPs any convolution algorithm needs for each row.

    Parameters
    ----------
    X : array_like, shape (n, 6)
        Columns H, W, Cin, Cout, K1, K2.

    Returns
    -------
    numpy.ndarray, shape (n,)
        ``2 * H * W * Cin * Cout``: one fused multiply-add per output element
        per channel pair (the direct FLOPs divided by ``K1 * K2``).
    """
    X = np.asarray(X, dtype=np.float64).reshape(-1, 6)
    return 2.0 * X[:, 0] * X[:, 1] * X[:, 2] * X[:, 3]


def minimum_bytes(X, bytes_per_element=4):
    """Return the fewest bytes each row must move: its output and the weight taps that meet the input.

    Parameters
    ----------
    X : array_like, shape (n, 6)
        Columns H, W, Cin, Cout, K1, K2.
    bytes_per_element : int, default 4

    Returns
    -------
    numpy.ndarray, shape (n,)
        ``bytes_per_element * (H * W * Cout + Cin * Cout * min(K1, H) * min(K2, W))``.
        The input is left out because strided and padded layers may skip part
        of it.

    Notes
    -----
    NOTE: H includes any batch folded into it. For a batched row whose kernel
    is taller than one image, ``min(K1, H)`` counts more taps than meet the
    input, and the bound is then too high.
    """
    X = np.asarray(X, dtype=np.float64).reshape(-1, 6)
    height, width, in_channels, out_channels, kernel_1, kernel_2 = X.T
    outputs = height * width * out_channels
    taps = np.minimum(kernel_1, height) * np.minimum(kernel_2, width)
    return bytes_per_element * (outputs + in_channels * out_channels * taps)


def fit_without_flagged(estimator, dataset, peak_flops=None, bandwidth=None):
    """Fit an estimator on the rows of a dataset that pass the audit.

    Parameters
    ----------
    estimator : CostModel
        Fitted in place with :func:`alphaflops.models.base.fit_dataset`. Its
        ``excluded_rows_`` attribute receives the audit's flagged rows, and
        ``audit_`` receives :meth:`AuditResult.model_file_entry`, what the
        audit checked. Model files write both to ``trained_on``.
    dataset : Dataset
    peak_flops, bandwidth : float, optional
        Passed to :func:`audit`.

    Returns
    -------
    estimator : CostModel
    result : AuditResult

    Warns
    -----
    NoBoundWarning
        If no bound applied, so that no row was checked and all are fitted.
    """
    from alphaflops.models.base import fit_dataset

    result = audit(dataset, peak_flops=peak_flops, bandwidth=bandwidth)
    plausible_rows = drop_flagged_rows(dataset, result, stacklevel=3)
    fit_dataset(estimator, plausible_rows)
    estimator.excluded_rows_ = [dict(row) for row in result.rows]
    estimator.audit_ = result.model_file_entry()
    return estimator, result


def model_file_entry_error(entry, excluded_rows=()):
    """Return why ``entry`` is not a valid ``trained_on.audit`` of a model file, or None when it is valid.

    A valid entry is the JSON form of :meth:`AuditResult.model_file_entry`:
    ``bounds_applied`` lists each of "compute" and "memory" at most once,
    ``peak_flops`` is a positive number exactly when "compute" is listed and
    null otherwise, and likewise ``bandwidth`` with "memory". An entry
    without bounds cannot go with rows in ``excluded_rows``, because such an
    audit flags no row. Other keys are ignored.
    """
    if not isinstance(entry, dict):
        return f"expected a JSON object, got {type(entry).__name__}"
    missing = [key for key in ("bounds_applied", "peak_flops", "bandwidth") if key not in entry]
    if missing:
        return f"missing key(s) {', '.join(missing)}"

    bounds = entry["bounds_applied"]
    known_bounds = ("compute", "memory")
    if (not isinstance(bounds, list) or not all(bound in known_bounds for bound in bounds)
            or len(set(bounds)) != len(bounds)):
        return f'bounds_applied must list "compute" and "memory" at most once each, got {bounds!r}'

    for bound, key in (("compute", "peak_flops"), ("memory", "bandwidth")):
        value = entry[key]
        if bound not in bounds:
            if value is not None:
                return f"{key} is {value!r} but bounds_applied does not list {bound!r}, so it must be null"
            continue
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (is_number and math.isfinite(value) and value > 0):
            unit = RATE_UNITS[key][0]
            return f"{key} must be a positive number of {unit} because bounds_applied lists {bound!r}, got {value!r}"

    if not bounds and excluded_rows:
        return (f"no bound applied, so the audit flagged no row, but excluded_rows lists "
                f"{len(excluded_rows)} row(s)")
    return None


def drop_flagged_rows(dataset, result, stacklevel=2):
    """Return ``dataset`` without the rows flagged in ``result``, the audit of that dataset.

    Warns
    -----
    NoBoundWarning
        If no bound applied, so that no row was checked and none is dropped.
        ``stacklevel`` is passed to :func:`warnings.warn`. The default, 2,
        points the warning at the caller.
    """
    if not result.bounds_applied:
        message = (
            f"the plausibility audit of {dataset.name} applied no bound, so it checked none of its "
            f"{len(dataset)} rows and left none out; {NO_BOUND_ADVICE}"
        )
        warnings.warn(message, NoBoundWarning, stacklevel=stacklevel)
    if not result.flagged_mask.any():
        return dataset
    return dataset.subset(~result.flagged_mask)


def rate_error(name, value):
    """Return why ``value`` is not a valid ``peak_flops`` or ``bandwidth``, or None when it is valid.

    ``name`` is a key of :data:`RATE_UNITS`. The reason follows the value in
    messages, e.g. "invalid peak_flops 0: expected a positive number of FLOP/s".
    """
    unit, large_unit, large_unit_size, example = RATE_UNITS[name]
    is_number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not (is_number and np.isfinite(value) and value > 0):
        return f"expected a positive number of {unit}, e.g. {_format_rate(example)}"
    if value >= MIN_RATE:
        return None

    reason = (
        f"below the minimum of {_format_rate(MIN_RATE)} {unit}, "
        "which current GPUs and CPUs exceed by orders of magnitude"
    )
    # Suggest the larger unit only for values that read as a count of it (below 1e5 TFLOP/s or GB/s).
    if value < 1e5 and value * large_unit_size >= MIN_RATE:
        reason += (
            f"; the unit is {unit}, so {_format_rate(value)} {large_unit} is written "
            f"{_format_rate(value * large_unit_size)}"
        )
    return reason


def _format_rate(value):
    """Format a rate as Python reads and people write it: 3.3e12, not 3.3e+12."""
    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", f"{value:g}")


def _check_rate(name, value):
    if value is None:
        return
    reason = rate_error(name, value)
    if reason is not None:
        raise ValueError(f"invalid {name} {value!r}: {reason}")


def _choose_peak(record, peak_flops, dtype, assumptions):
    if peak_flops is not None:
        assumptions.append(
            f"Compute bound applied with the peak given by the caller, {peak_flops / 1e12:.4g} TFLOP/s, "
            "over one multiply-add per output element per channel pair."
        )
        assumptions.append(_REDUCTION_SENTENCE)
        return float(peak_flops)

    if dtype != "float32":
        assumptions.append(
            f"Compute bound not applied: the rows were measured in {dtype}, and the FP32 lane peak is no "
            "bound for other types (tensor cores); pass peak_flops (--peak-flops) to apply one."
        )
        return None

    if hardware_facts.may_use_tf32(record):
        assumptions.append(
            "Compute bound not applied: on compute capability 8.0 and newer cuDNN may run FP32 convolutions "
            "on TF32 tensor cores, faster than the FP32 lanes; pass peak_flops (--peak-flops) to apply one."
        )
        return None

    peak, explanation = hardware_facts.peak_fp32_flops(record)
    if peak is None:
        assumptions.append(f"Compute bound not applied. {explanation} Pass peak_flops (--peak-flops) to apply one.")
        return None

    assumptions.append(f"Compute bound applied. {explanation}")
    if hardware_facts.may_use_tf32(record) is None:
        assumptions.append(
            "The record gives no compute capability; the bound assumes no TF32 tensor-core path, "
            "which only compute capability 8.0 and newer have."
        )
    assumptions.append(
        "The peak uses the clock in the record; a GPU that boosts above it is faster by the same factor, "
        "so a ratio only slightly above 1 may be within that uncertainty."
    )
    assumptions.append(_REDUCTION_SENTENCE)
    return peak


_REDUCTION_SENTENCE = (
    "The compute bound allows every algorithm cuDNN may choose: 1x1 kernels and dense layers keep the direct "
    "FLOPs (a matrix product, assuming no Strassen-type algorithm), and larger kernels may save up to a "
    "factor K1*K2, more than Winograd's minimal filtering (F(m x m, r x r) needs (m+r-1)^2 multiplications "
    "per m^2 outputs; Lavin and Gray, arXiv:1509.09308) or FFT convolution (at least 1.5 real multiplications "
    "per output) can save."
)


def _memory_bound(X, record, bandwidth, l2_bytes, dtype, assumptions):
    source = "given by the caller"
    if bandwidth is None:
        bandwidth = hardware_facts.memory_bandwidth(record)
        source = "from the hardware record"
    if bandwidth is None:
        assumptions.append(
            "Memory bound not applied: the hardware record gives no memory bandwidth; "
            "pass bandwidth (--bandwidth) to apply one."
        )
        return np.zeros(X.shape[0]), None

    element_bytes = BYTES_PER_ELEMENT.get(dtype)
    if element_bytes is None:
        assumptions.append(f"Memory bound not applied: unknown element size for dtype {dtype!r}.")
        return np.zeros(X.shape[0]), None

    cache_note = "the L2 size from the hardware record"
    if l2_bytes is None:
        l2_bytes = hardware_facts.l2_cache_bytes(record)
    else:
        cache_note = "the L2 size given by the caller"
    if l2_bytes is None:
        l2_bytes = 0
        cache_note = "no cache, because the L2 size is unknown (rows whose data fit in L2 may be flagged wrongly)"

    moved = np.maximum(minimum_bytes(X, element_bytes) - l2_bytes, 0.0)
    assumptions.append(
        f"Memory bound applied with {bandwidth / 1e9:.4g} GB/s {source}: the output and the weight taps "
        f"that meet the input, {element_bytes} bytes per element, less {cache_note}."
    )
    return moved / bandwidth * 1e3, float(bandwidth)


def _flagged_rows(dataset, X, y, bound_ms, flagged):
    groups = np.asarray(getattr(dataset, "groups", np.full(len(y), -1)))
    line_index = np.asarray(getattr(dataset, "line_index", np.full(len(y), -1)))
    row_index = np.asarray(getattr(dataset, "row_index", np.arange(len(y))))
    plot_names = list(getattr(dataset, "plot_names", None) or [])
    # A time near 0 ms makes the ratio overflow to inf, which to_dict turns into None.
    with np.errstate(over="ignore"):
        ratios = bound_ms / y

    rows = []
    for index in np.flatnonzero(flagged):
        has_plot = 0 <= groups[index] < len(plot_names)
        rows.append(
            {
                "plot": plot_names[groups[index]] if has_plot else None,
                "line": int(line_index[index]) if has_plot else None,
                "row": int(row_index[index]),
                "config": [float(value) for value in X[index]],
                "time_ms": float(y[index]),
                "bound_ms": float(bound_ms[index]),
                "ratio": float(ratios[index]),
            }
        )
    rows.sort(key=lambda row: -row["ratio"])
    return rows


def _summary_sentence(count, rows, bounds_applied):
    if not bounds_applied:
        return f"No bound applied, so none of the {count} rows was checked; {NO_BOUND_ADVICE}."
    if not rows:
        return f"No row of {count} is faster than the bounds."
    worst = rows[0]
    return (
        f"{len(rows)} of {count} rows are faster than the bounds; the worst, {worst['config']}, "
        f"was measured {worst['ratio']:.2f} times faster than its bound."
    )
