"""Tests of the report, fit and evaluate commands, run through alphaflops.cli.main."""

import contextlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from alphaflops.cli import main

BASE_MODELS = "alpha_published,flops,alpha_fitted"


def run_cli(capsys, *argv):
    """Run the command line in-process and return (exit status, stdout, stderr)."""
    try:
        status = main([str(arg) for arg in argv])
    except SystemExit as exit_:
        status = exit_.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status, stderr, command, expected):
    assert status == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"alphaflops {command}: error: ")
    assert expected in lines[0]
    assert "Traceback" not in stderr


def assert_usage_error(status, stderr, expected):
    assert status == 2
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert expected in stderr


@pytest.fixture(scope="module")
def fitted_model(t2000_path, tmp_path_factory):
    """Model file of an alpha model fitted on the T2000 set by ``alphaflops fit``."""
    path = tmp_path_factory.mktemp("model") / "alpha.json"
    status = main(["fit", "--dataset", str(t2000_path), "--model", "alpha", "--out", str(path)])
    assert status == 0
    return path


@pytest.fixture(scope="module")
def t2000_report(t2000_path, tmp_path_factory):
    """Output folder and stdout of ``alphaflops report`` on the T2000 set with the three base models."""
    out = tmp_path_factory.mktemp("report")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = main(["report", "--dataset", str(t2000_path), "--out", str(out), "--models", BASE_MODELS])
    assert status == 0
    return out, stdout.getvalue()


def test_report_prints_published_mape(t2000_report):
    _, stdout = t2000_report
    assert "0.2163" in stdout
    assert stdout.splitlines()[1].split() == ["metric", "alpha_published", "flops", "alpha_fitted"]


def test_report_writes_json_md_png(t2000_report):
    out, _ = t2000_report

    data = json.loads((out / "report.json").read_text())
    assert round(data["models"]["alpha_published"]["in_sample"]["mape"], 4) == 0.2163
    assert set(data["models"]) == set(BASE_MODELS.split(","))
    assert "cross_validation" in data["models"]["alpha_fitted"]
    assert (out / "report.md").read_text().startswith("# alphaflops report: t2000")
    assert len(list(out.glob("plot_*.png"))) == 8
    assert data["figures"] == sorted(path.name for path in out.glob("plot_*.png"))


def test_report_kfold_option(capsys, t2000_path, tmp_path):
    status, stdout, _ = run_cli(capsys, "report", "--dataset", t2000_path, "--out", tmp_path,
                                "--models", "flops", "--cv", "kfold", "--folds", "3", "--seed", "7",
                                "--no-figures")
    data = json.loads((tmp_path / "report.json").read_text())
    assert status == 0
    assert "3-fold (seed 7)" in stdout
    assert data["cross_validation"]["n_splits"] == 3
    assert list(tmp_path.glob("*.png")) == []


def test_report_default_dataset(capsys, tmp_path, monkeypatch):
    """Without --dataset and --out the report reads the default bundled set and writes ./report."""
    monkeypatch.chdir(tmp_path)
    status, stdout, stderr = run_cli(capsys, "report", "--models", "alpha_published,flops")

    assert status == 0, stderr
    data = json.loads((tmp_path / "report" / "report.json").read_text())
    assert data["dataset"]["rows"] > 0
    assert "alpha_published" in stdout
    assert list((tmp_path / "report").glob("*.png"))


@pytest.mark.slow
def test_console_script_report(t2000_path, tmp_path):
    executable = shutil.which("alphaflops", path=str(Path(sys.executable).parent))
    assert executable is not None
    result = subprocess.run(
        [executable, "report", "--dataset", str(t2000_path), "--out", str(tmp_path), "--models", BASE_MODELS],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "report.json").read_text())
    assert round(data["models"]["alpha_published"]["in_sample"]["mape"], 4) == 0.2163
    assert "0.2163" in result.stdout
    assert (tmp_path / "report.md").exists()


def test_fit_prints_parameters(capsys, t2000_path, tmp_path):
    path = tmp_path / "flops.json"
    status, stdout, _ = run_cli(capsys, "fit", "--dataset", t2000_path, "--model", "flops", "--out", path)

    assert status == 0
    assert "+-" in stdout
    assert "MAPE" in stdout
    assert json.loads(path.read_text())["kind"] == "flops"


