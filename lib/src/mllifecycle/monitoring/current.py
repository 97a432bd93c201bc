"""The current batch the monitor compares with the reference.

Either a table (the demo's production batch, a file, an fsspec URL) or the
service's prediction log (`.jsonl`), whose records become rows: the request
time stands in for the time column (unless the records carry it, as they do when
a derived feature reads it) and the carried id for the id column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import DataConfig
from ..io import read_whole
from ..serving import prediction_log


def load(location: str, data: DataConfig) -> pd.DataFrame:
    if not location.endswith(".jsonl"):
        return read_whole(location)
    logged = prediction_log.read(Path(location))
    if logged.empty:
        return pd.DataFrame(columns=data.features)
    batch = prediction_log.inputs_of(logged)
    if data.id_column:
        batch[data.id_column] = logged["id"]
    if data.time_column and data.time_column not in batch:  # unless the model took it as input
        batch[data.time_column] = pd.to_datetime(logged["timestamp"]).dt.tz_localize(None)
    return batch
