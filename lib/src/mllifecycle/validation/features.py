"""The feature gate: the 'features' suite and the fitted pipeline's columns on each
feature split, and the checks GX has no expectation for (target leakage, ids shared
across splits, label and null rates that differ between splits and their slices,
validation/leakage.py) on the prepared splits.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

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
    rates = {name: leakage.split_rates(frame, problem, data) for name, frame in prepared.items()}
    failures = [
        *leakage.target_leakage(prepared["train"], data.features, problem, data.checks),
        *leakage.shared_ids(prepared, data.id_column),
        *leakage.shifts_between(rates, problem, data),
    ]
    return _leakage_result(params, rates, failures)


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


def check_partitions(
    params: Params,
    featurized_at: dict[str, Path],
    prepared_at: dict[str, Path],
    docs: gates.Docs | None = None,
) -> list[gates.GateResult]:
    """check_features on the dask engine, each split a directory of parts: the suite on
    every part on the workers, the split checks from counts per partition, summed (the leakage
    score from a seeded sample of train, as on pandas)."""
    from ..engine.dask_engine import sampled, summarise
    from . import partitioned

    featurized = {name: partitioned.partitions(at) for name, at in featurized_at.items()}
    columns = list(featurized["train"][0].columns)
    derived = feature_expectations(columns, params.problem.target)
    results = [
        partitioned.run(table, "features", name, derived, parts, docs)
        for name, (table, parts) in featurized.items()
    ]
    data, problem = params.data, params.problem
    prepared = {name: partitioned.partitions(at)[0] for name, at in prepared_at.items()}
    count = partial(leakage.split_rates, problem=problem, data=data)
    rates = {name: summarise(table, count, leakage.add_rates) for name, table in prepared.items()}
    train_rows = int(rates["train"]["rows"])
    train = sampled(prepared["train"], leakage.SAMPLE_ROWS, seed=0, total=train_rows)
    failures = [
        *leakage.target_leakage(train, data.features, problem, data.checks),
        *partitioned.shared_ids(prepared, data.id_column),
        *leakage.shifts_between(rates, problem, data),
    ]
    return [*results, _leakage_result(params, rates, failures)]


def _leakage_result(
    params: Params, rates: dict[str, dict[str, Any]], failures: list[gates.Failure]
) -> gates.GateResult:
    features = params.data.features
    checked = len(features) * (len(rates) + 1) + len(rates)
    rows = sum(int(found["rows"]) for found in rates.values())
    return gates.GateResult("leakage", "prepared splits", rows, checked, failures)
