"""Error reports of cost models on a dataset: JSON, Markdown and figures.

:func:`build_report` fits every model of the registry (the published model
is already fitted), computes in-sample and cross-validated metrics, and
runs the plausibility audit unless ``run_audit`` is False. :func:`write_report`
writes ``report.json``, ``report.md`` and one PNG per plot (or, for a
dataset without plots, a predicted-against-measured scatter and a residual
figure). :func:`format_table` renders the summary printed by
``alphaflops report``.
"""

import dataclasses
import datetime
import hashlib
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np

from alphaflops._version import __version__
from alphaflops.plausibility import NO_BOUND_ADVICE, audit, drop_flagged_rows

METRIC_NAMES = ("mape", "median_ape", "max_ape", "rmse_ms", "spearman", "within_10pct")

METRIC_LABELS = {
    "mape": "MAPE",
    "median_ape": "median APE",
    "max_ape": "max APE",
    "rmse_ms": "RMSE (ms)",
    "spearman": "Spearman",
    "within_10pct": "within +-10%",
}

# Report keys of the model kinds whose key differs from the kind.
REPORT_NAMES = {"published": "alpha_published", "alpha": "alpha_fitted"}

# Order of the known kinds in reports. Kinds added to the registry later
# follow in registry order.
KIND_ORDER = ("published", "flops", "alpha", "recommended", "hybrid")

DEFAULT_FOLDS = 5
DEFAULT_SEED = 0


@dataclasses.dataclass
class CrossValidationPlan:
    """Cross-validation settings of a report.

    Attributes
    ----------
    method : str
        ``"plot"`` (leave one plot out), ``"group"`` (leave one value of a
        metadata column out), ``"kfold"`` (shuffled K-fold) or ``"none"``.
    n_splits : int
        Number of folds for ``"kfold"``.
    seed : int
        Seed of the K-fold shuffle.
    group_by : str or None
        Metadata column that defines the groups for ``"group"``.
    """

    method: str = "plot"
    n_splits: int = DEFAULT_FOLDS
    seed: int = DEFAULT_SEED
    group_by: str | None = None

    def describe(self):
        """Return a short English description, e.g. ``"5-fold (seed 0)"``."""
        if self.method == "plot":
            return "leave-one-plot-out"
        if self.method == "group":
            return f"leave-one-group-out by {self.group_by!r}"
        if self.method == "kfold":
            return f"{self.n_splits}-fold (seed {self.seed})"
        return "none"

    def to_dict(self):
        """Return the plan as a JSON-ready dict."""
        return {"method": self.method, "description": self.describe(), "n_splits": self.n_splits,
                "seed": self.seed, "group_by": self.group_by}


@dataclasses.dataclass
class Report:
    """Report data, with the fitted models and predictions that the figures use.

    Attributes
    ----------
    data : dict
        The JSON-ready report (see :func:`build_report`).
    dataset : alphaflops.Dataset
    models : dict of str to estimator
        Fitted models by report name.
    predictions : dict of str to numpy.ndarray, shape (n,)
        In-sample predictions in ms by report name.
    held_out : dict of str to numpy.ndarray, shape (n,)
        Cross-validated predictions in ms by report name (fitted models
        only).
    """

    data: dict
    dataset: object
    models: dict
    predictions: dict
    held_out: dict


def report_name(kind):
    """Return the report key of a model kind (``"alpha"`` -> ``"alpha_fitted"``)."""
    from alphaflops.models.files import MODEL_KINDS

    cls = MODEL_KINDS.get(kind)
    name = getattr(cls, "benchmark_name", None)
    return name or REPORT_NAMES.get(kind, kind)


def model_kinds():
    """Return the registry of model kinds, ordered as reports list them.

    Returns
    -------
    dict of str to type
        Model kind (``"published"``, ``"flops"``, ``"alpha"``, and any kind
        registered later such as ``"recommended"`` or ``"hybrid"``) to its
        estimator class.
    """
    from alphaflops.models.files import MODEL_KINDS

    known = [kind for kind in KIND_ORDER if kind in MODEL_KINDS]
    later = [kind for kind in MODEL_KINDS if kind not in KIND_ORDER]
    return {kind: MODEL_KINDS[kind] for kind in known + later}


