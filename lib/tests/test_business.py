from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from mllifecycle.config import (
    Params,
)
from mllifecycle.evaluation.business import (
    decide,
    tune_policy,
    value_per_1000,
)
from mllifecycle.tasks.policy import DecisionPolicy


def test_binary_value_counts_each_outcome(example_params: Callable[..., Params]) -> None:
    problem = example_params("problem=churn").problem
    actual = pd.Series([1, 1, 0, 0])
    decisions = np.array(["1", "0", "1", "0"], dtype=object)
    # TP 60, FN 0, FP -20, TN 0 -> 40 over 4 decisions -> 10,000 per 1,000
    assert value_per_1000(problem, actual, decisions) == 10_000


def test_threshold_is_chosen_for_value_not_accuracy(example_params: Callable[..., Params]) -> None:
    problem = example_params("problem=churn").problem
    rng = np.random.default_rng(0)
    p = rng.random(5000)
    actual = pd.Series((rng.random(5000) < p).astype(int))
    policy = tune_policy(problem, actual, np.column_stack([1 - p, p]))
    # Offer when 60 p - 20 (1 - p) > 0, i.e. p > 0.25 (not the accuracy-optimal 0.5).
    assert 0.18 < policy.value < 0.32


def test_multiclass_decides_by_expected_value(example_params: Callable[..., Params]) -> None:
    problem = example_params("problem=plan_change").problem
    proba = np.array([[0.5, 0.5, 0.0], [0.05, 0.9, 0.05], [0.0, 0.4, 0.6]])
    decided = decide(problem, DecisionPolicy("expected_value"), proba)
    assert list(decided) == ["downgrade", "stay", "upgrade"]


def test_regression_offset_leans_towards_the_costlier_error(
    example_params: Callable[..., Params],
) -> None:
    problem = example_params("problem=spend").problem  # under-prediction costs 3x more
    rng = np.random.default_rng(0)
    predicted = rng.normal(100, 10, 4000)
    actual = pd.Series(predicted + rng.normal(0, 20, 4000))
    policy = tune_policy(problem, actual, predicted)
    assert policy.kind == "offset" and policy.value > 0
    assert value_per_1000(problem, actual, decide(problem, policy, predicted)) > value_per_1000(
        problem, actual, predicted
    )
