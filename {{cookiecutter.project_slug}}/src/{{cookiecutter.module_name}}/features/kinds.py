"""The derived-feature kinds conf/features may name, declared apart from their code.

Configuration (config.py) checks each `derived` entry against these declarations,
so every stage validates conf/features without importing the transformers in
features/derived.py (scikit-learn costs about a second in each stage's process),
and only the stages that run the transformers depend on their code in dvc.yaml.
Each transformer takes its columns, reads and output from its declaration here.

To add a kind: declare it below, write its transformer in features/derived.py
(`class MyKind(Derived, kind="my_kind")`) and list it in derived.KINDS;
tests/test_derived.py checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Output = Literal["numeric", "categorical"]
# What a kind's input columns must be in conf/data: numeric features, any feature,
# or timestamps (the time column, an event time column).
Reads = Literal["numeric", "feature", "timestamp"]


@dataclass(frozen=True)
class Kind:
    """What an entry of this kind says in conf/features, and what it makes."""

    columns: tuple[str, ...]  # the entry's keys that name input columns
    reads: Reads  # what those columns must be in conf/data
    output: Output  # whether the derived column is numeric or categorical
    options: tuple[str, ...] = ()  # the entry's other keys (not columns)


# `kind:` in each `derived` entry. Kinds that read timestamps also receive the data's
# `time_zone`.
KINDS: dict[str, Kind] = {
    "ratio": Kind(columns=("numerator", "denominator"), reads="numeric", output="numeric"),
    "day_of_week": Kind(columns=("column",), reads="timestamp", output="categorical"),
    "days_between": Kind(columns=("start", "end"), reads="timestamp", output="numeric"),
}
