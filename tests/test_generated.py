"""Each task, rendered and run for real: lint, its own tests, the whole pipeline.

What the library does alike for every task (reruns, experiments, the queue, gates, the
registry walk, the load test) runs on the default task's render only; the per-task parts
of it (a champion of each task scored as evaluate scored it, each task's policy and
metrics) are the library's own tests.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import GeneratedEnv, bake, finished_queue, run

TASKS = {
    "binary_classification": "churn_bin",
    "multiclass_classification": "plan_multi",
    "regression": "spend_reg",
}
# The regression render also carries free text that breaks naive templating (quotes,
# backslashes, triple quotes, markup, non-ASCII): it must still lint, test and run.
HOSTILE = {
    "project_name": 'Spend "reg" <b>',
    "project_slug": "spend-reg",
    "description": 'Spend for "Project X" in C:\\New folder, a """docstring""", ${price} and '
                   "<script>alert(1)</script>: 50% ünïcödé ✓",
    "author_name": 'Ops \\ Data "Team" O\'Brien',
    "author_email": "ops.team+ml@example.co.uk",
}
STAGES = ("define", "ingest", "validate_raw", "prepare", "featurize", "validate_features",
          "train", "evaluate", "package", "validate_production", "monitor")


QUEUED_MARKER = "bands from the queued copy"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def on_the_default_task_only(project: Path, what: str) -> None:
    """Skip on the other tasks' renders: `what` is the library's, the same for every task
    (its per-task parts are the library's own tests)."""
    if "churn" not in project.name:
        pytest.skip(f"{what} does not depend on the task: the default task's render proves it")


@pytest.fixture(scope="module", params=list(TASKS))
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            generated_env: GeneratedEnv) -> Path:
    task = request.param
    module = TASKS[task]
    answers = HOSTILE if task == "regression" else {"project_name": module.replace("_", " ")}
    rendered = bake(tmp_path_factory.mktemp(task), task=task, module_name=module, **answers)
    generated_env.install(rendered)
    return rendered


def test_lint_and_own_tests_pass(project: Path, generated_env: GeneratedEnv) -> None:
    if "churn" in project.name:
        pytest.skip("the default task's lint and tests run as steps of its CI workflow (test_ci)")
    venv = f"VENV={generated_env.root}"
    generated_env.run(["make", "lint", venv], cwd=project)
    generated_env.run(["make", "check-params", venv], cwd=project)
    # The dask engine's tests start clusters: the default task's render runs them (test_ci).
    without_dask = {**generated_env.env(), "PYTEST_ADDOPTS": "-m 'not dask'"}
    result = run(["make", "test", venv], cwd=project, env=without_dask)
    assert " passed" in result.stdout and " failed" not in result.stdout


# The registry's artifact descriptions, as DVC reads dvc.yaml (interpolated).
ARTIFACT_DESCRIPTIONS = """
import json
from dvc.repo import Repo
print(json.dumps({name: found.desc for name, found in Repo(".").artifacts.read()["dvc.yaml"].items()}))
"""


