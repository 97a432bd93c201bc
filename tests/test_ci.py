"""The generated CI, proven offline: workflows that lint and validate, the ci
workflow's steps run in order in a rendered repo on a simulated pull request,
GitLab running the same commands, and cruft following a template change."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.main import cookiecutter

from .conftest import QUIET_ENV, TEMPLATE, GeneratedEnv, bake, run, template_repo

ACTIONLINT = Path(sys.executable).parent / "actionlint"
WORKFLOWS = ("ci", "train", "monitor", "template-update")
REMOTES = {"none": "", "s3": "s3://ml-data/churn", "gcs": "gs://ml-data/churn",
           "azure": "azure://ml-data/churn"}
# What the ci workflow's expressions are on a pull request into main.
PULL_REQUEST = {"github.event_name": "pull_request", "github.base_ref": "main"}
# `make TARGET` as a command (line start, after ; && || or if/then), not `apt-get install make`.
MAKE_TARGET = re.compile(r"(?:^|[;&|]|\bif|\bthen)\s*make\s+(?:-s\s+)?([a-z][a-z-]*)", re.MULTILINE)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def make_targets(script: str) -> list[str]:
    return MAKE_TARGET.findall(script)


def expression(text: str) -> str:
    """Replace `${{ github.x }}` with its pull-request value."""
    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: PULL_REQUEST[m.group(1)], text)


def condition_holds(condition: str | None) -> bool:
    if condition is None:
        return True
    assert condition == "github.event_name == 'pull_request'", f"untested condition {condition}"
    return PULL_REQUEST["github.event_name"] == "pull_request"


@pytest.mark.parametrize("remote", list(REMOTES))
def test_workflows_pass_actionlint_and_their_schemas(tmp_path: Path, generated_env: GeneratedEnv,
                                                     remote: str) -> None:
    project = bake(tmp_path, dvc_remote=remote, dvc_remote_url=REMOTES[remote])
    workflows = project / ".github/workflows"
    assert sorted(p.stem for p in workflows.glob("*.yml")) == sorted(WORKFLOWS)
    run([str(ACTIONLINT), "-color=false"], cwd=project)
    schema = ["check-jsonschema", "--builtin-schema"]
    generated_env.run([*schema, "vendor.github-workflows", *map(str, workflows.glob("*.yml"))],
                      cwd=project)
    generated_env.run([*schema, "vendor.dependabot", ".github/dependabot.yml"], cwd=project)
    for name in WORKFLOWS:
        workflow = load_yaml(workflows / f"{name}.yml")
        assert workflow["permissions"], f"{name}: no top-level permissions"
        assert "write-all" not in str(workflow["permissions"])
        assert workflow["concurrency"]["group"]
        for job in workflow["jobs"].values():
            assert job["timeout-minutes"] <= 60
            for step in job["steps"]:
                if "uses" in step:  # pinned to a release, never a moving branch
                    assert re.fullmatch(r"[\w-]+/[\w-]+@v\d+", step["uses"]), step["uses"]
    secrets = (workflows / "train.yml").read_text()
    expected = {"none": None, "s3": "secrets.AWS_SECRET_ACCESS_KEY", "gcs": "secrets.GCP_SA_KEY",
                "azure": "secrets.AZURE_STORAGE_CONNECTION_STRING"}[remote]
    assert ("secrets." in secrets) == (expected is not None)
    if expected:
        assert expected in secrets


def test_every_ci_step_runs_in_order_on_a_pull_request(tmp_path: Path,
                                                       generated_env: GeneratedEnv) -> None:
    """actions/checkout with fetch-depth 0 is a clone; setup-python is the test's Python."""
    rendered = bake(tmp_path / "origin", module_name="churn_ci", project_name="churn ci")
    checkout = tmp_path / "checkout"
    run(["git", "clone", "-q", str(rendered), str(checkout)], cwd=tmp_path)
    env = {**generated_env.env(), "VENV": str(generated_env.root)}
    # The pull request: a smaller learning rate for the default model.
    run(["git", "switch", "-q", "-c", "smaller-steps"], cwd=checkout)
    model_conf = checkout / "conf/model/lightgbm.yaml"
    model_conf.write_text(model_conf.read_text().replace("learning_rate: 0.05",
                                                         "learning_rate: 0.03"))
    generated_env.install(checkout)
    generated_env.run(["churn-ci", "params"], cwd=checkout)
    run(["git", "commit", "-qam", "Smaller learning rate"], cwd=checkout, env=env)

    ran, report = run_ci_steps(checkout, generated_env, tmp_path)
    assert ran[0] == "Install" and ran[-1] == "Metrics and params against the base branch"

    assert "Evaluation metrics against `origin/main`" in report and "| criterion |" in report
    assert "test.model.value_per_1000" in report.split("<details>")[0]
    params = report.split("### Params against")[1]
    assert "model.learning_rate" in params and "0.05" in params and "0.03" in params
    assert (checkout / ".git/hooks/pre-commit").exists()  # `make setup` installed the hooks

    # The first commit after the pipeline ran passes its hooks as they are (dvc.lock too).
    run(["git", "add", "-A"], cwd=checkout, env=env)
    committed = run(["git", "commit", "-m", "Pipeline outputs"], cwd=checkout, env=env)
    assert "trailing whitespace" in committed.stdout + committed.stderr  # the hooks ran
    assert "dvc.lock" in run(["git", "show", "--stat", "HEAD"], cwd=checkout).stdout
    assert run(["git", "status", "--porcelain"], cwd=checkout).stdout == ""


