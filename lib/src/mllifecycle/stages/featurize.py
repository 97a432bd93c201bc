"""Step 3a, feature engineering and exploratory analysis.

Explores the train split (reports/eda.html, its figures in reports/eda.json), selects
features on train and valid (reports/selection.json), then fits the preprocessing on
train and applies it to every split. The test split is only transformed.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from .. import paths
from ..config import Params, load_params
from ..engine import Engine, session
from ..features import explore
from ..features.information import target_information
from ..features.pipeline import as_model_input, build_preprocessor
from ..features.selection import select, with_derived
from ..io import read_table
from ..models.storage import write_model
from . import run_stage


def main() -> None:
    params = load_params()
    with session(params.engine) as engine:
        if engine.name == "dask":  # statistics from every partition, transform per partition
            from ..features import on_cluster

            preprocessor = on_cluster.featurize(params, engine, explored)
        else:
            preprocessor = featurize(params, engine)
    write_model(preprocessor, paths.PREPROCESSOR)


def featurize(params: Params, engine: Engine) -> Any:
    """Explore and select on train (and valid), fit on train, transform every split."""
    target = params.problem.target
    splits = {name: read_table(paths.prepared(name)) for name in paths.SPLITS}
    train, valid = splits["train"], splits["valid"]
    preprocessor = build_preprocessor(params.features, params.data, explored(params, train, valid))
    preprocessor.fit(as_model_input(train, params.data, params.features))
    for name, frame in splits.items():
        features = preprocessor.transform(as_model_input(frame, params.data, params.features))
        features[target] = frame[target].to_numpy()
        engine.write(features, paths.features(name))  # replaces a dask run's part directory
    return preprocessor


def explored(params: Params, train: pd.DataFrame, valid: pd.DataFrame) -> list[str]:
    """The reports written, and the features the selection dropped."""
    classification = params.problem.task != "regression"
    target = params.problem.target
    chosen = select(train, valid, target, params.features, params.data, classification)
    write_reports(params, train, chosen.record(), classification)
    return list(chosen.dropped)


def write_reports(
    params: Params, train: pd.DataFrame, selection: dict[str, Any], classification: bool
) -> None:
    """The exploratory report of the train split, its metrics, and the selection record."""
    table = with_derived(train, params.features, params.data)
    target = train[params.problem.target]
    ceiling = target_information(target, classification)
    found = explore.figures(
        table,
        target,
        classification,
        selection["mutual_information"],
        ceiling,
        params.features.explore,
    )
    paths.REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    paths.SELECTION.write_text(json.dumps(selection, indent=2) + "\n", encoding="utf-8")
    metrics = explore.metrics(found, selection)
    paths.EDA_METRICS.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    paths.EDA_REPORT.write_text(
        explore.html(found, selection, table, dict(params.features.transforms)), encoding="utf-8"
    )


if __name__ == "__main__":
    run_stage("featurize", main)
