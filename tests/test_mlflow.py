"""A render with `registry=mlflow` against a real MLflow 3 server on loopback, started by
the render's own `make mlflow` (SQLite and artifacts in mlflow/): its pipeline logs each
run (the `track` stage), then the README's walk: register, promote, serve by alias, a
failed model refused at promotion and at service start, rollback, and a server that does
not answer named in one line. The GTO render's registry walk is test_generated.py's.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import GeneratedEnv, bake, run
from .test_generated import refused_to_serve, served_version

MODEL = "churn-mlflow"
# Reads what the run logged, in the render's environment (the MLflow client is its).
READ_RUN = """
import json, sys
from mlflow import MlflowClient
run = MlflowClient().get_run(sys.argv[1])
print(json.dumps({"name": run.info.run_name, "status": run.info.status,
                  "tags": run.data.tags, "params": run.data.params,
                  "metrics": run.data.metrics}))
"""
MOVE_ALIAS = """
import sys
from mlflow import MlflowClient
MlflowClient().set_registered_model_alias(sys.argv[1], "champion", sys.argv[2])
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def start_server(project: Path, generated_env: GeneratedEnv, port: int) -> subprocess.Popen[str]:
    """`make mlflow` on `port`; returns once /health answers (the first start installs
    the server into uv's tool cache: allowed online here, as a user's first run is)."""
    env = {**generated_env.env(), "UV_OFFLINE": "0"}
    log = (project / "build").resolve()
    log.mkdir(exist_ok=True)
    server = subprocess.Popen(
        ["make", "mlflow", f"VENV={generated_env.root}", f"MLFLOW_PORT={port}"],
        cwd=project, env=env, stdout=(log / "mlflow.log").open("w"),
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return server
        except OSError:
            time.sleep(0.5)
    stop(server)
    pytest.fail(f"`make mlflow` did not serve: {(log / 'mlflow.log').read_text()[-3000:]}")


def stop(server: subprocess.Popen[str]) -> None:
    """The whole tree `make mlflow` started (uv, mlflow, uvicorn)."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    server.wait(timeout=30)


def test_the_mlflow_render_tracks_registers_serves_and_rolls_back(
    tmp_path: Path, generated_env: GeneratedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = bake(tmp_path, registry="mlflow", project_name="churn mlflow",
                   module_name="churn_mlflow")
    generated_env.install(project)
    port = free_port()
    server = start_server(project, generated_env, port)
    # The URI from the environment only; generated_env.env() passes it on.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    make = ["make", f"VENV={generated_env.root}"]
    python = str(generated_env.bin / "python")
    try:
        # Every pipeline run is logged, named after its DVC experiment.
        ran = generated_env.run(["dvc", "exp", "run"], cwd=project).stdout
        experiment = re.search(r"Ran experiment\(s\): (\S+)", ran)
        assert experiment, ran
        tracked = read_json(project / "reports/tracking.json")
        assert tracked["dvc_experiment"] == experiment.group(1)
        logged = json.loads(generated_env.run([python, "-c", READ_RUN, tracked["run_id"]],
                                              cwd=project).stdout)
        assert logged["name"] == experiment.group(1) and logged["status"] == "FINISHED"
        evaluation = read_json(project / "metrics/evaluate.json")
        assert logged["metrics"]["evaluate.uplift_per_1000"] == pytest.approx(
            evaluation["uplift_per_1000"])
        assert logged["params"]["model.name"] == "lightgbm"
        assert logged["tags"]["package_digest"] == read_json(
            project / "models/package/metadata.json")["digest"]

        generated_env.run(["git", "add", "-A"], cwd=project)
        generated_env.run(["git", "commit", "-qm", "lightgbm"], cwd=project)
        registered = generated_env.run([*make, "register"], cwd=project).stdout
        assert f"registered {MODEL}@v1 at" in registered, registered
        promoted = generated_env.run([*make, "promote", "VERSION=v1", "STAGE=prod"], cwd=project)
        assert "models/champion.json now names v1" in promoted.stdout
        live = served_version(project, generated_env)
        assert live["model_version"] == "v1", live

        # A useless model fails its verdict: promotion refuses it, and so does the service
        # when the alias is moved to it by hand (the MLflow UI is a side door).
        generated_env.run(["dvc", "exp", "run", "-S", "model=dummy"], cwd=project)
        assert not read_json(project / "reports/verdict.json")["passed"]
        generated_env.run(["git", "add", "-A"], cwd=project)
        generated_env.run(["git", "commit", "-qm", "dummy"], cwd=project)
        assert f"{MODEL}@v2" in generated_env.run([*make, "register"], cwd=project).stdout
        refused = generated_env.run([*make, "promote", "VERSION=v2", "STAGE=prod"],
                                    cwd=project, check=False)
        assert refused.returncode != 0
        assert f"{MODEL}@v2 failed its evaluation verdict" in refused.stderr, refused.stderr
        generated_env.run([python, "-c", MOVE_ALIAS, MODEL, "2"], cwd=project)
        stderr = refused_to_serve(project, generated_env)
        assert f"{MODEL}@v2 failed its evaluation verdict" in stderr, stderr

        withdrawn = generated_env.run([*make, "rollback"], cwd=project).stdout
        assert "withdrew v2, v1 serves again" in withdrawn, withdrawn
        assert served_version(project, generated_env)["model_version"] == "v1"
        shown = generated_env.run([*make, "registry"], cwd=project).stdout
        assert "prod       v1" in shown and "latest     v2" in shown, shown

        # A server that does not answer: one line naming it and the variable.
        closed = f"http://127.0.0.1:{free_port()}"
        down = run([*make, "registry"], cwd=project, check=False,
                   env={**generated_env.env(), "MLFLOW_TRACKING_URI": closed})
        assert down.returncode != 0
        line = next(x for x in down.stderr.splitlines() if "did not answer" in x)
        assert closed in line and "MLFLOW_TRACKING_URI" in line, down.stderr
    finally:
        stop(server)
