from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
