"""Mutual information of each feature with the target, on a bounded, seeded sample.

The exploratory report shows it; the selection keeps, of two redundant features, the
one with more of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression


def sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    return frame if len(frame) <= rows else frame.sample(n=rows, random_state=seed)


def mutual_information(
    frame: pd.DataFrame, target: pd.Series, classification: bool, seed: int
) -> dict[str, float]:
    """Nats per feature: numbers with missing values at the median, categories as codes."""
    columns: dict[str, Any] = {}
    discrete: list[bool] = []
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values):
            filled = values.astype("float64")
            columns[name] = filled.fillna(filled.median() if filled.notna().any() else 0.0)
            discrete.append(False)
        else:
            columns[name] = pd.Series(pd.factorize(values, use_na_sentinel=False)[0])
            discrete.append(True)
    if classification:
        outcome = pd.factorize(target.astype(str))[0]
        estimate = mutual_info_classif
    else:
        outcome = target.to_numpy(dtype=np.float64)
        estimate = mutual_info_regression
    scores = []
    # One column a call, each with the same seed: the estimator's jitter then depends on
    # the column alone, so two identical columns score identically (a fair tie-break).
    for column, is_discrete in zip(columns.values(), discrete, strict=True):
        matrix = np.asarray(column, dtype=np.float64).reshape(-1, 1)
        found = estimate(matrix, outcome, discrete_features=[is_discrete], random_state=seed)
        scores.append(found[0])
    return {name: max(float(s), 0.0) for name, s in zip(columns, scores, strict=True)}


def target_information(target: pd.Series, classification: bool) -> float:
    """The most information a feature could share with the target: its entropy in nats
    (classes), or that of a Gaussian explaining 99% of its variance (regression)."""
    if classification:
        shares = target.astype(str).value_counts(normalize=True).to_numpy()
        return float(-(shares * np.log(shares)).sum())
    return float(-0.5 * np.log(1 - 0.99))
