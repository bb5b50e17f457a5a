"""Benchmark the timing harness itself and record the figures in RESULTS.md.

Three figures, each on the machine that runs this script:

1. Overhead per repetition: the mean that ``time_function`` reports for a
   trivial jitted function, over the mean of a bare loop that calls it and
   waits with ``block_until_ready`` (ratio; 1.0 means no overhead).
2. Repeatability: one convolution timed 5 times with ``time_layer``; the
   coefficient of variation of the 5 means.
3. Sweep cost: wall time of ``measure_sweep`` on a small sweep over the sum
   of its timed repetitions (ratio). The rest of the wall time goes to
   building inputs, compilation, warm-up and the journal.

Run: ``python benchmarks/harness.py [--quick]``.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import markdown_table, write_section  # noqa: E402

from alphaflops.harness.journal import read_journal  # noqa: E402
from alphaflops.harness.runs import measure_sweep  # noqa: E402
from alphaflops.harness.sweeps import sweep_from_spec  # noqa: E402
from alphaflops.harness.timing import time_function, time_layer  # noqa: E402
from alphaflops.layers import Conv2D  # noqa: E402

SMALL_SWEEP = {
    "name": "benchmark-small",
    "plots": [
        {
            "name": "growing_H",
            "axis": 0,
            "x_label": "H",
            "x": [8, 16, 32, 64],
            "columns": {"H": "x", "W": 32, "Cin": 16, "Cout": 16, "K1": 3, "K2": 3},
            "lines": [{}, {"columns": {"Cin": 32, "Cout": 32}}],
        }
    ],
}


def bare_loop_mean_ms(function, args, reps):
    """Mean time of ``reps`` awaited calls timed one by one, with nothing else in the loop."""
    total_ns = 0
    for _ in range(reps):
        start = time.perf_counter_ns()
        function(*args).block_until_ready()
        total_ns += time.perf_counter_ns() - start
    return total_ns / reps / 1e6


def overhead_ratio(reps, rounds):
    """Return (median ratio, harness mean ms, bare mean ms) for a trivial jitted function."""
    import jax
    import jax.numpy as jnp

    function = jax.jit(lambda x: x + 1.0)
    args = (jnp.ones((8,), dtype=jnp.float32),)
    function(*args).block_until_ready()

    ratios, harness_means, bare_means = [], [], []
    for _ in range(rounds):
        bare = bare_loop_mean_ms(function, args, reps)
        harness = time_function(function, args, reps=reps, warmup=10).mean_ms
        ratios.append(harness / bare)
        harness_means.append(harness)
        bare_means.append(bare)
    return float(np.median(ratios)), float(np.median(harness_means)), float(np.median(bare_means))


def repeatability(reps, runs=5):
    """Return (coefficient of variation, means in ms) of one convolution timed ``runs`` times."""
    layer = Conv2D(32, 32, 32, 32, 3)
    means = np.array([time_layer(layer, reps=reps, warmup=5).mean_ms for _ in range(runs)])
    return float(np.std(means, ddof=1) / np.mean(means)), means


def sweep_cost(reps):
    """Return (wall seconds, timed seconds, configurations) of measuring SMALL_SWEEP."""
    sweep = sweep_from_spec(SMALL_SWEEP)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        summary = measure_sweep(
            sweep, Path(folder) / "small.json", settings={"reps": reps, "warmup": 2}, progress=False
        )
        wall = time.perf_counter() - start
        records = read_journal(summary.journal).records.values()
        timed = sum(sum(record["timing"]["times_ms"]) for record in records) / 1000.0
    return wall, timed, len(sweep)


def _describe_device():
    """Return a phrase that names the JAX device the figures are measured on."""
    import jax

    device = jax.devices()[0]
    if device.platform == "cpu":
        return "the CPU, because JAX found no GPU"
    return f"JAX device {device.device_kind} ({device.platform})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke run")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing RESULTS.md")
    args = parser.parse_args()
    reps = 200 if args.quick else 2000

    ratio, harness_ms, bare_ms = overhead_ratio(reps=reps, rounds=3 if args.quick else 5)
    variation, means = repeatability(reps=max(reps // 10, 20))
    wall, timed, count = sweep_cost(reps=max(reps // 10, 20))

    rows = [
        ["harness / bare awaited loop, trivial jitted function", f"{ratio:.3f}",
         f"harness {harness_ms * 1000:.1f} us, bare {bare_ms * 1000:.1f} us per call, {reps} calls"],
        ["coefficient of variation, 5 runs of Conv2D(32, 32, 32, 32, 3)", f"{variation:.3f}",
         "means " + ", ".join(f"{mean:.3f}" for mean in means) + " ms"],
        [f"sweep wall time / timed repetitions, {count} configurations", f"{wall / timed:.2f}",
         f"wall {wall:.1f} s, timed {timed:.2f} s"],
    ]
    markdown = (
        f"Timing harness (`benchmarks/harness.py`) on {_describe_device()}. "
        "Other jobs may have shared the machine, so the spread figures can include their noise.\n\n"
        + markdown_table(["figure", "value", "detail"], rows)
    )
    if args.no_write:
        print(markdown)
    else:
        write_section("harness", markdown)
        print(markdown)


if __name__ == "__main__":
    main()