def test_free_text_answers_arrive_exactly_in_every_file_type(project: Path,
                                                              generated_env: GeneratedEnv) -> None:
    if "spend" not in project.name:
        pytest.skip("the regression render carries the hostile answers")
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert meta["description"] == HOSTILE["description"]
    assert meta["authors"] == [{"name": HOSTILE["author_name"], "email": HOSTILE["author_email"]}]
    described = generated_env.run(["python", "-c", ARTIFACT_DESCRIPTIONS], cwd=project).stdout
    assert json.loads(described) == {"spend-reg": HOSTILE["description"]}  # `${price}` too
    readme = (project / "README.md").read_text().splitlines()
    assert readme[0] == '# Spend "reg" &lt;b&gt;' and "&lt;script&gt;" in readme[2]
    assert HOSTILE["author_name"] in (project / "LICENSE").read_text()
    author = subprocess.run(["git", "log", "--format=%an <%ae>"], cwd=project, check=True,
                            capture_output=True, text=True).stdout.strip()
    assert author == f"{HOSTILE['author_name']} <{HOSTILE['author_email']}>"


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
    for section in ("Fairness", "Robustness", "Resource efficiency"):
        assert f"<h2>{section}</h2>" in card
    assert any(c["name"].startswith("fairness_gap_") for c in verdict["criteria"])
    assert evaluation["cost"]["package_model_bytes"] > 0 and evaluation["fairness"]["region"]

    metadata = read_json(project / "models/package/metadata.json")
    assert metadata["verdict"]["passed"] and len(metadata["sha256"]) == 64
    monitor = read_json(project / "reports/monitor.json")
    assert set(monitor["drifted"]) == {"monthly_charges", "usage_hours", "region"}
    assert (project / "reports/monitor.html").read_text().startswith("<!doctype html>")
    # Step 3's exploratory report and the selection it led to (conf/features/demo.yaml).
    assert (project / "reports/eda.html").read_text().startswith("<!doctype html>")
    assert "days_since_last_login" in read_json(project / "reports/selection.json")["dropped"]

    again = generated_env.run(["dvc", "repro"], cwd=project).stdout
    assert "Data and pipelines are up to date." in again
    assert "Running stage" not in again


BEFORE_FEATURES = set(STAGES[: STAGES.index("featurize")])


def out_of_date(project: Path, generated_env: GeneratedEnv) -> set[str]:
    """The stages `dvc status` finds changed (each one's own deps or params)."""
    return set(json.loads(generated_env.run(["dvc", "status", "--json"], cwd=project).stdout))


def test_dvc_reruns_exactly_what_a_change_touches(project: Path,
                                                  generated_env: GeneratedEnv) -> None:
    """The team's derived feature: featurize and every stage after it, nothing before;
    a new library version (a changed uv.lock): every stage."""
    on_the_default_task_only(project, "the stages' dependencies")
    assert out_of_date(project, generated_env) == set()
    features = project / "src/churn_bin/features.py"
    lock = project / "uv.lock"
    original, locked = features.read_text(), lock.read_text()
    try:
        features.write_text(original.replace('return [f"<{edges[0]}"', 'return [f"below {edges[0]}"'))
        assert out_of_date(project, generated_env) == set(STAGES) - BEFORE_FEATURES
        features.write_text(original)
        lock.write_text(locked + "# a new mllifecycle version\n")
        assert out_of_date(project, generated_env) == set(STAGES)
    finally:
        features.write_text(original)
        lock.write_text(locked)
    assert out_of_date(project, generated_env) == set()


def test_experiment_with_another_candidate_changes_the_metrics(project: Path,
                                                               generated_env: GeneratedEnv) -> None:
    on_the_default_task_only(project, "an experiment and keeping it")
    before = read_json(project / "metrics/evaluate.json")["test"]["model"]
    output = generated_env.run(["dvc", "exp", "run", "-S", "model=linear"], cwd=project).stdout
    assert "Running stage 'train'" in output and "Running stage 'ingest'" not in output
    assert yaml.safe_load((project / "params.yaml").read_text())["model"]["name"] == "linear"
    after = read_json(project / "metrics/evaluate.json")["test"]["model"]
    assert after["value_per_1000"] != before["value_per_1000"]
    shown = generated_env.run(["dvc", "exp", "show", "--json"], cwd=project).stdout
    assert "linear" in shown and "reports/eda.json" in shown  # the EDA figures, compared

    # Keeping it writes conf/ so that params.yaml is its composition: nothing to rerun.
    make = ["make", f"VENV={generated_env.root}"]
    stale = generated_env.run([*make, "check-params"], cwd=project, check=False)
    assert stale.returncode != 0 and "make keep NAME=" in stale.stderr
    preset = project / "conf/experiment/linear-candidate.yaml"
    try:
        kept = generated_env.run([*make, "keep", "NAME=linear-candidate"], cwd=project).stdout
        assert "model=linear" in kept
        assert yaml.safe_load(preset.read_text())["defaults"] == [{"override /model": "linear"}]
        assert "- experiment: linear-candidate" in (project / "conf/config.yaml").read_text()
        generated_env.run([*make, "check-params"], cwd=project)
        # The repo's own tests accept the preset it wrote (they run what conf/ selects).
        without_dask = {**generated_env.env(), "PYTEST_ADDOPTS": "-m 'not dask'"}
        tested = run([*make, "test"], cwd=project, env=without_dask)
        assert " passed" in tested.stdout and " failed" not in tested.stdout, tested.stdout
        status = generated_env.run(["dvc", "status"], cwd=project).stdout
        assert "Data and pipelines are up to date." in status, status
        written = (project / "params.yaml").read_text()
        generated_env.run([*make, "params"], cwd=project)
        assert (project / "params.yaml").read_text() == written  # byte for byte, header too
    finally:  # later tests on this render start from the default candidate's conf/
        generated_env.run(["git", "checkout", "conf/config.yaml"], cwd=project)
        preset.unlink(missing_ok=True)


