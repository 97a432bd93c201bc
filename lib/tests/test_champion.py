"""The champion: a git-tracked record, refused when it answers another problem, and
scored on the current test split (not on the figures of its own run)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mllifecycle import cli, compose
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
from mllifecycle.evaluation.assessment import champion_to_compare
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
    scored, _ = champion.scored(packaged, params.problem, test, test[params.problem.target])
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
    scored, _ = champion.scored(packaged, params.problem, test, test[params.problem.target])
    evaluated = json.loads(Path("metrics/evaluate.json").read_text())["test"]["model"]
    assert scored["rows"] == evaluated["rows"] == len(test)
    for figure, value in evaluated.items():
        if isinstance(value, float):
            assert scored[figure] == pytest.approx(value), figure


def git_in(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def registry_with_one_version_in_prod(repo: Path) -> Version:
    """A repository whose tags say churn-model@v0.0.1 is in prod."""
    (repo / "models").mkdir(parents=True)
    (repo / "dvc.yaml").write_text(
        "artifacts:\n  churn-model:\n    path: models/package\n    type: model\n"
    )
    champion_file.write(None, repo)
    git_in(repo, "init", "-q")
    for key, value in (("user.name", "t"), ("user.email", "t@example.com")):
        git_in(repo, "config", key, value)
    git_in(repo, "add", "-A")
    git_in(repo, "commit", "-qm", "first")
    git_in(repo, "tag", "-a", "churn-model@v0.0.1", "-m", "registered")
    git_in(repo, "tag", "-a", "churn-model#prod#1", "-m", "promoted")
    return Version("churn-model", "v0.0.1", git_in(repo, "rev-parse", "HEAD"))


def test_the_champion_file_must_agree_with_the_registry(tmp_path: Path) -> None:
    """`dvc exp apply` of an experiment made before a promotion rewrote the file to no
    version, and a hand edit can name another: evaluate and monitor would then compare with
    (or judge) the wrong model. Where the tags are, a disagreement names both."""
    repo = tmp_path / "repo"
    in_prod = registry_with_one_version_in_prod(repo)
    with pytest.raises(RegistryError) as stale:
        champion_file.verified(repo)
    assert str(stale.value).startswith(
        "models/champion.json names no version but the registry has churn-model@v0.0.1 in prod"
    )
    champion_file.write(Version("churn-model", "v0.0.2", in_prod.commit), repo)
    with pytest.raises(RegistryError, match=r"names churn-model@v0\.0\.2 but the registry has"):
        champion_file.verified(repo)
    champion_file.write(in_prod, repo)
    assert champion_file.verified(repo) == in_prod
    # A copy without the registry's tags (a queued experiment's) takes the file as it is.
    git_in(repo, "tag", "-d", "churn-model@v0.0.1", "churn-model#prod#1")
    assert champion_file.verified(repo) == in_prod


def test_evaluate_stops_on_a_champion_file_the_registry_disagrees_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    registry_with_one_version_in_prod(repo)
    monkeypatch.chdir(repo)
    params = load_params(ROOT / "params.yaml")
    with pytest.raises(RegistryError, match="names no version but the registry has"):
        champion_to_compare(params, [])


def test_repro_stops_before_dvc_when_the_champion_file_disagrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """After `dvc exp apply`, DVC finds nothing to rerun (the experiment's dvc.lock recorded
    the old file): the project's `repro` (make repro) checks the file first."""
    repo = tmp_path / "repo"
    registry_with_one_version_in_prod(repo)
    shutil.copytree(ROOT / "conf", repo / "conf")
    monkeypatch.chdir(repo)
    assert compose.write_params([]) == 0
    assert cli.main(["repro"]) == 1
    assert "repro: models/champion.json names no version but the registry has" in (
        capsys.readouterr().err
    )
