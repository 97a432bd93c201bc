"""The preprocessing fitted from statistics of the whole train split (engine: dask).

`build_preprocessor`'s pipeline is fitted on pandas by one `fit` over the train frame.
On a cluster the split is never in one process, so its fitted state comes from
per-partition passes instead: row and null counts, means and squared deviations (merged
as Chan et al. do), exact medians (value counts where values repeat, else a histogram
that narrows to the band holding the middle rank, then that band), and the label counts
of every categorical column. The same pipeline object is then fitted on a small
synthetic frame with the same categories, frequencies and gaps, and the numbers a fit
would have computed are set from the statistics. The result is the kind of object a
pandas run packages, so package, the compiled path and the service take it unchanged.

Yeo-Johnson powers are estimated on the seeded sample the exploratory report reads
(`features.explore.sample_rows`): a maximum-likelihood fit, not a statistic of a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from ..config import DataConfig, FeaturesConfig
from ..errors import DataError
from .pipeline import as_model_input

# A column with at most this many distinct values gets its median from value counts.
EXACT_DISTINCT = 1000
HISTOGRAM_BINS = 4096


@dataclass
class Moments:
    """Rows, nulls, and the mean and squared deviations of the non-null values."""

    rows: int = 0
    nulls: int = 0
    mean: float = 0.0
    m2: float = 0.0
    low: float = np.inf
    high: float = -np.inf
    counts: pd.Series | None = field(default_factory=lambda: pd.Series(dtype="float64"))

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        present = values[~np.isnan(values)]
        distinct, seen = np.unique(present, return_counts=True)
        few = pd.Series(seen, index=distinct) if len(distinct) <= EXACT_DISTINCT else None
        return cls(
            rows=len(values),
            nulls=len(values) - len(present),
            mean=float(present.mean()) if len(present) else 0.0,
            m2=float(((present - present.mean()) ** 2).sum()) if len(present) else 0.0,
            low=float(present.min()) if len(present) else np.inf,
            high=float(present.max()) if len(present) else -np.inf,
            counts=few,
        )

    @property
    def present(self) -> int:
        return self.rows - self.nulls

    def merge(self, other: Moments) -> Moments:
        n_a, n_b = self.present, other.present
        total = n_a + n_b
        delta = other.mean - self.mean
        counts = None
        if self.counts is not None and other.counts is not None:
            counts = self.counts.add(other.counts, fill_value=0)
            counts = counts if len(counts) <= EXACT_DISTINCT else None
        return Moments(
            rows=self.rows + other.rows,
            nulls=self.nulls + other.nulls,
            mean=self.mean + delta * n_b / total if total else 0.0,
            m2=self.m2 + other.m2 + delta**2 * n_a * n_b / total if total else 0.0,
            low=min(self.low, other.low),
            high=max(self.high, other.high),
            counts=counts,
        )


@dataclass(frozen=True)
class Layout:
    """Where the statistics come from: the pipeline's steps and its columns."""

    derive: Any
    encode: ColumnTransformer
    numeric: list[str]
    categorical: list[str]

    @classmethod
    def of(cls, preprocessor: Pipeline | ColumnTransformer) -> Layout:
        derive = preprocessor.named_steps["derive"] if isinstance(preprocessor, Pipeline) else None
        encode = preprocessor.named_steps["encode"] if derive is not None else preprocessor
        columns = {name: list(cols) for name, _, cols in encode.transformers}
        return cls(derive, encode, columns["numeric"], columns["categorical"])

    def numeric_steps(self) -> dict[str, Any]:
        return dict(self.encode.transformers[0][1].steps)

    def categorical_steps(self) -> dict[str, Any]:
        return dict(self.encode.transformers[1][1].steps)


def fit_from_partitions(
    preprocessor: Pipeline | ColumnTransformer,
    train: dd.DataFrame,
    sample: pd.DataFrame,
    features: FeaturesConfig,
    data: DataConfig,
) -> Pipeline | ColumnTransformer:
    """`preprocessor` (unfitted, from build_preprocessor) fitted on the whole of `train`."""
    layout = Layout.of(preprocessor)
    if layout.derive is not None:
        layout.derive.fit(as_model_input(sample, data, features))
    skew = layout.numeric_steps().get("transform")
    if skew is not None:
        skew.fit(_derived(sample, layout, data, features)[layout.numeric])
    parts = train.to_delayed()
    first = [dask.delayed(_part_statistics)(p, layout, skew, data, features) for p in parts]
    merged = _merge(dask.compute(*first))
    numbers: dict[str, Moments] = merged["numeric"]
    labels: dict[str, pd.Series] = merged["categorical"]
    _refuse_unfittable(numbers, labels, merged["raw_low"], skew, features)
    centre = _centres(numbers, Passes(parts, layout, skew, data, features))
    shape = _derived(sample.head(1), layout, data, features)
    layout.encode.fit(_synthetic(numbers, labels, shape, layout, features))
    _set_numeric_state(layout, skew, numbers, centre)
    return preprocessor


