"""A version's package: read from the registry's backend (GTO: DVC at the version's
commit; MLflow: its artifact store), checked against the digest recorded when it was
registered, and fetched into a folder stamped with what it is (registry.json)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..contracts import PackageMetadata
from ..errors import RegistryError
from ..models import artifact
from . import digests
from .backends import backend_of
from .versions import Version, entry

# Written beside a fetched package: which registry version it is, and its digest.
REGISTRY_FILE = "registry.json"
STAMP_KEYS = ("version", "tag", "commit", "digest")


def metadata(version: Version, repo: Path = Path(".")) -> PackageMetadata:
    """The packaged metadata of a version, as registered, checked against the digest the
    registry recorded, parsed once."""
    backend = backend_of(repo)
    where = f"{version.tag}: {entry(repo).path}/{artifact.METADATA_FILE}"
    try:
        loaded = json.loads(backend.package_file(version, artifact.METADATA_FILE))
    except FileNotFoundError as err:
        raise RegistryError(f"{version.tag}: its package is not in DVC's cache or remote") from err
    except json.JSONDecodeError as err:
        raise RegistryError(f"{where} is not valid JSON ({err})") from err
    parsed = artifact.parse_metadata(loaded, where)
    digests.check(backend, version, parsed.digest, where)
    return parsed


def fetch(version: Version, destination: Path, repo: Path = Path(".")) -> Path:
    """Materialise a version's package (GTO: from DVC's cache or remote; MLflow: from its
    artifact store) into `destination`; a folder fetched before is checked again, never
    trusted for being there."""
    backend = backend_of(repo)
    if (destination / artifact.METADATA_FILE).exists():
        digest = artifact.verified(destination).digest
        digests.check(backend, version, digest, str(destination))
        return destination
    partial = destination.with_name(destination.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    backend.package_files(version, partial)
    digest = artifact.verified(partial).digest
    digests.check(backend, version, digest, f"{version.tag} as fetched")
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
    registry's record of the version can be read, the one it recorded.

    In an image (`make image`) there is no registry: the digest was checked against the
    record when the folder was fetched, and the image's own digest covers it from there.
    """
    where = str(directory)
    if digest != stamp.digest:
        raise RegistryError(
            f"{where}: package digest {digest[:12]}... is not the {stamp.digest[:12]}... "
            f"its {REGISTRY_FILE} recorded for {stamp.version.tag}; refusing a package "
            "changed after it was fetched (fetch the version again from the registry)"
        )
    if repo is None:
        return
    backend = backend_of(repo)
    if backend.holds(stamp.version):
        digests.check(backend, stamp.version, digest, where)
