"""Cost models that predict layer times from six-column layer rows.

Every model is a scikit-learn regressor derived from
:class:`~alphaflops.models.base.CostModel` and registers its ``kind`` for
model files when its module is imported below.
"""

from alphaflops.models.base import CostModel, LeastSquaresCostModel, fit_dataset
from alphaflops.models.files import MODEL_KINDS, benchmark_models, load_model
from alphaflops.models.flops_model import FlopsRegressor
from alphaflops.models.published import PublishedAlphaModel, published_model
from alphaflops.models.alpha_model import AlphaFlopsRegressor
from alphaflops.models.recommended import RecommendedRegressor
from alphaflops.models.hybrid import HybridRegressor

__all__ = [
    "AlphaFlopsRegressor",
    "CostModel",
    "FlopsRegressor",
    "LeastSquaresCostModel",
    "MODEL_KINDS",
    "PublishedAlphaModel",
    "benchmark_models",
    "fit_dataset",
    "load_model",
    "published_model",
]
