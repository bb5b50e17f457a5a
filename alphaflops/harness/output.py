"""Turn measurement records into the project's dataset JSON, and merge shards.

A measured dataset keeps the sweep's plots, lines and rows. Rows that were
not measured (other shards, failures, a stopped run) are left out, and a
line or plot with no measured rows is left out as a whole, because the
dataset format needs at least one row per line. ``run["configurations"]``
lists every measured or failed configuration with its sweep position, so
the plot, line and row of each dataset row stay known even then.
"""

import json
import os
from pathlib import Path

from alphaflops.harness.sweeps import sweep_from_spec

DATASET_FORMAT = "alphaflops-dataset"
DATASET_VERSION = 1

#: Fields that must be equal in every shard that ``merge_parts`` joins.
MERGE_FIELDS = ("sweep", "platform", "device_kind", "dtype", "jax_version", "timing_mode")

#: Per-part fields that may differ between shards; merged runs keep them per part.
PER_PART_FIELDS = ("date", "reps", "warmup", "max_seconds", "command")


def configuration_entry(record):
    """Return the summary of one journal record that goes into ``run["configurations"]``."""
    entry = {
        "key": record["key"],
        "index": record["index"],
        "plot": record["plot"],
        "line": record["line"],
        "row": record["row"],
        "kind": record["kind"],
        "values": record["values"],
        "status": record["status"],
        "date": record.get("date"),
    }
    if record["status"] == "ok":
        timing = dict(record["timing"])
        timing.pop("times_ms", None)
        entry.update(timing)
    else:
        entry["error"] = record.get("error")
    return entry


def build_document(sweep, name, hardware, run, entries):
    """Build the dataset JSON document for measured configuration entries.

    Parameters
    ----------
    sweep : Sweep
    name : str
        Dataset name.
    hardware : dict
        Hardware record (see ``alphaflops.harness.machine.hardware_record``).
    run : dict
        Run metadata; ``configurations``, ``failures`` and the counts are added.
    entries : iterable of dict
        Configuration entries (``configuration_entry``), in any order.

    Returns
    -------
    dict
        The document, with rows in sweep order.
    """
    entries = sorted(entries, key=lambda entry: entry["index"])
    measured = {entry["key"]: entry for entry in entries if entry["status"] == "ok"}
    failures = [entry for entry in entries if entry["status"] != "ok"]

    plots = []
    for plot_index, plot in enumerate(sweep.plots):
        lines = []
        for line_index, kind in enumerate(plot.line_kinds):
            rows = [
                [*configuration.values, measured[configuration.key]["mean_ms"]]
                for configuration in sweep.configurations
                if (configuration.plot, configuration.line) == (plot_index, line_index) and configuration.key in measured
            ]
            if rows:
                lines.append({"kind": kind, "rows": rows})
        if lines:
            plots.append(_plot_document(plot, lines, hardware))

    run = dict(run)
    run["configurations"] = entries
    run["failures"] = [{"key": entry["key"], "values": entry["values"], "error": entry["error"]} for entry in failures]
    run["measured"] = len(measured)
    run["sweep_size"] = len(sweep)
    run["missing"] = len(sweep) - len(entries)
    return {
        "format": DATASET_FORMAT,
        "version": DATASET_VERSION,
        "name": name,
        "hardware": hardware,
        "run": run,
        "plots": plots,
        "table": None,
    }


def _plot_document(plot, lines, hardware):
    return {
        "name": plot.name,
        "axis": plot.axis,
        "x_label": plot.x_label,
        "ylim": plot.ylim,
        "annotations": [list(annotation) for annotation in plot.annotations],
        "hardware": hardware,
        "lines": lines,
    }


