"""Step 6, packaging: one self-describing artifact for serving and batch scoring.

The artifact holds the fitted preprocessing and model as one pipeline, its
decision policy, input schema, params, data version, test metrics and verdict.
Before the stage succeeds it reloads the artifact (hash-checked) and confirms
that it makes exactly the decisions that were evaluated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .. import paths
from ..config import DataConfig, Params, load_params
from ..errors import ArtifactError
from ..evaluation.business import DecisionPolicy, decide
from ..features.pipeline import timestamp_inputs
from ..io import read_json, read_table
from ..models import artifact, factory
from ..validation import gates
from . import run_stage


def input_schema(
    frame: pd.DataFrame, data: DataConfig, timestamps: list[str] | None = None
) -> list[dict[str, Any]]:
    schema: list[dict[str, Any]] = []
    for column in data.numeric:
        values = frame[column]
        schema.append(
            {
                "name": column,
                "kind": "numeric",
                "nullable": bool(values.isna().any()),
                "min": float(values.min()),
                "max": float(values.max()),
                # Whole numbers in training (counts): the service takes integers only.
                "integer": bool((values.dropna() % 1 == 0).all()),
            }
        )
    for column in data.categorical:
        values = frame[column]
        schema.append(
            {
                "name": column,
                "kind": "categorical",
                "nullable": bool(values.isna().any()),
                "categories": sorted(str(v) for v in values.dropna().unique()),
            }
        )
    for column in timestamps or []:  # read by derived features (features/derived.py)
        values = frame[column]
        schema.append(
            {
                "name": column,
                "kind": "timestamp",
                "nullable": bool(values.isna().any()),
                "min": values.min().isoformat(),
                "max": values.max().isoformat(),
            }
        )
    return schema


def metadata(params: Params, policy: dict[str, Any], train: pd.DataFrame) -> dict[str, Any]:
    evaluation, verdict = read_json(paths.METRICS_DIR / "evaluate.json"), read_json(paths.VERDICT)
    return {
        "name": params.problem.name,
        "task": params.problem.task,
        "target": params.problem.target,
        "problem": params.problem.model_dump(mode="json"),
        "decision_policy": policy,
        "input_schema": input_schema(
            train, params.data, timestamp_inputs(params.features, params.data)
        ),
        # Carried through serving into the prediction log, so labels can be joined later.
        "id_column": params.data.id_column,
        # The service checks each request against the suite this model was trained under.
        "serving_suite": gates.load_suite("serving"),
        "params": {
            "model": params.model.model_dump(mode="json"),
            "features": params.features.model_dump(mode="json"),
        },
        "data_version": artifact.sha256_of(paths.RAW_DATASET)[:12],
        "training_rows": len(train),
        "metrics": evaluation["test"]["model"],
        "baseline_metrics": {
            k: v for k, v in evaluation["test"].items() if k not in ("model", "champion")
        },
        # Promotion reads these: a failed verdict is promotable only with a recorded override.
        "verdict": {key: verdict[key] for key in ("passed", "promotable", "override", "criteria")},
    }


def check_round_trip(params: Params, policy: dict[str, Any]) -> None:
    """The packaged pipeline must decide on raw rows as the evaluated model did on features."""
    packaged = artifact.load(paths.PACKAGE_DIR)
    target = params.problem.target
    features = read_table(paths.features("test")).drop(columns=[target])
    model = artifact.read_model(paths.MODEL)
    expected = decide(
        params.problem,
        DecisionPolicy.from_dict(policy),
        factory.scores(model, features, params.problem),
    )
    actual = packaged.decide(read_table(paths.prepared("test")))
    same = (
        np.array_equal(expected, actual)
        if params.problem.is_classification
        else np.allclose(expected.astype(float), actual.astype(float))
    )
    if not same:
        raise ArtifactError("the packaged pipeline does not reproduce the evaluated decisions")


def main() -> None:
    params = load_params()
    policy = read_json(paths.DECISIONS)["model"]
    pipeline = Pipeline(
        [
            ("preprocess", artifact.read_model(paths.PREPROCESSOR)),
            ("model", artifact.read_model(paths.MODEL)),
        ]
    )
    saved = artifact.save(
        paths.PACKAGE_DIR, pipeline, metadata(params, policy, read_table(paths.prepared("train")))
    )
    check_round_trip(params, policy)
    verdict = saved["verdict"]
    state = (
        "passed"
        if verdict["passed"]
        else "FAILED, accepted by override"
        if verdict["promotable"]
        else "FAILED (not promotable)"
    )
    print(f"packaged model {saved['version']}; evaluation verdict {state}")


if __name__ == "__main__":
    run_stage("package", main)
