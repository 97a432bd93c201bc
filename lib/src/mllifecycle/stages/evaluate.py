"""Step 5, evaluation: the test split, read once, judged on business value.

Scores the test split part by part (on the workers with engine=dask): the model and
the dummy baseline on the featurized rows, the rule baseline and the champion on the
prepared ones; only labels, scores, decisions and the columns slices and fairness
group by come back, never the table. Reads the decision policies and, for robustness
and cost, the preprocessor, samples of the prepared train and test splits and
metrics/train.json; evaluation/assessment.py judges them (baselines, slices, champion,
calibration);
writes metrics/evaluate.json, reports/verdict.json (the Verdict contract), the plots
and the model card. A failed verdict does not stop the pipeline (experiments must
stay cheap to compare): it is recorded and packaged, and promotion refuses it
unless conf/evaluate names who accepted it.
"""

from __future__ import annotations

from functools import partial

from .. import paths
from ..config import load_params
from ..contracts import Decisions
from ..engine import session
from ..evaluation import card, fairness
from ..evaluation.assessment import (
    FittedPipeline,
    Scorers,
    assess,
    champion_to_compare,
    grouped_by,
    joined,
    scored_part,
)
from ..io import read_json, schema_of, table_files, write_json, write_text
from ..models import artifact
from . import run_stage


def main() -> None:
    params = load_params()
    model = artifact.read_model(paths.MODEL)
    estimators = {"model": model, "baseline": artifact.read_model(paths.BASELINE)}
    test = paths.prepared("test")
    columns = list(schema_of(table_files(test)[0]))
    fairness.check_attributes(params.problem.sensitive_attributes, columns)
    champion = champion_to_compare(params, columns)
    package = champion.package if champion else None
    scorers = Scorers(params.problem, estimators, package, grouped_by(params))
    with session(params.engine) as engine:
        scored = joined(
            engine.each_part([test, paths.features("test")], partial(scored_part, scorers))
        )
        # On dask: seeded samples (train's feature spreads; test rows to perturb and time).
        train = engine.sample(engine.read(paths.prepared("train")), seed=0)
        test_sample = engine.sample(engine.read(test), seed=0)
    fitted = FittedPipeline(
        artifact.pipeline_of(artifact.read_model(paths.PREPROCESSOR), model),
        train,
        read_json(paths.METRICS_DIR / "train.json"),
        test_sample,
    )
    assessment = assess(
        params,
        scored,
        Decisions.read(paths.DECISIONS),
        champion,
        read_json(paths.SPLIT_REPORT),
        artifact.sha256_of(paths.RAW_DATASET)[:12],
        fitted,
    )
    write_json(assessment.metrics, paths.METRICS_DIR / "evaluate.json")
    write_json(assessment.verdict.model_dump(mode="json"), paths.VERDICT)
    paths.PLOTS_DIR.mkdir(exist_ok=True)
    for name, table in assessment.plots.items():
        table.to_csv(paths.PLOTS_DIR / f"{name}.csv", index=False)
    write_text(card.markdown(assessment.card), paths.MODEL_CARD)
    write_text(card.html(assessment.card), paths.MODEL_CARD_HTML)
    print(assessment.summary)


if __name__ == "__main__":
    run_stage("evaluate", main)