def test_evaluate_matches_fit(capsys, fitted_model, t2000_path):
    from alphaflops import load_dataset, load_model
    from alphaflops.evaluation import metrics

    dataset = load_dataset(t2000_path)
    expected = metrics(dataset.y, load_model(fitted_model).predict(dataset.X))["mape"]
    status, stdout, _ = run_cli(capsys, "evaluate", "--model", fitted_model, "--dataset", t2000_path)

    assert status == 0
    assert f"{expected:.4f}" in stdout
    assert stdout.splitlines()[1].split() == ["metric", "alpha_fitted"]


def test_evaluate_out_writes_plots(capsys, fitted_model, t2000_path, tmp_path):
    status, _, _ = run_cli(capsys, "evaluate", "--model", fitted_model, "--dataset", t2000_path,
                           "--out", tmp_path)

    data = json.loads((tmp_path / "evaluation.json").read_text())
    assert status == 0
    assert data["model"]["kind"] == "alpha"
    assert set(data["models"]["alpha_fitted"]["metrics"]) >= {"mape", "spearman"}
    assert len(list(tmp_path.glob("plot_*.png"))) == 8
    assert (tmp_path / "evaluation.md").exists()


def test_missing_dataset_file(capsys, tmp_path):
    status, _, stderr = run_cli(capsys, "report", "--dataset", tmp_path / "missing.pickle",
                                "--out", tmp_path / "out")
    assert_one_line_error(status, stderr, "report", "missing.pickle")


