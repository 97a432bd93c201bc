from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from mllifecycle.config import (
    Params,
    parse_problem,
)
from mllifecycle.data import (
    demo,
)
from mllifecycle.errors import (
    GateError,
)
from mllifecycle.validation import (
    gates,
    skew,
)
from mllifecycle.validation.raw import (
    boolean_target_mismatch,
    derived_expectations,
)
from mllifecycle.validation.time_rules import (
    in_time_zone_of,
    time_expectations,
)

from .conftest import requires_demo

# Demo rows checked against the reviewed suites in gx/, which describe the demo data.
pytestmark = requires_demo


def test_raw_gate_passes_demo_and_names_what_broke(
    in_root: Path, example_params: Callable[..., Params]
) -> None:
    params = example_params()
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


def test_gate_over_splits_gives_the_verdicts_of_one_gate_per_split(
    in_root: Path, example_params: Callable[..., Params]
) -> None:
    params = example_params()
    history, _ = demo.generate(params.problem, 900, 0, seed=5)
    derived = derived_expectations(params)
    splits = {"train": history[:500], "valid": history[500:700], "test": history[700:]}
    # An id in two splits breaks no split's uniqueness: stacking must not judge it.
    id_column = params.data.id_column
    splits["test"] = splits["test"].copy()
    splits["test"].loc[splits["test"].index[0], id_column] = history[id_column].iloc[0]
    one_by_one = [
        gates.run(frame, "raw", name, derived).summary() for name, frame in splits.items()
    ]
    assert all(result["passed"] for result in one_by_one)
    assert [r.summary() for r in gates.run_splits(splits, "raw", derived)] == one_by_one

    splits["valid"] = splits["valid"].copy()
    splits["valid"].loc[splits["valid"].index[3], "monthly_charges"] = -40.0
    together = [r.summary() for r in gates.run_splits(splits, "raw", derived)]
    assert [r["passed"] for r in together] == [True, False, True]
    assert "column 'monthly_charges'" in together[1]["failures"][0]


def test_data_docs_are_rendered_for_a_failure_or_on_request_only(
    in_root: Path, example_params: Callable[..., Params], tmp_path: Path
) -> None:
    params = example_params()
    history, _ = demo.generate(params.problem, 300, 0, seed=5)
    derived = derived_expectations(params)
    docs = gates.Docs(tmp_path / "raw")
    stale = tmp_path / "raw" / "dataset" / "index.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("an earlier failure")

    assert gates.run(history, "raw", "dataset", derived, docs).docs_page is None
    assert not stale.parent.exists()  # a pass clears the earlier failure's pages

    failed = gates.run(history.drop(columns=["region"]), "raw", "dataset", derived, docs)
    assert failed.docs_page == stale and "Failed" in stale.read_text()
    with pytest.raises(GateError) as caught:
        gates.enforce("validate_raw", [failed])
    assert f"Data Docs: {stale}" in str(caught.value)

    asked = gates.run(history, "raw", "dataset", derived, gates.Docs(tmp_path / "all", True))
    assert asked.passed and asked.docs_page == tmp_path / "all" / "dataset" / "index.html"
    assert asked.docs_page.is_file()


def test_a_stale_dataset_fails_the_recency_rule(
    in_root: Path, example_params: Callable[..., Params]
) -> None:
    """The demo is a fixed 2023-2025 snapshot: fresh enough only without a max age."""
    now = pd.Timestamp.now(tz="UTC").floor("s")
    params = example_params("data.checks.max_age_days=30")
    history, _ = demo.generate(params.problem, 1000, 0, seed=5)
    fresh_enough = time_expectations(example_params(), now, history)
    assert not gates.run(history, "raw", "dataset", fresh_enough).failures
    failures = gates.run(
        history, "raw", "dataset", time_expectations(params, now, history)
    ).failures
    assert [(f.expectation, f.column) for f in failures] == [
        ("expect_column_max_to_be_between", params.data.time_column)
    ]


def test_an_event_after_its_rows_time_is_time_leakage(
    in_root: Path, example_params: Callable[..., Params]
) -> None:
    """A last login after the snapshot means the feature was computed later than the
    prediction would have been made."""
    params = example_params()
    now = pd.Timestamp.now(tz="UTC")
    history, _ = demo.generate(params.problem, 1000, 0, seed=5)
    leaked = history.copy()
    leaked.loc[leaked.index[:4], "last_login_date"] += pd.Timedelta(days=400)
    failures = gates.run(leaked, "raw", "dataset", time_expectations(params, now, leaked)).failures
    assert [(f.expectation, f.column) for f in failures] == [
        ("expect_column_pair_values_a_to_be_greater_than_b", "last_login_date")
    ]
    assert "4 of 1000 rows" in failures[0].observed and "column_A=snapshot_date" in failures[0].rule


