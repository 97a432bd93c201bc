"""Step 2b, the raw-data gate: the 'raw' suite plus what the problem spec implies."""

from __future__ import annotations

import pandas as pd

from .. import paths
from ..config import Params, load_params
from ..io import read_table, write_json
from ..validation import gates
from . import run_stage


def derived_expectations(params: Params) -> list[gates.Expectation]:
    """Expectations whose truth lives in conf/problem, not in the suite file.

    A missing target column shows up as an error of its not-null rule.
    """
    problem, target = params.problem, params.problem.target
    rules = [
        gates.expectation("expect_column_values_to_not_be_null", column=target),
    ]
    if problem.is_classification:
        rules.append(
            gates.expectation(
                "expect_column_values_to_be_in_set",
                column=target,
                value_set=list(problem.classes or []),
            )
        )
    return rules


def dataset_expectations(params: Params, now: pd.Timestamp) -> list[gates.Expectation]:
    """What the modelling dataset must also meet: enough rows, no constant feature."""
    min_rows = gates.expectation(
        "expect_table_row_count_to_be_between", min_value=params.problem.constraints.min_rows
    )
    # A constant column carries no signal; it usually means an upstream default took over.
    varying = [
        gates.expectation("expect_column_unique_value_count_to_be_between", column=c, min_value=2)
        for c in params.data.features
    ]
    return [*derived_expectations(params), min_rows, *varying, *time_expectations(params, now)]


def time_expectations(params: Params, now: pd.Timestamp) -> list[gates.Expectation]:
    """No row from the future and, when configured, a recent newest row."""
    column, max_age = params.data.time_column, params.data.checks.max_age_days
    if not column:
        return []
    rules = [
        gates.expectation(
            "expect_column_values_to_be_between", column=column, max_value=now.isoformat()
        )
    ]
    if max_age:
        oldest_allowed = now - pd.Timedelta(days=max_age)
        rules.append(
            gates.expectation(
                "expect_column_max_to_be_between",
                column=column,
                min_value=oldest_allowed.isoformat(),
            )
        )
    return rules


def main() -> None:
    params = load_params()
    now = pd.Timestamp.now().floor("s")
    dataset = read_table(paths.RAW_DATASET)
    docs = paths.DATA_DOCS_DIR / "raw"
    results = [gates.run(dataset, "raw", "dataset", dataset_expectations(params, now), docs)]
    production = read_table(paths.RAW_PRODUCTION)
    if not production.empty:  # serving inputs must meet the same suite
        production_rules = [
            *_labels_if_present(params, production),
            *time_expectations(params, now),
        ]
        results.append(gates.run(production, "raw", "production", production_rules, docs))
    gates.enforce("validate_raw", results)
    write_json([r.summary() for r in results], paths.VALIDATION_DIR / "raw.json")


def _labels_if_present(params: Params, production: pd.DataFrame) -> list[gates.Expectation]:
    """Production labels arrive late: nulls are allowed, unknown classes are not."""
    if params.problem.target not in production.columns:
        return []
    not_null = "expect_column_values_to_not_be_null"
    return [e for e in derived_expectations(params) if e["type"] != not_null]


if __name__ == "__main__":
    run_stage("validate_raw", main)
