"""Measure a sweep (or one shard of it) resumably, with a per-configuration journal.

``measure_sweep`` times each configuration with ``time_layer`` and appends
its result to a journal as soon as it is measured (see
``alphaflops.harness.journal``), then writes the dataset JSON. With
``resume=True`` it reads the journal and measures only the configurations
that have no record yet, so a stopped or killed run continues where it was
and no configuration appears twice.
"""

import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from alphaflops.harness.journal import JOURNAL_FORMAT, JOURNAL_VERSION, Journal, read_journal
from alphaflops.harness.machine import hardware_record, select_device, utc_now
from alphaflops.harness.output import build_document, configuration_entry, write_document
from alphaflops.harness.timing import TIMING_MODE, time_layer

#: Settings that a resumed run takes from its journal, with their defaults for a new run.
DEFAULT_SETTINGS = {"reps": 2000, "warmup": 10, "max_seconds": None, "dtype": "float32", "seed": 0}

#: Hardware fields that must not change between the sessions of one run.
RESUME_HARDWARE_FIELDS = ("platform", "device_kind", "jax_version", "timing_mode")


@dataclass
class RunSummary:
    """Outcome of one call of ``measure_sweep``.

    Attributes
    ----------
    output : Path
        The dataset file written.
    journal : Path
        The journal with every record, raw repetition times included.
    total : int
        Configurations in the shard.
    measured_now : int
        Configurations measured (or failed) in this call.
    measured : int
        Configurations with a successful measurement, this call and before.
    failures : list of dict
        ``{"key", "values", "error"}`` of each failed configuration.
    stopped : bool
        True when a stop request (Ctrl-C) ended the run before the last configuration.
    """

    output: Path
    journal: Path
    total: int
    measured_now: int = 0
    measured: int = 0
    failures: list = field(default_factory=list)
    stopped: bool = False

    @property
    def missing(self):
        """Configurations of the shard with no record yet."""
        return self.total - self.measured - len(self.failures)


class StopRequest:
    """SIGINT handler that requests a stop after the current configuration.

    A second SIGINT raises KeyboardInterrupt at once.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:
            # signal.signal only works in the main thread; elsewhere Ctrl-C
            # keeps its default behaviour.
            self._previous = None
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(
            "\nalphaflops measure: stopping after the current configuration; press Ctrl-C again to stop now",
            file=sys.stderr,
        )

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def journal_path_for(output):
    """Return the default journal path of a dataset file: ``<output>.journal.jsonl``."""
    output = Path(output)
    return output.with_name(output.name + ".journal.jsonl")


def default_dataset_name(sweep, hardware, shard):
    """Return "<sweep>-<device slug>" plus "-shardIofN" for a shard."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(hardware.get("name") or hardware.get("device_kind")).lower()).strip("-")
    name = f"{sweep.name}-{hardware['platform']}-{slug}"
    if shard is not None and shard[1] > 1:
        name += f"-shard{shard[0]}of{shard[1]}"
    return name


def measure_sweep(
    sweep,
    output,
    settings=None,
    shard=(1, 1),
    resume=False,
    retry_failed=False,
    device=None,
    journal_path=None,
    name=None,
    progress=True,
    time_configuration=None,
):
    """Measure the configurations of one shard of ``sweep`` and write the dataset JSON.

    Parameters
    ----------
    sweep : Sweep
    output : path-like
        Dataset JSON file to write (atomically, at the end or when stopped).
    settings : dict, optional
        ``reps``, ``warmup``, ``max_seconds``, ``dtype`` and ``seed`` (see
        ``time_layer``). Missing keys come from the journal when resuming,
        else from ``DEFAULT_SETTINGS``.
    shard : (int, int), default (1, 1)
        I and N: measure configurations I-1, I-1+N, I-1+2N, ... of the sweep.
    resume : bool, default False
        Continue the run recorded in the journal. Without it an existing
        journal is an error, so that no measurement is overwritten.
    retry_failed : bool, default False
        When resuming, measure recorded failures again.
    device : jax.Device or str, optional
        Device or platform name; default JAX's default device.
    journal_path : path-like, optional
        Default ``<output>.journal.jsonl``.
    name : str, optional
        Dataset name; default from the sweep, device and shard.
    progress : bool, default True
        Show a tqdm progress bar with the estimated time left on stderr.
    time_configuration : callable, optional
        ``f(configuration, settings, device) -> TimingResult``; default times
        ``configuration.layer()`` with ``time_layer``. Tests replace it.

    Returns
    -------
    RunSummary

    Raises
    ------
    ValueError
        If the journal exists without ``resume``, or belongs to another
        sweep, shard, device or settings (the message names the field).
    """
    output = Path(output)
    journal_path = Path(journal_path) if journal_path else journal_path_for(output)
    device = device if device is not None and not isinstance(device, str) else select_device(device)
    configurations = sweep.shard(*shard)
    contents = read_journal(journal_path)

    if contents.header is not None and not resume:
        raise ValueError(
            f"{journal_path} already contains measurements; add --resume to continue that run, "
            "or choose another --out file"
        )
    settings = _resolve_settings(settings or {}, contents.header, journal_path)
    header = _new_header(sweep, shard, settings, device)
    if contents.header is not None:
        _check_resumable(contents.header, header, journal_path)
        header = contents.header

    records = contents.records
    if retry_failed:
        records = {key: record for key, record in records.items() if record["status"] == "ok"}
    pending = [configuration for configuration in configurations if configuration.key not in records]
    timer = time_configuration or _time_with_layer
    summary = RunSummary(output=output, journal=journal_path, total=len(configurations))

    with Journal.open(journal_path, header, contents.valid_bytes) as journal, StopRequest() as stop:
        bar = _progress_bar(progress, len(configurations), len(configurations) - len(pending))
        try:
            for configuration in pending:
                if stop.requested:
                    summary.stopped = True
                    break
                record = _measure_one(configuration, settings, device, timer)
                journal.append(record)
                records[configuration.key] = record
                summary.measured_now += 1
                _update_bar(bar, configuration, record)
        finally:
            if bar is not None:
                bar.close()

    shard_keys = {configuration.key for configuration in configurations}
    entries = [configuration_entry(record) for key, record in records.items() if key in shard_keys]
    summary.measured = sum(entry["status"] == "ok" for entry in entries)
    summary.failures = [
        {"key": entry["key"], "values": entry["values"], "error": entry["error"]}
        for entry in entries
        if entry["status"] != "ok"
    ]
    run = _run_metadata(header, sweep, records, shard_keys, journal_path)
    dataset_name = name or default_dataset_name(sweep, header["hardware"], tuple(header["shard"]))
    write_document(build_document(sweep, dataset_name, header["hardware"], run, entries), output)
    return summary


