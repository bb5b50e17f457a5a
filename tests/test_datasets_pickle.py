"""Safe loading of measurement pickles: numpy 1 and 2 module names, and rejected globals."""

import pickle
import warnings

import numpy as np
import pytest

from alphaflops.datasets import load_dataset
from alphaflops.datasets.safe_pickle import safe_loads
from alphaflops.errors import DatasetError, UnsafePickleError

CALLS = []


def _record_call(*args):
    """Stand-in for a harmful function: loading must never call it."""
    CALLS.append(args)
    return "called"


class _CallsRecord:
    def __reduce__(self):
        return (_record_call, ("ran while loading",))


class _CreatesFile:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _array_pickle(protocol=5):
    return pickle.dumps(np.arange(6, dtype=np.float32).reshape(2, 3), protocol=protocol)


def _rename_short_string(data, old, new):
    """Replace one SHORT_BINUNICODE string in an unframed copy of a protocol 4+ pickle."""
    if data[2:3] == b"\x95":
        data = data[:2] + data[11:]  # drop the optional FRAME opcode and its 8-byte length
    old_op = b"\x8c" + bytes([len(old)]) + old.encode()
    new_op = b"\x8c" + bytes([len(new)]) + new.encode()
    assert old_op in data
    return data.replace(old_op, new_op)


def _valid_plot():
    line = np.array([[10.0, 10.0, 3.0, 4.0, 3.0, 3.0, 0.5], [20.0, 20.0, 3.0, 4.0, 3.0, 3.0, 0.9]])
    return {"name": "small", "no_lines": 1, "axis": 0, "x_axis_name": "H", "ylim": None, "text": [], "lines": [line], "hardware": {}}


