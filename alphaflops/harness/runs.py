"""Measure a sweep (or one shard of it) resumably, with a per-configuration journal.

``measure_sweep`` times each configuration with ``time_layer`` and appends
its result to a journal as soon as it is measured (see
``alphaflops.harness.journal``), then writes the dataset JSON. With
``resume=True`` it reads the journal and measures only the configurations
that have no record yet, so a stopped or killed run continues where it was
and no configuration appears twice.
"""

import json
import logging
import math
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from alphaflops.harness.journal import JOURNAL_FORMAT, JOURNAL_VERSION, Journal, read_journal
from alphaflops.harness.machine import hardware_record, select_device, utc_now
from alphaflops.harness.output import build_document, configuration_entry, prepare_folder, write_document
from alphaflops.harness.sweeps import check_shard, load_sweep, sweep_from_spec
from alphaflops.harness.timing import TIMING_MODE, time_layer

logger = logging.getLogger(__name__)

#: Sweep that a new run measures when none is given.
DEFAULT_SWEEP = "paper"

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
    sweep=None,
    output=None,
    settings=None,
    shard=None,
    resume=False,
    retry_failed=False,
    device=None,
    journal_path=None,
    name=None,
    progress=True,
    time_configuration=None,
    force=False,
):
    """Measure the configurations of one shard of ``sweep`` and write the dataset JSON.

    Parameters
    ----------
    sweep : Sweep, optional
        Default: the journal's sweep when resuming, else the "paper" sweep.
    output : path-like
        Dataset JSON file to write (atomically, at the end or when stopped).
        An existing file is replaced only when it is this run's own output
        being resumed, or with ``force``.
    settings : dict, optional
        ``reps``, ``warmup``, ``max_seconds``, ``dtype`` and ``seed`` (see
        ``time_layer``). Missing keys come from the journal when resuming,
        else from ``DEFAULT_SETTINGS``.
    shard : (int, int), optional
        I and N: measure configurations I-1, I-1+N, I-1+2N, ... of the
        sweep. Default: the journal's shard when resuming, else (1, 1).
    resume : bool, default False
        Continue the run recorded in the journal. Without it an existing
        journal is an error, so that no measurement is overwritten. With it
        and no journal, a new run starts and a warning is logged.
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
    force : bool, default False
        Replace an existing ``output`` that is not this run's own output.
        Journals are never replaced.

    Returns
    -------
    RunSummary

    Raises
    ------
    ValueError
        If a setting is invalid, the output exists (see ``force``), the
        journal exists without ``resume``, or the journal belongs to another
        sweep, shard, device or settings (the message names the option and
        both values). Every check runs before any file is written.
    """
    if output is None:
        raise ValueError("measure_sweep needs an output path")
    output = Path(output)
    journal_path = Path(journal_path) if journal_path else journal_path_for(output)
    check_settings(settings or {})
    _check_paths(output, journal_path, retry_failed, resume)

    contents = read_journal(journal_path)
    recorded = contents.header
    if recorded is not None and not resume:
        raise ValueError(
            f"{journal_path} already contains measurements; pass --resume to continue that run, "
            "or choose another --out file (--force never replaces a journal)"
        )
    if resume and recorded is None:
        logger.warning("no journal found at %s, so a new run starts", journal_path)

    sweep = _resolve_sweep(sweep, recorded, journal_path)
    shard = _resolve_shard(shard, recorded, journal_path)
    settings = _resolve_settings(settings or {}, recorded, journal_path)
    check_settings(settings)
    _check_output(output, recorded, journal_path, force)

    device = device if device is not None and not isinstance(device, str) else select_device(device)
    header = _new_header(sweep, shard, settings, device)
    if recorded is not None:
        _check_resumable(recorded, header, journal_path)
        header = recorded
    if contents.skipped_lines:
        logger.warning(
            "%s: skipped damaged line(s) %s; their configurations are measured again",
            journal_path,
            ", ".join(str(number) for number in contents.skipped_lines),
        )

    prepare_folder(output)
    prepare_folder(journal_path)
    return _run(sweep, shard, settings, header, contents, output, journal_path, device,
                retry_failed, name, progress, time_configuration or _time_with_layer)


def _run(sweep, shard, settings, header, contents, output, journal_path, device,
         retry_failed, name, progress, timer):
    configurations = sweep.shard(*shard)
    records = contents.records
    if retry_failed:
        records = {key: record for key, record in records.items() if record["status"] == "ok"}
    pending = [configuration for configuration in configurations if configuration.key not in records]
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


