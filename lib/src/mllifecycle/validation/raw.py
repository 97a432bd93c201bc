"""The raw-data gate: the modelling dataset meets the reviewed 'raw' suite plus what
the problem spec and conf/data imply (the target's domain, the minimum row count, no
constant column, the time rules). The production batch is not checked here: that is
validation/production.py, outside the training path.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import ClassificationProblem, Params
from . import gates
from .time_rules import time_expectations, time_zone_mismatches


def derived_expectations(
    params: Params, frame: pd.DataFrame | None = None
) -> list[gates.Expectation]:
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
                value_set=target_domain(problem, frame),
            )
        )
    return rules


# How a boolean target spells its two classes once compared as text (as training does).
BOOLEAN_LABELS = {"False": False, "True": True}


def holds_booleans(problem: ClassificationProblem, frame: pd.DataFrame | None) -> bool:
    return (
        frame is not None
        and problem.target in frame
        and pd.api.types.is_bool_dtype(frame[problem.target])
    )


def target_domain(problem: ClassificationProblem, frame: pd.DataFrame | None) -> list[Any]:
    """The classes as the target column stores them. A boolean column's values spell the
    classes 'False' and 'True' and no others: True equals 1, so classes [0, 1] would pass
    an in-set check and then match no label in training."""
    if holds_booleans(problem, frame) and sorted(problem.labels) == sorted(BOOLEAN_LABELS):
        return [BOOLEAN_LABELS[label] for label in problem.labels]
    if holds_booleans(problem, frame):
        return problem.labels  # as text: nothing boolean matches, as nothing will in training
    return list(problem.classes or [])


def boolean_target_mismatch(params: Params, frame: pd.DataFrame, dataset: str) -> gates.GateResult:
    """A boolean target with classes other than 'False' and 'True', named in one line."""
    problem = params.problem
    checked = isinstance(problem, ClassificationProblem) and holds_booleans(problem, frame)
    failures = []
    if checked and sorted(problem.labels) != sorted(BOOLEAN_LABELS):
        failures.append(
            gates.Failure(
                "target_spells_its_classes",
                problem.target,
                f"classes {problem.labels}",
                f"{problem.target!r} holds booleans (True/False): spell its classes as the "
                f"data does, classes: ['False', 'True'] in conf/problem/{problem.name}.yaml "
                "(and the value_matrix keys alike)",
            )
        )
    return gates.GateResult("target classes", dataset, len(frame), int(checked), failures)


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
        *derived_expectations(params, dataset),
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
    # Properties of the dtypes, so the empty frame of the table's types answers them.
    typed = [time_zone_mismatches(params, table._meta, "dataset")]
    typed.append(boolean_target_mismatch(params, table._meta, "dataset"))
    return [gate, *(dataclasses.replace(result, rows=gate.rows) for result in typed)]


def check_dataset(
    params: Params, now: pd.Timestamp, dataset: pd.DataFrame, docs: gates.Docs | None = None
) -> list[gates.GateResult]:
    """Every raw-data check on the modelling dataset (Data Docs per `docs`)."""
    rules = dataset_expectations(params, now, dataset)
    return [
        gates.run(dataset, "raw", "dataset", rules, docs),
        time_zone_mismatches(params, dataset, "dataset"),
        boolean_target_mismatch(params, dataset, "dataset"),
    ]