def _derived(
    frame: pd.DataFrame, layout: Layout, data: DataConfig, features: FeaturesConfig
) -> pd.DataFrame:
    inputs = as_model_input(frame, data, features)
    return layout.derive.transform(inputs) if layout.derive is not None else inputs


def _numbers(
    frame: pd.DataFrame, layout: Layout, skew: Any, data: DataConfig, features: FeaturesConfig
) -> pd.DataFrame:
    """The numeric columns as the imputer sees them: derived, then skew-transformed."""
    numeric = _derived(frame, layout, data, features)[layout.numeric].astype("float64")
    return skew.transform(numeric) if skew is not None else numeric


def _part_statistics(
    part: pd.DataFrame, layout: Layout, skew: Any, data: DataConfig, features: FeaturesConfig
) -> dict[str, Any]:
    derived = _derived(part, layout, data, features)
    raw = derived[layout.numeric].astype("float64")
    numeric = skew.transform(raw) if skew is not None else raw
    normalise = layout.categorical_steps()["normalise"].fit(derived[layout.categorical])
    labels = normalise.transform(derived[layout.categorical])
    return {
        "numeric": {c: Moments.of(numeric[c].to_numpy()) for c in layout.numeric},
        "raw_low": {c: float(np.nanmin(raw[c].to_numpy(), initial=np.inf)) for c in layout.numeric},
        "categorical": {c: labels[c].value_counts(dropna=False) for c in layout.categorical},
    }


