"""The current batch cut into time windows, and a retrain rule that resists noise.

One drifted window can be chance (or a holiday); drift that persists is not.
The rule fires when the latest window drifts and at least `min_drifted_windows`
of the last `windows` windows drift (every one of them while fewer exist).
Windows with fewer than `min_window_rows` rows are shown but not judged.
Without a time column the whole batch is one window.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import cast

import pandas as pd

from ..config import DataConfig, MonitorConfig
from ..contracts import DriftRecord, WindowRecord
from .drift import ReferenceProfile

WHOLE_BATCH = "whole batch"


def cut(
    current: pd.DataFrame,
    time_column: str | None,
    window: str,
    origin: pd.Timestamp | None = None,
) -> list[tuple[str, pd.DataFrame]]:
    """(window start, rows) in time order; empty windows are skipped. Windows start at
    `origin` (a part of a batch is cut at its batch's first time), else at the first time."""
    if not time_column or time_column not in current or current[time_column].isna().all():
        return [(WHOLE_BATCH, current)]
    timed = current.assign(**{time_column: pd.to_datetime(current[time_column])})
    start_at = "start" if origin is None else origin
    grouped = timed.groupby(pd.Grouper(key=time_column, freq=window, origin=start_at))
    return [
        (cast(pd.Timestamp, start).date().isoformat(), frame)
        for start, frame in grouped
        if len(frame)
    ]


def window_drifts(
    reference: pd.DataFrame | ReferenceProfile,
    current: pd.DataFrame,
    data: DataConfig,
    cfg: MonitorConfig,
    value_of: Callable[[pd.DataFrame], float | None],
    whole_batch: list[DriftRecord] | None = None,
) -> list[WindowRecord]:
    """Drift (and business value, when labels are there) of each window.

    `whole_batch`: the batch's drift when the caller has it, reused when the batch
    is a single window (no time column) instead of being computed twice.
    `reference`: the reference table, or its profile when the caller has it; it is
    profiled once for all windows.
    """

    @cache
    def profile() -> ReferenceProfile:  # profiled on first use, then shared by every window
        if isinstance(reference, ReferenceProfile):
            return reference
        return ReferenceProfile.of(reference, data.numeric, data.categorical, cfg)

    results = []
    for start, frame in cut(current, data.time_column, cfg.window):
        drifts = (
            whole_batch
            if start == WHOLE_BATCH and whole_batch is not None
            else profile().compare(frame)
        )
        results.append(record(start, len(frame), drifts, value_of(frame), cfg))
    return results


def record(
    start: str, rows: int, drifts: list[DriftRecord], value: float | None, cfg: MonitorConfig
) -> WindowRecord:
    """A window's record: judged when it holds enough rows, drifted by its share."""
    judged = rows >= cfg.min_window_rows
    drifted = [d.column for d in drifts if d.drifted]
    share = len(drifted) / len(drifts)
    return WindowRecord(
        start=start,
        rows=rows,
        judged=judged,
        drift_share=round(share, 4),
        dataset_drift=judged and share >= cfg.drift_share,
        drifted=drifted,
        value_per_1000=value,
    )


def persistent_drift(windows: list[WindowRecord], cfg: MonitorConfig) -> str | None:
    """Why the drift rule fires, or None when it does not."""
    recent = [w for w in windows if w.judged][-cfg.windows :]
    if not recent or not recent[-1].dataset_drift:
        return None
    drifted = sum(w.dataset_drift for w in recent)
    needed = min(cfg.min_drifted_windows, len(recent))
    if drifted < needed:
        return None
    return (
        f"dataset drift in the latest window ({recent[-1].start}) and in {drifted} of the "
        f"last {len(recent)} windows (rule: {cfg.min_drifted_windows} of {cfg.windows})"
    )
