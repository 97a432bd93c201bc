"""Derived features: write them here, name them in conf/features, and they run everywhere.

Each kind is a scikit-learn transformer that reads raw input columns and makes
one new column. The packaged pipeline applies them as its first step, so
training, batch scoring, the service and the monitor compute exactly the same
values from the same raw inputs; a derived feature computed anywhere else would
be training-serving skew.

To add a kind: declare it in features/kinds.py (its columns, what they must be in
conf/data, its output), then write a class like the ones below, naming that kind
(constructor arguments are the entry's keys in conf/features; no state beyond the
fitted attributes), and add it to `KINDS`. Kinds that read timestamps also receive
the data's `time_zone`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from . import kinds
from .inputs import Coded
from .kinds import Output, Reads

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SECONDS_PER_DAY = 86_400


class Derived(TransformerMixin, BaseEstimator):
    """One derived column named `name`; subclasses name their kind and define `values`."""

    KIND: ClassVar[str] = ""
    # The declaration of a project's own kind (None for the library's, declared in kinds.py).
    DECLARED: ClassVar[kinds.Kind | None] = None
    COLUMNS: ClassVar[tuple[str, ...]] = ()
    OUTPUT: ClassVar[Output] = "numeric"
    READS: ClassVar[Reads] = "numeric"

    name: str

    def __init_subclass__(
        cls, kind: str | None = None, declared: kinds.Kind | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if kind is not None:  # the columns, reads and output declared in features/kinds.py
            declared = kinds.KINDS[kind]
            cls.KIND = kind
        elif declared is not None:  # a project's own kind, named by `_target_` in conf
            cls.KIND, cls.DECLARED = f"{cls.__module__}.{cls.__qualname__}", declared
        if declared is not None:
            cls.COLUMNS, cls.READS, cls.OUTPUT = declared.columns, declared.reads, declared.output

    def inputs(self) -> list[str]:
        return [getattr(self, key) for key in self.COLUMNS]

    def fit(self, frame: pd.DataFrame, target: Any = None) -> Derived:
        self.feature_names_in_ = np.asarray(self.inputs(), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({self.name: self.values(frame)}, index=frame.index)

    def values(self, frame: pd.DataFrame) -> pd.Series:
        raise NotImplementedError

    # A kind may also define `array_values(columns)`: the same values from typed arrays
    # (float64 numbers, text or None, naive local datetime64 timestamps), which the
    # compiled scoring path (models/compiled.py) uses; text may come as `Coded`
    # (codes into its distinct values: each one's text is looked up once, not once
    # per row). A kind without it scores through scikit-learn.

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([self.name], dtype=object)


class Ratio(Derived, kind="ratio"):
    """numerator / denominator, e.g. monthly charges per product."""

    def __init__(self, name: str = "ratio", numerator: str = "", denominator: str = "") -> None:
        self.name = name
        self.numerator = numerator
        self.denominator = denominator

    def values(self, frame: pd.DataFrame) -> pd.Series:
        top = pd.to_numeric(frame[self.numerator], errors="coerce").astype("float64")
        bottom = pd.to_numeric(frame[self.denominator], errors="coerce").astype("float64")
        # A zero or missing denominator gives NaN (missing), never inf: the numeric
        # imputer fills it and, with add_missing_indicators, the model sees that it was.
        return (top / bottom.where(bottom != 0)).astype("float64")

    def array_values(self, columns: Any) -> np.ndarray:
        bottom = columns[self.denominator]
        return np.asarray(columns[self.numerator] / np.where(bottom != 0, bottom, np.nan))


class DayOfWeek(Derived, kind="day_of_week"):
    """The weekday of a timestamp, as text ("Mon" ... "Sun"); missing stays missing.

    Timestamps with a zone are first converted to `time_zone` (the data's
    time_zone; UTC when the data's timestamps are naive), so 23:30 in Berlin is
    the same day whether a client sends it with +01:00 or in UTC. Naive
    timestamps are read as already in that zone.
    """

    def __init__(self, name: str = "day_of_week", column: str = "", time_zone: str | None = None):
        self.name = name
        self.column = column
        self.time_zone = time_zone

    def values(self, frame: pd.DataFrame) -> pd.Series:
        times = local_times(frame[self.column], self.time_zone)
        days = times.dt.day_of_week
        return days.map(lambda day: DAY_NAMES[int(day)], na_action="ignore").astype(object)

    def array_values(self, columns: Any) -> Coded:
        times = columns[self.column]
        days = times.astype("datetime64[D]").astype(np.int64)
        # 1970-01-01 was a Thursday (3 with Monday as 0); code -1: no timestamp.
        return Coded(np.where(np.isnat(times), -1, (days + 3) % 7), list(DAY_NAMES))


class DaysBetween(Derived, kind="days_between"):
    """Days from the `start` timestamp to the `end` one (e.g. an event to the snapshot)."""

    def __init__(
        self,
        name: str = "days_between",
        start: str = "",
        end: str = "",
        time_zone: str | None = None,
    ) -> None:
        self.name = name
        self.start = start
        self.end = end
        self.time_zone = time_zone

    def values(self, frame: pd.DataFrame) -> pd.Series:
        start = local_times(frame[self.start], self.time_zone)
        end = local_times(frame[self.end], self.time_zone)
        return ((end - start).dt.total_seconds() / SECONDS_PER_DAY).astype("float64")

    def array_values(self, columns: Any) -> np.ndarray:
        gap = columns[self.end] - columns[self.start]
        seconds = gap / np.timedelta64(1, "s")
        return np.asarray(seconds / SECONDS_PER_DAY, dtype=np.float64)


def local_times(values: pd.Series, time_zone: str | None) -> pd.Series:
    """Naive wall-clock times in `time_zone` (aware values converted, naive kept)."""
    times = pd.to_datetime(values)
    if times.dt.tz is None:
        return times
    return times.dt.tz_convert(time_zone or "UTC").dt.tz_localize(None)


# The transformer of each kind declared in features/kinds.py.
KINDS: dict[str, type[Derived]] = {kind.KIND: kind for kind in (Ratio, DayOfWeek, DaysBetween)}
