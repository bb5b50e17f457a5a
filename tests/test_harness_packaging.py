"""Tests of the bundled datasets: where they are found, the default choice and the package list."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from alphaflops import load_dataset
from alphaflops.cli import main
from alphaflops.datasets import bundled
from alphaflops.datasets.bundled import bundled_datasets, default_dataset_name, resolve_bundled

ROOT = Path(__file__).resolve().parent.parent


def write_set(folder, name, platform):
    document = {
        "format": "alphaflops-dataset",
        "version": 1,
        "name": name,
        "hardware": {"platform": platform, "name": f"{platform} device", "reps": 10, "max_seconds": None},
        "run": {},
        "plots": [{"name": "p", "axis": 0, "x_label": "H", "ylim": None, "annotations": [], "hardware": {},
                   "lines": [{"kind": "conv2d", "rows": [[4, 4, 2, 2, 1, 1, 0.5]]}]}],
        "table": None,
    }
    (folder / f"{name}.json").write_text(json.dumps(document))


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(bundled, "bundled_data_dir", lambda: tmp_path)
    return tmp_path


def test_every_bundled_set_loads():
    for name, path in bundled_datasets().items():
        assert path.suffix == ".json"
        assert len(load_dataset(name)) > 0


def test_unknown_bundled_name_is_none():
    assert resolve_bundled("no-such-set") is None


def test_default_prefers_gpu_set(data_folder):
    write_set(data_folder, "a-cpu", "cpu")
    write_set(data_folder, "z-gpu", "gpu")
    assert default_dataset_name() == "z-gpu"


def test_default_falls_back_to_cpu_set(data_folder):
    write_set(data_folder, "b-cpu", "cpu")
    write_set(data_folder, "a-cpu", "cpu")
    assert default_dataset_name() == "a-cpu"


def test_default_without_sets_raises(data_folder):
    with pytest.raises(FileNotFoundError, match="--dataset"):
        default_dataset_name()


def test_bundled_name_loads_by_name(data_folder):
    write_set(data_folder, "tiny-cpu", "cpu")
    assert len(load_dataset("tiny-cpu")) == 1


def test_datasets_command_lists_sets(data_folder, capsys):
    write_set(data_folder, "a-cpu", "cpu")
    write_set(data_folder, "z-gpu", "gpu")
    assert main(["datasets"]) == 0
    output = capsys.readouterr().out
    assert "  a-cpu: 1 rows, cpu cpu device" in output
    assert "* z-gpu: 1 rows" in output


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib needs Python 3.11")
def test_pyproject_lists_every_subpackage():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "alphaflops").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert set(config["packages"]) == on_disk | {"alphaflops.data"}
    assert config["package-dir"]["alphaflops.data"] == "data"
    assert (ROOT / "data" / "__init__.py").is_file()


def test_bundled_cpu_set_covers_paper_sweep():
    from alphaflops.harness.sweeps import load_sweep

    sweep = load_sweep("paper")
    dataset = load_dataset("cpu-amd-epyc")
    values = np.array([configuration.values for configuration in sweep.configurations], dtype=np.float64)
    np.testing.assert_array_equal(dataset.X, values)
    assert [plot.name for plot in dataset.plots] == [plot.name for plot in sweep.plots]
    assert dataset.hardware["platform"] == "cpu"
    assert dataset.run["settings"]["max_seconds"] == 1.0
