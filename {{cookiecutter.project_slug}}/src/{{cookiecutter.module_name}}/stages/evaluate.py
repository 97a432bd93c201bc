"""Step 5, evaluation: the test split, read once, judged on business value.

A failed verdict does not stop the pipeline (experiments must stay cheap to
compare); it is recorded in reports/verdict.json, which promotion checks.
"""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np
import pandas as pd

from .. import paths
from ..config import Params, ProblemSpec, load_params
from ..evaluation import metrics, verdict
from ..evaluation.business import DecisionPolicy, decide, value_per_decision
from ..io import read_json, read_table, write_json, write_text
from ..models import factory
from . import run_stage


def score(
    problem: ProblemSpec, estimator: Any, policy: dict[str, Any], inputs: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    scores = factory.scores(estimator, inputs, problem)
    return scores, decide(problem, DecisionPolicy.from_dict(policy), scores)


def slice_table(
    params: Params,
    raw: pd.DataFrame,
    actual: pd.Series,
    model_decisions: np.ndarray,
    baseline_decisions: np.ndarray,
) -> list[dict[str, Any]]:
    """Value per 1,000 decisions per slice, flagged when the slice is too small to trust."""
    problem = params.problem
    frame = pd.DataFrame(
        {
            "model": value_per_decision(problem, actual, model_decisions) * 1000,
            "baseline": value_per_decision(problem, actual, baseline_decisions) * 1000,
        }
    )
    rows = []
    for column in params.evaluate.slice_columns:
        groups = frame.groupby(raw[column].fillna("__missing__").to_numpy())
        for value, group in groups:
            rows.append(
                {
                    "column": column,
                    "value": str(value),
                    "rows": len(group),
                    "model_value_per_1000": round(float(group["model"].mean()), 2),
                    "baseline_value_per_1000": round(float(group["baseline"].mean()), 2),
                    "too_small": len(group) < params.evaluate.min_slice_rows,
                }
            )
    return rows


def plots(problem: ProblemSpec, actual: pd.Series, decisions: np.ndarray) -> None:
    """Actual vs decided per test row: a confusion matrix or a scatter in `dvc plots`."""
    cast = str if problem.is_classification else float
    table = pd.DataFrame(
        {
            "actual": actual.map(cast).to_numpy(),
            "predicted": pd.Series(decisions).map(cast).to_numpy(),
        }
    )
    paths.PLOTS_DIR.mkdir(exist_ok=True)
    table.to_csv(paths.PLOTS_DIR / "predictions.csv", index=False)


def report(params: Params, results: dict[str, Any], slices: list[dict[str, Any]]) -> str:
    model, baseline = results["test"]["model"], results["test"]["baseline"]
    lines = [
        f"# Evaluation: {params.model.name} on the test split",
        "",
        f"Verdict: **{'PASS' if results['verdict']['passed'] else 'FAIL'}**",
        "",
        "| criterion | observed | required | passed |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {c['name']} | {c['observed']} | {c['required']} | {'yes' if c['passed'] else 'NO'} |"
        for c in results["verdict"]["criteria"]
    ]
    lines += ["", "| metric | model | baseline |", "|---|---|---|"]
    lines += [
        f"| {name} | {model[name]:.4f} | {baseline.get(name, float('nan')):.4f} |" for name in model
    ]
    lines += [
        "",
        "## Slices (value per 1,000 decisions)",
        "",
        "| column | value | rows | model | baseline | note |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {s['column']} | {s['value']} | {s['rows']} | {s['model_value_per_1000']} | "
        f"{s['baseline_value_per_1000']} | {'too few rows' if s['too_small'] else ''} |"
        for s in slices
    ]
    return "\n".join(lines) + "\n"


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
    base_scores, base_decisions = score(
        problem, joblib.load(paths.BASELINE), policies["baseline"], inputs
    )
    model_metrics = metrics.compute(problem, actual, model_scores, model_decisions)
    baseline_metrics = metrics.compute(problem, actual, base_scores, base_decisions)
    judged = verdict.as_record(verdict.judge(problem, model_metrics, baseline_metrics))
    results = {
        "test": {"model": model_metrics, "baseline": baseline_metrics},
        "uplift_per_1000": round(
            model_metrics["value_per_1000"] - baseline_metrics["value_per_1000"], 6
        ),
        "verdict": judged,
    }
    slices = slice_table(params, raw_test, actual, model_decisions, base_decisions)
    write_json(
        {**results, "verdict": {"passed": int(judged["passed"])}},
        paths.METRICS_DIR / "evaluate.json",
    )
    write_json({"model": params.model.name, **judged, "slices": slices}, paths.VERDICT)
    plots(problem, actual, model_decisions)
    write_text(report(params, results, slices), paths.EVALUATION_REPORT)
    print(
        f"verdict: {'PASS' if judged['passed'] else 'FAIL'}; uplift per 1,000 decisions "
        f"{results['uplift_per_1000']:+.1f} over the baseline"
    )


if __name__ == "__main__":
    run_stage("evaluate", main)
