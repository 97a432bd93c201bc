"""Step 2b, the raw-data gate.

The modelling dataset meets the 'raw' suite plus what the problem spec implies;
the production batch meets the 'serving' suite (what one scoring input must be,
the same file the service checks requests with) and must not be skewed from
training so far that its inputs are broken rather than drifted.
"""

from __future__ import annotations

import pandas as pd

from .. import paths
from ..config import ClassificationProblem, Params, load_params
from ..features.inputs import category_text
from ..io import read_table, write_json
from ..validation import gates, skew
from . import run_stage


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


def time_expectations(
    params: Params, now: pd.Timestamp, frame: pd.DataFrame
) -> list[gates.Expectation]:
    """No row from the future, no event after its row's time and, when configured,
    a recent newest row. `now` is compared in the column's own time zone."""
    column, checks = params.data.time_column, params.data.checks
    if not column:
        return []
    now = in_time_zone_of(frame.get(column), now)
    rules = [
        gates.expectation(
            "expect_column_values_to_be_between", column=column, max_value=now.isoformat()
        )
    ]
    if checks.max_age_days:
        oldest_allowed = now - pd.Timedelta(days=checks.max_age_days)
        rules.append(
            gates.expectation(
                "expect_column_max_to_be_between",
                column=column,
                min_value=oldest_allowed.isoformat(),
            )
        )
    # Time leakage: a feature built from an event after the prediction time. (A missing
    # event column is the suite's to report: the drafted column set names it; one of
    # mixed time zones is time_zone_mismatches' to report.)
    rules += [
        gates.expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            column_A=column,
            column_B=event,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
        for event in checks.event_time_columns
        if event in frame and _zone_aware(frame[event]) == _zone_aware(frame.get(column))
    ]
    return rules


def time_zone_mismatches(params: Params, frame: pd.DataFrame, dataset: str) -> gates.GateResult:
    """Event columns whose time zone awareness differs from the time column's: they
    cannot be compared, and pandas would only say so with a type error."""
    column = params.data.time_column
    events = [e for e in params.data.checks.event_time_columns if e in frame]
    failures = [
        gates.Failure(
            "time_columns_share_a_time_zone",
            event,
            f"compared with {column!r}",
            f"{event!r} is {_awareness(frame[event])}, {column!r} is {_awareness(frame[column])}; "
            "set data.time_zone in conf/data to place both in one zone",
        )
        for event in events
        if column in frame and _zone_aware(frame[event]) != _zone_aware(frame[column])
    ]
    return gates.GateResult("time zones", dataset, len(frame), len(events), failures)


def _zone_aware(values: pd.Series | None) -> bool:
    return getattr(getattr(values, "dt", None), "tz", None) is not None


def _awareness(values: pd.Series) -> str:
    return f"in time zone {values.dt.tz}" if _zone_aware(values) else "naive (no time zone)"


def in_time_zone_of(values: pd.Series | None, now: pd.Timestamp) -> pd.Timestamp:
    """`now` (tz-aware) as the column stores time: in its zone, or naive UTC."""
    zone = getattr(getattr(values, "dt", None), "tz", None)
    utc = now.tz_convert("UTC") if now.tzinfo else now.tz_localize("UTC")
    return utc.tz_convert(zone) if zone is not None else utc.tz_localize(None)


def main() -> None:
    params = load_params()
    now = pd.Timestamp.now(tz="UTC").floor("s")
    dataset = read_table(paths.RAW_DATASET)
    docs = paths.DATA_DOCS_DIR / "raw"
    rules = dataset_expectations(params, now, dataset)
    results = [gates.run(dataset, "raw", "dataset", rules, docs)]
    results.append(time_zone_mismatches(params, dataset, "dataset"))
    production = read_table(paths.RAW_PRODUCTION)
    if not production.empty or production_configured(params):
        rules = production_expectations(params, now, production)
        served = as_served(production, params)
        results.append(gates.run(served, "serving", "production", rules, docs))
        results.append(time_zone_mismatches(params, production, "production"))
        results.append(skew.gate(dataset, production, params.data))
    gates.enforce("validate_raw", results)
    write_json([r.summary() for r in results], paths.VALIDATION_DIR / "raw.json")


def production_expectations(
    params: Params, now: pd.Timestamp, production: pd.DataFrame
) -> list[gates.Expectation]:
    """What the production batch must also meet; a configured batch that arrives
    empty is a broken export, not a quiet day."""
    return [
        gates.expectation("expect_table_row_count_to_be_between", min_value=1),
        *_labels_if_present(params, production),
        *time_expectations(params, now, production),
    ]


def as_served(production: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The batch with its categories as the service receives them: text."""
    present = [c for c in params.data.categorical if c in production]
    return production.assign(**{c: category_text(production[c]) for c in present})


def production_configured(params: Params) -> bool:
    data = params.data
    if data.source == "demo":
        return data.demo is not None and data.demo.n_production_rows > 0
    return data.production_path is not None


def _labels_if_present(params: Params, production: pd.DataFrame) -> list[gates.Expectation]:
    """Production labels arrive late: nulls are allowed, unknown classes are not."""
    if params.problem.target not in production.columns:
        return []
    not_null = "expect_column_values_to_not_be_null"
    return [e for e in derived_expectations(params) if e["type"] != not_null]


if __name__ == "__main__":
    run_stage("validate_raw", main)
