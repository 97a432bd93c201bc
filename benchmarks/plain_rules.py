"""The raw gate's rules as a plain pandas pass: the floor a GX checkpoint is timed against.

Same rules, same data, no GX: what one vectorised pandas expression per rule costs.
Returns the rules that failed (the benchmark asserts both agree that none did).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

Rule = dict[str, Any]


def _between(values: pd.Series, low: Any, high: Any) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        zone = values.dt.tz
        low = _as_time(low, zone)
        high = _as_time(high, zone)
    present = values.dropna()
    above = low is None or bool((present >= low).all())
    return above and (high is None or bool((present <= high).all()))


def _as_time(value: Any, zone: Any) -> Any:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    if zone is None:
        return stamp.tz_convert(None) if stamp.tzinfo else stamp
    return stamp.tz_convert(zone) if stamp.tzinfo else stamp.tz_localize(zone)


CHECKS: dict[str, Callable[[pd.DataFrame, dict[str, Any]], bool]] = {
    "expect_table_columns_to_match_set": lambda f, k: set(k["column_set"]) <= set(f.columns),
    "expect_table_row_count_to_be_between": lambda f, k: len(f) >= (k.get("min_value") or 0),
    "expect_column_values_to_be_unique": lambda f, k: bool(f[k["column"]].dropna().is_unique),
    "expect_column_values_to_not_be_null": lambda f, k: bool(f[k["column"]].notna().all()),
    "expect_column_values_to_be_of_type": lambda f, k: (
        str(f[k["column"]].dtype) == k["type_"]
        or (k["type_"] == "str" and f[k["column"]].dropna().map(type).eq(str).all())
    ),
    "expect_column_values_to_be_between": lambda f, k: _between(
        f[k["column"]], k.get("min_value"), k.get("max_value")
    ),
    "expect_column_values_to_be_in_set": lambda f, k: bool(
        f[k["column"]].dropna().astype(str).isin({str(v) for v in k["value_set"]}).all()
    ),
    "expect_column_unique_value_count_to_be_between": lambda f, k: f[k["column"]].nunique()
    >= k["min_value"],
    "expect_column_max_to_be_between": lambda f, k: _between(
        pd.Series([f[k["column"]].max()]), k.get("min_value"), k.get("max_value")
    ),
    "expect_column_pair_values_a_to_be_greater_than_b": lambda f, k: bool(
        (f[k["column_A"]] >= f[k["column_B"]])[f[k["column_A"]].notna() & f[k["column_B"]].notna()].all()
    ),
}


def check_all(frame: pd.DataFrame, rules: list[Rule]) -> list[Rule]:
    return [rule for rule in rules if not CHECKS[rule["type"]](frame, rule["kwargs"])]