def _merge(parts: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    numeric: dict[str, Moments] = {}
    categorical: dict[str, pd.Series] = {}
    raw_low: dict[str, float] = {}
    for part in parts:
        for column, moments in part["numeric"].items():
            numeric[column] = numeric[column].merge(moments) if column in numeric else moments
        for column, low in part["raw_low"].items():
            raw_low[column] = min(raw_low.get(column, np.inf), low)
        for column, counts in part["categorical"].items():
            seen = categorical.get(column)
            categorical[column] = counts if seen is None else _add_counts(seen, counts)
    return {"numeric": numeric, "categorical": categorical, "raw_low": raw_low}


def _add_counts(a: pd.Series, b: pd.Series) -> pd.Series:
    """Label counts added; NaN (missing) is a label of its own."""
    merged = pd.concat([a, b])
    key = merged.index.to_series().fillna("\0missing").to_numpy()
    summed = merged.groupby(key, sort=False).sum()
    summed.index = pd.Index([np.nan if k == "\0missing" else k for k in summed.index], dtype=object)
    return summed


def _refuse_unfittable(
    numbers: dict[str, Moments],
    labels: dict[str, pd.Series],
    raw_low: dict[str, float],
    skew: Any,
    features: FeaturesConfig,
) -> None:
    """What the pandas fit refuses, or what a fit from statistics cannot reproduce."""
    empty = [c for c, m in numbers.items() if m.present == 0]
    if empty:
        raise DataError(f"numeric columns {empty} have no value in the train split")
    for column, method in (skew.methods or {}).items() if skew is not None else ():
        if method == "log1p" and raw_low[column] <= -1:
            raise DataError(
                f"features.transforms {column!r}: log1p needs values above -1, the train "
                f"split has {raw_low[column]:g}; use yeo-johnson"
            )
    rare = [
        c
        for c, counts in labels.items()
        if counts[counts.index.notna()].max() < features.min_category_frequency
    ]
    if rare:
        raise DataError(
            f"categorical columns {rare}: no category reaches features.min_category_frequency "
            f"({features.min_category_frequency}) in the train split; lower it or drop them"
        )


@dataclass(frozen=True)
class Passes:
    """The train split's partitions, and how one becomes the numbers the imputer sees."""

    parts: list[Any]
    layout: Layout
    skew: Any
    data: DataConfig
    features: FeaturesConfig

    def numbers(self, part: pd.DataFrame) -> pd.DataFrame:
        return _numbers(part, self.layout, self.skew, self.data, self.features)


def _centres(numbers: dict[str, Moments], passes: Passes) -> dict[str, float]:
    """The imputer's fill value per numeric column: the mean, or the exact median."""
    strategy = passes.layout.numeric_steps()["impute"].strategy
    if strategy == "mean":
        return {c: m.mean for c, m in numbers.items()}
    centre = {c: _median_of_counts(m.counts) for c, m in numbers.items() if m.counts is not None}
    rest = [c for c in numbers if c not in centre]
    if rest:
        centre.update(_median_by_band(numbers, rest, passes))
    return centre


def _median_of_counts(counts: pd.Series) -> float:
    ordered = counts.sort_index()
    ends = np.cumsum(ordered.to_numpy())
    total = int(ends[-1])
    values = ordered.index.to_numpy(float)
    lower = values[np.searchsorted(ends, (total - 1) // 2, side="right")]
    upper = values[np.searchsorted(ends, total // 2, side="right")]
    return float((lower + upper) / 2)


def _median_by_band(
    numbers: dict[str, Moments], columns: list[str], passes: Passes
) -> dict[str, float]:
    """np.median exactly, in two more passes: a histogram places the middle ranks in a
    bin or two; then only the values in those bins are gathered."""
    edges = {c: np.linspace(numbers[c].low, numbers[c].high, HISTOGRAM_BINS + 1) for c in columns}

    def histogram(part: pd.DataFrame) -> dict[str, np.ndarray]:
        frame = passes.numbers(part)
        return {c: _bin_counts(frame[c].to_numpy(), edges[c]) for c in columns}

    counted = dask.compute(*[dask.delayed(histogram)(p) for p in passes.parts])
    bands: dict[str, tuple[float, float, int]] = {}
    for column in columns:
        counts = np.sum([c[column] for c in counted], axis=0)
        ends = np.cumsum(counts)
        present = int(ends[-1])
        first = int(np.searchsorted(ends, (present - 1) // 2, side="right"))
        last = int(np.searchsorted(ends, present // 2, side="right"))
        below = int(ends[first - 1]) if first else 0
        bands[column] = (edges[column][first], edges[column][last + 1], below)

    def band(part: pd.DataFrame) -> dict[str, np.ndarray]:
        frame = passes.numbers(part)
        return {c: _in_band(frame[c].to_numpy(), *bands[c][:2]) for c in columns}

    gathered = dask.compute(*[dask.delayed(band)(p) for p in passes.parts])
    medians = {}
    for column in columns:
        values = np.sort(np.concatenate([g[column] for g in gathered]))
        present, below = numbers[column].present, bands[column][2]
        lower = values[(present - 1) // 2 - below]
        upper = values[present // 2 - below]
        medians[column] = float((lower + upper) / 2)
    return medians


def _bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    present = values[~np.isnan(values)]
    # The last bin is closed on the right, as np.histogram's is.
    index = np.clip(np.searchsorted(edges, present, side="right") - 1, 0, len(edges) - 2)
    return np.bincount(index, minlength=len(edges) - 1)


def _in_band(values: np.ndarray, low: float, high: float) -> np.ndarray:
    present = values[~np.isnan(values)]
    return present[(present >= low) & (present <= high)]


def _synthetic(
    numbers: dict[str, Moments],
    labels: dict[str, pd.Series],
    shape: pd.DataFrame,
    layout: Layout,
    features: FeaturesConfig,
) -> pd.DataFrame:
    """A frame whose fit gives the encoder the train split's categories, infrequent
    categories and missing indicators; its numbers are placeholders set afterwards.
    Its other columns (inputs the encoder leaves out) repeat one real row of `shape`."""
    least = features.min_category_frequency
    columns: dict[str, list[Any]] = {}
    for column, counts in labels.items():
        values: list[Any] = []
        for label, count in counts.items():
            values += [label] * int(min(count, least))
        columns[column] = values
    rows = max([len(v) for v in columns.values()] + [2])
    frame = shape.iloc[[0] * rows].reset_index(drop=True)
    for column, values in columns.items():
        top = labels[column].drop([k for k in labels[column].index if pd.isna(k)])
        padding = top.idxmax() if len(top) else values[0]  # adds to a frequent category only
        frame[column] = pd.Series(values + [padding] * (rows - len(values)), dtype=object)
    for column, moments in numbers.items():
        placeholder = np.arange(rows, dtype="float64")
        if moments.nulls:
            placeholder[0] = np.nan  # the missing indicator sees the column's gaps
        frame[column] = placeholder
    return frame


def _set_numeric_state(
    layout: Layout, skew: Any, numbers: dict[str, Moments], centre: dict[str, float]
) -> None:
    """The numbers a fit on the whole split computes, set on the fitted steps."""
    steps = dict(layout.encode.named_transformers_["numeric"].steps)
    columns = layout.numeric
    if skew is not None:  # fitted on the sample; the synthetic fit replaced its powers
        steps["transform"].powers_ = dict(skew.powers_)
    impute = steps["impute"]
    impute.statistics_ = np.array([centre[c] for c in columns], dtype="float64")
    scale = steps.get("scale")
    if scale is None:
        return
    means, variances = [], []
    for column in columns:
        mean, variance = _imputed_moments(numbers[column], centre[column])
        means.append(mean)
        variances.append(variance)
    indicator = getattr(impute, "indicator_", None)
    flagged = [] if indicator is None else [columns[i] for i in indicator.features_]
    for column in flagged:  # the missing indicator: a 0/1 column with share p
        share = numbers[column].nulls / numbers[column].rows
        means.append(share)
        variances.append(share * (1 - share))
    rows = numbers[columns[0]].rows
    scale.mean_ = np.array(means)
    scale.var_ = np.array(variances)
    scale.scale_ = np.where(scale.var_ > 0, np.sqrt(scale.var_), 1.0)
    scale.n_samples_seen_ = rows


def _imputed_moments(moments: Moments, fill: float) -> tuple[float, float]:
    """Mean and variance of the column once its gaps hold `fill`."""
    present, nulls = moments.present, moments.nulls
    total = present + nulls
    delta = fill - moments.mean
    mean = moments.mean + delta * nulls / total
    m2 = moments.m2 + delta**2 * present * nulls / total
    return mean, m2 / total
