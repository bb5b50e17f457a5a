"""Tests of alphaflops.report: report dict, Markdown, figures and cross-validation plans."""

import json
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from alphaflops import report
from alphaflops.datasets import Dataset, Table
from alphaflops.layers import Conv2D, Dense

METRIC_KEYS = {"mape", "median_ape", "max_ape", "rmse_ms", "spearman", "within_10pct"}
BASE_MODELS = ["alpha_published", "flops", "alpha_fitted"]


@pytest.fixture(scope="module")
def t2000(t2000_path):
    from alphaflops import load_dataset

    return load_dataset(t2000_path)


@pytest.fixture(scope="module")
def t2000_report(t2000, t2000_path):
    models = report.default_models(BASE_MODELS)
    return report.build_report(t2000, models, dataset_path=t2000_path, run_audit=False)


def test_recommended_model_in_report(t2000):
    from alphaflops.models.files import MODEL_KINDS

    if "recommended" not in MODEL_KINDS:
        pytest.skip("the recommended model is not registered")
    messages = []
    built = report.build_report(t2000, report.default_models(["recommended"]), run_audit=False,
                                progress=messages.append)

    entry = built.data["models"]["recommended"]
    assert entry["kind"] == "recommended"
    assert entry["in_sample"]["mape"] < 0.2163
    assert "mape" in entry["cross_validation"]
    assert messages == ["fitting recommended and cross-validating it (leave-one-plot-out)"]


def make_table_dataset(rows=60, seed=0, group_column=None, extra_metadata=None):
    """Build a table of random convolutions and dense layers with times that grow with FLOPs."""
    rng = np.random.default_rng(seed)
    layers = []
    for index in range(rows):
        if index % 5 == 0:
            layers.append(Dense(int(rng.integers(16, 512)), int(rng.integers(16, 512)),
                                batch=int(rng.integers(1, 16))))
        else:
            kernel = int(rng.choice([1, 3, 5]))
            layers.append(Conv2D(int(rng.integers(4, 48)), int(rng.integers(4, 48)),
                                 int(rng.integers(1, 128)), int(rng.integers(1, 128)), kernel,
                                 batch=int(rng.integers(1, 4))))
    X = np.array([layer.to_row() for layer in layers])
    times = 0.05 + 2e-9 * X.prod(axis=1) * rng.uniform(0.9, 1.1, rows)
    source = np.array(["a", "b", "c"])[np.arange(rows) % 3]
    metadata = {"source": source, **(extra_metadata or {})}
    table = Table(layers, times, metadata=metadata, group_column=group_column)
    return Dataset("random_layers", table=table, hardware={"name": "test GPU"})


def test_published_mape_on_t2000(t2000_report):
    mape = t2000_report.data["models"]["alpha_published"]["in_sample"]["mape"]
    assert round(mape, 4) == 0.2163


def test_report_schema_top_level(t2000_report, t2000_path):
    data = t2000_report.data
    assert {"alphaflops_version", "dataset", "models", "cross_validation"} <= set(data)
    assert data["dataset"]["path"] == str(t2000_path)
    assert data["dataset"]["rows"] == 721
    assert data["dataset"]["plots"] == 8
    assert len(data["dataset"]["sha256"]) == 64
    assert data["dataset"]["hardware"]["name"] == "Quadro T2000"


def test_report_schema_per_model(t2000_report, t2000):
    for name, entry in t2000_report.data["models"].items():
        assert set(entry["in_sample"]) == METRIC_KEYS, name
        assert list(entry["per_plot"]) == t2000.plot_names, name
        for metrics in entry["per_plot"].values():
            assert set(metrics) == METRIC_KEYS, name
        assert isinstance(entry["params"], dict), name


def test_cross_validation_only_for_fitted(t2000_report, t2000):
    models = t2000_report.data["models"]
    assert "cross_validation" not in models["alpha_published"]
    for name in ("flops", "alpha_fitted"):
        block = models[name]["cross_validation"]
        assert METRIC_KEYS <= set(block)
        assert set(block["per_plot"]) == set(t2000.plot_names)
    assert t2000_report.data["cross_validation"]["method"] == "plot"


def test_held_out_worse_than_in_sample(t2000_report):
    entry = t2000_report.data["models"]["alpha_fitted"]
    assert entry["cross_validation"]["mape"] > entry["in_sample"]["mape"]


def test_standard_errors_for_fitted_params(t2000_report):
    entry = t2000_report.data["models"]["alpha_fitted"]
    assert set(entry["standard_errors"]) == set(entry["params"])
    assert all(error is not None and error > 0 for error in entry["standard_errors"].values())


