"""Each task, rendered and run for real: lint, its own tests, the pipeline, an experiment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import GeneratedEnv, bake

TASKS = {
    "binary_classification": "churn_bin",
    "multiclass_classification": "plan_multi",
    "regression": "spend_reg",
}
STAGES = ("define", "ingest", "validate_raw", "prepare", "featurize", "validate_features",
          "train", "evaluate", "package", "monitor")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.fixture(scope="module", params=list(TASKS))
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            generated_env: GeneratedEnv) -> Path:
    task = request.param
    module = TASKS[task]
    rendered = bake(tmp_path_factory.mktemp(task), task=task, project_name=module.replace("_", " "),
                    module_name=module)
    generated_env.install(rendered)
    return rendered


def test_lint_and_own_tests_pass(project: Path, generated_env: GeneratedEnv) -> None:
    venv = f"VENV={generated_env.root}"
    generated_env.run(["make", "lint", venv], cwd=project)
    generated_env.run(["make", "check-params", venv], cwd=project)
    result = generated_env.run(["make", "test", venv], cwd=project)
    assert " passed" in result.stdout and " failed" not in result.stdout


def test_pipeline_runs_every_stage_and_beats_the_baseline(project: Path,
                                                          generated_env: GeneratedEnv) -> None:
    output = generated_env.run(["dvc", "repro"], cwd=project).stdout
    ran = [stage for stage in STAGES if f"Running stage '{stage}'" in output]
    assert ran == list(STAGES)

    evaluation = read_json(project / "metrics/evaluate.json")
    model = evaluation["test"]["model"]
    for baseline in ("dummy", "rule"):
        assert model["value_per_1000"] > evaluation["test"][baseline]["value_per_1000"]
    verdict = read_json(project / "reports/verdict.json")
    assert verdict["passed"] and verdict["promotable"], verdict["criteria"]
    assert {c["name"] for c in verdict["criteria"]} >= {"uplift_per_1000_over_baseline",
                                                        "slices_below_floor"}
    card = (project / "reports/model_card.html").read_text()
    assert "Sign-off" in card and card.count("<svg") >= 2

    metadata = read_json(project / "models/package/metadata.json")
    assert metadata["verdict"]["passed"] and len(metadata["sha256"]) == 64
    monitor = read_json(project / "reports/monitor.json")
    assert set(monitor["drifted"]) == {"monthly_charges", "usage_hours", "region"}
    assert (project / "reports/monitor.html").read_text().startswith("<!doctype html>")

    again = generated_env.run(["dvc", "repro"], cwd=project).stdout
    assert "Data and pipelines are up to date." in again
    assert "Running stage" not in again


def test_experiment_with_another_candidate_changes_the_metrics(project: Path,
                                                               generated_env: GeneratedEnv) -> None:
    before = read_json(project / "metrics/evaluate.json")["test"]["model"]
    output = generated_env.run(["dvc", "exp", "run", "-S", "model=linear"], cwd=project).stdout
    assert "Running stage 'train'" in output and "Running stage 'ingest'" not in output
    assert yaml.safe_load((project / "params.yaml").read_text())["model"]["name"] == "linear"
    after = read_json(project / "metrics/evaluate.json")["test"]["model"]
    assert after["value_per_1000"] != before["value_per_1000"]
    shown = generated_env.run(["dvc", "exp", "show", "--json"], cwd=project).stdout
    assert "linear" in shown


def test_training_never_reads_the_test_split(project: Path, generated_env: GeneratedEnv) -> None:
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    assert not [d for d in stages["train"]["deps"] if "test" in d]
    # and it really does not: train succeeds with the test split gone
    test_split = project / "data/features/test.parquet"
    saved = test_split.read_bytes()
    test_split.unlink()
    try:
        module = next((project / "src").iterdir()).name
        generated_env.run(["python", "-m", f"{module}.stages.train"], cwd=project)
    finally:
        test_split.write_bytes(saved)


def test_a_failed_gate_stops_the_pipeline_and_loses_nothing(project: Path,
                                                            generated_env: GeneratedEnv) -> None:
    suite_path = project / "gx/expectations/raw.json"
    original = suite_path.read_text()
    packaged = (project / "models/package/model.joblib").read_bytes()
    suite = json.loads(original)
    for rule in suite["expectations"]:
        if rule["kwargs"].get("column") == "monthly_charges" and "max_value" in rule["kwargs"]:
            rule["kwargs"]["max_value"] = 100  # the demo has charges above 100
    suite_path.write_text(json.dumps(suite, indent=2))
    try:
        result = generated_env.run(["dvc", "repro"], cwd=project, check=False)
    finally:
        suite_path.write_text(original)
    assert result.returncode != 0
    assert "stage 'validate_raw' failed" in result.stderr
    assert "column 'monthly_charges': expect_column_values_to_be_between" in result.stderr
    assert "max_value=100" in result.stderr and "rows unexpected, e.g." in result.stderr
    for downstream in ("prepare", "train", "package"):
        assert f"Running stage '{downstream}'" not in result.stdout
    assert (project / "models/package/model.joblib").read_bytes() == packaged



def test_a_useless_model_fails_the_verdict_until_someone_accepts_it(
    project: Path, generated_env: GeneratedEnv
) -> None:
    generated_env.run(["dvc", "exp", "run", "-S", "model=dummy"], cwd=project)
    verdict = read_json(project / "reports/verdict.json")
    failed = {c["name"] for c in verdict["criteria"] if not c["passed"]}
    assert "uplift_per_1000_over_baseline" in failed
    assert not verdict["passed"] and not verdict["promotable"]
    assert not read_json(project / "models/package/metadata.json")["verdict"]["promotable"]

    generated_env.run(["dvc", "exp", "run", "-S", "model=dummy",
                       "-S", "evaluate.accept_failed_verdict.approved_by=head-of-retention",
                       "-S", "evaluate.accept_failed_verdict.reason=pilot-on-one-region"], cwd=project)
    recorded = read_json(project / "models/package/metadata.json")["verdict"]
    assert not recorded["passed"] and recorded["promotable"]
    assert recorded["override"] == {"approved_by": "head-of-retention", "reason": "pilot-on-one-region"}

@pytest.mark.parametrize("python_version", ["3.10", "3.13"])
def test_lint_holds_for_other_answers(tmp_path: Path, generated_env: GeneratedEnv,
                                      python_version: str) -> None:
    """The oldest and newest supported targets, with a module name long enough to wrap lines."""
    rendered = bake(tmp_path, python_version=python_version,
                    module_name="a_rather_long_module_name_for_a_churn_project",
                    dvc_remote="s3", dvc_remote_url="s3://ml-data/churn", license="Apache-2.0")
    generated_env.run(["make", "lint", f"VENV={generated_env.root}"], cwd=rendered)
