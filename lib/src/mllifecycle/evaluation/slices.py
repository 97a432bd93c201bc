"""Slice analysis: good averages can hide subgroups where the model does harm.

A slice is judged on the paired per-row value differences (the model's value
minus the best baseline's, on the same decisions' rows), so that a few hundred
rows slightly below the floor by chance do not fail a good model: a slice is
flagged only when even the one-sided upper confidence bound of the mean
difference (normal approximation: mean + z * std / sqrt(n)) is below the floor.
"""

from __future__ import annotations

from itertools import pairwise
from statistics import NormalDist

import numpy as np
import pandas as pd

from ..config import EvaluateConfig, ProblemSpec
from ..contracts import SliceRecord
from .business import value_per_decision

MISSING = "__missing__"


def method(confidence: float) -> str:
    """How a slice is judged, in words (recorded in the verdict and the model card)."""
    return f"one-sided normal bound on the mean paired difference, {confidence * 100:g}%"


def upper_bound(differences: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Mean, standard error and one-sided upper confidence bound of paired differences."""
    n = len(differences)
    mean = float(np.mean(differences))
    se = float(np.std(differences, ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    return mean, se, mean + NormalDist().inv_cdf(confidence) * se


def _edge(value: float, digits: int) -> str:
    text = f"{value:.{digits}g}"
    # Large edges read better as whole numbers than as 1.23e+04.
    return f"{value:.0f}" if "e+" in text else text


def _interval_labels(edges: np.ndarray) -> list[str]:
    """'[1.1, 10.6]', '(10.6, 25]' per bin: the fewest significant digits (3 or more) that keep edges distinct."""
    for digits in range(3, 17):
        shown = [_edge(float(e), digits) for e in edges]
        if len(set(shown)) == len(shown):
            break
    # The lowest bin holds its lower edge (the minimum); the others do not.
    return [
        f"{'[' if i == 0 else '('}{low}, {high}]" for i, (low, high) in enumerate(pairwise(shown))
    ]


def slice_labels(values: pd.Series, numeric: bool, bins: int) -> pd.Series:
    """Categories as they are; numbers in quantile bins such as "(12, 24.5]", in bin order.

    A numeric column with no more distinct values than bins is sliced per value.
    """
    if numeric and values.nunique() > bins:
        codes, edges = pd.qcut(
            values.astype(float), q=bins, labels=False, retbins=True, duplicates="drop"
        )
        names = _interval_labels(edges)
        labels = pd.Series(
            [names[int(c)] if pd.notna(c) else MISSING for c in codes], index=values.index
        )
        return labels.astype(pd.CategoricalDtype([*names, MISSING], ordered=True))
    return values.astype(str).where(values.notna(), MISSING)


def analyse(
    problem: ProblemSpec,
    cfg: EvaluateConfig,
    raw: pd.DataFrame,
    numeric_columns: list[str],
    actual: pd.Series,
    model_decisions: np.ndarray,
    baseline_decisions: np.ndarray,
    columns: list[str] | None = None,
) -> list[SliceRecord]:
    """Every slice of `columns` (default: cfg.slice_columns, which must then be set)."""
    if columns is None:
        if cfg.slice_columns is None:
            raise ValueError("pass the slice columns resolved from the data config")
        columns = cfg.slice_columns
    per_row = pd.DataFrame(
        {
            "model": value_per_decision(problem, actual, model_decisions) * 1000,
            "baseline": value_per_decision(problem, actual, baseline_decisions) * 1000,
        }
    )
    per_row["difference"] = per_row["model"] - per_row["baseline"]
    found = []
    for column in columns:
        labels = slice_labels(raw[column], column in numeric_columns, cfg.slice_bins)
        # Aligned by position; numeric bins (categorical dtype) come in bin order.
        grouping = labels.reset_index(drop=True)
        for value, group in per_row.groupby(grouping, sort=True, observed=True):
            found.append(_judge(column, str(value), group, cfg))
    return found


def _judge(column: str, value: str, group: pd.DataFrame, cfg: EvaluateConfig) -> SliceRecord:
    rows = len(group)
    mean, se, bound = upper_bound(group["difference"].to_numpy(), cfg.slice_confidence)
    # Below two rows there is no spread to judge noise by.
    too_small = rows < max(cfg.min_slice_rows, 2)
    return SliceRecord(
        column=column,
        value=value,
        rows=rows,
        model_value_per_1000=round(float(group["model"].mean()), 2),
        baseline_value_per_1000=round(float(group["baseline"].mean()), 2),
        uplift_per_1000=round(mean, 2),
        uplift_se_per_1000=round(se, 2),
        uplift_upper_bound_per_1000=round(bound, 2),
        too_small=too_small,
        flagged=not too_small and bound < cfg.slice_floor_uplift_per_1000,
    )
