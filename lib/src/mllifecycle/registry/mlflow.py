"""The registry in MLflow 3 (conf/registry: `backend: mlflow`).

A version is a model version of the registered model dvc.yaml's model artifact names;
its source is a LoggedModel that holds the package's files as they were packaged, and
its tags record the commit and the package's digest when it is registered. A stage is
an alias (prod moves `champion`, staging `challenger`: conf/registry `aliases`), so the
service and batch scoring load `models:/<name>@champion`; each stage's assignments are
kept in a registered-model tag, so rollback knows who held the alias before. The
server is MLFLOW_TRACKING_URI's (the project's own local one, `make mlflow`, when unset).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import RegistryConfig
from ..errors import RegistryError
from .versions import Entry, Version, entry

SERVER_ENV = "MLFLOW_TRACKING_URI"
# What `make mlflow` starts: a SQLite backend and a local artifact folder, on loopback.
LOCAL_SERVER = "http://127.0.0.1:5000"
COMMIT_TAG = "git_commit"
DIGEST_TAG = "package_digest"
EXPERIMENT_TAG = "dvc_experiment"
VERDICT_TAG = "verdict"
OVERRIDE_TAG = "verdict_override"
HISTORY_TAG = "mllifecycle.stage.{stage}"  # JSON: the versions assigned, oldest first
# MLflow retries an unanswered request 7 times with backoff (about 4 minutes); a
# registry command should say in seconds that the server is down. The user's own
# settings win.
QUICK_FAILURE = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
# A file MLflow adds to a downloaded model version; not part of the package.
DOWNLOAD_EXTRAS = ("registered_model_meta",)


def server_uri() -> str:
    return os.environ.get(SERVER_ENV) or LOCAL_SERVER


def client() -> Any:
    """An MlflowClient of the tracking server (and its registry), failing fast."""
    for key, value in QUICK_FAILURE.items():
        os.environ.setdefault(key, value)
    # A command's output is its own lines: no URLs printed per run, no progress bars.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    logging.getLogger("mlflow.store.model_registry.abstract_store").setLevel(logging.WARNING)

    uri = server_uri()
    # The fluent API (artifact downloads, the registry's own lookups) reads the global.
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def _unanswered(err: BaseException) -> bool:
    """Whether `err` means the server did not answer (refused, timed out, unknown host)."""
    import requests

    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, requests.exceptions.RequestException):
            return True
        seen = seen.__cause__ or seen.__context__
    return "Max retries exceeded" in str(err)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


@contextmanager
def answering(action: str) -> Iterator[None]:
    """MLflow's errors as one line: an unanswered server names its URI and the variable."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except (MlflowException, OSError) as err:
        if _unanswered(err):
            raise RegistryError(
                f"{action}: the MLflow server at {server_uri()} ({SERVER_ENV}) did not "
                f"answer; start it (`make mlflow`) or set {SERVER_ENV} to yours"
            ) from err
        raise RegistryError(f"{action}: {_first_line(err)}") from err


def _missing(err: Exception) -> bool:
    return getattr(err, "error_code", "") == "RESOURCE_DOES_NOT_EXIST"


def number_of(version: str) -> str:
    """MLflow's version number from our name for it (v3, or 3)."""
    number = version.removeprefix("v")
    if not number.isdigit():
        raise RegistryError(
            f"{version!r} is not an MLflow model version (v1, v2, ...); `make registry` lists them"
        )
    return str(int(number))


