"""The feature gate: the 'features' suite and the fitted pipeline's columns on each
feature split, and the checks GX has no expectation for (target leakage, ids shared
across splits, label and null rates that differ between splits and their slices,
validation/leakage.py) on the prepared splits.
"""

from __future__ import annotations

import pandas as pd

from ..config import Params
from . import gates, leakage


def feature_expectations(columns: list[str], target: str) -> list[gates.Expectation]:
    derived = [gates.expectation("expect_table_columns_to_match_ordered_list", column_list=columns)]
    # After imputation no feature may be null or infinite, in any split.
    for column in columns:
        derived.append(gates.expectation("expect_column_values_to_not_be_null", column=column))
        if column != target:
            derived.append(
                gates.expectation(
                    "expect_column_values_to_be_between",
                    column=column,
                    min_value=-1e12,
                    max_value=1e12,
                )
            )
    return derived


def split_checks(params: Params, prepared: dict[str, pd.DataFrame]) -> gates.GateResult:
    data, problem = params.data, params.problem
    failures = [
        *leakage.target_leakage(prepared["train"], data.features, problem, data.checks),
        *leakage.shared_ids(prepared, data.id_column),
        *leakage.rate_shifts(prepared, problem, data),
    ]
    checked = len(data.features) * (len(prepared) + 1) + len(prepared)
    rows = sum(len(frame) for frame in prepared.values())
    return gates.GateResult("leakage", "prepared splits", rows, checked, failures)


def check_features(
    params: Params,
    featurized: dict[str, pd.DataFrame],
    prepared: dict[str, pd.DataFrame],
    docs: gates.Docs | None = None,
) -> list[gates.GateResult]:
    """The suite on every feature split (one column list for all), then the split checks."""
    derived = feature_expectations(list(featurized["train"].columns), params.problem.target)
    results = gates.run_splits(featurized, "features", derived, docs)
    return [*results, split_checks(params, prepared)]
