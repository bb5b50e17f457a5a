"""Tests of model files: JSON contents, bit-for-bit round trips and validation errors."""

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphaflops import __version__, load_dataset
from alphaflops.errors import ModelFileError
from alphaflops.models import (
    MODEL_KINDS,
    AlphaFlopsRegressor,
    FlopsRegressor,
    PublishedAlphaModel,
    RecommendedRegressor,
    fit_dataset,
    load_model,
    published_model,
)
from alphaflops.models.files import FORMAT_VERSION, REQUIRED_FIELDS
from alphaflops.plausibility import fit_without_flagged


@pytest.fixture(scope="module")
def t2000(t2000_path):
    return load_dataset(t2000_path)


@pytest.fixture(scope="module")
def saved_models(t2000):
    return {
        "published": published_model(),
        "flops": fit_dataset(FlopsRegressor(), t2000),
        "alpha": fit_dataset(AlphaFlopsRegressor(), t2000),
        "alpha_pure": fit_dataset(AlphaFlopsRegressor(overhead=False), t2000),
        "alpha_robust_three_classes": fit_dataset(
            AlphaFlopsRegressor(kernel_classes=(1, 9), loss="soft_l1", f_scale=0.2), t2000
        ),
    }


MODEL_NAMES = ["published", "flops", "alpha", "alpha_pure", "alpha_robust_three_classes"]


def _saved_contents(model, tmp_path):
    path = tmp_path / "model.json"
    model.save(path)
    return json.loads(path.read_text(encoding="utf-8"))


def _write(tmp_path, contents):
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(contents), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_round_trip_predicts_bit_for_bit(saved_models, t2000, tmp_path, name):
    model = saved_models[name]
    model.save(tmp_path / "model.json")

    loaded = load_model(tmp_path / "model.json")

    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(t2000.X), model.predict(t2000.X))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_round_trip_keeps_fitted_state(saved_models, tmp_path, name):
    model = saved_models[name]
    model.save(tmp_path / "model.json")

    loaded = load_model(tmp_path / "model.json")

    assert loaded.get_params() == model.get_params()
    assert loaded.params_ == model.params_
    for key, error in model.standard_errors_.items():
        assert loaded.standard_errors_[key] == error or (math.isnan(error) and math.isnan(loaded.standard_errors_[key]))
    np.testing.assert_array_equal(loaded.feature_range_[0], model.feature_range_[0])
    np.testing.assert_array_equal(loaded.feature_range_[1], model.feature_range_[1])
    assert loaded.hardware_ == model.hardware_
    assert loaded.dataset_sha256_ == model.dataset_sha256_
    assert loaded.in_sample_metrics_ == model.in_sample_metrics_
    assert loaded.n_features_in_ == 6


def test_file_contents(saved_models, t2000, tmp_path):
    contents = _saved_contents(saved_models["alpha"], tmp_path)

    assert contents["format"] == "alphaflops-model"
    assert contents["version"] == FORMAT_VERSION
    assert contents["kind"] == "alpha"
    assert contents["class"] == "AlphaFlopsRegressor"
    assert contents["settings"]["kernel_classes"] == [1]
    assert contents["kernel_classes"] == ["K<=1", "K>1"]
    assert set(contents["parameters"]["overhead"]) == {"value", "standard_error"}
    assert contents["trained_on"]["hardware"]["name"] == "Quadro T2000"
    assert contents["trained_on"]["dataset_sha256"] == t2000.sha256
    assert contents["in_sample"]["mape"] < 0.2163
    assert contents["alphaflops_version"] == __version__
    assert contents["created"].endswith("+00:00")


def test_published_file_has_null_standard_errors(saved_models, tmp_path):
    contents = _saved_contents(saved_models["published"], tmp_path)

    assert contents["kind"] == "published"
    assert contents["parameters"]["time_per_mmac"] == {"value": 0.0375, "standard_error": None}


def test_file_is_plain_json_text(saved_models, tmp_path):
    saved_models["flops"].save(tmp_path / "model.json")

    text = (tmp_path / "model.json").read_text(encoding="utf-8")

    assert text.lstrip().startswith("{")
    assert "NaN" not in text
    assert "Infinity" not in text


