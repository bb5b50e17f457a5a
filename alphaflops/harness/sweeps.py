"""Sweeps: lists of layer configurations generated from a small spec.

A spec is a JSON object::

    {"name": "my-sweep",
     "plots": [{"name": "increasing_W", "axis": 0, "x_label": "W size",
                "ylim": null, "annotations": [[x, y, "text"], ...],
                "kind": "conv2d",
                "x": [10, {"range": [20, 641, 20]}],
                "columns": {"H": "x", "W": 100, "Cout": 100, "K1": 3, "K2": 3},
                "lines": [{"columns": {"Cin": 50}}, {"columns": {"Cin": 100}}]}]}

Each line takes ``kind``, ``x`` and ``columns`` from its plot unless it sets
its own; a line's ``columns`` add to and override the plot's. ``x`` lists
the values that grow along the line: integers, or ``{"range": [start,
stop]}`` / ``{"range": [start, stop, step]}`` as in Python's ``range``. Each
of the six columns H, W, Cin, Cout, K1, K2 is an integer or an expression
in ``x`` with integers, ``+``, ``-``, ``*``, ``//`` and parentheses, such as
``"300 // x"``. A line of kind "dense" is a matrix product of a (H, Cin)
input with a (Cin, Cout) weight, so it needs W = K1 = K2 = 1 and H is the
batch size. Every row must follow the size rule of :mod:`alphaflops.flops`
(each value at most 2**31 - 1 and at most 2**53 - 1 MACs), so that a sweep
that cannot be measured is rejected before any measurement starts.
"""

import ast
import hashlib
import json
import operator
from dataclasses import dataclass
from pathlib import Path

from alphaflops.harness.paper import PAPER_SPEC
from alphaflops.layers import layer_from_row

#: Column names of a configuration, in row order.
COLUMNS = ("H", "W", "Cin", "Cout", "K1", "K2")

#: Named sweeps that ship with alphaflops.
NAMED_SWEEPS = {"paper": PAPER_SPEC}

_PLOT_FIELDS = {"name", "axis", "x_label", "ylim", "annotations", "kind", "x", "columns", "lines"}
_LINE_FIELDS = {"kind", "x", "columns"}
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv}


@dataclass(frozen=True)
class Configuration:
    """One layer of a sweep, at its place in the plot structure.

    Attributes
    ----------
    index : int
        Position in the whole sweep, from 0.
    plot, line, row : int
        Plot index, line index within the plot and row index within the line.
    kind : {"conv2d", "dense"}
        How the row is timed: a "same" convolution or a matrix product.
    values : tuple of 6 int
        H, W, Cin, Cout, K1, K2 in the published row format.
    """

    index: int
    plot: int
    line: int
    row: int
    kind: str
    values: tuple

    @property
    def key(self):
        """Identifier "plot.line.row", unique within a sweep."""
        return f"{self.plot}.{self.line}.{self.row}"

    def layer(self):
        """Return the Conv2D or Dense layer that this row describes."""
        return layer_from_row(self.values, kind=self.kind)


@dataclass(frozen=True)
class PlotInfo:
    """Presentation fields of one plot of a sweep."""

    name: str
    axis: object
    x_label: str
    ylim: object
    annotations: tuple
    line_kinds: tuple


@dataclass(frozen=True)
class Sweep:
    """A named list of configurations with the plots they belong to.

    Attributes
    ----------
    name : str
    spec : dict
        The spec the sweep was generated from (JSON-ready).
    plots : tuple of PlotInfo
    configurations : tuple of Configuration
        In plot, line, row order.
    """

    name: str
    spec: dict
    plots: tuple
    configurations: tuple

    @property
    def fingerprint(self):
        """SHA-256 of the sweep's name, plots and configurations.

        Two specs that generate the same sweep have the same fingerprint,
        even when they are written differently or differ in description.
        """
        content = {
            "name": self.name,
            "plots": [
                [plot.name, plot.axis, plot.x_label, plot.ylim, [list(item) for item in plot.annotations], list(plot.line_kinds)]
                for plot in self.plots
            ],
            "configurations": [
                [configuration.key, *configuration.values, configuration.kind] for configuration in self.configurations
            ],
        }
        text = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def __len__(self):
        return len(self.configurations)

    def shard(self, index, count):
        """Return configurations ``index - 1``, ``index - 1 + count``, ... (``index`` from 1 to ``count``)."""
        check_shard(index, count)
        return list(self.configurations[index - 1 :: count])


