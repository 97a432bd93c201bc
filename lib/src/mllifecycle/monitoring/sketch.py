"""The training reference profiled on a Dask cluster, from per-partition aggregates.

The pandas monitor keeps each reference column's sorted values; a split beyond one
machine cannot be held so. Here every partition contributes counts, sums and a few
distinct values, merged by dask; a numeric column keeps `GRID_POINTS` of its quantiles,
which stand in for its sorted values in the Wasserstein distance (within ~0.001 of the
exact figure on the demo), with its standard deviation, null rate and PSI shares
exact. Category counts are exact. A column with at most `large_sample_rows` values is
small by definition: it is collected and profiled exactly as the pandas engine does,
since its statistical tests need the values themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from ..config import MonitorConfig, Params
from ..models import artifact
from . import drift, summary

GRID_POINTS = 10_001
# A numeric column with at most this many distinct values gets its quantiles exactly,
# from its value counts (counts, ratings, prices: dask's approximate quantiles are
# coarsest where values repeat).
EXACT_DISTINCT = 1000
# Rows of the reference the HTML report draws its histograms from.
SHOWN_ROWS = 20_000


def reference(
    params: Params, packaged: artifact.Artifact, train: dd.DataFrame
) -> summary.Reference:
    data, cfg = params.data, params.monitor
    example = PredictionSignal(packaged)(train.head(50))
    # A fresh copy travels to the workers: a used artifact holds its compiled form's
    # per-thread buffers, which do not pickle; each worker compiles its own.
    unused = artifact.Artifact(packaged.pipeline, packaged.metadata)
    signal = train.map_partitions(PredictionSignal(unused, example.iloc[:0]), meta=example.iloc[:0])
    # Scored once and kept on the workers (8 bytes a row): the profile's three passes
    # read it, and scoring the split is the monitor's costliest step.
    signal = signal.persist()
    columns = {name: train[name] for name in [*data.numeric, *data.categorical]}
    numeric = {name: name in data.numeric for name in columns}
    columns["prediction"] = signal
    numeric["prediction"] = pd.api.types.is_numeric_dtype(example)
    profiles = profile_columns(columns, numeric, cfg)
    prediction = profiles.pop("prediction")
    rows = int(train.shape[0].compute())
    return summary.Reference(
        profile=drift.ReferenceProfile(list(profiles.values()), cfg),
        prediction=prediction,
        rows=rows,
        shown=_sample(train, rows),
    )


@dataclass(frozen=True)
class PredictionSignal:
    """The packaged model's watched output on one partition (runs on the workers)."""

    packaged: artifact.Artifact
    empty: pd.Series | None = None  # the signal of no rows (an empty partition)

    def __call__(self, part: pd.DataFrame) -> pd.Series:
        if part.empty and self.empty is not None:  # scoring refuses no rows
            return self.empty
        return summary.prediction_signal(self.packaged, part).rename("prediction")

    def __dask_tokenize__(self) -> tuple[str, str]:
        return ("prediction-signal", self.packaged.metadata.digest)


def profile_columns(
    columns: dict[str, dd.Series], numeric: dict[str, bool], cfg: MonitorConfig
) -> dict[str, drift.ColumnProfile]:
    """Each column's profile, in two passes over the data for all columns at once."""
    first = {name: _first_pass(series, numeric[name]) for name, series in columns.items()}
    # Frames and delayed parts in separate computes: dask 2026.8 mixes up the results
    # of one compute holding both kinds.
    (found,) = dask.compute(first)
    few = {
        name: [dask.delayed(_few_distinct)(part) for part in columns[name].to_delayed()]
        for name in columns
        if numeric[name]
    }
    (distinct,) = dask.compute(few)
    profiles: dict[str, drift.ColumnProfile] = {}
    grids: dict[str, Any] = {}
    for name, facts in found.items():
        rows, present = int(facts["rows"]), int(facts["present"])
        null_rate = 1 - present / rows if rows else 0.0
        if present <= cfg.large_sample_rows:  # small: the pandas profile on the values
            profiles[name] = drift.profile_column(name, columns[name].compute(), cfg, numeric[name])
        elif numeric[name] and len(frozenset().union(*distinct[name])) > drift.FEW_DISTINCT:
            if len(frozenset().union(*distinct[name])) <= EXACT_DISTINCT:
                facts["grid"] = grid_from_counts(columns[name].value_counts().compute())
            grids[name] = (facts, null_rate)
        else:
            counts = facts.get("counts")
            if counts is None:  # a number with few values: counted as a category
                counts = columns[name].value_counts(dropna=True).compute()
            profiles[name] = drift.CategoricalProfile(
                name, label_counts(counts), null_rate, large=True
            )
    profiles.update(_numeric_profiles(columns, grids))
    return {name: profiles[name] for name in columns}


