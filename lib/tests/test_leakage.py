"""The checks GX has no expectation for: leaked labels, shared ids, shifted rates."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from mllifecycle.config import (
    Params,
)
from mllifecycle.data import (
    demo,
)
from mllifecycle.data.prepare import (
    clean,
    split,
)
from mllifecycle.errors import (
    GateError,
)
from mllifecycle.validation import (
    gates,
    leakage,
)
from mllifecycle.validation.features import (
    split_checks,
)

from .conftest import PROBLEMS


def demo_splits(params: Params, rows: int = 4000) -> dict[str, pd.DataFrame]:
    history, _ = demo.generate(params.problem, rows, 0, seed=7)
    return split(clean(history, params.data, params.problem.target), params.data)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_the_demo_splits_pass_and_a_leaked_label_is_caught(
    problem: str, example_params: Callable[..., Params]
) -> None:
    params = example_params(f"problem={problem}")
    splits = demo_splits(params)
    assert split_checks(params, splits).passed

    target = params.problem.target
    train = splits["train"].assign(outcome_note=splits["train"][target].astype(str) + "-closed")
    found = leakage.target_leakage(
        train, [*params.data.features, "outcome_note"], params.problem, params.data.checks
    )
    assert [f.column for f in found] == ["outcome_note"]
    assert "a leaked label" in found[0].observed


def test_ids_in_two_splits_are_named(example_params: Callable[..., Params]) -> None:
    params = example_params("problem=churn")
    splits = demo_splits(params)
    id_column = params.data.id_column
    assert id_column is not None
    splits["test"] = pd.concat([splits["test"], splits["train"].head(3)], ignore_index=True)
    found = leakage.shared_ids(splits, id_column)
    assert [(f.column, f.rule) for f in found] == [(id_column, "train ∩ test = ∅")]
    assert found[0].observed.startswith("3 ids in both")


def test_shifted_label_and_null_rates_fail_the_gate_with_the_contract(
    example_params: Callable[..., Params],
) -> None:
    params = example_params("problem=churn")
    splits = demo_splits(params)
    target = params.problem.target
    test = splits["test"].copy()
    test[target] = np.where(np.arange(len(test)) % 2 == 0, 1, 0)  # half the customers churn
    test["usage_hours"] = np.nan
    splits["test"] = test
    with pytest.raises(GateError) as failure:
        gates.enforce("validate_features", [split_checks(params, splits)])
    message = str(failure.value)
    assert f"column '{target}': label_share_matches_train(class '1'" in message
    assert (
        "column 'usage_hours': null_rate_matches_train(max_null_rate_shift=0.2) failed" in message
    )
    assert "observed test 1.000 vs train" in message


def test_a_shift_inside_one_slice_is_caught_where_the_split_average_hides_it(
    example_params: Callable[..., Params],
) -> None:
    """Churn forced for a third of one region, nulls in one plan: small against the
    whole split, large inside the slice."""
    params = example_params("problem=churn")
    splits = demo_splits(params, rows=8000)
    target = params.problem.target
    valid = splits["valid"].copy()
    north, basic = valid["region"] == "north", valid["plan"] == "basic"
    valid.loc[north, target] = np.where(
        np.arange(north.sum()) % 3 == 0, 1, valid.loc[north, target]
    )
    valid.loc[basic, "usage_hours"] = np.where(np.arange(basic.sum()) % 3 == 0, np.nan, 1.0)
    splits["valid"] = valid
    train, now = (
        leakage.Counts.whole(leakage.split_rates(frame, params.problem, params.data))
        for frame in (splits["train"], valid)
    )
    whole_split = leakage._compare(
        train, now, "valid", params.problem, params.data.features, params.data.checks
    )
    assert whole_split == []
    found = leakage.rate_shifts(splits, params.problem, params.data)
    where = {(f.expectation, f.observed.split(" ")[0]) for f in found}
    assert ("label_share_matches_train", "valid[region=north]") in where
    assert ("null_rate_matches_train", "valid[plan=basic]") in where
    assert not any("region=south" in f.observed for f in found)