def test_fitted_alpha_beats_published(t2000_report):
    models = t2000_report.data["models"]
    assert models["alpha_fitted"]["in_sample"]["mape"] < models["alpha_published"]["in_sample"]["mape"]


def test_table_has_column_per_model(t2000_report):
    table = report.format_table(t2000_report.data)
    header = table.splitlines()[1].split()
    assert header == ["metric", *BASE_MODELS]
    assert "0.2163" in table


def test_table_marks_missing_cv(t2000_report):
    lines = report.format_table(t2000_report.data).splitlines()
    held_out = [line for line in lines if line.startswith("held-out MAPE")]
    assert len(held_out) == 1
    assert held_out[0].split()[2] == "-"


def test_write_report_files(t2000_report, tmp_path):
    written = report.write_report(t2000_report, tmp_path)

    names = sorted(path.name for path in written)
    assert "report.json" in names
    assert "report.md" in names
    assert len([name for name in names if name.endswith(".png")]) == 8
    for path in written:
        assert path.stat().st_size > 0


def test_written_json_matches_data(t2000_report, tmp_path):
    report.write_report(t2000_report, tmp_path, figures=False)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["models"]["alpha_published"]["in_sample"] == pytest.approx(
        t2000_report.data["models"]["alpha_published"]["in_sample"])
    assert data["figures"] == []


def test_markdown_sections(t2000_report):
    markdown = report.format_markdown(t2000_report.data)
    for heading in ("# alphaflops report: t2000", "## Error metrics", "## Parameters", "## MAPE per plot"):
        assert heading in markdown
    assert "0.2163" in markdown
    assert "+-" in markdown


def test_markdown_lists_audit():
    data = {
        "alphaflops_version": "0", "dataset": {"name": "d", "rows": 1, "plots": 0, "hardware": {}},
        "models": {},
        "audit": {"rows": [{"plot": "p", "line": 0, "row": 3, "config": [300, 300, 150, 150, 1, 1],
                            "time_ms": 0.2, "bound_ms": 1.1, "ratio": 5.5}],
                  "peak_flops": 3.3e12, "bandwidth": None, "assumptions": ["compute bound only"]},
    }
    markdown = report.format_markdown(data)
    assert "## Plausibility audit" in markdown
    assert "1 row(s) measured faster than the bound." in markdown
    assert "| p | 0 | 3 | 300, 300, 150, 150, 1, 1 | 0.2 | 1.1 | 5.5 |" in markdown


def test_audit_included_when_available(t2000):
    built = report.build_report(t2000, report.default_models(["alpha_published"]))
    assert isinstance(built.data["audit"]["rows"], list)
    assert len(built.data["audit"]["rows"]) > 0


def test_table_dataset_uses_kfold():
    dataset = make_table_dataset()
    plan = report.default_plan(dataset)
    assert plan.method == "kfold"
    assert plan.n_splits == 5
    assert plan.seed == 0


def test_table_dataset_figures(tmp_path):
    dataset = make_table_dataset()
    built = report.build_report(dataset, report.default_models(["alpha_published", "flops"]))
    written = report.write_report(built, tmp_path)

    names = {path.name for path in written}
    assert {"predicted_vs_measured.png", "residuals.png", "predicted_vs_measured_held_out.png"} <= names
    assert built.data["models"]["flops"]["per_plot"] == {}
    assert built.data["dataset"]["plots"] == 0


def test_kfold_is_reproducible():
    dataset = make_table_dataset()
    models = report.default_models(["flops"])
    first = report.build_report(dataset, models)
    second = report.build_report(dataset, report.default_models(["flops"]))
    np.testing.assert_array_equal(first.held_out["flops"], second.held_out["flops"])


def test_group_column_plan():
    dataset = make_table_dataset()
    plan = report.default_plan(dataset, group_by="source")
    built = report.build_report(dataset, report.default_models(["flops"]), plan)

    assert plan.method == "group"
    assert set(built.data["models"]["flops"]["cross_validation"]["per_plot"]) == {"a", "b", "c"}
    assert set(built.data["models"]["flops"]["per_plot"]) == {"a", "b", "c"}


def test_single_value_table_group_falls_back():
    dataset = make_table_dataset(group_column="constant", extra_metadata={"constant": np.full(60, "x")})
    assert report.default_plan(dataset).method == "kfold"


def test_table_group_column_picked_by_default():
    dataset = make_table_dataset(group_column="source")
    assert report.default_plan(dataset).method == "group"
    assert report.default_plan(dataset, method="kfold").method == "kfold"


def test_unknown_group_column_raises():
    with pytest.raises(ValueError, match="grouping column 'device' not found.*source"):
        report.default_plan(make_table_dataset(), group_by="device")


