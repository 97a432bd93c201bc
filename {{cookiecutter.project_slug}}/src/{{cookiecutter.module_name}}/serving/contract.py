"""The serving suite, checked on every request.

GX validates batches: validate_production runs gx/expectations/serving.json as a
checkpoint on the production batch. A checkpoint per request would cost more
than the model, so the service applies the same reviewed rules itself, read
from the packaged model (the suite it was trained under travels with it). Only
row rules with no tolerance apply to a record: not null, between, in set.
Table-level rules and rules with `mostly` below 1 judge a batch, not a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

ROW_RULES = (
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_set",
)
MAX_REPORTED = 20


@dataclass(frozen=True)
class Violation:
    record: int
    column: str
    expectation: str
    rule: str
    observed: Any

    def as_error(self) -> dict[str, Any]:
        """In the shape of FastAPI's own 422 errors, so clients parse one format."""
        return {
            "type": "expectation",
            "loc": ["body", "records", self.record, self.column],
            "msg": f"{self.expectation}({self.rule}) failed",
            "input": self.observed,
        }


def applies_per_record(rule: dict[str, Any]) -> bool:
    return rule["type"] in ROW_RULES and rule["kwargs"].get("mostly", 1.0) >= 1.0


def documented_rules(suite: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per column, what the request schema documents: `not_null`, `bounds` (JSON
    Schema keywords) and `enum` for the rules this contract enforces; `known` for
    a tolerant set, which a single record may leave."""
    found: dict[str, dict[str, Any]] = {}
    for rule in suite:
        kwargs = rule["kwargs"]
        if rule["type"] not in ROW_RULES:
            continue
        column = found.setdefault(kwargs["column"], {})
        if rule["type"] == "expect_column_values_to_be_in_set":
            values = [str(v) for v in kwargs["value_set"]]
            column["enum" if applies_per_record(rule) else "known"] = values
        elif not applies_per_record(rule):
            continue
        elif rule["type"] == "expect_column_values_to_not_be_null":
            column["not_null"] = True
        else:
            column["bounds"] = _bounds(kwargs)
    return found


def _bounds(kwargs: dict[str, Any]) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if kwargs.get("min_value") is not None:
        low = "exclusiveMinimum" if kwargs.get("strict_min") else "minimum"
        bounds[low] = kwargs["min_value"]
    if kwargs.get("max_value") is not None:
        high = "exclusiveMaximum" if kwargs.get("strict_max") else "maximum"
        bounds[high] = kwargs["max_value"]
    return bounds


class RequestContract:
    def __init__(self, suite: list[dict[str, Any]]) -> None:
        self.rules = [rule for rule in suite if applies_per_record(rule)]

    def violations(self, frame: pd.DataFrame) -> list[Violation]:
        found: list[Violation] = []
        for rule in self.rules:
            column = rule["kwargs"]["column"]
            if column not in frame:  # the request model already requires its fields
                continue
            broken = _breaks(rule, frame[column])
            rule_text = _rule_text(rule["kwargs"])
            found += [
                Violation(int(i), column, rule["type"], rule_text, _plain(frame[column].iat[i]))
                for i in broken.to_numpy().nonzero()[0]
            ]
        return sorted(found, key=lambda v: (v.record, v.column))[:MAX_REPORTED]


def _breaks(rule: dict[str, Any], values: pd.Series) -> pd.Series:
    kind, kwargs = rule["type"], rule["kwargs"]
    if kind == "expect_column_values_to_not_be_null":
        return values.isna()
    present = values.notna()  # GX's map rules skip nulls; so does this
    if kind == "expect_column_values_to_be_in_set":
        allowed = {str(v) for v in kwargs["value_set"]}
        return present & ~values.astype(str).isin(allowed)
    numbers = pd.to_numeric(values, errors="coerce")
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    too_low = (
        (numbers <= low if kwargs.get("strict_min") else numbers < low)
        if low is not None
        else False
    )
    too_high = (
        (numbers >= high if kwargs.get("strict_max") else numbers > high)
        if high is not None
        else False
    )
    return present & (too_low | too_high)


def _rule_text(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "column")


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
