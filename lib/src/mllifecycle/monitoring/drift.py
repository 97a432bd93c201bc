"""Per-feature drift between a reference (training) sample and a current batch.

The test depends on the column's type and the sample size, as in Evidently:
up to `large_sample_rows` reference rows, statistical tests (Kolmogorov-Smirnov
for numbers, chi-squared for categories) at a p-value threshold; above it,
distances (Wasserstein normalised by the reference's standard deviation,
Jensen-Shannon), because on large samples every trivial shift is "significant".
Numbers with at most 5 distinct values are treated as categories. PSI is
reported for every column as a familiar second opinion.

The reference is profiled once (sorted values, quantile edges, category counts)
and reused for the whole batch and every time window; columns are compared on a
thread pool, since NumPy's sorts and Arrow's counts release the GIL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from ..config import MonitorConfig
from ..contracts import DriftRecord

EPSILON = 1e-4
FEW_DISTINCT = 5
PSI_BINS = 10


@dataclass(frozen=True)
class NumericProfile:
    """A numeric reference column: its sorted non-null values and PSI bins."""

    column: str
    values: np.ndarray
    std: float
    edges: np.ndarray  # the PSI bins' inner edges (the outer ones are -inf and inf)
    shares: np.ndarray
    null_rate: float
    large: bool

    def compare(self, current: pd.Series, cfg: MonitorConfig) -> DriftRecord:
        cur = _sorted_non_null(current)
        if self.large:
            test, threshold = "wasserstein_normed", cfg.wasserstein_threshold
            statistic = _wasserstein_sorted(self.values, cur) / max(self.std, EPSILON)
        else:
            test, threshold = "ks_p_value", cfg.p_value_threshold
            statistic = float(stats.ks_2samp(self.values, cur).pvalue)
        psi = _psi(self.shares, _bin_shares(cur, self.edges))
        return _record(
            self.column,
            "numeric",
            test,
            statistic,
            threshold,
            psi,
            self.null_rate,
            float(current.isna().mean()),
        )

    def sketch(self, current: pd.Series) -> ColumnSketch:
        """What compare_sketch needs of `current`, in sums that add over partitions."""
        values = current.to_numpy(dtype=float, na_value=np.nan)
        values = values[~np.isnan(values)]
        at = np.searchsorted(self.values, values, side="right")
        size = len(self.values) + 1
        psi_bin = np.searchsorted(self.edges, values, side="right")
        return ColumnSketch(
            rows=len(current),
            nulls=len(current) - len(values),
            bins=np.bincount(at, minlength=size),
            sums=np.bincount(at, weights=values, minlength=size),
            psi_bins=np.bincount(psi_bin, minlength=len(self.edges) + 1),
        )

    def compare_sketch(
        self, sketch: ColumnSketch, cfg: MonitorConfig, sample: pd.Series
    ) -> DriftRecord:
        """compare() from a sketch of the current column. A large reference: the
        Wasserstein distance and PSI from the sketch's bins (PSI exactly, the distance
        within a bin's share of the spread); a small one (a statistical test): the
        test on `sample`, a bounded sample of the current rows. Null rates exact."""
        if not self.large:
            record = self.compare(sample, cfg)
            return record.model_copy(update={"null_rate_current": _rate(sketch)})
        bins, sums, psi_bins = sketch.bins, sketch.sums, sketch.psi_bins
        assert bins is not None and sums is not None and psi_bins is not None  # numeric
        statistic = _wasserstein_binned(self.values, bins, sums) / max(self.std, EPSILON)
        psi = _psi(self.shares, psi_bins / max(int(psi_bins.sum()), 1))
        return _record(
            self.column,
            "numeric",
            "wasserstein_normed",
            statistic,
            cfg.wasserstein_threshold,
            psi,
            self.null_rate,
            _rate(sketch),
        )


@dataclass(frozen=True)
class CategoricalProfile:
    """A categorical reference column (or a number with few values): its label counts."""

    column: str
    counts: pd.Series  # label (as text) -> rows
    null_rate: float
    large: bool

    def compare(self, current: pd.Series, cfg: MonitorConfig) -> DriftRecord:
        return self.compare_counts(_label_counts(current), _nulls(current), cfg)

    def sketch(self, current: pd.Series) -> ColumnSketch:
        counts = _label_counts(current)
        return ColumnSketch(
            rows=len(current), nulls=len(current) - int(counts.sum()), labels=counts
        )

    def compare_sketch(
        self, sketch: ColumnSketch, cfg: MonitorConfig, sample: pd.Series
    ) -> DriftRecord:
        """compare() from the current column's label counts: exactly."""
        assert sketch.labels is not None  # a categorical sketch
        return self.compare_counts(sketch.labels, (sketch.nulls, sketch.rows), cfg)

    def compare_counts(
        self, cur_counts: pd.Series, nulls: tuple[int, int], cfg: MonitorConfig
    ) -> DriftRecord:
        """compare() from the current label counts and (null rows, rows)."""
        categories = sorted(set(self.counts.index) | set(cur_counts.index))
        ref_share, cur_share = _shares(self.counts, categories), _shares(cur_counts, categories)
        if self.large:
            test, threshold = "jensenshannon", cfg.jensenshannon_threshold
            statistic = float(jensenshannon(ref_share + EPSILON, cur_share + EPSILON))
        else:
            test, threshold = "chi2_p_value", cfg.p_value_threshold
            rows = int(cur_counts.sum())
            expected = (ref_share + EPSILON) / (ref_share + EPSILON).sum() * rows
            statistic = float(stats.chisquare(cur_share * rows, expected).pvalue)
        new = [c for c, r in zip(categories, ref_share, strict=True) if r == 0]
        missing = [c for c, s in zip(categories, cur_share, strict=True) if s == 0]
        psi = _psi(ref_share, cur_share)
        null_rate = nulls[0] / nulls[1] if nulls[1] else float("nan")
        record = _record(
            self.column, "categorical", test, statistic, threshold, psi, self.null_rate, null_rate
        )
        return record.model_copy(update={"new_categories": new, "missing_categories": missing})


