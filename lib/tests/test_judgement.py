"""Fairness, robustness and cost in evaluation (evaluation/fairness.py, robustness.py, cost.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.tree import DecisionTreeClassifier

from mllifecycle.config import (
    FairnessGap,
    Params,
    RobustnessConfig,
)
from mllifecycle.data import demo
from mllifecycle.data.prepare import clean
from mllifecycle.errors import (
    ConfigError,
    DataError,
)
from mllifecycle.evaluation import (
    fairness,
    metrics,
    robustness,
)
from mllifecycle.evaluation.business import (
    decide,
)
from mllifecycle.evaluation.verdict import (
    Criterion,
)
from mllifecycle.stages import prepare as prepare_stage
from mllifecycle.tasks.policy import DecisionPolicy

REGIONS = ["north", "south", "east", "west"]


def churn_with_region(rows: int, seed: int, flipped: str | None = None) -> pd.DataFrame:
    """Churn follows the tickets; in the `flipped` region the labels are inverted."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "support_tickets": rng.integers(0, 8, rows).astype(float),
            "region": rng.choice(REGIONS, rows),
        }
    )
    churned = (frame["support_tickets"] >= 4).astype(int)
    if flipped:
        churned = churned.where(frame["region"] != flipped, 1 - churned)
    frame["churned"] = churned
    return frame


def fitted_tree(train: pd.DataFrame) -> Callable[[pd.DataFrame], np.ndarray]:
    """A tree on the tickets and the one-hot region: it can learn a region's flip."""
    encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(train[["region"]])

    def encoded(frame: pd.DataFrame) -> np.ndarray:
        return np.column_stack([frame["support_tickets"], encode.transform(frame[["region"]])])

    tree = DecisionTreeClassifier(max_depth=4, random_state=0)
    tree.fit(encoded(train), train["churned"])
    return lambda frame: tree.predict_proba(encoded(frame))


def test_a_group_with_flipped_training_labels_fails_the_fairness_criterion(
    example_params: Callable[..., Params],
) -> None:
    problem = example_params("problem=churn").problem
    problem = problem.model_copy(
        update={
            "sensitive_attributes": ["region"],
            "success_criteria": problem.success_criteria.model_copy(
                update={"max_fairness_gap": FairnessGap(metric="true_positive_rate", max=0.2)}
            ),
        }
    )
    test = churn_with_region(4000, seed=1)
    policy = DecisionPolicy("threshold", 0.5)

    def judged(train: pd.DataFrame) -> Criterion | None:
        decided = decide(problem, policy, fitted_tree(train)(test))
        found = fairness.analyse(problem, test, test["churned"], decided, [], 4, 100)
        return fairness.criterion(problem, found)

    fair = judged(churn_with_region(4000, seed=0))
    assert fair is not None and fair.passed, fair
    unfair = judged(churn_with_region(4000, seed=0, flipped="west"))
    assert unfair is not None and not unfair.passed
    assert unfair.name == "fairness_gap_true_positive_rate"
    assert "region" in unfair.detail and "'west'" in unfair.detail
    assert unfair.observed is not None and unfair.observed > 0.9


def test_small_groups_are_reported_not_judged(example_params: Callable[..., Params]) -> None:
    problem = example_params("problem=churn").problem
    test = churn_with_region(1000, seed=2)
    test.loc[:4, "region"] = "tiny"  # five rows, all decided wrongly below
    decided = (test["churned"] == 1).astype(int).astype(str).to_numpy()
    decided[:5] = np.where(decided[:5] == "1", "0", "1")
    [found] = fairness.analyse(problem, test, test["churned"], decided, [], 4, 50)
    assert found.groups["tiny"]["rows"] == 5 and not found.groups["tiny"]["judged"]
    assert found.gaps["true_positive_rate"] == 0.0  # the other groups are decided perfectly


@pytest.mark.parametrize("when_not_judged", ["fail", "pass"])
def test_a_fairness_criterion_no_group_pair_can_answer_is_not_judged(
    example_params: Callable[..., Params], when_not_judged: str
) -> None:
    """Every group under the minimum: no gap to judge. It used to pass with a gap of 0.0;
    now it says it was not judged, and the spec says whether that fails it."""
    problem = example_params("problem=churn").problem
    limit = FairnessGap(metric="selection_rate", max=0.1, when_not_judged=when_not_judged)
    problem = problem.model_copy(
        update={
            "sensitive_attributes": ["region"],
            "success_criteria": problem.success_criteria.model_copy(
                update={"max_fairness_gap": limit}
            ),
        }
    )
    test = churn_with_region(300, seed=3)
    decided = (test["churned"] == 1).astype(int).astype(str).to_numpy()
    found = fairness.analyse(problem, test, test["churned"], decided, [], 4, 500)
    judged = fairness.criterion(problem, found)
    assert judged is not None and not judged.judged and judged.observed is None
    assert judged.passed == (when_not_judged == "pass")
    assert judged.detail.startswith("not judged for region: fewer than two groups")
    assert f"when_not_judged: {when_not_judged}" in judged.detail


