"""Fitted models on disk, in a format that cannot run code when it is loaded.

Unpickling a file runs whatever code it names, so every fitted model the
pipeline writes (the intermediate preprocessor, model and baseline, and the
package that travels to the registry, an image, a colleague's laptop) is saved
with skops instead, through `write_model` and `read_model`: loading rebuilds
only allow-listed types (scikit-learn's, plus the LightGBM types below, whose
trees are LightGBM's own text format) and refuses anything else.

Files are written byte-reproducibly (skops' random member names, object ids
and zip timestamps replaced by stable ones), so an unchanged model keeps its
version.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import skops.io as sio

from .. import paths
from ..errors import ArtifactError
from ..features.derived import KINDS
from ..io import write_bytes
from . import candidates

# Any fixed time will do: zip cannot store one before 1980.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# Reviewed types outside skops' default trust: they hold data, not code. Each
# candidate names its own in models/candidates.py (a project's own ones too, once
# registered: `trusted`).
TRUSTED_TYPES = {
    "numpy.dtype",
    # Our own, reviewed: it maps text to text.
    "mllifecycle.features.normalise.CategoryNormaliser",
    # Appends the derived features' columns (features/pipeline.py).
    "mllifecycle.features.pipeline.DerivedColumns",
    # Skewed-feature transforms (features/transforms.py): method names and fitted powers.
    "mllifecycle.features.transforms.SkewTransformer",
    # The derived kinds of features/derived.py: this project's own code, whose
    # fitted state is plain data (names, attributes).
    *(f"{kind.__module__}.{kind.__qualname__}" for kind in KINDS.values()),
}


def trusted(found: list[str]) -> set[str]:
    """The types of `found` to trust: the reviewed ones, and the team's own derived kinds."""
    reviewed = TRUSTED_TYPES | candidates.trusted_types()
    return {name for name in found if name in reviewed or is_project_kind(name)}


def is_project_kind(type_name: str) -> bool:
    """A derived-feature kind of the project's own code (`is_project_code`)."""
    from ..features.derived import Derived

    module_name, _, class_name = type_name.rpartition(".")
    if not is_project_code(module_name):
        return False
    found = getattr(importlib.import_module(module_name), class_name, None)
    return isinstance(found, type) and issubclass(found, Derived) and found.DECLARED is not None


def is_project_code(module_name: str) -> bool:
    """Whether a module is the project's own code, which the team wrote and reviews like
    the library's; never a module from anywhere else. Its package is one of the project's
    own: a package in the `src/` folder beside a project's dvc.yaml (where the pipeline
    imports it from), or one of the packages in `src/` of the project root the process
    runs in (where a service image, which installs it, keeps its sources)."""
    top = module_name.partition(".")[0]
    if not top.isidentifier():
        return False
    if top in own_packages(paths.find_root()):
        return True
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin is None:
        return False
    package_dir = Path(spec.origin).resolve().parent
    return package_dir.parent.name == "src" and (package_dir.parent.parent / "dvc.yaml").is_file()


def own_packages(root: Path) -> set[str]:
    """The packages of a project's own code: the folders of `root/src` with an __init__.py."""
    code = root / paths.PROJECT_CODE
    if not code.is_dir():
        return set()
    return {folder.name for folder in code.iterdir() if (folder / "__init__.py").is_file()}


def sha256_of(path: Path) -> str:
    """A file's SHA-256; for a directory of parts (the dask engine's tables), the SHA-256
    of each file's relative name and digest, in name order."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        listing = "".join(f"{p.relative_to(path).as_posix()} {sha256_of(p)}\n" for p in files)
        return hashlib.sha256(listing.encode()).hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _renumbered(schema: Any, members: set[str]) -> tuple[Any, dict[str, str]]:
    """skops' schema with object ids (from `id()`) and member names (random) numbered in
    the order they appear, and the new name of each member."""
    ids: dict[int, int] = {}
    files: dict[str, str] = {}

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        renamed: dict[str, Any] = {}
        for key, value in node.items():
            if key == "__id__" and isinstance(value, int):
                renamed[key] = ids.setdefault(value, len(ids))
            elif key == "file" and isinstance(value, str) and value in members:
                renamed[key] = files.setdefault(value, f"{len(files)}{Path(value).suffix}")
            else:
                renamed[key] = visit(value)
        return renamed

    return visit(schema), files


def _reproducible(dumped: bytes) -> bytes:
    """The same skops zip with stable member names, object ids, order and timestamps."""
    with zipfile.ZipFile(io.BytesIO(dumped)) as source:
        members = {name: source.read(name) for name in source.namelist()}
    schema, files = _renumbered(json.loads(members.pop("schema.json")), set(members))
    entries = [("schema.json", json.dumps(schema, indent=2).encode())]
    entries += sorted((new, members[old]) for old, new in files.items())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as target:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.create_system, info.external_attr = 3, 0o644 << 16  # the same on every OS
            target.writestr(info, content)
    return buffer.getvalue()


def write_model(estimator: Any, path: Path) -> None:
    """Save a fitted estimator as a reproducible skops file; refuse types outside the
    allow-list before anything is written, so `read_model` can always load it."""
    dumped = _reproducible(sio.dumps(estimator))
    found = sio.get_untrusted_types(data=dumped)
    unknown = sorted(set(found) - trusted(found))
    if unknown:
        raise ArtifactError(
            f"{path}: the model holds types that cannot be loaded safely: {unknown}; review "
            "them and add them to the candidate's trusted_types in models/candidates.py"
        )
    write_bytes(dumped, path)


def read_model(path: Path) -> Any:
    """The estimator in a skops file, rebuilt only from allow-listed types; anything
    else (another type, a pickle under this name) is refused before it can run."""
    if not path.exists():
        raise ArtifactError(f"{path}: not found; run the stage that writes it (`dvc repro`)")
    try:
        found = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError) as err:
        raise ArtifactError(
            f"{path}: not a skops model file ({err}); refusing to load it, since a pickle "
            "or other format in its place could run code"
        ) from err
    unknown = sorted(set(found) - trusted(found))
    if unknown:
        raise ArtifactError(f"{path}: refusing to load untrusted types {unknown}")
    return sio.load(path, trusted=found)
