"""Data gates: Great Expectations 1.x checkpoints over suites kept as JSON in gx/.

The suites in gx/expectations/ are reviewed files under version control. Some
expectations follow from other config instead (the target's domain from the
problem spec, the minimum row count from its constraints, the columns of the
fitted feature pipeline); the stage passes those in as `derived`, so they are
never copied by hand into a suite where they could go stale.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import paths
from ..errors import GateError
from . import data_docs

Expectation = dict[str, Any]


@dataclass(frozen=True)
class Docs:
    """Where a gate's GX Data Docs go: rendered when it fails, or always on request."""

    folder: Path
    always: bool = False


@dataclass(frozen=True)
class Failure:
    expectation: str
    column: str | None
    rule: str
    observed: str

    def describe(self) -> str:
        where = f"column {self.column!r}" if self.column else "table"
        return f"{where}: {self.expectation}({self.rule}) failed; observed {self.observed}"


@dataclass(frozen=True)
class GateResult:
    suite: str
    dataset: str
    rows: int
    evaluated: int
    failures: list[Failure]
    docs_page: Path | None = None  # the Data Docs index, when this run rendered them
    # Part files not judged because they hold no rows (a partitioned table).
    skipped: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> dict[str, Any]:
        found = {
            "suite": self.suite,
            "dataset": self.dataset,
            "rows": self.rows,
            "expectations": self.evaluated,
            "passed": self.passed,
            "failures": [f.describe() for f in self.failures],
        }
        return {**found, "skipped_empty_parts": self.skipped} if self.skipped else found


def load_suite(name: str, suites_dir: Path = paths.SUITES_DIR) -> list[Expectation]:
    path = suites_dir / f"{name}.json"
    if not path.exists():
        raise GateError(f"suite {path} is missing")
    return list(json.loads(path.read_text(encoding="utf-8"))["expectations"])


def expectation(kind: str, **kwargs: Any) -> Expectation:
    return {"type": kind, "kwargs": kwargs}


# Expectation types whose verdict on several splits stacked equals their verdicts on each
# split alone: per-row rules (without `mostly`, a share that stacking would dilute) and,
# for splits with identical columns and dtypes, the column list. Counts, uniqueness and
# any aggregate are judged per split.
ROW_WISE = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_of_type",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_columns_to_match_set",
        "expect_column_to_exist",
    }
)


def run(
    frame: pd.DataFrame,
    suite: str,
    dataset: str,
    derived: list[Expectation],
    docs: Docs | None = None,
) -> GateResult:
    """Run the suite plus derived expectations as one GX checkpoint over `frame`
    (a failing suite runs once more, for the details its message reports).

    With `docs`, a failed run (or any run, with `docs.always`) also renders GX Data
    Docs into `docs.folder/dataset` (static HTML that opens styled offline). Passing
    runs skip them: rendering costs seconds and megabytes per dataset.

    GX keeps one expectation per type and domain (for table-level types the
    domain is the whole table), so `derived` must not repeat a type the suite
    already uses at table level.
    """
    return run_expectations(frame, suite, dataset, [*load_suite(suite), *derived], docs)


def run_expectations(
    frame: pd.DataFrame,
    suite: str,
    dataset: str,
    expectations: list[Expectation],
    docs: Docs | None = None,
) -> GateResult:
    """`run` with the expectations given (the partitioned gate runs a suite's per-row
    rules on each part)."""
    # Verdicts alone cost GX ~30% less than the SUMMARY a failure message (or Data
    # Docs) needs; a failing suite runs again in full detail.
    detailed = docs is not None and docs.always
    outcome, context = _checkpoint(frame, suite, dataset, expectations, detailed)
    results = _results(outcome)
    if not detailed and not all(r.success for r in results):
        outcome, context = _checkpoint(frame, suite, dataset, expectations, detailed=True)
        results = _results(outcome)
    failures = [_failure(r) for r in results if not r.success]
    page = None
    if docs is not None and (failures or docs.always):
        page = data_docs.render(context, outcome, docs.folder / dataset)
    elif docs is not None:  # pages of an earlier failure would describe data no longer there
        shutil.rmtree(docs.folder / dataset, ignore_errors=True)
    return GateResult(suite, dataset, len(frame), len(results), failures, page)


def unexpected_counts(
    frame: pd.DataFrame, suite: str, dataset: str, expectations: list[Expectation]
) -> list[tuple[int, int]]:
    """(unexpected values, values judged: not missing) of each per-row rule in
    `expectations`, in their order, from one checkpoint over `frame` (the partitioned
    gate adds them over parts to judge a `mostly` rule on the whole table)."""
    outcome, _ = _checkpoint(frame, suite, dataset, expectations, detailed=True)
    found = {}
    for result in _results(outcome):
        config, details = result.expectation_config, result.result or {}
        judged = int(details.get("element_count", 0)) - int(details.get("missing_count", 0))
        key = (config.type, config.kwargs.get("column"))
        found[key] = (int(details.get("unexpected_count", 0)), judged)
    return [found.get((e["type"], e["kwargs"].get("column")), (0, 0)) for e in expectations]


