"""The ``alphaflops estimate`` command: predicted time of a list of layers."""

import json
import sys
from pathlib import Path

from alphaflops.commands.report import PUBLISHED_MODEL_NAME, check_output_file, resolve_model_argument, write_error
from alphaflops.layers import parse_json_integer


def configure(parser):
    parser.add_argument(
        "--model", metavar="MODEL.json", required=True,
        help="model file written by 'alphaflops fit' or model.save(), or "
             f"'{PUBLISHED_MODEL_NAME}' for the published T2000 alpha-FLOPs model",
    )
    parser.add_argument(
        "--layers", metavar="LAYERS.json", type=Path, required=True,
        help='JSON list of layer specs, each {"kind": "conv2d" | "dense", ...} with the '
             "Conv2D or Dense arguments",
    )
    parser.add_argument("--csv", metavar="OUT.csv", type=Path, help="also write one CSV row per layer to OUT.csv")
    parser.add_argument("--json", metavar="OUT.json", type=Path, help="also write the whole estimate to OUT.json")
    parser.add_argument(
        "--power-watts", metavar="W", type=float,
        help="assumed constant GPU power in watts; adds energy in joules and kWh (predicted time x power)",
    )


def _read_specs(path):
    if not path.is_file():
        raise FileNotFoundError(f"layers file {str(path)!r} not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_int=parse_json_integer)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None


def run(args):
    from alphaflops.estimation import estimate_layers, layers_from_specs

    for option, path, example in (("--csv", args.csv, "estimate.csv"), ("--json", args.json, "estimate.json")):
        if path is not None:
            check_output_file(path, option, example)
    model = resolve_model_argument(args.model)
    try:
        layers = layers_from_specs(_read_specs(args.layers))
    except ValueError as error:
        raise ValueError(f"{args.layers}: {error}") from None

    result = estimate_layers(layers, model=model, power_watts=args.power_watts)
    print(result.format_table())
    if args.csv is not None:
        _write(result.to_csv, args.csv, "--csv")
    if args.json is not None:
        _write(result.to_json, args.json, "--json")
    return 0


def _write(writer, path, option):
    try:
        writer(path)
    except OSError as error:
        raise write_error(error, path, option) from None
    print(f"wrote {path}", file=sys.stderr)
