"""Turn model scores into decisions, and decisions into business value, for any task.

The decision policy (tasks/policy.py) is tuned on the validation split and then
applied unchanged to the test split and in production; each task (tasks/) says how.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import ProblemSpec
from ..tasks import for_problem
from ..tasks.classes import ClassificationTask
from ..tasks.policy import DecisionPolicy


def decide(problem: ProblemSpec, policy: DecisionPolicy, scores: np.ndarray) -> np.ndarray:
    """Decisions as class labels (strings) or numbers, from scores."""
    return for_problem(problem).decide(policy, scores)


def decided_positions(
    problem: ProblemSpec, policy: DecisionPolicy, scores: np.ndarray
) -> np.ndarray:
    """A classification's decisions as positions in the spec's class order (`decide`
    is the labels at these positions): a table can hold them as codes into the labels."""
    task = for_problem(problem)
    if not isinstance(task, ClassificationTask):
        raise TypeError(f"a {problem.task} problem decides numbers, not classes")
    return task.decided_positions(policy, scores)


def value_per_decision(
    problem: ProblemSpec, actual: pd.Series, decisions: np.ndarray
) -> np.ndarray:
    return for_problem(problem).value_per_decision(actual, decisions)


def value_per_1000(problem: ProblemSpec, actual: pd.Series, decisions: np.ndarray) -> float:
    return float(value_per_decision(problem, actual, decisions).mean() * 1000)


def tune_policy(problem: ProblemSpec, actual: pd.Series, scores: np.ndarray) -> DecisionPolicy:
    """Choose the policy on validation data; the test split never sees this step."""
    return for_problem(problem).tune_policy(actual, scores)