def write_document(document, path):
    """Write ``document`` to ``path`` atomically (a temporary file, then ``os.replace``).

    A failed write leaves ``path`` as it was and removes the temporary file.

    Raises
    ------
    OSError
        If the folder cannot be created or the file cannot be written; the
        message names the path.
    """
    path = Path(path)
    prepare_folder(path)
    text = json.dumps(document, indent=1, allow_nan=False, ensure_ascii=False) + "\n"
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as output:
            output.write(text)
            output.flush()
            os.fsync(output.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OSError(f"cannot write {path}: {error.strerror or error}; choose another --out") from None


def prepare_folder(path):
    """Create the folder of output file ``path`` if it is missing.

    Raises
    ------
    OSError
        If a part of the folder path is a file, or the folder cannot be
        created; the message names the path and what to do.
    """
    folder = Path(path).parent
    for ancestor in (folder, *folder.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise OSError(f"cannot write {path}: {ancestor} is a file, not a folder; choose another --out")
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(
            f"cannot create folder {folder} for {path}: {error.strerror or error}; choose another --out"
        ) from None


def read_document(path):
    """Read a measured dataset document written by ``alphaflops measure``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    OSError
        If the file cannot be read.
    ValueError
        If the file is not JSON, not an alphaflops dataset, or has no
        measurement run (``run["sweep"]``) to merge.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} not found; check the path of each part") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a JSON file (it is not UTF-8 text)") from None
    except IsADirectoryError:
        raise OSError(f"{path} is a folder; give the dataset files written by 'alphaflops measure'") from None
    except OSError as error:
        raise OSError(f"cannot read {path}: {error.strerror or error}") from None

    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not a JSON file: {error}") from None
    if not isinstance(document, dict) or document.get("format") != DATASET_FORMAT:
        raise ValueError(f"{path} is not an alphaflops dataset file")
    run = document.get("run") or {}
    if "sweep" not in run or "configurations" not in run:
        raise ValueError(f"{path} was not written by 'alphaflops measure' (no run.sweep); it cannot be merged")
    return document


def merge_field(document, field):
    """Return the value of a ``MERGE_FIELDS`` field of a measured document."""
    if field == "sweep":
        return document["run"]["sweep"]["fingerprint"]
    return document.get("hardware", {}).get(field)


def merge_parts(paths, name=None):
    """Join measured shards into one dataset document, in sweep order.

    Parameters
    ----------
    paths : sequence of path-like
        Dataset files written by ``alphaflops measure`` for shards of one sweep.
    name : str, optional
        Name of the merged dataset; defaults to the first part's name
        without its shard suffix.

    Returns
    -------
    dict
        The merged document. ``run["parts"]`` keeps each part's file, shard
        and ``PER_PART_FIELDS``.

    Raises
    ------
    ValueError
        If a part's sweep, platform, device kind, dtype, jax version or
        timing mode differs from the first part's (the message names the
        field and both values), or two parts measured the same configuration.
    """
    if not paths:
        raise ValueError("merge needs at least one dataset file")
    documents = [read_document(path) for path in paths]
    first = documents[0]
    _check_same_fields(documents, paths)

    entries, owners = [], {}
    for path, document in zip(paths, documents):
        for entry in document["run"]["configurations"]:
            if entry["key"] in owners:
                raise ValueError(
                    f"configuration {entry['key']} {entry['values']} is in both {owners[entry['key']]} and {path}; "
                    "merge each shard once"
                )
            owners[entry["key"]] = path
            entries.append(entry)

    sweep = sweep_from_spec(first["run"]["sweep"]["spec"])
    hardware = dict(first["hardware"])
    for field in PER_PART_FIELDS:
        if len({json.dumps(document["hardware"].get(field)) for document in documents}) > 1:
            hardware.pop(field, None)

    run = {key: value for key, value in first["run"].items() if key not in ("configurations", "failures")}
    run["shard"] = None
    run["parts"] = [_part_summary(path, document) for path, document in zip(paths, documents)]
    merged_name = name or _strip_shard_suffix(first["name"])
    return build_document(sweep, merged_name, hardware, run, entries)


def _check_same_fields(documents, paths):
    for field in MERGE_FIELDS:
        expected = merge_field(documents[0], field)
        for path, document in zip(paths[1:], documents[1:]):
            found = merge_field(document, field)
            if found != expected:
                raise ValueError(
                    f"cannot merge {path}: its {field} is {found!r} but {paths[0]} has {expected!r}; "
                    "merge only shards of one sweep measured the same way"
                )


def _part_summary(path, document):
    hardware = document.get("hardware", {})
    summary = {"file": str(path), "shard": document["run"].get("shard"), "measured": document["run"].get("measured")}
    for field in PER_PART_FIELDS:
        summary[field] = hardware.get(field)
    for field in ("started", "finished", "wall_seconds"):
        summary[field] = document["run"].get(field)
    return summary


def _strip_shard_suffix(name):
    stem, separator, suffix = name.rpartition("-shard")
    return stem if separator and suffix.replace("of", "").isdigit() else name
