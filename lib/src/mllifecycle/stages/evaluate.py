"""Step 5, evaluation: the test split, read once, judged on business value.

Scores the featurized test split with the trained model and baseline (per partition
on the workers with engine=dask), reads the prepared test split and the decision
policies (and, for robustness and cost, the preprocessor, a sample of the prepared
train split and metrics/train.json); evaluation/assessment.py judges them (baselines,
slices, champion, calibration);
writes metrics/evaluate.json, reports/verdict.json (the Verdict contract), the plots
and the model card. A failed verdict does not stop the pipeline (experiments must
stay cheap to compare): it is recorded and packaged, and promotion refuses it
unless conf/evaluate names who accepted it.
"""

from __future__ import annotations

import operator
from functools import partial

from .. import paths
from ..config import load_params
from ..contracts import Decisions
from ..engine import session
from ..evaluation import card
from ..evaluation.assessment import FittedPipeline, assess, joined, scored_parts
from ..io import read_json, read_table, write_json, write_text
from ..models import artifact
from . import run_stage


def main() -> None:
    params = load_params()
    model = artifact.read_model(paths.MODEL)
    estimators = {"model": model, "baseline": artifact.read_model(paths.BASELINE)}
    with session(params.engine) as engine:
        # On dask: train's feature spreads from a sample, the test split scored per
        # partition on the workers (only labels and scores come back).
        train = engine.sample(engine.read(paths.prepared("train")), seed=0)
        features = engine.read(paths.features("test"))
        score_part = partial(scored_parts, params.problem, estimators)
        scored = joined(engine.summarise(features, score_part, operator.add))
    fitted = FittedPipeline(
        artifact.pipeline_of(artifact.read_model(paths.PREPROCESSOR), model),
        train,
        read_json(paths.METRICS_DIR / "train.json"),
    )
    assessment = assess(
        params,
        scored,
        read_table(paths.prepared("test")),
        Decisions.read(paths.DECISIONS),
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
