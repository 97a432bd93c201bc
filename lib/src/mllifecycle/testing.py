"""Helpers for a project's own tests: the pipeline in a scratch folder, the service on
a loopback port. The library's tests use the same ones.
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from .compose import composed
from .config import Params, parse_params
from .stages import NAMES

# A smaller demo, for smoke runs.
SMALL_DEMO = ("data.demo.n_rows=6000", "data.demo.n_production_rows=1500")


def params_of(root: Path, overrides: Sequence[str] = ()) -> Params:
    """conf/ of the project at `root` composed with Hydra overrides, as `make params` does."""
    return parse_params(composed(list(overrides), root / "conf"))


def run_pipeline(root: Path, folder: Path, params: Params, stages: Sequence[str] = NAMES) -> Path:
    """Run `stages` in order (in-process, as `dvc repro` would) in `folder`, on `params`
    and the suites of the project at `root`; relative data paths are read from `root`."""
    data = params.data.model_copy(
        update={
            "path": _in(root, params.data.path),
            "production_path": _in(root, params.data.production_path),
        }
    )
    params = params.model_copy(update={"data": data})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "params.yaml").write_text(
        yaml.safe_dump(params.model_dump(mode="json", by_alias=True))
    )
    shutil.copytree(root / "gx", folder / "gx", dirs_exist_ok=True)
    run_stages(folder, stages)
    return folder


def run_stages(folder: Path, names: Sequence[str]) -> None:
    """Run stage modules in order from `folder`, as `dvc repro` would (in-process)."""
    before = Path.cwd()
    os.chdir(folder)
    try:
        for name in names:
            importlib.import_module(f"{__package__}.stages.{name}").main()
    finally:
        os.chdir(before)


def _in(root: Path, location: str | None) -> str | None:
    """A relative local path as seen from `root` (stages run in a scratch folder)."""
    if location is None or location.startswith("sql:") or "://" in location:
        return location
    return str(root / location)  # an absolute path stays as it is


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app under uvicorn on a free loopback port for the block; yields its base URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the service did not start within 30 s")
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