def check_settings(settings):
    """Raise ValueError unless every given timing setting is valid.

    Parameters
    ----------
    settings : dict
        Any of ``reps`` (integer >= 1), ``warmup`` (integer >= 0),
        ``max_seconds`` (finite number > 0), ``dtype`` (a floating-point
        type JAX can create) and ``seed`` (integer). None means not given.
    """
    reps, warmup = settings.get("reps"), settings.get("warmup")
    if reps is not None and (not _is_integer(reps) or reps < 1):
        raise ValueError(f"invalid --reps {reps!r}: expected an integer of at least 1")
    if warmup is not None and (not _is_integer(warmup) or warmup < 0):
        raise ValueError(f"invalid --warmup {warmup!r}: expected an integer of at least 0")
    seed = settings.get("seed")
    if seed is not None and not _is_integer(seed):
        raise ValueError(f"invalid seed {seed!r}: expected an integer")

    max_seconds = settings.get("max_seconds")
    if max_seconds is not None and (
        isinstance(max_seconds, bool)
        or not isinstance(max_seconds, (int, float))
        or not (math.isfinite(max_seconds) and max_seconds > 0)
    ):
        raise ValueError(f"invalid --max-seconds {max_seconds!r}: expected a finite number of seconds above 0")
    if settings.get("dtype") is not None:
        _check_dtype(settings["dtype"])


def _is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_dtype(name):
    import jax
    import jax.numpy as jnp

    try:
        dtype = jnp.dtype(name)
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(
            f"invalid --dtype {name!r}: expected a floating-point type such as float32, float16 or bfloat16"
        )
    if dtype.itemsize == 8 and not jax.config.read("jax_enable_x64"):
        raise ValueError(f"--dtype {name} needs 64-bit JAX, which is off; set JAX_ENABLE_X64=1 or use float32")


def _check_paths(output, journal_path, retry_failed, resume):
    if retry_failed and not resume:
        raise ValueError("--retry-failed only applies with --resume")
    if output.resolve() == journal_path.resolve():
        raise ValueError(f"--out and --journal are both {output}; give them different files")
    if output.is_dir():
        raise ValueError(f"--out {output} is a folder; give the path of a dataset JSON file")


def _check_output(output, recorded, journal_path, force):
    if force or not output.exists():
        return
    if recorded is not None and _is_own_output(output, recorded, journal_path):
        return
    raise ValueError(
        f"{output} already exists and is not the output of this run; pass --resume to continue "
        "the run that wrote it, choose another --out, or pass --force to replace it"
    )


def _is_own_output(output, recorded, journal_path):
    try:
        document = json.loads(output.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    run = document.get("run") if isinstance(document, dict) else None
    if not isinstance(run, dict) or not isinstance(run.get("sweep"), dict):
        return False
    return (
        run.get("journal") == journal_path.name
        and run.get("started") == recorded.get("started")
        and run["sweep"].get("fingerprint") == recorded["sweep"]["fingerprint"]
    )


def _resolve_sweep(sweep, recorded, journal_path):
    if recorded is None:
        return sweep if sweep is not None else load_sweep(DEFAULT_SWEEP)

    journal_sweep = sweep_from_spec(recorded["sweep"]["spec"], source=f"sweep recorded in {journal_path}")
    if sweep is None:
        return journal_sweep
    if sweep.fingerprint != journal_sweep.fingerprint:
        raise ValueError(
            f"cannot resume {journal_path}: it measured sweep {_describe_sweep(journal_sweep)} "
            f"but --sweep gives {_describe_sweep(sweep)}; resume without --sweep or choose another --out"
        )
    return sweep


def _describe_sweep(sweep):
    return f"{sweep.name!r} ({len(sweep)} configurations, fingerprint {sweep.fingerprint[:12]})"


def _resolve_shard(shard, recorded, journal_path):
    if recorded is None:
        shard = tuple(shard) if shard is not None else (1, 1)
        check_shard(*shard)
        return shard

    journal_shard = tuple(recorded["shard"])
    if shard is None:
        return journal_shard
    check_shard(*shard)
    if tuple(shard) != journal_shard:
        raise ValueError(
            f"cannot resume {journal_path}: it measured shard {journal_shard[0]}/{journal_shard[1]} "
            f"but --shard gives {shard[0]}/{shard[1]}; resume without --shard or choose another --out"
        )
    return journal_shard


def _resolve_settings(given, header, journal_path):
    recorded = header["settings"] if header is not None else {}
    settings = {}
    for key, default in DEFAULT_SETTINGS.items():
        value = given.get(key)
        if value is None:
            value = recorded.get(key, default)
        elif header is not None and key in recorded and recorded[key] != value:
            raise ValueError(
                f"cannot resume {journal_path}: it was measured with --{key.replace('_', '-')} "
                f"{recorded[key]!r}, not {value!r}; resume without --{key.replace('_', '-')} "
                "or choose another --out"
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
    # The sweep, shard and settings are checked when they are resolved; this
    # leaves the machine, which must not change within one run.
    for key in RESUME_HARDWARE_FIELDS:
        before, now = recorded["hardware"].get(key), current["hardware"].get(key)
        if before != now:
            raise ValueError(
                f"cannot resume {journal_path}: its {key} is {before!r} but this run has {now!r}; "
                "resume on the same device and JAX version (see --device), or choose another --out"
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
