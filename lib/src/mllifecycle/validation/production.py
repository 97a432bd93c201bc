"""The production-batch check: the batch meets the 'serving' suite (what one scoring
input must be, the same file the service checks requests with), the time rules, and
is not skewed from training so far that its inputs are broken rather than drifted.

It is not part of the training path: a broken or shifted batch stops batch scoring
and is reported by the monitor, but never blocks the retrain it may call for.
"""

from __future__ import annotations

import dataclasses
import operator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..config import Params
from ..features.inputs import category_text
from . import gates, skew
from .raw import derived_expectations
from .time_rules import time_expectations, time_zone_mismatches

if TYPE_CHECKING:
    from ..engine import Engine


def check_batch(
    params: Params,
    now: pd.Timestamp,
    training: pd.DataFrame,
    production: pd.DataFrame,
    docs: gates.Docs | None = None,
) -> list[gates.GateResult]:
    """Every check on the production batch (none when no batch is configured)."""
    if production.empty and not production_configured(params):
        return []
    rules = production_expectations(params, now, production)
    return [
        gates.run(as_served(production, params), "serving", "production", rules, docs),
        time_zone_mismatches(params, production, "production"),
        skew.gate(training, production, params.data),
    ]


def check_parts(
    params: Params,
    now: pd.Timestamp,
    training: pd.DataFrame,
    location: str | Path,
    engine: Engine,
    docs: gates.Docs | None = None,
) -> list[gates.GateResult]:
    """check_batch on the dask engine, part file by part file on the workers: the same
    results, where a failure names its part, a part of another schema is a failure
    naming it and a part without rows is skipped and named. The skew check counts nulls
    and infinities in every row and measures distances on a seeded sample of the batch."""
    from ..engine.dask_engine import read_files_as_they_are
    from . import partitioned

    files = partitioned.batch_files(location)
    table = read_files_as_they_are(files.judged)
    meta = table._meta
    counts: skew.Counts = engine.summarise(
        table, partial(skew.Counts.of, data=params.data), operator.add
    )
    if not counts.rows and not production_configured(params):
        return []
    served = table.map_partitions(as_served, params, meta=as_served(meta, params))
    rules = production_expectations(params, now, meta)
    gate = partitioned.run(served, "serving", "production", rules, files.judged, docs)
    gate = dataclasses.replace(
        gate, failures=[*files.failures, *gate.failures], skipped=files.skipped
    )
    zones = time_zone_mismatches(params, meta, "production")
    sample = engine.sample(table, seed=0, total=counts.rows)
    return [
        gate,
        dataclasses.replace(zones, rows=gate.rows),
        skew.gate(training, sample, params.data, counts),
    ]


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
    return [e for e in derived_expectations(params, production) if e["type"] != not_null]