def test_an_unknown_sensitive_attribute_is_named(example_params: Callable[..., Params]) -> None:
    problem = example_params("problem=churn").problem
    test = churn_with_region(100, seed=3)
    with pytest.raises(ConfigError, match="'gender' is not a column of the prepared test"):
        fairness.report(problem, "gender", test, test["churned"], np.zeros(100), False, 4, 10)


def test_prepare_carries_a_sensitive_attribute_the_model_does_not_read(
    example_params: Callable[..., Params],
) -> None:
    """Fairness may group by a column that is no model input: prepare keeps it."""
    params = example_params("problem=churn", "problem.sensitive_attributes=[segment]")
    assert "segment" not in params.data.features
    raw, _ = demo.generate(params.problem, 300, 0, seed=4)
    raw["segment"] = np.where(np.arange(len(raw)) % 2 == 0, "a", "b")
    kept = prepare_stage.kept_columns(params)
    prepared = clean(raw, params.data, params.problem.target, keep=kept)
    assert prepared["segment"].tolist() == raw.drop_duplicates()["segment"].tolist()
    with pytest.raises(DataError, match=r"\['segment'\].*conf/problem"):
        clean(raw.drop(columns="segment"), params.data, params.problem.target, keep=kept)


def test_a_model_on_one_brittle_feature_fails_the_robustness_criterion(
    example_params: Callable[..., Params],
) -> None:
    params = example_params("problem=churn")
    problem, data = params.problem, params.data
    rng = np.random.default_rng(0)
    rows = 3000
    frame = pd.DataFrame({column: rng.normal(0, 1, rows) for column in data.numeric})
    for column in data.categorical:
        frame[column] = rng.choice(["a", "b"], rows)
    # Everything the model knows is one feature's sign.
    frame[problem.target] = (frame[data.numeric[0]] > 0).astype(int)
    model = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("tree", DecisionTreeClassifier(max_depth=1, random_state=0)),
        ]
    ).fit(frame[[data.numeric[0]]], frame[problem.target])

    def scorer(inputs: pd.DataFrame) -> dict[str, float]:
        scores = model.predict_proba(inputs[[data.numeric[0]]])
        decided = decide(problem, DecisionPolicy("threshold", 0.5), scores)
        return metrics.compute(problem, inputs[problem.target], scores, decided)

    cfg = RobustnessConfig(noise_fraction=0.5, missing_share=0.2, max_value_drop_per_1000=500)
    spreads = robustness.spread(frame, data.numeric)
    table = robustness.analyse(problem, scorer, frame, data, spreads, cfg)
    assert table["clean"]["value_drop_per_1000"] == 0.0
    assert table["unseen_categories"]["value_drop_per_1000"] == 0.0  # not an input
    judged = robustness.criterion(table, cfg)
    assert judged is not None and not judged.passed
    assert judged.observed is not None and judged.observed > 500
    assert judged.detail.startswith("worst perturbation: ")
    # The same sample, perturbed again with the same seed, gives the same table.
    assert robustness.analyse(problem, scorer, frame, data, spreads, cfg) == table


def test_evaluate_reports_fairness_robustness_and_cost(pipeline_run: Path) -> None:
    evaluation = json.loads((pipeline_run / "metrics/evaluate.json").read_text())
    cost = evaluation["cost"]
    assert cost["package_model_bytes"] > 0 and cost["scoring_ms_per_1000_rows"] > 0
    assert cost["training_seconds"] is not None and cost["training_seconds"] > 0
    assert set(evaluation["robustness"]) >= {"clean", "noise", "missing", "unseen_categories"}
    params = Params.model_validate(yaml.safe_load((pipeline_run / "params.yaml").read_text()))
    assert set(evaluation["fairness"]) == set(params.problem.sensitive_attributes)
    card = (pipeline_run / "reports/model_card.md").read_text()
    for title in ("## Fairness", "## Robustness", "## Resource efficiency"):
        assert title in card
    verdict = json.loads((pipeline_run / "reports/verdict.json").read_text())
    limit = params.problem.success_criteria.max_fairness_gap
    if limit is not None:
        assert f"fairness_gap_{limit.metric}" in {c["name"] for c in verdict["criteria"]}
