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


# The task modules (tasks/) build on DecisionPolicy, so they are imported inside
# these functions, which keep the policy's callers task-agnostic.


def decide(problem: ProblemSpec, policy: DecisionPolicy, scores: np.ndarray) -> np.ndarray:
    """Decisions as class labels (strings) or numbers, from scores."""
    from ..tasks import for_problem

    return for_problem(problem).decide(policy, scores)


def decided_positions(
    problem: ProblemSpec, policy: DecisionPolicy, scores: np.ndarray
) -> np.ndarray:
    """A classification's decisions as positions in the spec's class order (`decide`
    is the labels at these positions): a table can hold them as codes into the labels."""
    from ..tasks import for_problem
    from ..tasks.classes import ClassificationTask

    task = for_problem(problem)
    if not isinstance(task, ClassificationTask):
        raise TypeError(f"a {problem.task} problem decides numbers, not classes")
    return task.decided_positions(policy, scores)


def value_per_decision(
    problem: ProblemSpec, actual: pd.Series, decisions: np.ndarray
) -> np.ndarray:
    from ..tasks import for_problem

    return for_problem(problem).value_per_decision(actual, decisions)


def value_per_1000(problem: ProblemSpec, actual: pd.Series, decisions: np.ndarray) -> float:
    return float(value_per_decision(problem, actual, decisions).mean() * 1000)


def tune_policy(problem: ProblemSpec, actual: pd.Series, scores: np.ndarray) -> DecisionPolicy:
    """Choose the policy on validation data; the test split never sees this step."""
    from ..tasks import for_problem

    return for_problem(problem).tune_policy(actual, scores)
