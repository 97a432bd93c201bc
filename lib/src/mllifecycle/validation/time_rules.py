"""Rules on a table's time columns: no row from the future, an optional recency rule,
no event after its row's time (time leakage), and time columns in one time zone.

`now` is compared in the time column's own zone, so a zone-aware column and a naive
one (read as UTC) are both checked without pandas raising a type error.
"""

from __future__ import annotations

import pandas as pd

from ..config import Params
from . import gates


def time_expectations(
    params: Params, now: pd.Timestamp, frame: pd.DataFrame
) -> list[gates.Expectation]:
    """No row from the future, no event after its row's time and, when configured,
    a recent newest row. `now` is compared in the column's own time zone."""
    column, checks = params.data.time_column, params.data.checks
    if not column:
        return []
    now = in_time_zone_of(frame.get(column), now)
    rules = [
        gates.expectation(
            "expect_column_values_to_be_between", column=column, max_value=now.isoformat()
        )
    ]
    if checks.max_age_days:
        oldest_allowed = now - pd.Timedelta(days=checks.max_age_days)
        rules.append(
            gates.expectation(
                "expect_column_max_to_be_between",
                column=column,
                min_value=oldest_allowed.isoformat(),
            )
        )
    # Time leakage: a feature built from an event after the prediction time. (A missing
    # event column is the suite's to report: the drafted column set names it; one of
    # mixed time zones is time_zone_mismatches' to report.)
    rules += [
        gates.expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            column_A=column,
            column_B=event,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
        for event in checks.event_time_columns
        if event in frame and _zone_aware(frame[event]) == _zone_aware(frame.get(column))
    ]
    return rules


def time_zone_mismatches(params: Params, frame: pd.DataFrame, dataset: str) -> gates.GateResult:
    """Event columns whose time zone awareness differs from the time column's: they
    cannot be compared, and pandas would only say so with a type error."""
    column = params.data.time_column
    events = [e for e in params.data.checks.event_time_columns if e in frame]
    failures = [
        gates.Failure(
            "time_columns_share_a_time_zone",
            event,
            f"compared with {column!r}",
            f"{event!r} is {_awareness(frame[event])}, {column!r} is {_awareness(frame[column])}; "
            "set data.time_zone in conf/data to place both in one zone",
        )
        for event in events
        if column in frame and _zone_aware(frame[event]) != _zone_aware(frame[column])
    ]
    return gates.GateResult("time zones", dataset, len(frame), len(events), failures)


def in_time_zone_of(values: pd.Series | None, now: pd.Timestamp) -> pd.Timestamp:
    """`now` (tz-aware) as the column stores time: in its zone, or naive UTC."""
    zone = getattr(getattr(values, "dt", None), "tz", None)
    utc = now.tz_convert("UTC") if now.tzinfo else now.tz_localize("UTC")
    return utc.tz_convert(zone) if zone is not None else utc.tz_localize(None)


def _zone_aware(values: pd.Series | None) -> bool:
    return getattr(getattr(values, "dt", None), "tz", None) is not None


def _awareness(values: pd.Series) -> str:
    return f"in time zone {values.dt.tz}" if _zone_aware(values) else "naive (no time zone)"
