"""Plausibility audit: lower bounds on layer time and the rows below them."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphaflops.plausibility import NoBoundWarning, audit, fit_without_flagged, minimum_bytes, minimum_flops
from alphaflops.cli import main
from alphaflops.datasets import Dataset, Table, load_dataset
from alphaflops.flops import row_flops
from alphaflops.layers import Conv2D

# A made-up GPU: 1 SM x 64 lanes x 1 GHz = 128 GFLOP/s FP32 peak.
SMALL_GPU = {"GPU": "test gpu", "computeCapability": 7.0, "coreClock": 1.0, "coreCount": 1}
PEAK = 2 * 64 * 1e9
NEUSIGHT_TABLES = ["Tesla_T4", "Tesla_V100-PCIE-32GB"]

rows_strategy = st.lists(st.integers(min_value=1, max_value=64), min_size=6, max_size=6)


def _table_dataset(layers, times_ms, hardware=None, run=None):
    return Dataset("synthetic", table=Table(layers, times_ms), hardware=hardware or SMALL_GPU, run=run)


def _conv_at_fraction_of_bound(fraction, kernel=1):
    layer = Conv2D(32, 32, 64, 64, kernel)
    bound_ms = minimum_flops(layer.to_row()[None, :])[0] / PEAK * 1e3
    return layer, bound_ms * fraction


@pytest.fixture(scope="module")
def t2000_audit(t2000_path):
    return audit(load_dataset(t2000_path))


def test_t2000_flags_only_1x1_rows(t2000_audit):
    kernels = {tuple(row["config"][4:]) for row in t2000_audit.rows}

    assert kernels == {(1.0, 1.0)}


def test_t2000_worst_row_is_300x300_150_channels(t2000_audit):
    worst = t2000_audit.rows[0]

    assert worst["config"] == [300.0, 300.0, 150.0, 150.0, 1.0, 1.0]
    assert 5.4 < worst["ratio"] < 5.6


def test_t2000_flags_five_rows(t2000_audit):
    assert int(t2000_audit.flagged_mask.sum()) == 5
    assert len(t2000_audit.rows) == 5


def test_t2000_uses_compute_bound_only(t2000_audit):
    assert t2000_audit.peak_flops == pytest.approx(2 * 16 * 64 * 1.62e9)
    assert t2000_audit.bandwidth is None
    assert any(sentence.startswith("Memory bound not applied") for sentence in t2000_audit.assumptions)


@pytest.mark.parametrize("table", NEUSIGHT_TABLES)
def test_neusight_tables_flag_nothing(neusight_dir, table):
    dataset = load_dataset(neusight_dir / f"conv-{table}.csv", device=neusight_dir / f"device-{table}.json")

    result = audit(dataset)

    assert result.peak_flops is not None
    assert result.bandwidth is not None
    assert not result.flagged_mask.any()


def test_row_below_bound_flagged():
    layer, bound_ms = _conv_at_fraction_of_bound(1.0)

    result = audit(_table_dataset([layer, layer], [bound_ms * 0.5, bound_ms * 2.0]))

    assert result.flagged_mask.tolist() == [True, False]
    assert result.rows[0]["ratio"] == pytest.approx(2.0)


def test_row_fields_for_table():
    layer, bound_ms = _conv_at_fraction_of_bound(0.5)

    row = audit(_table_dataset([layer], [bound_ms])).rows[0]

    assert set(row) == {"plot", "line", "row", "config", "time_ms", "bound_ms", "ratio"}
    assert row["plot"] is None
    assert row["line"] is None
    assert row["row"] == 0


def test_larger_kernel_allowed_its_area():
    # A 3x3 layer at a quarter of its direct-FLOPs time is possible (Winograd saves up to 9x).
    layer = Conv2D(32, 32, 64, 64, 3)
    direct_ms = row_flops(layer.to_row()[None, :])[0] / PEAK * 1e3

    result = audit(_table_dataset([layer], [direct_ms / 4]))

    assert not result.flagged_mask.any()


@given(rows_strategy)
def test_minimum_flops_is_direct_over_kernel_area(row):
    X = np.array([row], dtype=np.float64)

    assert minimum_flops(X)[0] == pytest.approx(row_flops(X)[0] / (row[4] * row[5]))


@given(rows_strategy)
def test_minimum_bytes_at_least_output(row):
    X = np.array([row], dtype=np.float64)

    assert minimum_bytes(X)[0] >= 4 * row[0] * row[1] * row[3]


def test_explicit_peak_replaces_record():
    layer, bound_ms = _conv_at_fraction_of_bound(1.0)
    dataset = _table_dataset([layer], [bound_ms * 0.9])

    result = audit(dataset, peak_flops=PEAK * 2)

    assert result.peak_flops == PEAK * 2
    assert not result.flagged_mask.any()
    assert "given by the caller" in result.assumptions[0]


def test_tf32_gpu_skips_compute_bound():
    ampere = {"GPU": "ampere", "computeCapability": 8.6, "coreClock": 1.0, "coreCount": 1}
    layer, bound_ms = _conv_at_fraction_of_bound(0.1)

    result = audit(_table_dataset([layer], [bound_ms], hardware=ampere))

    assert result.peak_flops is None
    assert not result.flagged_mask.any()
    assert "TF32" in result.assumptions[0]


def test_float16_run_skips_compute_bound():
    layer, bound_ms = _conv_at_fraction_of_bound(0.1)

    result = audit(_table_dataset([layer], [bound_ms], run={"dtype": "float16"}))

    assert result.peak_flops is None
    assert "float16" in result.assumptions[0]


def test_memory_bound_subtracts_l2():
    device = {"Device": "d", "Num_Sm": 1, "Core_Per_SM": 64, "Freq": 1000, "Mem_Bw": 1, "L2Cache": 1}
    layer = Conv2D(256, 256, 64, 64, 1)
    moved = minimum_bytes(layer.to_row()[None, :])[0] - 2**20
    memory_ms = moved / 1e9 * 1e3

    result = audit(_table_dataset([layer, layer], [memory_ms * 0.9, memory_ms * 1.1], hardware=device))

    assert result.bandwidth == pytest.approx(1e9)
    assert result.flagged_mask.tolist() == [True, False]


def test_explicit_bandwidth_without_l2_says_so():
    layer, _ = _conv_at_fraction_of_bound(1.0)

    result = audit(_table_dataset([layer], [1e3]), bandwidth=1e9)

    assert result.bandwidth == 1e9
    assert any("L2 size is unknown" in sentence for sentence in result.assumptions)


@pytest.mark.parametrize("name, value", [("peak_flops", 0.0), ("peak_flops", -1.0), ("bandwidth", float("nan")),
                                         ("peak_flops", 1e-300), ("bandwidth", 5e8)])
def test_invalid_rate_raises(name, value):
    layer, bound_ms = _conv_at_fraction_of_bound(1.0)

    with pytest.raises(ValueError, match=name):
        audit(_table_dataset([layer], [bound_ms]), **{name: value})


@pytest.mark.parametrize("name, value, expected", [("peak_flops", 3.3, "3.3 TFLOP/s is written 3.3e12"),
                                                   ("bandwidth", 320, "320 GB/s is written 3.2e11")])
def test_rate_in_larger_unit_names_fix(name, value, expected):
    layer, bound_ms = _conv_at_fraction_of_bound(1.0)

    with pytest.raises(ValueError, match=expected):
        audit(_table_dataset([layer], [bound_ms]), **{name: value})


def test_t2000_bounds_applied(t2000_audit):
    assert t2000_audit.bounds_applied == ("compute",)


def test_no_bound_on_bundled_cpu_set():
    result = audit(load_dataset("cpu-amd-epyc"))

    assert result.bounds_applied == ()
    assert not result.flagged_mask.any()


def test_no_bound_summary_sentence():
    result = audit(load_dataset("cpu-amd-epyc"))

    assert result.assumptions[-1].startswith("No bound applied, so none of the 721 rows was checked")
    assert "--peak-flops" in result.assumptions[-1]


def test_no_bound_in_to_dict():
    record = audit(load_dataset("cpu-amd-epyc")).to_dict()

    assert record["bounds_applied"] == []


def test_to_dict_overflowing_ratio_is_none():
    layer = Conv2D(32, 32, 64, 64, 1)
    result = audit(_table_dataset([layer], [1e-320]))

    record = json.loads(json.dumps(result.to_dict(), allow_nan=False))

    assert result.rows[0]["ratio"] == float("inf")
    assert record["rows"][0]["ratio"] is None


def test_to_dict_is_json(t2000_audit):
    record = json.loads(json.dumps(t2000_audit.to_dict()))

    assert set(record) == {"rows", "peak_flops", "bandwidth", "bounds_applied", "assumptions"}
    assert len(record["rows"]) == 5


def test_command_writes_json(t2000_path, tmp_path, capsys):
    out = tmp_path / "audit.json"

    status = main(["audit", "--dataset", str(t2000_path), "--out", str(out)])

    record = json.loads(out.read_text())
    assert status == 0
    assert record["rows"][0]["plot"] == "conv_K_vs_S"
    assert "conv_K_vs_S" in capsys.readouterr().out


def run_usage_error(capsys, *argv):
    """Run the command line with arguments that argparse rejects, and return (exit status, stderr)."""
    with pytest.raises(SystemExit) as exit_:
        main([str(arg) for arg in argv])
    return exit_.value.code, capsys.readouterr().err


def test_command_rejects_negative_peak(t2000_path, capsys):
    status, stderr = run_usage_error(capsys, "audit", "--dataset", t2000_path, "--peak-flops", "-1")

    assert status == 2
    assert "argument --peak-flops: invalid value -1: expected a positive number of FLOP/s" in stderr


def test_command_zero_peak_names_option(capsys):
    status, stderr = run_usage_error(capsys, "audit", "--peak-flops", "0")

    assert status == 2
    assert "argument --peak-flops: invalid value 0" in stderr
    assert "peak_flops" not in stderr


def test_command_peak_in_tflops_rejected(capsys):
    status, stderr = run_usage_error(capsys, "audit", "--peak-flops", "3.3")

    assert status == 2
    assert "below the minimum of 1e9 FLOP/s" in stderr
    assert "3.3 TFLOP/s is written 3.3e12" in stderr


def test_command_bandwidth_in_gbps_rejected(capsys):
    status, stderr = run_usage_error(capsys, "audit", "--bandwidth", "320")

    assert status == 2
    assert "argument --bandwidth" in stderr
    assert "320 GB/s is written 3.2e11" in stderr


def test_command_tiny_peak_rejected(capsys):
    status, stderr = run_usage_error(capsys, "audit", "--peak-flops", "1e-300")

    assert status == 2
    assert "below the minimum of 1e9 FLOP/s" in stderr


def test_command_joined_negative_peak(capsys):
    status, stderr = run_usage_error(capsys, "audit", "--peak-flops=-1e12")

    assert status == 2
    assert "invalid value -1e12: expected a positive number of FLOP/s" in stderr


def test_command_missing_value_hint(capsys):
    status, stderr = run_usage_error(capsys, "audit", "--peak-flops")

    assert status == 2
    assert "write --peak-flops=VALUE" in stderr


def test_command_separate_exponent_peak(capsys):
    # Python 3.11 reads -1e12 as an option, so the hint applies; newer argparse may pass it as the value.
    status, stderr = run_usage_error(capsys, "audit", "--peak-flops", "-1e12")

    assert status == 2
    assert "write --peak-flops=VALUE" in stderr or "invalid value -1e12" in stderr


def test_command_default_dataset(capsys):
    status = main(["audit"])

    stdout = capsys.readouterr().out
    assert status == 0
    assert stdout.startswith("audit of cpu-amd-epyc")
    assert "No bound applied, so none of the 721 rows was checked" in stdout


def test_command_help_shows_dataset_optional(capsys):
    with pytest.raises(SystemExit):
        main(["audit", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())

    assert "[--dataset PATH_OR_NAME]" in help_text
    assert "default: the default bundled dataset" in help_text


def test_command_peak_option_applies(t2000_path, tmp_path, capsys):
    out = tmp_path / "audit.json"

    status = main(["audit", "--dataset", str(t2000_path), "--peak-flops", "1e15", "--out", str(out)])

    record = json.loads(out.read_text())
    assert status == 0
    assert record["peak_flops"] == 1e15
    assert record["rows"] == []


def test_fit_without_flagged_leaves_rows_out(t2000_path):
    from alphaflops.models import FlopsRegressor

    dataset = load_dataset(t2000_path)

    model, result = fit_without_flagged(FlopsRegressor(), dataset)

    assert len(model.excluded_rows_) == 5
    assert model.excluded_rows_ == result.rows


def test_fit_without_flagged_warns_without_bound():
    from alphaflops.models import FlopsRegressor

    with pytest.warns(NoBoundWarning, match="checked none of its 721 rows"):
        fit_without_flagged(FlopsRegressor(), load_dataset("cpu-amd-epyc"))


def test_fit_without_flagged_silent_with_bound(t2000_path):
    import warnings

    from alphaflops.models import FlopsRegressor

    with warnings.catch_warnings():
        warnings.simplefilter("error", NoBoundWarning)
        _, result = fit_without_flagged(FlopsRegressor(), load_dataset(t2000_path))

    assert result.bounds_applied == ("compute",)


# What the audit checked, recorded in model files -----------------------------------------------------

@pytest.fixture(scope="module")
def audited_model_contents(t2000_path, tmp_path_factory):
    """Contents of the model file of a flops model fitted without the rows that the T2000 audit flags."""
    from alphaflops.models import FlopsRegressor

    model, _ = fit_without_flagged(FlopsRegressor(), load_dataset(t2000_path))
    path = tmp_path_factory.mktemp("audited") / "flops.json"
    model.save(path)
    return json.loads(path.read_text(encoding="utf-8"))


def _load_contents(contents, tmp_path):
    from alphaflops.models import load_model

    path = tmp_path / "model.json"
    path.write_text(json.dumps(contents), encoding="utf-8")
    return load_model(path)


def test_model_file_records_audit_bounds(audited_model_contents):
    audit_entry = audited_model_contents["trained_on"]["audit"]

    assert audit_entry["bounds_applied"] == ["compute"]
    assert audit_entry["peak_flops"] == pytest.approx(2 * 16 * 64 * 1.62e9)
    assert audit_entry["bandwidth"] is None
    assert len(audited_model_contents["trained_on"]["excluded_rows"]) == 5


def test_model_file_audit_without_bound(tmp_path):
    from alphaflops.models import FlopsRegressor

    with pytest.warns(NoBoundWarning):
        model, _ = fit_without_flagged(FlopsRegressor(), load_dataset("cpu-amd-epyc"))
    model.save(tmp_path / "flops.json")

    trained_on = json.loads((tmp_path / "flops.json").read_text(encoding="utf-8"))["trained_on"]
    assert trained_on["audit"] == {"bounds_applied": [], "peak_flops": None, "bandwidth": None}
    assert trained_on["excluded_rows"] == []


def test_plain_fit_file_has_null_audit(tmp_path):
    from alphaflops.models import FlopsRegressor
    from alphaflops.models.base import fit_dataset

    model = fit_dataset(FlopsRegressor(), load_dataset("cpu-amd-epyc"))
    model.save(tmp_path / "flops.json")

    trained_on = json.loads((tmp_path / "flops.json").read_text(encoding="utf-8"))["trained_on"]
    assert trained_on["audit"] is None


def test_model_file_audit_survives_load(audited_model_contents, tmp_path):
    loaded = _load_contents(audited_model_contents, tmp_path)
    loaded.save(tmp_path / "again.json")

    again = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    assert loaded.audit_ == audited_model_contents["trained_on"]["audit"]
    assert again["trained_on"]["audit"] == audited_model_contents["trained_on"]["audit"]


def test_model_file_without_audit_loads(audited_model_contents, tmp_path):
    contents = json.loads(json.dumps(audited_model_contents))
    del contents["trained_on"]["audit"]

    loaded = _load_contents(contents, tmp_path)

    assert getattr(loaded, "audit_", None) is None
    assert len(loaded.excluded_rows_) == 5


# trained_on.audit as edited in a file, and the problem that the load error names.
INVALID_AUDIT_ENTRIES = [
    ("compute", "expected a JSON object, got str"),
    ({"bounds_applied": ["compute"], "peak_flops": 3.3e12}, "missing key(s) bandwidth"),
    ({"bounds_applied": "compute", "peak_flops": 3.3e12, "bandwidth": None}, "bounds_applied must list"),
    ({"bounds_applied": ["compute", "compute"], "peak_flops": 3.3e12, "bandwidth": None}, "at most once each"),
    ({"bounds_applied": ["latency"], "peak_flops": None, "bandwidth": None}, "bounds_applied must list"),
    ({"bounds_applied": ["compute"], "peak_flops": -3.3e12, "bandwidth": None},
     "peak_flops must be a positive number of FLOP/s"),
    ({"bounds_applied": ["compute"], "peak_flops": None, "bandwidth": None},
     "peak_flops must be a positive number of FLOP/s"),
    ({"bounds_applied": ["compute"], "peak_flops": "fast", "bandwidth": None},
     "peak_flops must be a positive number of FLOP/s"),
    ({"bounds_applied": ["compute"], "peak_flops": float("inf"), "bandwidth": None},
     "peak_flops must be a positive number of FLOP/s"),
    ({"bounds_applied": ["compute"], "peak_flops": True, "bandwidth": None},
     "peak_flops must be a positive number of FLOP/s"),
    ({"bounds_applied": ["memory"], "peak_flops": 3.3e12, "bandwidth": 3.2e11},
     "peak_flops is 3300000000000.0 but bounds_applied does not list 'compute'"),
    ({"bounds_applied": ["compute"], "peak_flops": 3.3e12, "bandwidth": 3.2e11},
     "bandwidth is 320000000000.0 but bounds_applied does not list 'memory'"),
    ({"bounds_applied": ["compute", "memory"], "peak_flops": 3.3e12, "bandwidth": 0},
     "bandwidth must be a positive number of bytes/s"),
    ({"bounds_applied": [], "peak_flops": None, "bandwidth": None},
     "no bound applied, so the audit flagged no row, but excluded_rows lists 5 row(s)"),
]


@pytest.mark.parametrize("entry, problem", INVALID_AUDIT_ENTRIES)
def test_invalid_model_file_audit_rejected(audited_model_contents, tmp_path, entry, problem):
    from alphaflops.errors import ModelFileError

    contents = json.loads(json.dumps(audited_model_contents))
    contents["trained_on"]["audit"] = entry

    with pytest.raises(ModelFileError) as caught:
        _load_contents(contents, tmp_path)

    message = str(caught.value)
    assert "invalid trained_on.audit: " in message
    assert problem in message
    assert message.endswith("fit and save the model again")
    assert "\n" not in message


def test_no_bound_audit_entry_loads(audited_model_contents, tmp_path):
    contents = json.loads(json.dumps(audited_model_contents))
    contents["trained_on"]["excluded_rows"] = []
    contents["trained_on"]["audit"] = {"bounds_applied": [], "peak_flops": None, "bandwidth": None}

    loaded = _load_contents(contents, tmp_path)

    assert loaded.audit_["bounds_applied"] == []


def test_audit_entry_extra_key_ignored(audited_model_contents, tmp_path):
    contents = json.loads(json.dumps(audited_model_contents))
    contents["trained_on"]["audit"]["checked_by"] = "a later alphaflops"

    loaded = _load_contents(contents, tmp_path)

    assert loaded.audit_["bounds_applied"] == ["compute"]


def test_audited_file_keeps_format_version(audited_model_contents):
    from alphaflops.models.files import FORMAT_VERSION

    assert audited_model_contents["version"] == FORMAT_VERSION == 1
