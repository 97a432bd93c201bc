"""Step 5, evaluation: the test split, read once, judged on business value.

Reads the test split, the trained model and baseline and their decision policies
(and, for robustness and cost, the preprocessor, the prepared train split and
metrics/train.json);
evaluation/assessment.py judges them (baselines, slices, champion, calibration);
writes metrics/evaluate.json, reports/verdict.json (the Verdict contract), the plots
and the model card. A failed verdict does not stop the pipeline (experiments must
stay cheap to compare): it is recorded and packaged, and promotion refuses it
unless conf/evaluate names who accepted it.
"""

from __future__ import annotations

from .. import paths
from ..config import load_params
from ..engine import session
from ..evaluation import card
from ..evaluation.assessment import FittedPipeline, assess
from ..io import read_json, read_table, write_json, write_text
from ..models import artifact
from . import run_stage


def main() -> None:
    params = load_params()
    model = artifact.read_model(paths.MODEL)
    with session(params.engine) as engine:  # train's feature spreads: a sample on dask
        train = engine.sample(engine.read(paths.prepared("train")), seed=0)
    fitted = FittedPipeline(
        artifact.pipeline_of(artifact.read_model(paths.PREPROCESSOR), model),
        train,
        read_json(paths.METRICS_DIR / "train.json"),
    )
    assessment = assess(
        params,
        read_table(paths.features("test")),
        read_table(paths.prepared("test")),
        read_json(paths.DECISIONS),
        {
            "model": model,
            "baseline": artifact.read_model(paths.BASELINE),
        },
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
