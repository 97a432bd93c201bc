"""The model's inputs, typed the one way every path types them.

Training (prepare, featurize), batch scoring, the service, the monitor and the
gates all go through `typed_inputs`, so a value means the same thing wherever it
arrives: numbers as float64, categories as text in the source's own spelling
("Yes" stays "Yes"), missing values as NaN. Any normalisation of categories is
a step of the packaged pipeline (features/normalise.py), never done here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError

EXAMPLES = 5


def typed_inputs(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """The feature columns, typed; a column that is not there is the caller's to report."""
    typed = pd.DataFrame(index=frame.index)
    for column in numeric:
        typed[column] = numbers(frame[column], column)
    for column in categorical:
        typed[column] = category_text(frame[column])
    return typed


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
    """Text as written in the source (numbers as their text); missing stays NaN."""
    return values.astype(str).astype(object).where(values.notna(), np.nan)
