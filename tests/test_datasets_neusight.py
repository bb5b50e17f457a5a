"""Import of NeuSight's T4 and V100 convolution tables and device files."""

import csv
import json
import logging

import numpy as np
import pytest

from alphaflops.datasets import load_dataset, read_neusight_device
from alphaflops.errors import DatasetError
from alphaflops.layers import Conv2D, layers_to_rows

TABLES = {
    "conv-Tesla_T4.csv": ("device-Tesla_T4.json", 4969, "Tesla T4"),
    "conv-Tesla_V100-PCIE-32GB.csv": ("device-Tesla_V100-PCIE-32GB.json", 4958, "Tesla V100-PCIE-32GB"),
}


@pytest.fixture(scope="module")
def t4(neusight_dir):
    return load_dataset(neusight_dir / "conv-Tesla_T4.csv", device=neusight_dir / "device-Tesla_T4.json")


@pytest.fixture(scope="module")
def t4_from_json(t4, tmp_path_factory):
    path = tmp_path_factory.mktemp("neusight") / "t4.json"
    t4.to_json(path)
    return load_dataset(path)


def _expected_rows(path):
    """Six-column rows computed straight from the CSV columns (output side, batch folded into H)."""
    rows = []
    with path.open(newline="") as handle:
        for record in csv.DictReader(handle):
            batch, size, kernel, stride, padding = (
                int(record[column]) for column in ("B", "Input_Size", "Kernel_Szie", "Stride", "Padding")
            )
            out = (size + 2 * padding - kernel) // stride + 1
            rows.append([batch * out, out, int(record["Input_Channel"]), int(record["Output_Channel"]), kernel, kernel])
    return np.array(rows, dtype=np.float64)


@pytest.mark.parametrize("file_name", list(TABLES))
def test_neusight_row_count(neusight_dir, file_name):
    dataset = load_dataset(neusight_dir / file_name)

    assert len(dataset) == TABLES[file_name][1]
    assert dataset.X.shape == (TABLES[file_name][1], 6)
    assert not dataset.has_plots


@pytest.mark.parametrize("file_name", list(TABLES))
def test_neusight_rows_match_csv_columns(neusight_dir, file_name):
    dataset = load_dataset(neusight_dir / file_name, format="neusight")

    np.testing.assert_array_equal(dataset.X, _expected_rows(neusight_dir / file_name))


def test_neusight_first_row_layer(t4):
    layer = t4.layers[0]

    assert layer == Conv2D(5, 5, 893, 326, 3, stride=1, padding=1, batch=38)
    assert t4.X[0].tolist() == [190.0, 5.0, 893.0, 326.0, 3.0, 3.0]
    assert t4.y[0] == 2.7097493012746177


def test_neusight_rows_from_layers(t4):
    np.testing.assert_array_equal(t4.X, layers_to_rows(t4.layers))


def test_neusight_metadata_kept(t4):
    assert t4.metadata["Kernel Name"][0] == "volta_sgemm_64x64_nn"
    assert t4.metadata["Kernels"][1].endswith("cudnn_infer_volta_scudnn_128x32_relu_medium_nn_v1")
    assert t4.metadata["Grid x"][0] == 3
    assert t4.metadata["Warps per SM"][0] == 32.4
    assert all(values.shape == (4969,) for values in t4.metadata.values())
    assert "Latency" not in t4.metadata


def test_neusight_run_record(t4):
    assert t4.run == {
        "tool": "NeuSight",
        "torch_version": "p2.1.0",
        "cudnn_version": 8902,
        "cuda_version": "cu121",
        "operation": "conv",
    }


def test_neusight_groups_default_to_minus_one(t4):
    assert (t4.groups == -1).all()
    assert t4.group_names == []


def test_neusight_group_column(neusight_dir):
    dataset = load_dataset(neusight_dir / "conv-Tesla_T4.csv", group_column="Kernel Name")

    names = np.array(dataset.group_names)
    assert (names[dataset.groups] == dataset.metadata["Kernel Name"]).all()
    assert dataset.group_names == sorted(set(dataset.metadata["Kernel Name"].tolist()))


def test_neusight_auto_detected(neusight_dir):
    path = neusight_dir / "conv-Tesla_V100-PCIE-32GB.csv"

    automatic = load_dataset(path)
    explicit = load_dataset(path, format="neusight")

    np.testing.assert_array_equal(automatic.X, explicit.X)
    np.testing.assert_array_equal(automatic.y, explicit.y)


def test_neusight_source_and_checksum(neusight_dir):
    dataset = load_dataset(neusight_dir / "conv-Tesla_T4.csv")

    assert dataset.source == str(neusight_dir / "conv-Tesla_T4.csv")
    assert dataset.sha256 == "558c37f7a30bbb3f39f4a53f4fb8af15e763b40de17ef489cf2730c07d27777a"
    assert dataset.hardware["name"] == "Tesla T4"