@dataclass(frozen=True)
class MlflowRegistry:
    """The Backend of registry/versions.py on an MLflow 3 model registry."""

    repo: Path
    cfg: RegistryConfig

    @property
    def model(self) -> Entry:
        return entry(self.repo)

    def register(self, commit: str, digest: str, bump: str) -> Version:
        from mlflow.exceptions import MlflowException

        name = self.model.name
        tags = {COMMIT_TAG: commit, DIGEST_TAG: digest, **self._verdict_tags()}
        with answering(f"register {name}"):
            model_id = self.logged_model(commit, digest)
            mlflow = client()
            try:
                mlflow.get_registered_model(name)
            except MlflowException as err:
                if not _missing(err):
                    raise
                mlflow.create_registered_model(name)
            created = mlflow.create_model_version(
                name, source=f"models:/{model_id}", tags=tags, model_id=model_id
            )
        return Version(name, f"v{created.version}", commit)

    def _verdict_tags(self) -> dict[str, str]:
        """The package's verdict, and an override where one was recorded, for the MLflow UI
        (promotion and loading read the digest-checked package itself)."""
        from ..models import artifact

        verdict = artifact.verified(self.repo / self.model.path).verdict
        tags = {VERDICT_TAG: "passed" if verdict.passed else "failed"}
        if verdict.override is not None:
            override = verdict.override
            tags[OVERRIDE_TAG] = f"{override.approved_by}: {override.reason}"
        return tags

    def logged_model(self, commit: str, digest: str) -> str:
        """The LoggedModel of this package: the one a tracked run logged (tracking.py),
        else the workspace's package, logged now."""
        experiment = experiment_id(self.cfg.experiment or self.model.name)
        found = find_logged_model(experiment, digest)
        if found is not None:
            return found
        package = self.repo / self.model.path
        return log_package(experiment, self.model.name, package, commit, digest)

    def assign(self, version: Version, stage: str) -> None:
        number = number_of(version.version)
        with answering(f"promote {version.tag} to {stage}"):
            history = [n for n in self._history(stage) if n != number] + [number]
            self._record(stage, history)
            client().set_registered_model_alias(version.name, self.cfg.alias(stage), number)

    def unassign(self, version: Version, stage: str) -> None:
        number = number_of(version.version)
        alias = self.cfg.alias(stage)
        with answering(f"roll back {stage}"):
            history = [n for n in self._history(stage) if n != number]
            self._record(stage, history)
            mlflow = client()
            if history:
                mlflow.set_registered_model_alias(version.name, alias, history[-1])
            else:
                mlflow.delete_registered_model_alias(version.name, alias)

    def in_stage(self, stage: str) -> list[Version]:
        """The alias's holder first (what serves, whoever moved it), then the versions
        assigned before it, newest first."""
        with answering(f"read {stage}"):
            holder = self._alias_holder(stage)
            history = self._history(stage)
            numbers = ([holder] if holder else []) + [n for n in reversed(history) if n != holder]
            return [self._version(n) for n in numbers]

    def resolve(self, version: str) -> Version:
        with answering(f"read {self.model.name}@{version}"):
            return self._version(number_of(version))

    def stages(self) -> dict[str, str]:
        name = self.model.name
        with answering(f"read {name}"):
            mlflow = client()
            versions = mlflow.search_model_versions(f"name='{name}'")
            latest = max((int(v.version) for v in versions), default=None)
            shown = {"latest": f"v{latest}" if latest is not None else "-"}
            prefix, suffix = HISTORY_TAG.split("{stage}")
            tags = self._registered_tags()
            for key in sorted(tags):
                if key.startswith(prefix) and key.endswith(suffix):
                    stage = key[len(prefix) : len(key) - len(suffix)]
                    holder = self._alias_holder(stage)
                    shown[stage] = f"v{holder}" if holder else "-"
            return shown

    def package_files(self, version: Version, destination: Path) -> None:
        import mlflow.artifacts

        uri = f"models:/{version.name}/{number_of(version.version)}"
        with answering(f"fetch {version.tag}"):
            client()
            destination.mkdir(parents=True, exist_ok=True)
            mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=str(destination), tracking_uri=server_uri()
            )
        for extra in DOWNLOAD_EXTRAS:
            (destination / extra).unlink(missing_ok=True)

    def package_file(self, version: Version, name: str) -> bytes:
        import mlflow.artifacts

        uri = f"models:/{version.name}/{number_of(version.version)}/{name}"
        with tempfile.TemporaryDirectory() as scratch, answering(f"read {version.tag}"):
            client()
            path = mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=scratch, tracking_uri=server_uri()
            )
            return Path(path).read_bytes()

    def recorded_digest(self, version: Version) -> str:
        with answering(f"read {version.tag}"):
            tags = client().get_model_version(version.name, number_of(version.version)).tags
        digest = tags.get(DIGEST_TAG)
        if not digest:
            raise RegistryError(
                f"{version.tag}: its model version records no {DIGEST_TAG} tag (registered "
                "outside this project's `registry register`), so its package cannot be "
                "checked; register the commit again"
            )
        return str(digest)

    def holds_versions(self) -> bool:
        try:
            name = self.model.name
        except RegistryError:  # no dvc.yaml here: a scratch run
            return False
        with answering(f"read {name}"):
            return bool(client().search_model_versions(f"name='{name}'", max_results=1))

    def holds(self, version: Version) -> bool:
        from mlflow.exceptions import MlflowException

        with answering(f"read {version.tag}"):
            try:
                client().get_model_version(version.name, number_of(version.version))
            except MlflowException as err:
                if _missing(err):
                    return False
                raise
        return True

    def _version(self, number: str) -> Version:
        from mlflow.exceptions import MlflowException

        name = self.model.name
        try:
            found = client().get_model_version(name, number)
        except MlflowException as err:
            if _missing(err):
                raise RegistryError(
                    f"{name}@v{number}: no such version; `make registry` lists them"
                ) from err
            raise
        return Version(name, f"v{found.version}", str(found.tags.get(COMMIT_TAG, "")))

    def _alias_holder(self, stage: str) -> str | None:
        aliases = self._registered().aliases if self._exists() else {}
        holder = aliases.get(self.cfg.alias(stage))
        return str(holder) if holder is not None else None

    def _history(self, stage: str) -> list[str]:
        text = self._registered_tags().get(HISTORY_TAG.format(stage=stage))
        return [str(n) for n in json.loads(text)] if text else []

    def _record(self, stage: str, history: list[str]) -> None:
        client().set_registered_model_tag(
            self.model.name, HISTORY_TAG.format(stage=stage), json.dumps(history)
        )

    def _registered_tags(self) -> dict[str, str]:
        return dict(self._registered().tags) if self._exists() else {}

    def _registered(self) -> Any:
        return client().get_registered_model(self.model.name)

    def _exists(self) -> bool:
        from mlflow.exceptions import MlflowException

        try:
            self._registered()
        except MlflowException as err:
            if _missing(err):
                return False
            raise
        return True


