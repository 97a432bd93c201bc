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
    """What robustness and cost need beyond the scored test split."""

    pipeline: Any  # preprocessing + model, as package ships it
    train: pd.DataFrame  # the prepared train split (feature spreads)
    train_summary: dict[str, Any]  # metrics/train.json (the fit time)
    # Prepared test rows that robustness perturbs and cost times: the split on pandas,
    # a seeded sample on dask.
    test_sample: pd.DataFrame


@dataclass(frozen=True)
class ScoredSplit:
    """The test split as the judgement reads it, row for row: the labels, each scorer's
    scores ("model", "baseline"; "champion" when one is compared), the rule baseline's
    decisions and the prepared columns that slices and fairness group by. On dask each
    part is scored on a worker (`scored_part`) and only these come back, not the table."""

    actual: pd.Series
    scores: dict[str, np.ndarray]
    rule: np.ndarray | None
    groups: pd.DataFrame


@dataclass(frozen=True)
class Scorers:
    """What scores a part of the test split."""

    problem: ProblemSpec
    estimators: dict[str, Any]  # "model", "baseline": on the featurized rows
    champion: artifact.Artifact | None  # the champion's package: on the prepared rows
    grouped_by: list[str]  # the prepared columns slices and fairness group by


@dataclass(frozen=True)
class Champion:
    """The version models/champion.json names, as evaluate compares with it."""

    record: dict[str, Any]  # version, tag, and `refused`: why it is no comparison
    package: artifact.Artifact | None  # None when refused


def grouped_by(params: Params) -> list[str]:
    return list(dict.fromkeys([*params.slice_columns, *params.problem.sensitive_attributes]))


def scored_part(
    scorers: Scorers, part: str | None, raw: pd.DataFrame, features: pd.DataFrame
) -> ScoredSplit | None:
    """One part of the test split, prepared and featurized row for row (as
    `Engine.each_part` passes them), scored; None for an empty part (a time split
    leaves some)."""
    if len(raw) != len(features):
        where = f" in {part}" if part else ""
        raise DataError(
            f"the featurized test split has {len(features):,} rows{where}, the prepared one "
            f"{len(raw):,}: run `dvc repro featurize` so that they match"
        )
    if features.empty:
        return None
    problem = scorers.problem
    inputs, actual = features.drop(columns=[problem.target]), features[problem.target]
    scores = {k: factory.scores(e, inputs, problem) for k, e in scorers.estimators.items()}
    if scorers.champion is not None:
        scores["champion"] = scorers.champion.scores(raw)
    return ScoredSplit(
        actual.reset_index(drop=True),
        scores,
        rule_decisions(problem, raw),
        raw[scorers.grouped_by].reset_index(drop=True),
    )


def joined(parts: list[ScoredSplit | None]) -> ScoredSplit:
    """The parts in partition order, as one split."""
    found = [p for p in parts if p is not None]
    if not found:
        raise DataError("the featurized test split has no rows to evaluate")
    rules = [p.rule for p in found if p.rule is not None]
    return ScoredSplit(
        pd.concat([p.actual for p in found], ignore_index=True),
        {k: np.concatenate([p.scores[k] for p in found]) for k in found[0].scores},
        np.concatenate(rules) if rules else None,
        pd.concat([p.groups for p in found], ignore_index=True),
    )


