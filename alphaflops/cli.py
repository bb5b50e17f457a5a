"""Command line: ``alphaflops COMMAND ...``.

Each command lives in ``alphaflops.commands.<name>`` with two functions:
``configure(parser)`` adds its arguments and ``run(args)`` does the work and
returns the exit status. This module only parses and turns the library's
errors into one line on stderr.
"""

import argparse
import importlib
import os
import re
import sys

from alphaflops._version import __version__

COMMANDS = {
    "report": "Evaluate the published and fitted models on a dataset and write a report.",
    "fit": "Fit a cost model to a dataset and save it as a model file.",
    "evaluate": "Compute the prediction error of a saved model on a dataset.",
    "audit": "List measured times faster than the hardware allows.",
    "measure": "Time a sweep of layers on this machine with JAX.",
    "merge": "Join the shards of a measured sweep into one dataset.",
    "datasets": "List the datasets bundled with alphaflops.",
    "estimate": "Predict the time of a list of layers with a saved model.",
}


# argparse takes a value such as -1e12 for an option, so the option before it appears to lack its value.
# Python 3.11's argparse treats only plain integers and decimals, such as -1 and -1.5, as negative numbers.
_MISSING_VALUE = re.compile(r"^argument (--[\w-]+): expected one argument$")


class _OneLineErrorParser(argparse.ArgumentParser):
    """Argument parser that reports a usage error in one line instead of a usage block."""

    def error(self, message):
        match = _MISSING_VALUE.match(message)
        if match:
            message += f"; to give a value that starts with '-', write {match.group(1)}=VALUE"
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser():
    """Build the argument parser with one subparser per command."""
    parser = _OneLineErrorParser(
        prog="alphaflops",
        description="Predict GPU time of neural-network layers.",
    )
    parser.add_argument("--version", action="version", version=f"alphaflops {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"alphaflops.commands.{name}")
        subparser = subparsers.add_parser(name, help=help_text, description=help_text)
        module.configure(subparser)
        subparser.set_defaults(run=module.run)
    return parser


def main(argv=None):
    """Run the command line and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("alphaflops: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of stdout (e.g. `head`) exited; further writes would fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (ValueError, OSError) as error:
        print(f"alphaflops {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