@pytest.mark.parametrize("zone", [None, "UTC", "Europe/Berlin"])
def test_time_rules_compare_in_the_columns_time_zone(
    in_root: Path, example_params: Callable[..., Params], zone: str | None
) -> None:
    params = example_params()
    history, _ = demo.generate(params.problem, 1000, 0, seed=5)
    if zone:
        history = history.assign(
            snapshot_date=history["snapshot_date"].dt.tz_localize(zone),
            last_login_date=history["last_login_date"].dt.tz_localize(zone),
        )
    now = pd.Timestamp.now(tz="UTC")
    assert in_time_zone_of(history["snapshot_date"], now).tzinfo is not None or zone is None
    assert gates.run(history, "raw", "dataset", time_expectations(params, now, history)).passed
    future = history.copy()
    future.loc[future.index[:2], "snapshot_date"] = in_time_zone_of(
        history["snapshot_date"], now + pd.Timedelta(days=30)
    )
    failures = gates.run(future, "raw", "dataset", time_expectations(params, now, future)).failures
    assert ("expect_column_values_to_be_between", "snapshot_date") in [
        (f.expectation, f.column) for f in failures
    ]


def test_the_demo_production_batch_passes_the_serving_suite_and_skew_gate(
    in_root: Path, example_params: Callable[..., Params]
) -> None:
    """The demo's production batch drifted (prices up, usage down) but is not broken."""
    params = example_params()
    history, production = demo.generate(params.problem, 3000, 1000, seed=5)
    assert gates.run(production, "serving", "production", []).passed
    assert skew.gate(history, production, params.data).passed


def test_a_unit_change_or_broken_join_in_production_is_skew(
    in_root: Path, example_params: Callable[..., Params]
) -> None:
    params = example_params()
    history, production = demo.generate(params.problem, 3000, 1000, seed=5)
    broken = production.assign(
        usage_hours=production["usage_hours"] * 60,  # minutes, not hours
        payment_method=production["payment_method"].where(production.index % 2 == 0),
    )
    result = skew.gate(history, broken, params.data)
    found = {f.column: f for f in result.failures}
    assert set(found) == {"usage_hours", "payment_method"}
    assert "training std apart" in found["usage_hours"].observed
    assert found["payment_method"].expectation == "null_rate_matches_training"
    with pytest.raises(GateError, match=r"validate_production: production vs .*usage_hours"):
        gates.enforce("validate_production", [result])


def with_boolean_labels(params: Params) -> Params:
    """The churn problem with its classes spelled as a boolean target spells them."""
    spec = params.problem.model_dump(mode="json")
    spell = {"0": "False", "1": "True"}
    spec["classes"] = ["False", "True"]
    spec["value_matrix"] = {
        spell[actual]: {spell[decided]: value for decided, value in row.items()}
        for actual, row in spec["value_matrix"].items()
    }
    rule = spec["baseline_rule"]
    rule["then"], rule["otherwise"] = spell[str(rule["then"])], spell[str(rule["otherwise"])]
    return params.model_copy(update={"problem": parse_problem(spec)})


def test_a_boolean_target_spells_its_classes_or_is_refused_at_the_raw_gate(
    example_params: Callable[..., Params],
) -> None:
    """True equals 1: classes [0, 1] passed the in-set check on a True/False target, then
    training matched no label (an IndexError after DVC had removed the models). Spelled
    'False'/'True' the target is those two classes; spelled otherwise, one line says how."""
    params = example_params()
    history, _ = demo.generate(params.problem, 1000, 0, seed=5)
    target = params.problem.target
    history[target] = history[target].astype(bool)
    with pytest.raises(GateError) as refused:
        gates.enforce("validate_raw", [boolean_target_mismatch(params, history, "dataset")])
    assert (
        f"'{target}' holds booleans (True/False): spell its classes as the data does, "
        "classes: ['False', 'True'] in conf/problem/churn.yaml" in str(refused.value)
    )
    assert not gates.run(history, "raw", "dataset", derived_expectations(params, history)).passed

    spelled = with_boolean_labels(params)
    assert boolean_target_mismatch(spelled, history, "dataset").passed
    assert gates.run(history, "raw", "dataset", derived_expectations(spelled, history)).passed
