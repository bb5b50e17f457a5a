"""Tests of the measure and merge commands: option checks, output protection, resuming and messages."""

import json
import logging

import pytest
from test_runs import SPEC, failing_timer, stand_in_timer

from alphaflops.cli import main
from alphaflops.commands import measure as measure_command
from alphaflops.harness.journal import read_journal
from alphaflops.harness.output import read_document
from alphaflops.harness.runs import journal_path_for, measure_sweep
from alphaflops.harness.sweeps import load_sweep, sweep_from_spec


@pytest.fixture
def sweep():
    return sweep_from_spec(SPEC)


@pytest.fixture
def spec_path(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(SPEC))
    return path


def measure(path, **options):
    options.setdefault("settings", {"reps": 3, "warmup": 0})
    options.setdefault("time_configuration", stand_in_timer)
    options.setdefault("progress", False)
    sweep = options.pop("sweep", sweep_from_spec(SPEC))
    return measure_sweep(sweep, path, **options)


def shard_part(tmp_path, index, count):
    path = tmp_path / f"part{index}.json"
    measure(path, shard=(index, count))
    return path


# Existing output files.


def test_measure_rejects_existing_foreign_file(tmp_path, spec_path, capsys):
    out = tmp_path / "data.json"
    out.write_text('{"keep": true}\n')
    status = main(["measure", "--sweep", str(spec_path), "--out", str(out), "--reps", "1", "--no-progress"])
    error = capsys.readouterr().err
    assert status == 1
    assert out.read_text() == '{"keep": true}\n'
    assert str(out) in error
    assert "--force" in error
    assert "--resume" in error
    assert not journal_path_for(out).exists()


def test_measure_force_replaces_existing_file(tmp_path):
    out = tmp_path / "data.json"
    out.write_text('{"keep": true}\n')
    measure(out, force=True)
    assert read_document(out)["run"]["measured"] == len(sweep_from_spec(SPEC))


def test_resume_rejects_foreign_output(tmp_path):
    out = tmp_path / "out.json"
    measure(out)
    out.write_text('{"other": "data"}\n')
    with pytest.raises(ValueError, match="not the output of this run"):
        measure(out, resume=True)
    assert out.read_text() == '{"other": "data"}\n'


def test_resume_replaces_own_output(tmp_path, sweep):
    out = tmp_path / "out.json"
    measure(out, shard=(1, 2))
    summary = measure(out, resume=True)
    assert summary.measured == len(sweep.shard(1, 2))


def test_merge_rejects_out_among_parts(tmp_path):
    first, second = shard_part(tmp_path, 1, 2), shard_part(tmp_path, 2, 2)
    before = first.read_bytes()
    status = main(["merge", "--out", str(first), "--force", str(first), str(first), str(second)])
    assert status == 1
    assert first.read_bytes() == before


def test_merge_rejects_existing_out(tmp_path, capsys):
    first, second = shard_part(tmp_path, 1, 2), shard_part(tmp_path, 2, 2)
    out = tmp_path / "merged.json"
    out.write_text("keep\n")
    status = main(["merge", "--out", str(out), str(first), str(second)])
    assert status == 1
    assert out.read_text() == "keep\n"
    assert "--force" in capsys.readouterr().err
    assert main(["merge", "--out", str(out), "--force", str(first), str(second)]) == 0
    assert read_document(out)["run"]["missing"] == 0


# Option checks before measuring.


@pytest.mark.parametrize(
    "option",
    [
        ["--reps", "0"],
        ["--reps", "-3"],
        ["--warmup", "-1"],
        ["--max-seconds", "0"],
        ["--max-seconds", "nan"],
        ["--max-seconds", "inf"],
        ["--dtype", "float99"],
        ["--dtype", "int8"],
        ["--dtype", "float64"],
    ],
)
def test_measure_rejects_invalid_option(tmp_path, spec_path, capsys, option):
    out = tmp_path / "out.json"
    status = main(["measure", "--sweep", str(spec_path), "--out", str(out), "--no-progress", *option])
    error = capsys.readouterr().err
    assert status == 1
    assert option[0] in error
    assert len(error.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == [spec_path]


def test_retry_failed_needs_resume(tmp_path):
    with pytest.raises(ValueError, match="--retry-failed"):
        measure(tmp_path / "out.json", retry_failed=True)


def test_exit_status_all_failed(tmp_path, sweep):
    every_key = {configuration.key for configuration in sweep.configurations}
    summary = measure(tmp_path / "out.json", time_configuration=failing_timer(every_key))
    assert measure_command._exit_status(summary) == measure_command.EXIT_ALL_FAILED


def test_exit_status_some_failed(tmp_path, sweep):
    summary = measure(tmp_path / "out.json", time_configuration=failing_timer({sweep.configurations[1].key}))
    assert measure_command._exit_status(summary) == measure_command.EXIT_SOME_FAILED


def test_exit_statuses_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["measure", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"{measure_command.EXIT_SOME_FAILED} when some configurations failed" in help_text
    assert f"{measure_command.EXIT_ALL_FAILED} when every configuration failed" in help_text


# Resuming takes the sweep and shard from the journal.


def test_resume_takes_sweep_and_shard_from_journal(tmp_path, sweep):
    out = tmp_path / "out.json"
    journal = journal_path_for(out)
    measure(out, shard=(1, 2))
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:3]))

    summary = measure(out, sweep=None, resume=True, settings={})
    document = read_document(out)
    assert summary.total == len(sweep.shard(1, 2))
    assert summary.measured_now == len(sweep.shard(1, 2)) - 2
    assert document["run"]["sweep"]["name"] == "tiny"
    assert document["run"]["shard"] == [1, 2]