def default_models(names=None, X=None):
    """Create the models a report evaluates, keyed by report name.

    Parameters
    ----------
    names : iterable of str, optional
        Report names (``alpha_published``, ``flops``, ``alpha_fitted``, ...)
        to keep, in this order. Default: every model of
        :func:`alphaflops.models.benchmark_models`, the known kinds first in
        the order published, flops, alpha, recommended, hybrid.
    X : array-like of shape (n, 6), optional
        Rows the models will be fitted on, passed to ``benchmark_models``
        so that a kind can adapt its settings (the alpha model drops a
        kernel class without rows).

    Returns
    -------
    dict of str to estimator
        The published model (already fitted) and unfitted estimators with
        default settings for the other kinds.

    Raises
    ------
    ValueError
        If a requested name is not a registered model.
    """
    from alphaflops.models import benchmark_models

    available = benchmark_models(X)
    preferred = [report_name(kind) for kind in model_kinds()]
    order = [name for name in preferred if name in available]
    order += [name for name in available if name not in order]
    models = {name: available[name] for name in order}
    if names is None:
        return models

    names = list(names)
    unknown = [name for name in names if name not in models]
    if unknown:
        raise ValueError(f"unknown model name(s) {', '.join(unknown)}: "
                         f"expected some of {', '.join(models)}")
    return {name: models[name] for name in names}


def default_plan(dataset, method="auto", n_splits=DEFAULT_FOLDS, seed=DEFAULT_SEED, group_by=None):
    """Choose the cross-validation for a dataset.

    Parameters
    ----------
    dataset : alphaflops.Dataset
    method : {"auto", "plot", "kfold", "none"}
        ``"auto"`` picks ``"group"`` when ``group_by`` is given or the
        dataset's table names a group column, else leave-one-plot-out for
        a dataset with at least two plots, else K-fold.
    n_splits : int
        Folds for K-fold, default 5.
    seed : int
        Shuffle seed for K-fold, default 0.
    group_by : str, optional
        Per-row metadata column whose values define the held-out groups.

    Returns
    -------
    CrossValidationPlan

    Raises
    ------
    ValueError
        If ``method`` is unknown, ``"plot"`` is requested for a dataset
        without plots, or ``group_by`` is not a metadata column or has
        fewer than 2 distinct values.
    """
    if method not in ("auto", "plot", "kfold", "none"):
        raise ValueError(f"invalid cross-validation method {method!r}: expected auto, plot, kfold or none")
    if method == "none":
        return CrossValidationPlan("none", n_splits, seed, None)

    table = getattr(dataset, "table", None)
    if group_by is None and method == "auto" and table is not None:
        # A table's own group column with a single value falls back to K-fold below.
        if _group_count(dataset, table.group_column) >= 2:
            group_by = table.group_column
    if group_by is not None:
        if group_by not in dataset.metadata:
            columns = ", ".join(sorted(dataset.metadata)) or "none"
            raise ValueError(f"grouping column {group_by!r} not found in dataset {dataset.name!r}. "
                             f"Its metadata columns are: {columns}")
        _check_group_count(dataset, group_by)
        return CrossValidationPlan("group", n_splits, seed, group_by)

    plot_count = len(dataset.plots)
    if method == "plot" and plot_count < 2:
        raise ValueError(f"leave-one-plot-out needs at least 2 plots, dataset {dataset.name!r} has "
                         f"{plot_count}; use K-fold (--cv kfold) or name a grouping column (--group-by)")
    if method == "auto":
        method = "plot" if plot_count >= 2 else "kfold"
    return CrossValidationPlan(method, n_splits, seed, None)


def _group_count(dataset, column):
    """Return the number of distinct values of a metadata column, 0 if there is no such column."""
    if column is None or column not in dataset.metadata:
        return 0
    return np.unique(np.asarray(dataset.metadata[column])).size


def _check_group_count(dataset, group_by):
    """Raise ValueError if the column ``group_by`` has fewer than 2 distinct values to hold out."""
    values = np.unique(np.asarray(dataset.metadata[group_by]))
    if values.size < 2:
        only = f" ({values[0]} in every row)" if values.size else ""
        raise ValueError(
            f"grouping column {group_by!r} of dataset {dataset.name!r} has {values.size} distinct "
            f"value(s){only}, and holding out one group at a time needs at least 2; group by another "
            "column (--group-by) or use K-fold (--cv kfold)")