def test_single_group_column_raises():
    dataset = make_table_dataset(extra_metadata={"constant": np.full(60, "x")})
    with pytest.raises(ValueError, match="'constant' .* has 1 distinct value"):
        report.default_plan(dataset, group_by="constant")


def test_plot_cv_without_plots_raises():
    with pytest.raises(ValueError, match="needs at least 2 plots"):
        report.default_plan(make_table_dataset(), method="plot")


def test_no_cross_validation_plan():
    dataset = make_table_dataset()
    plan = report.default_plan(dataset, method="none")
    built = report.build_report(dataset, report.default_models(["flops"]), plan)
    assert "cross_validation" not in built.data["models"]["flops"]


def test_default_models_follow_registry():
    from alphaflops.models.files import MODEL_KINDS

    names = list(report.default_models())
    assert names[:3] == BASE_MODELS
    for kind in ("recommended", "hybrid"):
        if kind in MODEL_KINDS:
            assert kind in names


def test_unknown_model_name_raises():
    with pytest.raises(ValueError, match="unknown model name.*nonexistent"):
        report.default_models(["flops", "nonexistent"])


def test_evaluate_saved_model_schema(t2000, tmp_path):
    from alphaflops import load_model

    model = report.default_models(["flops"])["flops"].fit(t2000.X, t2000.y)
    model.save(tmp_path / "flops.json")
    evaluation = report.evaluate_saved_model(load_model(tmp_path / "flops.json"), t2000,
                                             model_path=tmp_path / "flops.json")

    entry = evaluation.data["models"]["flops"]
    assert set(entry["metrics"]) == METRIC_KEYS
    assert list(entry["per_plot"]) == t2000.plot_names
    assert evaluation.data["model"]["kind"] == "flops"
    assert "in-sample" not in report.format_table(evaluation.data)


def test_format_parameters_with_errors():
    lines = report.format_parameters({"params": {"a": 0.5, "b": 2.0}, "standard_errors": {"a": 0.01, "b": None}})
    assert lines == ["a = 0.5 +- 0.01", "b = 2"]


def test_json_ready_replaces_nan():
    converted = report._json_ready({"x": np.float64("nan"), "y": np.arange(2), "z": (np.int64(3),)})
    assert converted == {"x": None, "y": [0, 1], "z": [3]}


def test_safe_file_name():
    assert report.safe_file_name("incresing_Cin_100-1000") == "incresing_Cin_100-1000"
    assert report.safe_file_name("a/b c$") == "a_b_c"
    assert report.safe_file_name("..") == "plot"


class UnfittableRegressor(BaseEstimator, RegressorMixin):
    """Estimator whose fit always raises, standing in for a model form that does not suit a dataset."""

    kind = "unfittable"

    def fit(self, X, y):
        raise ValueError("kernel class 'K<=1' has no rows")

    def predict(self, X):
        raise AssertionError("predict must not be called after a failed fit")


def test_failed_model_reported_others_go_on(tmp_path):
    dataset = make_table_dataset()
    models = {**report.default_models(["flops"]), "broken": UnfittableRegressor()}
    built = report.build_report(dataset, models)
    report.write_report(built, tmp_path)

    assert built.data["models"]["broken"] == {"kind": "unfittable", "error": "kernel class 'K<=1' has no rows"}
    assert "mape" in built.data["models"]["flops"]["in_sample"]
    assert "not evaluated: kernel class" in (tmp_path / "report.md").read_text()
    assert report.format_table(built.data).splitlines()[2].split()[-1] == "-"


def test_leave_out_flagged_rows(t2000):
    models = report.default_models(["alpha_published", "flops"])
    built = report.build_report(t2000, models, report.CrossValidationPlan("none"), leave_out_flagged=True)

    left_out = built.data["dataset"]["rows_left_out"]
    assert len(left_out) == 5
    assert len(built.dataset) == len(t2000) - 5
    assert built.data["models"]["flops"]["excluded_rows"] == left_out
    assert "excluded_rows" not in built.data["models"]["alpha_published"]
    assert built.data["models"]["alpha_published"]["in_sample"]["max_ape"] < 1.0


class WarningRegressor(BaseEstimator, RegressorMixin):
    """Estimator that predicts the mean time and warns on every fit, like a fit that did not converge."""

    kind = "warning"

    def fit(self, X, y):
        from sklearn.exceptions import ConvergenceWarning

        warnings.warn("solver stopped early", ConvergenceWarning, stacklevel=2)
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def test_fit_warnings_recorded():
    dataset = make_table_dataset()
    built = report.build_report(dataset, {"warning": WarningRegressor()})

    assert built.data["models"]["warning"]["warnings"] == [
        "solver stopped early",
        "in a cross-validation fit: solver stopped early (5 times)",
    ]
    assert "warning: solver stopped early" in report.format_markdown(built.data)


