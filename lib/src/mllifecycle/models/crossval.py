"""Cross-validation on the train split: how much a candidate's value varies, not one number.

Folds follow time when the data has a time column (each fold is scored on rows
later than the ones it was fitted on), and are stratified otherwise. The test
split is never read; the decision policy is the one tuned on validation data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import TimeSeriesSplit

from .. import tasks
from ..config import ModelConfig, ProblemSpec
from ..evaluation.business import decide, value_per_1000
from ..tasks.policy import DecisionPolicy
from . import factory


def splitter(problem: ProblemSpec, folds: int, by_time: bool, seed: int) -> Any:
    if by_time:
        return TimeSeriesSplit(n_splits=folds)
    return tasks.for_problem(problem).folds(folds, seed)  # stratified for classes


def cross_validate(
    problem: ProblemSpec,
    model: ModelConfig,
    policy: DecisionPolicy,
    train: tuple[pd.DataFrame, pd.Series],
    folds: int,
    by_time: bool,
    seed: int = 0,
) -> dict[str, float | int]:
    """Value per 1,000 decisions on each held-out fold: mean, spread and range."""
    inputs, target = train
    values = []
    for fit_rows, held_rows in splitter(problem, folds, by_time, seed).split(inputs, target):
        fitting = (inputs.iloc[fit_rows], target.iloc[fit_rows])
        held = (inputs.iloc[held_rows], target.iloc[held_rows])
        # Boosting stops early on the held-out fold: still inside the train split.
        estimator = factory.fit(factory.build(model, problem), model, fitting, held)
        decisions = decide(problem, policy, factory.scores(estimator, held[0], problem))
        values.append(value_per_1000(problem, held[1], decisions))
    return {
        "folds": folds,
        "by_time": by_time,
        "value_per_1000_mean": float(np.mean(values)),
        "value_per_1000_std": float(np.std(values)),
        "value_per_1000_min": float(np.min(values)),
    }