def build_report(dataset, models=None, plan=None, dataset_path=None, run_audit=True, leave_out_flagged=False,
                 progress=None, peak_flops=None, bandwidth=None):
    """Fit and evaluate models on a dataset.

    Parameters
    ----------
    dataset : alphaflops.Dataset
    models : dict of str to estimator, optional
        Models by report name. Default: :func:`default_models` for the
        dataset's rows. Unfitted estimators are fitted on the whole
        dataset. Fitted ones (the published model) are evaluated as they
        are and get no cross-validation. A model whose fit raises ValueError gets an
        entry ``{"kind", "error"}`` and the report goes on. Warnings
        raised while a model is fitted or evaluated (for example a
        ConvergenceWarning) are caught and listed in its entry under
        ``"warnings"``.
    plan : CrossValidationPlan, optional
        Default: :func:`default_plan` for the dataset.
    dataset_path : str or path-like, optional
        File the dataset was read from, recorded in the report.
    run_audit : bool
        Add the plausibility audit (:func:`alphaflops.plausibility.audit`).
    leave_out_flagged : bool
        Leave the rows that the audit flags out of every fit and every
        metric, so that all figures use the same rows. The left-out rows
        are listed in ``data["dataset"]["rows_left_out"]`` and in each
        fitted model's ``excluded_rows``, and the bounds that the audit
        applied in ``data["dataset"]["audit_bounds_applied"]``. When the
        audit applies no bound, no row is left out and a
        :class:`~alphaflops.plausibility.NoBoundWarning` is issued.
    progress : callable, optional
        Called with one line of text before each model is evaluated, e.g.
        to show progress on a terminal.
    peak_flops, bandwidth : float, optional
        Passed to :func:`alphaflops.plausibility.audit`.

    Returns
    -------
    Report
        ``data`` is ``{"alphaflops_version", "created", "dataset": {"name",
        "path", "sha256", "rows", "plots", "hardware"}, "cross_validation":
        plan, "models": {NAME: {"kind", "params", "standard_errors",
        "in_sample": metrics, "per_plot": {PLOT: metrics},
        "cross_validation": metrics + "per_plot"}}, "audit"}``. Metrics
        are fractions: mape, median_ape, max_ape, rmse_ms, spearman,
        within_10pct.
    """
    models = default_models(X=dataset.X) if models is None else dict(models)
    plan = default_plan(dataset) if plan is None else plan
    summary = dataset_summary(dataset, dataset_path)
    result = None
    if run_audit or leave_out_flagged:
        result = audit(dataset, peak_flops=peak_flops, bandwidth=bandwidth)
    if leave_out_flagged:
        summary["rows_left_out"] = _json_ready([dict(row) for row in result.rows])
        summary["audit_bounds_applied"] = list(result.bounds_applied)
        dataset = drop_flagged_rows(dataset, result, stacklevel=3)

    data = {
        "alphaflops_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "dataset": summary,
        "cross_validation": plan.to_dict(),
        "models": {},
    }

    fitted_before = {name: _is_fitted(model) for name, model in models.items()}
    predictions, held_out = {}, {}
    for name, model in models.items():
        if progress is not None:
            progress(_progress_message(name, fitted_before[name], plan))
        outcome, messages = _evaluate_recording_warnings(model, dataset, plan)
        if isinstance(outcome, ValueError):
            # A model whose form does not fit this dataset (for example an
            # empty kernel class) is reported as failed; the others go on.
            data["models"][name] = {"kind": getattr(model, "kind", type(model).__name__),
                                    "error": reason_not_evaluated(outcome)}
            continue
        entry, predictions[name], held = outcome
        if messages:
            entry["warnings"] = messages
        if leave_out_flagged and not fitted_before[name]:
            entry["excluded_rows"] = summary["rows_left_out"]
        data["models"][name] = entry
        if held is not None:
            held_out[name] = held

    if run_audit:
        data["audit"] = _json_ready(result.to_dict())
    return Report(data, dataset, models, predictions, held_out)


#: Advice for an audit that applied no bound, with the options of the commands that run the audit.
CLI_NO_BOUND_ADVICE = "pass --peak-flops FLOP_PER_S or --bandwidth BYTES_PER_S to apply one"

