"""Tests of measure_sweep, the journal, resuming, stopping, failures and merging."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from alphaflops import load_dataset
from alphaflops.cli import main
from alphaflops.harness.journal import read_journal
from alphaflops.harness.output import merge_parts, read_document, write_document
from alphaflops.harness.runs import journal_path_for, measure_sweep
from alphaflops.harness.sweeps import sweep_from_spec
from alphaflops.harness.timing import TimingResult

SPEC = {
    "name": "tiny",
    "plots": [
        {
            "name": "growing_H",
            "axis": 0,
            "x_label": "H",
            "annotations": [[1, 2, "$K = 3$"]],
            "x": [{"range": [2, 12, 2]}],
            "columns": {"H": "x", "W": 6, "Cin": 3, "Cout": 4, "K1": 3, "K2": 3},
            "lines": [{}, {"columns": {"Cin": 5}}],
        },
        {
            "name": "batch",
            "axis": 0,
            "x_label": "batch",
            "kind": "dense",
            "x": [1, 2, 3],
            "columns": {"H": "x", "W": 1, "Cin": 16, "Cout": 8, "K1": 1, "K2": 1},
            "lines": [{}],
        },
    ],
}


def stand_in_timer(configuration, settings, device):
    """Time nothing: return a result whose mean encodes the configuration's index."""
    mean = 1.0 + configuration.index
    times = np.full(settings["reps"], mean)
    return TimingResult(times_ms=times, compile_ms=2.0, requested_reps=settings["reps"], warmup=settings["warmup"])


def failing_timer(failing_keys):
    def timer(configuration, settings, device):
        if configuration.key in failing_keys:
            raise RuntimeError(f"RESOURCE_EXHAUSTED: out of memory for {configuration.values}")
        return stand_in_timer(configuration, settings, device)

    return timer


def measure(tmp_path, name="out.json", **options):
    options.setdefault("settings", {"reps": 3, "warmup": 0})
    options.setdefault("time_configuration", stand_in_timer)
    options.setdefault("progress", False)
    return measure_sweep(sweep_from_spec(SPEC), tmp_path / name, **options)


def result_keys(journal_path):
    lines = journal_path.read_text().splitlines()[1:]
    return [json.loads(line)["key"] for line in lines]


@pytest.fixture
def sweep():
    return sweep_from_spec(SPEC)


def test_output_loads_as_dataset(tmp_path, sweep):
    measure(tmp_path)
    dataset = load_dataset(tmp_path / "out.json")
    values = np.array([c.values for c in sweep.configurations], dtype=np.float64)
    np.testing.assert_array_equal(dataset.X, values)
    np.testing.assert_array_equal(dataset.y, 1.0 + np.arange(len(sweep)))
    assert dataset.kinds.tolist() == [c.kind for c in sweep.configurations]
    assert [plot.name for plot in dataset.plots] == ["growing_H", "batch"]


def test_output_hardware_record(tmp_path):
    measure(tmp_path)
    hardware = read_document(tmp_path / "out.json")["hardware"]
    for field in ("platform", "device_kind", "device_count", "jax_version", "jaxlib_version", "cpu_model",
                  "gpu_name", "driver", "dtype", "reps", "timing_mode", "date"):
        assert field in hardware
    assert hardware["platform"] == "cpu"
    assert hardware["reps"] == 3


def test_journal_keeps_raw_times(tmp_path):
    summary = measure(tmp_path)
    record = next(iter(read_journal(summary.journal).records.values()))
    assert record["timing"]["times_ms"] == [1.0, 1.0, 1.0]


def test_existing_journal_needs_resume(tmp_path):
    measure(tmp_path)
    with pytest.raises(ValueError, match="--resume"):
        measure(tmp_path)


def test_resume_measures_only_missing(tmp_path, sweep):
    journal = journal_path_for(tmp_path / "out.json")
    first = measure(tmp_path, shard=(1, 1))
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:5]))

    calls = []

    def counting_timer(configuration, settings, device):
        calls.append(configuration.key)
        return stand_in_timer(configuration, settings, device)

    second = measure(tmp_path, resume=True, time_configuration=counting_timer)
    assert first.total == second.total == len(sweep)
    assert calls == [c.key for c in sweep.configurations[4:]]
    assert sorted(result_keys(journal)) == sorted(c.key for c in sweep.configurations)


