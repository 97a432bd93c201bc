"""The registry on MLflow 3 (conf/registry `backend: mlflow`), against a real MLflow
server on loopback (SQLite backend, local artifacts): register, promote, serve by alias,
roll back, refuse a failed model at promotion and at service start, refuse a package
changed after registration, and track a pipeline run whose LoggedModel `register`
then finds. Skipped where the `mlflow` extra is not installed.

The server runs in its own tool environment (`uv tool run --from mlflow`), as a render's
`make mlflow` runs it; MLLIFECYCLE_MLFLOW_SERVER names another `mlflow` executable.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

pytest.importorskip("mlflow", reason="the MLflow backend needs the `mlflow` extra")

from mllifecycle import registry, tracking
from mllifecycle.errors import RegistryError
from mllifecycle.models import artifact
from mllifecycle.registry import champion
from mllifecycle.registry.mlflow import COMMIT_TAG, DIGEST_TAG, SERVER_ENV, client
from mllifecycle.serving import loading

from .test_contracts import v1_package

MODEL = "churn-model"
SERVER_VERSION = "mlflow>=3.17,<4"
COMMITS = ("a" * 40, "b" * 40, "c" * 40)


def server_command() -> list[str]:
    if given := os.environ.get("MLLIFECYCLE_MLFLOW_SERVER"):
        return [*shlex.split(given), "server"]
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    return [uv, "tool", "run", "--from", SERVER_VERSION, "mlflow", "server"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local MLflow server as `make mlflow` starts one; its URI."""
    folder = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    # No GenAI job runner (7 more processes, 1.3 GB), one worker.
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    command = [
        *server_command(),
        "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
        "--artifacts-destination", str(folder / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600  # the first run installs mlflow into uv's cache
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{uri}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail(
            f"the MLflow server did not start: {(folder / 'server.log').read_text()[-2000:]}"
        )
    yield uri
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture
def repo(tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose params.yaml selects the MLflow registry, on a fresh model name."""
    name = f"{MODEL}-{tmp_path.name}"[:60]
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "dvc.yaml").write_text(
        yaml.safe_dump({"artifacts": {name: {"path": "models/package", "type": "model"}}})
    )
    (folder / "params.yaml").write_text(yaml.safe_dump({"registry": {"backend": "mlflow"}}))
    monkeypatch.setenv(SERVER_ENV, server)
    return folder


def packaged(source: Path, repo: Path) -> str:
    """`source`'s package as the workspace's models/package; its digest."""
    target = repo / "models" / "package"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return artifact.verified(target).digest


def test_register_promote_serve_and_roll_back_by_alias(
    repo: Path, pipeline_run: Path, tmp_path: Path
) -> None:
    backend = registry.backend_of(repo)
    digest = packaged(pipeline_run / "models" / "package", repo)
    first = backend.register(COMMITS[0], digest, "patch")
    second = backend.register(COMMITS[1], digest, "patch")
    assert (first.version, second.version) == ("v1", "v2")
    assert registry.resolve("v1", repo).commit == COMMITS[0]

    registry.promote("v1", "prod", repo)
    registry.promote("v2", "prod", repo)
    name = first.name
    aliases = client().get_registered_model(name).aliases
    assert aliases == {"champion": "2"}
    assert [v.version for v in registry.in_stage("prod", repo)] == ["v2", "v1"]
    assert registry.stages(repo) == {"latest": "v2", "prod": "v2"}
    assert champion.read(repo / "models" / "champion.json") == second
    served = loading.from_stage("prod", repo, tmp_path / "cache")
    assert served.version == "v2" and served.source == f"prod ({name}@v2)"

    withdrawn, restored = registry.rollback("prod", repo)
    assert (withdrawn.version, restored.version) == ("v2", "v1")
    assert client().get_registered_model(name).aliases == {"champion": "1"}
    assert champion.read(repo / "models" / "champion.json") == first
    assert champion.verified(repo) == first  # the file and the alias agree
    assert loading.from_stage("prod", repo, tmp_path / "cache").version == "v1"
    with pytest.raises(RegistryError, match=r"@v1 is the only version ever assigned"):
        registry.rollback("prod", repo)


def test_a_failed_model_is_refused_at_promotion_and_at_service_start(
    repo: Path, tmp_path: Path
) -> None:
    failed = v1_package(tmp_path / "failed")  # its verdict failed, with no override
    version = registry.backend_of(repo).register(COMMITS[2], packaged(failed, repo), "patch")
    assert client().get_model_version(version.name, "1").tags["verdict"] == "failed"
    with pytest.raises(RegistryError, match=rf"{version.tag} failed its evaluation verdict"):
        registry.promote(version.version, "prod", repo)
    assert registry.current("prod", repo) is None
    # Moved by hand in the MLflow UI: the service refuses it all the same.
    client().set_registered_model_alias(version.name, "champion", "1")
    with pytest.raises(RegistryError, match=r"failed its evaluation verdict.*Withdraw it"):
        loading.from_stage("prod", repo, tmp_path / "cache")


def test_a_package_changed_after_registration_is_refused(
    repo: Path, pipeline_run: Path, tmp_path: Path
) -> None:
    digest = packaged(pipeline_run / "models" / "package", repo)
    version = registry.backend_of(repo).register(COMMITS[0], digest, "patch")
    assert registry.metadata(version, repo).digest == digest
    client().set_model_version_tag(version.name, "1", DIGEST_TAG, "0" * 64)
    with pytest.raises(RegistryError, match=r"package digest .* is not the 000000000000"):
        registry.fetch(version, tmp_path / "fetched", repo)
    assert not (tmp_path / "fetched").exists()


def test_a_tracked_run_logs_params_metrics_and_the_package_that_register_finds(
    repo: Path, pipeline_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = packaged(pipeline_run / "models" / "package", repo)
    monkeypatch.setenv(tracking.EXPERIMENT_ENV, "sunny-lamb")
    evaluation = json.loads((pipeline_run / "metrics" / "evaluate.json").read_text())
    params = yaml.safe_load((pipeline_run / "params.yaml").read_text())
    name = registry.entry(repo).name
    logged = tracking.log_run(
        name,
        name,
        params,
        tracking.as_metrics(evaluation, "evaluate"),
        [pipeline_run / "reports" / "model_card.md"],
        repo / "models" / "package",
        COMMITS[0],
        digest,
    )
    run = client().get_run(logged["run_id"])
    assert run.info.run_name == "sunny-lamb" and run.info.status == "FINISHED"
    assert run.data.tags[COMMIT_TAG] == COMMITS[0]
    assert run.data.params["model.name"] == str(params["model"]["name"])
    uplift = run.data.metrics["evaluate.uplift_per_1000"]
    assert uplift == pytest.approx(evaluation["uplift_per_1000"])
    model = client().get_logged_model(logged["model_id"])
    assert model.source_run_id == logged["run_id"] and model.tags[DIGEST_TAG] == digest
    # Registering the commit reuses the tracked run's model rather than logging another.
    version = registry.backend_of(repo).register(COMMITS[0], digest, "patch")
    source = client().get_model_version(version.name, "1").source
    assert source == f"models:/{logged['model_id']}"


def test_a_run_the_server_cannot_take_is_one_line_and_leaves_the_outputs(
    pipeline_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv(SERVER_ENV, closed)
    package = pipeline_run / "models" / "package"
    before = sorted((p.name, p.stat().st_mtime_ns) for p in package.iterdir())
    with pytest.raises(RegistryError) as err:
        tracking.log_run(MODEL, MODEL, {"model": {"name": "x"}}, {}, [], package, "a", "b")
    assert str(err.value).startswith("track the run in MLflow: the MLflow server at " + closed)
    assert SERVER_ENV in str(err.value) and "\n" not in str(err.value)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in package.iterdir()) == before


def test_an_unreachable_server_is_one_line_naming_it_and_the_variable(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv(SERVER_ENV, closed)
    started = time.monotonic()
    with pytest.raises(RegistryError) as err:
        registry.stages(repo)
    message = str(err.value)
    assert closed in message and SERVER_ENV in message and "\n" not in message
    assert time.monotonic() - started < 60  # not MLflow's default four minutes
