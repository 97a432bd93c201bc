"""The model registry: versions and stages as git tags (GTO), files in DVC.

A version is a commit whose dvc.lock pins `models/package`; `register` tags
it (`name@v0.0.3`), `promote` assigns it to a stage (`name#prod#4`), and
`rollback` unassigns the newest prod version so the one before it serves
again. Both record the version then in effect in prod in the git-tracked
models/champion.json, the champion `evaluate` and `monitor` read. Nothing is copied or overwritten: every version stays in git and in
DVC's cache, so the way back is always there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..contracts import PackageMetadata, VerdictCore
from ..errors import RegistryError

# Stages that serve real decisions: a version gets there only with a passed
# (or explicitly overridden) evaluation verdict.
PROTECTED_STAGES = frozenset({"prod"})
# Written beside a fetched package: which registry version it is.
REGISTRY_FILE = "registry.json"


@dataclass(frozen=True)
class Entry:
    """The artifact declared in dvc.yaml's `artifacts:` section."""

    name: str
    path: str


@dataclass(frozen=True)
class Version:
    name: str
    version: str
    commit: str

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"


def entry(repo: Path = Path(".")) -> Entry:
    """The model artifact named in dvc.yaml (the first one of type model)."""
    pipeline = repo / "dvc.yaml"
    if not pipeline.exists():
        raise RegistryError(f"{pipeline}: not found; the registry lives in a DVC repository")
    artifacts = yaml.safe_load(pipeline.read_text()).get("artifacts") or {}
    for name, spec in artifacts.items():
        if spec.get("type") == "model":
            return Entry(name=name, path=spec["path"])
    raise RegistryError(f"{repo / 'dvc.yaml'}: no artifact of type model under `artifacts:`")


