"""The raw-data gate: the modelling dataset meets the reviewed 'raw' suite plus what
the problem spec and conf/data imply (the target's domain, the minimum row count, no
constant column, the time rules). The production batch is not checked here: that is
validation/production.py, outside the training path.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from ..config import ClassificationProblem, Params
from . import gates
from .time_rules import time_expectations, time_zone_mismatches


def derived_expectations(params: Params) -> list[gates.Expectation]:
    """Expectations whose truth lives in conf/problem, not in the suite file.

    A missing target column shows up as an error of its not-null rule.
    """
    problem, target = params.problem, params.problem.target
    rules = [
        gates.expectation("expect_column_values_to_not_be_null", column=target),
    ]

    if isinstance(problem, ClassificationProblem):
        rules.append(
            gates.expectation(
                "expect_column_values_to_be_in_set",
                column=target,
                value_set=list(problem.classes or []),
            )
        )
    return rules


def dataset_expectations(
    params: Params, now: pd.Timestamp, dataset: pd.DataFrame
) -> list[gates.Expectation]:
    """What the modelling dataset must also meet: enough rows, no constant feature."""
    min_rows = gates.expectation(
        "expect_table_row_count_to_be_between", min_value=params.problem.constraints.min_rows
    )
    # A constant column carries no signal; it usually means an upstream default took over.
    varying = [
        gates.expectation("expect_column_unique_value_count_to_be_between", column=c, min_value=2)
        for c in params.data.features
    ]
    target_varies = gates.expectation(
        "expect_column_unique_value_count_to_be_between",
        column=params.problem.target,
        min_value=2,
    )
    return [
        *derived_expectations(params),
        min_rows,
        target_varies,
        *varying,
        *time_expectations(params, now, dataset),
    ]


def check_partitions(
    params: Params, now: pd.Timestamp, location: Path, docs: gates.Docs | None
) -> list[gates.GateResult]:
    """check_dataset on the dask engine: each part file of `location` is a partition."""
    from . import partitioned

    table, parts = partitioned.partitions(location)
    rules = dataset_expectations(params, now, table._meta)
    gate = partitioned.run(table, "raw", "dataset", rules, parts, docs)
    zones = time_zone_mismatches(params, table._meta, "dataset")  # a property of the dtypes
    return [gate, dataclasses.replace(zones, rows=gate.rows)]


def check_dataset(
    params: Params, now: pd.Timestamp, dataset: pd.DataFrame, docs: gates.Docs | None = None
) -> list[gates.GateResult]:
    """Every raw-data check on the modelling dataset (Data Docs per `docs`)."""
    rules = dataset_expectations(params, now, dataset)
    return [
        gates.run(dataset, "raw", "dataset", rules, docs),
        time_zone_mismatches(params, dataset, "dataset"),
    ]
