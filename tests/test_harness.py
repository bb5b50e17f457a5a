"""Tests of time_function and time_layer: what is timed, budgets and stability warnings."""

import time

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphaflops.harness.layers import build_layer_call
from alphaflops.harness.timing import (
    MIN_STABLE_REPS,
    TimingResult,
    stability_warnings,
    time_function,
    time_layer,
)
from alphaflops.layers import Conv2D, Dense


class VirtualClock:
    """Nanosecond clock that moves only when a stand-in device function advances it."""

    def __init__(self):
        self.now_ns = 0

    def __call__(self):
        return self.now_ns

    def advance(self, seconds):
        self.now_ns += round(seconds * 1e9)


class PendingResult:
    """Stand-in for a device array whose value is ready only at ``ready_ns``."""

    def __init__(self, clock, ready_ns):
        self.clock = clock
        self.ready_ns = ready_ns

    def block_until_ready(self):
        self.clock.now_ns = max(self.clock.now_ns, self.ready_ns)
        return self


class SleepingResult:
    """Stand-in for a device array that becomes ready at a wall-clock time."""

    def __init__(self, ready_at):
        self.ready_at = ready_at

    def block_until_ready(self):
        delay = self.ready_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        return self


def asynchronous_call(clock):
    """Return after 1 ms with a result that is ready 50 ms after the call."""

    def call():
        ready_ns = clock.now_ns + 50_000_000
        clock.advance(0.001)
        return PendingResult(clock, ready_ns)

    return call


def compiling_call(clock, first_seconds=1.0, later_seconds=0.039):
    """Take ``first_seconds`` on the first call (compilation) and ``later_seconds`` after."""
    calls = []

    def call():
        clock.advance(first_seconds if not calls else later_seconds)
        calls.append(None)

    return call


def test_unawaited_result_timed_until_ready():
    clock = VirtualClock()
    result = time_function(asynchronous_call(clock), (), reps=5, warmup=1, clock=clock)
    assert result.min_ms >= 50.0
    assert result.mean_ms == pytest.approx(50.0)


def test_unawaited_result_with_real_sleep():
    def call():
        ready_at = time.perf_counter() + 0.050
        time.sleep(0.001)
        return SleepingResult(ready_at)

    result = time_function(call, (), reps=3, warmup=0)
    # time.sleep never returns early, so each awaited call lasts 50 ms or more.
    assert result.min_ms >= 50.0


def test_compilation_kept_out_of_mean():
    clock = VirtualClock()
    result = time_function(compiling_call(clock), (), reps=20, warmup=1, clock=clock)
    assert result.mean_ms == pytest.approx(39.0, rel=0.10)
    assert result.compile_ms == pytest.approx(1000.0)


def test_compilation_kept_out_with_real_sleep():
    calls = []

    def call():
        time.sleep(1.0 if not calls else 0.039)
        calls.append(None)

    result = time_function(call, (), reps=4, warmup=1)
    assert result.compile_ms >= 1000.0
    assert result.compile_ms / result.median_ms > 10


def test_zero_warmup_still_excludes_first_call():
    clock = VirtualClock()
    result = time_function(compiling_call(clock), (), reps=3, warmup=0, clock=clock)
    assert result.max_ms == pytest.approx(39.0)


def test_no_budget_times_exact_reps():
    clock = VirtualClock()
    result = time_function(compiling_call(clock, 0.5, 0.3), (), reps=7, warmup=0, clock=clock)
    assert result.reps == 7
    assert result.times_ms.shape == (7,)
    assert not result.stopped_by_budget


def test_budget_lowers_and_records_reps():
    clock = VirtualClock()
    result = time_function(compiling_call(clock, 0.5, 0.3), (), reps=2000, warmup=2, max_seconds=1.0, clock=clock)
    # 0.3 s per repetition: the fourth one takes the total past 1 s.
    assert result.reps == 4
    assert result.requested_reps == 2000
    assert result.max_seconds == 1.0
    assert result.stopped_by_budget


def test_budget_allows_one_slow_rep():
    clock = VirtualClock()
    result = time_function(compiling_call(clock, 5.0, 5.0), (), reps=10, warmup=0, max_seconds=1.0, clock=clock)
    assert result.reps == 1


def test_warmup_calls_not_timed():
    clock = VirtualClock()
    calls = []

    def call():
        clock.advance(0.010 * (len(calls) + 1))
        calls.append(None)

    result = time_function(call, (), reps=2, warmup=3, clock=clock)
    assert len(calls) == 1 + 3 + 2
    assert result.times_ms.tolist() == pytest.approx([50.0, 60.0])