def run_ci_steps(checkout: Path, generated_env: GeneratedEnv, scratch: Path) -> tuple[list[str], str]:
    """Every step of the ci job, in order, as on a pull request into main (its `uses:` steps
    are the clone and the Python this harness provides); the names run and the job summary."""
    workflow = load_yaml(checkout / ".github/workflows/ci.yml")
    summary = scratch / "step_summary.md"
    # The checkout's own .venv, as on a runner: `make setup` syncs it from uv.lock.
    env = {**generated_env.env(), **workflow["env"],
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_PATH": str(scratch / "github_path")}
    ran = []
    for step in workflow["jobs"]["ci"]["steps"]:
        if "uses" in step:
            assert step["uses"].split("@")[0] in {"actions/checkout", "actions/setup-python",
                                                  "actions/upload-artifact"}
            continue
        if not condition_holds(step.get("if")):
            continue
        step_env = {key: expression(str(value)) for key, value in step.get("env", {}).items()}
        run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=checkout, env={**env, **step_env})
        ran.append(step["name"])
    return ran, summary.read_text()


def test_gitlab_runs_the_same_commands(tmp_path: Path, generated_env: GeneratedEnv) -> None:
    github = load_yaml(bake(tmp_path / "gh") / ".github/workflows/ci.yml")
    gitlab_project = bake(tmp_path / "gl", ci="gitlab")
    gitlab = load_yaml(gitlab_project / ".gitlab-ci.yml")
    github_targets = [t for step in github["jobs"]["ci"]["steps"] if "run" in step
                      for t in make_targets(step["run"])]
    setup = gitlab[".python"]["before_script"]
    gitlab_targets = [t for line in [*setup, *gitlab["ci"]["script"]] for t in make_targets(line)]
    assert gitlab_targets == github_targets
    assert {"train", "monitor", "template-update"} <= set(gitlab)
    # every make target any job names exists in the Makefile
    named = {t for job in gitlab.values() if isinstance(job, dict)
             for line in [*job.get("before_script", []), *job.get("script", [])]
             for t in make_targets(line)}
    for target in sorted(named):
        run(["make", "-n", target], cwd=gitlab_project)
    generated_env.run(["check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", ".gitlab-ci.yml"],
                      cwd=gitlab_project)
    generated_env.run(["check-jsonschema", "--builtin-schema", "vendor.renovate", "renovate.json"],
                      cwd=gitlab_project)


def test_scheduled_workflows_name_real_commands(tmp_path: Path, generated_env: GeneratedEnv) -> None:
    project = bake(tmp_path)
    for name in ("monitor", "train"):
        steps = load_yaml(project / f".github/workflows/{name}.yml")["jobs"][name]["steps"]
        for target in {t for step in steps if "run" in step for t in make_targets(step["run"])}:
            run(["make", "-n", target], cwd=project)
    # the retrain command is valid DVC: every stage from ingest down, forced
    generated_env.install(project)
    dry = generated_env.run(["dvc", "repro", "--dry", "--force", "--downstream", "ingest"],
                            cwd=project).stdout
    assert "Running stage 'ingest'" in dry and "Running stage 'train'" in dry
    assert "Running stage 'define'" not in dry