def score(
    problem: ProblemSpec, estimator: Any, policy: DecisionPolicy, inputs: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    scores = factory.scores(estimator, inputs, problem)
    return scores, decide(problem, policy, scores)


def champion_to_compare(params: Params, columns: list[str]) -> Champion | None:
    """The champion that models/champion.json names, loaded to score the test split;
    `columns`: the prepared test split's.

    None when evaluate.champion is null or no version is in prod. A champion of
    another problem is refused: the record says why and holds no metrics.
    """
    version = champion_file.verified() if params.evaluate.champion else None
    if version is None:
        return None
    fix = "run `dvc pull` to fetch it, or set evaluate.champion: null to skip the comparison"
    packaged = artifact.load(champion_file.package(version, fix))
    record: dict[str, Any] = {"version": version.version, "tag": version.tag}
    refused = champion_comparison.refusal(
        version.version,
        packaged.problem,
        champion_comparison.input_columns(packaged),
        params.problem,
        columns,
    )
    if refused:
        print(refused)
        return Champion({**record, "refused": refused}, None)
    return Champion({**record, "refused": None}, packaged)


def champion_record(
    problem: ProblemSpec, champion: Champion | None, test: ScoredSplit
) -> tuple[dict[str, Any] | None, np.ndarray | None]:
    """The champion's record, with its metrics on this test split, and its decision on
    each row (None where there is no champion or it was refused)."""
    if champion is None or champion.package is None:
        return (None if champion is None else champion.record), None
    scored, decisions = champion_comparison.judged(
        champion.package, problem, test.scores["champion"], test.actual
    )
    return {**champion.record, "metrics": scored}, decisions


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
    groups: pd.DataFrame,
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

    attributes = fairness.analyse(
        problem,
        groups,
        actual,
        decisions,
        params.data.numeric,
        cfg.slice_bins,
        cfg.fairness_min_group_rows,
    )
    sample = robustness.sample(fitted.test_sample, cfg.robustness)
    spreads = robustness.spread(fitted.train, params.data.numeric)
    perturbed = robustness.analyse(problem, scored, sample, params.data, spreads, cfg.robustness)
    inputs = as_model_input(cost.timed_rows(fitted.test_sample), params.data, params.features)
    costs = cost.figures(
        fitted.pipeline,
        lambda frame: factory.scores(fitted.pipeline, frame, problem),
        inputs,
        fitted.train_summary,
    )
    criteria = [
        c
        for c in (
            fairness.criterion(problem, attributes),
            robustness.criterion(perturbed, cfg.robustness),
        )
        if c is not None
    ]
    sections = [
        fairness.section(problem, attributes, cfg.fairness_min_group_rows),
        robustness.section(perturbed, cfg.robustness, len(sample)),
        cost.section(costs, len(inputs)),
    ]
    figures = {"fairness": fairness.metrics(attributes), "robustness": perturbed, "cost": costs}
    return figures, criteria, sections


def assess(
    params: Params,
    test: ScoredSplit,
    policies: Decisions,
    champion: Champion | None,
    split: dict[str, Any],
    data_version: str,
    fitted: FittedPipeline,
) -> Assessment:
    """`test`: the test split, scored; `policies`: the model's and the dummy baseline's
    (models/decisions.json); `champion`: the model in prod, when one is compared."""
    problem = params.problem
    actual = test.actual
    model_scores = test.scores["model"]
    model_decisions = decide(problem, policies.model, model_scores)
    dummy_scores = test.scores["baseline"]
    dummy_decisions = decide(problem, policies.baseline, dummy_scores)

    model_metrics = metrics.compute(problem, actual, model_scores, model_decisions)
    baselines = {"dummy": metrics.compute(problem, actual, dummy_scores, dummy_decisions)}
    baseline_decisions = {"dummy": dummy_decisions}
    if test.rule is not None:
        baselines["rule"] = {"value_per_1000": round(value_per_1000(problem, actual, test.rule), 6)}
        baseline_decisions["rule"] = test.rule
    best = max(baselines, key=lambda name: baselines[name]["value_per_1000"])

    found = slices.analyse(
        problem,
        params.evaluate,
        test.groups,
        params.data.numeric,
        actual,
        model_decisions,
        baseline_decisions[best],
        columns=params.slice_columns,
    )
    record, champion_decisions = champion_record(problem, champion, test)
    champion_metrics = record.get("metrics") if record else None
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
        params, test.groups, actual, model_decisions, policies.model, fitted
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
            "champion": record,
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
        champion=record,
        verdict=judged,
        slices=found,
        reliability=plots["reliability"],
        curves={name: plots[name] for name in plots if name not in ("predictions", "reliability")},
        split=split,
        data_version=data_version,
        judged=more_sections,
    )
    return Assessment(evaluation, recorded, plots, card_inputs)
