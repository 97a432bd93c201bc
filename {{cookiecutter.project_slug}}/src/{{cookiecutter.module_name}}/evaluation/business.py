"""Turn model scores into decisions, and decisions into business value.

A decision policy is tuned on the validation split and then applied unchanged
to the test split and in production:
- binary: a probability threshold that maximises value on validation;
- multiclass: the class with the highest expected value under the value matrix;
- regression: an offset on the prediction at the newsvendor quantile of the
  validation residuals, because under- and over-prediction cost different amounts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..config import ProblemSpec

THRESHOLD_GRID = np.linspace(0.0, 1.0, 201)


@dataclass(frozen=True)
class DecisionPolicy:
    kind: Literal["threshold", "expected_value", "offset"]
    value: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DecisionPolicy:
        return cls(kind=raw["kind"], value=float(raw["value"]))


def value_matrix(problem: ProblemSpec) -> np.ndarray:
    """Rows: actual class, columns: decided class, in the spec's class order."""
    assert problem.value_matrix is not None
    labels = problem.labels
    return np.array([[problem.value_matrix[a][d] for d in labels] for a in labels])


def decide(problem: ProblemSpec, policy: DecisionPolicy, scores: np.ndarray) -> np.ndarray:
    """Decisions as class labels (strings) or numbers, from scores."""
    labels = np.asarray(problem.labels, dtype=object)
    if policy.kind == "threshold":
        return np.where(scores[:, 1] >= policy.value, labels[1], labels[0])
    if policy.kind == "expected_value":
        return labels[(scores @ value_matrix(problem)).argmax(axis=1)]
    return scores + policy.value


def value_per_decision(
    problem: ProblemSpec, actual: pd.Series, decisions: np.ndarray
) -> np.ndarray:
    if problem.is_classification:
        index = {label: i for i, label in enumerate(problem.labels)}
        rows = actual.astype(str).map(index).to_numpy()
        cols = pd.Series(decisions).map(index).to_numpy()
        return value_matrix(problem)[rows, cols]
    error = actual.to_numpy(dtype=float) - decisions
    assert problem.under_cost_per_unit is not None and problem.over_cost_per_unit is not None
    return -(
        problem.under_cost_per_unit * np.clip(error, 0, None)
        + problem.over_cost_per_unit * np.clip(-error, 0, None)
    )


def value_per_1000(problem: ProblemSpec, actual: pd.Series, decisions: np.ndarray) -> float:
    return float(value_per_decision(problem, actual, decisions).mean() * 1000)


def tune_policy(problem: ProblemSpec, actual: pd.Series, scores: np.ndarray) -> DecisionPolicy:
    """Choose the policy on validation data; the test split never sees this step."""
    if problem.task == "multiclass_classification":
        return DecisionPolicy("expected_value")
    if problem.task == "regression":
        assert problem.under_cost_per_unit is not None and problem.over_cost_per_unit is not None
        ratio = problem.under_cost_per_unit / (
            problem.under_cost_per_unit + problem.over_cost_per_unit
        )
        residuals = actual.to_numpy(dtype=float) - scores
        return DecisionPolicy("offset", float(np.quantile(residuals, ratio)))
    values = [
        value_per_1000(problem, actual, decide(problem, DecisionPolicy("threshold", t), scores))
        for t in THRESHOLD_GRID
    ]
    return DecisionPolicy("threshold", float(THRESHOLD_GRID[int(np.argmax(values))]))
