"""The ``alphaflops report`` command, and the dataset and audit options shared by commands.

Commands that read a dataset call :func:`add_dataset_arguments` in their
``configure`` and :func:`load_dataset_argument` in their ``run``, so that
``--dataset``, ``--format`` and ``--device`` mean the same everywhere.
Commands that run the plausibility audit call :func:`add_bound_arguments`
for ``--peak-flops`` and ``--bandwidth``.
"""

import os
import sys
import warnings
from pathlib import Path

from alphaflops.datasets.loading import FORMATS as DATASET_FORMATS
from alphaflops.errors import DatasetError

PUBLISHED_MODEL_NAME = "published"


def add_dataset_arguments(parser):
    """Add ``--dataset``, ``--format`` and ``--device`` to an argument parser."""
    parser.add_argument(
        "--dataset", metavar="PATH_OR_NAME",
        help="measurement file, or the name of a dataset bundled with alphaflops "
             "(see 'alphaflops datasets'); default: the default bundled dataset",
    )
    parser.add_argument(
        "--format", choices=DATASET_FORMATS, default="auto",
        help="file format of --dataset (default: auto, detected from the content)",
    )
    parser.add_argument(
        "--device", metavar="FILE", type=Path,
        help="NeuSight device file (JSON) whose GPU facts become the dataset's hardware record",
    )
    parser.add_argument(
        "--columns", metavar="MAPPING", type=_column_mapping,
        help="for --format csv: comma-separated FILE_COLUMN=FIELD pairs, FIELD being a layer argument "
             "(height, width, in_channels, out_channels, kernel_size, ...), kind, batch or time; "
             "FIELD1+FIELD2 feeds one column to two arguments, e.g. size=height+width",
    )
    parser.add_argument("--time-unit", choices=("ms", "s", "us"),
                        help="for --format csv: unit of the time column (default: ms)")


def load_dataset_argument(args):
    """Load the dataset that the ``--dataset`` options name.

    Returns
    -------
    dataset : alphaflops.Dataset
    path : str
        The file read, or the bundled name as given.

    Raises
    ------
    FileNotFoundError
        If ``--dataset`` is neither a file nor a bundled name, or
        ``--device`` does not exist.
    alphaflops.errors.DatasetError
        If the file is not a valid dataset.
    """
    from alphaflops.datasets import load_dataset

    name = args.dataset if args.dataset is not None else _default_dataset_name()
    if args.device is not None and not args.device.is_file():
        raise FileNotFoundError(f"device file {str(args.device)!r} not found")
    _check_csv_options(args, name)

    options = {"time_unit": args.time_unit or "ms"}
    if args.columns is not None:
        options["columns"] = args.columns
    if getattr(args, "group_by", None) is not None:
        options["group_column"] = args.group_by
    try:
        dataset = load_dataset(name, format=args.format, device=args.device, **options)
    except DatasetError as error:
        raise _with_cli_options(error) from None
    return dataset, str(name)


def _check_csv_options(args, name):
    """Raise ValueError for --format csv without --columns, or for --columns or --time-unit on another format."""
    csv_options = [option for option, value in (("--columns", args.columns), ("--time-unit", args.time_unit))
                   if value is not None]
    if args.format == "csv" and args.columns is None:
        raise ValueError("--format csv needs --columns, a mapping from file columns to layer arguments "
                         "and the time, e.g. --columns H=height,W=width,Cin=in_channels,Cout=out_channels,"
                         "K=kernel_size,ms=time")
    if not csv_options or args.format == "csv":
        return

    detected = args.format
    if detected == "auto":
        detected = _detected_format(name)
    if detected != "csv":
        options = " and ".join(csv_options)
        verb = "apply" if len(csv_options) > 1 else "applies"
        raise ValueError(f"{options} only {verb} to generic CSV files, but dataset {str(name)!r} "
                         f"is read as format {detected!r}; leave {options} out")


def _detected_format(name):
    """Return the format that ``--format auto`` would pick for a dataset given with --columns."""
    from alphaflops.datasets.loading import SNIFF_BYTES, detect_format

    path = Path(name)
    if not path.is_file():
        from alphaflops.datasets.bundled import resolve_bundled

        bundled = resolve_bundled(str(name))
        if bundled is None:
            return "csv"  # load_dataset reports the missing file
        path = Path(bundled)
    with path.open("rb") as stream:
        head = stream.read(SNIFF_BYTES)
    return detect_format(head, path, has_columns=True)


# Phrases of library messages that name Python arguments, and the options of the command line.
_API_PHRASES = (
    ("pass format='csv' and a columns mapping", "pass --format csv and --columns FILE_COLUMN=FIELD,..."),
)


def _with_cli_options(error):
    """Return ``error`` with its Python argument names replaced by the command-line options."""
    message = str(error)
    for api_phrase, cli_phrase in _API_PHRASES:
        message = message.replace(api_phrase, cli_phrase)
    if message == str(error):
        return error
    return type(error)(message)


def _default_dataset_name():
    from alphaflops.datasets.bundled import default_dataset_name

    return default_dataset_name()


