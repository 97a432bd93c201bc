"""The prediction log: one JSON line per scored record, champion and challenger side by side.

It is what shadow mode compares and what the monitor can read as its current
batch (`inputs` holds the record as it was sent). It rotates by size, as
logging's RotatingFileHandler does (predictions.jsonl.1 is the newest full file,
.N the oldest kept), so a service that runs for months never fills its disk;
`read` returns the kept files oldest first. Each line is a PredictionRecord
(contracts.py): written from the model, parsed (and its schema version checked) on
reading.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from ..contracts import PredictionRecord, read_json_line

if sys.platform != "win32":
    import fcntl


class PredictionLog:
    """Append-only JSON lines. A thread lock keeps one process's appends whole, and a
    file lock (POSIX) keeps the service's worker processes from rotating or appending
    at the same time: they share one log."""

    def __init__(self, path: Path, max_bytes: int = 50_000_000, backups: int = 5) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, entries: list[PredictionRecord | dict[str, Any]]) -> None:
        """Each entry is checked against the record contract before anything is written."""
        records = [
            entry
            if isinstance(entry, PredictionRecord)
            else PredictionRecord.parse(entry, f"{self.path} (a record to append)")
            for entry in entries
        ]
        lines = "".join(
            json.dumps(record.model_dump(mode="json"), default=str) + "\n" for record in records
        )
        with self._lock, self._across_processes():
            if self._full(len(lines.encode("utf-8"))):
                self._rotate()
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(lines)

    @contextmanager
    def _across_processes(self) -> Iterator[None]:
        """An exclusive lock on `<log>.lock` while this process rotates or appends."""
        if sys.platform == "win32":  # no flock: run one worker per log file there
            yield
            return
        with self.path.with_name(f"{self.path.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _full(self, adding: int) -> bool:
        size = self.path.stat().st_size if self.path.exists() else 0
        return size > 0 and size + adding > self.max_bytes

    def _rotate(self) -> None:
        """predictions.jsonl -> .1 -> .2 ... ; the oldest beyond `backups` goes."""
        rotated(self.path, self.backups).unlink(missing_ok=True)
        for number in range(self.backups - 1, 0, -1):
            older = rotated(self.path, number)
            if older.exists():
                older.replace(rotated(self.path, number + 1))
        if self.backups:
            self.path.replace(rotated(self.path, 1))
        else:
            self.path.unlink()


def rotated(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.{number}")


def kept_files(path: Path) -> list[Path]:
    """The log and its rotated files that exist, oldest first."""
    backups = sorted(
        (p for p in path.parent.glob(f"{path.name}.*") if p.suffix[1:].isdigit()),
        key=lambda p: int(p.suffix[1:]),
        reverse=True,
    )
    return [*backups, *([path] if path.exists() else [])]


def records(path: Path) -> list[PredictionRecord]:
    """Every kept record, oldest first; a line of an unknown schema version is refused."""
    return [
        PredictionRecord.parse(read_json_line(line, f"{kept}:{number}"), f"{kept}:{number}")
        for kept in kept_files(path)
        for number, line in enumerate(kept.read_text(encoding="utf-8").splitlines(), start=1)
        if line
    ]


def read(path: Path) -> pd.DataFrame:
    """The log as a table: one row per record, inputs flattened to their own columns."""
    rows = [record.model_dump(mode="json") for record in records(path)]
    if not rows:
        return pd.DataFrame()
    return pd.json_normalize(rows, sep=".")


def inputs(path: Path) -> pd.DataFrame:
    """Only the records as they were sent, with their original column names."""
    return inputs_of(read(path))


def inputs_of(table: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in table.columns if c.startswith("inputs.")]
    return table[columns].rename(columns=lambda c: c.removeprefix("inputs."))
