"""The serving suite, checked on every request.

GX validates batches: validate_production runs gx/expectations/serving.json as a
checkpoint on the production batch. A checkpoint per request would cost more
than the model, so the service applies the same reviewed rules itself, read
from the packaged model (the suite it was trained under travels with it). Only
row rules with no tolerance apply to a record: not null, between, in set.
Table-level rules and rules with `mostly` below 1 judge a batch, not a record.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    """The per-record rules, compiled once into plain Python checks (no pandas per
    request); `violations` of a list of records matches GX's reading of the rules."""

    def __init__(self, suite: list[dict[str, Any]]) -> None:
        self.rules = [rule for rule in suite if applies_per_record(rule)]
        self._checks = [
            (rule["kwargs"]["column"], rule["type"], _rule_text(rule["kwargs"]), _breaks(rule))
            for rule in self.rules
        ]

    def violations(self, records: list[dict[str, Any]]) -> list[Violation]:
        found = [
            Violation(i, column, kind, text, value)
            for column, kind, text, broken in self._checks
            for i, record in enumerate(records)
            # A field the request model does not hold (not in the schema) is skipped.
            if column in record and broken(value := record[column])
        ]
        return sorted(found, key=lambda v: (v.record, v.column))[:MAX_REPORTED]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: Any) -> float | None:
    """The value as pd.to_numeric(errors="coerce") reads it; None where it reads NaN."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _breaks(rule: dict[str, Any]) -> Callable[[Any], bool]:
    """Whether one value breaks `rule`; GX's map rules skip nulls, and so do these."""
    kind, kwargs = rule["type"], rule["kwargs"]
    if kind == "expect_column_values_to_not_be_null":
        return _missing
    if kind == "expect_column_values_to_be_in_set":
        allowed = {str(v) for v in kwargs["value_set"]}
        return lambda value: not _missing(value) and str(value) not in allowed
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    strict_min, strict_max = kwargs.get("strict_min"), kwargs.get("strict_max")

    def out_of_range(value: Any) -> bool:
        number = None if _missing(value) else _number(value)
        if number is None:
            return False
        too_low = low is not None and (number <= low if strict_min else number < low)
        too_high = high is not None and (number >= high if strict_max else number > high)
        return too_low or too_high

    return out_of_range


def _rule_text(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "column")
