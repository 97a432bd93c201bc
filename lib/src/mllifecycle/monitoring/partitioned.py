"""The current batch measured on a Dask cluster (engine: dask), part by part.

Each partition of the batch is cleaned and scored on its worker and summed up per
time window: its rows, each column's nulls, each numeric column's count and sum of
values in the bins between the reference's values, each category's label counts, the
business value of the labelled rows. Those sums add up over partitions to the batch's,
so drift, PSI, null rates and performance follow as the pandas monitor measures them
(the Wasserstein distance within a bin's share of the spread, drift.ColumnSketch).
This process holds the sums and a bounded sample of the cleaned rows (the report's
histograms; the statistical tests of a reference too small for distances), never the
batch. Exact duplicates are dropped within a part, as clean drops them in a batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, reduce
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from ..config import Params
from ..contracts import DriftRecord, JudgedModel, MonitorSummary, Performance, WindowRecord
from ..evaluation.business import value_per_decision
from ..models import artifact
from . import drift, summary, windows

# Rows of the cleaned batch drawn for the report and a small reference's tests.
SAMPLE_ROWS = 20_000
# Rows that have no time: in the whole batch, in no window (as windows.cut leaves them).
NO_TIME = "no time"
PREDICTION = "prediction"


@dataclass(frozen=True)
class Window:
    """One window of one part (or, added up, of the batch) summed up."""

    rows: int
    columns: dict[str, drift.ColumnSketch]
    value: float  # the business value of the labelled rows' decisions, summed
    labelled: int

    def __add__(self, other: Window) -> Window:
        return Window(
            self.rows + other.rows,
            {name: sketch + other.columns[name] for name, sketch in self.columns.items()},
            self.value + other.value,
            self.labelled + other.labelled,
        )


@dataclass(frozen=True)
class Measure:
    """What a worker does with one partition of the batch: `origin` is the batch's first
    time (its windows start there), `profiles` the reference's columns and prediction."""

    params: Params
    packaged: artifact.Artifact  # a fresh copy: each worker compiles its own
    profiles: dict[str, drift.ColumnProfile]
    origin: pd.Timestamp | None

    def __call__(self, part: pd.DataFrame) -> dict[str, Window]:
        cleaned = summary.clean_batch(self.params, part).reset_index(drop=True)
        if cleaned.empty:
            return {}
        signal, decisions = summary.signal_and_decisions(self.packaged, cleaned)
        values = self._values(cleaned, decisions)
        return {
            start: self._window(rows, signal.to_numpy(), values)
            for start, rows in self._windows(cleaned)
        }

    def _values(self, cleaned: pd.DataFrame, decisions: np.ndarray) -> np.ndarray:
        """Each labelled row's business value (NaN where no label has arrived)."""
        target = self.params.problem.target
        values = np.full(len(cleaned), np.nan)
        if target in cleaned.columns:
            labelled = cleaned[target].notna().to_numpy()
            if labelled.any():
                actual = cleaned.loc[labelled, target]
                problem = self.packaged.problem
                values[labelled] = value_per_decision(problem, actual, decisions[labelled])
        return values

    def _windows(self, cleaned: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
        """The part's rows in the batch's windows (windows.cut from the batch's origin)."""
        column = self.params.data.time_column
        if self.origin is None or not column:
            return [(windows.WHOLE_BATCH, cleaned)]
        untimed = cleaned[column].isna()
        timed = cleaned[~untimed]
        cut = (
            windows.cut(timed, column, self.params.monitor.window, self.origin)
            if len(timed)
            else []
        )
        return [*cut, (NO_TIME, cleaned[untimed])] if untimed.any() else cut

    def _window(self, rows: pd.DataFrame, signal: np.ndarray, values: np.ndarray) -> Window:
        at = rows.index.to_numpy()
        mine = values[at]
        labelled = ~np.isnan(mine)
        columns = {
            name: profile.sketch(rows[name])
            for name, profile in self.profiles.items()
            if name != PREDICTION
        }
        columns[PREDICTION] = self.profiles[PREDICTION].sketch(pd.Series(signal[at]))
        return Window(len(rows), columns, float(mine[labelled].sum()), int(labelled.sum()))


def summarise(
    params: Params,
    packaged: artifact.Artifact,
    judged: JudgedModel,
    reference: summary.Reference,
    batch: dd.DataFrame,
) -> tuple[MonitorSummary, list[DriftRecord], pd.DataFrame]:
    """summary.summarise for a batch on the cluster; the cleaned rows returned are
    the bounded sample the report draws."""
    rows, origin = _rows_and_origin(params, batch)
    if not rows:
        return summary.empty_summary(packaged, judged), [], batch._meta
    profiles: dict[str, drift.ColumnProfile] = {p.column: p for p in reference.profile.columns}
    profiles[PREDICTION] = reference.prediction
    fresh = artifact.Artifact(packaged.pipeline, packaged.metadata)
    measure = Measure(params, fresh, profiles, origin)
    found = _added([dask.delayed(measure)(part) for part in batch.to_delayed()])
    sample = _sample(params, packaged, batch, rows)
    whole = reduce(Window.__add__, found.values())
    cfg = params.monitor

    def compared(window: Window, rows_of: pd.DataFrame) -> list[DriftRecord]:
        return [
            p.compare_sketch(window.columns[p.column], cfg, rows_of[p.column])
            for p in reference.profile.columns
        ]

    drifts = compared(whole, sample)
    prediction = reference.prediction.compare_sketch(
        whole.columns[PREDICTION], cfg, sample[PREDICTION]
    )
    by_window = _window_records(params, found, sample, origin, compared, drifts)
    measured = summary.Measured(
        whole.rows, drifts, prediction, _performance(packaged, whole), by_window
    )
    result = summary.assemble(params, packaged, judged, reference, measured)
    return result, drifts, sample


def _rows_and_origin(params: Params, batch: dd.DataFrame) -> tuple[int, pd.Timestamp | None]:
    """The batch's cleaned rows and its first time (None: no time to cut windows by)."""
    firsts = dask.compute(*[dask.delayed(_first)(params, part) for part in batch.to_delayed()])
    rows = sum(count for count, _ in firsts)
    times = [time for _, time in firsts if time is not None]
    return rows, min(times) if times else None


def _first(params: Params, part: pd.DataFrame) -> tuple[int, pd.Timestamp | None]:
    cleaned = summary.clean_batch(params, part)
    column = params.data.time_column
    if not column or column not in cleaned or cleaned[column].isna().all():
        return len(cleaned), None
    return len(cleaned), pd.Timestamp(pd.to_datetime(cleaned[column]).min())


def _added(parts: list[Any]) -> dict[str, Window]:
    """The parts' windows added up on the cluster, pairwise, so this process receives
    one set of sums rather than one per part."""
    while len(parts) > 1:
        pairs = [parts[i : i + 2] for i in range(0, len(parts), 2)]
        parts = [dask.delayed(_add_windows)(*pair) if len(pair) == 2 else pair[0] for pair in pairs]
    (found,) = dask.compute(parts[0])
    return dict(sorted(found.items()))


def _add_windows(a: dict[str, Window], b: dict[str, Window]) -> dict[str, Window]:
    added = {**a, **b}
    for key in a.keys() & b.keys():
        added[key] = a[key] + b[key]
    return added


def _sample(
    params: Params, packaged: artifact.Artifact, batch: dd.DataFrame, rows: int
) -> pd.DataFrame:
    """A seeded sample of the cleaned batch (all of it when small), with its prediction."""
    clean = partial(summary.clean_batch, params)
    cleaned = batch.map_partitions(clean, meta=clean(batch._meta))
    drawn = (
        cleaned if rows <= SAMPLE_ROWS else cleaned.sample(frac=SAMPLE_ROWS / rows, random_state=0)
    )
    sample = drawn.compute().reset_index(drop=True)
    signal = summary.prediction_signal(packaged, sample) if len(sample) else pd.Series(dtype=float)
    return sample.assign(**{PREDICTION: signal.to_numpy()})


def _window_records(
    params: Params,
    found: dict[str, Window],
    sample: pd.DataFrame,
    origin: pd.Timestamp | None,
    compared: Callable[[Window, pd.DataFrame], list[DriftRecord]],
    whole_drifts: list[DriftRecord],
) -> list[WindowRecord]:
    """Each window's record, in time order (a batch without times: one, the whole)."""
    cfg = params.monitor
    if windows.WHOLE_BATCH in found:
        (window,) = found.values()
        value = _value_per_1000(window)
        return [windows.record(windows.WHOLE_BATCH, window.rows, whole_drifts, value, cfg)]
    column = params.data.time_column
    sampled = dict(windows.cut(sample, column, cfg.window, origin)) if len(sample) else {}
    empty = sample.iloc[:0]
    return [
        windows.record(
            start, w.rows, compared(w, sampled.get(start, empty)), _value_per_1000(w), cfg
        )
        for start, w in found.items()
        if start != NO_TIME
    ]


def _value_per_1000(window: Window) -> float | None:
    return round(window.value / window.labelled * 1000, 4) if window.labelled else None


def _performance(packaged: artifact.Artifact, whole: Window) -> Performance | None:
    if not whole.labelled:
        return None
    return summary.performance_of(packaged, whole.labelled, whole.value / whole.labelled * 1000)