# Advice in estimator messages that only the Python API can follow, and the command-line wording that a report uses instead.
_API_ONLY_ADVICE = (
    (re.compile(r"; change kernel_classes=.*? to leave it out"),
     "; the command line has no option to change the kernel classes, so this model is not evaluated "
     "on this dataset"),
    (re.compile(re.escape("pass groups=... or use by='kfold'")),
     "name a grouping column (--group-by) or use K-fold (--cv kfold)"),
    (re.compile(re.escape("use by='kfold'")), "use K-fold (--cv kfold)"),
    (re.compile(re.escape("; increase max_nfev or check the data")),
     "; the fit keeps the parameters reached at that limit"),
    (re.compile(re.escape(NO_BOUND_ADVICE)), CLI_NO_BOUND_ADVICE),
)


def reason_not_evaluated(error):
    """Return the message of a model's fit error, worded for report readers who use the command line."""
    message = str(error)
    for pattern, replacement in _API_ONLY_ADVICE:
        message = pattern.sub(replacement, message)
    return message


def _evaluate_recording_warnings(model, dataset, plan):
    """Run :func:`evaluate_model` and return its result (or its ValueError) and its warning messages.

    Deprecation warnings are issued again after the block, so that filters
    that turn them into errors (as the test suite's do) still apply.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = evaluate_model(model, dataset, plan)
        except ValueError as error:
            outcome = error

    reissue_deprecations(caught)
    return outcome, warning_messages(caught)


def reissue_deprecations(caught):
    """Issue the recorded deprecation warnings again, so that the active warning filters apply to them."""
    for item in caught:
        if issubclass(item.category, DeprecationWarning):
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)


def _progress_message(name, fitted, plan):
    if fitted:
        return f"evaluating {name}"
    if plan.method == "none":
        return f"fitting {name}"
    return f"fitting {name} and cross-validating it ({plan.describe()})"


def warning_messages(caught):
    """Return the distinct messages of caught warnings other than deprecations, with counts of repeats.

    Each message is one line. User warnings (scikit-learn's
    ConvergenceWarning among them) are given without their class name,
    because their text describes what happened. Advice that only the Python API
    can follow is reworded.
    """
    counts = {}
    for item in caught:
        if issubclass(item.category, DeprecationWarning):
            continue
        message = _one_line(str(item.message))
        if not issubclass(item.category, UserWarning):
            message = f"{item.category.__name__}: {message}"
        counts[message] = counts.get(message, 0) + 1
    return [message if count == 1 else f"{message} ({count} times)" for message, count in counts.items()]


def _one_line(message):
    """Return ``message`` on one line, with advice meant for Python callers reworded."""
    message = " ".join(message.split())
    for pattern, replacement in _API_ONLY_ADVICE:
        message = pattern.sub(replacement, message)
    return message


def evaluate_saved_model(model, dataset, model_path=None, dataset_path=None):
    """Evaluate a fitted model on a dataset without refitting it.

    Parameters
    ----------
    model : estimator
        A fitted model, e.g. from :func:`alphaflops.load_model`.
    dataset : alphaflops.Dataset
    model_path, dataset_path : str or path-like, optional
        Files recorded in the result.

    Returns
    -------
    Report
        ``data`` is ``{"report_kind": "evaluation", "alphaflops_version",
        "created", "dataset", "model": {"path", "kind", "fitted_on"},
        "models": {NAME: {"kind", "params", "standard_errors", "metrics",
        "per_plot"}}}``, where NAME is the model's report name.
    """
    name = report_name(getattr(model, "kind", type(model).__name__))
    predictions = np.asarray(model.predict(dataset.X), dtype=np.float64)
    entry = _model_description(model)
    entry["metrics"] = compute_metrics(dataset.y, predictions)
    entry["per_plot"] = per_plot_metrics(dataset, predictions)

    data = {
        "report_kind": "evaluation",
        "alphaflops_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "dataset": dataset_summary(dataset, dataset_path),
        "model": {
            "path": None if model_path is None else str(model_path),
            "kind": entry["kind"],
            "fitted_on": _json_ready({"hardware": getattr(model, "hardware_", None),
                                      "dataset_sha256": getattr(model, "dataset_sha256_", None)}),
        },
        "models": {name: entry},
    }
    return Report(data, dataset, {name: model}, {name: predictions}, {})


def dataset_summary(dataset, path=None):
    """Describe a dataset for a report: name, path, SHA-256, row and plot counts, hardware."""
    sha256 = getattr(dataset, "sha256", None)
    if sha256 is None and path is not None and Path(path).is_file():
        sha256 = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return {
        "name": dataset.name,
        "path": None if path is None else str(path),
        "sha256": sha256,
        "rows": len(dataset),
        "plots": len(dataset.plots),
        "hardware": _json_ready(dict(dataset.hardware or {})),
    }


def evaluate_model(model, dataset, plan):
    """Fit (if needed) and evaluate one model.

    Returns
    -------
    entry : dict
        ``kind``, ``params``, ``standard_errors``, ``in_sample``,
        ``per_plot`` and, for a model fitted here with a plan other than
        ``"none"``, ``cross_validation``.
    predictions : numpy.ndarray, shape (n,)
        In-sample predictions in ms.
    held_out : numpy.ndarray, shape (n,) or None
        Cross-validated predictions in ms.
    """
    from sklearn.base import clone

    from alphaflops.models import fit_dataset

    fitted_here = not _is_fitted(model)
    if fitted_here:
        unfitted = clone(model)
        fit_dataset(model, dataset)

    predictions = np.asarray(model.predict(dataset.X), dtype=np.float64)
    entry = _model_description(model)
    entry["in_sample"] = compute_metrics(dataset.y, predictions)
    entry["per_plot"] = per_plot_metrics(dataset, predictions, plan.group_by)

    held_out = None
    if fitted_here and plan.method != "none":
        result = _cross_validate_marking_warnings(unfitted, dataset, plan)
        held_out = np.asarray(result.predictions, dtype=np.float64)
        entry["cross_validation"] = {**_json_ready(dict(result.metrics)),
                                     "per_plot": _json_ready(dict(result.per_plot))}
    return entry, predictions, held_out


def _model_description(model):
    entry = {
        "kind": getattr(model, "kind", type(model).__name__),
        "params": _json_ready(dict(getattr(model, "params_", {}) or {})),
        "standard_errors": _json_ready(dict(getattr(model, "standard_errors_", {}) or {})),
    }
    excluded = getattr(model, "excluded_rows_", None)
    if excluded is not None:
        entry["excluded_rows"] = _json_ready(list(excluded))
    return entry


def _cross_validate_marking_warnings(estimator, dataset, plan):
    """Run :func:`run_cross_validation` and issue its warnings again, marked as coming from a fold's fit."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_cross_validation(estimator, dataset, plan)

    for item in caught:
        message = item.message
        if not issubclass(item.category, DeprecationWarning):
            message = f"in a cross-validation fit: {item.message}"
        warnings.warn_explicit(message, item.category, item.filename, item.lineno)
    return result


