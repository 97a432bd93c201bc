"""Checks Great Expectations has no expectation for, with the same failure contract.

- target leakage: one feature alone predicts the label almost perfectly (a label
  copied into the data, or a column filled in after the outcome was known);
- ids shared across splits: the same entity in train and test inflates every metric;
- label and null rates that differ between splits, or between the same slice of
  two splits, more than a tolerance: the splits do not describe the same problem.

Each returns gate Failures, so a stage reports them exactly like GX failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import tasks
from ..config import DataChecks, DataConfig, ProblemSpec
from .gates import Failure

SAMPLE_ROWS = 20_000


def single_feature_score(feature: pd.Series, target: pd.Series, problem: ProblemSpec) -> float:
    """Cross-validated score of a shallow tree on this feature alone (AUC, accuracy or R²)."""
    task = tasks.for_problem(problem)
    values = feature.to_frame()
    if not pd.api.types.is_numeric_dtype(feature):
        text = task.encode_category(feature.astype(str), target)
        values = text.astype("category").cat.codes.to_frame()
    values = values.fillna(values.min().min() - 1)
    return task.leakage_score(values, target)


def target_leakage(
    train: pd.DataFrame, features: list[str], problem: ProblemSpec, checks: DataChecks
) -> list[Failure]:
    sample = train.sample(min(len(train), SAMPLE_ROWS), random_state=0)
    target = sample[problem.target]
    failures = []
    for column in features:
        score = single_feature_score(sample[column], target, problem)
        if score >= checks.max_single_feature_score:
            failures.append(
                Failure(
                    "no_single_feature_predicts_the_target",
                    column,
                    f"max_single_feature_score={checks.max_single_feature_score}",
                    f"{score:.4f} from this column alone (a leaked label, or an id-like column?)",
                )
            )
    return failures


def shared_ids(splits: dict[str, pd.DataFrame], id_column: str | None) -> list[Failure]:
    if id_column is None:
        return []
    failures = []
    names = list(splits)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            both = set(splits[first][id_column]) & set(splits[second][id_column])
            if both:
                failures.append(
                    Failure(
                        "ids_unique_across_splits",
                        id_column,
                        f"{first} ∩ {second} = ∅",
                        f"{len(both)} ids in both, e.g. {sorted(map(str, both))[:3]}",
                    )
                )
    return failures


def rate_shifts(
    splits: dict[str, pd.DataFrame], problem: ProblemSpec, data: DataConfig
) -> list[Failure]:
    """Label shares (classification) and null rates per column, each split against
    train: over the whole split, then per value of each categorical feature (a
    slice), where the slice has at least `min_slice_rows` rows in both."""
    rates = {name: split_rates(frame, problem, data) for name, frame in splits.items()}
    return shifts_between(rates, problem, data)


def split_rates(frame: pd.DataFrame, problem: ProblemSpec, data: DataConfig) -> dict[str, Any]:
    """The counts the rate checks compare: rows, label and null counts over the split
    and per value of each categorical feature. Counts add up (`add_rates`), so on the
    dask engine each partition is counted on a worker and the counts summed."""
    nulls = frame[data.features].isna()
    labels = frame[problem.target].astype(str)
    found: dict[str, Any] = {"rows": len(frame), "nulls": nulls.sum()}
    if problem.is_classification:
        found["labels"] = labels.value_counts()
    for column in data.categorical:
        key = frame[column]
        found[column] = {
            "rows": key.groupby(key, observed=True).size(),
            "nulls": nulls.groupby(key, observed=True).sum(),
        }
        if problem.is_classification:
            found[column]["labels"] = labels.groupby(key, observed=True).value_counts()
    return found


def add_rates(first: Any, second: Any) -> Any:
    """Two parts' `split_rates` as one: every count adds."""
    if isinstance(first, dict):
        return {key: add_rates(value, second[key]) for key, value in first.items()}
    if isinstance(first, pd.Series | pd.DataFrame):
        return first.add(second, fill_value=0)
    return first + second


@dataclass(frozen=True)
class Counts:
    """One split, or one slice of it: its rows, label counts and null counts."""

    rows: int
    labels: pd.Series
    nulls: pd.Series

    @classmethod
    def whole(cls, rates: dict[str, Any]) -> Counts:
        return cls(int(rates["rows"]), rates.get("labels", EMPTY), rates["nulls"])

    @classmethod
    def slice(cls, rates: dict[str, Any], column: str, value: Any) -> Counts:
        by = rates[column]
        labels = by.get("labels", EMPTY)
        return cls(
            int(by["rows"].get(value, 0)),
            labels.xs(value, level=0) if value in labels.index.get_level_values(0) else EMPTY,
            by["nulls"].loc[value] if value in by["nulls"].index else EMPTY,
        )

    def share(self, label: str) -> float:
        return float(self.labels.get(label, 0)) / self.rows if self.rows else 0.0

    def null_rate(self, column: str) -> float:
        return float(self.nulls.get(column, 0)) / self.rows if self.rows else float("nan")


EMPTY = pd.Series(dtype="int64")


def shifts_between(
    rates: dict[str, dict[str, Any]], problem: ProblemSpec, data: DataConfig
) -> list[Failure]:
    """rate_shifts from each split's computed `split_rates`."""
    reference, checks = rates["train"], data.checks
    failures = []
    for name, found in rates.items():
        if name == "train":
            continue
        failures += _compare(
            Counts.whole(reference), Counts.whole(found), name, problem, data.features, checks
        )
        for column in data.categorical:
            for value in found[column]["rows"].sort_index().index:
                now, before = (
                    Counts.slice(found, column, value),
                    Counts.slice(reference, column, value),
                )
                if min(now.rows, before.rows) >= checks.min_slice_rows:
                    where = f"{name}[{column}={value}]"
                    failures += _compare(before, now, where, problem, data.features, checks)
    return failures


def _compare(
    reference: Counts,
    counts: Counts,
    where: str,
    problem: ProblemSpec,
    features: list[str],
    checks: DataChecks,
) -> list[Failure]:
    failures = []
    for label in problem.labels:  # none for regression
        share_now, share_before = counts.share(label), reference.share(label)
        if abs(share_now - share_before) > checks.max_label_share_shift:
            failures.append(
                Failure(
                    "label_share_matches_train",
                    problem.target,
                    f"class {label!r}, max_label_share_shift={checks.max_label_share_shift}",
                    f"{where} {share_now:.3f} vs train {share_before:.3f}",
                )
            )
    for column in features:
        rate_now, rate_before = counts.null_rate(column), reference.null_rate(column)
        if abs(rate_now - rate_before) > checks.max_null_rate_shift:
            failures.append(
                Failure(
                    "null_rate_matches_train",
                    column,
                    f"max_null_rate_shift={checks.max_null_rate_shift}",
                    f"{where} {rate_now:.3f} vs train {rate_before:.3f}",
                )
            )
    return failures