def experiment_id(name: str) -> str:
    """The MLflow experiment called `name`, created on first use."""
    mlflow = client()
    found = mlflow.get_experiment_by_name(name)
    return str(found.experiment_id) if found else str(mlflow.create_experiment(name))


def find_logged_model(experiment: str, digest: str) -> str | None:
    """The newest ready LoggedModel of the package with this digest, if one was logged."""
    found = client().search_logged_models(
        [experiment],
        filter_string=f"tags.`{DIGEST_TAG}` = '{digest}'",
        order_by=[{"field_name": "creation_timestamp", "ascending": False}],
    )
    ready = [m for m in found if str(m.status) in ("READY", "LoggedModelStatus.READY")]
    return str(ready[0].model_id) if ready else None


def log_package(
    experiment: str,
    name: str,
    package: Path,
    commit: str,
    digest: str,
    run_id: str | None = None,
    params: dict[str, str] | None = None,
) -> str:
    """The package folder's files as a LoggedModel (ready once every file is up)."""
    mlflow = client()
    tags = {COMMIT_TAG: commit, DIGEST_TAG: digest}
    model = mlflow.create_logged_model(
        experiment, name=name, source_run_id=run_id, tags=tags, params=params
    )
    try:
        mlflow.log_model_artifacts(model.model_id, str(package))
    except Exception:
        mlflow.finalize_logged_model(model.model_id, "FAILED")
        raise
    mlflow.finalize_logged_model(model.model_id, "READY")
    return str(model.model_id)
