"""Derived features of this project's own kinds, named in conf/features by `_target_`.

A kind is a `Derived` subclass that declares which of its arguments are input columns,
what those columns must be in conf/data, and what it makes. The packaged pipeline
applies it as its first step, so training, batch scoring, the service and the monitor
compute the same values from the same raw inputs. `array_values` is optional: the
same values from typed arrays, for the service's fast path (without it, requests are
scored through scikit-learn).

The library's own kinds (ratio, day_of_week, days_between) need no code here:
conf/features names them with `kind:`.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from mllifecycle.features.derived import Derived
from mllifecycle.features.inputs import Coded
from mllifecycle.features.kinds import Kind


class Band(
    Derived,
    declared=Kind(columns=("column",), reads="numeric", output="categorical", options=("edges",)),
):
    """Which band of `edges` a number falls in, as text ("12-24": 12 <= x < 24).

    Below the first edge is "<first", from the last one on ">=last"; missing stays
    missing. Bands let a linear model see a non-linear effect, such as churn that
    falls off after the first year of tenure.
    """

    def __init__(self, name: str = "band", column: str = "", edges: tuple[float, ...] = ()):
        self.name = name
        self.column = column
        self.edges = edges

    def labels(self) -> list[str]:
        edges = [f"{edge:g}" for edge in self.edges]
        inner = [f"{low}-{high}" for low, high in pairwise(edges)]
        return [f"<{edges[0]}", *inner, f">={edges[-1]}"]

    def codes(self, numbers: np.ndarray) -> np.ndarray:
        """Each number's band (its position in `labels`), -1 where it is missing."""
        positions = np.searchsorted(np.asarray(self.edges, dtype=np.float64), numbers, side="right")
        return np.where(np.isnan(numbers), -1, positions)

    def values(self, frame: pd.DataFrame) -> pd.Series:
        numbers = pd.to_numeric(frame[self.column], errors="coerce").to_numpy(np.float64)
        labels = np.asarray(self.labels(), dtype=object)
        codes = self.codes(numbers)
        return pd.Series(np.where(codes >= 0, labels[codes], None), index=frame.index, dtype=object)

    def array_values(self, columns: Any) -> Coded:
        return Coded(self.codes(np.asarray(columns[self.column], dtype=np.float64)), self.labels())