ColumnProfile = NumericProfile | CategoricalProfile


@dataclass(frozen=True)
class ColumnSketch:
    """A current column summed up for its profile: rows, nulls and, for a number, the
    count and the sum of its values in each bin between the reference's values and its
    counts in the PSI bins; for a category, its label counts. Sketches of parts of a
    batch add up to the batch's."""

    rows: int
    nulls: int
    bins: np.ndarray | None = None
    sums: np.ndarray | None = None
    labels: pd.Series | None = None
    psi_bins: np.ndarray | None = None

    def __add__(self, other: ColumnSketch) -> ColumnSketch:
        def added(a: Any, b: Any) -> Any:
            return b if a is None else a if b is None else a + b

        labels = (
            self.labels.add(other.labels, fill_value=0).astype("int64")
            if self.labels is not None and other.labels is not None
            else added(self.labels, other.labels)
        )
        return ColumnSketch(
            self.rows + other.rows,
            self.nulls + other.nulls,
            added(self.bins, other.bins),
            added(self.sums, other.sums),
            labels,
            added(self.psi_bins, other.psi_bins),
        )


def profile_column(
    column: str, reference: pd.Series, cfg: MonitorConfig, numeric: bool
) -> ColumnProfile:
    null_rate = float(reference.isna().mean())
    values = _sorted_non_null(reference) if numeric else np.empty(0)
    large = int(reference.notna().sum()) > cfg.large_sample_rows
    if numeric and _distinct_sorted(values) > FEW_DISTINCT:
        edges = np.unique(np.quantile(values, np.linspace(0, 1, PSI_BINS + 1)))[1:-1]
        shares = _bin_shares(values, edges)
        return NumericProfile(
            column, values, float(np.std(values)), edges, shares, null_rate, large
        )
    return CategoricalProfile(column, _label_counts(reference), null_rate, large)


@dataclass(frozen=True)
class ReferenceProfile:
    """The reference profiled once, compared with any number of batches or windows."""

    columns: list[ColumnProfile]
    cfg: MonitorConfig

    @classmethod
    def of(
        cls,
        reference: pd.DataFrame,
        numeric: list[str],
        categorical: list[str],
        cfg: MonitorConfig,
    ) -> ReferenceProfile:
        columns = [*numeric, *categorical]
        profiles = _parallel(
            lambda column: profile_column(column, reference[column], cfg, column in numeric),
            columns,
        )
        return cls(profiles, cfg)

    def compare(self, current: pd.DataFrame) -> list[DriftRecord]:
        return _parallel(lambda p: p.compare(current[p.column], self.cfg), self.columns)


def feature_drift(
    column: str, reference: pd.Series, current: pd.Series, cfg: MonitorConfig, numeric: bool
) -> DriftRecord:
    return profile_column(column, reference, cfg, numeric).compare(current, cfg)


def dataset_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    cfg: MonitorConfig,
) -> list[DriftRecord]:
    return ReferenceProfile.of(reference, numeric, categorical, cfg).compare(current)


