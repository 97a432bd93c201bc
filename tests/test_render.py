"""Rendering: bad answers are refused with one clear line, good ones give a ready repo."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException

from .conftest import TEMPLATE, GeneratedEnv, bake

BAD_ANSWERS = [
    ({"module_name": "my-model"}, "module_name 'my-model' must be a lowercase Python identifier"),
    ({"module_name": "2fast"}, "module_name '2fast' must be a lowercase Python identifier"),
    ({"module_name": "class"}, "module_name 'class' is a Python keyword"),
    ({"module_name": "sklearn"}, "module_name 'sklearn' would shadow the 'sklearn' package"),
    ({"module_name": "dvc"}, "module_name 'dvc' would shadow the 'dvc' package"),
    ({"module_name": "hydra"}, "module_name 'hydra' would shadow the 'hydra' package"),
    ({"module_name": "lightgbm"}, "module_name 'lightgbm' would shadow the 'lightgbm' package"),
    ({"module_name": "json"}, "module_name 'json' would shadow the standard library module"),
    ({"author_email": "not-an-email"}, "author_email 'not-an-email' is not an email address"),
    ({"author_email": "a@b"}, "author_email 'a@b' is not an email address"),
    ({"python_version": "3.9"}, "python_version '3.9' is not supported"),
    ({"python_version": "3.14"}, "python_version '3.14' is not supported"),
    ({"dvc_remote": "s3", "dvc_remote_url": "gs://bucket/dvc"},
     "dvc_remote_url 'gs://bucket/dvc' does not match dvc_remote 's3'"),
    ({"dvc_remote": "gcs", "dvc_remote_url": "s3://bucket/dvc"},
     "dvc_remote_url 's3://bucket/dvc' does not match dvc_remote 'gcs'"),
    ({"dvc_remote": "azure", "dvc_remote_url": ""}, "dvc_remote_url '' does not match dvc_remote 'azure'"),
    ({"dvc_remote": "local", "dvc_remote_url": "s3://bucket"},
     "dvc_remote_url 's3://bucket' does not match dvc_remote 'local'"),
    ({"dvc_remote": "none", "dvc_remote_url": "s3://bucket"},
     "dvc_remote_url 's3://bucket' is set but dvc_remote is 'none'"),
    # Free text lands in TOML, YAML and Markdown: one printable line of bounded length.
    ({"description": ""}, "description must not be empty"),
    ({"description": "Two lines\nof description"}, "description must be one line of printable text"),
    ({"description": 'Ends on """ and \x00'}, "description must be one line of printable text"),
    ({"description": "d" * 301}, "description is 301 characters long; at most 300"),
    ({"author_name": "Ops\nTeam"}, "author_name must be one line of printable text"),
    ({"author_name": "Lone \ud800 surrogate"}, "author_name must be one line of printable text"),
    ({"author_email": "<script>@example.com"}, "author_email '<script>@example.com' is not an email"),
    ({"author_email": "ds team@example.com"}, "author_email 'ds team@example.com' is not an email"),
    ({"module_name": "m" * 65}, "is 65 characters long; at most 64"),
    ({"dvc_remote": "local", "dvc_remote_url": "/srv/store#x"},
     "dvc_remote_url '/srv/store#x' does not match dvc_remote 'local'"),
    # Every package the repo depends on or imports, derived from the template itself,
    # and CPython's `test` package.
    *[({"module_name": name}, f"module_name '{name}' would shadow the '{name}' package")
      for name in ("fastapi", "skops", "sqlalchemy", "uvicorn", "gto", "optuna", "starlette",
                   "great_expectations", "pydantic_settings", "test")],
    # ... the packages the lock resolves without the repo naming them, the tools `make
    # setup` runs, and the modules the interpreter imports by name at start-up.
    *[({"module_name": name}, f"module_name '{name}' would shadow the '{name}' package")
      for name in ("packaging", "requests", "click", "attr", "typing_extensions", "tqdm", "rich",
                   "jinja2", "pip", "setuptools", "_pytest", "__main__", "sitecustomize",
                   "usercustomize")],
    # .dvc/config is read with interpolation: every DVC command would stop.
    ({"dvc_remote": "local", "dvc_remote_url": "%(here)s/store"},
     "dvc_remote_url '%(here)s/store' contains '%', which DVC's config reads as interpolation"),
]
# Answers that would name folders are refused while the answers are read, before any
# folder exists (a slug with '/' used to leave an empty parent behind).
PATH_ANSWERS = [
    ({"project_slug": "My Project"}, "project_slug 'My Project' must be lowercase"),
    ({"project_slug": "churn_model"}, "project_slug 'churn_model' must be lowercase"),
    ({"project_slug": "a/b"}, "project_slug 'a/b' must be lowercase"),
    ({"project_slug": "../escape"}, "project_slug '../escape' must be lowercase"),
    ({"project_name": "x" * 300}, "must be at most 64 characters"),
    ({"project_name": "Churn/Retention"}, "project_slug 'churn/retention' must be lowercase"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS,
                         ids=[next(iter(a)) + "=" + next(iter(a.values())) for a, _ in BAD_ANSWERS])
def test_bad_answer_is_named_and_nothing_is_written(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], answers: dict[str, str], message: str
) -> None:
    with pytest.raises(FailedHookException):
        bake(tmp_path, **answers)
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and message in errors[0], errors
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("answers", "message"), PATH_ANSWERS,
                         ids=[next(iter(a)) + "=" + next(iter(a.values()))[:20] for a, _ in PATH_ANSWERS])