def test_a_two_point_sweep_runs_through_the_queue(project: Path,
                                                 generated_env: GeneratedEnv) -> None:
    """Queued experiments run in a copy of the repo, and run that copy's code: a line the
    team's derived feature prints when queued is in their logs, though the workspace lost
    it before they ran (the editable install points at the workspace)."""
    on_the_default_task_only(project, "the queue")
    features = project / "src/churn_bin/features.py"
    original = features.read_text()
    features.write_text(original + f'\nprint("{QUEUED_MARKER}")\n')
    try:
        generated_env.run(["dvc", "exp", "run", "--queue", "-S", "model=linear",
                           "-S", "model.C=0.05,5.0"], cwd=project)
    finally:
        features.write_text(original)
    generated_env.run(["dvc", "queue", "start", "-j", "1"], cwd=project)
    status = finished_queue(project, generated_env)
    assert status.count("Success") == 2, status
    task = next(line.split()[0] for line in status.splitlines() if "Success" in line)
    logs = generated_env.run(["dvc", "queue", "logs", task], cwd=project).stdout
    assert QUEUED_MARKER in logs and "Running stage 'featurize'" in logs, logs[-3000:]
    shown = json.loads(generated_env.run(["dvc", "exp", "show", "--json"], cwd=project).stdout)
    runs = {}
    for baseline in shown:
        for experiment in baseline.get("experiments") or []:
            for rev in experiment["revs"]:
                data = rev["data"]
                model = data["params"]["params.yaml"]["data"]["model"]
                value = data["metrics"]["metrics/evaluate.json"]["data"]["test"]["model"]
                runs[(model["name"], model.get("C"))] = value["value_per_1000"]
    assert {("linear", 0.05), ("linear", 5.0)} <= set(runs)
    assert runs[("linear", 0.05)] != runs[("linear", 5.0)]


def test_training_never_reads_the_test_split(project: Path, generated_env: GeneratedEnv) -> None:
    on_the_default_task_only(project, "the train stage's inputs")
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    assert not [d for d in stages["train"]["deps"] if "test" in d]
    # and it really does not: train succeeds with the test split gone
    test_split = project / "data/features/test.parquet"
    saved = test_split.read_bytes()
    test_split.unlink()
    try:
        generated_env.run(["python", "-m", "mllifecycle.stages.train"], cwd=project)
    finally:
        test_split.write_bytes(saved)


def test_a_failed_gate_stops_the_pipeline_and_loses_nothing(project: Path,
                                                            generated_env: GeneratedEnv) -> None:
    on_the_default_task_only(project, "a failed gate")
    suite_path = project / "gx/expectations/raw.json"
    original = suite_path.read_text()
    packaged = (project / "models/package/model.skops").read_bytes()
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
    assert (project / "models/package/model.skops").read_bytes() == packaged