def _load_without_warnings(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return safe_loads(data)


def test_numpy2_array_pickle_loads():
    data = _array_pickle()
    assert b"numpy._core.numeric" in data

    array = _load_without_warnings(data)

    assert array.shape == (2, 3)
    assert array.dtype == np.float32
    assert array.sum() == 15.0


def test_numpy1_module_names_load_without_warning():
    data = _rename_short_string(_array_pickle(), "numpy._core.numeric", "numpy.core.numeric")

    array = _load_without_warnings(data)

    assert array.shape == (2, 3)
    assert array.dtype == np.float32
    assert array.sum() == 15.0


@pytest.mark.parametrize("core", ["numpy._core", "numpy.core"])
def test_protocol2_array_pickle_loads(core):
    data = _array_pickle(protocol=2).replace(b"numpy._core.multiarray", f"{core}.multiarray".encode())

    array = _load_without_warnings(data)

    np.testing.assert_array_equal(array, np.arange(6, dtype=np.float32).reshape(2, 3))


def test_numpy_scalar_pickle_loads():
    value = _load_without_warnings(pickle.dumps(np.float64(2.5), protocol=5))

    assert value == 2.5
    assert isinstance(value, np.float64)


def test_published_pickle_loads_without_warning(t2000_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = load_dataset(t2000_path)

    assert len(dataset) == 721


def test_control_plain_pickle_runs_function():
    # Shows that the malicious pickles below really call their function when
    # loaded with the standard library, so the tests that follow can fail.
    CALLS.clear()
    pickle.loads(pickle.dumps({"plots": [], "extra": _CallsRecord()}))

    assert CALLS == [("ran while loading",)]
    CALLS.clear()


def test_malicious_pickle_never_calls_function(tmp_path):
    CALLS.clear()
    path = tmp_path / "evil.pickle"
    path.write_bytes(pickle.dumps({"plots": [_valid_plot()], "extra": _CallsRecord()}, protocol=5))

    with pytest.raises(UnsafePickleError) as raised:
        load_dataset(path)

    assert f"{_record_call.__module__}._record_call" in str(raised.value)
    assert str(path) in str(raised.value)
    assert CALLS == []


def test_malicious_pickle_never_creates_file(tmp_path):
    marker = tmp_path / "created-by-pickle"
    path = tmp_path / "evil.pickle"
    path.write_bytes(pickle.dumps({"plots": [_valid_plot()], "extra": _CreatesFile(marker)}, protocol=5))

    with pytest.raises(UnsafePickleError, match=r"io\.open"):
        load_dataset(path)

    assert not marker.exists()


@pytest.mark.parametrize(
    "module, name",
    [
        ("os", "system"),
        ("builtins", "eval"),
        ("builtins", "getattr"),
        ("numpy", "load"),
        ("numpy.core.multiarray", "frombuffer"),
        ("numpy._core.numeric", "fromfile"),
        ("numpy.lib.npyio", "load"),
        ("_codecs", "decode"),
    ],
)
def test_unlisted_global_rejected(module, name):
    # Protocol 0: GLOBAL module name, empty tuple, REDUCE, STOP.
    data = f"c{module}\n{name}\n".encode() + b")R."

    with pytest.raises(UnsafePickleError, match=f"{module}.{name}"):
        safe_loads(data)


def test_legitimate_pickle_loads_unchanged(tmp_path):
    plot = _valid_plot()
    path = tmp_path / "good.pickle"
    path.write_bytes(pickle.dumps({"plots": [plot]}, protocol=5))

    dataset = load_dataset(path)

    np.testing.assert_array_equal(dataset.plots[0].lines[0], plot["lines"][0])


def test_truncated_pickle_rejected(t2000_path, tmp_path):
    path = tmp_path / "truncated.pickle"
    path.write_bytes(t2000_path.read_bytes()[:20000])

    with pytest.raises(DatasetError, match="not a complete pickle|not a valid pickle"):
        load_dataset(path)


def test_pickle_of_other_layout_rejected(tmp_path):
    path = tmp_path / "list.pickle"
    path.write_bytes(pickle.dumps([1, 2, 3], protocol=5))

    with pytest.raises(DatasetError, match="not a measurement pickle in the published layout"):
        load_dataset(path)


@pytest.mark.parametrize(
    "content, problem",
    [
        ({"plots": "abc"}, "'plots' is of type str, not a list of plot dicts"),
        ({"data": [], "meta": {}}, "the dict has no 'plots' key (its keys: 'data', 'meta')"),
        ({}, "it contains an empty dict, without a 'plots' key"),
        ([1, 2, 3], "it contains an object of type list, not a dict"),
    ],
)
def test_pickle_layout_error_names_problem(tmp_path, content, problem):
    path = tmp_path / "other.pickle"
    path.write_bytes(pickle.dumps(content, protocol=5))

    with pytest.raises(DatasetError) as raised:
        load_dataset(path)

    assert f"{path} is not a measurement pickle in the published layout: {problem}; " in str(raised.value)


@pytest.mark.parametrize(
    "plots, problem",
    [
        ([{"name": "a", "lines": []}], "plot 0 is missing the key(s) axis"),
        ([3], "plot 0 is of type int, not a dict"),
        ([{"name": "a", "axis": 0, "lines": "abc"}], "plot 'a': 'lines' is of type str, not a list"),
    ],
)
def test_plot_layout_error_names_plot(tmp_path, plots, problem):
    path = tmp_path / "other.pickle"
    path.write_bytes(pickle.dumps({"plots": plots}, protocol=5))

    with pytest.raises(DatasetError) as raised:
        load_dataset(path)

    assert str(raised.value).startswith(f"{path}: {problem}; ")


@pytest.mark.parametrize("content", [{"plots": "abc"}, {"plots": [{"name": "a", "lines": []}]}])
def test_pickle_layout_error_says_what_to_do(tmp_path, content):
    path = tmp_path / "other.pickle"
    path.write_bytes(pickle.dumps(content, protocol=5))

    with pytest.raises(DatasetError) as raised:
        load_dataset(path)

    message = str(raised.value)
    assert "write the file in the published layout or as project JSON (Dataset.to_json)" in message
    assert "each plot is a dict with 'name', 'axis'" in message
