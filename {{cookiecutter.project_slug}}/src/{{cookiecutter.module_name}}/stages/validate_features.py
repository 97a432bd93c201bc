"""Step 3b, the feature gate: the 'features' suite, the fitted pipeline's columns, and
the checks GX has no expectation for (target leakage, ids shared across splits,
label and null rates that differ between splits and their slices) on the prepared splits.
"""

from __future__ import annotations

import pandas as pd

from .. import paths
from ..config import Params, load_params
from ..io import read_table, write_json
from ..validation import gates, leakage
from . import run_stage


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


def main() -> None:
    params = load_params()
    frames = {name: read_table(paths.features(name)) for name in paths.SPLITS}
    derived = feature_expectations(list(frames["train"].columns), params.problem.target)
    docs = paths.DATA_DOCS_DIR / "features"
    results = [gates.run(frame, "features", name, derived, docs) for name, frame in frames.items()]
    prepared = {name: read_table(paths.prepared(name)) for name in paths.SPLITS}
    results.append(split_checks(params, prepared))
    gates.enforce("validate_features", results)
    write_json([r.summary() for r in results], paths.VALIDATION_DIR / "features.json")


if __name__ == "__main__":
    run_stage("validate_features", main)