def served_version(project: Path, generated_env: GeneratedEnv, stage: str = "prod") -> dict[str, Any]:
    """Start the real service for `stage` on a loopback port; return its /metadata."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**generated_env.env(), "SERVE_STAGE": stage}
    server = subprocess.Popen([str(generated_env.bin / "python"), "-m", "mllifecycle.serving",
                               "--port", str(port)], cwd=project, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        assert server.poll() is None, server.communicate()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metadata", timeout=5) as answer:
            return json.loads(answer.read())
    finally:
        server.terminate()
        server.wait(timeout=10)


def refused_to_serve(project: Path, generated_env: GeneratedEnv, stage: str = "prod") -> str:
    """Start the real service for `stage`, which must exit non-zero at start-up; its output."""
    env = {**generated_env.env(), "SERVE_STAGE": stage}
    result = subprocess.run([str(generated_env.bin / "python"), "-m", "mllifecycle.serving",
                             "--port", "0"], cwd=project, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0, result.stdout + result.stderr
    return result.stderr


def commit_and_register(project: Path, generated_env: GeneratedEnv, message: str) -> str:
    generated_env.run(["git", "add", "-A"], cwd=project)
    generated_env.run(["git", "commit", "-q", "-m", message], cwd=project)
    output = generated_env.run(["make", "register", f"VENV={generated_env.root}"], cwd=project).stdout
    registered = re.search(r"^registered [a-z0-9-]+@(v\d+\.\d+\.\d+) at", output, re.MULTILINE)
    assert registered, output
    return registered.group(1)


def test_registry_promotes_refuses_serves_and_rolls_back(project: Path,
                                                         generated_env: GeneratedEnv) -> None:
    on_the_default_task_only(project, "the registry walk")
    make = ["make", f"VENV={generated_env.root}"]
    champion = project / "models/champion.json"
    assert read_json(champion)["version"] is None  # shipped: no champion yet
    ran = generated_env.run(["dvc", "exp", "run", "-S", "model=lightgbm"], cwd=project).stdout
    before_promotion = re.search(r"Ran experiment\(s\): (\S+)", ran)
    assert before_promotion, ran
    good = commit_and_register(project, generated_env, "lightgbm candidate")
    good_value = read_json(project / "metrics/evaluate.json")["test"]["model"]["value_per_1000"]
    # The tag records the package's digest: every later load by version is checked with it.
    name = next(iter(yaml.safe_load((project / "dvc.yaml").read_text())["artifacts"]))
    tag_message = generated_env.run(["git", "for-each-ref", "--format=%(contents)",
                                     f"refs/tags/{name}@{good}"], cwd=project).stdout
    digest = read_json(project / "models/package/metadata.json")["digest"]
    assert f"package-digest: sha256:{digest}" in tag_message, tag_message
    promoted = generated_env.run([*make, "promote", f"VERSION={good}", "STAGE=prod"], cwd=project)
    assert f"models/champion.json now names {good}: commit it" in promoted.stdout
    assert read_json(champion)["version"] == good and read_json(champion)["tag"].endswith(good)

    # A useless model fails on the baseline and against the champion; prod refuses it.
    generated_env.run(["dvc", "exp", "run", "-S", "model=dummy"], cwd=project)
    verdict = read_json(project / "reports/verdict.json")
    failed = {c["name"] for c in verdict["criteria"] if not c["passed"]}
    assert {"uplift_per_1000_over_baseline", "not_worse_than_champion"} <= failed
    assert not verdict["passed"] and not verdict["promotable"]
    # The champion's package scored this run's test split: the same rows, the same value.
    assert verdict["champion"]["version"] == good and verdict["champion"]["refused"] is None
    scored = read_json(project / "metrics/evaluate.json")["test"]["champion"]
    assert scored["value_per_1000"] == pytest.approx(good_value)
    assert f"champion {good}" in (project / "reports/model_card.md").read_text()
    assert read_json(project / "reports/monitor.json")["judged"]["version"] == good
    assert not read_json(project / "models/package/metadata.json")["verdict"]["promotable"]
    useless = commit_and_register(project, generated_env, "dummy candidate")
    refused = generated_env.run([*make, "promote", f"VERSION={useless}", "STAGE=prod"],
                                cwd=project, check=False)
    assert refused.returncode != 0
    assert f"@{useless} failed its evaluation verdict" in refused.stderr
    assert "uplift_per_1000_over_baseline: observed" in refused.stderr
    generated_env.run([*make, "promote", f"VERSION={useless}", "STAGE=staging"], cwd=project)
    assert served_version(project, generated_env)["model_version"] == good

    # GTO's own command is a side door past `make promote`: the service still refuses it,
    # and so does batch scoring, each in one line naming the version and what failed.
    generated_env.run(["gto", "assign", name, "--version", useless, "--stage", "prod"],
                      cwd=project)
    for output in (
        refused_to_serve(project, generated_env),
        generated_env.run([*make, "score", "INPUT=data/raw/production.parquet",
                           "OUTPUT=build/scored.csv"], cwd=project, check=False).stderr,
    ):
        line = next(line for line in output.splitlines() if "failed its evaluation" in line)
        assert f"@{useless} failed its evaluation verdict" in line, output
        assert "uplift_per_1000_over_baseline: observed" in line, output
        assert "no recorded override" in line and "make rollback" in line, output
    assert not (project / "build/scored.csv").exists()
    withdrawn = generated_env.run([*make, "rollback"], cwd=project).stdout
    assert f"withdrew {useless}, {good} serves again" in withdrawn
    assert served_version(project, generated_env)["model_version"] == good

    # With a recorded override it may go to prod; then one command takes it back.
    generated_env.run(["dvc", "exp", "run", "-S", "model=dummy",
                       "-S", "evaluate.accept_failed_verdict.approved_by=head-of-retention",
                       "-S", "evaluate.accept_failed_verdict.reason=pilot"], cwd=project)
    recorded = read_json(project / "models/package/metadata.json")["verdict"]
    assert not recorded["passed"] and recorded["promotable"]
    assert recorded["override"] == {"approved_by": "head-of-retention", "reason": "pilot"}
    accepted = commit_and_register(project, generated_env, "dummy, accepted for a pilot")
    generated_env.run([*make, "promote", f"VERSION={accepted}", "STAGE=prod"], cwd=project)
    assert read_json(champion)["version"] == accepted
    status = generated_env.run(["git", "status", "--short"], cwd=project).stdout
    assert "models/champion.json" in status  # to commit, as promote said
    live = served_version(project, generated_env)
    assert live["model_version"] == accepted and not live["verdict_passed"]

    rolled = generated_env.run([*make, "rollback"], cwd=project).stdout
    assert f"withdrew {accepted}, {good} serves again" in rolled
    assert read_json(champion)["version"] == good
    assert served_version(project, generated_env)["model_version"] == good
    shown = generated_env.run([*make, "registry"], cwd=project).stdout
    assert f"prod       {good}" in shown and f"staging    {useless}" in shown

    # `dvc exp apply` of an experiment made before the promotion rewrites the champion
    # file to no version, and DVC finds nothing to rerun: the project's repro stops first.
    committed = generated_env.run(["git", "show", "HEAD:models/champion.json"], cwd=project)
    assert json.loads(committed.stdout)["version"] == good  # prod, as committed
    generated_env.run(["dvc", "exp", "apply", before_promotion.group(1)], cwd=project)
    assert read_json(champion)["version"] is None
    stopped = generated_env.run([*make, "repro"], cwd=project, check=False)
    assert stopped.returncode != 0
    assert (f"models/champion.json names no version but the registry has {name}@{good} in "
            "prod") in stopped.stderr, stopped.stderr
    # Back to the commit (files and DVC's outputs) for the tests that share this render.
    generated_env.run(["git", "checkout", "--", "."], cwd=project)
    generated_env.run(["dvc", "checkout", "-q"], cwd=project)
    assert read_json(champion)["version"] == good


def test_loadtest_judges_p99_against_the_limit(project: Path, generated_env: GeneratedEnv) -> None:
    on_the_default_task_only(project, "the load test's judgement")
    loadtest = [str(generated_env.bin / "python"), "-m", "mllifecycle.serving.loadtest", "--seconds", "4"]
    generous = generated_env.run([*loadtest, "--p99-limit-ms", "60000"], cwd=project)
    assert ", 0 failed," in generous.stdout
    report = read_json(project / "reports/loadtest.json")
    assert report["passed"] and report["requests"] > 0 and report["p99_ms"] > 0
    impossible = generated_env.run([*loadtest, "--p99-limit-ms", "0.001"], cwd=project, check=False)
    assert impossible.returncode != 0 and "loadtest: FAILED" in impossible.stderr


SHIFT_BATCH = """
import pandas as pd, yaml
pd.read_parquet("data/raw/dataset.parquet").to_parquet("data/external/history.parquet")
batch = pd.read_parquet("data/raw/production.parquet")
batch.assign(monthly_charges=batch["monthly_charges"] * 100).to_parquet("data/external/cents.parquet")
params = yaml.safe_load(open("params.yaml"))
params["data"].update(source="file", path="data/external/history.parquet",
                      production_path="data/external/cents.parquet")
