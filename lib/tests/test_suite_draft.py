"""`make suite`: a draft a person reviews, never a silent overwrite of a reviewed suite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from mllifecycle import cli, compose
from mllifecycle.config import (
    Params,
)
from mllifecycle.data import (
    demo,
)
from mllifecycle.features.pipeline import (
    timestamp_inputs,
)
from mllifecycle.validation import (
    draft,
    gates,
)

from .conftest import requires_demo


@requires_demo  # the reviewed suite in gx/ was drafted from the demo data
def test_the_draft_of_the_demo_has_the_reviewed_suite_shape(
    in_root: Path, example_params: Callable[..., Params]
) -> None:
    """Same rules on the same columns; only the reviewer's wider ranges differ."""
    params = example_params()
    history, _ = demo.generate(params.problem, 3000, 0, seed=9)
    drafted = draft.draft_raw_suite(history, params.data)
    changes = draft.differences(gates.load_suite("raw"), drafted)
    assert [c for c in changes if not c.startswith("~ expect_column_values_to_be_between")] == []
    assert gates.run(history, "raw", "dataset", []).passed


def test_the_serving_suite_is_the_reviewed_raw_suites_feature_rules(
    in_root: Path, make_params: Callable[..., Params]
) -> None:
    """Regenerating it from raw.json changes nothing: the two cannot disagree."""
    params = make_params()
    timestamps = timestamp_inputs(params.features, params.data)
    serving = draft.draft_serving_suite(gates.load_suite("raw"), params.data, timestamps)
    assert draft.differences(gates.load_suite("serving"), serving) == []
    columns = {rule["kwargs"].get("column") for rule in serving} - {None}
    # The model's inputs: the features and the timestamps derived features read.
    assert columns == {*params.data.features, *timestamps}


def run_draft(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    assert cli.main(["suite", *args]) == 0


def test_rerunning_shows_the_change_and_keeps_the_reviewed_suite(
    example_params: Callable[..., Params],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On the demo's columns in a scratch folder, whatever conf/ selects."""
    params = example_params()
    monkeypatch.chdir(tmp_path)  # `make suite` reads params.yaml from where it runs
    # A conf/ that composes to these params, and params.yaml composed from it (`suite`
    # refuses a params.yaml that conf/ no longer composes to).
    Path("conf").mkdir()
    example = yaml.safe_dump(params.model_dump(mode="json", by_alias=True))
    Path("conf/config.yaml").write_text(example)
    assert compose.write_params([]) == 0
    history, _ = demo.generate(params.problem, 2000, 0, seed=9)
    dataset, suites = tmp_path / "dataset.parquet", tmp_path / "gx"
    history.to_parquet(dataset)
    run_draft(monkeypatch, "--dataset", str(dataset), "--suites", str(suites))
    reviewed = (suites / "raw.json").read_bytes()
    assert "review it" in capsys.readouterr().out

    history.loc[history.index[:10], "plan"] = "platinum"
    history.to_parquet(dataset)
    run_draft(monkeypatch, "--dataset", str(dataset), "--suites", str(suites))
    out = capsys.readouterr().out
    assert "~ expect_column_values_to_be_in_set(plan)" in out and "platinum" in out
    assert (suites / "raw.json").read_bytes() == reviewed
    assert (suites / "raw.draft.json").exists()
    assert "serving:" in out and (suites / "serving.draft.json").exists()

    run_draft(monkeypatch, "--dataset", str(dataset), "--suites", str(suites), "--accept")
    accepted = json.loads((suites / "raw.json").read_text())["expectations"]
    plan_set = next(
        e for e in accepted if e["type"].endswith("in_set") and e["kwargs"]["column"] == "plan"
    )
    assert "platinum" in plan_set["kwargs"]["value_set"]
    assert not (suites / "raw.draft.json").exists()
    serving = json.loads((suites / "serving.json").read_text())["expectations"]
    assert any("platinum" in e["kwargs"].get("value_set", []) for e in serving)
