"""Append-only journal of a measurement run: one JSON line per configuration.

The first line is the run's header (sweep, shard, settings, hardware). Every
later line is the result or the failure of one configuration, written with a
single ``os.write`` and flushed to disk with ``fsync`` before the next
configuration starts. A process killed at any moment therefore leaves every
finished configuration on disk, and at most one incomplete last line, which
``read_journal`` drops and ``Journal.open`` cuts off before appending.

A damaged line elsewhere (one that is not a JSON result record) is skipped
and its line number reported, so the records around it stay usable and its
configuration is measured again. Only a damaged or incomplete last line
is ever cut from the file.

NOTE: nothing locks a journal, so two runs started on the same file at once
would interleave their records.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

JOURNAL_FORMAT = "alphaflops-journal"
JOURNAL_VERSION = 1


@dataclass
class JournalContents:
    """Contents of a journal file.

    Attributes
    ----------
    header : dict or None
        The header line, or None for an empty or missing file.
    records : dict of str -> dict
        Latest record per configuration key, in the order first written.
    valid_bytes : int
        Length of the file up to the end of its last complete line.
    dropped_tail : bool
        True when an incomplete last line was found (and left out).
    skipped_lines : list of int
        Line numbers (from 1) of complete lines that were not result
        records and were left out.
    """

    header: dict | None = None
    records: dict = field(default_factory=dict)
    valid_bytes: int = 0
    dropped_tail: bool = False
    skipped_lines: list = field(default_factory=list)


def read_journal(path):
    """Read a journal, leaving out damaged lines and an incomplete last line.

    A complete line after the header that is not a JSON result record is
    left out and its number added to ``skipped_lines``. The last line is
    instead dropped as an incomplete tail (``dropped_tail``), because a
    process killed while writing leaves that.

    Raises
    ------
    ValueError
        If the first line is not a journal header or is of a newer version.
    OSError
        If the file exists but cannot be read (the message names it).
    """
    path = Path(path)
    contents = JournalContents()
    if not path.exists():
        return contents
    try:
        data = path.read_bytes()
    except OSError as error:
        raise OSError(f"cannot read journal {path}: {error.strerror or error}") from None

    position = 0
    line_number = 0
    while position < len(data):
        end = data.find(b"\n", position)
        if end < 0:
            contents.dropped_tail = True
            break
        line_number += 1
        record = _parse_line(data[position:end])
        if line_number == 1:
            _add_header(contents, record, path)
        elif _is_result(record):
            contents.records.pop(record["key"], None)
            contents.records[record["key"]] = record
        elif end + 1 == len(data):
            contents.dropped_tail = True
            break
        else:
            contents.skipped_lines.append(line_number)
        position = end + 1
        contents.valid_bytes = position

    return contents


def _parse_line(raw):
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _is_result(record):
    return isinstance(record, dict) and record.get("type") == "result" and isinstance(record.get("key"), str)


def _add_header(contents, record, path):
    if not isinstance(record, dict) or record.get("type") != "header" or record.get("format") != JOURNAL_FORMAT:
        raise ValueError(
            f"{path} is not an alphaflops measurement journal (its first line is not a journal header); "
            "give another --journal or --out"
        )
    if record.get("version", 0) > JOURNAL_VERSION:
        raise ValueError(f"{path} is journal version {record.get('version')}; upgrade alphaflops to resume it")
    contents.header = record


class Journal:
    """An open journal that appends one record per configuration."""

    def __init__(self, path, descriptor):
        self.path = Path(path)
        self._descriptor = descriptor

    @classmethod
    def open(cls, path, header=None, valid_bytes=0):
        """Open ``path`` for appending after its first ``valid_bytes`` bytes.

        A new or empty file gets ``header`` as its first line. Bytes after
        ``valid_bytes`` (an incomplete last line) are cut off first.
        """
        path = Path(path)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as error:
            raise OSError(
                f"cannot open journal {path} for writing: {error.strerror or error}; "
                "check the folder's permissions or choose another --out"
            ) from None
        try:
            os.ftruncate(descriptor, valid_bytes)
            journal = cls(path, descriptor)
            if valid_bytes == 0:
                if header is None:
                    raise ValueError(f"{path}: a new journal needs a header")
                journal.append(header)
        except BaseException:
            os.close(descriptor)
            raise
        return journal

    def append(self, record):
        """Write ``record`` as one line and flush it to disk."""
        line = (json.dumps(record, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")
        written = os.write(self._descriptor, line)
        if written != len(line):
            raise OSError(f"{self.path}: wrote {written} of {len(line)} bytes of a journal record; disk full?")
        os.fsync(self._descriptor)

    def close(self):
        """Close the file."""
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
