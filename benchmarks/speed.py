"""Fit time, cross-validation time and prediction throughput of every registered cost model.

For each model of ``alphaflops.models.benchmark_models()`` measures on the
published T2000 timings the time to fit (fastest of several fits) and to
run leave-one-plot-out cross-validation, then the time to predict 10**6
random layer rows. The floor beside it is the time numpy needs for the
bare FLOPs product ``2 * H * W * Cin * Cout * K1 * K2`` over the same
array, column by column. Prediction must stay within 5x of that floor; the
script exits with status 1 when a model does not.

Usage::

    python benchmarks/speed.py [--dataset PATH] [--rows N] [--repeats N] [--budget S]
                               [--models NAME ...] [--no-write]

Timings are the fastest of up to ``--repeats`` runs, fewer once a
measurement took ``--budget`` seconds. Model and floor runs are
interleaved so that load from other processes affects both alike.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _results import markdown_table, write_section

from alphaflops import load_dataset
from alphaflops.evaluation import cross_validate
from alphaflops.models import benchmark_models, fit_dataset

DEFAULT_DATASET = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "t2000" / "data.pickle"
MAX_RATIO = 5.0


def table_header(n_rows):
    """Return the column names of the speed table for ``n_rows`` predicted rows."""
    return ["model", "fit (ms)", "LOPO (ms)", f"predict {n_rows:,} rows (ms)", "rows/s", "FLOPs floor (ms)",
            "ratio to floor"]


def random_rows(n_rows, seed=0):
    """Return ``n_rows`` random layer rows: H, W in 1..256, Cin, Cout in 1..2048, K1, K2 in {1, 3, 5, 7}."""
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [
            rng.integers(1, 257, n_rows),
            rng.integers(1, 257, n_rows),
            rng.integers(1, 2049, n_rows),
            rng.integers(1, 2049, n_rows),
            rng.choice([1, 3, 5, 7], n_rows),
            rng.choice([1, 3, 5, 7], n_rows),
        ]
    ).astype(np.float64)


def flops_floor(X):
    """Compute the bare FLOPs product, the floor that prediction is compared with."""
    return 2.0 * X[:, 0] * X[:, 1] * X[:, 2] * X[:, 3] * X[:, 4] * X[:, 5]


def fastest(function, repeats, budget_s):
    """Return the fastest wall time of up to ``repeats`` calls, in seconds.

    Stops repeating once the calls together took ``budget_s`` seconds, so a
    slow model is timed fewer times instead of stalling the script.
    """
    best = float("inf")
    spent = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        spent += elapsed
        if spent >= budget_s:
            break
    return best


def time_prediction(model, X, repeats, budget_s):
    """Return (fastest predict time, fastest floor time) from interleaved runs, in seconds."""
    model.predict(X[:1000])
    predict_best = float("inf")
    floor_best = float("inf")
    spent = 0.0
    for _ in range(repeats):
        floor_best = min(floor_best, fastest(lambda: flops_floor(X), 1, budget_s))
        predict_time = fastest(lambda: model.predict(X), 1, budget_s)
        predict_best = min(predict_best, predict_time)
        spent += predict_time
        if spent >= budget_s:
            break
    return predict_best, floor_best


def measure_model(model, dataset, X, repeats, budget_s):
    """Return fit, LOPO, predict and floor times of one model, in seconds."""
    with warnings.catch_warnings():
        # Convergence warnings are the accuracy benchmark's concern.
        warnings.simplefilter("ignore")
        fit_time = fastest(lambda: fit_dataset(model, dataset), repeats, budget_s)
        cv_time = fastest(lambda: cross_validate(model, dataset, by="plot"), max(1, repeats // 3), budget_s)
    predict_time, floor_time = time_prediction(model, X, repeats, budget_s)
    return fit_time, cv_time, predict_time, floor_time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset",
        type=Path,
        default=Path(os.environ.get("ALPHAFLOPS_T2000", DEFAULT_DATASET)),
        help="path of the T2000 data.pickle (default: $ALPHAFLOPS_T2000 or ../shared/datasets/t2000/data.pickle)",
    )
    parser.add_argument("--rows", type=int, default=10**6, help="random layer rows to predict (default: 10**6)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (default: 7)")
    parser.add_argument(
        "--budget",
        type=float,
        default=10.0,
        help="seconds after which a measurement stops repeating (default: 10)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        metavar="NAME",
        help="report names of the models to time (default: every model of benchmark_models())",
    )
    parser.add_argument("--no-write", action="store_true", help="print the table without updating RESULTS.md")
    args = parser.parse_args(argv)

    models = benchmark_models()
    unknown = sorted(set(args.models or []) - set(models))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(models)}")
    if args.models:
        models = {name: models[name] for name in args.models}

    dataset = load_dataset(args.dataset)
    X = random_rows(args.rows)
    rows = []
    too_slow = []
    for name, model in models.items():
        fit_time, cv_time, predict_time, floor_time = measure_model(model, dataset, X, args.repeats, args.budget)
        ratio = predict_time / floor_time
        if ratio > MAX_RATIO:
            too_slow.append(name)
        rows.append(
            [
                name,
                f"{fit_time * 1e3:.1f}",
                f"{cv_time * 1e3:.1f}",
                f"{predict_time * 1e3:.1f}",
                f"{args.rows / predict_time:.3g}",
                f"{floor_time * 1e3:.1f}",
                f"{ratio:.2f}",
            ]
        )

    table = markdown_table(table_header(args.rows), rows)
    print(table)
    if not args.no_write:
        text = (
            f"Fit and leave-one-plot-out (LOPO) times on the {len(dataset)} T2000 rows; prediction of "
            f"{args.rows} random layer rows (H, W in 1..256, Cin, Cout in 1..2048, K1, K2 in "
            "{1, 3, 5, 7}), input validation included. The floor is numpy's bare FLOPs product over the "
            f"same array. Each time is the fastest of up to {args.repeats} runs (LOPO: fewer), "
            f"with fewer runs once a measurement took {args.budget:g} s. "
            f"Prediction must stay within {MAX_RATIO:g}x of the floor.\n\n" + table
        )
        write_section("speed", text)
    if too_slow:
        print(f"prediction slower than {MAX_RATIO:g}x the FLOPs floor: {', '.join(too_slow)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
