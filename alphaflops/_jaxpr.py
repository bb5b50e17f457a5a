"""Walk a traced JAX program and collect its convolutions and matrix products.

:func:`collect_operations` turns the output of ``jax.make_jaxpr`` into a
tree: :class:`Operation` leaves for ``conv_general_dilated`` and
``dot_general`` equations and :class:`Branches` nodes for ``cond``. Other
primitives that do arithmetic are counted by name. Control flow is followed
as follows:

- ``scan`` multiplies the repeat count of its body by its length;
- ``while`` walks its condition and body once and marks what they contain,
  because the trip count is unknown at trace time;
- ``cond`` keeps every branch, so the caller can report each one and count
  the most expensive;
- ``custom_linear_solve`` walks its ``solve`` jaxpr only, the one that
  evaluation runs;
- every other primitive with jaxpr parameters (``jit``/``pjit``,
  ``custom_jvp_call``, ``custom_vjp_call``, ``remat``, ...) has each of
  them walked once.
"""

import collections
import dataclasses
import math

LAYER_PRIMITIVES = ("conv_general_dilated", "dot_general")

# Primitives that move, copy, reshape or select data without arithmetic on
# it. Every other primitive without a formula is reported as unsupported, so
# an unknown primitive errs on the side of being reported.
DATA_MOVEMENT_PRIMITIVES = frozenset(
    {
        "axis_index",
        "bitcast_convert_type",
        "broadcast_in_dim",
        "concatenate",
        "convert_element_type",
        "copy",
        "copy_p",
        "device_put",
        "dynamic_slice",
        "dynamic_update_slice",
        "empty",
        "expand_dims",
        "gather",
        "imag",
        "iota",
        "mesh_cast",
        "optimization_barrier",
        "pad",
        "pvary",
        "random_unwrap",
        "random_wrap",
        "real",
        "reshape",
        "reshard",
        "rev",
        "select_n",
        "sharding_constraint",
        "slice",
        "split",
        "squeeze",
        "transpose",
    }
)


@dataclasses.dataclass
class Operation:
    """A convolution or matrix product found in the program."""

    equation: object
    path: str
    repeats: int
    in_while_loop: bool


@dataclasses.dataclass
class Branches:
    """A ``cond``: one list of items (operations and nested branches) per branch."""

    path: str
    branches: list


@dataclasses.dataclass
class WalkResult:
    """Items of the top-level program, unsupported primitives and loop flags."""

    items: list
    unsupported: collections.Counter
    unsupported_elements: collections.Counter
    has_while_loop: bool = False


def collect_operations(closed_jaxpr):
    """Walk ``closed_jaxpr`` (from ``jax.make_jaxpr``) and return a :class:`WalkResult`."""
    result = WalkResult([], collections.Counter(), collections.Counter())
    result.items = _walk(_open(closed_jaxpr), "", 1, False, result)
    return result


def _open(jaxpr):
    """Return the plain Jaxpr of a Jaxpr or ClosedJaxpr."""
    return jaxpr.jaxpr if hasattr(jaxpr, "consts") else jaxpr


def _is_jaxpr(value):
    return hasattr(value, "eqns") or (hasattr(value, "jaxpr") and hasattr(value, "consts"))


def _nested_jaxprs(params):
    """Yield (parameter name, jaxpr) for every jaxpr among an equation's parameters."""
    for name, value in params.items():
        if _is_jaxpr(value):
            yield name, value
        elif isinstance(value, (tuple, list)):
            for index, item in enumerate(value):
                if _is_jaxpr(item):
                    yield f"{name}[{index}]", item


def _join(path, step):
    return f"{path}/{step}" if path else step


def _walk(jaxpr, path, repeats, in_while_loop, result):
    items = []
    for equation in jaxpr.eqns:
        name = equation.primitive.name
        params = equation.params

        if name in LAYER_PRIMITIVES:
            items.append(Operation(equation, path, repeats, in_while_loop))
        elif name == "scan":
            length = int(params["length"])
            items += _walk(_open(params["jaxpr"]), _join(path, f"scan(length={length})"), repeats * length,
                           in_while_loop, result)
        elif name == "while":
            result.has_while_loop = True
            for part in ("cond_jaxpr", "body_jaxpr"):
                step = _join(path, f"while.{part.split('_')[0]}")
                items += _walk(_open(params[part]), step, repeats, True, result)
        elif name == "custom_linear_solve":
            # Evaluation runs only the solve jaxpr; matvec and the transposes
            # serve differentiation.
            step = _join(path, "custom_linear_solve.solve")
            items += _walk(_open(params["jaxprs"].solve), step, repeats, in_while_loop, result)
        elif name == "cond":
            step = _join(path, "cond")
            branches = [
                _walk(_open(branch), f"{step}.branch{index}", repeats, in_while_loop, result)
                for index, branch in enumerate(params["branches"])
            ]
            items.append(Branches(step, branches))
        else:
            items += _walk_other(equation, path, repeats, in_while_loop, result)
    return items


def _walk_other(equation, path, repeats, in_while_loop, result):
    """Walk the jaxprs nested in any other primitive, or count it when it has none."""
    name = equation.primitive.name
    nested = list(_nested_jaxprs(equation.params))
    if not nested:
        if name not in DATA_MOVEMENT_PRIMITIVES:
            result.unsupported[name] += repeats
            result.unsupported_elements[name] += repeats * _output_elements(equation)
        return []

    label = name
    if isinstance(equation.params.get("name"), str):
        label = f"{name}({equation.params['name']})"
    items = []
    for parameter, jaxpr in nested:
        step = label if len(nested) == 1 else f"{label}.{parameter}"
        items += _walk(_open(jaxpr), _join(path, step), repeats, in_while_loop, result)
    return items


def _output_elements(equation):
    total = 0
    for variable in equation.outvars:
        shape = getattr(getattr(variable, "aval", None), "shape", ())
        total += math.prod(shape)
    return total