@pytest.mark.parametrize(
    "arguments",
    [{"reps": 0}, {"reps": 1.5}, {"warmup": -1}, {"max_seconds": 0}, {"max_seconds": float("inf")}],
)
def test_invalid_counts_rejected(arguments):
    with pytest.raises(ValueError):
        time_function(lambda: None, (), **arguments)


def test_statistics_match_numpy():
    times = np.array([1.0, 2.0, 4.0, 8.0])
    result = TimingResult(times_ms=times, compile_ms=3.0, requested_reps=4, warmup=0)
    assert result.mean_ms == pytest.approx(np.mean(times))
    assert result.median_ms == pytest.approx(np.median(times))
    assert result.std_ms == pytest.approx(np.std(times, ddof=1))
    assert result.min_ms == 1.0
    assert result.max_ms == 8.0
    assert result.summary(include_times=True)["times_ms"] == times.tolist()
    assert "times_ms" not in result.summary()


def test_spread_warning_names_percentage():
    reasons = stability_warnings([1.0] * 19 + [10.0])
    assert len(reasons) == 1
    assert "standard deviation" in reasons[0]
    assert "% of the mean" in reasons[0]


def test_few_reps_warning():
    reasons = stability_warnings([1.0, 1.0, 1.0])
    assert len(reasons) == 1
    assert "only 3 repetitions" in reasons[0]


def test_resolution_warning():
    reasons = stability_warnings([0.0005] * MIN_STABLE_REPS, timer_resolution_ns=1.0)
    assert len(reasons) == 1
    assert "ticks of the timer" in reasons[0]


@settings(max_examples=50, deadline=None)
@given(
    base=st.floats(min_value=0.01, max_value=1000.0),
    noise=st.lists(st.floats(min_value=-0.05, max_value=0.05), min_size=MIN_STABLE_REPS, max_size=60),
)
def test_tight_times_are_stable(base, noise):
    times = base * (1.0 + np.asarray(noise))
    assert stability_warnings(times) == []


def test_unstable_result_sets_flag():
    result = TimingResult(times_ms=[1.0, 5.0], compile_ms=1.0, requested_reps=2, warmup=0)
    assert not result.stable
    assert len(result.warnings) == 2


def test_layer_arguments_are_parameters():
    layer = Conv2D(9, 7, 5, 6, (3, 2), bias=True)
    function, args = build_layer_call(layer)
    text = function.lower(*args).as_text()
    signature = next(line for line in text.splitlines() if "func.func public @main" in line)
    for shape in ("1x9x7x5xf32", "3x2x5x6xf32", "tensor<6xf32>"):
        assert shape in signature


def test_layer_output_shape_matches_layer():
    layer = Conv2D(9, 7, 5, 6, (3, 3), stride=2, padding="valid")
    function, args = build_layer_call(layer)
    assert function(*args).shape == layer.output_shape


def test_dense_layer_is_matrix_product():
    layer = Dense(12, 5, batch=3)
    function, args = build_layer_call(layer)
    inputs, weights = args
    assert [arg.shape for arg in args] == [(3, 12), (12, 5)]
    np.testing.assert_allclose(function(*args), np.asarray(inputs) @ np.asarray(weights), rtol=1e-5, atol=1e-5)


def test_inputs_are_random_normal_not_zero():
    _, args = build_layer_call([64, 64, 16, 16, 3, 3])
    values = np.concatenate([np.asarray(arg).ravel() for arg in args])
    assert abs(values.mean()) < 0.05
    assert values.std() == pytest.approx(1.0, rel=0.05)


def test_inputs_on_requested_device():
    device = jax.devices("cpu")[0]
    _, args = build_layer_call(Dense(4, 4), device=device)
    assert all(arg.devices() == {device} for arg in args)


def test_row_needs_six_values():
    with pytest.raises(ValueError, match="6 values"):
        build_layer_call([1, 2, 3])


def test_time_layer_accepts_published_row():
    result = time_layer([8, 8, 4, 4, 3, 3], reps=5, warmup=1)
    assert result.reps == 5
    assert result.compile_ms > 0


def test_conv_median_close_to_hand_loop():
    function, args = build_layer_call(Conv2D(32, 32, 32, 32, 3))
    function(*args).block_until_ready()
    hand_times = []
    for _ in range(60):
        start = time.perf_counter_ns()
        function(*args).block_until_ready()
        hand_times.append(time.perf_counter_ns() - start)

    result = time_layer(Conv2D(32, 32, 32, 32, 3), reps=60, warmup=3)
    ratio = result.median_ms / (np.median(hand_times) / 1e6)
    assert 0.5 < ratio < 2.0