def check_shard(index, count):
    """Raise ValueError unless 1 <= index <= count."""
    for name, value in (("shard index", index), ("shard count", count)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer; got {value!r}")
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"invalid shard {index}/{count}; expected I/N with 1 <= I <= N")


def parse_shard(text):
    """Parse "I/N" into (I, N); raise ValueError naming the text otherwise."""
    parts = str(text).split("/")
    try:
        index, count = (int(part) for part in parts)
    except ValueError:
        raise ValueError(f"invalid shard {text!r}; expected I/N, for example 2/8") from None
    check_shard(index, count)
    return index, count


def load_sweep(name_or_path):
    """Return a named sweep ("paper") or the sweep of a JSON spec file.

    Raises
    ------
    ValueError
        If the name is unknown and no such file exists, or the spec is invalid.
    """
    if name_or_path in NAMED_SWEEPS:
        return sweep_from_spec(NAMED_SWEEPS[name_or_path])

    path = Path(name_or_path)
    if not path.is_file():
        raise ValueError(
            f"sweep {str(name_or_path)!r} not found: give one of {sorted(NAMED_SWEEPS)} or the path of a JSON spec"
        )
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"sweep spec {path} is not valid JSON: {error}") from None
    return sweep_from_spec(spec, source=str(path))


def sweep_from_spec(spec, source="sweep spec"):
    """Generate a Sweep from a spec dict (see the module docstring).

    Raises
    ------
    ValueError
        If a field is missing, unknown or invalid; the message names the
        plot, line and field.
    """
    if not isinstance(spec, dict):
        raise ValueError(f"{source}: expected a JSON object, found {type(spec).__name__}")
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{source}: field 'name' must be a non-empty string")
    plots_spec = spec.get("plots")
    if not isinstance(plots_spec, list) or not plots_spec:
        raise ValueError(f"{source}: field 'plots' must be a non-empty list")

    plots, configurations = [], []
    for plot_index, plot_spec in enumerate(plots_spec):
        plot, rows = _expand_plot(plot_spec, plot_index, len(configurations))
        plots.append(plot)
        configurations.extend(rows)

    canonical = json.loads(json.dumps(spec))
    return Sweep(name=name, spec=canonical, plots=tuple(plots), configurations=tuple(configurations))


def _expand_plot(plot_spec, plot_index, first_index):
    where = f"plot {plot_index}"
    if not isinstance(plot_spec, dict):
        raise ValueError(f"{where}: expected a JSON object")
    where = f"plot {plot_index} ({plot_spec.get('name', 'unnamed')!r})"
    _reject_unknown(plot_spec, _PLOT_FIELDS, where)
    for required in ("name", "axis", "lines"):
        if required not in plot_spec:
            raise ValueError(f"{where}: field {required!r} is missing")
    lines_spec = plot_spec["lines"]
    if not isinstance(lines_spec, list) or not lines_spec:
        raise ValueError(f"{where}: field 'lines' must be a non-empty list")

    configurations, kinds = [], []
    for line_index, line_spec in enumerate(lines_spec):
        line_where = f"{where}, line {line_index}"
        kind, rows = _expand_line(plot_spec, line_spec, line_where)
        kinds.append(kind)
        for row_index, values in enumerate(rows):
            index = first_index + len(configurations)
            configurations.append(Configuration(index, plot_index, line_index, row_index, kind, values))

    plot = PlotInfo(
        name=str(plot_spec["name"]),
        axis=_check_axis(plot_spec["axis"], where),
        x_label=str(plot_spec.get("x_label", "")),
        ylim=plot_spec.get("ylim"),
        annotations=tuple(tuple(item) for item in plot_spec.get("annotations", [])),
        line_kinds=tuple(kinds),
    )
    return plot, configurations


