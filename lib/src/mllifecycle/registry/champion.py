"""models/champion.json: the version in effect in prod, as a git-tracked pipeline input.

`promote ... prod` and `rollback prod` write it; once committed, the champion that
`evaluate` compares with and `monitor` judges is the one the commit names (not
whatever the tags say when a stage happens to run), and changing it reruns both.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from .. import paths
from ..errors import RegistryError
from .backends import backend_of
from .packages import REGISTRY_FILE, fetch
from .versions import Version

STAGE = "prod"
KEYS = ("stage", "version", "tag", "commit")


def read(path: Path = paths.CHAMPION) -> Version | None:
    """The champion the file names; None when it names none (or is absent: a scratch run)."""
    if not path.exists():
        return None
    try:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RegistryError(f"{path}: not valid JSON ({err}); restore it with git") from err
    if not isinstance(record, dict) or set(record) != set(KEYS):
        raise RegistryError(f"{path}: expected the keys {list(KEYS)}; restore it with git")
    if record["version"] is None:
        return None
    if not record["tag"] or not record["commit"]:
        raise RegistryError(f"{path}: names {record['version']} without its tag and commit")
    return Version(str(record["tag"]).split("@")[0], str(record["version"]), str(record["commit"]))


def verified(repo: Path = Path("."), path: Path = paths.CHAMPION) -> Version | None:
    """The champion the file names, once the registry agrees that it is the one in prod.

    The file is a workspace file: `dvc exp apply` of an experiment made before a
    promotion, a checkout or a hand edit can change it while the tags say otherwise, and
    then `evaluate` would compare with (and `monitor` judge) the wrong model. Where the
    registry can be read (GTO: its tags are here, and a queued experiment's copy may have
    none), a disagreement stops with one line naming both.
    """
    named = read(repo / path)
    backend = backend_of(repo)
    if not (repo / path).exists() or not backend.holds_versions():
        return named
    versions = backend.in_stage(STAGE)
    in_prod = versions[0] if versions else None
    if _identity(named) == _identity(in_prod):
        return named
    said = named.tag if named else "no version"
    registry_says = in_prod.tag if in_prod else "no version"
    raise RegistryError(
        f"{path} names {said} but the registry has {registry_says} in {STAGE}: restore the "
        f"file (`git checkout {path}`, or `promote`/`rollback` to set both), then rerun"
    )


def _identity(version: Version | None) -> tuple[str, str] | None:
    return (version.tag, version.commit) if version else None


def write(version: Version | None, repo: Path = Path(".")) -> Path:
    """Record `version` (None: nothing) as the one in effect in prod."""
    record = {
        "stage": STAGE,
        "version": version.version if version else None,
        "tag": version.tag if version else None,
        "commit": version.commit if version else None,
    }
    path = repo / paths.CHAMPION
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def package(version: Version, fix: str, repo: Path = Path(".")) -> Path:
    """The champion's package, fetched from DVC at its commit into build/champions/<version>.

    A tracked input that cannot be read stops the stage with one line naming
    the version and `fix`.
    """
    destination = repo / paths.CHAMPIONS_DIR / version.version
    stamp = destination / REGISTRY_FILE
    if stamp.exists() and json.loads(stamp.read_text())["commit"] != version.commit:
        shutil.rmtree(destination)  # another registry's version of the same name
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        return fetch(version, destination, repo)
    except Exception as err:  # DVC and git raise many kinds; all mean "cannot read it"
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RegistryError(
            f"{paths.CHAMPION} names {version.tag} (commit {version.commit[:8]}), but its "
            f"package cannot be read ({reason}); {fix}"
        ) from err