def test_foreign_dataset_file(capsys, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a dataset\n")
    status, _, stderr = run_cli(capsys, "fit", "--dataset", path, "--model", "flops", "--out",
                                tmp_path / "m.json")
    assert_one_line_error(status, stderr, "fit", "notes.txt")


def test_missing_model_file(capsys, t2000_path, tmp_path):
    status, _, stderr = run_cli(capsys, "evaluate", "--model", tmp_path / "none.json", "--dataset", t2000_path)
    assert_one_line_error(status, stderr, "evaluate", "none.json")


def test_invalid_model_file(capsys, t2000_path, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "something else"}')
    status, _, stderr = run_cli(capsys, "evaluate", "--model", path, "--dataset", t2000_path)
    assert_one_line_error(status, stderr, "evaluate", "broken.json")


def test_missing_device_file(capsys, t2000_path, tmp_path):
    status, _, stderr = run_cli(capsys, "report", "--dataset", t2000_path, "--device",
                                tmp_path / "device.json", "--out", tmp_path)
    assert_one_line_error(status, stderr, "report", "device.json")


def test_unknown_model_kind(capsys, t2000_path, tmp_path):
    status, _, stderr = run_cli(capsys, "fit", "--dataset", t2000_path, "--model", "magic",
                                "--out", tmp_path / "m.json")
    assert_one_line_error(status, stderr, "fit", "'magic'")


def test_unknown_report_model(capsys, t2000_path, tmp_path):
    status, _, stderr = run_cli(capsys, "report", "--dataset", t2000_path, "--models", "flops,magic",
                                "--out", tmp_path)
    assert_one_line_error(status, stderr, "report", "magic")


def test_group_by_without_metadata(capsys, t2000_path, tmp_path):
    status, _, stderr = run_cli(capsys, "report", "--dataset", t2000_path, "--group-by", "device",
                                "--out", tmp_path)
    assert_one_line_error(status, stderr, "report", "'device'")


@pytest.mark.parametrize("format_option", [[], ["--format", "json"]])
def test_group_by_missing_in_json_table(capsys, tmp_path, format_option):
    from alphaflops.datasets import load_dataset

    source = tmp_path / "layers.csv"
    source.write_text("h,w,cin,cout,k,t,net\n8,8,3,4,3,0.5,a\n16,16,3,4,3,1.5,b\n")
    columns = {"h": "height", "w": "width", "cin": "in_channels", "cout": "out_channels", "k": "kernel_size", "t": "time"}
    path = tmp_path / "layers.json"
    load_dataset(source, columns=columns).to_json(path)

    status, _, stderr = run_cli(capsys, "report", "--dataset", path, *format_option, "--group-by", "nope",
                                "--models", "flops", "--out", tmp_path / "out")

    assert_one_line_error(status, stderr, "report", "group column 'nope' not found; pass one of the metadata columns net")


def test_out_is_a_file(capsys, t2000_path, tmp_path):
    out = tmp_path / "taken"
    out.write_text("")
    status, _, stderr = run_cli(capsys, "report", "--dataset", t2000_path, "--models", "flops",
                                "--out", out)
    assert_one_line_error(status, stderr, "report", "taken")


def test_fit_without_out(capsys, t2000_path):
    status, _, stderr = run_cli(capsys, "fit", "--dataset", t2000_path, "--model", "flops")
    assert_usage_error(status, stderr, "--out")


def test_invalid_format_choice(capsys, t2000_path, tmp_path):
    status, _, stderr = run_cli(capsys, "report", "--dataset", t2000_path, "--format", "xlsx")
    assert_usage_error(status, stderr, "xlsx")


def test_invalid_fold_count(capsys, t2000_path):
    status, _, stderr = run_cli(capsys, "report", "--dataset", t2000_path, "--folds", "1")
    assert_usage_error(status, stderr, "invalid fold count 1")


def test_invalid_column_mapping(capsys, t2000_path):
    status, _, stderr = run_cli(capsys, "evaluate", "--model", "m.json", "--columns", "height")
    assert_usage_error(status, stderr, "invalid column mapping 'height'")


def test_report_includes_audit(t2000_report):
    out, stdout = t2000_report
    data = json.loads((out / "report.json").read_text())

    assert data["audit"]["rows"]
    assert "plausibility audit:" in stdout
    assert "## Plausibility audit" in (out / "report.md").read_text()


@pytest.mark.slow
def test_evaluate_table_draws_scatter(capsys, neusight_dir, tmp_path):
    from alphaflops import published_model

    model_path = tmp_path / "published.json"
    published_model().save(model_path)
    status, stdout, stderr = run_cli(
        capsys, "evaluate", "--model", model_path, "--dataset", neusight_dir / "conv-Tesla_T4.csv",
        "--format", "neusight", "--device", neusight_dir / "device-Tesla_T4.json", "--out", tmp_path / "out",
    )

    assert status == 0, stderr
    assert "alpha_published" in stdout
    data = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert data["dataset"]["plots"] == 0
    assert data["dataset"]["hardware"]["name"] == "Tesla T4"
    assert data["figures"] == ["predicted_vs_measured.png", "residuals.png"]


def test_fit_leave_out_flagged(capsys, t2000_path, tmp_path):
    from alphaflops import load_model

    path = tmp_path / "flops.json"
    status, stdout, _ = run_cli(capsys, "fit", "--dataset", t2000_path, "--model", "flops", "--out", path,
                                "--leave-out-flagged")

    assert status == 0
    assert "(716 rows" in stdout
    assert "left out 5 rows" in stdout
    assert load_model(path).feature_range_ is not None


def test_report_generic_csv(capsys, tmp_path):
    lines = ["size,cin,cout,k,group,us"]
    for index in range(30):
        size, channels, kernel = 8 + index, 16 + 4 * index, 1 + 2 * (index % 3)
        micros = 50 + 2e-6 * size * size * channels * channels * kernel * kernel
        lines.append(f"{size},{channels},{channels},{kernel},g{index % 3},{micros:.3f}")
    path = tmp_path / "layers.csv"
    path.write_text("\n".join(lines) + "\n")

    status, stdout, stderr = run_cli(
        capsys, "report", "--dataset", path, "--format", "csv", "--time-unit", "us",
        "--columns", "size=height+width,cin=in_channels,cout=out_channels,k=kernel_size,us=time",
        "--models", "flops", "--group-by", "group", "--out", tmp_path / "out",
    )

    assert status == 0, stderr
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["dataset"]["rows"] == 30
    assert data["cross_validation"]["method"] == "group"
    assert set(data["models"]["flops"]["cross_validation"]["per_plot"]) == {"g0", "g1", "g2"}
    assert "leave-one-group-out by 'group'" in stdout


def test_fit_accepts_report_name(capsys, t2000_path, tmp_path):
    path = tmp_path / "alpha.json"
    status, stdout, _ = run_cli(capsys, "fit", "--dataset", t2000_path, "--model", "alpha_fitted", "--out", path)

    assert status == 0
    assert stdout.startswith("fitted alpha on t2000")
    assert json.loads(path.read_text())["kind"] == "alpha"


def assert_no_os_error_text(stderr):
    assert "Errno" not in stderr
    assert "Traceback" not in stderr


def write_layers_file(tmp_path):
    path = tmp_path / "layers.json"
    path.write_text('[{"kind": "dense", "in_features": 64, "out_features": 32}]')
    return path


def test_evaluate_published_model(capsys, t2000_path):
    status, stdout, stderr = run_cli(capsys, "evaluate", "--model", "published", "--dataset", t2000_path)

    assert status == 0, stderr
    assert "alpha_published" in stdout
    assert "MAPE" in stdout


@pytest.mark.parametrize("command", ["evaluate", "estimate"])
def test_model_argument_is_folder(capsys, t2000_path, tmp_path, command):
    extra = ["--dataset", t2000_path] if command == "evaluate" else ["--layers", write_layers_file(tmp_path)]
    status, _, stderr = run_cli(capsys, command, "--model", tmp_path, *extra)

    assert_one_line_error(status, stderr, command, f"--model '{tmp_path}' is a folder")
    assert "published" in stderr
    assert_no_os_error_text(stderr)


def test_report_out_below_a_file(capsys, t2000_path, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    status, _, stderr = run_cli(capsys, "report", "--dataset", t2000_path, "--models", "flops",
                                "--out", blocker / "sub")

    assert_one_line_error(status, stderr, "report", f"'{blocker}' is a file, not a folder")
    assert "--out" in stderr
    assert_no_os_error_text(stderr)


def test_fit_out_is_folder_before_fitting(capsys, t2000_path, tmp_path):
    status, _, stderr = run_cli(capsys, "fit", "--dataset", t2000_path, "--model", "flops", "--out", tmp_path)

    assert_one_line_error(status, stderr, "fit", f"--out '{tmp_path}' is a folder")
    assert "model.json" in stderr
    assert "fitting" not in stderr
    assert_no_os_error_text(stderr)


def test_fit_out_below_a_file(capsys, t2000_path, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    status, _, stderr = run_cli(capsys, "fit", "--dataset", t2000_path, "--model", "flops",
                                "--out", blocker / "model.json")

    assert_one_line_error(status, stderr, "fit", f"--out '{blocker / 'model.json'}'")
    assert f"'{blocker}' is a file, not a folder" in stderr
    assert "fitting" not in stderr
    assert_no_os_error_text(stderr)


def test_audit_out_is_folder(capsys, t2000_path, tmp_path):
    status, _, stderr = run_cli(capsys, "audit", "--dataset", t2000_path, "--out", tmp_path)

    assert_one_line_error(status, stderr, "audit", f"--out '{tmp_path}' is a folder")
    assert_no_os_error_text(stderr)


@pytest.mark.parametrize("option", ["--csv", "--json"])
def test_estimate_output_is_folder(capsys, tmp_path, option):
    layers = write_layers_file(tmp_path)
    status, stdout, stderr = run_cli(capsys, "estimate", "--model", "published", "--layers", layers,
                                     option, tmp_path)

    assert_one_line_error(status, stderr, "estimate", f"{option} '{tmp_path}' is a folder")
    assert stdout == ""
    assert_no_os_error_text(stderr)


def test_format_csv_without_columns(capsys, tmp_path):
    path = tmp_path / "layers.csv"
    path.write_text("size,ms\n8,0.1\n")
    status, _, stderr = run_cli(capsys, "evaluate", "--model", "published", "--dataset", path, "--format", "csv")

    assert_one_line_error(status, stderr, "evaluate", "--format csv needs --columns")
    assert "format='csv'" not in stderr


def test_unknown_csv_names_options(capsys, tmp_path):
    path = tmp_path / "layers.csv"
    path.write_text("size,ms\n8,0.1\n")
    status, _, stderr = run_cli(capsys, "evaluate", "--model", "published", "--dataset", path)

    assert_one_line_error(status, stderr, "evaluate", "--format csv and --columns")
    assert "format='csv'" not in stderr


@pytest.mark.parametrize("option", [("--columns", "ms=time"), ("--time-unit", "us")])
def test_csv_option_with_pickle(capsys, t2000_path, option):
    status, _, stderr = run_cli(capsys, "evaluate", "--model", "published", "--dataset", t2000_path, *option)

    assert_one_line_error(status, stderr, "evaluate", f"{option[0]} only applies to generic CSV files")
    assert "'pickle'" in stderr


def test_group_by_single_value(capsys, neusight_dir, tmp_path):
    status, _, stderr = run_cli(capsys, "report", "--dataset", neusight_dir / "conv-Tesla_T4.csv",
                                "--group-by", "Stride", "--models", "flops", "--no-figures", "--no-audit",
                                "--out", tmp_path / "out")

    assert_one_line_error(status, stderr, "report", "'Stride'")
    assert "at least 2" in stderr
    assert "--cv kfold" in stderr
    assert not (tmp_path / "out" / "report.json").exists()


def test_report_single_kernel_table(capsys, neusight_dir, tmp_path):
    status, _, stderr = run_cli(capsys, "report", "--dataset", neusight_dir / "conv-Tesla_T4.csv",
                                "--models", "alpha_fitted", "--no-figures", "--no-audit",
                                "--out", tmp_path / "out")
    entry = json.loads((tmp_path / "out" / "report.json").read_text())["models"]["alpha_fitted"]

    assert status == 0, stderr
    assert "not evaluated" not in stderr
    assert "kernel_classes=" not in stderr
    assert "error" not in entry
    assert "mape" in entry["in_sample"]


def test_report_bundled_stderr_is_clean(capsys, tmp_path):
    status, _, stderr = run_cli(capsys, "report", "--models", "alpha_published,flops,alpha_fitted",
                                "--no-figures", "--out", tmp_path / "out")

    assert status == 0, stderr
    for line in stderr.splitlines():
        if line.strip():
            assert line.startswith("alphaflops report: ") or line.startswith("wrote "), line
    assert "max_nfev" not in stderr
    assert "Traceback" not in stderr


# Plausibility audit without a bound, and the --peak-flops and --bandwidth options ------------------

def test_report_no_bound_message(capsys, tmp_path):
    status, stdout, stderr = run_cli(capsys, "report", "--models", "flops", "--cv", "none", "--no-figures",
                                     "--out", tmp_path)

    assert status == 0, stderr
    assert "plausibility audit: no bound applied, so none of the 721 rows was checked" in stdout
    assert "pass --peak-flops FLOP_PER_S or --bandwidth BYTES_PER_S" in stdout


def test_report_leave_out_without_bound_warns(capsys, tmp_path):
    status, _, stderr = run_cli(capsys, "report", "--models", "flops", "--cv", "none", "--no-figures",
                                "--leave-out-flagged", "--out", tmp_path)

    assert status == 0, stderr
    assert "alphaflops report: warning: the plausibility audit of cpu-amd-epyc applied no bound" in stderr
    assert "left none out" in stderr
    assert "peak_flops" not in stderr


def test_report_bandwidth_option(capsys, tmp_path):
    status, stdout, stderr = run_cli(capsys, "report", "--models", "flops", "--cv", "none", "--no-figures",
                                     "--bandwidth", "1.3e11", "--out", tmp_path)

    audit = json.loads((tmp_path / "report.json").read_text())["audit"]
    assert status == 0, stderr
    assert audit["bandwidth"] == 1.3e11
    assert audit["bounds_applied"] == ["memory"]
    assert "plausibility audit: 0 of 721 rows measured faster" in stdout


def test_report_bound_with_no_audit(capsys, tmp_path):
    status, _, stderr = run_cli(capsys, "report", "--models", "flops", "--no-audit", "--peak-flops", "1e12",
                                "--out", tmp_path)

    assert_one_line_error(status, stderr, "report", "--peak-flops only applies to the plausibility audit")
    assert "drop --no-audit" in stderr


def test_report_invalid_bandwidth_names_option(capsys, tmp_path):
    status, _, stderr = run_cli(capsys, "report", "--bandwidth", "0", "--out", tmp_path)

    assert_usage_error(status, stderr, "argument --bandwidth: invalid value 0")


def test_fit_leave_out_without_bound(capsys, tmp_path):
    status, stdout, stderr = run_cli(capsys, "fit", "--model", "flops", "--out", tmp_path / "flops.json",
                                     "--leave-out-flagged")

    assert status == 0, stderr
    assert "left out no rows: the plausibility audit applied no bound, so it checked no row" in stdout
    assert "pass --peak-flops FLOP_PER_S or --bandwidth BYTES_PER_S" in stdout


def test_fit_leave_out_without_bound_warns(capsys, tmp_path):
    status, _, stderr = run_cli(capsys, "fit", "--model", "flops", "--out", tmp_path / "flops.json",
                                "--leave-out-flagged")

    assert status == 0, stderr
    assert "alphaflops fit: warning: the plausibility audit of cpu-amd-epyc applied no bound" in stderr
    assert "peak_flops" not in stderr


def test_fit_peak_flops_option(capsys, t2000_path, tmp_path):
    status, stdout, stderr = run_cli(capsys, "fit", "--dataset", t2000_path, "--model", "flops",
                                     "--out", tmp_path / "flops.json", "--leave-out-flagged", "--peak-flops", "1e15")

    assert status == 0, stderr
    assert "(721 rows" in stdout
    assert "left out 0 rows flagged" in stdout


def test_fit_bound_without_leave_out(capsys, tmp_path):
    status, _, stderr = run_cli(capsys, "fit", "--model", "flops", "--out", tmp_path / "flops.json",
                                "--peak-flops", "1e12", "--bandwidth", "1e11")

    assert_one_line_error(status, stderr, "fit", "--peak-flops and --bandwidth only apply")
    assert "add --leave-out-flagged" in stderr
    assert not (tmp_path / "flops.json").exists()


# Invalid facts in a NeuSight device file -------------------------------------------------------------

def _device_with(neusight_dir, tmp_path, **changes):
    record = json.loads((neusight_dir / "device-Tesla_T4.json").read_text(encoding="utf-8"))
    path = tmp_path / "device.json"
    path.write_text(json.dumps({**record, **changes}), encoding="utf-8")
    return path


@pytest.mark.parametrize("field, value", [("Freq", -1590), ("Freq", 1.59), ("Mem_Bw", -320), ("Core_Per_SM", 0)])
def test_audit_invalid_device_fact(capsys, neusight_dir, tmp_path, field, value):
    device = _device_with(neusight_dir, tmp_path, **{field: value})

    status, stdout, stderr = run_cli(capsys, "audit", "--dataset", neusight_dir / "conv-Tesla_T4.csv",
                                     "--device", device)

    assert_one_line_error(status, stderr, "audit", f"{device}: invalid {field} {value} in the hardware record")
    assert stdout == ""


def test_fit_leave_out_invalid_device_clock(capsys, neusight_dir, tmp_path):
    device = _device_with(neusight_dir, tmp_path, Freq=1.59)

    status, _, stderr = run_cli(capsys, "fit", "--dataset", neusight_dir / "conv-Tesla_T4.csv", "--device", device,
                                "--model", "flops", "--out", tmp_path / "flops.json", "--leave-out-flagged")

    assert_one_line_error(status, stderr, "fit", "Freq is the core clock in MHz")
    assert not (tmp_path / "flops.json").exists()


# What the audit checked, in model files and in the report table ----------------------------------------

def test_fit_leave_out_records_unchecked_audit(capsys, tmp_path):
    path = tmp_path / "flops.json"
    status, _, stderr = run_cli(capsys, "fit", "--model", "flops", "--out", path, "--leave-out-flagged")

    trained_on = json.loads(path.read_text(encoding="utf-8"))["trained_on"]
    assert status == 0, stderr
    assert trained_on["audit"] == {"bounds_applied": [], "peak_flops": None, "bandwidth": None}
    assert trained_on["excluded_rows"] == []


def test_fit_peak_flops_recorded_in_model_file(capsys, t2000_path, tmp_path):
    path = tmp_path / "flops.json"
    status, _, stderr = run_cli(capsys, "fit", "--dataset", t2000_path, "--model", "flops", "--out", path,
                                "--leave-out-flagged", "--peak-flops", "1e15")

    audit = json.loads(path.read_text(encoding="utf-8"))["trained_on"]["audit"]
    assert status == 0, stderr
    assert audit["bounds_applied"] == ["compute"]
    assert audit["peak_flops"] == 1e15


def test_plain_fit_records_no_audit(capsys, tmp_path):
    path = tmp_path / "flops.json"
    status, _, stderr = run_cli(capsys, "fit", "--model", "flops", "--out", path)

    assert status == 0, stderr
    assert json.loads(path.read_text(encoding="utf-8"))["trained_on"]["audit"] is None


def test_report_leave_out_without_bound_caption(capsys, tmp_path):
    status, stdout, stderr = run_cli(capsys, "report", "--models", "flops", "--cv", "none", "--no-figures",
                                     "--no-audit", "--leave-out-flagged", "--out", tmp_path)

    assert status == 0, stderr
    assert "721 rows (none left out: the audit applied no bound, so no row was checked)" in stdout