@pytest.mark.parametrize("file_name", list(TABLES))
def test_device_file_normalized(neusight_dir, file_name):
    device_file, _, name = TABLES[file_name]

    hardware = read_neusight_device(neusight_dir / device_file)

    assert hardware["name"] == name
    assert hardware["clock_ghz"] == hardware["original"]["Freq"] / 1000
    assert 1.0 < hardware["clock_ghz"] < 2.0
    assert hardware["peak_fp32_flops"] == pytest.approx(hardware["published_peak_fp32_flops"], rel=1e-3)
    assert hardware["memory_bandwidth_bytes_per_s"] == hardware["original"]["Mem_Bw"] * 1e9


def test_device_record_on_dataset(t4):
    assert t4.hardware["sm_count"] == 40
    assert t4.hardware["fp32_lanes_per_sm"] == 64
    assert t4.hardware["clock_ghz"] == 1.59
    assert t4.hardware["original"]["Freq"] == 1590


def test_device_of_other_gpu_warns(neusight_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="alphaflops.datasets.neusight"):
        load_dataset(neusight_dir / "conv-Tesla_T4.csv", device=neusight_dir / "device-Tesla_V100-PCIE-32GB.json")

    assert "measured on 'Tesla T4'" in caplog.text


def test_device_file_missing_key(tmp_path):
    path = tmp_path / "device.json"
    path.write_text('{"Device": "X", "Num_Sm": 10}')

    with pytest.raises(DatasetError, match="missing key\\(s\\) Core_Per_SM, Freq"):
        read_neusight_device(path)


def _edited_device_file(neusight_dir, tmp_path, **changes):
    record = json.loads((neusight_dir / "device-Tesla_T4.json").read_text(encoding="utf-8"))
    path = tmp_path / "device.json"
    path.write_text(json.dumps({**record, **changes}), encoding="utf-8")
    return path


def test_device_file_clock_in_ghz_rejected(neusight_dir, tmp_path):
    path = _edited_device_file(neusight_dir, tmp_path, Freq=1.59)

    with pytest.raises(DatasetError) as caught:
        read_neusight_device(path)

    assert str(caught.value).startswith(f"{path}: invalid Freq 1.59 ")
    assert str(caught.value).endswith("Freq is the core clock in MHz, e.g. 1590 for a 1.59 GHz clock")


def test_device_file_negative_bandwidth_rejected(neusight_dir, tmp_path):
    path = _edited_device_file(neusight_dir, tmp_path, Mem_Bw=-320)

    with pytest.raises(DatasetError, match="invalid Mem_Bw -320 in the hardware record"):
        load_dataset(neusight_dir / "conv-Tesla_T4.csv", device=path)


def test_dataset_json_with_text_clock_rejected(t4, tmp_path):
    path = tmp_path / "t4.json"
    t4.to_json(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["hardware"]["clock_ghz"] = "fast"
    path.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(DatasetError) as caught:
        load_dataset(path)

    assert str(caught.value).startswith(f'{path}: invalid clock_ghz "fast" in the hardware record')


def test_table_json_round_trip_arrays(t4, t4_from_json):
    np.testing.assert_array_equal(t4_from_json.X, t4.X)
    np.testing.assert_array_equal(t4_from_json.y, t4.y)


def test_table_json_round_trip_layers(t4, t4_from_json):
    assert t4_from_json.layers == t4.layers


def test_table_json_round_trip_metadata(t4, t4_from_json):
    assert list(t4_from_json.metadata) == list(t4.metadata)
    for column, values in t4.metadata.items():
        np.testing.assert_array_equal(t4_from_json.metadata[column], values)
        assert t4_from_json.metadata[column].dtype.kind == values.dtype.kind


def test_table_json_round_trip_records(t4, t4_from_json):
    assert t4_from_json.hardware == t4.hardware
    assert t4_from_json.run == t4.run
    assert t4_from_json.name == t4.name


def test_table_subset_keeps_metadata(t4):
    part = t4.subset(np.arange(10, 20))

    assert len(part) == 10
    np.testing.assert_array_equal(part.metadata["Kernel Name"], t4.metadata["Kernel Name"][10:20])
    np.testing.assert_array_equal(part.X, t4.X[10:20])


def test_table_tidy_csv_has_metadata(t4, tmp_path):
    path = tmp_path / "t4.csv"
    t4.to_csv(path)

    with path.open(newline="") as handle:
        records = list(csv.DictReader(handle))

    assert len(records) == 4969
    assert records[0]["Kernel Name"] == "volta_sgemm_64x64_nn"
    assert records[0]["H"] == "190"
    assert records[0]["plot"] == ""
