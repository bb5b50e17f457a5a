"""The ``alphaflops measure`` command: time a sweep of layers into a dataset file."""

import sys

from alphaflops.harness.runs import DEFAULT_SETTINGS, measure_sweep
from alphaflops.harness.sweeps import NAMED_SWEEPS, load_sweep, parse_shard


def configure(parser):
    """Add the options of ``alphaflops measure``."""
    parser.add_argument(
        "--sweep",
        default="paper",
        help=f"named sweep ({', '.join(sorted(NAMED_SWEEPS))}) or path of a JSON sweep spec (default: paper)",
    )
    parser.add_argument("--out", required=True, help="dataset JSON file to write")

    parser.add_argument(
        "--reps",
        type=int,
        help=f"timed repetitions per configuration (default: {DEFAULT_SETTINGS['reps']}, as published)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        help=f"untimed calls after the compiling call (default: {DEFAULT_SETTINGS['warmup']})",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        help="time budget in seconds for the timed repetitions of one configuration; "
        "slow layers get fewer repetitions, at least one (default: no budget)",
    )
    parser.add_argument("--dtype", help="data type of inputs and weights (default: float32)")

    parser.add_argument("--device", help="JAX platform to measure on, such as cpu or gpu (default: JAX's default)")

    parser.add_argument(
        "--shard",
        default="1/1",
        help="I/N: measure configurations I-1, I-1+N, I-1+2N, ... of the sweep (default: 1/1, all)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run recorded in the journal, measuring only configurations without a record; "
        "options not given are taken from the journal",
    )
    parser.add_argument("--retry-failed", action="store_true", help="with --resume, measure failed configurations again")

    parser.add_argument("--journal", help="journal file (default: OUT.journal.jsonl)")
    parser.add_argument("--name", help="dataset name (default: SWEEP-PLATFORM-DEVICE)")
    parser.add_argument("--no-progress", action="store_true", help="do not show the progress bar")


def run(args):
    """Measure the sweep and print a summary; return 0, or 130 when stopped by Ctrl-C."""
    sweep = load_sweep(args.sweep)
    shard = parse_shard(args.shard)
    settings = {"reps": args.reps, "warmup": args.warmup, "max_seconds": args.max_seconds, "dtype": args.dtype}
    summary = measure_sweep(
        sweep,
        args.out,
        settings=settings,
        shard=shard,
        resume=args.resume,
        retry_failed=args.retry_failed,
        device=args.device,
        journal_path=args.journal,
        name=args.name,
        progress=not args.no_progress,
    )

    print(
        f"{summary.output}: {summary.measured} of {summary.total} configurations measured "
        f"({summary.measured_now} in this run), {len(summary.failures)} failed; journal {summary.journal}"
    )
    for failure in summary.failures:
        print(f"  failed {failure['key']} {failure['values']}: {failure['error']}", file=sys.stderr)
    if summary.stopped:
        print(f"stopped with {summary.missing} configurations left; rerun with --resume to continue", file=sys.stderr)
        return 130
    return 0
