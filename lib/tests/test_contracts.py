"""The typed, versioned contracts: today's artifacts still load, unknown versions are refused.

tests/fixtures/package_v1 is a package written by the code before contracts existed
(no schema_version), from a render whose module was `contracts_fixture`, with the
demo's `linear` model; requests.json and answers.json are that code's /predict answers
to 25 test-split records. Its model.skops records the module path of the project's own
class (`contracts_fixture.features.normalise.CategoryNormaliser`), and every render
has another module name, while a binary file is copied into a render as it is. So
`v1_package` first proves the stored fixture untouched (its SHA-256 and its digest,
computed here independently of the code under test), then renames that one module path
in the zip's schema.json to this render's, and stamps the new file hash and digest
into the metadata, changing no other field: what a package of this project, written
by the old code, holds.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from mllifecycle import (
    registry,
)
from mllifecycle.contracts import (
    MonitorSummary,
    PackageMetadata,
    PredictionRecord,
    Verdict,
)
from mllifecycle.errors import (
    ContractError,
    PipelineError,
    RegistryError,
)
from mllifecycle.models import (
    artifact,
)
from mllifecycle.monitoring import (
    verdict as monitor_verdict,
)
from mllifecycle.registry import digests
from mllifecycle.serving import (
    loading,
    prediction_log,
)
from mllifecycle.serving.app import (
    create_app,
)
from mllifecycle.serving.settings import (
    ServeSettings,
)
from mllifecycle.testing import serving

from .conftest import PACKAGE

FIXTURES = Path(__file__).parent / "fixtures"
V1_PACKAGE, V1_REPORTS = FIXTURES / "package_v1", FIXTURES / "reports_v1"
FIXTURE_MODULE = "contracts_fixture"
UNKNOWN = 7
REFUSAL = rf"schema_version {UNKNOWN} is not one this code reads \(1\)"


def canonical_digest(metadata: dict[str, Any]) -> str:
    """The package digest as the old code defined it, written out here on purpose."""
    covered = {k: v for k, v in metadata.items() if k not in ("version", "digest")}
    text = json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def restamp(metadata: dict[str, Any], model_file: Path) -> dict[str, Any]:
    metadata["sha256"] = hashlib.sha256(model_file.read_bytes()).hexdigest()
    metadata["digest"] = canonical_digest(metadata)
    metadata["version"] = metadata["digest"][:12]
    return metadata


def v1_package(destination: Path) -> Path:
    """The fixture package, its module path renamed to this render's (see the docstring)."""
    stored = json.loads((V1_PACKAGE / "metadata.json").read_text())
    model_bytes = (V1_PACKAGE / "model.skops").read_bytes()
    assert "schema_version" not in stored  # written before versions existed
    assert hashlib.sha256(model_bytes).hexdigest() == stored["sha256"]
    assert canonical_digest(stored) == stored["digest"]  # the fixture is as written
    destination.mkdir(parents=True)
    with (
        zipfile.ZipFile(V1_PACKAGE / "model.skops") as source,
        zipfile.ZipFile(destination / "model.skops", "w", zipfile.ZIP_STORED) as target,
    ):
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "schema.json":
                data = data.replace(f'"{FIXTURE_MODULE}.'.encode(), f'"{PACKAGE}.'.encode())
            target.writestr(member, data)
    metadata = restamp(stored, destination / "model.skops")
    (destination / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    return destination


def with_version(folder: Path, version: Any) -> Path:
    """The package with `schema_version` set (and the digest stamped, so only it differs)."""
    path = folder / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata["schema_version"] = version
    path.write_text(json.dumps(restamp(metadata, folder / "model.skops")))
    return path


def test_the_service_answers_a_v1_package_with_its_old_decisions(tmp_path: Path) -> None:
    folder = v1_package(tmp_path / "package")
    request = json.loads((V1_PACKAGE / "requests.json").read_text())
    expected = json.loads((V1_PACKAGE / "answers.json").read_text())["predictions"]
    settings = ServeSettings(
        allow_unregistered=True, model_dir=folder, prediction_log=tmp_path / "log.jsonl"
    )
    with serving(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        answer = client.post("/predict", json=request)
        meta = client.get("/metadata").json()
    assert answer.status_code == 200, answer.text
    got = answer.json()["predictions"]
    assert [p["decision"] for p in got] == [p["decision"] for p in expected]
    assert [p["id"] for p in got] == [p["id"] for p in expected]
    for new, old in zip(got, expected, strict=True):
        assert new["scores"] == pytest.approx(old["scores"], abs=1e-6)
    assert meta["name"] == "churn" and meta["input_schema"][0]["name"] == "tenure_months"
    # The service's own log lines are records of the current version, and read back.
    log, deadline = tmp_path / "log.jsonl", time.monotonic() + 30
    while not log.exists() and time.monotonic() < deadline:  # written after the answer
        time.sleep(0.05)
    logged = prediction_log.records(log)
    assert len(logged) == len(expected) and logged[0].schema_version == 1


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def dvc(repo: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, check=True)


def registered_v1(repo: Path, message: str | None = None) -> registry.Version:
    """A repository whose commit holds the v1 package in DVC, tagged churn@v0.0.1 with
    `message` (by default the one `register` writes, recording the package's digest)."""
    package = v1_package(repo / "models" / "package")
    digest = json.loads((package / "metadata.json").read_text())["digest"]
    git(repo, "init", "-q")
    for key, value in (("user.name", "t"), ("user.email", "t@example.com")):
        git(repo, "config", key, value)
    dvc(repo, "init", "-q")
    dvc(repo, "add", "-q", "models/package")
    (repo / "dvc.yaml").write_text(
        "artifacts:\n  churn:\n    path: models/package\n    type: model\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "package")
    git(repo, "tag", "-a", "churn@v0.0.1", "-m", message or digests.tag_message("churn", digest))
    return registry.resolve("v0.0.1", repo)


def test_the_registry_reads_a_v1_package_at_its_commit(tmp_path: Path) -> None:
    """Registered (a tagged commit, the package in DVC), then read back as the registry does."""
    repo = tmp_path / "repo"
    version = registered_v1(repo)
    read = registry.metadata(version, repo)
    assert isinstance(read, PackageMetadata) and read.schema_version == 1
    assert read.input_names[0] == "tenure_months" and read.decision_policy.kind == "threshold"
    folder = registry.fetch(version, tmp_path / "fetched", repo)
    assert artifact.load(folder).metadata == read
    stamp = json.loads((folder / registry.REGISTRY_FILE).read_text())
    assert stamp["tag"] == version.tag and stamp["digest"] == read.digest
    # Its verdict failed with no override: the registry reads the criteria to say so, and
    # the fetched folder (what `make image` bakes in) is refused as prod would refuse it.
    failed = next(c.name for c in read.verdict.criteria if not c.passed)
    with pytest.raises(RegistryError, match=rf"churn@v0.0.1 failed .*{failed}"):
        registry.require_promotable(version.tag, read, "prod")
    with pytest.raises(RegistryError, match=rf"churn@v0.0.1 failed .*{failed}"):
        loading.from_dir(folder, unregistered=True)


def tampered(folder: Path, threshold: float) -> str:
    """Edit the packaged threshold and recompute the package's own digest, as whoever
    edits metadata.json can: the package then agrees with itself."""
    path = folder / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata["decision_policy"]["value"] = threshold
    path.write_text(json.dumps(restamp(metadata, folder / "model.skops"), indent=2))
    assert artifact.verified(folder).digest == metadata["digest"]  # consistent in itself
    return str(metadata["digest"])


def test_a_package_edited_after_registration_is_refused_at_every_load(tmp_path: Path) -> None:
    """The package's own digest is unkeyed: an edit with the digest recomputed loaded. The
    tag recorded the digest at registration; fetch, the fetched folder and its stamp are
    checked against it (metadata and registry.json included)."""
    repo = tmp_path / "repo"
    version = registered_v1(repo)
    registered = registry.metadata(version, repo).digest
    folder = registry.fetch(version, tmp_path / "fetched", repo)
    edited = tampered(folder, 0.9225)
    mismatch = rf"package digest {edited[:12]}\.\.\. is not the {registered[:12]}\.\.\."
    with pytest.raises(RegistryError, match=mismatch + r".*its registry.json recorded"):
        loading.from_dir(folder)  # an image: no tags, the stamp recorded the digest
    with pytest.raises(RegistryError, match=mismatch + r" that churn@v0.0.1 recorded"):
        registry.fetch(version, folder, repo)  # fetched before: checked again, not trusted
    stamp_path = folder / registry.REGISTRY_FILE
    stamp = json.loads(stamp_path.read_text())
    stamp_path.write_text(json.dumps({**stamp, "digest": edited}))  # the stamp edited too
    with pytest.raises(RegistryError, match=mismatch + r" that churn@v0.0.1 recorded"):
        loading.from_dir(folder, repo=repo)  # where the tags are, they decide
    stamp_path.write_text(json.dumps({k: v for k, v in stamp.items() if k != "digest"}))
    with pytest.raises(RegistryError, match=r"registry.json: expected the keys .* fetch"):
        loading.from_dir(folder)  # a folder fetched before digests were recorded


def test_a_tag_that_records_another_digest_or_none_is_refused(tmp_path: Path) -> None:
    """A hand-made tag (or one from before digests) names no package to check against; a
    tag recording another digest means the package in DVC is not the registered one."""
    repo = tmp_path / "repo"
    version = registered_v1(repo, message="registered")
    for read in (
        lambda: registry.metadata(version, repo),
        lambda: registry.fetch(version, tmp_path / "fetched", repo),
    ):
        with pytest.raises(
            RegistryError, match=r"churn@v0\.0\.1: its tag records no package"
        ) as no:
            read()
        assert "git tag -f -a churn@v0.0.1" in str(no.value) and "\n" not in str(no.value)
    assert not (tmp_path / "fetched").exists()
    other = digests.tag_message("churn", "0" * 64)
    git(repo, "tag", "-f", "-a", version.tag, version.commit, "-m", other)
    with pytest.raises(RegistryError, match=r"churn@v0.0.1 as fetched: package digest"):
        registry.fetch(version, tmp_path / "fetched", repo)
    assert not (tmp_path / "fetched").exists()


def test_a_package_of_an_unknown_schema_version_is_refused_in_one_line(tmp_path: Path) -> None:
    folder = v1_package(tmp_path / "package")
    path = with_version(folder, UNKNOWN)
    for load in (
        lambda: artifact.load(folder),
        lambda: loading.from_dir(folder, unregistered=True),
        lambda: create_app(
            ServeSettings(allow_unregistered=True, model_dir=folder, prediction_log=tmp_path / "l")
        ),
    ):
        with pytest.raises(ContractError, match=re.escape(f"{path}: ") + REFUSAL) as refused:
            load()
        assert "\n" not in str(refused.value)
    with pytest.raises(ContractError, match=REFUSAL):  # as the registry parses it
        PackageMetadata.parse(json.loads(path.read_text()), "churn@v9.9.9: models/package")


def test_the_registry_refuses_an_unknown_schema_version(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    with_version(v1_package(repo / "models" / "package"), UNKNOWN)
    git(repo, "init", "-q")
    for key, value in (("user.name", "t"), ("user.email", "t@example.com")):
        git(repo, "config", key, value)
    dvc(repo, "init", "-q")
    dvc(repo, "add", "-q", "models/package")
    (repo / "dvc.yaml").write_text(
        "artifacts:\n  churn:\n    path: models/package\n    type: model\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "package")
    git(repo, "tag", "-a", "churn@v0.0.1", "-m", "registered")
    version = registry.resolve("v0.0.1", repo)
    with pytest.raises(
        PipelineError, match=r"churn@v0.0.1: models/package/metadata.json: " + REFUSAL
    ):
        registry.metadata(version, repo)


def test_todays_reports_and_log_lines_still_parse() -> None:
    verdict = Verdict.read(V1_REPORTS / "verdict.json")
    assert verdict.schema_version == 1 and verdict.criteria and verdict.slices
    summary = MonitorSummary.read(V1_REPORTS / "monitor.json")
    assert summary.current_rows > 0 and summary.prediction_drift is not None
    logged = prediction_log.records(V1_REPORTS / "predictions.jsonl")
    assert len(logged) == 3 and logged[0].champion.decision in ("0", "1")


@pytest.mark.parametrize(
    ("reader", "name"),
    [
        (lambda p: Verdict.read(p), "verdict.json"),
        (lambda p: MonitorSummary.read(p), "monitor.json"),
        (lambda p: prediction_log.read(p), "predictions.jsonl"),
    ],
)
def test_reports_and_log_lines_of_an_unknown_version_are_refused(
    tmp_path: Path, reader: Any, name: str
) -> None:
    path = tmp_path / name
    if name.endswith(".jsonl"):
        lines = (V1_REPORTS / name).read_text().splitlines()
        record = {**json.loads(lines[1]), "schema_version": UNKNOWN}
        path.write_text("\n".join([lines[0], json.dumps(record)]) + "\n")
        where = re.escape(f"{path}:2: ")
    else:
        path.write_text(
            json.dumps({**json.loads((V1_REPORTS / name).read_text()), "schema_version": UNKNOWN})
        )
        where = re.escape(f"{path}: ")
    with pytest.raises(ContractError, match=where + REFUSAL) as refused:
        reader(path)
    assert "\n" not in str(refused.value)


def test_the_retrain_verdict_refuses_an_unknown_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitor.json"
    summary = json.loads((V1_REPORTS / "monitor.json").read_text())
    path.write_text(json.dumps({**summary, "schema_version": UNKNOWN}))
    assert monitor_verdict.retrain_status(path) == monitor_verdict.NO_VERDICT
    assert re.search(REFUSAL, capsys.readouterr().err)


def test_contracts_refuse_unknown_keys(tmp_path: Path) -> None:
    record = json.loads((V1_REPORTS / "predictions.jsonl").read_text().splitlines()[0])
    with pytest.raises(
        ContractError, match=r"log:1: not a valid prediction-log record .*surprise: Extra inputs"
    ):
        PredictionRecord.parse({**record, "surprise": 1}, "log:1")
    log = tmp_path / "x.jsonl"
    with pytest.raises(ContractError, match="not a valid prediction-log record"):
        prediction_log.PredictionLog(log).append([record, {"request_id": "r"}])
    assert not log.exists()  # nothing half-written


def test_writers_stamp_the_version(tmp_path: Path) -> None:
    folder = v1_package(tmp_path / "old")
    loaded = artifact.load(folder)
    shutil.copytree(folder, tmp_path / "again")
    saved = artifact.save(tmp_path / "again", loaded.pipeline, loaded.metadata)
    written = json.loads((tmp_path / "again" / "metadata.json").read_text())
    assert written["schema_version"] == 1 and written["version"] == saved.version
    assert artifact.load(tmp_path / "again").metadata.input_schema == loaded.metadata.input_schema
