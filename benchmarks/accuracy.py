"""Accuracy of every registered cost model on the published T2000 timings.

The models come from ``alphaflops.models.benchmark_models()``, so new
model kinds appear without editing this script. For each model the script
prints, and writes to the ``accuracy`` section of ``benchmarks/RESULTS.md``,
the in-sample MAPE and Spearman rank correlation and the same for
leave-one-plot-out cross-validation. There each of the 8 plots is
predicted by a model fitted on the other 7. The rows that the plausibility
audit flags (measured faster than the FP32 peak allows) are left out of
every fit and metric unless ``--keep-flagged`` is given.

Usage::

    python benchmarks/accuracy.py [--dataset PATH] [--keep-flagged] [--no-write]

The dataset defaults to ``$ALPHAFLOPS_T2000``, else
``../shared/datasets/t2000/data.pickle`` beside the repository.
"""

import argparse
import os
import sys
import warnings
from pathlib import Path

from _results import evaluate_in_sample_and_held_out, markdown_table, write_section

from alphaflops import load_dataset
from alphaflops.evaluation import cross_validate, metrics
from alphaflops.models import RecommendedRegressor, benchmark_models
from alphaflops.plausibility import audit

DEFAULT_DATASET = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "t2000" / "data.pickle"
HEADER = ["model", "in-sample MAPE", "in-sample Spearman", "LOPO MAPE", "LOPO Spearman", "LOPO median APE"]


def evaluate_model(model, dataset):
    """Return the table cells of one model: in-sample and leave-one-plot-out metrics."""
    in_sample, held_out = evaluate_in_sample_and_held_out(model, dataset, by="plot")
    return [
        f"{in_sample['mape']:.4f}",
        f"{in_sample['spearman']:.4f}",
        f"{held_out['mape']:.4f}",
        f"{held_out['spearman']:.4f}",
        f"{held_out['median_ape']:.4f}",
    ]


def _flagged_in_training_note(dataset, flagged):
    """Return a paragraph on how the flagged rows change the recommended model's LOPO error if kept in training.

    Both errors are scored on the rows that are not flagged. The paragraph
    is empty when no row is flagged.
    """
    if not flagged.any():
        return ""
    scored = dataset.subset(~flagged)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trained_with_flagged = cross_validate(RecommendedRegressor(interval_folds=0), dataset, by="plot")
        trained_without_flagged = cross_validate(RecommendedRegressor(interval_folds=0), scored, by="plot")
    predictions_with_flagged = trained_with_flagged.predictions[~flagged]
    mape_with_flagged = metrics(scored.y, predictions_with_flagged)["mape"]

    # Name the held-out plot whose error changes most.
    plot_mapes = {}
    for index, name in enumerate(scored.plot_names):
        rows = scored.groups == index
        plot_mapes[name] = (
            trained_without_flagged.per_plot[name]["mape"],
            metrics(scored.y[rows], predictions_with_flagged[rows])["mape"],
        )
    plot, (plot_without, plot_with) = max(plot_mapes.items(), key=lambda item: abs(item[1][0] - item[1][1]))

    return (
        f"The {int(flagged.sum())} flagged rows are left out of training too. Kept in training but still not "
        f"scored, they change the recommended model's LOPO MAPE on the same {len(scored)} rows from "
        f"{trained_without_flagged.metrics['mape']:.4f} to {mape_with_flagged:.4f}. The largest change is on "
        f"{plot} held out, from {plot_without:.4f} to {plot_with:.4f}. On the published set the flagged rows are "
        "all 1x1 layers, three of them on 300x300 images. Apart from them, the only 1x1 layers on images of "
        "100x100 pixels or more are those of increasing_Cout_with_K1 and one 50-channel layer of conv_K_vs_S. "
        "So when increasing_Cout_with_K1 "
        "is held out, the flagged rows, measured faster than the FP32 peak allows, are most of the large-image "
        "1x1 layers left in training, and they pull its predicted times down."
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset",
        type=Path,
        default=Path(os.environ.get("ALPHAFLOPS_T2000", DEFAULT_DATASET)),
        help="path of the T2000 data.pickle (default: $ALPHAFLOPS_T2000 or ../shared/datasets/t2000/data.pickle)",
    )
    parser.add_argument(
        "--keep-flagged", action="store_true", help="keep the rows that the plausibility audit flags"
    )
    parser.add_argument("--no-write", action="store_true", help="print the table without updating RESULTS.md")
    args = parser.parse_args(argv)

    dataset = full_dataset = load_dataset(args.dataset)
    flagged = audit(dataset).flagged_mask
    if args.keep_flagged:
        rows_note = "All rows are used, including those the plausibility audit flags."
    else:
        dataset = dataset.subset(~flagged)
        rows_note = f"The {int(flagged.sum())} rows that the plausibility audit flags are left out."

    rows = []
    for name, model in benchmark_models(dataset.X).items():
        try:
            rows.append([name, *evaluate_model(model, dataset)])
        except ValueError as error:
            # One failing model must not hide the others, so its row shows the error.
            print(f"error: {name}: {error}", file=sys.stderr)
            rows.append([name, f"failed: {error}", "", "", "", ""])

    table = markdown_table(HEADER, rows)
    print(table)
    flagged_note = "" if args.keep_flagged else _flagged_in_training_note(full_dataset, flagged)
    print(flagged_note)
    if not args.no_write:
        text = (
            f"Dataset: published Quadro T2000 timings ({len(dataset)} rows, {len(dataset.plot_names)} plots). "
            f"{rows_note} "
            "MAPE and median APE are fractions (0.2163 = 21.63%). LOPO: leave one plot out, "
            "each plot predicted by the model fitted on the other plots; the published model "
            "keeps its constants, so its LOPO equals its in-sample error.\n\n" + table
            + ("\n" + flagged_note + "\n" if flagged_note else "")
        )
        write_section("accuracy", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
