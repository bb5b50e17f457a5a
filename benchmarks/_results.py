"""Shared helpers for the benchmark scripts: model evaluation, machine description and RESULTS.md sections.

Each script owns one section of ``benchmarks/RESULTS.md``, delimited by HTML
comments, and rewrites only that section, so the scripts can run in any order.
"""

import os
import platform
import re
import shlex
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"


def evaluate_in_sample_and_held_out(model, dataset, by, n_splits=5, seed=0):
    """Fit ``model`` on ``dataset``, cross-validate it and return the in-sample and held-out metrics.

    ``by``, ``n_splits`` and ``seed`` go to :func:`alphaflops.evaluation.cross_validate`.
    Warnings raised by the fits are printed to stderr after the model is
    evaluated, so that every one is shown once beside the model it concerns.
    """
    from alphaflops.evaluation import cross_validate, metrics
    from alphaflops.models import fit_dataset

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = fit_dataset(model, dataset)
        in_sample = metrics(dataset.y, fitted.predict(dataset.X))
        held_out = cross_validate(model, dataset, by=by, n_splits=n_splits, seed=seed).metrics
    for warning in caught:
        print(f"warning: {warning.category.__name__}: {warning.message}", file=sys.stderr)
    return in_sample, held_out


def describe_machine():
    """Return a one-line description of the CPU, core count, Python and library versions."""
    import jax
    import numpy
    import scipy
    import sklearn

    cpu = _cpu_model()
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, jax {jax.__version__}"
    )


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def command_line():
    """Return the command that started this script, as a shell would show it."""
    return "python " + " ".join(shlex.quote(arg) for arg in sys.argv)


def write_section(name, markdown):
    """Replace the section ``name`` of RESULTS.md with ``markdown``, or append it.

    The section gets the machine, the command and the date above the text.
    """
    header = (
        f"Machine: {describe_machine()}  \n"
        f"Command: `{command_line()}`  \n"
        f"Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}\n\n"
    )
    block = f"<!-- BEGIN {name} -->\n{header}{markdown.rstrip()}\n<!-- END {name} -->\n"
    text = RESULTS_PATH.read_text(encoding="utf-8") if RESULTS_PATH.exists() else "# Benchmark results\n\n"
    pattern = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->\n", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda match: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    RESULTS_PATH.write_text(text, encoding="utf-8")


def markdown_table(header, rows):
    """Format ``rows`` (lists of cells) under ``header`` as a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines) + "\n"