def test_warning_messages_one_line():
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("did not converge\n  after 600 evaluations; increase max_nfev or check the data",
                      ConvergenceWarning, stacklevel=1)
        warnings.warn("overflow\nin exp", RuntimeWarning, stacklevel=1)

    assert report.warning_messages(caught) == [
        "did not converge after 600 evaluations; the fit keeps the parameters reached at that limit",
        "RuntimeWarning: overflow in exp",
    ]


def test_reason_names_cli_options():
    reason = report.reason_not_evaluated(ValueError(
        "kernel class 'K<=1' has no rows; change kernel_classes=(1,) to leave it out"))
    assert reason.startswith("kernel class 'K<=1' has no rows; the command line has no option")
    assert "kernel_classes=" not in reason

    reason = report.reason_not_evaluated(ValueError("needs two groups; use by='kfold'"))
    assert reason == "needs two groups; use K-fold (--cv kfold)"


class DeprecatedRegressor(WarningRegressor):
    """Estimator whose fit issues a DeprecationWarning."""

    def fit(self, X, y):
        warnings.warn("old argument", DeprecationWarning, stacklevel=2)
        self.mean_ = float(np.mean(y))
        return self


def test_deprecation_warnings_not_swallowed():
    dataset = make_table_dataset()
    with pytest.warns(DeprecationWarning, match="old argument"):
        built = report.build_report(dataset, {"old": DeprecatedRegressor()}, report.CrossValidationPlan("none"))
    assert "warnings" not in built.data["models"]["old"]


def test_markdown_audit_without_bound():
    data = {
        "alphaflops_version": "0", "dataset": {"name": "d", "rows": 1, "plots": 0, "hardware": {}},
        "models": {},
        "audit": {"rows": [], "peak_flops": None, "bandwidth": None, "bounds_applied": [],
                  "assumptions": ["no facts"]},
    }

    markdown = report.format_markdown(data)

    assert "No bound applied, so no row was checked." in markdown
    assert "row(s) measured faster" not in markdown


def test_leave_out_without_bound_warns():
    from alphaflops import load_dataset
    from alphaflops.plausibility import NoBoundWarning

    dataset = load_dataset("cpu-amd-epyc")
    plan = report.CrossValidationPlan("none")

    with pytest.warns(NoBoundWarning, match="left none out"):
        built = report.build_report(dataset, report.default_models(["flops"]), plan, leave_out_flagged=True)

    assert built.data["dataset"]["rows_left_out"] == []
    assert built.data["audit"]["bounds_applied"] == []


def test_report_passes_peak_to_audit(t2000):
    built = report.build_report(t2000, report.default_models(["alpha_published"]), peak_flops=1e15)

    assert built.data["audit"]["peak_flops"] == 1e15
    assert built.data["audit"]["rows"] == []


@pytest.fixture(scope="module")
def unchecked_leave_out():
    """Report data of the flops model on the bundled CPU set with --leave-out-flagged, where no bound applies."""
    from alphaflops import load_dataset
    from alphaflops.plausibility import NoBoundWarning

    dataset = load_dataset("cpu-amd-epyc")
    with pytest.warns(NoBoundWarning):
        built = report.build_report(dataset, report.default_models(["flops"]), report.CrossValidationPlan("none"),
                                    leave_out_flagged=True)
    return built.data


def test_leave_out_records_bounds(unchecked_leave_out):
    assert unchecked_leave_out["dataset"]["audit_bounds_applied"] == []


def test_table_caption_without_bound(unchecked_leave_out):
    caption = report.format_table(unchecked_leave_out).splitlines()[0]

    assert "721 rows (none left out: the audit applied no bound, so no row was checked)" in caption
    assert "flagged by the audit left out" not in caption


def test_markdown_left_out_without_bound(unchecked_leave_out):
    markdown = report.format_markdown(unchecked_leave_out)

    assert "- rows left out of every fit and metric: none, because the plausibility audit applied no bound" in markdown
    assert "rows flagged by the plausibility audit and left out" not in markdown


def test_table_caption_counts_flagged(t2000):
    built = report.build_report(t2000, report.default_models(["alpha_published"]), report.CrossValidationPlan("none"),
                                leave_out_flagged=True)

    caption = report.format_table(built.data).splitlines()[0]
    assert "721 rows (5 flagged by the audit left out)" in caption


def test_table_caption_of_older_report(unchecked_leave_out):
    data = json.loads(json.dumps(unchecked_leave_out))
    del data["dataset"]["audit_bounds_applied"]

    caption = report.format_table(data).splitlines()[0]

    assert "none left out: the audit applied no bound" in caption
