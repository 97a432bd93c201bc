"""The champion: a git-tracked record, refused when it answers another problem, and
scored on the current test split (not on the figures of its own run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mllifecycle.compose import composed
from mllifecycle.config import (
    Params,
    ProblemSpec,
    load_params,
    parse_params,
    parse_problem,
)
from mllifecycle.errors import (
    RegistryError,
)
from mllifecycle.evaluation import (
    champion,
)
from mllifecycle.io import (
    read_table,
)
from mllifecycle.models import (
    artifact,
)
from mllifecycle.registry import (
    Version,
)
from mllifecycle.registry import (
    champion as champion_file,
)
from mllifecycle.testing import SMALL_DEMO, run_pipeline

from .conftest import ROOT, example_overrides

TERMS: dict[str, Any] = {
    "decision": "Whether to act on this customer before the month ends.",
    "success_criteria": {"min_uplift_per_1000": 0},
    "constraints": {"p99_latency_ms": 100, "min_rows": 10},
}


def binary(target: str = "churned", classes: tuple[str, str] = ("0", "1")) -> ProblemSpec:
    no, yes = classes
    return parse_problem(
        {
            **TERMS,
            "name": "churn",
            "task": "binary_classification",
            "target": target,
            "classes": list(classes),
            "value_matrix": {no: {no: 0, yes: -5}, yes: {no: 0, yes: 40}},
        }
    )


def regression(target: str = "spend") -> ProblemSpec:
    return parse_problem(
        {
            **TERMS,
            "name": "spend",
            "task": "regression",
            "target": target,
            "under_cost_per_unit": 2,
            "over_cost_per_unit": 1,
        }
    )


COLUMNS = ["age", "plan", "churned", "spend"]


def test_a_champion_of_the_same_problem_is_compared() -> None:
    assert champion.refusal("v0.0.2", binary(), ["age", "plan"], binary(), COLUMNS) is None


def test_a_champion_of_another_target_is_refused_with_the_line() -> None:
    refused = champion.refusal("v0.0.2", binary(), ["age"], binary(target="spent"), COLUMNS)
    assert refused == (
        "champion v0.0.2 is not comparable: its target is 'churned', this problem's is 'spent'"
    )


def test_a_champion_of_other_classes_task_or_inputs_is_refused() -> None:
    classes = champion.refusal("v1", binary(), [], binary(classes=("no", "yes")), COLUMNS)
    assert classes is not None and "its classes are ['0', '1'], this problem's are" in classes
    task = champion.refusal("v1", binary(target="spend"), [], regression(), COLUMNS)
    assert task is not None and "its task is 'binary_classification'" in task
    assert "classes" not in task  # another task: its classes say nothing more
    inputs = champion.refusal("v1", binary(), ["age", "tenure"], binary(), COLUMNS)
    assert inputs is not None and "its input columns ['tenure'] are not in the test split" in inputs
    for line in (classes, task, inputs):
        assert "\n" not in line


def test_the_champion_file_names_the_version_in_prod(tmp_path: Path) -> None:
    shipped = champion_file.write(None, tmp_path)
    assert json.loads(shipped.read_text()) == {
        "stage": "prod",
        "version": None,
        "tag": None,
        "commit": None,
    }
    assert champion_file.read(shipped) is None
    version = Version("churn-model", "v0.0.3", "a" * 40)
    assert champion_file.read(champion_file.write(version, tmp_path)) == version
    assert json.loads(shipped.read_text())["tag"] == "churn-model@v0.0.3"
    assert champion_file.read(tmp_path / "absent.json") is None


def test_a_damaged_champion_file_is_named(tmp_path: Path) -> None:
    damaged = tmp_path / "champion.json"
    damaged.write_text('{"version": "v0.0.3"}')
    with pytest.raises(RegistryError, match="expected the keys"):
        champion_file.read(damaged)


def test_a_champion_that_cannot_be_fetched_fails_with_the_fix(tmp_path: Path) -> None:
    version = Version("churn-model", "v0.0.2", "b" * 40)
    with pytest.raises(RegistryError) as err:
        champion_file.package(version, "run `dvc pull`", repo=tmp_path)
    message = str(err.value)
    assert "churn-model@v0.0.2" in message and message.endswith("run `dvc pull`")
    assert "\n" not in message


def test_the_champion_scores_the_current_test_split(
    pipeline_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workspace's own package as champion: the same rows give the candidate's figures."""
    monkeypatch.chdir(pipeline_run)
    params = load_params()
    packaged = artifact.load(Path("models/package"))
    test = read_table(Path("data/prepared/test.parquet"))
    scored = champion.score(packaged, params.problem, test, test[params.problem.target])
    evaluated = json.loads(Path("metrics/evaluate.json").read_text())["test"]["model"]
    assert scored["rows"] == evaluated["rows"] == len(test)
    assert scored["value_per_1000"] == pytest.approx(evaluated["value_per_1000"])


# The other shipped problems (churn is the workspace's own run above), through packaging.
OTHER_TASKS = {"plan_change": "multiclass_classification", "spend": "regression"}
THROUGH_PACKAGE = ("define", "ingest", "prepare", "featurize", "train", "evaluate", "package")


@pytest.mark.parametrize("problem", list(OTHER_TASKS))
def test_the_champion_of_each_task_scores_the_split_as_evaluate_did(
    problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A multiclass and a regression package, in prod, score the current test split to the
    figures evaluate gave the same model (the registry walk's comparison, per task)."""
    overrides = [f"problem={problem}", *SMALL_DEMO, "model=lightgbm", "model.n_estimators=40"]
    params: Params = parse_params(composed(example_overrides(tuple(overrides)), ROOT / "conf"))
    assert params.problem.task == OTHER_TASKS[problem]
    run_pipeline(ROOT, tmp_path, params, THROUGH_PACKAGE)
    monkeypatch.chdir(tmp_path)
    packaged = artifact.load(Path("models/package"))
    test = read_table(Path("data/prepared/test.parquet"))
    scored = champion.score(packaged, params.problem, test, test[params.problem.target])
    evaluated = json.loads(Path("metrics/evaluate.json").read_text())["test"]["model"]
    assert scored["rows"] == evaluated["rows"] == len(test)
    for figure, value in evaluated.items():
        if isinstance(value, float):
            assert scored[figure] == pytest.approx(value), figure
