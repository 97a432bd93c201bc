"""Request and response models, generated from the packaged input schema.

The request model is built from the artifact, not written by hand, so the
service can never drift from the model it serves: a missing, mistyped or
unknown field is a 422 that names it, before any model code runs.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    StringConstraints,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

from ..contracts import InputField, NumericInput, TimestampInput
from .contract import documented_rules

StrictRecord = ConfigDict(extra="forbid", allow_inf_nan=False)
MAX_TEXT = 200
# No control characters (NUL, escapes, C1): nothing a category or an id needs.
PRINTABLE = r"^[^\x00-\x1F\x7F-\x9F]*$"


def _a_number(value: Any) -> Any:
    """Numbers only: lax int would turn "12" or true into 12."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# 12 and 12.0 are the same JSON number; 1.5, "12" and true are not integers.
# JSON's interoperable integers (RFC 7493): exact as an int and as a double, so the
# bound means the same to every client, to the float parse and to the check.
SAFE = 2**53
SAFE_INTEGER = {"minimum": -SAFE, "maximum": SAFE}
Whole = Annotated[int, BeforeValidator(_a_number), Field(ge=-SAFE, le=SAFE)]
Real = Annotated[float, Strict()]
Text = Annotated[str, Strict(), StringConstraints(max_length=MAX_TEXT, pattern=PRINTABLE)]
TEXT_SCHEMA = {"type": "string", "maxLength": MAX_TEXT, "pattern": PRINTABLE}


# The usual shape of an ISO 8601 timestamp, which pandas always reads when its date is
# valid and within its nanosecond range (years 1678 to 2261): no pandas per request.
USUAL_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:\d{2})?"
)


def _iso_timestamp(value: str) -> str:
    """ISO 8601 text ("2024-03-01", "2024-03-01T10:00:00+01:00"), kept as sent, that both
    the compiled path (datetime.fromisoformat) and the packaged pipeline (pandas, as
    batch scoring: features/inputs.py) read."""
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        stamp = None
    usual = stamp is not None and 1678 <= stamp.year <= 2261 and USUAL_ISO.fullmatch(value)
    if stamp is None or not (usual or _pandas_reads(value)):
        raise PydanticCustomError(
            "timestamp_type", "a timestamp is ISO 8601 text, e.g. 2024-03-01T10:00:00+01:00"
        )
    return value


def _pandas_reads(value: str) -> bool:
    try:
        return not pd.isna(pd.to_datetime(value, format="ISO8601"))
    except (ValueError, TypeError, OverflowError):
        return False


# Read by derived features (features/derived.py), e.g. the day of week of the time column.
Timestamp = Annotated[Text, AfterValidator(_iso_timestamp)]


def _an_id(value: Any) -> str | int | None:
    """Text or a whole number, as ids are; one error naming the field otherwise."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= MAX_TEXT and re.fullmatch(PRINTABLE, value):
        return value
    whole = isinstance(value, int | float) and not isinstance(value, bool) and value % 1 == 0
    if whole and -SAFE <= value <= SAFE:
        return int(value)
    raise PydanticCustomError(
        "id_type", "an id is text (printable, at most 200 characters) or an integer within ±2**53"
    )


Id = Annotated[
    str | int | None,
    PlainValidator(_an_id),
    WithJsonSchema({"anyOf": [TEXT_SCHEMA, {"type": "integer", **SAFE_INTEGER}, {"type": "null"}]}),
]


def _spelled_by(known: list[str], closed: bool = False) -> tuple[Any, dict[str, Any]]:
    """Text, or a JSON number that spells one of the known categories (a category of
    numbers, e.g. 1-4, which the table held as numbers and training as text): 2 -> "2"."""
    spellings = frozenset(known)

    def category(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value  # text, or a refusal by the text type
        text = str(int(value)) if float(value).is_integer() else str(value)
        if text in spellings:
            return text
        raise PydanticCustomError(
            "category_type",
            "a category is text, or a number that spells a known one ({known})",
            {"known": ", ".join(sorted(spellings)[:10])},
        )

    numbers = sorted(int(k) for k in spellings if re.fullmatch(r"-?\d{1,15}", k))
    text = {**TEXT_SCHEMA, "enum": list(known)} if closed else TEXT_SCHEMA
    if not numbers:  # no number spells one: plain text, no validator on the request path
        return Text, text
    return Annotated[Text, BeforeValidator(category)], {
        "anyOf": [text, {"type": "integer", "enum": numbers}]
    }


def record_model(
    input_schema: list[InputField], id_column: str | None, suite: list[dict[str, Any]]
) -> type[BaseModel]:
    """One record: numbers (integers where training had only whole numbers) and text.

    A field that had no missing values in training, or that the serving suite says
    is never null, is required and not nullable. The suite's no-tolerance rules
    (ranges, closed sets) are documented in the schema and enforced by the
    contract, which names the expectation; its tolerant sets (unseen categories
    are accepted, the encoder maps them to "other", the monitor reports them) are
    listed in the field's description.
    """
    rules = documented_rules(suite)
    fields: dict[str, Any] = {}
    for column in input_schema:
        name = column.name
        kind, schema, notes = _field_type(column, rules.get(name, {}))
        typed = Annotated[kind, WithJsonSchema(schema)]  # type: ignore[valid-type]
        if column.nullable and not rules.get(name, {}).get("not_null"):
            fields[name] = (typed | None, Field(default=None, **notes))
        else:
            fields[name] = (typed, Field(..., **notes))
    if id_column is not None:
        # Optional: carried into the prediction log so labels can be joined later.
        fields[id_column] = (Id, Field(default=None))
    return create_model("Record", __config__=StrictRecord, **fields)


def _field_type(
    column: InputField, rule: dict[str, Any]
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """(type, JSON schema, Field keywords) of one input column under its suite rules."""
    if isinstance(column, NumericInput):
        integer = column.integer
        bounds = rule.get("bounds", {})
        schema = (
            {"type": "integer", **SAFE_INTEGER, **bounds}
            if integer
            else {"type": "number", **bounds}
        )
        return (Whole if integer else Real), schema, {}
    if isinstance(column, TimestampInput):
        notes = {"description": "an ISO 8601 timestamp", "examples": [column.min]}
        return Timestamp, {**TEXT_SCHEMA, "minLength": 1, "format": "date-time"}, notes
    if "enum" in rule:
        closed_set, schema = _spelled_by(rule["enum"], closed=True)
        return closed_set, schema, {}
    known = rule.get("known") or column.categories
    notes = {
        "description": f"known categories: {', '.join(known)}; others are accepted and "
        "show up in the monitor's report",
        "examples": known[:5],
    }
    kind, schema = _spelled_by(known)
    return kind, schema, notes if known else {}


def request_model(record: type[BaseModel], max_records: int) -> type[BaseModel]:
    return create_model(
        "PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        records=(list[record], Field(..., min_length=1, max_length=max_records)),  # type: ignore[valid-type]
    )


class Problem(BaseModel):
    """A refusal that is not a list of field errors: overload, deadline, body size."""

    detail: str


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
    # Prediction log entries this worker dropped because its queue was full.
    prediction_log_dropped: int = 0
    input_schema: list[InputField]
    metrics: dict[str, Any]
    verdict_passed: bool
    # False: a package never registered, served because SERVE_ALLOW_UNREGISTERED asked.
    registered: bool = True
    challenger_version: str | None = None
