"""Time columns parsed once, at ingest, as conf/data says they are written.

A CSV holds text, so "2024-03-01" must become a timestamp before any gate
compares it with "now" or with another column. `data.time_format` names the
spelling (ISO 8601, a strptime format, epoch seconds or milliseconds) and
`data.time_zone` the zone of naive values. Unparseable values stop ingest with
the column, the format and examples, instead of a type error deep in a gate.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from ..config import DataConfig
from ..errors import DataError

EPOCH_UNITS: dict[str, Literal["s", "ms"]] = {"epoch_s": "s", "epoch_ms": "ms"}
EXAMPLES = 5


def time_columns(data: DataConfig) -> list[str]:
    return [c for c in (data.time_column, *data.checks.event_time_columns) if c]


def parse_times(frame: pd.DataFrame, data: DataConfig, source: str) -> pd.DataFrame:
    """`frame` with its time columns as timestamps (columns it lacks are the gates' to name)."""
    present = [c for c in time_columns(data) if c in frame.columns]
    if not present:
        return frame
    parsed = frame.copy()
    for column in present:
        parsed[column] = parse_column(frame[column], data, f"{source}: column {column!r}")
    return parsed


def parse_column(values: pd.Series, data: DataConfig, where: str) -> pd.Series:
    missing = values.isna() | (values.astype(str).str.strip() == "")
    parsed = _in_zone(_to_datetime(values.where(~missing), data.time_format, where), data.time_zone)
    unparseable = ~missing & parsed.isna()
    if unparseable.any():
        examples = [str(v) for v in values[unparseable].unique()[:EXAMPLES]]
        zone = f" in time_zone {data.time_zone!r}" if data.time_zone else ""
        raise DataError(
            f"{where}: {int(unparseable.sum())} of {len(values)} value(s) cannot be read with "
            f"data.time_format={data.time_format!r}{zone}, e.g. {examples}; set time_format in "
            "conf/data to iso8601, a strptime format such as '%d/%m/%Y', epoch_s or epoch_ms"
        )
    return parsed


def _to_datetime(values: pd.Series, time_format: str, where: str) -> pd.Series:
    if time_format in EPOCH_UNITS:
        instants = pd.to_datetime(
            pd.to_numeric(values, errors="coerce"), unit=EPOCH_UNITS[time_format], utc=True
        )
        return instants.dt.tz_localize(None)  # epochs are UTC instants: naive UTC
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    text_format = "ISO8601" if time_format == "iso8601" else time_format
    try:
        return pd.to_datetime(values, format=text_format, errors="coerce")
    except (ValueError, TypeError):
        # Offsets that differ between rows (+01:00 in winter, +02:00 in summer): one
        # instant each, kept in UTC.
        try:
            return pd.to_datetime(values, format=text_format, errors="coerce", utc=True)
        except (ValueError, TypeError) as err:
            raise DataError(f"{where}: cannot be read as timestamps ({err})") from err


def _in_zone(parsed: pd.Series, zone: str | None) -> pd.Series:
    if zone is None:
        return parsed
    if parsed.dt.tz is None:
        return parsed.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
    return parsed.dt.tz_convert(zone)
