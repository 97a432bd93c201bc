"""One module per DVC stage; each reads params, calls the library, writes its outputs."""

from __future__ import annotations

import sys
from collections.abc import Callable

from ..errors import PipelineError


def run_stage(name: str, body: Callable[[], None]) -> None:
    """Run a stage; a PipelineError stops `dvc repro` with one clear message."""
    try:
        body()
    except PipelineError as err:
        print(f"stage {name!r} failed: {err}", file=sys.stderr)
        sys.exit(1)
