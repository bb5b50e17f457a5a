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
"""

from dataclasses import dataclass, field

import numpy as np

from alphaflops import hardware as hardware_facts

#: Bytes per element by the dtype recorded in a dataset's run metadata.
BYTES_PER_ELEMENT = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}


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
        FP32 peak in FLOP/s used for the compute bound; None when it did not
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
    """

    rows: list
    peak_flops: float | None
    bandwidth: float | None
    assumptions: list
    flagged_mask: np.ndarray
    bound_ms: np.ndarray = field(repr=False)

    def to_dict(self):
        """Return the JSON-ready record ``{"rows", "peak_flops", "bandwidth", "assumptions"}``."""
        return {
            "rows": [dict(row) for row in self.rows],
            "peak_flops": self.peak_flops,
            "bandwidth": self.bandwidth,
            "assumptions": list(self.assumptions),
        }


def audit(dataset, peak_flops=None, bandwidth=None, *, l2_bytes=None):
    """Flag the rows of a dataset measured faster than the hardware allows.

    Parameters
    ----------
    dataset : Dataset
        Measured rows (``X``, ``y`` in ms, ``hardware``, ``run``, plot
        structure when present).
    peak_flops : float, optional
        Peak arithmetic rate in FLOP/s. Defaults to the FP32 peak derived from
        ``dataset.hardware``; an explicit value also applies on GPUs with
        TF32 tensor cores.
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
        If ``peak_flops``, ``bandwidth`` or ``l2_bytes`` is not a positive
        finite number (``l2_bytes`` may be 0).
    """
    _check_positive("peak_flops", peak_flops)
    _check_positive("bandwidth", bandwidth)
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
    assumptions.append(_summary_sentence(len(y), rows))
    return AuditResult(rows, peak, bandwidth_used, assumptions, flagged, bound_ms)


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
        Fitted in place with :func:`alphaflops.models.base.fit_dataset`; its
        ``excluded_rows_`` attribute receives the audit's flagged rows (model
        kinds that store it write it to their model files).
    dataset : Dataset
    peak_flops, bandwidth : float, optional
        Passed to :func:`audit`.

    Returns
    -------
    estimator : CostModel
    result : AuditResult
    """
    from alphaflops.models.base import fit_dataset

    result = audit(dataset, peak_flops=peak_flops, bandwidth=bandwidth)
    plausible_rows = dataset.subset(~result.flagged_mask) if result.flagged_mask.any() else dataset
    fit_dataset(estimator, plausible_rows)
    estimator.excluded_rows_ = [dict(row) for row in result.rows]
    return estimator, result


def _check_positive(name, value):
    if value is None:
        return
    is_number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not (is_number and np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


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
                "ratio": float(bound_ms[index] / y[index]),
            }
        )
    rows.sort(key=lambda row: -row["ratio"])
    return rows


def _summary_sentence(count, rows):
    if not rows:
        return f"No row of {count} is faster than the bounds."
    worst = rows[0]
    return (
        f"{len(rows)} of {count} rows are faster than the bounds; the worst, {worst['config']}, "
        f"was measured {worst['ratio']:.2f} times faster than its bound."
    )