def _first_pass(series: dd.Series, numeric: bool) -> dict[str, Any]:
    facts: dict[str, Any] = {"rows": series.shape[0], "present": series.count()}
    if numeric:
        values = series.astype("float64")
        facts.update(
            mean=values.mean(),
            var=values.var(ddof=0),
            grid=values.quantile(np.linspace(0, 1, GRID_POINTS)),
        )
    else:
        facts["counts"] = series.value_counts(dropna=True)
    return facts


def _numeric_profiles(
    columns: dict[str, dd.Series], grids: dict[str, Any]
) -> dict[str, drift.NumericProfile]:
    """PSI shares at the reference's decile edges: a second pass, counted exactly."""
    edges = {}
    for name, (facts, _) in grids.items():
        grid = np.sort(np.asarray(facts["grid"], dtype=float))
        deciles = grid[np.linspace(0, len(grid) - 1, drift.PSI_BINS + 1).round().astype(int)]
        edges[name] = np.unique(deciles)[1:-1]
    counted = {
        name: [dask.delayed(_bin_counts)(part, edges[name]) for part in columns[name].to_delayed()]
        for name in grids
    }
    (per_part,) = dask.compute(counted)
    counts = {name: np.sum(parts, axis=0) for name, parts in per_part.items()}
    profiles = {}
    for name, (facts, null_rate) in grids.items():
        bins = np.asarray(counts[name], dtype=float)
        profiles[name] = drift.NumericProfile(
            column=name,
            values=np.sort(np.asarray(facts["grid"], dtype=float)),
            std=float(np.sqrt(facts["var"])),
            edges=edges[name],
            shares=bins / max(bins.sum(), 1),
            null_rate=null_rate,
            large=True,
        )
    return profiles


def grid_from_counts(counts: pd.Series) -> np.ndarray:
    """np.quantile (linear) of the values `counts` counts at the grid, from the counts."""
    ordered = counts[counts > 0].sort_index()
    values, ends = ordered.index.to_numpy(float), np.cumsum(ordered.to_numpy("int64"))
    position = np.linspace(0, 1, GRID_POINTS) * (ends[-1] - 1)
    lower = np.floor(position).astype("int64")
    upper = np.minimum(lower + 1, ends[-1] - 1)
    below = values[np.searchsorted(ends, lower, side="right")]
    above = values[np.searchsorted(ends, upper, side="right")]
    return below + (position - lower) * (above - below)


def label_counts(counts: pd.Series) -> pd.Series:
    """drift's label counts (non-null rows per label as text) from value counts."""
    counts = counts[counts > 0].astype("int64")
    counts.index = counts.index.astype(str)
    merged = counts.groupby(level=0).sum() if counts.index.has_duplicates else counts
    return merged.sort_values(ascending=False, kind="stable")


def _few_distinct(part: pd.Series) -> frozenset[float]:
    """Up to EXACT_DISTINCT + 1 distinct values of a partition: their union tells a
    number with few values (a category) or a bounded set from a measurement, with no
    shuffle."""
    return frozenset(float(v) for v in part.dropna().unique()[: EXACT_DISTINCT + 1])


def _bin_counts(part: pd.Series, edges: np.ndarray) -> np.ndarray:
    values = np.sort(part.to_numpy(dtype=float, na_value=np.nan))
    values = values[: np.searchsorted(values, np.nan)]
    below = np.searchsorted(values, edges, side="left")
    return np.diff(np.concatenate([[0], below, [len(values)]]))


def _sample(train: dd.DataFrame, rows: int) -> pd.DataFrame:
    """A seeded sample of the split for the report's histograms."""
    if rows <= SHOWN_ROWS:
        return train.compute()
    return train.sample(frac=SHOWN_ROWS / rows, random_state=0).compute()
