"""Measure layer times with JAX: one layer (``time_layer``) or whole sweeps.

``time_layer`` times a Conv2D, Dense or published row. ``load_sweep`` and
``sweep_from_spec`` generate sweeps such as "paper", the 721 published
configurations. ``measure_sweep`` runs a sweep resumably into a dataset
JSON file, and ``merge_parts`` joins shards of it. JAX is imported only
when a layer is built or timed.
"""

from alphaflops.harness.output import merge_parts
from alphaflops.harness.runs import RunSummary, measure_sweep
from alphaflops.harness.sweeps import Configuration, Sweep, load_sweep, parse_shard, sweep_from_spec
from alphaflops.harness.timing import TimingResult, stability_warnings, time_function, time_layer

__all__ = [
    "Configuration",
    "RunSummary",
    "Sweep",
    "TimingResult",
    "load_sweep",
    "measure_sweep",
    "merge_parts",
    "parse_shard",
    "stability_warnings",
    "sweep_from_spec",
    "time_function",
    "time_layer",
]
