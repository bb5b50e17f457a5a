"""Accuracy of every registered cost model on three GPUs: the T2000 set and the NeuSight T4 and V100 tables.

For each model and data set the script reports the in-sample MAPE and
Spearman rank correlation, and the same for held-out predictions. On the
T2000 set these come from leave-one-plot-out (each of its 8 plots predicted
by a model fitted on the other 7). The NeuSight tables have no plots, so
there they come from 5-fold cross-validation with seed 0. The T2000 set appears twice, with all rows and
without the rows that the plausibility audit flags (as the recommended
model's targets are stated). It prints the table and writes it to the
``datasets`` section of ``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/datasets.py [--t2000 PATH] [--neusight DIR] [--no-write]

The paths default to ``$ALPHAFLOPS_T2000`` and ``$ALPHAFLOPS_NEUSIGHT``, else
``../shared/datasets/t2000/data.pickle`` and ``../shared/datasets/neusight``
beside the repository.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from _results import evaluate_in_sample_and_held_out, markdown_table, write_section

from alphaflops import load_dataset
from alphaflops.models import AlphaFlopsRegressor, benchmark_models
from alphaflops.plausibility import audit

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
DEFAULT_T2000 = SHARED / "t2000" / "data.pickle"
DEFAULT_NEUSIGHT = SHARED / "neusight"
NEUSIGHT_TABLES = {
    "T4": ("conv-Tesla_T4.csv", "device-Tesla_T4.json"),
    "V100": ("conv-Tesla_V100-PCIE-32GB.csv", "device-Tesla_V100-PCIE-32GB.json"),
}
HEADER = [
    "data set",
    "model",
    "in-sample MAPE",
    "in-sample Spearman",
    "held-out",
    "held-out MAPE",
    "held-out Spearman",
    "held-out median APE",
    "fit + CV seconds",
]


def load_datasets(t2000_path, neusight_dir):
    """Return data set label -> (Dataset, cross-validation scheme "plot" or "kfold")."""
    t2000 = load_dataset(t2000_path)
    plausible = t2000.subset(~audit(t2000).flagged_mask)
    datasets = {
        f"T2000 ({len(t2000)} rows)": (t2000, "plot"),
        f"T2000, audit-flagged rows left out ({len(plausible)} rows)": (plausible, "plot"),
    }
    for name, (table, device) in NEUSIGHT_TABLES.items():
        dataset = load_dataset(neusight_dir / table, format="neusight", device=neusight_dir / device)
        datasets[f"{name} ({len(dataset)} rows)"] = (dataset, "kfold")
    return datasets


def adapt_to_dataset(model, dataset):
    """Return ``model``, with the alpha model's kernel classes cut to those present in ``dataset``.

    The alpha model's default splits 1x1 kernels from larger ones and cannot
    fit a table of 3x3 convolutions only, so there it gets a single class.
    """
    if not isinstance(model, AlphaFlopsRegressor):
        return model
    kernel_areas = dataset.X[:, 4] * dataset.X[:, 5]
    present = tuple(bound for bound in model.kernel_classes if np.any(kernel_areas <= bound))
    present = tuple(bound for bound in present if np.any(kernel_areas > bound))
    return model.set_params(kernel_classes=present)


def evaluate_model(model, dataset, scheme):
    """Return the table cells of one model on one data set."""
    start = time.perf_counter()
    in_sample, held_out = evaluate_in_sample_and_held_out(model, dataset, by=scheme, n_splits=5, seed=0)
    seconds = time.perf_counter() - start
    label = "leave one plot out" if scheme == "plot" else "5-fold, seed 0"
    return [
        f"{in_sample['mape']:.4f}",
        f"{in_sample['spearman']:.4f}",
        label,
        f"{held_out['mape']:.4f}",
        f"{held_out['spearman']:.4f}",
        f"{held_out['median_ape']:.4f}",
        f"{seconds:.0f}",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--t2000",
        type=Path,
        default=Path(os.environ.get("ALPHAFLOPS_T2000", DEFAULT_T2000)),
        help="path of the T2000 data.pickle (default: $ALPHAFLOPS_T2000 or ../shared/datasets/t2000/data.pickle)",
    )
    parser.add_argument(
        "--neusight",
        type=Path,
        default=Path(os.environ.get("ALPHAFLOPS_NEUSIGHT", DEFAULT_NEUSIGHT)),
        help="folder with the NeuSight tables and device files (default: $ALPHAFLOPS_NEUSIGHT or "
        "../shared/datasets/neusight)",
    )
    parser.add_argument("--no-write", action="store_true", help="print the table without updating RESULTS.md")
    args = parser.parse_args(argv)

    rows = []
    for label, (dataset, scheme) in load_datasets(args.t2000, args.neusight).items():
        for name, model in benchmark_models().items():
            try:
                cells = evaluate_model(adapt_to_dataset(model, dataset), dataset, scheme)
            except ValueError as error:
                # One failing model must not hide the others, so its row shows the error.
                print(f"error: {label}: {name}: {error}", file=sys.stderr)
                cells = [f"failed: {error}", "", "", "", "", "", ""]
            rows.append([label, name, *cells])
            print(" | ".join(rows[-1]), flush=True)

    table = markdown_table(HEADER, rows)
    print(table)
    if not args.no_write:
        text = (
            "All models on three GPUs: the published Quadro T2000 sweeps and NeuSight's random 3x3 "
            "convolution tables for a Tesla T4 and a Tesla V100 (PyTorch 2.1, cuDNN 8.9, float32). "
            "MAPE and median APE are fractions. Held-out predictions come from models fitted without "
            "the predicted rows. The published model keeps its T2000 constants everywhere, so its "
            "held-out error equals its in-sample error. On the NeuSight tables `alpha_fitted` uses "
            "one kernel class, because every row is 3x3.\n\n" + table
        )
        write_section("datasets", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