@settings(max_examples=50, deadline=None)
@given(
    st.floats(1e-6, 1e3),
    st.floats(0, 10),
    st.floats(1e-4, 1),
    st.floats(0, 3),
)
def test_any_float_parameter_round_trips_exactly(tmp_path_factory, time_per_mmac, overhead, beta, gamma):
    model = published_model()
    rows = np.array([[7.0, 9.0, 64.0, 96.0, 1.0, 1.0], [32.0, 30.0, 48.0, 128.0, 3.0, 3.0]])
    fitted = AlphaFlopsRegressor().fit(np.vstack([rows] * 4), np.arange(1.0, 9.0))
    fitted.params_ = {
        "time_per_mmac": time_per_mmac,
        "overhead": overhead,
        "beta[K<=1]": beta,
        "gamma[K<=1]": gamma,
        "beta[K>1]": beta / 2,
        "gamma[K>1]": gamma / 2,
    }
    path = tmp_path_factory.mktemp("models") / "model.json"
    fitted.save(path)

    loaded = load_model(path)

    assert loaded.params_ == fitted.params_
    np.testing.assert_array_equal(loaded.predict(rows), fitted.predict(rows))
    assert model.params_ == published_model().params_


# Kinds whose defaults fit in milliseconds. The recommended and hybrid kinds
# test their own round trips, because a hybrid fit takes about a minute.
FAST_KINDS = ("published", "flops", "alpha")


def test_fast_kinds_are_registered():
    assert set(FAST_KINDS) <= set(MODEL_KINDS)


@pytest.mark.parametrize("kind", FAST_KINDS)
def test_registered_kind_round_trips(t2000, tmp_path, kind):
    cls = MODEL_KINDS[kind]
    model = cls._benchmark_instance(t2000.X) if hasattr(cls, "_benchmark_instance") else cls()
    if not hasattr(model, "params_"):
        model.fit(t2000.X, t2000.y)
    model.save(tmp_path / f"{kind}.json")

    loaded = load_model(tmp_path / f"{kind}.json")

    np.testing.assert_array_equal(loaded.predict(t2000.X), model.predict(t2000.X))


