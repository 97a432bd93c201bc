"""Slice analysis: good averages can hide subgroups where the model does harm."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import EvaluateConfig, ProblemSpec
from .business import value_per_decision


@dataclass(frozen=True)
class Slice:
    column: str
    value: str
    rows: int
    model_value_per_1000: float
    baseline_value_per_1000: float
    uplift_per_1000: float
    too_small: bool
    flagged: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def slice_labels(values: pd.Series, numeric: bool, bins: int) -> pd.Series:
    """Categories as they are; numbers in quantile bins such as '(12.0, 24.0]'.

    A numeric column with no more distinct values than bins is sliced per value.
    """
    if numeric and values.nunique() > bins:
        binned = pd.qcut(values.astype(float), q=bins, duplicates="drop")
        return binned.astype(str).where(values.notna(), "__missing__")
    return values.astype(str).where(values.notna(), "__missing__")


def analyse(
    problem: ProblemSpec,
    cfg: EvaluateConfig,
    raw: pd.DataFrame,
    numeric_columns: list[str],
    actual: pd.Series,
    model_decisions: np.ndarray,
    baseline_decisions: np.ndarray,
) -> list[Slice]:
    per_row = pd.DataFrame(
        {
            "model": value_per_decision(problem, actual, model_decisions) * 1000,
            "baseline": value_per_decision(problem, actual, baseline_decisions) * 1000,
        }
    )
    found = []
    for column in cfg.slice_columns:
        labels = slice_labels(raw[column], column in numeric_columns, cfg.slice_bins)
        for value, group in per_row.groupby(labels.to_numpy(), sort=True):
            model, baseline = float(group["model"].mean()), float(group["baseline"].mean())
            too_small = len(group) < cfg.min_slice_rows
            flagged = not too_small and model - baseline < cfg.slice_floor_uplift_per_1000
            found.append(
                Slice(
                    column,
                    str(value),
                    len(group),
                    round(model, 2),
                    round(baseline, 2),
                    round(model - baseline, 2),
                    too_small,
                    flagged,
                )
            )
    return found
