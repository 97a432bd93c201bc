"""Training-serving skew: a production batch whose inputs are broken, not drifted.

The monitor measures drift and decides on retraining; this gate stops what no
model should score: a feature whose distribution moved by more than `max_skew`
training standard deviations (a unit change, a swapped or re-coded column), or
whose share of nulls rose by more than `max_null_rate_shift` (a join that broke).
Categories the model never saw are the serving suite's concern (its value sets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..config import DataConfig
from .gates import Failure, GateResult

EPSILON = 1e-9


@dataclass(frozen=True)
class Counts:
    """What the gate counts exactly on the whole batch (added up part by part on the
    dask engine, where the distances come from a seeded sample of the batch)."""

    rows: int
    nulls: dict[str, int]
    infinite: dict[str, int]

    @classmethod
    def of(cls, production: pd.DataFrame, data: DataConfig) -> Counts:
        present = [c for c in data.features if c in production]
        return cls(
            rows=len(production),
            nulls={c: int(production[c].isna().sum()) for c in present},
            infinite={
                c: int(np.isinf(pd.to_numeric(production[c], errors="coerce")).sum())
                for c in data.numeric
                if c in production
            },
        )

    def __add__(self, other: Counts) -> Counts:
        def added(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
            return {c: a.get(c, 0) + b.get(c, 0) for c in {**a, **b}}

        return Counts(
            self.rows + other.rows,
            added(self.nulls, other.nulls),
            added(self.infinite, other.infinite),
        )


def gate(
    training: pd.DataFrame,
    production: pd.DataFrame,
    data: DataConfig,
    counts: Counts | None = None,
) -> GateResult:
    """`counts`: the whole batch's, where `production` is a sample of it."""
    counts = counts or Counts.of(production, data)
    if not counts.rows:  # nothing to compare; the serving gate reports an empty batch
        return GateResult("skew", "production vs training", 0, 0, [])
    failures = [
        *(f for c in data.numeric if (f := numeric_skew(c, training, production, data, counts))),
        *(f for c in data.features if (f := null_rate_rise(c, training, counts, data))),
    ]
    checked = len(data.numeric) + len(data.features)
    return GateResult("skew", "production vs training", counts.rows, checked, failures)


def numeric_skew(
    column: str,
    training: pd.DataFrame,
    production: pd.DataFrame,
    data: DataConfig,
    counts: Counts,
) -> Failure | None:
    if column not in production or column not in training:
        return None  # the suites report a missing column
    before, now = finite(training[column]), finite(production[column])
    infinite = counts.infinite[column]
    rule = f"max_skew={data.checks.max_skew} training std"
    if infinite:
        observed = f"{infinite} infinite value(s) in production"
        return Failure("production_matches_training", column, rule, observed)
    if not len(before) or not len(now):
        return None
    spread = float(np.std(before))
    if spread < EPSILON:
        # Constant in training: there is no spread to measure a distance in.
        if np.allclose(now, before[0]):
            return None
        observed = (
            f"training holds only {before[0]:.4g}; production has other values "
            f"(median {np.median(now):.4g})"
        )
        return Failure("production_matches_training", column, rule, observed)
    distance = stats.wasserstein_distance(before, now) / spread
    if distance <= data.checks.max_skew:
        return None
    return Failure(
        "production_matches_training",
        column,
        rule,
        f"{distance:.2f} training std apart (median {np.median(now):.4g} in production, "
        f"{np.median(before):.4g} in training)",
    )


def finite(values: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(float)
    return numbers[np.isfinite(numbers)]


def null_rate_rise(
    column: str, training: pd.DataFrame, counts: Counts, data: DataConfig
) -> Failure | None:
    if column not in counts.nulls or column not in training:
        return None
    before, now = float(training[column].isna().mean()), counts.nulls[column] / counts.rows
    if now - before <= data.checks.max_null_rate_shift:
        return None
    return Failure(
        "null_rate_matches_training",
        column,
        f"max_null_rate_shift={data.checks.max_null_rate_shift}",
        f"{now:.3f} null in production vs {before:.3f} in training",
    )
