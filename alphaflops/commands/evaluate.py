"""The ``alphaflops evaluate`` command: errors of a saved model on any dataset."""

import sys
from pathlib import Path

from alphaflops.commands.report import (
    PUBLISHED_MODEL_NAME,
    add_dataset_arguments,
    check_output_folder,
    load_dataset_argument,
    resolve_model_argument,
    write_error,
)


def configure(parser):
    parser.add_argument("--model", metavar="MODEL.json", required=True,
                        help="model file written by 'alphaflops fit' or model.save(), or "
                             f"'{PUBLISHED_MODEL_NAME}' for the published T2000 alpha-FLOPs model")
    add_dataset_arguments(parser)
    parser.add_argument(
        "--out", metavar="DIR", type=Path,
        help="also write evaluation.json, evaluation.md and PNG figures of the predictions into DIR",
    )


def run(args):
    from alphaflops import report

    if args.out is not None:
        check_output_folder(args.out)
    model = resolve_model_argument(args.model)
    dataset, path = load_dataset_argument(args)

    evaluation = report.evaluate_saved_model(model, dataset, model_path=args.model, dataset_path=path)
    print(report.format_table(evaluation.data))
    _note_other_hardware(model, dataset)
    if args.out is not None:
        try:
            written = report.write_report(evaluation, args.out, basename="evaluation")
        except OSError as error:
            raise write_error(error, args.out, "--out") from None
        print(f"\nwrote {len(written)} files to {args.out}", file=sys.stderr)
    return 0


def _note_other_hardware(model, dataset):
    fitted_on = (getattr(model, "hardware_", None) or {}).get("name")
    measured_on = (dataset.hardware or {}).get("name")
    if fitted_on and measured_on and fitted_on != measured_on:
        print(f"alphaflops evaluate: note: the model was fitted on {fitted_on} measurements, "
              f"the dataset was measured on {measured_on}", file=sys.stderr)