yaml.safe_dump(params, open("params.yaml", "w"), sort_keys=False)
"""


def test_a_shifted_production_batch_fails_its_check_and_blocks_no_retrain(
        project: Path, generated_env: GeneratedEnv) -> None:
    """Charges in cents in the production batch only: under `make retrain` every training
    stage runs, the production check stops with one line naming the column, the monitor
    is not run on it by DVC and, run by hand, names the failed check beside the drift."""
    on_the_default_task_only(project, "the production check")
    params = (project / "params.yaml").read_text()
    # conf/'s own choice: an earlier test may have left an experiment's params behind.
    generated_env.run(["make", "params", f"VENV={generated_env.root}"], cwd=project)
    generated_env.run(["dvc", "repro", "define", "ingest"], cwd=project)  # what a retrain finds
    try:
        generated_env.run(["python", "-c", SHIFT_BATCH], cwd=project)
        result = generated_env.run(["make", "retrain", f"VENV={generated_env.root}"],
                                   cwd=project, check=False)
        for stage in ("prepare", "featurize", "validate_features", "train", "evaluate", "package"):
            assert f"Running stage '{stage}'" in result.stdout, result.stdout
        assert result.returncode != 0 and "Running stage 'monitor'" not in result.stdout
        assert "stage 'validate_production' failed" in result.stderr
        skew = next(line for line in result.stderr.splitlines() if "production_matches_training" in line)
        assert "production vs training (suite 'skew'): column 'monthly_charges'" in skew
        assert "training std apart" in skew
        assert read_json(project / "models/package/metadata.json")["verdict"]["passed"]

        shown = generated_env.run(["python", "-m", "mllifecycle.stages.monitor"], cwd=project).stdout
        assert "the batch failed its production checks" in shown
        checks = read_json(project / "reports/monitor.json")["production_checks"]
        assert not checks["passed"] and "column 'monthly_charges'" in " ".join(checks["failures"])
        assert "failed its production checks" in (project / "reports/monitor.html").read_text()
    finally:
        (project / "params.yaml").write_text(params)
        for name in ("history.parquet", "cents.parquet"):
            (project / "data/external" / name).unlink(missing_ok=True)


@pytest.mark.parametrize("python_version", ["3.10", "3.13"])
def test_lint_holds_for_other_answers(tmp_path: Path, generated_env: GeneratedEnv,
                                      python_version: str) -> None:
    """The oldest and newest supported targets, with names at their longest (64 characters:
    lines that must wrap), and the formatter over the whole repo (README code blocks too)."""
    rendered = bake(tmp_path, python_version=python_version,
                    project_slug="-".join(["a-rather-long-name"] * 3) + "-churn-o",
                    module_name="a_rather_long_module_name_for_a_churn_project_that_has_64_chars_",
                    dvc_remote="s3", dvc_remote_url="s3://ml-data/churn", license="Apache-2.0")
    generated_env.run(["make", "lint", f"VENV={generated_env.root}"], cwd=rendered)
    generated_env.run(["ruff", "format", "--check", "."], cwd=rendered)
