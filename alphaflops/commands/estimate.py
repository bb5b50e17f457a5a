"""The ``alphaflops estimate`` command: predicted time of a list of layers."""

import json
import sys
from pathlib import Path

from alphaflops.layers import parse_json_integer

PUBLISHED_MODEL_NAME = "published"


def configure(parser):
    parser.add_argument(
        "--model", metavar="MODEL.json", required=True,
        help="model file written by 'alphaflops fit' or model.save(), or 'published' for the "
             "published T2000 alpha-FLOPs model",
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


def _load_model(name):
    from alphaflops.models import load_model, published_model

    path = Path(name)
    if name == PUBLISHED_MODEL_NAME and not path.exists():
        return published_model()
    if not path.is_file():
        raise FileNotFoundError(f"model file {name!r} not found")
    return load_model(path)


def _read_specs(path):
    if not path.is_file():
        raise FileNotFoundError(f"layers file {str(path)!r} not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_int=parse_json_integer)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None


def run(args):
    from alphaflops.estimate import estimate_layers, layers_from_specs

    model = _load_model(args.model)
    try:
        layers = layers_from_specs(_read_specs(args.layers))
    except ValueError as error:
        raise ValueError(f"{args.layers}: {error}") from None

    result = estimate_layers(layers, model=model, power_watts=args.power_watts)
    print(result.format_table())
    if args.csv is not None:
        result.to_csv(args.csv)
        print(f"wrote {args.csv}", file=sys.stderr)
    if args.json is not None:
        result.to_json(args.json)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
