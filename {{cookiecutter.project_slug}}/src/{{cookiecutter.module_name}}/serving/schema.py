"""Request and response models, generated from the packaged input schema.

The request model is built from the artifact, not written by hand, so the
service can never drift from the model it serves: a missing, mistyped or
unknown field is a 422 that names it, before any model code runs.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

StrictRecord = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=200)


def record_model(input_schema: list[dict[str, Any]], id_column: str | None) -> type[BaseModel]:
    """One record: numeric fields are finite floats, categorical fields strings.

    A field that had no missing values in training is required and not nullable.
    Unseen categories are accepted (the encoder maps them to "other") and show up
    in the monitor's report instead of failing requests.
    """
    fields: dict[str, Any] = {}
    for column in input_schema:
        kind: Any = float if column["kind"] == "numeric" else str
        if column["nullable"]:
            fields[column["name"]] = (kind | None, Field(default=None))
        else:
            fields[column["name"]] = (kind, Field(...))
    if id_column is not None:
        # Optional: carried into the prediction log so labels can be joined later.
        fields[id_column] = (str | int | None, Field(default=None))
    return create_model("Record", __config__=StrictRecord, **fields)


def request_model(record: type[BaseModel], max_records: int) -> type[BaseModel]:
    return create_model(
        "PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        records=(list[record], Field(..., min_length=1, max_length=max_records)),  # type: ignore[valid-type]
    )


class Prediction(BaseModel):
    decision: str | float
    # Class probabilities for classifiers; absent for regression.
    scores: dict[str, float] | None = None
    id: str | int | None = None


class PredictResponse(BaseModel):
    request_id: str
    model_version: str
    predictions: list[Prediction]


class Health(BaseModel):
    status: str


class Metadata(BaseModel):
    name: str
    task: str
    model_version: str
    artifact_version: str
    source: str
    data_version: str
    input_schema: list[dict[str, Any]]
    metrics: dict[str, Any]
    verdict_passed: bool
    challenger_version: str | None = None