def run_splits(
    frames: dict[str, pd.DataFrame],
    suite: str,
    derived: list[Expectation],
    docs: Docs | None = None,
) -> list[GateResult]:
    """`run` on every split, with the same verdicts, in one checkpoint where that is exact.

    GX's cost is per expectation per checkpoint, not per row, so the per-row rules run
    once over the splits stacked and only the rest (row counts, uniqueness) per split.
    Any failure, or docs asked for, reruns the whole suite split by split, so failures
    name their split and Data Docs are as `run` writes them.
    """
    expectations = [*load_suite(suite), *derived]
    stacked = [e for e in expectations if _row_wise(e)]
    per_split = [e for e in expectations if not _row_wise(e)]
    if frames and (docs is None or not docs.always) and _same_schema(list(frames.values())):
        stack = pd.concat(frames.values(), ignore_index=True)
        shared = _verdicts(stack, suite, "splits", stacked)
        own = {name: _verdicts(frame, suite, name, per_split) for name, frame in frames.items()}
        if all(r.success for r in shared) and all(r.success for rs in own.values() for r in rs):
            if docs is not None:  # as `run` does: pages of an earlier failure are stale
                for name in frames:
                    shutil.rmtree(docs.folder / name, ignore_errors=True)
            return [
                GateResult(suite, name, len(frame), len(shared) + len(own[name]), [])
                for name, frame in frames.items()
            ]
    return [run(frame, suite, name, derived, docs) for name, frame in frames.items()]


def _row_wise(item: Expectation) -> bool:
    return item["type"] in ROW_WISE and "mostly" not in item["kwargs"]


def _same_schema(frames: list[pd.DataFrame]) -> bool:
    """Stacking keeps every column and dtype only when all splits agree on both."""
    first = frames[0].dtypes
    return all(
        list(f.columns) == list(frames[0].columns) and f.dtypes.equals(first) for f in frames
    )


def _verdicts(
    frame: pd.DataFrame, suite: str, dataset: str, expectations: list[Expectation]
) -> list[Any]:
    if not expectations:
        return []
    return _results(_checkpoint(frame, suite, dataset, expectations, detailed=False)[0])


def _checkpoint(
    frame: pd.DataFrame,
    suite: str,
    dataset: str,
    expectations: list[Expectation],
    detailed: bool,
) -> tuple[Any, Any]:
    """One GX checkpoint of `expectations` over `frame`: (its result, its context).

    `detailed` asks for SUMMARY results (observed values, unexpected samples);
    without it GX computes each verdict only (BOOLEAN_ONLY)."""
    import great_expectations as gx  # imported here: ~3 s, only gates pay it
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    gx_suite = gx.ExpectationSuite(name=suite)
    for item in expectations:
        gx_suite.add_expectation_configuration(
            ExpectationConfiguration(
                type=item["type"], kwargs=item["kwargs"], meta=item.get("meta")
            )
        )
    batch = (
        context.data_sources.add_pandas(name="pipeline")
        .add_dataframe_asset(name=dataset)
        .add_batch_definition_whole_dataframe(name="whole")
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(
            name=f"{suite}-{dataset}", data=batch, suite=context.suites.add(gx_suite)
        )
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{suite}-gate",
            validation_definitions=[definition],
            result_format="SUMMARY" if detailed else "BOOLEAN_ONLY",
        )
    )
    return checkpoint.run(batch_parameters={"dataframe": frame}), context


def _results(outcome: Any) -> list[Any]:
    return [r for run in outcome.run_results.values() for r in run.results]


def enforce(stage: str, results: list[GateResult]) -> None:
    """Stop the pipeline with every failure listed, stage and dataset first."""
    lines = [
        f"{stage}: {result.dataset} (suite {result.suite!r}): {failure.describe()}"
        for result in results
        for failure in result.failures
    ]
    pages = [f"Data Docs: {r.docs_page}" for r in results if r.failures and r.docs_page]
    if lines:
        lines += pages
        raise GateError(f"{len(lines)} expectation(s) failed\n  " + "\n  ".join(lines))


def report_failures(path: Path) -> list[str] | None:
    """The failures a written gate report records, one line each (None: no report)."""
    if not path.exists():
        return None
    return [
        f"{result['dataset']} (suite {result['suite']!r}): {failure}"
        for result in json.loads(path.read_text(encoding="utf-8"))
        for failure in result["failures"]
    ]


def _failure(result: Any) -> Failure:
    config = result.expectation_config
    # A column pair rule (A > B) is reported on B, the column that broke it.
    column = config.kwargs.get("column") or config.kwargs.get("column_B")
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "column", "column_B")}
    rule = ", ".join(f"{k}={_short(v)}" for k, v in kwargs.items())
    return Failure(config.type, column, rule, _observed(result))


def _observed(result: Any) -> str:
    error = _exception_message(result.exception_info or {})
    if error:
        return f"error: {error}"
    details = result.result or {}
    mismatched = details.get("details", {}).get("mismatched")
    if mismatched:
        return "; ".join(f"{kind} {_short(cols)}" for kind, cols in mismatched.items() if cols)
    if "unexpected_count" in details:
        sample = _short(details.get("partial_unexpected_list", [])[:5])
        return (
            f"{details['unexpected_count']} of {details.get('element_count')} rows "
            f"unexpected, e.g. {sample}"
        )
    if "observed_value" in details:
        return _short(details["observed_value"])
    return _short(details)


def _exception_message(info: dict[str, Any]) -> str | None:
    """GX 1.x reports errors flat or keyed by metric; return the first message."""
    candidates = [info, *(v for v in info.values() if isinstance(v, dict))]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            return str(candidate.get("exception_message", "")).splitlines()[0]
    return None


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."