def test_a_name_that_makes_folders_is_refused_before_any_folder_exists(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], answers: dict[str, str], message: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        bake(tmp_path / "out", **answers)
    assert stopped.value.code == 1
    errors = capfd.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("ERROR:") and message in errors[0], errors
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_private_answer_cannot_skip_the_folder_check(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """`__slug_checked` given on the command line replaces the check made while answers are
    read; the hook checks the slug again, and the folder made outside the output folder
    is removed with the refusal."""
    with pytest.raises(FailedHookException):
        bake(tmp_path / "out", __slug_checked="x", project_slug="../escape", module_name="escape")
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR: ")]
    assert "project_slug '../escape' must be at most 64 lowercase letters" in errors[0], errors
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert list((tmp_path / "out").iterdir()) == []


def test_answer_outside_a_choice_list_is_refused_before_rendering(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ranking provided for choice variable task"):
        bake(tmp_path, task="ranking")
    assert list(tmp_path.iterdir()) == []


def test_default_render_is_a_ready_repository(baker: Callable[..., Path]) -> None:
    project = baker()
    assert project.name == "customer-churn"
    jinja = re.compile(r"\{\{\s*cookiecutter|\{%")  # GitHub's own ${{ ... }} may stay
    leftovers = [str(p) for p in project.rglob("*")
                 if p.is_file() and ".git" not in p.parts and jinja.search(p.read_text(errors="ignore"))]
    assert leftovers == [], f"unrendered Jinja in {leftovers}"
    assert not (project / "licenses").exists()
    assert (project / "LICENSE").read_text().startswith("MIT License")
    assert (project / ".github/workflows/ci.yml").exists() and not (project / ".gitlab-ci.yml").exists()
    assert "[hydra]\n    enabled = true" in (project / ".dvc/config").read_text()
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["problem"]["task"] == "binary_classification"
    assert params["model"]["name"] == "lightgbm"
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True,
                            text=True, check=True)
    assert status.stdout == "", "the first commit should hold every generated file"
    log = subprocess.run(["git", "log", "--format=%an <%ae>"], cwd=project, capture_output=True,
                         text=True, check=True)
    assert log.stdout.strip() == "Data Science Team <ds-team@example.com>"
    cruft = json.loads((project / ".cruft.json").read_text())
    assert cruft["template"] == str(TEMPLATE)
    assert cruft["context"]["cookiecutter"]["task"] == "binary_classification"
    assert re.fullmatch(r"[0-9a-f]{40}", cruft["commit"]), "the template's commit, for cruft update"


@pytest.mark.parametrize(("task", "problem"), [("multiclass_classification", "plan_change"),
                                               ("regression", "spend")])
def test_task_answer_sets_the_default_problem(baker: Callable[..., Path], task: str, problem: str) -> None:
    project = baker(task=task)
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["problem"]["name"] == problem and params["problem"]["task"] == task
    # every task stays a config choice: all three specs ship in every render
    assert {p.stem for p in (project / "conf/problem").glob("*.yaml")} == {"churn", "plan_change", "spend"}


@pytest.mark.parametrize(("ci", "present", "absent"), [
    ("github", ".github/dependabot.yml", "renovate.json"),
    ("gitlab", "renovate.json", ".github"),
    ("none", None, ".github"),
])
def test_ci_choice_prunes_the_others(baker: Callable[..., Path], ci: str, present: str | None,
                                     absent: str) -> None:
    project = baker(ci=ci, project_slug=f"ci-{ci}")
    if present:
        assert (project / present).exists()
    assert not (project / absent).exists()
    if ci == "none":
        assert not (project / ".gitlab-ci.yml").exists() and not (project / "renovate.json").exists()
    if ci == "github":
        assert not (project / ".gitlab-ci.yml").exists()


@pytest.mark.parametrize(("license_name", "first_line"), [
    ("Apache-2.0", "Apache License"), ("BSD-3-Clause", "BSD 3-Clause License"),
    ("Proprietary", "Copyright (c)"),
])
def test_license_choice(baker: Callable[..., Path], license_name: str, first_line: str) -> None:
    text = (baker(license=license_name) / "LICENSE").read_text()
    assert text.strip().startswith(first_line)
    if license_name != "Apache-2.0":
        assert "Data Science Team" in text


@pytest.mark.parametrize(("remote", "url"), [("s3", "s3://ml-data/churn"), ("gcs", "gs://ml-data/churn"),
                                             ("azure", "azure://ml-data/churn"), ("local", "/srv/dvc-store")])
def test_remote_is_configured_without_credentials(baker: Callable[..., Path], remote: str, url: str) -> None:
    project = baker(dvc_remote=remote, dvc_remote_url=url)
    config = (project / ".dvc/config").read_text()
    extra = {"s3": "dvc[s3]", "gcs": "dvc[gs]", "azure": "dvc[azure]", "local": "dvc>="}[remote]
    assert f'"{extra}' in (project / "pyproject.toml").read_text()
    assert "remote = storage" in config and f"url = {url}" in config
    assert "secret" not in config.lower() and "key" not in config.lower()


def test_hooks_need_nothing_but_cookiecutter() -> None:
    """Rendering runs under a bare `pipx run cookiecutter`: stdlib, PyYAML and cookiecutter only."""
    allowed = set(sys.stdlib_module_names) | {"yaml", "cookiecutter", "__future__"}
    for hook in (TEMPLATE / "hooks").glob("*.py"):
        # The answers reach the hooks as a percent-encoded string: valid Python unrendered.
        tree = ast.parse(hook.read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert imported <= allowed, f"{hook.name} imports {imported - allowed}"


def test_the_dockerfile_passes_hadolint(tmp_path: Path, generated_env: GeneratedEnv) -> None:
    dockerfile = bake(tmp_path) / "Dockerfile"
    result = generated_env.run(["hadolint", str(dockerfile)], cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    text = dockerfile.read_text()
    assert "USER 10001" in text and "HEALTHCHECK" in text and "-slim" in text
    # The image installs what uv.lock pins, then the project without resolving again.
    assert "requirements.txt" in text and "--no-deps ." in text


LOCKED_IMPORTS = """
import json, re, sys, tomllib
from importlib.metadata import packages_distributions
from packaging.utils import canonicalize_name
lock = tomllib.load(open(sys.argv[1], "rb"))["package"]
locked = {canonicalize_name(p["name"]) for p in lock if "editable" not in p["source"]}
print(json.dumps(sorted(name for name, dists in packages_distributions().items()
                        if re.fullmatch(r"[a-z_][a-z0-9_]*", name)
                        and any(canonicalize_name(d) in locked for d in dists))))
"""


def test_the_hook_knows_every_import_name_the_lock_resolves(baker: Callable[..., Path],
                                                            generated_env: GeneratedEnv) -> None:
    """A module named like any package in the lock (`packaging`, `click`: dependencies of
    dependencies) would shadow it: hooks/resolved_imports.txt lists them all."""
    project = baker()
    found = json.loads(generated_env.run(["python", "-c", LOCKED_IMPORTS, "uv.lock"],
                                         cwd=project).stdout)
    listed = set((TEMPLATE / "hooks/resolved_imports.txt").read_text().split())
    assert len(found) > 150 and "packaging" in found
    missing = sorted(set(found) - listed)
    assert not missing, f"add to hooks/resolved_imports.txt: {' '.join(missing)}"