def run_cross_validation(estimator, dataset, plan):
    """Run :func:`alphaflops.cross_validate` with the plan's method and return its result."""
    from alphaflops.evaluation import cross_validate

    if plan.method == "group":
        groups = np.asarray(dataset.metadata[plan.group_by])
        return cross_validate(estimator, dataset, by="plot", groups=groups)
    if plan.method == "plot":
        return cross_validate(estimator, dataset, by="plot")
    return cross_validate(estimator, dataset, by="kfold", n_splits=plan.n_splits, seed=plan.seed)


def compute_metrics(y_true, y_pred):
    """Return :func:`alphaflops.metrics` as a JSON-ready dict of floats."""
    from alphaflops.evaluation import metrics

    return _json_ready(dict(metrics(y_true, y_pred)))


def per_plot_metrics(dataset, predictions, group_by=None):
    """Return the metrics of each plot's rows, or of each group's rows.

    Parameters
    ----------
    dataset : alphaflops.Dataset
    predictions : numpy.ndarray, shape (n,)
        Predicted times in ms.
    group_by : str, optional
        Metadata column whose values define the groups, used for tables.

    Returns
    -------
    dict of str to dict
        Metrics keyed by plot name, by group value (``group_by`` given), or
        empty for a table without ``group_by``.
    """
    if group_by is not None:
        labels = np.asarray(dataset.metadata[group_by]).astype(str)
        names = sorted(set(labels.tolist()))
    else:
        labels = np.asarray(dataset.groups)
        names = list(dataset.plot_names)
        labels = np.array([names[index] if 0 <= index < len(names) else "" for index in labels])

    result = {}
    for name in names:
        mask = labels == name
        if np.any(mask):
            result[name] = compute_metrics(dataset.y[mask], predictions[mask])
    return result


