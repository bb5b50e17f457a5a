"""The ``alphaflops measure`` command: time a sweep of layers into a dataset file."""

import logging
import sys
from contextlib import contextmanager

from alphaflops.harness.runs import DEFAULT_SETTINGS, DEFAULT_SWEEP, measure_sweep
from alphaflops.harness.sweeps import NAMED_SWEEPS, load_sweep, parse_shard

#: Exit statuses besides 0 (every configuration measured) and 1 (error before measuring).
EXIT_SOME_FAILED = 3
EXIT_ALL_FAILED = 4
EXIT_STOPPED = 130


def configure(parser):
    """Add the options of ``alphaflops measure``."""
    parser.add_argument(
        "--sweep",
        help=f"named sweep ({', '.join(sorted(NAMED_SWEEPS))}) or path of a JSON sweep spec "
        f"(default: {DEFAULT_SWEEP}, or the journal's sweep with --resume)",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="dataset JSON file to write; an existing file is replaced only when it is the output "
        "of the run being resumed, or with --force",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing --out file that is not this run's output (a journal is never replaced)",
    )

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
    parser.add_argument(
        "--dtype", help="floating-point type of inputs and weights: float32, float16, bfloat16 (default: float32)"
    )

    parser.add_argument("--device", help="JAX platform to measure on, such as cpu or gpu (default: JAX's default)")

    parser.add_argument(
        "--shard",
        help="I/N: measure configurations I-1, I-1+N, I-1+2N, ... of the sweep "
        "(default: 1/1, all; the journal's shard with --resume)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run recorded in the journal, measuring only configurations without a record; "
        "--sweep, --shard, --reps, --warmup, --max-seconds and --dtype not given are taken from the journal",
    )
    parser.add_argument("--retry-failed", action="store_true", help="with --resume, measure failed configurations again")

    parser.add_argument("--journal", help="journal file (default: OUT.journal.jsonl)")
    parser.add_argument("--name", help="dataset name (default: SWEEP-PLATFORM-DEVICE)")
    parser.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    parser.epilog = (
        f"Exit status: 0 when every configuration of the shard is measured; 1 when an option or file "
        f"is invalid (nothing is measured); {EXIT_SOME_FAILED} when some configurations failed "
        f"(the others are in --out); {EXIT_ALL_FAILED} when every configuration failed; "
        f"{EXIT_STOPPED} when stopped by Ctrl-C."
    )


def run(args):
    """Measure the sweep, print a summary and return the exit status (see the parser's epilog)."""
    sweep = load_sweep(args.sweep) if args.sweep is not None else None
    shard = parse_shard(args.shard) if args.shard is not None else None
    settings = {"reps": args.reps, "warmup": args.warmup, "max_seconds": args.max_seconds, "dtype": args.dtype}
    with _warnings_on_stderr():
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
            force=args.force,
        )

    print(
        f"{summary.output}: {summary.measured} of {summary.total} configurations measured "
        f"({summary.measured_now} in this run), {len(summary.failures)} failed; journal {summary.journal}"
    )
    for failure in summary.failures:
        print(f"  failed {failure['key']} {failure['values']}: {failure['error']}", file=sys.stderr)
    return _exit_status(summary)


def _exit_status(summary):
    if summary.stopped:
        print(f"stopped with {summary.missing} configurations left; rerun with --resume to continue", file=sys.stderr)
        return EXIT_STOPPED
    if summary.failures and summary.measured == 0:
        print("every configuration failed; see the errors above", file=sys.stderr)
        return EXIT_ALL_FAILED
    if summary.failures:
        print(
            f"{len(summary.failures)} configurations failed; rerun with --resume --retry-failed to try them again",
            file=sys.stderr,
        )
        return EXIT_SOME_FAILED
    return 0


@contextmanager
def _warnings_on_stderr():
    """Print the harness's log warnings as "alphaflops measure: warning: ..." lines while measuring."""
    logger = logging.getLogger("alphaflops.harness")
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("alphaflops measure: warning: %(message)s"))
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