@pytest.mark.parametrize("made_by", ["cookiecutter", "cruft create"])
def test_cruft_follows_a_template_change(tmp_path: Path, generated_env: GeneratedEnv,
                                         made_by: str) -> None:
    """A render made by plain cookiecutter (the hook writes .cruft.json) or by `cruft create`
    (which writes its own, without the hook's `skip`: pyproject's [tool.cruft] keeps it)."""
    template = template_repo(tmp_path / "template")
    git_env = {**generated_env.env(), **QUIET_ENV}
    if made_by == "cookiecutter":
        project = Path(cookiecutter(str(template), no_input=True, output_dir=str(tmp_path / "out")))
    else:
        generated_env.run(["cruft", "create", str(template), "--no-input", "--output-dir",
                           str(tmp_path / "out")], cwd=tmp_path)
        project = tmp_path / "out" / "customer-churn"
        run(["git", "commit", "-qam", "cruft's own .cruft.json"], cwd=project, env=git_env)
    generated_env.run(["cruft", "check"], cwd=project)

    readme = template / "{{cookiecutter.project_slug}}/README.md"
    readme.write_text(readme.read_text() + "\nA paragraph the template added later.\n")
    run(["git", "commit", "-qam", "Template: a new paragraph"], cwd=template, env=git_env)
    assert generated_env.run(["cruft", "check"], cwd=project, check=False).returncode != 0

    generated_env.run(["cruft", "update", "--skip-apply-ask"], cwd=project)
    assert "A paragraph the template added later." in (project / "README.md").read_text()
    generated_env.run(["cruft", "check"], cwd=project)
    changed = run(["git", "status", "--porcelain"], cwd=project).stdout
    assert "README.md" in changed and ".git/" not in changed and ".rej" not in changed


def test_template_ci_runs_make_test_on_every_supported_python() -> None:
    workflow_path = TEMPLATE / ".github/workflows/test.yml"
    run([str(ACTIONLINT), "-color=false", str(workflow_path)], cwd=TEMPLATE)
    workflow = load_yaml(workflow_path)
    job = workflow["jobs"]["test"]
    assert job["strategy"]["matrix"]["python-version"] == ["3.11", "3.12", "3.13"]
    assert any("bash .ci/run" in step.get("run", "") for step in job["steps"])


def test_gitlab_keeps_its_write_token_away_from_merge_request_code(tmp_path: Path,
                                                                     generated_env: GeneratedEnv) -> None:
    """GITLAB_TOKEN is scoped to the `gitlab-api` environment: only jobs that declare it
    see it, and none of those runs merge-request code."""
    project = bake(tmp_path, ci="gitlab")
    gitlab = load_yaml(project / ".gitlab-ci.yml")
    jobs = {name: job for name, job in gitlab.items() if isinstance(job, dict) and "script" in job}

    def text(job: dict[str, Any]) -> str:
        return yaml.safe_dump({k: job.get(k) for k in ("before_script", "script")})

    holders = {name for name, job in jobs.items() if "GITLAB_TOKEN" in text(job)}
    assert holders == {"comment", "monitor", "template-update"}
    for name in holders:
        assert jobs[name]["environment"]["name"] == "gitlab-api", name
    assert "environment" not in jobs["ci"] and "GITLAB_TOKEN" not in text(jobs["ci"])
    comment = jobs["comment"]
    assert comment["variables"]["GIT_STRATEGY"] == "none" and comment["needs"] == ["ci"]
    assert not [t for line in comment["script"] for t in make_targets(line)]  # runs no repo code
    scheduled = [rule["if"] for name in ("monitor", "template-update") for rule in jobs[name]["rules"]]
    assert all('$CI_PIPELINE_SOURCE == "schedule"' in rule for rule in scheduled)
    assert "environment scope is `gitlab-api`" in (project / ".gitlab-ci.yml").read_text()
    # A merge request runs its own copy of the file: only a protected environment keeps a
    # job it adds from declaring `gitlab-api`.
    for told in (project / ".gitlab-ci.yml", project / "README.md"):
        assert "protected environment" in " ".join(told.read_text().split()), told.name
    generated_env.run(["check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", ".gitlab-ci.yml"],
                      cwd=project)