def test_unfitted_model_cannot_be_saved(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FlopsRegressor().save(tmp_path / "model.json")


def test_nonfinite_parameter_cannot_be_saved(saved_models, tmp_path):
    model = FlopsRegressor()
    model.__dict__.update(saved_models["flops"].__dict__)
    model.params_ = dict(model.params_, overhead=float("inf"))

    with pytest.raises(ValueError, match="parameter 'overhead' is inf"):
        model.save(tmp_path / "model.json")
    assert not (tmp_path / "model.json").exists()


# Validation errors ----------------------------------------------------------


def test_newer_version_raises(saved_models, tmp_path):
    contents = _saved_contents(saved_models["flops"], tmp_path)
    contents["version"] = FORMAT_VERSION + 1

    with pytest.raises(ModelFileError, match=f"version {FORMAT_VERSION + 1} is newer.*upgrade alphaflops"):
        load_model(_write(tmp_path, contents))


@pytest.mark.parametrize("version", [0, "1", 1.0, 1.5, True, None])
def test_invalid_version_raises(saved_models, tmp_path, version):
    contents = _saved_contents(saved_models["flops"], tmp_path)
    contents["version"] = version

    with pytest.raises(ModelFileError, match="version must be a positive integer") as raised:
        load_model(_write(tmp_path, contents))

    assert str(raised.value).endswith("fit and save the model again")


def test_unknown_kind_raises(saved_models, tmp_path):
    contents = _saved_contents(saved_models["flops"], tmp_path)
    contents["kind"] = "transformer"

    with pytest.raises(ModelFileError, match=r"unknown model kind 'transformer' \(known kinds: .*flops"):
        load_model(_write(tmp_path, contents))


@pytest.mark.parametrize("field", REQUIRED_FIELDS[2:])
def test_missing_field_raises(saved_models, tmp_path, field):
    contents = _saved_contents(saved_models["alpha"], tmp_path)
    del contents[field]

    with pytest.raises(ModelFileError, match=f"missing field\\(s\\) {field}"):
        load_model(_write(tmp_path, contents))


def test_missing_format_raises(saved_models, tmp_path):
    contents = _saved_contents(saved_models["alpha"], tmp_path)
    del contents["format"]

    with pytest.raises(ModelFileError, match="not an alphaflops model file"):
        load_model(_write(tmp_path, contents))


def test_error_names_the_file(saved_models, tmp_path):
    contents = _saved_contents(saved_models["flops"], tmp_path)
    contents["kind"] = "transformer"
    path = _write(tmp_path, contents)

    with pytest.raises(ModelFileError, match=str(path)):
        load_model(path)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nonfinite_parameter_raises(saved_models, tmp_path, token):
    path = tmp_path / "model.json"
    saved_models["alpha"].save(path)
    text = path.read_text(encoding="utf-8")
    value = repr(saved_models["alpha"].params_["gamma[K>1]"])
    path.write_text(text.replace(value, token, 1), encoding="utf-8")

    with pytest.raises(ModelFileError, match=r"parameter 'gamma\[K>1\]' is .*not a finite number"):
        load_model(path)


def test_missing_parameter_raises(saved_models, tmp_path):
    contents = _saved_contents(saved_models["alpha"], tmp_path)
    del contents["parameters"]["overhead"]

    with pytest.raises(ModelFileError, match=r"missing \['overhead'\]"):
        load_model(_write(tmp_path, contents))


def test_unexpected_parameter_raises(saved_models, tmp_path):
    contents = _saved_contents(saved_models["alpha_pure"], tmp_path)
    contents["parameters"]["overhead"] = {"value": 0.1, "standard_error": None}

    with pytest.raises(ModelFileError, match=r"unexpected \['overhead'\]"):
        load_model(_write(tmp_path, contents))


def test_string_parameter_raises(saved_models, tmp_path):
    contents = _saved_contents(saved_models["flops"], tmp_path)
    contents["parameters"]["overhead"]["value"] = "0.2"

    with pytest.raises(ModelFileError, match="parameter 'overhead' must be a number, got '0.2'"):
        load_model(_write(tmp_path, contents))


def test_string_standard_error_raises(saved_models, tmp_path):
    contents = _saved_contents(saved_models["flops"], tmp_path)
    contents["parameters"]["overhead"]["standard_error"] = "large"

    with pytest.raises(ModelFileError, match="standard error of 'overhead' must be a number"):
        load_model(_write(tmp_path, contents))


def test_negative_standard_error_raises(saved_models, tmp_path):
    contents = _saved_contents(saved_models["flops"], tmp_path)
    contents["parameters"]["overhead"]["standard_error"] = -0.1

    with pytest.raises(ModelFileError, match="standard error of 'overhead' is -0.1; it must be zero or positive"):
        load_model(_write(tmp_path, contents))


def test_unknown_setting_raises(saved_models, tmp_path):
    contents = _saved_contents(saved_models["flops"], tmp_path)
    contents["settings"]["learning_rate"] = 0.1

    with pytest.raises(ModelFileError, match="unknown setting\\(s\\) learning_rate for kind 'flops'") as raised:
        load_model(_write(tmp_path, contents))

    assert str(raised.value).endswith("upgrade alphaflops, or fit and save the model again")


def test_invalid_setting_raises(saved_models, tmp_path):
    contents = _saved_contents(saved_models["alpha"], tmp_path)
    contents["settings"]["kernel_classes"] = [9, 1]

    with pytest.raises(ModelFileError, match="invalid settings: kernel_classes must be"):
        load_model(_write(tmp_path, contents))


def test_invalid_feature_range_raises(saved_models, tmp_path):
    contents = _saved_contents(saved_models["flops"], tmp_path)
    contents["feature_range"]["min"] = [1, 2, 3]

    with pytest.raises(ModelFileError, match="feature_range.min must be a list of 6 numbers"):
        load_model(_write(tmp_path, contents))


def test_edited_published_constants_raise(saved_models, tmp_path):
    contents = _saved_contents(saved_models["published"], tmp_path)
    contents["parameters"]["time_per_mmac"]["value"] = 0.04

    with pytest.raises(ModelFileError, match="kind 'published' must contain the published constants"):
        load_model(_write(tmp_path, contents))


def test_invalid_json_raises(tmp_path):
    path = tmp_path / "model.json"
    path.write_text('{"format": "alphaflops-model", ', encoding="utf-8")

    with pytest.raises(ModelFileError, match="not a model file: invalid JSON"):
        load_model(path)


def test_pickle_file_is_rejected(tmp_path):
    import pickle

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(FlopsRegressor()))

    with pytest.raises(ModelFileError, match="not a model file"):
        load_model(path)


