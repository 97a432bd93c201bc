"""Packaging: one self-describing artifact for serving and batch scoring.

The artifact holds the fitted preprocessing and model as one pipeline, its
decision policy, input schema, params, data version, test metrics and verdict
(the PackageMetadata contract). `check_round_trip` reloads it (hash-checked) and
confirms that it makes exactly the decisions that were evaluated.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .. import paths
from ..config import DataConfig, Params
from ..contracts import (
    CategoricalInput,
    InputField,
    NumericInput,
    PackageContent,
    PackagedParams,
    PackageMetadata,
    TimestampInput,
    Verdict,
    VerdictCore,
)
from ..errors import ArtifactError, DataError
from ..evaluation.business import decide
from ..features.pipeline import timestamp_inputs
from ..tasks.policy import DecisionPolicy
from ..validation import gates
from . import artifact, factory
from .compiled import NotCompilable

# How far a compiled score may stray from the scikit-learn pipeline's.
SCORE_TOLERANCE = 1e-6
# Rows of each batch also proven as JSON records, through the service's own typing.
RECORDS_PROVEN = 5_000


def input_schema(
    frame: pd.DataFrame, data: DataConfig, timestamps: list[str] | None = None
) -> list[InputField]:
    return schema_of(column_facts(frame, data, timestamps or []), data, timestamps or [])


def column_facts(frame: pd.DataFrame, data: DataConfig, timestamps: list[str]) -> dict[str, Any]:
    """What the input schema says of each column, and the row count. The facts of two
    parts combine (`combine_facts`): the dask engine gathers them per partition."""
    facts: dict[str, Any] = {"rows": len(frame)}
    for column in data.numeric:
        values = frame[column]
        facts[column] = {
            "nullable": values.isna().any(),
            "min": values.min(),
            "max": values.max(),
            "integer": (values.dropna() % 1 == 0).all(),
        }
    for column in data.categorical:
        values = frame[column]
        facts[column] = {"nullable": values.isna().any(), "categories": values.dropna().unique()}
    for column in timestamps:  # read by derived features (features/derived.py)
        values = frame[column]
        facts[column] = {"nullable": values.isna().any(), "min": values.min(), "max": values.max()}
    return facts


def combine_facts(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two parts' `column_facts` as one: rows add, bounds widen, flags join, categories unite."""
    joined: dict[str, Any] = {"rows": first["rows"] + second["rows"]}
    for column, found in first.items():
        if column != "rows":
            joined[column] = {key: JOIN[key](v, second[column][key]) for key, v in found.items()}
    return joined


def _least(first: Any, second: Any) -> Any:
    return pd.Series([first, second]).min()  # a part's NaN or NaT (no values) is skipped


def _most(first: Any, second: Any) -> Any:
    return pd.Series([first, second]).max()


JOIN: dict[str, Callable[[Any, Any], Any]] = {
    "nullable": lambda a, b: bool(a) or bool(b),
    "integer": lambda a, b: bool(a) and bool(b),
    "min": _least,
    "max": _most,
    "categories": lambda a, b: [*{*a, *b}],
}


def facts_of(params: Params) -> Callable[[pd.DataFrame], dict[str, Any]]:
    """The `column_facts` the package's input schema needs, as a function of the train split."""
    timestamps = timestamp_inputs(params.features, params.data)
    return partial(column_facts, data=params.data, timestamps=timestamps)


def schema_of(facts: dict[str, Any], data: DataConfig, timestamps: list[str]) -> list[InputField]:
    """The input schema from computed `column_facts`."""
    schema: list[InputField] = []
    for column in data.numeric:
        found = facts[column]
        schema.append(
            NumericInput(
                name=column,
                kind="numeric",
                nullable=bool(found["nullable"]),
                min=float(found["min"]),
                max=float(found["max"]),
                integer=bool(found["integer"]),
            )
        )
    for column in data.categorical:
        found = facts[column]
        schema.append(
            CategoricalInput(
                name=column,
                kind="categorical",
                nullable=bool(found["nullable"]),
                categories=sorted(str(v) for v in found["categories"]),
            )
        )
    for column in timestamps:
        found = facts[column]
        schema.append(
            TimestampInput(
                name=column,
                kind="timestamp",
                nullable=bool(found["nullable"]),
                min=found["min"].isoformat(),
                max=found["max"].isoformat(),
            )
        )
    return schema


def content(
    params: Params,
    policy: DecisionPolicy,
    train_facts: dict[str, Any],
    evaluation: dict[str, Any],
    verdict: Verdict,
) -> PackageContent:
    """The metadata packaging decides; `train_facts` are `facts_of(params)` of the
    prepared train split, `evaluation` is metrics/evaluate.json."""
    timestamps = timestamp_inputs(params.features, params.data)
    return PackageContent(
        name=params.problem.name,
        task=params.problem.task,
        target=params.problem.target,
        problem=params.problem,
        decision_policy=policy,
        input_schema=schema_of(train_facts, params.data, timestamps),
        id_column=params.data.id_column,
        # The service checks each request against the suite this model was trained under.
        serving_suite=gates.load_suite("serving"),
        params=PackagedParams(
            model=params.model.model_dump(mode="json"),
            features=params.features.model_dump(mode="json"),
        ),
        data_version=artifact.sha256_of(paths.RAW_DATASET)[:12],
        training_rows=int(train_facts["rows"]),
        metrics=evaluation["test"]["model"],
        baseline_metrics={
            k: v for k, v in evaluation["test"].items() if k not in ("model", "champion")
        },
        verdict=VerdictCore(
            passed=verdict.passed,
            promotable=verdict.promotable,
            override=verdict.override,
            criteria=verdict.criteria,
        ),
    )


