"""Evaluation on the test split, read once, judged on business value.

The candidate is compared with the dummy baseline, the rule baseline from the
problem spec and, when models/champion.json names one, the champion (the model
in prod, its package scored on this same split); per slice; and for calibration.
Beside value: fairness per sensitive attribute, robustness under perturbed inputs
and the cost to keep, train and run the model (fairness.py, robustness.py, cost.py).
`assess` returns everything the evaluate stage writes: the metrics, the verdict
(the Verdict contract), the plot tables and the model card's inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import Params, ProblemSpec
from ..contracts import Decisions, Verdict
from ..errors import DataError
from ..features.pipeline import as_model_input
from ..models import artifact, factory
from ..registry import champion as champion_file
from ..tasks.policy import DecisionPolicy
from . import card, cost, curves, fairness, metrics, robustness, slices, verdict
from . import champion as champion_comparison
from .baselines import rule_decisions
from .business import decide, value_per_1000


@dataclass(frozen=True)
class Assessment:
    metrics: dict[str, Any]  # metrics/evaluate.json
    verdict: Verdict
    # Plot name (plots/<name>.csv) to its table.
    plots: dict[str, pd.DataFrame]
    card: card.CardInputs

    @property
    def summary(self) -> str:
        uplift = self.metrics["uplift_per_1000"]
        return (
            f"verdict: {'PASS' if self.verdict.passed else 'FAIL'}; uplift per 1,000 decisions "
            f"{uplift:+.1f} over the {self.verdict.best_baseline} baseline"
        )


@dataclass(frozen=True)
class FittedPipeline:
    """What robustness and cost need beyond the featurized test split."""

    pipeline: Any  # preprocessing + model, as package ships it
    train: pd.DataFrame  # the prepared train split (feature spreads)
    train_summary: dict[str, Any]  # metrics/train.json (the fit time)


@dataclass(frozen=True)
class ScoredSplit:
    """The featurized test split's labels and each estimator's scores ("model",
    "baseline"), row for row with the prepared test split. On dask each partition is
    scored on a worker (`scored_parts`) and only these columns are collected."""

    actual: pd.Series
    scores: dict[str, np.ndarray]


def scored_parts(
    problem: ProblemSpec, estimators: dict[str, Any], part: pd.DataFrame
) -> list[ScoredSplit]:
    """One partition of the featurized test split, scored (a list, so parts add up)."""
    if part.empty:  # a time split leaves some partitions empty
        return []
    inputs, actual = part.drop(columns=[problem.target]), part[problem.target]
    return [
        ScoredSplit(actual, {k: factory.scores(e, inputs, problem) for k, e in estimators.items()})
    ]


def joined(parts: list[ScoredSplit]) -> ScoredSplit:
    """The parts in partition order, as one split."""
    if not parts:
        raise DataError("the featurized test split has no rows to evaluate")
    return ScoredSplit(
        pd.concat([p.actual for p in parts], ignore_index=True),
        {k: np.concatenate([p.scores[k] for p in parts]) for k in parts[0].scores},
    )


def score(
    problem: ProblemSpec, estimator: Any, policy: DecisionPolicy, inputs: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    scores = factory.scores(estimator, inputs, problem)
    return scores, decide(problem, policy, scores)


def champion_record(
    params: Params, raw_test: pd.DataFrame, actual: pd.Series
) -> tuple[dict[str, Any] | None, np.ndarray | None]:
    """The champion that models/champion.json names, scored on this test split, and its
    decision on each row.

    None when evaluate.champion is null or no version is in prod. A champion of
    another problem is refused: the record says why and holds no metrics.
    """
    version = champion_file.verified() if params.evaluate.champion else None
    if version is None:
        return None, None
    fix = "run `dvc pull` to fetch it, or set evaluate.champion: null to skip the comparison"
    packaged = artifact.load(champion_file.package(version, fix))
    record: dict[str, Any] = {"version": version.version, "tag": version.tag}
    refused = champion_comparison.refusal(
        version.version,
        packaged.problem,
        champion_comparison.input_columns(packaged),
        params.problem,
        raw_test.columns,
    )
    if refused:
        print(refused)
        return {**record, "refused": refused}, None
    scored, decisions = champion_comparison.scored(packaged, params.problem, raw_test, actual)
    return {**record, "refused": None, "metrics": scored}, decisions


def plot_tables(
    problem: ProblemSpec, actual: pd.Series, scores: np.ndarray, decisions: np.ndarray
) -> dict[str, pd.DataFrame]:
    """Actual vs decided per row, reliability, and ROC / PR curves, for `dvc plots`."""
    cast = str if problem.is_classification else float
    predictions = pd.DataFrame(
        {
            "actual": actual.map(cast).to_numpy(),
            "predicted": pd.Series(decisions).map(cast).to_numpy(),
        }
    )
    return {
        "predictions": predictions,
        "reliability": curves.reliability(problem, actual, scores),
        **curves.roc_and_pr(problem, actual, scores),
    }


def beyond_value(
    params: Params,
    raw_test: pd.DataFrame,
    actual: pd.Series,
    decisions: np.ndarray,
    policy: DecisionPolicy,
    fitted: FittedPipeline,
) -> tuple[dict[str, Any], list[verdict.Criterion], list[card.Section]]:
    """Fairness, robustness and cost: their metrics, criteria and model-card sections."""
    problem, cfg = params.problem, params.evaluate

    def scored(frame: pd.DataFrame) -> dict[str, float]:
        scores, decided = score(
            problem, fitted.pipeline, policy, as_model_input(frame, params.data, params.features)
        )
        return metrics.compute(problem, frame[problem.target], scores, decided)

    groups = fairness.analyse(
        problem,
        raw_test,
        actual,
        decisions,
        params.data.numeric,
        cfg.slice_bins,
        cfg.fairness_min_group_rows,
    )
    sample = robustness.sample(raw_test, cfg.robustness)
    spreads = robustness.spread(fitted.train, params.data.numeric)
    perturbed = robustness.analyse(problem, scored, sample, params.data, spreads, cfg.robustness)
    inputs = as_model_input(cost.timed_rows(raw_test), params.data, params.features)
    costs = cost.figures(
        fitted.pipeline,
        lambda frame: factory.scores(fitted.pipeline, frame, problem),
        inputs,
        fitted.train_summary,
    )
    criteria = [
        c
        for c in (
            fairness.criterion(problem, groups),
            robustness.criterion(perturbed, cfg.robustness),
        )
        if c is not None
    ]
    sections = [
        fairness.section(problem, groups, cfg.fairness_min_group_rows),
        robustness.section(perturbed, cfg.robustness, len(sample)),
        cost.section(costs, len(inputs)),
    ]
    figures = {"fairness": fairness.metrics(groups), "robustness": perturbed, "cost": costs}
    return figures, criteria, sections


def assess(
    params: Params,
    test: ScoredSplit,
    raw_test: pd.DataFrame,
    policies: Decisions,
    split: dict[str, Any],
    data_version: str,
    fitted: FittedPipeline,
) -> Assessment:
    """`test`: the featurized test split, scored; `raw_test`: the prepared one, row for
    row; `policies`: the model's and the dummy baseline's (models/decisions.json)."""
    problem = params.problem
    if len(test.actual) != len(raw_test):
        raise DataError(
            f"the featurized test split has {len(test.actual):,} rows, the prepared one "
            f"{len(raw_test):,}: run `dvc repro featurize` so that they match"
        )
    actual = test.actual
    model_scores = test.scores["model"]
    model_decisions = decide(problem, policies.model, model_scores)
    dummy_scores = test.scores["baseline"]
    dummy_decisions = decide(problem, policies.baseline, dummy_scores)

    model_metrics = metrics.compute(problem, actual, model_scores, model_decisions)
    baselines = {"dummy": metrics.compute(problem, actual, dummy_scores, dummy_decisions)}
    baseline_decisions = {"dummy": dummy_decisions}
    rule = rule_decisions(problem, raw_test)
    if rule is not None:
        baselines["rule"] = {"value_per_1000": round(value_per_1000(problem, actual, rule), 6)}
        baseline_decisions["rule"] = rule
    best = max(baselines, key=lambda name: baselines[name]["value_per_1000"])

    found = slices.analyse(
        problem,
        params.evaluate,
        raw_test,
        params.data.numeric,
        actual,
        model_decisions,
        baseline_decisions[best],
        columns=params.slice_columns,
    )
    champion, champion_decisions = champion_record(params, raw_test, actual)
    champion_metrics = champion.get("metrics") if champion else None
    against_champion = (
        None
        if champion_decisions is None
        else champion_comparison.paired(
            problem,
            actual,
            model_decisions,
            champion_decisions,
            params.evaluate.slice_confidence,
        )
    )
    judgement, more_criteria, more_sections = beyond_value(
        params, raw_test, actual, model_decisions, policies.model, fitted
    )
    judged = verdict.as_record(
        verdict.judge(
            problem,
            model_metrics,
            baselines,
            sum(s.flagged for s in found),
            against_champion,
        )
        + more_criteria,
        params.evaluate.accept_failed_verdict,
    )
    uplift = round(model_metrics["value_per_1000"] - baselines[best]["value_per_1000"], 6)
    evaluation = {
        "test": {
            "model": model_metrics,
            **baselines,
            **({"champion": champion_metrics} if champion_metrics else {}),
        },
        "uplift_per_1000": uplift,
        **judgement,
        "verdict": {"passed": int(judged["passed"]), "promotable": int(judged["promotable"])},
    }
    recorded = Verdict.model_validate(
        {
            "model": params.model.name,
            "best_baseline": best,
            **judged,
            "champion": champion,
            "slice_judgement": {
                "method": slices.method(params.evaluate.slice_confidence),
                "confidence": params.evaluate.slice_confidence,
                "floor_uplift_per_1000": params.evaluate.slice_floor_uplift_per_1000,
                "min_slice_rows": params.evaluate.min_slice_rows,
            },
            "slices": found,
        }
    )
    plots = plot_tables(problem, actual, model_scores, model_decisions)
    card_inputs = card.CardInputs(
        params=params,
        model=model_metrics,
        baselines=baselines,
        champion=champion,
        verdict=judged,
        slices=found,
        reliability=plots["reliability"],
        curves={name: plots[name] for name in plots if name not in ("predictions", "reliability")},
        split=split,
        data_version=data_version,
        judged=more_sections,
    )
    return Assessment(evaluation, recorded, plots, card_inputs)
