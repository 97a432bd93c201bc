"""The prediction log: one JSON line per scored record, champion and challenger side by side.

It is what shadow mode compares and what the monitor can read as its current
batch (`inputs` holds the record as it was sent).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pandas as pd


class PredictionLog:
    """Append-only JSON lines; one lock keeps concurrent requests' lines whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, entries: list[dict[str, Any]]) -> None:
        lines = "".join(json.dumps(entry, default=str) + "\n" for entry in entries)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(lines)


def read(path: Path) -> pd.DataFrame:
    """The log as a table: one row per record, inputs flattened to their own columns."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if not rows:
        return pd.DataFrame()
    return pd.json_normalize(rows, sep=".")


def inputs(path: Path) -> pd.DataFrame:
    """Only the records as they were sent, with their original column names."""
    return inputs_of(read(path))


def inputs_of(table: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in table.columns if c.startswith("inputs.")]
    return table[columns].rename(columns=lambda c: c.removeprefix("inputs."))