def write_report(report, out_dir, figures=True, basename="report"):
    """Write ``<basename>.json``, ``<basename>.md`` and the figures into ``out_dir``.

    Parameters
    ----------
    report : Report
    out_dir : str or path-like
        Created if missing. Existing files of the same names are replaced.
    basename : str
        Name of the JSON and Markdown files without suffix, default
        ``"report"``.
    figures : bool
        Draw the PNGs. A dataset with plots gets one per plot, named
        ``plot_NN_<plot name>.png``. A dataset without plots gets
        ``predicted_vs_measured.png``, ``residuals.png`` and, with
        cross-validation, ``predicted_vs_measured_held_out.png``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    written = []
    if figures:
        written += draw_figures(report, out_dir)
    report.data["figures"] = [path.name for path in written]

    json_path = out_dir / f"{basename}.json"
    json_path.write_text(json.dumps(report.data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    markdown_path = out_dir / f"{basename}.md"
    markdown_path.write_text(format_markdown(report.data), encoding="utf-8")
    return [json_path, markdown_path, *written]


def draw_figures(report, out_dir):
    """Draw the report's PNGs into ``out_dir`` and return their paths."""
    from alphaflops import plotting

    dataset = report.dataset
    predictions = report.predictions
    held_out = report.held_out
    out_dir = Path(out_dir)
    paths = []

    if dataset.has_plots:
        predictors = {name: report.models[name].predict for name in predictions}
        for index, plot in enumerate(dataset.plots):
            path = out_dir / f"plot_{index:02d}_{safe_file_name(plot.name)}.png"
            _draw_and_close(plotting.plot_plot, plot, predict=predictors, save_as=path)
            paths.append(path)
        return paths

    in_sample = report.data.get("report_kind") != "evaluation"
    title = f"{dataset.name}: in-sample predictions" if in_sample else f"{dataset.name}: predictions"
    path = out_dir / "predicted_vs_measured.png"
    _draw_and_close(plotting.plot_predicted_vs_measured, dataset.y, predictions, title=title, save_as=path)
    paths.append(path)
    path = out_dir / "residuals.png"
    _draw_and_close(plotting.plot_residuals, dataset.X, dataset.y, predictions, title=title, save_as=path)
    paths.append(path)
    if held_out:
        path = out_dir / "predicted_vs_measured_held_out.png"
        title = f"{dataset.name}: held-out predictions"
        _draw_and_close(plotting.plot_predicted_vs_measured, dataset.y, held_out, title=title, save_as=path)
        paths.append(path)
    return paths


def safe_file_name(name):
    """Replace characters other than letters, digits, ``.``, ``_`` and ``-`` by ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._") or "plot"


def format_table(data):
    """Render the metrics of every model as an aligned text table.

    Parameters
    ----------
    data : dict
        ``Report.data``.

    Returns
    -------
    str
        One column per model, one row per metric: in-sample metrics first,
        then the cross-validated ones, then the in-sample MAPE of each plot.
        A dash marks a value that does not exist (no cross-validation for
        the published model).
    """
    models = data["models"]
    names = list(models)
    header = ["metric", *names]
    rows = []
    for metric in METRIC_NAMES:
        rows.append([_label(data, METRIC_LABELS[metric]),
                     *[_format_value(_primary_metrics(models[name]).get(metric)) for name in names]])

    cv_label = data.get("cross_validation", {}).get("description", "held-out")
    if any("cross_validation" in models[name] for name in names):
        for metric in METRIC_NAMES:
            rows.append([f"held-out {METRIC_LABELS[metric]}",
                         *[_format_value(models[name].get("cross_validation", {}).get(metric))
                           for name in names]])

    plot_names = _plot_names(data)
    for plot in plot_names:
        rows.append([_label(data, f"MAPE {plot}"),
                     *[_format_value(models[name].get("per_plot", {}).get(plot, {}).get("mape")) for name in names]])

    table = _align([header, *rows])
    caption = f"{data['dataset']['name']}: {data['dataset']['rows']} rows"
    if "rows_left_out" in data["dataset"]:
        if _left_out_bounds(data) == []:
            caption += " (none left out: the audit applied no bound, so no row was checked)"
        else:
            caption += f" ({len(data['dataset']['rows_left_out'])} flagged by the audit left out)"
    if data.get("report_kind") != "evaluation":
        caption += f"; held-out predictions: {cv_label}"
    return caption + "\n" + table


def format_parameters(entry):
    """Render one model's parameters as ``name = value +- standard error`` lines."""
    lines = []
    errors = entry.get("standard_errors") or {}
    for name, value in (entry.get("params") or {}).items():
        error = errors.get(name)
        suffix = "" if error is None else f" +- {_format_number(error)}"
        lines.append(f"{name} = {_format_number(value)}{suffix}")
    return lines


