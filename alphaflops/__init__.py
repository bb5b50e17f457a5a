"""Predict how long neural-network layers take on a GPU.

alphaflops counts FLOPs of convolutions and dense layers, applies the
alpha-FLOPs correction of Asperti, Evangelista and Marzolla (LOD 2021,
arXiv:2107.11949), fits cost models to measured timings, evaluates their
prediction error and estimates whole networks.

Public names are imported on first use, so ``import alphaflops`` stays fast
and does not import JAX or matplotlib until a function needs them.
"""

import importlib

from alphaflops._version import __version__

_EXPORTS = {
    # Layers and FLOP counts.
    "Conv2D": "alphaflops.layers",
    "Dense": "alphaflops.layers",
    "layer_from_spec": "alphaflops.layers",
    "layers_to_rows": "alphaflops.layers",
    "alpha_factor": "alphaflops.alpha",
    # Measurements.
    "Dataset": "alphaflops.datasets",
    "Plot": "alphaflops.datasets",
    "load_dataset": "alphaflops.datasets",
    "download_t2000": "alphaflops.datasets",
    "bundled_datasets": "alphaflops.datasets",
    # Cost models.
    "published_model": "alphaflops.models",
    "PublishedAlphaModel": "alphaflops.models",
    "FlopsRegressor": "alphaflops.models",
    "AlphaFlopsRegressor": "alphaflops.models",
    "RecommendedRegressor": "alphaflops.models",
    "HybridRegressor": "alphaflops.models",
    "load_model": "alphaflops.models",
    # Evaluation, audit and plots.
    "metrics": "alphaflops.evaluation",
    "cross_validate": "alphaflops.evaluation",
    "audit": "alphaflops.plausibility",
    "plot_plot": "alphaflops.plotting",
    # Measuring and estimating.
    "time_layer": "alphaflops.harness",
    "estimate": "alphaflops.estimation",
    "estimate_layers": "alphaflops.estimation",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'alphaflops' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
