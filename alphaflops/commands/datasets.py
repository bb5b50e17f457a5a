"""The ``alphaflops datasets`` command: list the datasets shipped with alphaflops."""

from alphaflops.datasets.bundled import bundled_datasets, bundled_summary, default_dataset_name


def configure(parser):
    """Add the options of ``alphaflops datasets``."""
    parser.add_argument("--paths", action="store_true", help="also print the path of each dataset file")


def run(args):
    """Print one line per bundled dataset, marking the default with '*'; return 0."""
    datasets = bundled_datasets()
    if not datasets:
        print("no dataset is bundled with this installation")
        return 0

    default = default_dataset_name()
    for name, path in datasets.items():
        summary = bundled_summary(path)
        if summary["max_seconds"] is None:
            repetitions = f"{summary['reps']} repetitions"
        else:
            repetitions = f"up to {summary['reps']} repetitions within {summary['max_seconds']:g} s per layer"
        marker = "*" if name == default else " "
        line = (
            f"{marker} {name}: {summary['rows']} rows, {summary['platform']} {summary['device']}, "
            f"{repetitions}, measured {summary['date']}"
        )
        if args.paths:
            line += f"\n    {path}"
        print(line)
    print("* default dataset of commands that take --dataset")
    return 0
