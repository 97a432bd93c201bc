"""Draft the raw and serving suites from a dataset and conf/data, for review.

GX 1.x has no profiler, and a profiler's output is not a contract anyway: this
drafts the rules a reviewer would start from (columns, id, nulls, types, ranges,
categories) and never silently replaces a reviewed suite. With a suite already
in gx/expectations/, it prints what would change and writes the draft beside it
(`raw.draft.json`, git-ignored); `--accept` replaces the reviewed suite with it.
The serving suite follows from the raw one (its feature rules), so a reviewer's
wider ranges carry over to what the service accepts.

    make suite               # dvc repro ingest, then this on data/raw/dataset.parquet
    make suite ACCEPT=1      # after reviewing the diff
"""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import DataConfig, load_params
from ..errors import DataError
from ..features.inputs import category_text
from ..features.pipeline import timestamp_inputs
from ..io import read_table
from .gates import Expectation, expectation

Key = tuple[str, str | None]


def draft_raw_suite(frame: pd.DataFrame, data: DataConfig) -> list[Expectation]:
    """Expectations a reviewer starts from, in a stable order."""
    keys = [c for c in (data.id_column, data.time_column) if c]
    columns = [*keys, *data.checks.event_time_columns, *data.numeric, *data.categorical]
    missing = [c for c in columns if c not in frame]
    if missing:
        raise DataError(f"conf/data names columns the dataset lacks: {missing}")
    rules = [
        expectation("expect_table_columns_to_match_set", column_set=columns, exact_match=False)
    ]
    if data.id_column:
        rules.append(expectation("expect_column_values_to_be_unique", column=data.id_column))
    rules += [
        expectation("expect_column_values_to_not_be_null", column=c)
        for c in columns
        if frame[c].notna().all()
    ]
    for column in [*([data.id_column] if data.id_column else []), *data.numeric, *data.categorical]:
        rules.append(
            expectation(
                "expect_column_values_to_be_of_type", column=column, type_=_type(frame[column])
            )
        )
        if column in data.numeric:
            # Observed bounds, rounded outward: a reviewer widens them to the domain's.
            low, high = math.floor(frame[column].min()), math.ceil(frame[column].max())
            rules.append(
                expectation(
                    "expect_column_values_to_be_between",
                    column=column,
                    min_value=low,
                    max_value=high,
                )
            )
        elif column in data.categorical:
            # As the raw data holds them: GX compares 8 and "8" as different values.
            values = sorted(set(frame[column].dropna().tolist()), key=str)
            rules.append(
                expectation("expect_column_values_to_be_in_set", column=column, value_set=values)
            )
    return rules


# Rules that hold for one scoring input; the table-level ones judge a dataset.
SERVING_RULES = (
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_set",
)
# The encoder maps an unseen category to "other": one request with one is served,
# a production batch where more than this share is unseen fails the gate.
SEEN_CATEGORY_SHARE = 0.95


def draft_serving_suite(
    raw: list[Expectation], data: DataConfig, timestamps: list[str] | None = None
) -> list[Expectation]:
    """What one scoring input must meet: the raw suite's row rules on the model's inputs
    (the features, and the timestamps derived features read)."""
    inputs = [*data.features, *(timestamps or [])]
    rules = [expectation("expect_table_columns_to_match_set", column_set=inputs, exact_match=False)]
    for rule in raw:
        if rule["type"] in SERVING_RULES and rule["kwargs"].get("column") in inputs:
            kwargs = dict(rule["kwargs"])
            if rule["type"] == "expect_column_values_to_be_in_set":
                # Scoring inputs carry categories as text ("8", not 8): see features/inputs.py.
                kwargs["value_set"] = category_text(pd.Series(kwargs["value_set"])).tolist()
                kwargs["mostly"] = SEEN_CATEGORY_SHARE
            rules.append(expectation(rule["type"], **kwargs))
    return rules


def differences(reviewed: list[Expectation], drafted: list[Expectation]) -> list[str]:
    """Added, removed and changed rules, one readable line each."""
    old, new = _by_key(reviewed), _by_key(drafted)
    lines = [f"+ {_name(k)} {new[k]}" for k in new if k not in old]
    lines += [f"- {_name(k)} {old[k]}" for k in old if k not in new]
    lines += [f"~ {_name(k)} {old[k]} -> {new[k]}" for k in old if k in new and old[k] != new[k]]
    return lines


def _by_key(rules: list[Expectation]) -> dict[Key, dict[str, Any]]:
    """Rules by (type, column); sets compared as sets, whatever order a reviewer wrote."""
    return {
        (rule["type"], rule["kwargs"].get("column")): {
            k: sorted(map(str, v)) if isinstance(v, list) else v
            for k, v in rule["kwargs"].items()
            if k != "column"
        }
        for rule in rules
    }


def _name(key: Key) -> str:
    kind, column = key
    return f"{kind}({column})" if column else kind


def _type(series: pd.Series) -> str:
    if pd.api.types.is_string_dtype(series) or series.dtype == object:
        return "str"
    return str(series.dtype)


def suite_document(name: str, rules: list[Expectation], notes: str) -> dict[str, Any]:
    return {"name": name, "id": str(uuid.uuid4()), "meta": {"notes": notes}, "expectations": rules}


def propose(name: str, rules: list[Expectation], suites: Path, notes: str, accept: bool) -> None:
    """Write the suite when there is none or when accepted; otherwise show the diff."""
    reviewed_path, draft_path = suites / f"{name}.json", suites / f"{name}.draft.json"
    document = suite_document(name, rules, notes)
    if reviewed_path.exists() and not accept:
        reviewed = json.loads(reviewed_path.read_text())["expectations"]
        changes = differences(reviewed, rules)
        draft_path.write_text(json.dumps(document, indent=2) + "\n")
        print(f"{name}:", "\n".join(changes) or "the draft matches the reviewed suite.")
        print(f"{len(changes)} difference(s); draft in {draft_path}; reviewed suite unchanged.")
        return
    reviewed_path.parent.mkdir(parents=True, exist_ok=True)
    reviewed_path.write_text(json.dumps(document, indent=2) + "\n")
    draft_path.unlink(missing_ok=True)
    print(f"wrote {reviewed_path} ({len(rules)} rules): review it, then commit it")


def draft_suites(dataset: str, suites: Path, accept: bool) -> None:
    """`suite [--accept]`: draft the raw suite from `dataset`, then the serving one from it."""
    params = load_params()
    data = params.data
    raw = draft_raw_suite(read_table(dataset), data)
    notes = f"Drafted from {dataset} and conf/data; review every rule before committing."
    propose("raw", raw, suites, notes, accept)
    # From the suite that now stands: the reviewed one, unless this run replaced it.
    standing = json.loads((suites / "raw.json").read_text())["expectations"]
    serving_notes = "What one scoring input must meet (the raw suite's feature rules)."
    serving = draft_serving_suite(standing, data, timestamp_inputs(params.features, data))
    propose("serving", serving, suites, serving_notes, accept)
