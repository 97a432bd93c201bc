"""DVC stays honest about code that lives outside the repo (the library, pinned in
uv.lock) and inside it (the team's src/<module>): a change reruns exactly what it
touches, and a queued experiment runs the code it was queued with."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .conftest import QUIET_ENV, GeneratedEnv, bake, run

MODULE = "rerun_churn"
SMALL_DEMO = ["data.demo.n_rows=6000", "data.demo.n_production_rows=1500"]
BEFORE_FEATURES = {"define", "ingest", "validate_raw", "prepare"}
ALL_STAGES = BEFORE_FEATURES | {"featurize", "validate_features", "train", "evaluate", "package",
                                "validate_production", "monitor"}
MARKER = "bands from the queued copy"


def out_of_date(project: Path, generated_env: GeneratedEnv) -> set[str]:
    """The stages `dvc status` finds changed (each one's own deps or params)."""
    status = json.loads(generated_env.run(["dvc", "status", "--json"], cwd=project).stdout)
    return set(status)


def test_a_change_reruns_what_it_touches_and_a_queued_experiment_runs_its_own_code(
    tmp_path: Path, generated_env: GeneratedEnv
) -> None:
    project = bake(tmp_path, module_name=MODULE, project_name="rerun churn")
    generated_env.install(project)
    env = {**generated_env.env(), **QUIET_ENV}
    generated_env.run(["rerun-churn", "params", *SMALL_DEMO], cwd=project)
    generated_env.run(["dvc", "repro"], cwd=project)
    run(["git", "add", "-A"], cwd=project, env=env)
    run(["git", "commit", "-qm", "A first run"], cwd=project, env=env)
    assert out_of_date(project, generated_env) == set()

    # Editing a derived feature: featurize and every stage after it, nothing before.
    features = project / f"src/{MODULE}/features.py"
    original = features.read_text()
    features.write_text(original.replace('return [f"<{edges[0]}"', 'return [f"below {edges[0]}"'))
    assert out_of_date(project, generated_env) == ALL_STAGES - BEFORE_FEATURES

    # A new library version (a changed lock): every stage.
    features.write_text(original)
    lock = project / "uv.lock"
    lock.write_text(lock.read_text() + "# a new mllifecycle version\n")
    assert out_of_date(project, generated_env) == ALL_STAGES
    run(["git", "checkout", "uv.lock"], cwd=project, env=env)
    assert out_of_date(project, generated_env) == set()

    # A queued experiment runs in a copy of the repo: the copy's code must run, not the
    # workspace's (the editable install points at the workspace).
    features.write_text(original + f'\nprint("{MARKER}")\n')
    queued = generated_env.run(["dvc", "exp", "run", "--queue", "-n", "queued-code",
                                *(f"-S{o}" for o in SMALL_DEMO)], cwd=project)
    assert "Queued experiment" in queued.stdout, queued.stdout
    features.write_text(original)  # the workspace no longer has it
    generated_env.run(["dvc", "queue", "start"], cwd=project)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = generated_env.run(["dvc", "queue", "status"], cwd=project).stdout
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(2)
    assert "Success" in status, status
    logs = generated_env.run(["dvc", "queue", "logs", "queued-code"], cwd=project).stdout
    assert MARKER in logs and "Running stage 'featurize'" in logs