def _expand_line(plot_spec, line_spec, where):
    if not isinstance(line_spec, dict):
        raise ValueError(f"{where}: expected a JSON object")
    _reject_unknown(line_spec, _LINE_FIELDS, where)

    kind = line_spec.get("kind", plot_spec.get("kind", "conv2d"))
    if kind not in ("conv2d", "dense"):
        raise ValueError(f"{where}: invalid kind {kind!r}; expected 'conv2d' or 'dense'")
    x_values = _expand_values(line_spec.get("x", plot_spec.get("x")), where)
    columns = {**plot_spec.get("columns", {}), **line_spec.get("columns", {})}
    missing = [name for name in COLUMNS if name not in columns]
    if missing:
        raise ValueError(f"{where}: column {missing[0]!r} has no value or formula")
    unknown = sorted(set(columns) - set(COLUMNS))
    if unknown:
        raise ValueError(f"{where}: column {unknown[0]!r} is unknown; expected {', '.join(COLUMNS)}")

    formulas = {name: _compile_formula(columns[name], f"{where}, column {name}") for name in COLUMNS}
    rows = []
    for x in x_values:
        values = tuple(_evaluate(formulas[name], x, f"{where}, column {name}, x = {x}") for name in COLUMNS)
        if kind == "dense" and (values[1], values[4], values[5]) != (1, 1, 1):
            raise ValueError(f"{where}: a dense line needs W = K1 = K2 = 1; x = {x} gives {list(values)}")
        try:
            layer_from_row(values, kind=kind)
        except ValueError as error:
            raise ValueError(f"{where}, x = {x}: {error}") from None
        rows.append(values)
    return kind, rows


def _reject_unknown(spec, allowed, where):
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ValueError(f"{where}: field {unknown[0]!r} is unknown; expected fields {sorted(allowed)}")


def _check_axis(axis, where):
    if axis == "progressive" or (isinstance(axis, int) and not isinstance(axis, bool) and 0 <= axis <= 5):
        return axis
    raise ValueError(f"{where}: invalid axis {axis!r}; expected 0..5 (H, W, Cin, Cout, K1, K2) or 'progressive'")


def _expand_values(items, where):
    if not isinstance(items, list) or not items:
        raise ValueError(f"{where}: field 'x' must be a non-empty list of integers and ranges")

    values = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            values.append(item)
        elif isinstance(item, dict) and set(item) == {"range"} and _is_range_arguments(item["range"]):
            values.extend(range(*item["range"]))
        else:
            raise ValueError(
                f"{where}: invalid x item {item!r}; expected an integer or "
                '{"range": [start, stop]} / {"range": [start, stop, step]}'
            )
    return values


def _is_range_arguments(arguments):
    return (
        isinstance(arguments, list)
        and len(arguments) in (2, 3)
        and all(isinstance(value, int) and not isinstance(value, bool) for value in arguments)
        and (len(arguments) == 2 or arguments[2] != 0)
    )


def _compile_formula(formula, where):
    if isinstance(formula, int) and not isinstance(formula, bool):
        return ast.Constant(formula)
    if not isinstance(formula, str):
        raise ValueError(f"{where}: expected an integer or a formula in x; got {formula!r}")
    try:
        tree = ast.parse(formula, mode="eval").body
    except SyntaxError:
        raise ValueError(f"{where}: formula {formula!r} is not valid; use integers, x, +, -, *, // and parentheses") from None
    _check_formula_node(tree, formula, where)
    return tree


def _check_formula_node(node, formula, where):
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        _check_formula_node(node.left, formula, where)
        _check_formula_node(node.right, formula, where)
    elif isinstance(node, ast.Name) and node.id == "x":
        return
    elif isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return
    else:
        raise ValueError(f"{where}: formula {formula!r} is not valid; use integers, x, +, -, *, // and parentheses")


def _evaluate(node, x, where):
    value = _evaluate_node(node, x, where)
    if value < 1:
        raise ValueError(f"{where}: the value {value} is not a positive integer")
    return value


def _evaluate_node(node, x, where):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return x
    left = _evaluate_node(node.left, x, where)
    right = _evaluate_node(node.right, x, where)
    if isinstance(node.op, ast.FloorDiv) and right == 0:
        raise ValueError(f"{where}: division by zero")
    return _OPERATORS[type(node.op)](left, right)
