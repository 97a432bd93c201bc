"""The model's inputs, typed the one way every path types them.

Training (prepare, featurize), batch scoring, the service, the monitor and the
gates all go through `typed_inputs`, so a value means the same thing wherever it
arrives: numbers as float64, categories as text in the source's own spelling
("Yes" stays "Yes"), timestamps (read by derived features) as datetimes from
typed values or ISO 8601 text, missing values as NaN/NaT. Any normalisation of categories is
a step of the packaged pipeline (features/normalise.py), never done here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError

EXAMPLES = 5


@dataclass(frozen=True)
class Coded:
    """A category column as codes into its distinct values (code -1: missing), as
    dictionary-encoded Arrow holds it: each distinct value's text is looked up once."""

    codes: np.ndarray
    dictionary: list[Any]

    def __len__(self) -> int:
        return len(self.codes)


def typed_inputs(
    frame: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    timestamps: list[str] | tuple[str, ...] = (),
) -> pd.DataFrame:
    """The feature columns, typed; a column that is not there is the caller's to report."""
    typed = pd.DataFrame(index=frame.index)
    for column in numeric:
        typed[column] = numbers(frame[column], column)
    for column in categorical:
        typed[column] = category_text(frame[column])
    for column in timestamps:
        typed[column] = times(frame[column], column)
    return typed


def times(values: pd.Series, column: str) -> pd.Series:
    """Timestamps as they are, or parsed from ISO 8601 text (mixed offsets: in UTC)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    present = values.notna()
    try:
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
    broken = present & parsed.isna()
    if broken.any():
        examples = [str(v) for v in values[broken].unique()[:EXAMPLES]]
        raise DataError(
            f"column {column!r}: {int(broken.sum())} value(s) are not ISO 8601 timestamps, "
            f"e.g. {examples}"
        )
    return parsed


def numbers(values: pd.Series, column: str) -> pd.Series:
    parsed = pd.to_numeric(values, errors="coerce")
    broken = values.notna() & parsed.isna()
    if broken.any():
        examples = [str(v) for v in values[broken].unique()[:EXAMPLES]]
        raise DataError(
            f"column {column!r}: {int(broken.sum())} value(s) are not numbers, e.g. {examples}"
        )
    return parsed.astype("float64")


def category_text(values: pd.Series) -> pd.Series:
    """Text as written in the source; missing stays NaN.

    Whole numbers read as their integer text whatever their dtype: a column of 4s
    and 6s with a gap arrives as floats from CSV, and "4.0" would be a category the
    service (which receives "4") never sees.
    """
    present = values.notna()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        text = values.map(_number_text)
    elif values.dtype == object:
        text = values.map(lambda value: _number_text(value) if _is_number(value) else str(value))
    else:
        text = values.astype(str)
    return text.astype(object).where(present, np.nan)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _number_text(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)