def test_resume_drops_torn_last_line(tmp_path, sweep):
    journal = journal_path_for(tmp_path / "out.json")
    measure(tmp_path)
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:4]) + lines[4][: len(lines[4]) // 2])

    assert read_journal(journal).dropped_tail
    measure(tmp_path, resume=True)
    assert result_keys(journal) == [c.key for c in sweep.configurations]


def test_resume_takes_settings_from_journal(tmp_path):
    measure(tmp_path, settings={"reps": 4, "warmup": 0})
    measure(tmp_path, resume=True, settings={})
    assert read_document(tmp_path / "out.json")["run"]["settings"]["reps"] == 4


def test_resume_rejects_other_settings(tmp_path):
    measure(tmp_path, settings={"reps": 4, "warmup": 0})
    with pytest.raises(ValueError, match="--reps 4, not 5"):
        measure(tmp_path, resume=True, settings={"reps": 5})


def test_resume_rejects_other_shard(tmp_path):
    measure(tmp_path, shard=(1, 2))
    with pytest.raises(ValueError, match="shard 1/2 but --shard gives 2/2"):
        measure(tmp_path, resume=True, shard=(2, 2))


def test_failure_recorded_and_run_continues(tmp_path, sweep):
    failing = {sweep.configurations[2].key}
    summary = measure(tmp_path, time_configuration=failing_timer(failing))
    assert summary.measured == len(sweep) - 1
    assert [failure["key"] for failure in summary.failures] == list(failing)
    assert "out of memory" in summary.failures[0]["error"]

    document = read_document(tmp_path / "out.json")
    assert [failure["key"] for failure in document["run"]["failures"]] == list(failing)
    assert len(load_dataset(tmp_path / "out.json")) == len(sweep) - 1


def test_failure_not_retried_by_default(tmp_path, sweep):
    failing = {sweep.configurations[2].key}
    measure(tmp_path, time_configuration=failing_timer(failing))
    summary = measure(tmp_path, resume=True)
    assert summary.measured_now == 0
    assert len(summary.failures) == 1


def test_failure_retried_on_request(tmp_path, sweep):
    failing = {sweep.configurations[2].key}
    measure(tmp_path, time_configuration=failing_timer(failing))
    summary = measure(tmp_path, resume=True, retry_failed=True)
    assert summary.measured_now == 1
    assert summary.failures == []
    assert summary.measured == len(sweep)


def test_sigint_stops_after_current_configuration(tmp_path, sweep):
    def interrupting_timer(configuration, settings, device):
        if configuration.index == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return stand_in_timer(configuration, settings, device)

    summary = measure(tmp_path, time_configuration=interrupting_timer)
    assert summary.stopped
    assert summary.measured == 3
    assert len(load_dataset(tmp_path / "out.json")) == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    resumed = measure(tmp_path, resume=True)
    assert resumed.measured == len(sweep)


def test_shard_output_has_shard_rows(tmp_path, sweep):
    measure(tmp_path, shard=(2, 3))
    document = read_document(tmp_path / "out.json")
    keys = [entry["key"] for entry in document["run"]["configurations"]]
    assert keys == [c.key for c in sweep.shard(2, 3)]
    assert document["name"].endswith("-shard2of3")


def test_merged_shards_equal_whole_sweep(tmp_path, sweep):
    whole = measure(tmp_path, "whole.json")
    parts = []
    for index in (1, 2, 3):
        measure(tmp_path, f"part{index}.json", shard=(index, 3))
        parts.append(tmp_path / f"part{index}.json")

    merged = merge_parts(list(reversed(parts)))
    write_document(merged, tmp_path / "merged.json")
    merged_set = load_dataset(tmp_path / "merged.json")
    whole_set = load_dataset(whole.output)
    np.testing.assert_array_equal(merged_set.X, whole_set.X)
    np.testing.assert_array_equal(merged_set.y, whole_set.y)
    np.testing.assert_array_equal(merged_set.line_index, whole_set.line_index)
    assert [entry["key"] for entry in merged["run"]["configurations"]] == [c.key for c in sweep.configurations]
    assert len(merged["run"]["parts"]) == 3
    assert merged["name"] == read_document(whole.output)["name"]


def test_merge_rejects_other_dtype(tmp_path):
    measure(tmp_path, "a.json", shard=(1, 2))
    measure(tmp_path, "b.json", shard=(2, 2), settings={"reps": 3, "warmup": 0, "dtype": "float16"})
    with pytest.raises(ValueError, match="its dtype is 'float16'"):
        merge_parts([tmp_path / "a.json", tmp_path / "b.json"])


def test_merge_rejects_other_sweep(tmp_path):
    measure(tmp_path, "a.json", shard=(1, 2))
    other = dict(SPEC, name="other")
    measure_sweep(sweep_from_spec(other), tmp_path / "b.json", settings={"reps": 3, "warmup": 0},
                  shard=(2, 2), time_configuration=stand_in_timer, progress=False)
    with pytest.raises(ValueError, match="its sweep is"):
        merge_parts([tmp_path / "a.json", tmp_path / "b.json"])


def test_merge_keeps_differing_reps_per_part(tmp_path):
    measure(tmp_path, "a.json", shard=(1, 2), settings={"reps": 3, "warmup": 0})
    measure(tmp_path, "b.json", shard=(2, 2), settings={"reps": 5, "warmup": 0})
    merged = merge_parts([tmp_path / "a.json", tmp_path / "b.json"])
    assert [part["reps"] for part in merged["run"]["parts"]] == [3, 5]
    assert "reps" not in merged["hardware"]


def test_merge_rejects_overlapping_parts(tmp_path):
    measure(tmp_path, "a.json", shard=(1, 2))
    with pytest.raises(ValueError, match="in both"):
        merge_parts([tmp_path / "a.json", tmp_path / "a.json"])


def test_merge_command_names_field(tmp_path, capsys):
    measure(tmp_path, "a.json", shard=(1, 2))
    measure(tmp_path, "b.json", shard=(2, 2), settings={"reps": 3, "warmup": 0, "dtype": "float16"})
    status = main(["merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out", str(tmp_path / "m.json")])
    assert status == 1
    assert "dtype" in capsys.readouterr().err


def test_measure_command_real_layers(tmp_path, capsys):
    spec_path = tmp_path / "tiny.json"
    spec_path.write_text(json.dumps(SPEC))
    out = tmp_path / "real.json"
    status = main(["measure", "--sweep", str(spec_path), "--out", str(out), "--reps", "3", "--warmup", "0",
                   "--shard", "13/13", "--no-progress"])
    assert status == 0
    assert "1 of 1 configurations measured" in capsys.readouterr().out
    assert len(load_dataset(out)) == 1


def wait_for_results(journal, count, process, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.exists() and len(journal.read_text().splitlines()) - 1 >= count:
            return
        if process.poll() is not None:
            pytest.fail(f"measure exited early with status {process.returncode}: {process.stderr.read()}")
        time.sleep(0.05)
    pytest.fail(f"measure wrote fewer than {count} results in {timeout} s")


@pytest.mark.slow
def test_sigkill_then_resume_measures_shard_once(tmp_path, sweep):
    spec_path = tmp_path / "tiny.json"
    spec_path.write_text(json.dumps(SPEC))
    out = tmp_path / "killed.json"
    command = [sys.executable, "-m", "alphaflops.cli", "measure", "--sweep", str(spec_path), "--out", str(out),
               "--reps", "200", "--warmup", "1", "--shard", "1/2", "--no-progress"]

    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = journal_path_for(out)
    wait_for_results(journal, 2, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_keys = result_keys(journal)
    assert 2 <= len(killed_keys) < len(sweep.shard(1, 2))

    # Only --out and --resume: the sweep, shard and settings come from the journal.
    resume_command = [sys.executable, "-m", "alphaflops.cli", "measure", "--out", str(out), "--resume", "--no-progress"]
    finished = subprocess.run(resume_command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    expected = [c.key for c in sweep.shard(1, 2)]
    assert result_keys(journal) == expected
    document = read_document(out)
    assert [entry["key"] for entry in document["run"]["configurations"]] == expected
    assert len(load_dataset(out)) == len(expected)


@pytest.fixture(scope="module")
def finished_journal(tmp_path_factory):
    folder = tmp_path_factory.mktemp("journal")
    summary = measure_sweep(sweep_from_spec(SPEC), folder / "out.json", settings={"reps": 2, "warmup": 0},
                            time_configuration=stand_in_timer, progress=False)
    return summary.journal.read_bytes()


@hypothesis_settings(max_examples=60, deadline=None)
@given(fraction=st.floats(min_value=0.0, max_value=1.0))
def test_truncated_journal_reads_prefix(tmp_path_factory, finished_journal, fraction):
    path = tmp_path_factory.mktemp("cut") / "cut.jsonl"
    cut = int(len(finished_journal) * fraction)
    path.write_bytes(finished_journal[:cut])

    contents = read_journal(path)
    complete_lines = finished_journal[:cut].count(b"\n")
    assert len(contents.records) == max(complete_lines - 1, 0)
    assert contents.valid_bytes == finished_journal[:cut].rfind(b"\n") + 1
    assert (contents.header is None) == (complete_lines == 0)
