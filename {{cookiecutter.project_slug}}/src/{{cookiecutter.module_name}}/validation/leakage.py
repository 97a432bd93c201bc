"""Checks Great Expectations has no expectation for, with the same failure contract.

- target leakage: one feature alone predicts the label almost perfectly (a label
  copied into the data, or a column filled in after the outcome was known);
- ids shared across splits: the same entity in train and test inflates every metric;
- label and null rates that differ between splits, or between the same slice of
  two splits, more than a tolerance: the splits do not describe the same problem.

Each returns gate Failures, so a stage reports them exactly like GX failures.
"""

from __future__ import annotations

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
    reference, checks = splits["train"], data.checks
    failures = []
    for name, frame in splits.items():
        if name == "train":
            continue
        failures += _compare(reference, frame, name, problem, data.features, checks)
        for column in data.categorical:
            for value, part in frame.groupby(column, observed=True):
                before = reference[reference[column] == value]
                if min(len(part), len(before)) >= checks.min_slice_rows:
                    where = f"{name}[{column}={value}]"
                    failures += _compare(before, part, where, problem, data.features, checks)
    return failures


def _compare(
    reference: pd.DataFrame,
    frame: pd.DataFrame,
    where: str,
    problem: ProblemSpec,
    features: list[str],
    checks: DataChecks,
) -> list[Failure]:
    failures = []
    task = tasks.for_problem(problem)
    now, before = (
        task.label_shares(frame[problem.target]),
        task.label_shares(reference[problem.target]),
    )
    for label, share_now in now.items():
        share_before = before[label]
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
        rate_now, rate_before = (
            float(frame[column].isna().mean()),
            float(reference[column].isna().mean()),
        )
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
