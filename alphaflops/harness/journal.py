"""Append-only journal of a measurement run: one JSON line per configuration.

The first line is the run's header (sweep, shard, settings, hardware). Every
later line is the result or the failure of one configuration, written with a
single ``os.write`` and flushed to disk with ``fsync`` before the next
configuration starts. A process killed at any moment therefore leaves every
finished configuration on disk, and at most one incomplete last line, which
``read_journal`` drops and ``Journal.open`` cuts off before appending.
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
    """

    header: dict | None = None
    records: dict = field(default_factory=dict)
    valid_bytes: int = 0
    dropped_tail: bool = False


def read_journal(path):
    """Read a journal, leaving out an incomplete last line.

    Raises
    ------
    ValueError
        If a complete line is not JSON, or the header is not a journal header.
    """
    path = Path(path)
    contents = JournalContents()
    if not path.exists():
        return contents

    data = path.read_bytes()
    position = 0
    line_number = 0
    while position < len(data):
        end = data.find(b"\n", position)
        if end < 0:
            contents.dropped_tail = True
            break
        line_number += 1
        record = _parse_line(data[position:end], path, line_number, is_last=(end + 1 == len(data)))
        if record is None:
            contents.dropped_tail = True
            break
        _add_record(contents, record, path, line_number)
        position = end + 1
        contents.valid_bytes = position

    return contents


def _parse_line(raw, path, line_number, is_last):
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        if is_last:
            return None
        raise ValueError(
            f"{path}, line {line_number}: not a journal record ({error}); "
            "the file is damaged, so measure into a new --out file"
        ) from None


def _add_record(contents, record, path, line_number):
    if line_number == 1:
        if record.get("type") != "header" or record.get("format") != JOURNAL_FORMAT:
            raise ValueError(f"{path} is not an alphaflops measurement journal (its first line is not a header)")
        if record.get("version", 0) > JOURNAL_VERSION:
            raise ValueError(f"{path} is journal version {record.get('version')}; upgrade alphaflops to resume it")
        contents.header = record
        return
    if record.get("type") != "result" or "key" not in record:
        raise ValueError(f"{path}, line {line_number}: expected a result record with a 'key'")
    contents.records.pop(record["key"], None)
    contents.records[record["key"]] = record


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
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
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