def _parallel(work: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """`work` on each item, one thread per core (NumPy's sorts release the GIL). Typed
    with Any, not type variables: their spelling differs across the Pythons a render targets."""
    items = list(items)
    if len(items) < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(min(len(items), os.cpu_count() or 1)) as pool:
        return list(pool.map(work, items))


def _record(
    column: str,
    kind: str,
    test: str,
    statistic: float,
    threshold: float,
    psi: float,
    null_rate_reference: float,
    null_rate_current: float,
) -> DriftRecord:
    drifted = statistic < threshold if test.endswith("p_value") else statistic > threshold
    return DriftRecord(
        column=column,
        kind=kind,
        test=test,
        statistic=round(float(statistic), 6),
        threshold=threshold,
        drifted=bool(drifted),
        psi=round(psi, 6),
        null_rate_reference=round(null_rate_reference, 6),
        null_rate_current=round(float(null_rate_current), 6),
    )


def _nulls(series: pd.Series) -> tuple[int, int]:
    return int(series.isna().sum()), len(series)


def _rate(sketch: ColumnSketch) -> float:
    return sketch.nulls / sketch.rows if sketch.rows else float("nan")


def _sorted_non_null(series: pd.Series) -> np.ndarray:
    values = np.sort(series.to_numpy(dtype=float, na_value=np.nan))
    return values[: np.searchsorted(values, np.nan)]  # NaN sorts last


def _distinct_sorted(values: np.ndarray) -> int:
    return int(np.count_nonzero(values[1:] != values[:-1])) + 1 if len(values) else 0


def _wasserstein_sorted(u: np.ndarray, v: np.ndarray) -> float:
    """SciPy's `wasserstein_distance` on sorted samples, as the area between the two
    quantile functions: both are steps, at i/n for u and j/m for v, so the merged steps
    are placed by integer arithmetic (in units of 1/(n*m)) instead of a sort."""
    n, m = len(u), len(v)
    if not n or not m:
        return float(stats.wasserstein_distance(u, v))  # SciPy's error for an empty sample
    i, j = np.arange(1, n + 1, dtype=np.int64), np.arange(1, m + 1, dtype=np.int64)
    ends = np.empty(n + m, dtype=np.int64)
    ends[(i - 1) + (i * m - 1) // n] = i * m  # after the v-steps strictly before it
    ends[(j - 1) + (j * n) // m] = j * n  # after the u-steps up to and at it
    widths = np.diff(ends, prepend=0)
    gaps = np.abs(u[(ends - 1) // m] - v[(ends - 1) // n])  # both quantiles on (start, end]
    return float(np.sum(widths * gaps)) / (n * m)  # not np.dot: BLAS threads fight the pool


def _wasserstein_binned(u: np.ndarray, counts: np.ndarray, sums: np.ndarray) -> float:
    """_wasserstein_sorted(u, v) for a sample v known by the count and the sum of its
    values in each bin of the sorted sample u (bin i: the values with i of u at or below
    them). On each span between distinct values of u the reference's distribution
    function is flat; v's is taken as one step, at the mean of its values in the span,
    which keeps its integral over the span exact. So the area between the two is exact
    where they do not cross inside a span, or where v's values in it are equal (integers
    on an integer grid); else off by less than the span's width times its share of v."""
    m = int(counts.sum())
    if not len(u) or not m:
        return _wasserstein_sorted(u, np.empty(0))  # SciPy's error for an empty sample
    starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]])
    points = u[starts]  # u's distinct values
    ends = np.r_[starts[1:], len(u)]  # how many of u are at or below each: the span's bin
    tails = (counts[0] * points[0] - sums[0]) + (sums[-1] - counts[-1] * points[-1])
    inner = ends[:-1]  # the bins of the spans between distinct values
    width = np.diff(points)
    n_in = counts[inner]
    below = (np.cumsum(counts)[inner] - n_in) / m  # v's share left of the span
    flat_f = inner / len(u)
    mean_at = np.where(n_in > 0, sums[inner] / np.maximum(n_in, 1) - points[:-1], width)
    step = np.clip(mean_at, 0, width)  # where v's step is, from the span's start
    area = np.abs(flat_f - below) * step + np.abs(below + n_in / m - flat_f) * (width - step)
    return float(tails / m + np.sum(area))


def _bin_shares(sorted_values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """`np.histogram` shares over [-inf, *inner_edges, inf] for sorted values."""
    below = np.searchsorted(sorted_values, inner_edges, side="left")
    counts = np.diff(np.concatenate([[0], below, [len(sorted_values)]]))
    return counts / max(len(sorted_values), 1)


def _label_counts(series: pd.Series) -> pd.Series:
    """Non-null rows per label as text (as `astype(str)` would name them), counted once."""
    counts = series.value_counts(dropna=True)
    counts = counts[counts > 0]  # a categorical dtype lists unobserved categories too
    counts.index = counts.index.astype(str)
    return counts.groupby(level=0).sum() if counts.index.has_duplicates else counts


def _shares(counts: pd.Series, categories: list[str]) -> np.ndarray:
    return counts.reindex(categories, fill_value=0).to_numpy(float) / max(int(counts.sum()), 1)


def _psi(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    ref_share, cur_share = ref_share + EPSILON, cur_share + EPSILON
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))