def check_round_trip(
    packaged: artifact.Artifact,
    params: Params,
    policy: DecisionPolicy,
    model: Any,
    features: pd.DataFrame,
    raw: pd.DataFrame,
    part: str | None = None,
) -> None:
    """The packaged pipeline must decide on raw rows as the evaluated model did on
    features (`part`: the file both come from, where the split is written in parts)."""
    if raw.empty:  # an empty part of a split: nothing was evaluated there
        return
    expected = decide(
        params.problem,
        policy,
        factory.scores(model, features, params.problem),
    )
    actual = packaged.decide(raw)
    same = (
        np.array_equal(expected, actual)
        if params.problem.is_classification
        else np.allclose(expected.astype(float), actual.astype(float))
    )
    if not same:
        where = f" (test part {part})" if part else ""
        raise ArtifactError(
            f"the packaged pipeline does not reproduce the evaluated decisions{where}"
        )


def round_trip_of(
    packaged: artifact.Artifact, params: Params, policy: DecisionPolicy, model: Any
) -> Callable[[str | None, pd.DataFrame, pd.DataFrame], None]:
    """check_round_trip as `Engine.each_part` runs it: on (part, features, raw rows)."""
    unused = artifact.Artifact(packaged.pipeline, packaged.metadata)  # pickles to workers

    def check(part: str | None, features: pd.DataFrame, raw: pd.DataFrame) -> None:
        target = params.problem.target
        inputs = features.drop(columns=[target], errors="ignore")
        check_round_trip(unused, params, policy, model, inputs, raw, part)

    return check


def scoring_path(
    pipeline: Pipeline,
    content: PackageContent,
    batches: dict[str, Path],
    each_part: Callable[[list[Path], Callable[..., None]], list[Any]],
) -> str:
    """ "compiled" when the NumPy form of `pipeline` scores every row of `batches` as the
    pipeline does; "scikit-learn" when it has no NumPy form. Disagreement is refused.
    `each_part`: the engine's, so each part of a batch is proven where it lies."""
    try:
        provisional(pipeline, content).compiled  # noqa: B018 (compiling is the check)
    except NotCompilable as err:
        print(f"package: scoring through scikit-learn, no compiled path: {err}")
        return "scikit-learn"
    for name, location in batches.items():
        each_part([location], partial(_prove_part, pipeline, content, name))
    return "compiled"


def _prove_part(
    pipeline: Pipeline, content: PackageContent, batch: str, part: str | None, frame: pd.DataFrame
) -> None:
    """prove_compiled on one part of a batch, with an artifact of its own."""
    name = f"{batch} part {part}" if part else batch
    prove_compiled(provisional(pipeline, content), name, frame)


def provisional(pipeline: Pipeline, content: PackageContent) -> artifact.Artifact:
    """An unsaved artifact that scores through the compiled path, for the proof."""
    fields = dict(content)  # already validated
    unsaved = {"model_file": "", "sha256": "", "version": "", "digest": ""}
    metadata = PackageMetadata.model_construct(**{**fields, **unsaved, "scoring_path": "compiled"})
    return artifact.Artifact(pipeline, metadata)


def prove_compiled(packaged: artifact.Artifact, name: str, frame: pd.DataFrame) -> None:
    """Refuse (ArtifactError, naming the row) unless the compiled path gives every row of
    `frame` the reference pipeline's scores (within SCORE_TOLERANCE) and decisions."""
    if frame.empty:
        return
    try:
        reference = packaged.reference_scores(frame)
    except (ArtifactError, DataError, ValueError) as err:  # broken: validate_production's
        print(f"package: {name} batch not used to prove the compiled path: {err}")
        return
    refuse_disagreement(packaged, name, frame, reference, packaged.scores(frame), "")
    # The service types JSON records on its own path: prove it on the same rows as JSON.
    sample = frame.head(RECORDS_PROVEN)
    records = json.loads(
        sample[packaged.metadata.input_names].to_json(orient="records", date_format="iso")
    )
    served = packaged.scores_of_records(records)
    refuse_disagreement(packaged, name, sample, reference[: len(sample)], served, " as JSON")


def refuse_disagreement(
    packaged: artifact.Artifact,
    name: str,
    frame: pd.DataFrame,
    reference: np.ndarray,
    fast: np.ndarray,
    read_as: str,
) -> None:
    row = first_disagreement(packaged, reference, fast)
    if row is None:
        return
    id_column = packaged.metadata.id_column
    named = f", {id_column}={frame[id_column].iloc[row]!r}" if id_column in frame else ""
    raise ArtifactError(
        f"{name} row {row} (index {frame.index[row]!r}{named}){read_as}: compiled scores "
        f"{np.round(fast[row], 9).tolist()} but the scikit-learn pipeline's "
        f"{np.round(reference[row], 9).tolist()}; refusing to package a compiled path "
        "that does not make the evaluated decisions"
    )


def first_disagreement(
    packaged: artifact.Artifact, reference: np.ndarray, fast: np.ndarray
) -> int | None:
    gap = np.abs(reference - fast).reshape(len(reference), -1).max(axis=1)
    wrong = ~(gap <= SCORE_TOLERANCE)
    decided = packaged.decide_from_scores(reference), packaged.decide_from_scores(fast)
    if packaged.problem.is_classification:
        wrong |= decided[0] != decided[1]
    rows = np.flatnonzero(wrong)
    return int(rows[0]) if len(rows) else None


def verdict_state(verdict: VerdictCore) -> str:
    if verdict.passed:
        return "passed"
    return "FAILED, accepted by override" if verdict.promotable else "FAILED (not promotable)"
