"""A version's package: read from DVC at its commit, checked against the digest its tag
recorded, and fetched into a folder stamped with what it is (registry.json)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..contracts import PackageMetadata
from ..errors import RegistryError
from ..models import artifact
from . import digests
from .versions import Version, entry, git

# Written beside a fetched package: which registry version it is, and its digest.
REGISTRY_FILE = "registry.json"
STAMP_KEYS = ("version", "tag", "commit", "digest")


def metadata(version: Version, repo: Path = Path(".")) -> PackageMetadata:
    """The packaged metadata of a version, read from git and DVC at its commit, checked
    against the digest its tag recorded, parsed once."""
    from dvc.api import DVCFileSystem

    fs = DVCFileSystem(str(repo), rev=version.commit)
    path = f"{entry(repo).path}/{artifact.METADATA_FILE}"
    try:
        with fs.open(path) as handle:
            loaded = json.load(handle)
    except FileNotFoundError as err:
        raise RegistryError(f"{version.tag}: its package is not in DVC's cache or remote") from err
    except json.JSONDecodeError as err:
        raise RegistryError(f"{version.tag}: {path} is not valid JSON ({err})") from err
    where = f"{version.tag}: {path}"
    parsed = artifact.parse_metadata(loaded, where)
    digests.check(version, parsed.digest, repo, where)
    return parsed


def fetch(version: Version, destination: Path, repo: Path = Path(".")) -> Path:
    """Materialise a version's package (from DVC's cache or remote) into `destination`;
    a folder fetched before is checked again, never trusted for being there."""
    from dvc.api import DVCFileSystem

    if (destination / artifact.METADATA_FILE).exists():
        digests.check(version, artifact.verified(destination).digest, repo, str(destination))
        return destination
    partial = destination.with_name(destination.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    fs = DVCFileSystem(str(repo), rev=version.commit)
    fs.get(entry(repo).path, str(partial), recursive=True)
    digest = artifact.verified(partial).digest
    digests.check(version, digest, repo, f"{version.tag} as fetched")
    # Beside the package, not in it: the package's own files stay byte for byte.
    stamp = {"version": version.version, "tag": version.tag, "commit": version.commit}
    (partial / REGISTRY_FILE).write_text(json.dumps({**stamp, "digest": digest}, indent=2) + "\n")
    partial.replace(destination)
    return destination


@dataclass(frozen=True)
class Stamp:
    """What registry.json says a fetched folder holds."""

    version: Version
    digest: str


def stamp_of(directory: Path) -> Stamp | None:
    """The folder's registry.json, None when it has none (a package never registered)."""
    path = directory / REGISTRY_FILE
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RegistryError(f"{path}: not valid JSON ({err}); fetch the version again") from err
    if not isinstance(record, dict) or set(record) != set(STAMP_KEYS):
        raise RegistryError(
            f"{path}: expected the keys {list(STAMP_KEYS)} (a folder fetched before "
            "digests were recorded lacks `digest`); fetch the version again"
        )
    name = str(record["tag"]).partition("@")[0]
    return Stamp(Version(name, str(record["version"]), str(record["commit"])), record["digest"])


def check_folder(directory: Path, stamp: Stamp, digest: str, repo: Path | None) -> None:
    """A fetched folder's package must be the one its stamp names, and, where the
    registry's tags can be read, the one the tag recorded.

    In an image (`make image`) there are no tags: the digest was checked against the tag
    when the folder was fetched, and the image's own digest covers it from there.
    """
    where = str(directory)
    if digest != stamp.digest:
        raise RegistryError(
            f"{where}: package digest {digest[:12]}... is not the {stamp.digest[:12]}... "
            f"its {REGISTRY_FILE} recorded for {stamp.version.tag}; refusing a package "
            "changed after it was fetched (fetch the version again from the registry)"
        )
    if repo is not None and git(repo, "tag", "--list", stamp.version.tag, check=False):
        digests.check(stamp.version, digest, repo, where)
