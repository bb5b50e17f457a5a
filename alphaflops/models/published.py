"""The alpha-FLOPs model with the published constants, as a ready-fitted estimator."""

import numpy as np

from alphaflops.alpha import PUBLISHED_CONSTANTS
from alphaflops.errors import ModelFileError
from alphaflops.models.alpha_model import AlphaFlopsRegressor, alpha_time, kernel_class_names
from alphaflops.models.base import CostModel

# The constants live in alphaflops.alpha (PUBLISHED_CONSTANTS), which gives
# their source. The scale is milliseconds per million multiply-accumulates on
# a Quadro T2000; (beta, gamma) are for 1x1 kernels (K1 * K2 = 1) and for
# larger ones, the classes split by kernel area 1.
PUBLISHED_KERNEL_CLASSES = (1,)
PUBLISHED_TIME_PER_MMAC = PUBLISHED_CONSTANTS["scale_ms_per_mmac"]
PUBLISHED_BETAS = tuple(PUBLISHED_CONSTANTS["classes"][name].beta for name in ("1x1", "larger"))
PUBLISHED_GAMMAS = tuple(PUBLISHED_CONSTANTS["classes"][name].gamma for name in ("1x1", "larger"))

# Data the constants were fitted on: the hardware record (as published, before
# normalisation) and SHA-256 of the published data.pickle, and the range of its
# 721 rows (H, W, Cin, Cout, K1, K2). The range marks predictions outside it as
# extrapolated.
PUBLISHED_HARDWARE = {"GPU": "Quadro T2000", "computeCapability": 7.5, "coreClock": 1.62, "coreCount": 16}
PUBLISHED_DATASET_SHA256 = "d63822d60e1002bdbdb881acf58f1aa0c2b843d81ae577cd8b80c25a3cce62a6"
PUBLISHED_FEATURE_RANGE = (
    (1.0, 1.0, 50.0, 10.0, 1.0, 1.0),
    (640.0, 300.0, 12800.0, 12800.0, 28.0, 28.0),
)


def published_params():
    """Return the published constants under the parameter names of AlphaFlopsRegressor(overhead=False)."""
    params = {"time_per_mmac": PUBLISHED_TIME_PER_MMAC}
    names = kernel_class_names(PUBLISHED_KERNEL_CLASSES)
    for name, beta, gamma in zip(names, PUBLISHED_BETAS, PUBLISHED_GAMMAS):
        params[f"beta[{name}]"] = beta
        params[f"gamma[{name}]"] = gamma
    return params


class PublishedAlphaModel(CostModel):
    """The alpha-FLOPs model with the constants published for a Quadro T2000.

    Predicts milliseconds with ``time_per_mmac = 0.0375``, ``(beta, gamma) =
    (0.02, 0.99)`` for 1x1 kernels and ``(0.001, 0.56)`` for larger ones, and
    no overhead term (see :mod:`alphaflops.models.alpha_model` for the
    formula). Use :func:`published_model` for a ready instance. ``fit``
    checks the rows and sets the constants, which no data changes. It exists
    so that cross-validation and pipelines can treat this model like the
    fitted ones.

    Attributes
    ----------
    params_ : dict
        The constants, named as in ``AlphaFlopsRegressor(overhead=False)``.
    standard_errors_ : dict
        NaN for every constant: none were published.
    kernel_class_names_ : list of str
        ``["K<=1", "K>1"]``.
    feature_range_ : tuple of ndarray
        Range of the rows passed to ``fit``; for :func:`published_model`,
        the range of the published T2000 rows.
    """

    kind = "published"
    benchmark_name = "alpha_published"


    def fit(self, X, y):
        """Check the rows and set the published constants (the data does not change them).

        Parameters
        ----------
        X : array-like of shape (n, 6)
        y : array-like of shape (n,)

        Returns
        -------
        self
        """
        return super().fit(X, y)

    def _parameter_names(self):
        return list(published_params())

    def _parameter_ranges(self):
        return AlphaFlopsRegressor(kernel_classes=PUBLISHED_KERNEL_CLASSES, overhead=False)._parameter_ranges()

    def _check_training_rows(self, X, y):
        pass

    def _fit_rows(self, X, y):
        self.kernel_class_names_ = kernel_class_names(PUBLISHED_KERNEL_CLASSES)
        params = published_params()
        return params, {name: float("nan") for name in params}

    def _predict_rows(self, X, xp):
        betas = [self.params_[f"beta[{name}]"] for name in self.kernel_class_names_]
        gammas = [self.params_[f"gamma[{name}]"] for name in self.kernel_class_names_]
        return alpha_time(X, self.params_["time_per_mmac"], betas, gammas, PUBLISHED_KERNEL_CLASSES, xp=xp)

    def _restore_model_file_extras(self, extras):
        if self.params_ != published_params():
            raise ModelFileError(
                "a model of kind 'published' must contain the published constants, but its parameters "
                "differ; save a fitted model as kind 'alpha' (AlphaFlopsRegressor) instead"
            )
        self.kernel_class_names_ = kernel_class_names(PUBLISHED_KERNEL_CLASSES)

    @classmethod
    def _benchmark_instance(cls, X=None):
        # The published constants do not depend on the rows.
        return published_model()


def published_model():
    """Return the alpha-FLOPs model with the published T2000 constants, ready to predict.

    Returns
    -------
    PublishedAlphaModel
        Fitted: ``predict(X)`` takes (n, 6) rows H, W, Cin, Cout, K1, K2 and
        returns milliseconds on a Quadro T2000.
    """
    from alphaflops.datasets.hardware import normalize_hardware

    model = PublishedAlphaModel()
    params = published_params()
    model.params_ = dict(params)
    model.standard_errors_ = {name: float("nan") for name in params}
    model.kernel_class_names_ = kernel_class_names(PUBLISHED_KERNEL_CLASSES)
    model.feature_range_ = tuple(np.array(bound, dtype=np.float64) for bound in PUBLISHED_FEATURE_RANGE)
    model.n_features_in_ = 6
    model.in_sample_metrics_ = {}
    model.hardware_ = normalize_hardware(PUBLISHED_HARDWARE)
    model.dataset_sha256_ = PUBLISHED_DATASET_SHA256
    return model