def _column_mapping(text):
    import argparse

    mapping = {}
    for pair in text.split(","):
        column, separator, field = pair.partition("=")
        if not separator or not column.strip() or not field.strip():
            raise argparse.ArgumentTypeError(
                f"invalid column mapping {pair!r}: expected FILE_COLUMN=FIELD, e.g. ms=time")
        fields = [part.strip() for part in field.split("+")]
        mapping[column.strip()] = fields[0] if len(fields) == 1 else fields
    return mapping


def add_bound_arguments(parser, needs=None):
    """Add ``--peak-flops`` and ``--bandwidth``, the rates behind the plausibility audit's bounds.

    ``needs`` names the option without which the command does not run the
    audit, e.g. ``"--leave-out-flagged"``, for the help text.
    """
    condition = "" if needs is None else f"; only with {needs}"
    parser.add_argument(
        "--peak-flops", metavar="FLOP_PER_S", type=_rate_parser("peak_flops"),
        help="peak arithmetic rate in FLOP/s (e.g. 3.3e12) for the audit's compute bound; default: the FP32 "
             f"peak derived from the dataset's hardware record, if any{condition}",
    )
    parser.add_argument(
        "--bandwidth", metavar="BYTES_PER_S", type=_rate_parser("bandwidth"),
        help="memory bandwidth in bytes/s (e.g. 3.2e11) for the audit's memory bound; default: the hardware "
             f"record's bandwidth, if any{condition}",
    )


def check_bound_arguments(args, audit_runs, reason, fix):
    """Reject ``--peak-flops`` and ``--bandwidth`` when the command will not run the audit.

    ``reason`` ends the sentence "... only applies to the plausibility audit,
    which {reason}", e.g. ``"--no-audit leaves out"``. ``fix`` is the other
    way out, e.g. ``"add --leave-out-flagged"``.
    """
    values = {"--peak-flops": args.peak_flops, "--bandwidth": args.bandwidth}
    given_options = [option for option, value in values.items() if value is not None]
    if not given_options or audit_runs:
        return
    options = " and ".join(given_options)
    verb = "apply" if len(given_options) > 1 else "applies"
    raise ValueError(f"{options} only {verb} to the plausibility audit, which {reason}; "
                     f"{fix} or leave {options} out")


def _rate_parser(name):
    """Return the argparse type that parses and checks the audit rate ``name``, ``peak_flops`` or ``bandwidth``."""
    import argparse

    def parse(text):
        from alphaflops.plausibility import rate_error

        try:
            value = float(text)
        except ValueError:
            value = None
        reason = rate_error(name, value)
        if reason is not None:
            raise argparse.ArgumentTypeError(f"invalid value {text}: {reason}")
        return value

    return parse


def add_cross_validation_arguments(parser):
    """Add ``--cv``, ``--folds``, ``--seed`` and ``--group-by`` to an argument parser."""
    parser.add_argument(
        "--cv", choices=("auto", "plot", "kfold", "none"), default="auto",
        help="held-out predictions for the fitted models: leave-one-plot-out, shuffled K-fold, or none "
             "(default: auto, leave-one-plot-out for datasets with plots, K-fold otherwise)",
    )
    parser.add_argument("--folds", type=_positive_folds, default=5,
                        help="number of folds for K-fold cross-validation (default: 5)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the K-fold shuffle (default: 0)")
    parser.add_argument(
        "--group-by", metavar="COLUMN",
        help="per-row metadata column of a table: hold out one value of it at a time instead of K-fold",
    )


def _positive_folds(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid fold count {text!r}: expected an integer >= 2") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"invalid fold count {value}: expected an integer >= 2")
    return value


def configure(parser):
    add_dataset_arguments(parser)
    parser.add_argument("--out", metavar="DIR", type=Path, default=Path("report"),
                        help="folder for report.json, report.md and the PNG figures (default: ./report)")
    parser.add_argument(
        "--models", metavar="NAMES",
        help="comma-separated report names of the models to evaluate "
             "(default: every registered model, e.g. alpha_published,flops,alpha_fitted)",
    )
    add_cross_validation_arguments(parser)
    parser.add_argument("--no-figures", action="store_true", help="write report.json and report.md only")
    parser.add_argument("--no-audit", action="store_true", help="leave the plausibility audit out")
    parser.add_argument(
        "--leave-out-flagged", action="store_true",
        help="leave rows measured faster than the hardware allows (see 'alphaflops audit') "
             "out of every fit and metric",
    )
    add_bound_arguments(parser)


def run(args):
    from alphaflops import report

    audit_runs = not args.no_audit or args.leave_out_flagged
    check_bound_arguments(args, audit_runs, "--no-audit leaves out", "drop --no-audit")
    check_output_folder(args.out)
    dataset, path = load_dataset_argument(args)
    names = None if args.models is None else _split_names(args.models)
    models = report.default_models(names, X=dataset.X)
    plan = report.default_plan(dataset, args.cv, args.folds, args.seed, args.group_by)

    # Catch the NoBoundWarning of --leave-out-flagged to print it below. Each model's own warnings are
    # recorded in its report entry instead.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        built = report.build_report(dataset, models, plan, dataset_path=path, run_audit=not args.no_audit,
                                    leave_out_flagged=args.leave_out_flagged, progress=_print_progress,
                                    peak_flops=args.peak_flops, bandwidth=args.bandwidth)
    report.reissue_deprecations(caught)
    for message in report.warning_messages(caught):
        print(f"alphaflops report: warning: {message}", file=sys.stderr)
    try:
        written = report.write_report(built, args.out, figures=not args.no_figures)
    except OSError as error:
        raise write_error(error, args.out, "--out") from None

    print(report.format_table(built.data))
    if "audit" in built.data:
        print(f"\n{_audit_line(built.data['audit'], len(dataset))}")
    for name, entry in built.data["models"].items():
        if "error" in entry:
            print(f"alphaflops report: warning: model {name} not evaluated: {entry['error']}", file=sys.stderr)
        for message in entry.get("warnings", []):
            print(f"alphaflops report: warning: model {name}: {message}", file=sys.stderr)
    print(f"\nwrote {len(written)} files to {args.out}: report.json, report.md"
          f"{_figure_note(len(written) - 2)}", file=sys.stderr)
    return 0


