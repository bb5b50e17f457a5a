"""The ``alphaflops audit`` command: list measured times faster than the hardware allows."""

import json
from pathlib import Path

from alphaflops.commands.report import (
    add_bound_arguments,
    add_dataset_arguments,
    check_output_file,
    load_dataset_argument,
    write_error,
)


def configure(parser):
    add_dataset_arguments(parser)
    add_bound_arguments(parser)
    parser.add_argument("--out", metavar="FILE.json", type=Path,
                        help="write the flagged rows, the bounds used and the assumptions as JSON")


def run(args):
    from alphaflops.plausibility import audit

    if args.out is not None:
        check_output_file(args.out, "--out", "audit.json")
    dataset, path = load_dataset_argument(args)
    result = audit(dataset, peak_flops=args.peak_flops, bandwidth=args.bandwidth)

    print(f"audit of {dataset.name} ({len(dataset)} rows from {path})")
    for sentence in result.assumptions:
        print(f"- {sentence}")
    if result.rows:
        print(f"{'plot':<24} {'line':>4} {'row':>4}  {'H, W, Cin, Cout, K1, K2':<34} {'time ms':>9} "
              f"{'bound ms':>9} {'ratio':>6}")
    for row in result.rows:
        config = ", ".join(f"{value:g}" for value in row["config"])
        line = "" if row["line"] is None else row["line"]
        print(f"{str(row['plot'] or '-'):<24} {line:>4} {row['row']:>4}  {config:<34} {row['time_ms']:>9.4f} "
              f"{row['bound_ms']:>9.4f} {row['ratio']:>6.2f}")

    if args.out is not None:
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        except OSError as error:
            raise write_error(error, args.out, "--out") from None
        print(f"wrote {args.out}")
    return 0
