"""One module per task behind one interface: each task answers every question the same way."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from mllifecycle import (
    tasks,
)
from mllifecycle.config import (
    Params,
)
from mllifecycle.tasks.policy import DecisionPolicy

PROBLEMS = {"churn": "binary", "plan_change": "multiclass", "spend": "regression"}


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_each_problem_gets_its_own_task_module(
    problem: str, example_params: Callable[..., Params]
) -> None:
    spec = example_params(f"problem={problem}").problem
    task = tasks.for_problem(spec)
    assert task.name == spec.task
    assert type(task).__module__.endswith(f"tasks.{PROBLEMS[problem]}")
    assert task.classification is (PROBLEMS[problem] != "regression")


def test_the_monitor_watches_probability_for_binary_and_decisions_otherwise(
    example_params: Callable[..., Params],
) -> None:
    churn = tasks.for_problem(example_params("problem=churn").problem)
    proba = np.array([[0.9, 0.1], [0.2, 0.8]])
    decided = churn.decide(DecisionPolicy("threshold", 0.5), proba)
    assert churn.prediction_signal(proba, decided).tolist() == [0.1, 0.8]
    spend = tasks.for_problem(example_params("problem=spend").problem)
    predicted = np.array([100.0, 200.0])
    shifted = spend.decide(DecisionPolicy("offset", 5.0), predicted)
    assert spend.prediction_signal(predicted, shifted).tolist() == [105.0, 205.0]


def test_only_classification_reports_label_shares(example_params: Callable[..., Params]) -> None:
    labels = pd.Series(["upgrade", "stay", "stay", "stay"])
    plan = tasks.for_problem(example_params("problem=plan_change").problem)
    assert plan.label_shares(labels) == {"downgrade": 0.0, "stay": 0.75, "upgrade": 0.25}
    spend = tasks.for_problem(example_params("problem=spend").problem)
    assert spend.label_shares(pd.Series([1.0, 2.0])) == {}
