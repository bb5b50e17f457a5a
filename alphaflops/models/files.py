"""Model files: the registry of model kinds and versioned JSON save and load.

A model file is UTF-8 JSON (never a pickle) with these fields:

``format``               ``"alphaflops-model"``
``version``              format version, an int (this module writes and reads up to 1)
``kind``                 model kind, a key of :data:`MODEL_KINDS` (``"flops"``, ``"alpha"``, ...)
``class``                class name, for readers (not used to load)
``settings``             the estimator's ``get_params()``, tuples written as lists
``parameters``           ``{name: {"value": float, "standard_error": float or null}}``
``kernel_classes``       names of the kernel classes (a list, empty for kinds without them)
``feature_range``        ``{"min": [6 floats], "max": [6 floats]}`` of the fitted rows
``trained_on``           ``{"hardware": {...}, "dataset_sha256": str or null, "excluded_rows": [...],
                         "audit": {...} or null}``.
                         ``excluded_rows`` (optional) lists the rows left out of the fit
                         because the plausibility audit flagged them. ``audit`` (optional)
                         records what that audit checked: ``{"bounds_applied": [...],
                         "peak_flops": float or null, "bandwidth": float or null}``. It is
                         null or absent when the fit did not go through the audit, and an
                         empty ``bounds_applied`` means that the audit checked no row
``in_sample``            metrics of the model on its training rows (may be empty)
``extras``               kind-specific fields (an object, usually empty)
``alphaflops_version``   version of alphaflops that wrote the file
``created``              UTC date and time of writing, ISO 8601

Floats are written with Python's shortest round-trip representation, so a
loaded model's parameters, and hence its predictions, equal the saved
model's bit for bit.
"""

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from alphaflops._version import __version__
from alphaflops.errors import ModelFileError

FORMAT_NAME = "alphaflops-model"
FORMAT_VERSION = 1

REQUIRED_FIELDS = (
    "format",
    "version",
    "kind",
    "settings",
    "parameters",
    "kernel_classes",
    "feature_range",
    "trained_on",
    "in_sample",
    "alphaflops_version",
    "created",
)

MODEL_KINDS = {}
"""Model kind (the ``kind`` class attribute) -> estimator class, in registration order."""

# Report columns start with the baseline and the published model; other
# kinds follow in registration order (sorted() is stable).
_BENCHMARK_ORDER = {"flops": 0, "alpha_published": 1, "alpha_fitted": 2}


def register_model_kind(cls):
    """Add ``cls`` to :data:`MODEL_KINDS` under ``cls.kind``; called for every CostModel subclass."""
    existing = MODEL_KINDS.get(cls.kind)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise ValueError(f"model kind {cls.kind!r} is already used by {existing.__name__}; choose another kind")
    MODEL_KINDS[cls.kind] = cls
    return cls


def benchmark_models(X=None):
    """Return the models that benchmarks and reports compare, by report name.

    Parameters
    ----------
    X : array-like of shape (n, 6), optional
        Rows (H, W, Cin, Cout, K1, K2) the models will be fitted on. When
        given, a kind may adapt its default settings to them. The alpha
        model keeps the published kernel split (1x1 versus larger) when
        both classes have rows. Otherwise it uses one class for all
        kernels, so it also fits tables of a single kernel size, such as
        the NeuSight tables of 3x3 convolutions.

    Returns
    -------
    dict
        ``benchmark_name`` -> an unfitted estimator with default settings
        (adapted to ``X`` where given), or the fitted published model for
        ``"alpha_published"``. One entry for every registered kind that sets
        ``benchmark_name``, in registration order (``"flops"``,
        ``"alpha_published"``, ``"alpha_fitted"``, then later kinds).
    """
    import alphaflops.models  # noqa: F401  (registers every built-in kind)

    classes = [cls for cls in MODEL_KINDS.values() if cls.benchmark_name is not None]
    classes.sort(key=lambda cls: _BENCHMARK_ORDER.get(cls.benchmark_name, len(_BENCHMARK_ORDER)))
    models = {}
    for cls in classes:
        factory = getattr(cls, "_benchmark_instance", None)
        models[cls.benchmark_name] = factory(X) if factory is not None else cls()
    return models


# Saving ---------------------------------------------------------------------