def test_json_that_is_not_a_model_raises(tmp_path):
    path = tmp_path / "dataset.json"
    path.write_text('{"format": "alphaflops-dataset", "version": 1}', encoding="utf-8")

    with pytest.raises(ModelFileError, match='expected "format": "alphaflops-model"'):
        load_model(path)


def test_missing_file_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        load_model(tmp_path / "absent.json")


def test_published_kind_loads_as_published_model(saved_models, tmp_path):
    saved_models["published"].save(tmp_path / "model.json")

    assert isinstance(load_model(tmp_path / "model.json"), PublishedAlphaModel)


# Parameter ranges -----------------------------------------------------------


@pytest.mark.parametrize(
    ("model_name", "parameter", "value", "allowed"),
    [
        ("alpha", "time_per_mmac", -1.0, r"\(0, inf\)"),
        ("alpha", "time_per_mmac", 0.0, r"\(0, inf\)"),
        ("alpha", "overhead", -5, r"\[0, inf\)"),
        ("alpha", "beta[K<=1]", 1.5, r"\[0, 1\]"),
        ("alpha", "gamma[K>1]", 11.0, r"\[0, 10\]"),
        ("flops", "time_per_gflop", -0.5, r"\(0, inf\)"),
        ("flops", "overhead", -0.1, r"\[0, inf\)"),
    ],
)
def test_parameter_out_of_range_raises(saved_models, tmp_path, model_name, parameter, value, allowed):
    contents = _saved_contents(saved_models[model_name], tmp_path)
    contents["parameters"][parameter]["value"] = value
    path = _write(tmp_path, contents)

    with pytest.raises(ModelFileError) as raised:
        load_model(path)

    message = str(raised.value)
    assert message.startswith(f"{path}: ")
    assert f"parameter {parameter!r} is {float(value)!r}" in message
    assert re.search(f"allowed range {allowed}", message)
    assert "np.float64" not in message


def test_fitted_parameters_lie_in_ranges(saved_models):
    for name in MODEL_NAMES:
        model = saved_models[name]
        ranges = model._parameter_ranges()

        assert set(ranges) == set(model.params_)
        for parameter, value in model.params_.items():
            assert ranges[parameter].contains(value), (name, parameter, value)


# Rows left out by the plausibility audit ------------------------------------


@pytest.mark.parametrize("estimator", [FlopsRegressor(), AlphaFlopsRegressor()], ids=["flops", "alpha"])
def test_excluded_rows_survive_save_and_load(t2000_path, tmp_path, estimator):
    model, result = fit_without_flagged(estimator, load_dataset(t2000_path))
    path = tmp_path / "model.json"

    model.save(path)
    contents = json.loads(path.read_text())
    loaded = load_model(path)

    assert len(contents["trained_on"]["excluded_rows"]) == len(result.rows) == 5
    assert [row["config"] for row in loaded.excluded_rows_] == [list(map(float, row["config"])) for row in result.rows]


def test_invalid_excluded_rows_rejected(saved_models, tmp_path):
    contents = _saved_contents(saved_models["alpha"], tmp_path)
    contents["trained_on"]["excluded_rows"] = "all"
    path = _write(tmp_path, contents)

    with pytest.raises(ModelFileError, match="excluded_rows"):
        load_model(path)


def _drop_parameter(contents):
    del contents["parameters"]["overhead"]


def _string_parameter(contents):
    contents["parameters"]["overhead"]["value"] = "0.2"


