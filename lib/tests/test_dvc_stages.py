"""dvc.yaml tells the truth about code, so DVC reruns exactly what a change touches.

The library's code is pinned by uv.lock, on which every stage depends: a new library
version reruns every stage. The team's own code (src/<module>) is a dependency of
featurize and every stage after it, which run the fitted pipeline; the stages before
featurize read the configuration without importing it, so editing a derived feature
reruns featurize and what follows, nothing before.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mllifecycle.compose import composed
from mllifecycle.config import BinaryProblem, MulticlassProblem, RegressionProblem
from mllifecycle.stages import NAMES, OPTIONAL_NAMES

from .conftest import ROOT

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
TEAM_PACKAGES = sorted(p.name for p in (ROOT / "src").iterdir() if (p / "__init__.py").exists())
FIRST_TO_RUN_TEAM_CODE = NAMES.index("featurize")


def test_every_stage_runs_the_library_command_and_depends_on_the_lock() -> None:
    # A render's optional stages (`track` with the MLflow registry) come where they fit.
    assert [name for name in STAGES if name not in OPTIONAL_NAMES] == list(NAMES)
    for name, stage in STAGES.items():
        assert stage["cmd"] == f"mllifecycle stage {name}", name
        assert "uv.lock" in stage["deps"], name


def test_the_stages_that_run_the_fitted_pipeline_declare_the_teams_code() -> None:
    assert TEAM_PACKAGES, "the render has its own package in src/"
    for position, name in enumerate(NAMES):
        own = {f"src/{package}" for package in TEAM_PACKAGES}
        assert (own <= set(STAGES[name]["deps"])) == (position >= FIRST_TO_RUN_TEAM_CODE), name


@pytest.mark.parametrize("stage", NAMES[:FIRST_TO_RUN_TEAM_CODE])
def test_a_stage_that_does_not_declare_the_teams_code_never_imports_it(stage: str) -> None:
    """The check can fail: conf/features names a kind of the team's own (`_target_`)."""
    features = yaml.safe_load((ROOT / "params.yaml").read_text())["features"]
    assert any("_target_" in entry for entry in features["derived"])
    check = (
        f"import sys, json, mllifecycle.stages.{stage}, mllifecycle.config as c; c.load_params(); "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {TEAM_PACKAGES!r})))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    loaded = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True, cwd=ROOT, env=env
    ).stdout
    assert json.loads(loaded) == []


def declared_keys() -> set[str]:
    """Every dotted params.yaml key a stage names."""
    return {key for stage in STAGES.values() for item in stage.get("params", [])
            for key in ([item] if isinstance(item, str) else [])}  # fmt: skip


def test_a_problem_that_leaves_out_an_optional_field_still_has_every_key_dvc_names(
    tmp_path: Path,
) -> None:
    """DVC stops with "Parameters ... are missing" for a key a stage names: an optional
    spec field left out of conf/problem composes to the schema's default instead."""
    conf = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf)
    for spec in (conf / "problem").glob("*.yaml"):
        problem = yaml.safe_load(spec.read_text())
        for kind in (BinaryProblem, MulticlassProblem, RegressionProblem):
            for field, info in kind.model_fields.items():
                if not info.is_required():
                    problem.pop(field, None)
        spec.write_text(yaml.safe_dump(problem))
        params = composed([f"problem={spec.stem}"], conf)
        for key in sorted(declared_keys()):
            found: Any = params
            for part in key.split("."):
                assert isinstance(found, dict) and part in found, f"{spec.stem}: {key} missing"
                found = found[part]
        for field in ("sensitive_attributes",):
            default = BinaryProblem.model_fields[field].get_default(call_default_factory=True)
            assert params["problem"][field] == default, field