def _gto(action: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    from gto.exceptions import GTOException  # gto comes with dvc; imported only when used

    try:
        return call(*args, **kwargs)
    except GTOException as err:
        raise RegistryError(f"{action}: {err}") from err


def in_stage(stage: str, repo: Path = Path(".")) -> list[Version]:
    """Versions assigned to `stage`, the one in effect first."""
    import gto.api
    from gto.exceptions import ArtifactNotFound

    artifact = entry(repo)
    try:
        found = gto.api.find_versions_in_stage(
            str(repo), artifact.name, stage, versions_per_stage=-1
        )
    except ArtifactNotFound:  # nothing registered yet
        return []
    return [Version(artifact.name, v.version, v.commit_hexsha) for v in found or []]


def current(stage: str, repo: Path = Path(".")) -> Version | None:
    versions = in_stage(stage, repo)
    return versions[0] if versions else None


def resolve(version: str, repo: Path = Path(".")) -> Version:
    """A registered version by its name (v0.0.3)."""
    artifact = entry(repo)
    tag = f"{artifact.name}@{version}"
    commit = _git(repo, "rev-list", "-n", "1", tag, check=False)
    if not commit:
        raise RegistryError(f"{tag}: no such version; `make registry` lists them")
    return Version(artifact.name, version, commit)


def metadata(version: Version, repo: Path = Path(".")) -> PackageMetadata:
    """The packaged metadata of a version, read from git and DVC at its commit, parsed once."""
    from dvc.api import DVCFileSystem

    fs = DVCFileSystem(str(repo), rev=version.commit)
    path = f"{entry(repo).path}/metadata.json"
    try:
        with fs.open(path) as handle:
            loaded = json.load(handle)
    except FileNotFoundError as err:
        raise RegistryError(f"{version.tag}: its package is not in DVC's cache or remote") from err
    except json.JSONDecodeError as err:
        raise RegistryError(f"{version.tag}: {path} is not valid JSON ({err})") from err
    return PackageMetadata.parse(loaded, f"{version.tag}: {path}")


def fetch(version: Version, destination: Path, repo: Path = Path(".")) -> Path:
    """Materialise a version's package (from DVC's cache or remote) into `destination`."""
    from dvc.api import DVCFileSystem

    if (destination / "metadata.json").exists():
        return destination
    partial = destination.with_name(destination.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    fs = DVCFileSystem(str(repo), rev=version.commit)
    fs.get(entry(repo).path, str(partial), recursive=True)
    # Beside the package, not in it: the package's own files stay byte for byte.
    stamp = {"version": version.version, "tag": version.tag, "commit": version.commit}
    (partial / REGISTRY_FILE).write_text(json.dumps(stamp, indent=2) + "\n")
    partial.replace(destination)
    return destination


def register(repo: Path = Path("."), bump: str = "patch") -> Version:
    """Tag HEAD as a new version; HEAD must hold the packaged model the workspace has."""
    import gto.api

    _require_committed_package(repo)
    artifact = entry(repo)
    first = _latest(artifact, repo) == "-"
    tag = _gto(
        "register",
        gto.api.register,
        str(repo),
        artifact.name,
        ref="HEAD",
        **({} if first else {f"bump_{bump}": True}),
    )
    return Version(artifact.name, tag.version, _git(repo, "rev-parse", "HEAD"))


def promote(version: str, stage: str, repo: Path = Path(".")) -> Version:
    """Assign a version to a stage; protected stages refuse a failed verdict."""
    import gto.api

    target = resolve(version, repo)
    if stage in PROTECTED_STAGES:
        require_promotable(target.tag, metadata(target, repo), stage)
    _gto(
        f"promote {target.tag} to {stage}",
        gto.api.assign,
        str(repo),
        target.name,
        stage,
        version=version,
    )
    _record_champion(stage, repo)
    return target


def rollback(stage: str = "prod", repo: Path = Path(".")) -> tuple[Version, Version]:
    """Unassign the version in effect; the previous one in that stage serves again."""
    import gto.api

    versions = in_stage(stage, repo)
    if not versions:
        raise RegistryError(f"nothing is in {stage!r}, so there is nothing to roll back")
    if len(versions) < 2:
        raise RegistryError(
            f"{versions[0].tag} is the only version ever assigned to {stage!r}; "
            "there is no earlier version to roll back to"
        )
    withdrawn, restored = versions[0], versions[1]
    _gto(
        f"roll back {stage}",
        gto.api.unassign,
        str(repo),
        withdrawn.name,
        version=withdrawn.version,
        stage=stage,
    )
    _record_champion(stage, repo)
    return withdrawn, restored


def _record_champion(stage: str, repo: Path) -> None:
    """After a change to prod, models/champion.json names the version now in effect there."""
    from . import champion

    if stage == champion.STAGE:
        champion.write(current(stage, repo), repo)


def stages(repo: Path = Path(".")) -> dict[str, str]:
    """What is where: the latest version, then the version in effect per stage."""
    import gto.api

    artifact = entry(repo)
    shown = {"latest": _latest(artifact, repo)}
    for stage in _gto("list stages", gto.api.get_stages, str(repo)) or []:
        version = current(stage, repo)
        shown[stage] = version.version if version else "-"
    return shown


def _latest(artifact: Entry, repo: Path) -> str:
    import gto.api
    from gto.exceptions import ArtifactNotFound

    try:
        latest = gto.api.find_latest_version(str(repo), artifact.name)
    except ArtifactNotFound:
        return "-"
    return latest.version if latest is not None else "-"


# What to do about a failed verdict, by whoever meets it.
RECORD_OVERRIDE = (
    "Set evaluate.accept_failed_verdict (approved_by and reason) and rerun the pipeline "
    "to record an override."
)
WITHDRAW = (
    "Withdraw it (`make rollback STAGE={stage}`), or register and promote a run that "
    "records an override (evaluate.accept_failed_verdict: approved_by and reason)."
)


def require_promotable(
    tag: str, meta: PackageMetadata, stage: str, fix: str = RECORD_OVERRIDE
) -> None:
    """A version in a protected stage needs a passed verdict or a recorded override.

    `promote` asks before assigning; the service and batch scoring ask again on loading,
    since a version can also reach the stage by `gto assign` or a hand-made tag.
    """
    verdict: VerdictCore = meta.verdict
    failed = [c for c in verdict.criteria if not c.passed]
    passed = bool(verdict.criteria) and not failed
    if verdict.promotable and (passed or verdict.override):
        return
    reasons = "; ".join(f"{c.name}: observed {c.observed}, required {c.required}" for c in failed)
    raise RegistryError(
        f"{tag} failed its evaluation verdict ({reasons or 'no verdict recorded'}) and has "
        f"no recorded override, so it may not be in {stage!r}. " + fix.format(stage=stage)
    )


def _require_committed_package(repo: Path) -> None:
    if _git(repo, "status", "--porcelain", "--", "dvc.lock", "dvc.yaml", "params.yaml"):
        raise RegistryError(
            "dvc.lock, dvc.yaml or params.yaml has uncommitted changes; commit the run you "
            "want to register (a version is a commit)"
        )
    from dvc.repo import Repo

    with Repo(str(repo)) as dvc:
        if dvc.status(targets=["package"], with_deps=True):
            raise RegistryError(
                "the pipeline is out of date (`dvc status`); run `dvc repro` and commit first"
            )


def _git(repo: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RegistryError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip() if result.returncode == 0 else ""
