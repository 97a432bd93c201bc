"""Step 3b, the feature gate: the 'features' suite plus the fitted pipeline's columns."""

from __future__ import annotations

from .. import paths
from ..config import load_params
from ..io import read_table, write_json
from ..validation import gates
from . import run_stage


def main() -> None:
    params = load_params()
    frames = {name: read_table(paths.features(name)) for name in paths.SPLITS}
    columns = list(frames["train"].columns)
    derived = [gates.expectation("expect_table_columns_to_match_ordered_list", column_list=columns)]
    # After imputation no feature may be null or infinite, in any split.
    for column in columns:
        derived.append(gates.expectation("expect_column_values_to_not_be_null", column=column))
        if column != params.problem.target:
            derived.append(
                gates.expectation(
                    "expect_column_values_to_be_between",
                    column=column,
                    min_value=-1e12,
                    max_value=1e12,
                )
            )
    results = [gates.run(frame, "features", name, derived) for name, frame in frames.items()]
    gates.enforce("validate_features", results)
    write_json([r.summary() for r in results], paths.VALIDATION_DIR / "features.json")


if __name__ == "__main__":
    run_stage("validate_features", main)