def model_to_dict(model):
    """Return the model file contents (see the module docstring) of a fitted model as a dict."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    low, high = model.feature_range_
    standard_errors = getattr(model, "standard_errors_", {})
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "kind": model.kind,
        "class": type(model).__name__,
        "settings": {name: _to_json_value(value) for name, value in model.get_params(deep=False).items()},
        "parameters": {
            name: {"value": float(value), "standard_error": _finite_or_none(standard_errors.get(name))}
            for name, value in model.params_.items()
        },
        "kernel_classes": list(getattr(model, "kernel_class_names_", [])),
        "feature_range": {"min": [float(v) for v in low], "max": [float(v) for v in high]},
        "trained_on": {
            "hardware": _to_json_value(getattr(model, "hardware_", {}) or {}),
            "dataset_sha256": getattr(model, "dataset_sha256_", None),
            "excluded_rows": _to_json_value([dict(row) for row in getattr(model, "excluded_rows_", [])]),
            "audit": _to_json_value(getattr(model, "audit_", None)),
        },
        "in_sample": {
            name: _finite_or_none(value) for name, value in (getattr(model, "in_sample_metrics_", {}) or {}).items()
        },
        "extras": model._model_file_extras(),
        "alphaflops_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def save_model(model, path):
    """Write a fitted model to ``path`` as a JSON model file.

    Parameters
    ----------
    model : CostModel
        A fitted alphaflops estimator.
    path : str or path-like
        Destination; overwritten if it exists.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.
    ValueError
        If a parameter is not finite.
    """
    contents = model_to_dict(model)
    for name, entry in contents["parameters"].items():
        if not math.isfinite(entry["value"]):
            raise ValueError(
                f"parameter {name!r} is {entry['value']!r}; a model with non-finite parameters cannot be saved"
            )
    text = json.dumps(contents, indent=2, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def _to_json_value(value):
    if isinstance(value, tuple):
        return [_to_json_value(item) for item in value]
    if isinstance(value, list):
        return [_to_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _to_json_value(item) for key, item in value.items()}
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _finite_or_none(value)
    return value


def _finite_or_none(value):
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None


# Loading --------------------------------------------------------------------


def load_model(path):
    """Read a model file and return the fitted estimator it describes.

    Parameters
    ----------
    path : str or path-like
        A file written by ``model.save(path)``.

    Returns
    -------
    CostModel
        A fitted estimator of the file's kind whose predictions equal those
        of the saved model bit for bit.

    Raises
    ------
    ModelFileError
        If the file is not valid JSON or not a model file, comes from a newer
        format version, names an unknown kind, lacks a field, or contains a
        setting, parameter or range that is invalid or not finite, or a
        parameter outside the range that fitting allows for its kind. The
        message names the file and the field.
    OSError
        If the file cannot be read.
    """
    import alphaflops.models  # noqa: F401  (registers every built-in kind)

    path = Path(path)
    data = path.read_bytes()
    try:
        contents = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ModelFileError(f"{path} is not a model file: not UTF-8 JSON text") from None
    except json.JSONDecodeError as error:
        raise ModelFileError(f"{path} is not a model file: invalid JSON ({error})") from None
    try:
        return model_from_dict(contents)
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None


def model_from_dict(contents):
    """Build a fitted estimator from model file contents (a dict); see :func:`load_model`."""
    if not isinstance(contents, dict) or contents.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f'not an alphaflops model file (expected "format": "{FORMAT_NAME}"); pass a file written by '
            "model.save or 'alphaflops fit'"
        )
    _check_version(contents)
    missing = [name for name in REQUIRED_FIELDS if name not in contents]
    if missing:
        raise corrupt_model_file(f"missing field(s) {', '.join(missing)}")

    cls = _model_class(contents["kind"])
    model = cls(**_settings(cls, contents["settings"]))
    try:
        model._check_settings()
    except ValueError as error:
        raise corrupt_model_file(f"invalid settings: {error}") from None
    entries = model._upgrade_parameter_entries(_object(contents["parameters"], "parameters"))
    params, standard_errors = _parameters(entries, model._parameter_names())
    try:
        model._check_parameter_ranges(params)
    except ValueError as error:
        raise corrupt_model_file(str(error)) from None

    model.params_ = params
    model.standard_errors_ = standard_errors
    model.feature_range_ = _feature_range(contents["feature_range"])
    model.n_features_in_ = 6
    model.in_sample_metrics_ = _in_sample(contents["in_sample"])
    trained_on = _object(contents["trained_on"], "trained_on")
    model.hardware_ = _object(trained_on.get("hardware", {}), "trained_on.hardware")
    sha256 = trained_on.get("dataset_sha256")
    if sha256 is not None and not isinstance(sha256, str):
        raise corrupt_model_file(f"trained_on.dataset_sha256 must be a string or null, got {sha256!r}")
    model.dataset_sha256_ = sha256

    excluded = _row_list(trained_on.get("excluded_rows", []), "trained_on.excluded_rows")
    audit_entry = trained_on.get("audit")
    if audit_entry is not None:
        from alphaflops.plausibility import model_file_entry_error

        problem = model_file_entry_error(audit_entry, excluded)
        if problem is not None:
            raise corrupt_model_file(f"invalid trained_on.audit: {problem}")
    # Loaded models get the same attributes as fitted ones, also when the
    # file records no audit.
    model.audit_ = audit_entry

    extras = _object(contents.get("extras", {}), "extras")
    model._restore_model_file_extras(extras)
    model.excluded_rows_ = _excluded_rows(trained_on, extras, excluded)
    return model


def _check_version(contents):
    version = contents.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise corrupt_model_file(f"field version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"model file format version {version} is newer than this alphaflops {__version__} reads "
            f"(up to {FORMAT_VERSION}); upgrade alphaflops to load it"
        )


def _model_class(kind):
    if not isinstance(kind, str):
        raise corrupt_model_file(f"field kind must be a string such as 'recommended', got {kind!r}")
    cls = MODEL_KINDS.get(kind)
    if cls is None:
        known = ", ".join(sorted(MODEL_KINDS))
        raise ModelFileError(
            f"unknown model kind {kind!r} (known kinds: {known}); it may come from a newer alphaflops "
            "or a plug-in that is not imported"
        )
    return cls


def _settings(cls, settings):
    settings = _object(settings, "settings")
    allowed = set(cls().get_params(deep=False))
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise ModelFileError(
            f"unknown setting(s) {', '.join(unknown)} for kind {cls.kind!r} "
            f"(known: {', '.join(sorted(allowed)) or 'none'}); the file may come from a newer alphaflops, "
            "so upgrade alphaflops, or fit and save the model again"
        )
    return {name: _from_json_value(value) for name, value in settings.items()}


def _from_json_value(value):
    if isinstance(value, list):
        return tuple(_from_json_value(item) for item in value)
    return value


def _parameters(entries, expected_names):
    entries = _object(entries, "parameters")
    missing = [name for name in expected_names if name not in entries]
    extra = [name for name in entries if name not in expected_names]
    if missing or extra:
        raise corrupt_model_file(
            f"parameters do not match the model kind: missing {missing or 'none'}, unexpected {extra or 'none'}"
        )
    params = {}
    standard_errors = {}
    for name in expected_names:
        entry = _object(entries[name], f"parameters.{name}")
        if "value" not in entry:
            raise corrupt_model_file(f"parameter {name!r} has no value")
        params[name] = _finite_number(entry["value"], f"parameter {name!r}")
        standard_errors[name] = _standard_error(entry.get("standard_error"), name)
    return params, standard_errors


def _standard_error(value, name):
    if value is None:
        return float("nan")
    value = _finite_number(value, f"standard error of {name!r}")
    if value < 0:
        raise corrupt_model_file(f"standard error of {name!r} is {value!r}; it must be zero or positive")
    return value


def _feature_range(entry):
    entry = _object(entry, "feature_range")
    bounds = []
    for side in ("min", "max"):
        values = entry.get(side)
        if not isinstance(values, list) or len(values) != 6:
            raise corrupt_model_file(f"feature_range.{side} must be a list of 6 numbers, got {values!r}")
        bounds.append(np.array([_finite_number(v, f"feature_range.{side}") for v in values], dtype=np.float64))
    reversed_columns = np.flatnonzero(bounds[0] > bounds[1])
    if reversed_columns.size:
        from alphaflops.models.base import FEATURE_NAMES

        names = ", ".join(FEATURE_NAMES[index] for index in reversed_columns)
        raise corrupt_model_file(f"feature_range.min exceeds feature_range.max in column(s) {names}")
    return tuple(bounds)


def _excluded_rows(trained_on, extras, excluded):
    """Return the rows left out of the fit, from ``trained_on`` or the copy in ``extras``.

    The recommended and hybrid kinds also write the list to
    ``extras.excluded_rows``, the only place where files written before
    ``trained_on.excluded_rows`` existed keep it. When a file has both, they
    must agree.
    """
    if "excluded_rows" not in extras:
        return excluded
    extras_rows = _row_list(extras["excluded_rows"], "extras.excluded_rows")
    if "excluded_rows" in trained_on and extras_rows != excluded:
        raise corrupt_model_file("trained_on.excluded_rows and extras.excluded_rows list different rows")
    return extras_rows


def _row_list(rows, field):
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise corrupt_model_file(f"{field} must be a list of objects, got {rows!r}")
    return [dict(row) for row in rows]


def _in_sample(entry):
    entry = _object(entry, "in_sample")
    result = {}
    for name, value in entry.items():
        if value is None:
            result[name] = float("nan")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise corrupt_model_file(f"in_sample.{name} must be a number or null, got {value!r}")
        else:
            result[name] = value
    return result


def _finite_number(value, field):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise corrupt_model_file(f"{field} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise corrupt_model_file(f"{field} is {value!r}, not a finite number")
    return value


def _object(value, field):
    if not isinstance(value, dict):
        raise corrupt_model_file(f"field {field} must be a JSON object, got {type(value).__name__}")
    return value


def corrupt_model_file(problem):
    """Return the ModelFileError for invalid model file content, ending with the fix."""
    return ModelFileError(f"{problem}; the file was edited or is corrupt, fit and save the model again")