def test_steps_that_commit_have_the_tools_their_hooks_run(tmp_path: Path) -> None:
    """`make setup` installs hooks that run the repo's tools (`language: system`): every job
    that installs them puts .venv/bin on PATH for its later steps, where commits happen."""
    github = bake(tmp_path / "gh")
    for path in sorted((github / ".github/workflows").glob("*.yml")):
        for name, job in load_yaml(path)["jobs"].items():
            runs = [step.get("run", "") for step in job["steps"]]
            installs = [i for i, script in enumerate(runs) if "make setup" in script]
            if not installs:
                continue
            assert '.venv/bin" >> "$GITHUB_PATH"' in runs[installs[0]], f"{path.name}:{name}"
    gitlab = load_yaml(bake(tmp_path / "gl", ci="gitlab") / ".gitlab-ci.yml")
    setup = gitlab[".python"]["before_script"]
    assert setup.index('export PATH="$PWD/.venv/bin:$PATH"') > setup.index("make setup PYTHON=python")


def test_common_secret_files_are_never_committed(tmp_path: Path) -> None:
    project = bake(tmp_path)
    secrets = [".env", ".env.production", ".envrc", ".netrc", ".pypirc", "server.pem", "tls.key",
               "id_rsa", "id_rsa.pub", "id_ed25519", "credentials.json", "gcp-credentials.json",
               "my-service-account.json", "keystore.p12", "conf/.env.local", ".pgpass",
               ".git-credentials", ".npmrc", "secrets.yaml", "conf/secrets.json", ".aws/credentials",
               ".kube/config", "kubeconfig", ".docker/config.json", "terraform.tfvars",
               "terraform.tfstate", "terraform.tfstate.backup", ".streamlit/secrets.toml"]
    for name in secrets:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("secret\n")
    (project / ".env.example").write_text("DATABASE_URL=\n")
    ignored = run(["git", "check-ignore", *secrets, ".env.example"], cwd=project, check=False)
    assert sorted(ignored.stdout.split()) == sorted(secrets)


def test_experiment_overrides_reach_dvc_as_data(tmp_path: Path, generated_env: GeneratedEnv) -> None:
    """A workflow input holding shell and make syntax neither runs it nor breaks quoting:
    `make experiment` reads OVERRIDES from the environment and DVC gets one -S per word."""
    project = bake(tmp_path, module_name="churn_overrides", project_name="churn overrides")
    generated_env.install(project)
    steps = load_yaml(project / ".github/workflows/train.yml")["jobs"]["train"]["steps"]
    launch = next(step for step in steps if "make experiment" in step.get("run", ""))
    assert launch["run"].strip().endswith("make experiment") and "OVERRIDES" in launch["env"]
    hostile = "model=linear 'model.C=1; touch pwned-by-shell' \"data.path=$(shell touch pwned-by-make)\""
    env = {**generated_env.env(), "VENV": str(generated_env.root), "OVERRIDES": hostile,
           "NAME": "probe"}
    result = run(["make", "experiment"], cwd=project, env=env, check=False)
    assert result.returncode != 0, "the overrides are not valid Hydra values: DVC must refuse them"
    assert not list(project.glob("pwned*")) and not list(Path.cwd().glob("pwned*"))


def test_a_committed_secret_is_stopped_by_the_offline_scanner(tmp_path: Path,
                                                              generated_env: GeneratedEnv) -> None:
    """detect-secrets (from the package index, so it runs offline) among the hooks: the
    fresh render passes it, a key pasted into code does not, named by file and line."""
    project = bake(tmp_path)
    hook = ["pre-commit", "run", "detect-secrets"]
    clean = generated_env.run([*hook, "--all-files"], cwd=project, check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    leaked = project / "src/customer_churn/settings.py"
    leaked.write_text('AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzK3mPQ8rTa"\n'
                      'STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"\n')
    found = generated_env.run([*hook, "--files", "src/customer_churn/settings.py"], cwd=project,
                              check=False)
    assert found.returncode != 0
    assert "Location:    src/customer_churn/settings.py:1" in found.stdout, found.stdout
