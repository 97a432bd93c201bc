"""Training-serving skew: a production batch whose inputs are broken, not drifted.

The monitor measures drift and decides on retraining; this gate stops what no
model should score: a feature whose distribution moved by more than `max_skew`
training standard deviations (a unit change, a swapped or re-coded column), or
whose share of nulls rose by more than `max_null_rate_shift` (a join that broke).
Categories the model never saw are the serving suite's concern (its value sets).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..config import DataConfig
from .gates import Failure, GateResult

EPSILON = 1e-9


def gate(training: pd.DataFrame, production: pd.DataFrame, data: DataConfig) -> GateResult:
    if production.empty:  # nothing to compare; the serving gate reports an empty batch
        return GateResult("skew", "production vs training", 0, 0, [])
    failures = [
        *(f for c in data.numeric if (f := numeric_skew(c, training, production, data))),
        *(f for c in data.features if (f := null_rate_rise(c, training, production, data))),
    ]
    checked = len(data.numeric) + len(data.features)
    return GateResult("skew", "production vs training", len(production), checked, failures)


def numeric_skew(
    column: str, training: pd.DataFrame, production: pd.DataFrame, data: DataConfig
) -> Failure | None:
    if column not in production or column not in training:
        return None  # the suites report a missing column
    before, now = finite(training[column]), finite(production[column])
    infinite = int(np.isinf(pd.to_numeric(production[column], errors="coerce")).sum())
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
    column: str, training: pd.DataFrame, production: pd.DataFrame, data: DataConfig
) -> Failure | None:
    if column not in production or column not in training:
        return None
    before, now = float(training[column].isna().mean()), float(production[column].isna().mean())
    if now - before <= data.checks.max_null_rate_shift:
        return None
    return Failure(
        "null_rate_matches_training",
        column,
        f"max_null_rate_shift={data.checks.max_null_rate_shift}",
        f"{now:.3f} null in production vs {before:.3f} in training",
    )
