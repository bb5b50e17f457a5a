"""Time one layer call with JAX, the way the published T2000 set was measured.

What a repetition measures: the host calls the jitted function with arguments
that already live on the device, then waits with ``block_until_ready`` until
the result is ready. The time therefore includes the Python and C++ dispatch
of the jitted call, the launch of the XLA executable and the device work. It
excludes compilation (the first call is timed apart as ``compile_ms``), the
warm-up calls, the creation of the random inputs and any copy of the result
back to the host. The published set reports the mean of 2000 such calls per
configuration, which is what ``time_layer`` returns as ``mean_ms`` by default.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np

#: Identifier stored with every measurement, so that merged runs can check
#: that they used the same timing method.
TIMING_MODE = "per-call-blocking-mean"

#: A spread (standard deviation over mean) above this marks a result unstable.
MAX_RELATIVE_SPREAD = 0.10

#: Fewer timed repetitions than this mark a result unstable.
MIN_STABLE_REPS = 10

#: The shortest repetition must last this many timer ticks, so that one tick
#: of rounding changes it by at most 0.1%.
MIN_TICKS_PER_REP = 1000


@dataclass(frozen=True)
class TimingResult:
    """Timed repetitions of one call, in milliseconds.

    Attributes
    ----------
    times_ms : numpy.ndarray, shape (reps,)
        Raw wall time of each timed repetition, in the order measured.
    compile_ms : float
        Wall time of the first call, which compiles the function and runs it once.
    requested_reps : int
        Repetitions asked for; ``reps`` is lower when ``max_seconds`` ran out first.
    warmup : int
        Untimed calls made after the first call and before the timed ones.
    max_seconds : float or None
        Time budget for the timed repetitions, or None for no budget.
    timer_resolution_ns : float
        Resolution of the clock, as ``time.get_clock_info`` reports it.
    warnings : tuple of str
        Reasons why the repetitions look unreliable, computed from
        ``times_ms`` by :func:`stability_warnings`; empty when they look stable.
    """

    times_ms: np.ndarray
    compile_ms: float
    requested_reps: int
    warmup: int
    max_seconds: float | None = None
    timer_resolution_ns: float = 1.0
    warnings: tuple = field(init=False)

    def __post_init__(self):
        times = np.asarray(self.times_ms, dtype=np.float64).reshape(-1)
        if times.size == 0:
            raise ValueError("a TimingResult needs at least one timed repetition; got none")
        object.__setattr__(self, "times_ms", times)
        object.__setattr__(self, "warnings", tuple(stability_warnings(times, self.timer_resolution_ns)))

    @property
    def reps(self):
        """Number of timed repetitions actually made."""
        return int(self.times_ms.size)

    @property
    def mean_ms(self):
        """Mean time of one call in milliseconds (the published statistic)."""
        return float(np.mean(self.times_ms))

    @property
    def median_ms(self):
        """Median time of one call in milliseconds."""
        return float(np.median(self.times_ms))

    @property
    def std_ms(self):
        """Sample standard deviation of the repetitions in milliseconds (0 for one repetition)."""
        if self.reps < 2:
            return 0.0
        return float(np.std(self.times_ms, ddof=1))

    @property
    def min_ms(self):
        """Minimum repetition time in milliseconds."""
        return float(np.min(self.times_ms))

    @property
    def max_ms(self):
        """Maximum repetition time in milliseconds."""
        return float(np.max(self.times_ms))

    @property
    def stable(self):
        """True when no stability warning applies."""
        return not self.warnings

    @property
    def stopped_by_budget(self):
        """True when ``max_seconds`` ended the timing before ``requested_reps``."""
        return self.reps < self.requested_reps

    def summary(self, include_times=False):
        """Return the statistics as a JSON-ready dict; raw times only on request."""
        summary = {
            "mean_ms": self.mean_ms,
            "median_ms": self.median_ms,
            "std_ms": self.std_ms,
            "min_ms": self.min_ms,
            "max_ms": self.max_ms,
            "reps": self.reps,
            "requested_reps": self.requested_reps,
            "warmup": self.warmup,
            "max_seconds": self.max_seconds,
            "compile_ms": self.compile_ms,
            "stable": self.stable,
            "warnings": list(self.warnings),
        }
        if include_times:
            summary["times_ms"] = self.times_ms.tolist()
        return summary


def stability_warnings(times_ms, timer_resolution_ns=1.0):
    """List the reasons why repetitions look unreliable, in the manner of ``pyperf check``.

    Parameters
    ----------
    times_ms : array_like, shape (reps,)
        Raw repetition times in milliseconds.
    timer_resolution_ns : float, default 1.0
        Resolution of the clock that measured them, in nanoseconds.

    Returns
    -------
    list of str
        One sentence per problem, empty when the times look stable: spread over
        ``MAX_RELATIVE_SPREAD`` of the mean, shortest repetition under
        ``MIN_TICKS_PER_REP`` timer ticks, or fewer than ``MIN_STABLE_REPS``
        repetitions.
    """
    times = np.asarray(times_ms, dtype=np.float64)
    reasons = []

    if times.size < MIN_STABLE_REPS:
        reasons.append(
            f"only {times.size} repetitions were timed (minimum for a stability check: {MIN_STABLE_REPS})"
        )

    mean = float(np.mean(times))
    if times.size >= 2 and mean > 0:
        std = float(np.std(times, ddof=1))
        if std > MAX_RELATIVE_SPREAD * mean:
            reasons.append(
                f"the standard deviation ({std:.4g} ms) is {100 * std / mean:.0f}% of the mean "
                f"({mean:.4g} ms), over the {100 * MAX_RELATIVE_SPREAD:.0f}% limit"
            )

    shortest_ms = float(np.min(times))
    minimum_ms = MIN_TICKS_PER_REP * timer_resolution_ns * 1e-6
    if shortest_ms < minimum_ms:
        reasons.append(
            f"the shortest repetition ({shortest_ms:.4g} ms) is under {MIN_TICKS_PER_REP} ticks "
            f"of the timer ({minimum_ms:.4g} ms)"
        )

    return reasons


def _wait(result):
    # A single array (the usual result) is awaited through its own method,
    # because the pytree walk of jax.block_until_ready adds per-repetition
    # overhead. Tuples and other pytrees still go through that walk.
    block = getattr(result, "block_until_ready", None)
    if block is not None:
        block()
        return

    import jax

    jax.block_until_ready(result)


def time_function(function, args, reps=2000, warmup=10, max_seconds=None, clock=time.perf_counter_ns):
    """Time ``function(*args)`` call by call, waiting for each result.

    The first call, where a jitted function compiles, is timed apart as
    ``compile_ms``. Then ``warmup`` untimed calls run. Each timed repetition
    then calls the function and waits with ``block_until_ready``, so an
    asynchronous device result is timed until it is ready, not until the
    call returns.

    Parameters
    ----------
    function : callable
        Called as ``function(*args)``; any value with ``block_until_ready``
        methods on its leaves can be returned.
    args : sequence
        Positional arguments passed on every call.
    reps : int, default 2000
        Timed repetitions to make when there is no budget.
    warmup : int, default 10
        Untimed calls after the first one.
    max_seconds : float or None, default None
        Budget for the timed repetitions in seconds. Timing stops after the
        repetition that uses it up, so at least one repetition is always made.
    clock : callable, default time.perf_counter_ns
        Integer clock in nanoseconds.

    Returns
    -------
    TimingResult
    """
    _check_counts(reps, warmup, max_seconds)
    args = tuple(args)

    start = clock()
    _wait(function(*args))
    compile_ns = clock() - start

    for _ in range(warmup):
        _wait(function(*args))

    budget_ns = math.inf if max_seconds is None else max_seconds * 1e9
    times_ns = []
    spent_ns = 0
    for _ in range(reps):
        start = clock()
        _wait(function(*args))
        elapsed = clock() - start
        times_ns.append(elapsed)
        spent_ns += elapsed
        if spent_ns >= budget_ns:
            break

    return TimingResult(
        times_ms=np.asarray(times_ns, dtype=np.float64) / 1e6,
        compile_ms=compile_ns / 1e6,
        requested_reps=reps,
        warmup=warmup,
        max_seconds=max_seconds,
        timer_resolution_ns=_clock_resolution_ns(clock),
    )


def _check_counts(reps, warmup, max_seconds):
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ValueError(f"reps must be a positive integer; got {reps!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative integer; got {warmup!r}")
    if max_seconds is not None and not (max_seconds > 0 and math.isfinite(max_seconds)):
        raise ValueError(f"max_seconds must be a positive number of seconds or None; got {max_seconds!r}")


def _clock_resolution_ns(clock):
    if clock is time.perf_counter_ns:
        return time.get_clock_info("perf_counter").resolution * 1e9
    # NOTE: a custom clock is assumed to tick every nanosecond.
    return 1.0


def time_layer(layer, reps=2000, warmup=10, dtype="float32", device=None, max_seconds=None, seed=0):
    """Time one convolution or dense layer on a JAX device.

    Parameters
    ----------
    layer : Conv2D, Dense or array_like of 6 numbers
        The layer, or a published row (H, W, Cin, Cout, K1, K2), which is a
        convolution with "same" padding, stride 1 and batch 1.
    reps : int, default 2000
        Timed repetitions; 2000 is what the published set averaged over.
    warmup : int, default 10
        Untimed calls after the first (compiling) call.
    dtype : str, default "float32"
        Data type of the inputs and weights.
    device : jax.Device or None, default None
        Device to run on; None uses JAX's default device.
    max_seconds : float or None, default None
        Budget for the timed repetitions in seconds. With a budget, slow
        layers get fewer repetitions (at least one); ``TimingResult.reps``
        records how many. With None, exactly ``reps`` are timed.
    seed : int, default 0
        Seed of the random normal inputs and weights.

    Returns
    -------
    TimingResult
        ``mean_ms`` is the per-call mean, comparable with the published times.
    """
    from alphaflops.harness.layers import build_layer_call

    function, args = build_layer_call(layer, dtype=dtype, device=device, seed=seed)
    return time_function(function, args, reps=reps, warmup=warmup, max_seconds=max_seconds)