def _negative_standard_error(contents):
    contents["parameters"]["overhead"]["standard_error"] = -0.1


def _short_feature_range(contents):
    contents["feature_range"]["min"] = [1, 2, 3]


def _inverted_feature_range(contents):
    contents["feature_range"]["min"], contents["feature_range"]["max"] = (
        contents["feature_range"]["max"],
        contents["feature_range"]["min"],
    )


def _list_as_parameters(contents):
    contents["parameters"] = []


def _string_in_sample(contents):
    contents["in_sample"]["mape"] = "low"


def _drop_in_sample(contents):
    del contents["in_sample"]


@pytest.mark.parametrize(
    "change",
    [_drop_parameter, _string_parameter, _negative_standard_error, _short_feature_range,
     _inverted_feature_range, _list_as_parameters, _string_in_sample, _drop_in_sample],
)
def test_invalid_content_error_says_to_refit(saved_models, tmp_path, change):
    contents = _saved_contents(saved_models["flops"], tmp_path)
    change(contents)

    with pytest.raises(ModelFileError, match="fit and save the model again$"):
        load_model(_write(tmp_path, contents))


def test_inverted_feature_range_raises(saved_models, tmp_path):
    contents = _saved_contents(saved_models["flops"], tmp_path)
    _inverted_feature_range(contents)

    with pytest.raises(ModelFileError, match=r"feature_range.min exceeds feature_range.max in column\(s\) H, W, Cin, Cout"):
        load_model(_write(tmp_path, contents))


def test_disagreeing_excluded_rows_rejected(t2000_path, tmp_path):
    model, _ = fit_without_flagged(RecommendedRegressor(interval_folds=0), load_dataset(t2000_path))
    contents = _saved_contents(model, tmp_path)
    contents["extras"]["excluded_rows"] = contents["extras"]["excluded_rows"][1:]

    with pytest.raises(ModelFileError, match="list different rows"):
        load_model(_write(tmp_path, contents))


def test_changed_interval_levels_rejected(t2000, tmp_path):
    model = fit_dataset(RecommendedRegressor(interval_folds=0), t2000)
    contents = _saved_contents(model, tmp_path)
    contents["extras"]["interval"]["levels"] = [value / 2 for value in contents["extras"]["interval"]["levels"]]

    with pytest.raises(ModelFileError, match="extras.interval.levels"):
        load_model(_write(tmp_path, contents))


def test_non_string_kind_rejected(saved_models, tmp_path):
    contents = _saved_contents(saved_models["flops"], tmp_path)
    contents["kind"] = ["flops"]

    with pytest.raises(ModelFileError, match="field kind must be a string"):
        load_model(_write(tmp_path, contents))


@pytest.mark.parametrize("value", [1000.0, -1000.0])
def test_absurd_interval_quantiles_rejected(t2000, tmp_path, value):
    model = fit_dataset(RecommendedRegressor(interval_folds=0), t2000)
    contents = _saved_contents(model, tmp_path)
    contents["extras"]["interval"]["log_error_quantiles"] = [value] * 201

    with pytest.raises(ModelFileError, match=r"must lie within \+-20"):
        load_model(_write(tmp_path, contents))


def test_excluded_rows_kept_when_extras_lacks_them(t2000_path, tmp_path):
    model, result = fit_without_flagged(RecommendedRegressor(interval_folds=0), load_dataset(t2000_path))
    contents = _saved_contents(model, tmp_path)
    del contents["extras"]["excluded_rows"]

    loaded = load_model(_write(tmp_path, contents))

    assert len(loaded.excluded_rows_) == len(result.rows) == 5


def test_loaded_plain_fit_has_no_audit_record(saved_models, tmp_path):
    saved_models["flops"].save(tmp_path / "model.json")

    loaded = load_model(tmp_path / "model.json")

    assert loaded.excluded_rows_ == []
    assert loaded.audit_ is None


def test_plain_refit_clears_audit_record(t2000_path, t2000):
    model, _ = fit_without_flagged(FlopsRegressor(), load_dataset(t2000_path))

    fit_dataset(model, t2000)

    assert model.excluded_rows_ == []
    assert model.audit_ is None
