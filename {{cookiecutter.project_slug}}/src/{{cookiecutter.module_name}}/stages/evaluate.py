"""Step 5, evaluation: the test split, read once, judged on business value.

The candidate is compared with the dummy baseline, the rule baseline from the
problem spec and, when models/champion.json names one, the champion (the model
in prod, its package scored on this same split); per slice; and for calibration.
A failed verdict does not stop the pipeline (experiments must stay cheap to
compare): it is recorded in reports/verdict.json and in the packaged model, and
promotion refuses it unless conf/evaluate names who accepted it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import paths
from ..config import Params, ProblemSpec, load_params
from ..evaluation import card, curves, metrics, slices, verdict
from ..evaluation import champion as champion_comparison
from ..evaluation.baselines import rule_decisions
from ..evaluation.business import DecisionPolicy, decide, value_per_1000
from ..io import read_json, read_table, write_json, write_text
from ..models import artifact, factory
from ..registry import champion as champion_file
from . import run_stage


def score(
    problem: ProblemSpec, estimator: Any, policy: dict[str, Any], inputs: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    scores = factory.scores(estimator, inputs, problem)
    return scores, decide(problem, DecisionPolicy.from_dict(policy), scores)


def champion_record(
    params: Params, raw_test: pd.DataFrame, actual: pd.Series
) -> dict[str, Any] | None:
    """The champion that models/champion.json names, scored on this test split.

    None when evaluate.champion is null or no version is in prod. A champion of
    another problem is refused: the record says why and holds no metrics.
    """
    version = champion_file.read() if params.evaluate.champion else None
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
        raw_test.columns,
    )
    if refused:
        print(refused)
        return {**record, "refused": refused}
    scored = champion_comparison.score(packaged, params.problem, raw_test, actual)
    return {**record, "refused": None, "metrics": scored}


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
        problem, artifact.read_model(paths.MODEL), policies["model"], inputs
    )
    dummy_scores, dummy_decisions = score(
        problem, artifact.read_model(paths.BASELINE), policies["baseline"], inputs
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
        columns=params.slice_columns,
    )
    champion = champion_record(params, raw_test, actual)
    champion_metrics = champion.get("metrics") if champion else None
    judged = verdict.as_record(
        verdict.judge(
            problem,
            model_metrics,
            baselines,
            sum(s.flagged for s in found),
            champion_metrics,
        ),
        params.evaluate.accept_failed_verdict,
    )
    uplift = round(model_metrics["value_per_1000"] - baselines[best]["value_per_1000"], 6)
    write_json(
        {
            "test": {
                "model": model_metrics,
                **baselines,
                **({"champion": champion_metrics} if champion_metrics else {}),
            },
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
            "slice_judgement": {
                "method": slices.method(params.evaluate.slice_confidence),
                "confidence": params.evaluate.slice_confidence,
                "floor_uplift_per_1000": params.evaluate.slice_floor_uplift_per_1000,
                "min_slice_rows": params.evaluate.min_slice_rows,
            },
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