def _audit_line(audit, row_count):
    from alphaflops.report import CLI_NO_BOUND_ADVICE

    if not audit.get("bounds_applied"):
        return (f"plausibility audit: no bound applied, so none of the {row_count} rows was checked; "
                f"{CLI_NO_BOUND_ADVICE}")
    flagged = len(audit.get("rows", []))
    listed = " (listed in report.md)" if flagged else ""
    return f"plausibility audit: {flagged} of {row_count} rows measured faster than the hardware bound{listed}"


def _print_progress(message):
    print(f"alphaflops report: {message}", file=sys.stderr, flush=True)


def check_output_folder(path, option="--out"):
    """Check that a folder can be created or written at ``path``, before any work is done.

    Raises
    ------
    NotADirectoryError
        If ``path`` or one of its parents exists as a file.
    PermissionError
        If the folder (or its nearest existing parent) is not writable.
    """
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(
            f"output folder {str(path)!r} is an existing file; give a folder path for {option}")
    _check_writable_parent(path, option, "folder")


def check_output_file(path, option, example_name):
    """Check that a file can be written at ``path``, before any work is done.

    ``example_name`` is the file name that the message suggests when
    ``path`` is a folder, e.g. ``"model.json"``.

    Raises
    ------
    IsADirectoryError
        If ``path`` is an existing folder.
    NotADirectoryError
        If one of its parents exists as a file.
    PermissionError
        If the file or its nearest existing parent folder is not writable.
    """
    if path.is_dir():
        raise IsADirectoryError(
            f"{option} {str(path)!r} is a folder; give a file path, e.g. {str(path / example_name)!r}")
    if path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(f"cannot write {option} {str(path)!r}: permission denied; give a writable path")
    _check_writable_parent(path, option, "file", start=path.parent)


def _check_writable_parent(path, option, target_kind, start=None):
    """Raise if the nearest existing folder at or above ``start`` (default ``path``) is a file or read-only."""
    existing = (path if start is None else start).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(
            f"cannot create the output {target_kind} for {option} {str(path)!r}: {str(existing)!r} is a file, "
            f"not a folder; give another path for {option}")
    if not os.access(existing, os.W_OK):
        raise PermissionError(
            f"cannot write the output {target_kind} for {option} {str(path)!r}: folder {str(existing)!r} is not "
            f"writable; give another path for {option}")


def write_error(error, path, option):
    """Return an OSError that names the option and path that could not be written, without an errno prefix."""
    reason = error.strerror or str(error)
    return type(error)(f"could not write {option} {str(path)!r}: {reason}; give another path for {option}")


def resolve_model_argument(name, option="--model"):
    """Load the model that a ``--model`` argument names: a model file, or ``published``.

    A file named ``published`` in the working folder takes precedence over
    the published T2000 model.

    Raises
    ------
    FileNotFoundError
        If ``name`` is neither ``published`` nor an existing path.
    IsADirectoryError
        If ``name`` is a folder.
    alphaflops.errors.ModelFileError
        If the file is not a valid model file.
    """
    from alphaflops.models import load_model, published_model

    path = Path(name)
    if str(name) == PUBLISHED_MODEL_NAME and not path.exists():
        return published_model()
    if path.is_dir():
        raise IsADirectoryError(
            f"{option} {str(name)!r} is a folder, not a model file; give a file written by "
            f"'alphaflops fit', or '{PUBLISHED_MODEL_NAME}' for the published T2000 model")
    if not path.is_file():
        raise FileNotFoundError(
            f"model file {str(name)!r} not found; give a file written by 'alphaflops fit', "
            f"or '{PUBLISHED_MODEL_NAME}' for the published T2000 model")
    return load_model(path)


def _split_names(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError(f"invalid --models {text!r}: expected comma-separated model names")
    return names


def _figure_note(count):
    if count <= 0:
        return ""
    return f" and {count} PNG figure(s)"
