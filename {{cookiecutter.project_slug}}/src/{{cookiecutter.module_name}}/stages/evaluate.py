"""Step 5, evaluation: the test split, read once, judged on business value.

The candidate is compared with the dummy baseline, the rule baseline from the
problem spec and, when one is in production, the champion; per slice; and for
calibration. A failed verdict does not stop the pipeline (experiments must stay
cheap to compare): it is recorded in reports/verdict.json and in the packaged
model, and promotion refuses it unless conf/evaluate names who accepted it.
"""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np
import pandas as pd

from .. import paths, registry
from ..config import ProblemSpec, load_params
from ..errors import RegistryError
from ..evaluation import card, curves, metrics, slices, verdict
from ..evaluation.baselines import rule_decisions
from ..evaluation.business import DecisionPolicy, decide, value_per_1000
from ..io import read_json, read_table, write_json, write_text
from ..models import artifact, factory
from . import run_stage


def score(
    problem: ProblemSpec, estimator: Any, policy: dict[str, Any], inputs: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    scores = factory.scores(estimator, inputs, problem)
    return scores, decide(problem, DecisionPolicy.from_dict(policy), scores)


def champion_record(stage: str | None) -> dict[str, Any] | None:
    """The recorded version and test metrics of the model in `stage` (the champion), if any.

    Read from the registry at the time this stage runs: after a promotion,
    `dvc repro -f evaluate` compares the candidate with the new champion.
    """
    if stage is None:
        return None
    try:
        version = registry.current(stage)
        if version is None:
            return None
        recorded = registry.metadata(version)
    except RegistryError as err:
        print(f"warning: no champion comparison, the registry lookup failed: {err}")
        return None
    return {"version": version.version, "metrics": recorded["metrics"]}


def write_plots(
    problem: ProblemSpec, actual: pd.Series, scores: np.ndarray, decisions: np.ndarray
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Actual vs decided per row, reliability, and ROC / PR curves, as CSV for `dvc plots`."""
    paths.PLOTS_DIR.mkdir(exist_ok=True)
    cast = str if problem.is_classification else float
    pd.DataFrame(
        {
            "actual": actual.map(cast).to_numpy(),
            "predicted": pd.Series(decisions).map(cast).to_numpy(),
        }
    ).to_csv(paths.PLOTS_DIR / "predictions.csv", index=False)
    reliability = curves.reliability(problem, actual, scores)
    reliability.to_csv(paths.PLOTS_DIR / "reliability.csv", index=False)
    classifier_curves = curves.roc_and_pr(problem, actual, scores)
    for name, table in classifier_curves.items():
        table.to_csv(paths.PLOTS_DIR / f"{name}.csv", index=False)
    return reliability, classifier_curves


def main() -> None:
    params = load_params()
    problem, target = params.problem, params.problem.target
    test = read_table(paths.features("test"))
    raw_test = read_table(paths.prepared("test"))
    inputs, actual = test.drop(columns=[target]), test[target]
    policies = read_json(paths.DECISIONS)
    model_scores, model_decisions = score(
        problem, joblib.load(paths.MODEL), policies["model"], inputs
    )
    dummy_scores, dummy_decisions = score(
        problem, joblib.load(paths.BASELINE), policies["baseline"], inputs
    )

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
    )
    champion = champion_record(params.evaluate.champion)
    judged = verdict.as_record(
        verdict.judge(
            problem,
            model_metrics,
            baselines,
            sum(s.flagged for s in found),
            champion["metrics"] if champion else None,
        ),
        params.evaluate.accept_failed_verdict,
    )
    uplift = round(model_metrics["value_per_1000"] - baselines[best]["value_per_1000"], 6)
    write_json(
        {
            "test": {"model": model_metrics, **baselines},
            "uplift_per_1000": uplift,
            "verdict": {"passed": int(judged["passed"]), "promotable": int(judged["promotable"])},
        },
        paths.METRICS_DIR / "evaluate.json",
    )
    write_json(
        {
            "model": params.model.name,
            "best_baseline": best,
            **judged,
            "champion": champion,
            "slices": [s.to_dict() for s in found],
        },
        paths.VERDICT,
    )

    reliability, classifier_curves = write_plots(problem, actual, model_scores, model_decisions)
    inputs_for_card = card.CardInputs(
        params=params,
        model=model_metrics,
        baselines=baselines,
        champion=champion,
        verdict=judged,
        slices=found,
        reliability=reliability,
        curves=classifier_curves,
        split=read_json(paths.SPLIT_REPORT),
        data_version=artifact.sha256_of(paths.RAW_DATASET)[:12],
    )
    write_text(card.markdown(inputs_for_card), paths.MODEL_CARD)
    write_text(card.html(inputs_for_card), paths.MODEL_CARD_HTML)
    print(
        f"verdict: {'PASS' if judged['passed'] else 'FAIL'}; uplift per 1,000 decisions "
        f"{uplift:+.1f} over the {best} baseline"
    )


if __name__ == "__main__":
    run_stage("evaluate", main)
