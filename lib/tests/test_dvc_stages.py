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
import subprocess
import sys

import pytest
import yaml

from mllifecycle.stages import NAMES

from .conftest import ROOT

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
TEAM_PACKAGES = sorted(p.name for p in (ROOT / "src").iterdir() if (p / "__init__.py").exists())
FIRST_TO_RUN_TEAM_CODE = NAMES.index("featurize")


def test_every_stage_runs_the_library_command_and_depends_on_the_lock() -> None:
    assert list(STAGES) == list(NAMES)
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
