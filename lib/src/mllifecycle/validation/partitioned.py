"""A GX gate over a partitioned table (engine: dask), with the same contract as `gates.run`.

GX 1.x has no Dask data source, so the suite is split. Per-row rules (gates.ROW_WISE)
hold for the table exactly when they hold for every partition: they run as today's
checkpoint on each partition, on the workers, and a failure names its part; one that
holds for `mostly` of the values counts its unexpected values in each part, and the
sums are judged. Rules about
the whole table run on cluster aggregates: row count, uniqueness (value counts), distinct
values, column maximum. An expectation type that is neither is refused in one line,
rather than judged per partition where its verdict would be wrong. The result is one
GateResult per dataset, so `gates.enforce` and the report read as with pandas.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd

from ..errors import GateError
from . import gates

Expectation = gates.Expectation
EXAMPLES = 5


def run(
    table: dd.DataFrame,
    suite: str,
    dataset: str,
    derived: list[Expectation],
    parts: list[str],
    docs: gates.Docs | None = None,
) -> gates.GateResult:
    """`gates.run` over every partition of `table`, whose files are `parts` (in order)."""
    expectations = [*gates.load_suite(suite), *derived]
    per_row = [e for e in expectations if gates._row_wise(e)]
    mostly = [e for e in expectations if e["type"] in gates.ROW_WISE and not gates._row_wise(e)]
    whole = [e for e in expectations if e["type"] not in gates.ROW_WISE]
    unknown = sorted({e["type"] for e in whole if e["type"] not in TABLE_WISE})
    if unknown:
        raise GateError(
            f"suite {suite!r}: {unknown} cannot be judged partition by partition nor from "
            "aggregates; run this gate on the pandas engine, or drop the expectation"
        )
    checked = [
        dask.delayed(_gate_part)(part, suite, f"{dataset}[{_name(file)}]", per_row, docs)
        for part, file in zip(table.to_delayed(), parts, strict=True)
    ]
    results: list[gates.GateResult] = list(dask.compute(*checked))
    failures = [
        gates.Failure(f.expectation, f.column, f.rule, f"{f.observed} in {_name(file)}")
        for result, file in zip(results, parts, strict=True)
        for f in result.failures
    ]
    rows = sum(result.rows for result in results)
    failures += _mostly(table, suite, dataset, mostly, parts)
    failures += [found for e in whole if (found := TABLE_WISE[e["type"]](table, e, rows, parts))]
    return gates.GateResult(suite, dataset, rows, len(expectations), failures)


def _mostly(
    table: dd.DataFrame, suite: str, dataset: str, rules: list[Expectation], parts: list[str]
) -> list[gates.Failure]:
    """Per-row rules that hold for `mostly` of the values: each part's unexpected and
    judged values counted on the workers, added up, judged on the whole table."""
    if not rules:
        return []
    strict = [
        {**e, "kwargs": {k: v for k, v in e["kwargs"].items() if k != "mostly"}} for e in rules
    ]
    counted = [
        dask.delayed(gates.unexpected_counts)(part, suite, f"{dataset}[{_name(file)}]", strict)
        for part, file in zip(table.to_delayed(), parts, strict=True)
    ]
    per_part: list[list[tuple[int, int]]] = list(dask.compute(*counted))
    failures = []
    for i, e in enumerate(rules):
        unexpected = [counts[i][0] for counts in per_part]
        judged = sum(counts[i][1] for counts in per_part)
        if not judged or 1 - sum(unexpected) / judged >= e["kwargs"]["mostly"]:
            continue
        most = _name(parts[max(range(len(parts)), key=unexpected.__getitem__)])
        failures.append(
            gates.Failure(
                e["type"],
                e["kwargs"].get("column"),
                _rule(e),
                f"{sum(unexpected)} of {judged} values unexpected in all parts, most in {most}",
            )
        )
    return failures


def partitions(location: str | Path) -> tuple[dd.DataFrame, list[str]]:
    """The table at `location` with one partition per part file, and the files."""
    from ..engine.dask_engine import read_parts

    return read_parts(location)


@dataclass(frozen=True)
class BatchFiles:
    """A batch's part files sorted for its gate: those judged (the batch's columns and
    types, with rows), a failure for each part of another schema (not judged further:
    its rows would fail every rule for one cause), and the parts without rows."""

    judged: list[str]
    failures: list[gates.Failure]
    skipped: list[str]


def batch_files(location: str | Path) -> BatchFiles:
    """The part files of `location`; the batch's schema is the one most parts share
    (the first such part's), so one odd part is named whichever place it sorts in."""
    from ..engine.dask_engine import kinds_of, known_empty, schema_differences
    from ..io import table_files

    files = table_files(location)
    filled = [file for file in files if not known_empty(file)]
    skipped = [_name(file) for file in files if file not in filled]
    if not filled:  # the row-count rule fails on the first, empty, part
        return BatchFiles(files[:1], [], skipped[1:])
    kinds = {file: tuple(sorted(kinds_of(file).items())) for file in filled}
    usual = Counter(kinds.values()).most_common(1)[0][0]
    reference = next(file for file in filled if kinds[file] == usual)
    differing = schema_differences(reference, filled)
    failures = [
        gates.Failure(
            "parts_share_a_schema",
            None,
            f"the columns and types of {_name(reference)}",
            f"{'; '.join(found)} in {_name(file)}",
        )
        for file, found in differing
    ]
    odd = {file for file, _ in differing}
    return BatchFiles([file for file in filled if file not in odd], failures, skipped)


def shared_ids(splits: dict[str, dd.DataFrame], id_column: str | None) -> list[gates.Failure]:
    """leakage.shared_ids from joins on the cluster: the ids of each pair of splits
    joined, counted, and the first three (as text) named."""
    if id_column is None:
        return []
    ids = {
        name: split[[id_column]].dropna().drop_duplicates(shuffle_method="tasks")
        for name, split in splits.items()
    }
    names = list(splits)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    common = {
        (a, b): ids[a].merge(ids[b], on=id_column, shuffle_method="tasks")[id_column]
        for a, b in pairs
    }
    (found,) = dask.compute(
        {
            pair: (both.shape[0], both.map_partitions(_first_texts, meta=(id_column, object)))
            for pair, both in common.items()
        }
    )
    return [
        gates.Failure(
            "ids_unique_across_splits",
            id_column,
            f"{a} ∩ {b} = ∅",
            f"{count} ids in both, e.g. {sorted(examples)[:3]}",
        )
        for (a, b), (count, examples) in found.items()
        if count
    ]


def _first_texts(ids: pd.Series) -> pd.Series:
    return pd.Series(sorted(map(str, ids))[:3], dtype=object, name=ids.name)


def _gate_part(
    part: pd.DataFrame,
    suite: str,
    dataset: str,
    expectations: list[Expectation],
    docs: gates.Docs | None,
) -> gates.GateResult:
    """Today's checkpoint on one partition (on a worker; Data Docs only where it fails)."""
    return gates.run_expectations(part, suite, dataset, expectations, docs)


def _name(file: str) -> str:
    return file.rsplit("/", 1)[-1]


def _unique(
    table: dd.DataFrame, e: Expectation, rows: int, parts: list[str]
) -> gates.Failure | None:
    column = e["kwargs"]["column"]
    counts = table[column].value_counts(split_out=max(table.npartitions // 8, 1))
    repeated = counts[counts > 1].compute()
    if repeated.empty:
        return None
    examples = list(repeated.index[:EXAMPLES])
    holds = dask.compute(
        *[dask.delayed(_holds_any)(p[column], examples) for p in table.to_delayed()]
    )
    where = [_name(file) for file, held in zip(parts, holds, strict=True) if held]
    return gates.Failure(
        e["type"],
        column,
        _rule(e),
        f"{len(repeated)} values in more than one row, e.g. {[str(v) for v in examples]}, "
        f"in {', '.join(where)}",
    )


def _holds_any(values: pd.Series, examples: list[Any]) -> bool:
    return bool(values.isin(examples).any())


def _row_count(
    table: dd.DataFrame, e: Expectation, rows: int, parts: list[str]
) -> gates.Failure | None:
    if _within(rows, e):
        return None
    return gates.Failure(e["type"], None, _rule(e), f"{rows} rows in all parts")


def _distinct(
    table: dd.DataFrame, e: Expectation, rows: int, parts: list[str]
) -> gates.Failure | None:
    column = e["kwargs"]["column"]
    low, high = e["kwargs"].get("min_value"), e["kwargs"].get("max_value")
    # At most `enough` distinct values per part decide the bounds (all of them with a max).
    enough = None if high is not None else (low or 0) + 1
    seen = dask.compute(
        *[dask.delayed(_some_distinct)(p[column], enough) for p in table.to_delayed()]
    )
    distinct = len(set().union(*seen))
    if _within(distinct, e):
        return None
    shown = f"at least {distinct}" if enough is not None and distinct >= enough else str(distinct)
    return gates.Failure(e["type"], column, _rule(e), f"{shown} distinct values in all parts")


def _maximum(
    table: dd.DataFrame, e: Expectation, rows: int, parts: list[str]
) -> gates.Failure | None:
    column = e["kwargs"]["column"]
    largest = table[column].max().compute()
    if pd.isna(largest) or _within(largest, e):
        return None
    return gates.Failure(e["type"], column, _rule(e), f"maximum {largest} in all parts")


def _within(value: Any, e: Expectation) -> bool:
    """`value` inside the expectation's min_value/max_value (either may be absent)."""
    low, high = e["kwargs"].get("min_value"), e["kwargs"].get("max_value")
    if isinstance(value, pd.Timestamp):  # the time rules write their bounds as ISO text
        low, high = (None if v is None else pd.Timestamp(v) for v in (low, high))
    return (low is None or value >= low) and (high is None or value <= high)


def _some_distinct(values: pd.Series, enough: int | None) -> set[Any]:
    unique = values.dropna().unique()
    return set(unique if enough is None else unique[:enough])


def _rule(e: Expectation) -> str:
    """As gates reports a rule: its arguments, less the column it names."""
    kwargs = {k: v for k, v in e["kwargs"].items() if k not in ("column", "column_B")}
    return ", ".join(f"{k}={gates._short(v)}" for k, v in kwargs.items())


# Each judges a whole-table rule from aggregates: (table, expectation, rows, part files).
TableRule = Callable[[dd.DataFrame, Expectation, int, list[str]], gates.Failure | None]
TABLE_WISE: dict[str, TableRule] = {
    "expect_column_values_to_be_unique": _unique,
    "expect_table_row_count_to_be_between": _row_count,
    "expect_column_unique_value_count_to_be_between": _distinct,
    "expect_column_max_to_be_between": _maximum,
}