def format_markdown(data):
    """Render a report dict as Markdown: dataset, metrics, parameters, per-plot errors, audit, figures."""
    sections = [_markdown_header(data), _markdown_metrics(data), _markdown_parameters(data)]
    if _plot_names(data):
        sections.append(_markdown_per_plot(data))
    if "audit" in data:
        sections.append(_markdown_audit(data["audit"]))
    if data.get("figures"):
        sections.append(_markdown_figures(data["figures"]))
    return "\n\n".join(section for section in sections if section) + "\n"


def markdown_table(header, rows):
    """Return a Markdown table with a header row, numbers right-aligned."""
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join(["---"] + ["---:"] * (len(header) - 1)) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


def _markdown_header(data):
    dataset = data["dataset"]
    facts = {key: value for key, value in dataset["hardware"].items() if not isinstance(value, (dict, list))}
    hardware = ", ".join(f"{key} {value}" for key, value in facts.items()) or "not recorded"
    lines = [
        f"# alphaflops {data.get('report_kind', 'report')}: {dataset['name']}",
        "",
        f"- dataset: `{dataset['path']}`" if dataset.get("path") else f"- dataset: {dataset['name']}",
        f"- SHA-256: `{dataset['sha256']}`" if dataset.get("sha256") else "- SHA-256: unknown",
        f"- rows: {dataset['rows']}, plots: {dataset['plots']}",
        *_rows_left_out_lines(data),
        f"- hardware: {hardware}",
        f"- alphaflops {data['alphaflops_version']}, {data.get('created', '')}",
    ]
    if "cross_validation" in data:
        lines.append(f"- held-out predictions: {data['cross_validation']['description']}")
    if "model" in data:
        model = data["model"]
        lines.append(f"- model: `{model['path']}` ({model['kind']})")
    return "\n".join(lines)


def _rows_left_out_lines(data):
    dataset = data["dataset"]
    if "rows_left_out" not in dataset:
        return []
    if _left_out_bounds(data) == []:
        return ["- rows left out of every fit and metric: none, because the plausibility audit applied no bound "
                "and so checked no row"]
    count = len(dataset["rows_left_out"])
    return [f"- rows flagged by the plausibility audit and left out of every fit and metric: {count}"]


def _left_out_bounds(data):
    """Return the bounds of the audit that chose the left-out rows, or None when the report does not record them.

    Reports written before ``audit_bounds_applied`` existed fall back to
    their ``audit`` section, which the same audit produced.
    """
    bounds = data["dataset"].get("audit_bounds_applied")
    if bounds is not None:
        return list(bounds)
    if "audit" in data:
        return _audit_bounds(data["audit"])
    return None


def _markdown_metrics(data):
    models = data["models"]
    header = ["model", *[_label(data, METRIC_LABELS[m]) for m in METRIC_NAMES]]
    rows = [[f"`{name}`", *[_format_value(_primary_metrics(entry).get(m)) for m in METRIC_NAMES]]
            for name, entry in models.items()]
    parts = ["## Error metrics", "", "Errors are fractions of the measured time (0.1 = 10%).", "",
             markdown_table(header, rows)]

    fitted = {name: entry for name, entry in models.items() if "cross_validation" in entry}
    if fitted:
        header = ["model", *[f"held-out {METRIC_LABELS[m]}" for m in METRIC_NAMES]]
        rows = [[f"`{name}`", *[_format_value(entry["cross_validation"].get(m)) for m in METRIC_NAMES]]
                for name, entry in fitted.items()]
        parts += ["", markdown_table(header, rows)]
    return "\n".join(parts)


def _markdown_parameters(data):
    parts = ["## Parameters", "", "Fitted values, with standard errors where the model computes them."]
    for name, entry in data["models"].items():
        lines = format_parameters(entry)
        parts += ["", f"### `{name}` ({entry['kind']})", ""]
        if "error" in entry:
            parts.append(f"- not evaluated: {entry['error']}")
            continue
        parts += [f"- `{line}`" for line in lines] or ["- no parameters recorded"]
        if entry.get("excluded_rows"):
            parts.append(f"- rows left out of the fit: {len(entry['excluded_rows'])}")
        for message in entry.get("warnings", []):
            parts.append(f"- warning: {message}")
    return "\n".join(parts)


