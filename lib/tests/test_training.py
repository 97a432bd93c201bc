"""Selection discipline: reproducible fits, honest search, constraints that steer the choice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mllifecycle.config import (
    ModelConfig,
    Params,
)
from mllifecycle.errors import (
    ConfigError,
)
from mllifecycle.models import (
    explain,
    factory,
    search,
)
from mllifecycle.models.training import (
    admissible,
    class_balance,
    cross_validation,
    train_one,
    xy,
)

from .conftest import requires_demo


@pytest.fixture(scope="module")
def splits(pipeline_run: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Feature splits of the small pipeline run (what conf/ selects); test is never loaded."""
    folder = pipeline_run / "data/features"
    return pd.read_parquet(folder / "train.parquet"), pd.read_parquet(folder / "valid.parquet")


@pytest.mark.parametrize("model", ["linear", "hist_gb", "lightgbm"])
def test_the_same_params_and_data_give_the_same_metrics(
    model: str, make_params: Callable[..., Params], splits: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    params = make_params(f"model={model}")
    first = train_one(params, params.model, *splits).metrics
    again = train_one(params, params.model, *splits).metrics
    assert first == again


def noisy_labels(seed: int, rows: int) -> pd.DataFrame:
    """A weak signal in much noise: the validation loss soon stops improving."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    churned = (x1 + rng.normal(0, 2, rows) > 0).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "churned": churned})


def test_boosting_stops_early_on_the_validation_split(
    example_params: Callable[..., Params],
) -> None:
    params = example_params("problem=churn", "model=hist_gb", "model.max_iter=2000")
    estimator = train_one(
        params, params.model, noisy_labels(0, 2000), noisy_labels(1, 600)
    ).estimator
    assert estimator.n_iter_ < 2000
    assert len(factory.learning_curve(estimator)["valid_score"]) == estimator.n_iter_ + 1


@requires_demo  # a cleanly separable table can improve on validation for all 2000 rounds
def test_boosting_stops_early_on_the_demo_splits(
    make_params: Callable[..., Params], splits: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    params = make_params("model=hist_gb", "model.max_iter=2000")
    estimator = train_one(params, params.model, *splits).estimator
    assert estimator.n_iter_ < 2000
    assert factory.learning_curve(estimator)["valid_score"]


def test_an_explainable_problem_refuses_opaque_candidates(
    example_params: Callable[..., Params],
) -> None:
    strict = ("problem=churn", "problem.constraints.explainable=true")
    with pytest.raises(ConfigError, match="model 'lightgbm' is not allowed"):
        admissible(example_params(*strict, "model=lightgbm"))
    admissible(example_params(*strict, "model=linear"))


def test_coefficients_explain_a_linear_model(
    make_params: Callable[..., Params], splits: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    params = make_params("model=linear")
    estimator = train_one(params, params.model, *splits).estimator
    inputs, actual = xy(splits[1], params.problem.target)
    table = explain.importance(estimator, inputs, actual)
    assert sorted(table["feature"]) == sorted(inputs.columns)
    assert set(table["kind"]) == {"coefficient"}
    assert table["importance"].abs().is_monotonic_decreasing


def test_class_imbalance_is_measured(example_params: Callable[..., Params]) -> None:
    problem = example_params("problem=churn").problem
    balance = class_balance(problem, pd.Series(["0"] * 80 + ["1"] * 20))
    assert balance == {"shares": {"0": 0.8, "1": 0.2}, "imbalance_ratio": 4.0}
    assert class_balance(example_params("problem=spend").problem, pd.Series([1.0, 2.0])) is None


def test_a_seeded_search_is_reproducible_and_scored_on_validation(
    make_params: Callable[..., Params], splits: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    params = make_params("+hparams_search=lightgbm", "search.n_trials=3", "model.n_estimators=40")
    assert params.search is not None

    def value(candidate: ModelConfig) -> float:
        return train_one(params, candidate, *splits).metrics["value_per_1000"]

    best, history = search.run(params.search, params.model, value)
    again, _ = search.run(params.search, params.model, value)
    assert best == again and len(history) == 3
    assert best.hyperparameters["num_leaves"] in {t["params"]["num_leaves"] for t in history}
    assert max(t["value_per_1000"] for t in history) == value(best)


def test_cross_validation_reports_the_spread_on_train_only(
    make_params: Callable[..., Params], splits: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    params = make_params("model=linear", "selection.cv_folds=3")
    policy = train_one(params, params.model, *splits).policy
    cv = cross_validation(params, params.model, policy, splits[0])
    by_time = params.data.time_column is not None  # folds follow time when there is one
    assert cv is not None and cv["folds"] == 3 and cv["by_time"] is by_time
    assert cv["value_per_1000_min"] <= cv["value_per_1000_mean"]
    assert (
        cross_validation(make_params("selection.cv_folds=0"), params.model, policy, splits[0])
        is None
    )
