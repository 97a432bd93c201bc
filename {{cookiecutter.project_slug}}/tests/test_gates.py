from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.config import (
    Params,
)
from {{ cookiecutter.module_name }}.data import (
    demo,
)
from {{ cookiecutter.module_name }}.errors import (
    GateError,
)
from {{ cookiecutter.module_name }}.stages.validate_raw import (
    derived_expectations,
    time_expectations,
)
from {{ cookiecutter.module_name }}.validation import (
    gates,
)


def test_raw_gate_passes_demo_and_names_what_broke(
    in_root: Path, make_params: Callable[..., Params]
) -> None:
    params = make_params()
    history, _ = demo.generate(params.problem, 1000, 0, seed=5)
    derived = derived_expectations(params)
    assert gates.run(history, "raw", "dataset", derived).passed

    broken = history.drop(columns=["region"])
    broken.loc[0, "monthly_charges"] = -40.0
    broken.loc[1, params.problem.target] = None
    result = gates.run(broken, "raw", "dataset", derived)
    with pytest.raises(GateError) as caught:
        gates.enforce("validate_raw", [result])
    message = str(caught.value)
    assert "table: expect_table_columns_to_match_set" in message
    assert "missing ['region']" in message
    assert "column 'monthly_charges': expect_column_values_to_be_between" in message
    assert "-40.0" in message
    assert f"column '{params.problem.target}': expect_column_values_to_not_be_null" in message


def test_a_stale_dataset_fails_the_recency_rule(
    in_root: Path, make_params: Callable[..., Params]
) -> None:
    """The demo is a fixed 2023-2025 snapshot: fresh enough only without a max age."""
    now = pd.Timestamp.now().floor("s")
    params = make_params("data.checks.max_age_days=30")
    history, _ = demo.generate(params.problem, 1000, 0, seed=5)
    assert not gates.run(history, "raw", "dataset", time_expectations(make_params(), now)).failures
    failures = gates.run(history, "raw", "dataset", time_expectations(params, now)).failures
    assert [(f.expectation, f.column) for f in failures] == [
        ("expect_column_max_to_be_between", params.data.time_column)
    ]