def _markdown_per_plot(data):
    models = data["models"]
    names = list(models)
    header = ["plot", *[_label(data, f"`{name}`", suffix=True) for name in names]]
    header += [f"`{name}` held-out" for name in names if "cross_validation" in models[name]]
    rows = []
    for plot in _plot_names(data):
        row = [plot, *[_format_value(models[name].get("per_plot", {}).get(plot, {}).get("mape"))
                       for name in names]]
        row += [_format_value(models[name]["cross_validation"].get("per_plot", {}).get(plot, {}).get("mape"))
                for name in names if "cross_validation" in models[name]]
        rows.append(row)
    group_by = data.get("cross_validation", {}).get("group_by")
    heading = "## MAPE per plot" if group_by is None else f"## MAPE per value of {group_by}"
    header[0] = "plot" if group_by is None else group_by
    return "\n".join([heading, "", markdown_table(header, rows)])


def _markdown_audit(audit):
    rows = audit.get("rows", [])
    parts = ["## Plausibility audit", ""]
    peak = audit.get("peak_flops")
    bandwidth = audit.get("bandwidth")
    parts.append(f"- peak arithmetic rate: {_format_number(peak)} FLOP/s" if peak else
                 "- peak arithmetic rate: unknown")
    parts.append(f"- memory bandwidth: {_format_number(bandwidth)} B/s" if bandwidth else
                 "- memory bandwidth: unknown")
    for assumption in _as_list(audit.get("assumptions")):
        parts.append(f"- {assumption}")
    if _audit_bounds(audit):
        parts += ["", f"{len(rows)} row(s) measured faster than the bound."]
    else:
        parts += ["", "No bound applied, so no row was checked."]
    if rows:
        header = ["plot", "line", "row", "H, W, Cin, Cout, K1, K2", "time (ms)", "bound (ms)", "bound / time"]
        table_rows = [[row.get("plot"), row.get("line"), row.get("row"),
                       ", ".join(_format_number(value) for value in row.get("config", [])),
                       _format_number(row.get("time_ms")), _format_number(row.get("bound_ms")),
                       _format_number(row.get("ratio"))] for row in rows]
        parts += ["", markdown_table(header, table_rows)]
    return "\n".join(parts)


def _audit_bounds(audit):
    """Return the bounds that an audit dict applied, also for dicts written before it listed them."""
    if "bounds_applied" in audit:
        return list(audit["bounds_applied"])
    return [name for name, key in (("compute", "peak_flops"), ("memory", "bandwidth")) if audit.get(key)]


def _markdown_figures(figures):
    parts = ["## Figures", ""]
    parts += [f"![{name}]({name})" for name in figures]
    return "\n".join(parts)


def _primary_metrics(entry):
    """Return the in-sample metrics of a report entry, or the metrics of an evaluation entry."""
    return entry.get("in_sample", entry.get("metrics", {}))


def _label(data, text, suffix=False):
    """Mark a label as in-sample, except in an evaluation of a saved model."""
    if data.get("report_kind") == "evaluation":
        return text
    return f"{text} in-sample" if suffix else f"in-sample {text}"


def _plot_names(data):
    names = []
    for entry in data["models"].values():
        for name in entry.get("per_plot", {}):
            if name not in names:
                names.append(name)
    return names


def _align(rows):
    widths = [max(len(str(row[column])) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [str(row[0]).ljust(widths[0])]
        cells += [str(cell).rjust(width) for cell, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _format_value(value):
    if value is None:
        return "-"
    return f"{value:.4f}"


def _format_number(value):
    if value is None:
        return "-"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(value)
    return f"{float(value):.6g}"


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, dict):
        return [f"{key}: {item}" for key, item in value.items()]
    if isinstance(value, str):
        return [value]
    return list(value)


def _is_fitted(model):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        return False
    return True


def _draw_and_close(function, *args, **kwargs):
    result = function(*args, **kwargs)
    figure = getattr(result, "figure", result)
    figure.clear()


def _json_ready(value):
    """Convert numpy scalars and arrays, tuples and non-finite floats into JSON values (NaN -> None)."""
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value
