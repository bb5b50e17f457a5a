"""The ``alphaflops fit`` command: fit a cost model and save it as a model file."""

import sys
import warnings
from pathlib import Path

from alphaflops.commands.report import (
    add_bound_arguments,
    add_dataset_arguments,
    check_bound_arguments,
    check_output_file,
    load_dataset_argument,
    write_error,
)


def configure(parser):
    add_dataset_arguments(parser)
    parser.add_argument(
        "--model", required=True, metavar="KIND",
        help="model kind to fit: flops, alpha, or another kind registered for model files "
             "(e.g. recommended, hybrid); report names such as alpha_fitted work too",
    )
    parser.add_argument("--out", metavar="MODEL.json", type=Path, required=True,
                        help="model file to write (versioned JSON)")
    parser.add_argument(
        "--leave-out-flagged", action="store_true",
        help="fit without the rows measured faster than the hardware allows (see 'alphaflops audit'); "
             "the model file lists them",
    )
    add_bound_arguments(parser, needs="--leave-out-flagged")


def run(args):
    from alphaflops import report
    from alphaflops.models import fit_dataset

    kinds = {kind: cls for kind, cls in report.model_kinds().items() if kind != "published"}
    by_report_name = {report.report_name(kind): kind for kind in kinds}
    kind = by_report_name.get(args.model, args.model)
    if kind not in kinds:
        raise ValueError(f"unknown model kind {args.model!r}: expected one of {', '.join(kinds)}")

    check_bound_arguments(args, args.leave_out_flagged, "this command runs only with --leave-out-flagged",
                          "add --leave-out-flagged")
    check_output_file(args.out, "--out", "model.json")
    dataset, path = load_dataset_argument(args)
    model = kinds[kind]()
    audited = " before the audit" if args.leave_out_flagged else ""
    print(f"alphaflops fit: fitting {kind} on {len(dataset)} rows{audited}", file=sys.stderr, flush=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if args.leave_out_flagged:
            from alphaflops.plausibility import fit_without_flagged

            model, audit = fit_without_flagged(model, dataset, peak_flops=args.peak_flops,
                                               bandwidth=args.bandwidth)
            dataset = dataset.subset(~audit.flagged_mask) if audit.flagged_mask.any() else dataset
        else:
            fit_dataset(model, dataset)
    report.reissue_deprecations(caught)
    for message in report.warning_messages(caught):
        print(f"alphaflops fit: warning: {message}", file=sys.stderr)
    in_sample = report.compute_metrics(dataset.y, model.predict(dataset.X))

    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        model.save(args.out)
    except OSError as error:
        raise write_error(error, args.out, "--out") from None

    entry = {"params": model.params_, "standard_errors": getattr(model, "standard_errors_", {})}
    print(f"fitted {kind} on {dataset.name} ({len(dataset)} rows from {path})")
    if args.leave_out_flagged:
        print(_left_out_line(audit, len(model.excluded_rows_)))
    print("parameters (value +- standard error):")
    for line in report.format_parameters(entry):
        print(f"  {line}")
    print("in-sample metrics:")
    for name in report.METRIC_NAMES:
        print(f"  {report.METRIC_LABELS[name]:<14} {in_sample[name]:.4f}")
    print(f"wrote {args.out}")
    return 0


def _left_out_line(audit, count):
    from alphaflops.report import CLI_NO_BOUND_ADVICE

    if not audit.bounds_applied:
        return ("left out no rows: the plausibility audit applied no bound, so it checked no row; "
                f"{CLI_NO_BOUND_ADVICE}")
    return f"left out {count} rows flagged by the plausibility audit"