def test_resume_names_both_sweeps(tmp_path):
    out = tmp_path / "out.json"
    measure(out, shard=(1, 2))
    with pytest.raises(ValueError, match="sweep 'tiny'.*--sweep gives 'paper'"):
        measure(out, sweep=load_sweep("paper"), resume=True)


# A damaged line in the middle of the journal.


def test_damaged_line_remeasured_only(tmp_path, sweep, caplog):
    out = tmp_path / "out.json"
    journal = journal_path_for(out)
    measure(out)
    lines = journal.read_bytes().splitlines(keepends=True)
    damaged_key = json.loads(lines[3])["key"]
    lines[3] = b'{"type": "result", "key": "0.0\xff\n'
    journal.write_bytes(b"".join(lines))

    calls = []

    def counting_timer(configuration, settings, device):
        calls.append(configuration.key)
        return stand_in_timer(configuration, settings, device)

    with caplog.at_level(logging.WARNING, logger="alphaflops.harness"):
        summary = measure(out, resume=True, time_configuration=counting_timer)
    assert calls == [damaged_key]
    assert "line(s) 4" in caplog.text
    assert summary.measured == len(sweep)
    assert journal.read_bytes().startswith(b"".join(lines))


def test_damaged_line_keeps_other_records(tmp_path, sweep):
    out = tmp_path / "out.json"
    journal = journal_path_for(out)
    measure(out)
    lines = journal.read_text().splitlines(keepends=True)
    lines[2] = "not json\n"
    journal.write_text("".join(lines))

    contents = read_journal(journal)
    assert contents.skipped_lines == [3]
    assert len(contents.records) == len(sweep) - 1
    assert not contents.dropped_tail


# Messages name the path instead of a raw OS error.


def test_merge_missing_part_message(tmp_path, capsys):
    first = shard_part(tmp_path, 1, 2)
    missing = tmp_path / "nope.json"
    status = main(["merge", "--out", str(tmp_path / "m.json"), str(first), str(missing)])
    error = capsys.readouterr().err
    assert status == 1
    assert f"{missing} not found" in error
    assert "Errno" not in error


def test_measure_out_under_file_message(tmp_path, spec_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    status = main(["measure", "--sweep", str(spec_path), "--out", str(blocker / "x.json"), "--reps", "1",
                   "--no-progress"])
    error = capsys.readouterr().err
    assert status == 1
    assert f"{blocker} is a file, not a folder" in error
    assert "Errno" not in error


# Ignored or incomplete input is reported.


def test_resume_without_journal_warns(tmp_path, spec_path, capsys):
    out = tmp_path / "out.json"
    status = main(["measure", "--sweep", str(spec_path), "--out", str(out), "--reps", "2", "--warmup", "0",
                   "--shard", "13/13", "--resume", "--no-progress"])
    error = capsys.readouterr().err
    assert status == 0
    assert "no journal found" in error
    assert "a new run starts" in error


def test_merge_partial_rejected(tmp_path, sweep, capsys):
    first = shard_part(tmp_path, 1, 2)
    out = tmp_path / "m.json"
    status = main(["merge", "--out", str(out), str(first)])
    error = capsys.readouterr().err
    assert status == 3
    assert f"{len(sweep) - len(sweep.shard(1, 2))} of {len(sweep)} configurations" in error
    assert not out.exists()


def test_merge_partial_allowed_warns(tmp_path, sweep, capsys):
    first = shard_part(tmp_path, 1, 2)
    out = tmp_path / "m.json"
    status = main(["merge", "--out", str(out), "--allow-partial", str(first)])
    missing = len(sweep) - len(sweep.shard(1, 2))
    assert status == 0
    assert f"{missing} configurations of the sweep are missing" in capsys.readouterr().err
    assert read_document(out)["run"]["missing"] == missing