def _resolve_settings(given, header, journal_path):
    recorded = header["settings"] if header is not None else {}
    settings = {}
    for key, default in DEFAULT_SETTINGS.items():
        value = given.get(key)
        if value is None:
            value = recorded.get(key, default)
        elif header is not None and key in recorded and recorded[key] != value:
            raise ValueError(
                f"{journal_path} was measured with {key} = {recorded[key]!r}, not {value!r}; "
                f"resume without --{key.replace('_', '-')} or measure into another --out file"
            )
        settings[key] = value
    return settings


def _new_header(sweep, shard, settings, device):
    hardware = hardware_record(
        device,
        dtype=settings["dtype"],
        reps=settings["reps"],
        warmup=settings["warmup"],
        max_seconds=settings["max_seconds"],
        timing_mode=TIMING_MODE,
    )
    return {
        "type": "header",
        "format": JOURNAL_FORMAT,
        "version": JOURNAL_VERSION,
        "sweep": {"name": sweep.name, "fingerprint": sweep.fingerprint, "spec": sweep.spec},
        "shard": list(shard),
        "settings": settings,
        "hardware": hardware,
        "started": utc_now(),
    }


def _check_resumable(recorded, current, journal_path):
    checks = [
        ("sweep", recorded["sweep"]["fingerprint"], current["sweep"]["fingerprint"]),
        ("shard", list(recorded["shard"]), list(current["shard"])),
    ]
    for key in RESUME_HARDWARE_FIELDS:
        checks.append((key, recorded["hardware"].get(key), current["hardware"].get(key)))

    for field_name, before, now in checks:
        if before != now:
            raise ValueError(
                f"cannot resume {journal_path}: its {field_name} is {before!r} but this run has {now!r}; "
                "resume with the same sweep, shard and device, or measure into another --out file"
            )


def _time_with_layer(configuration, settings, device):
    return time_layer(
        configuration.layer(),
        reps=settings["reps"],
        warmup=settings["warmup"],
        dtype=settings["dtype"],
        device=device,
        max_seconds=settings["max_seconds"],
        seed=settings["seed"],
    )


def _measure_one(configuration, settings, device, timer):
    record = {
        "type": "result",
        "key": configuration.key,
        "index": configuration.index,
        "plot": configuration.plot,
        "line": configuration.line,
        "row": configuration.row,
        "kind": configuration.kind,
        "values": list(configuration.values),
    }
    start = time.perf_counter()
    try:
        result = timer(configuration, settings, device)
    except Exception as error:  # noqa: BLE001 - any XLA or memory error of one layer must not stop the sweep
        record["status"] = "failed"
        record["error"] = f"{type(error).__name__}: {error}".strip()[:2000]
    else:
        record["status"] = "ok"
        record["timing"] = result.summary(include_times=True)
    record["wall_seconds"] = time.perf_counter() - start
    record["date"] = utc_now()
    return record


def _run_metadata(header, sweep, records, shard_keys, journal_path):
    shard_records = [record for key, record in records.items() if key in shard_keys]
    dates = [record["date"] for record in shard_records if record.get("date")]
    return {
        "tool": "alphaflops measure",
        "sweep": header["sweep"],
        "shard": header["shard"] if header["shard"][1] > 1 else None,
        "settings": header["settings"],
        "timing_mode": TIMING_MODE,
        "started": header["started"],
        "finished": max(dates) if dates else None,
        "wall_seconds": sum(record.get("wall_seconds", 0.0) for record in shard_records),
        "complete": len(shard_records) == len(shard_keys)
        and all(record["status"] == "ok" for record in shard_records),
        "journal": journal_path.name,
    }


def _progress_bar(enabled, total, done):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="layer", dynamic_ncols=True, file=sys.stderr)


def _update_bar(bar, configuration, record):
    if bar is None:
        return
    if record["status"] == "ok":
        status = f"{record['timing']['mean_ms']:.3g} ms"
    else:
        status = "failed"
    bar.set_postfix_str(f"{configuration.key} {configuration.values} {status}", refresh=False)
    bar.update(1)
