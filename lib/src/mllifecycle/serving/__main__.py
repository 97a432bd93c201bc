"""`mllifecycle serve --port 8000` (or `python -m mllifecycle.serving`): load the model, then serve it.

One worker process per core by default (SERVE_WORKERS=N to change): scoring holds
the GIL, so one process serves one core. Each worker builds the app itself (the
factory) and listens only once its warm-up is done (uvicorn runs the lifespan
start-up before it accepts on the shared socket), so /ready is true of whichever
worker answers it.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from ..errors import PipelineError
from .app import create_app
from .settings import ServeSettings

FACTORY = f"{__package__}.app:create_app"


def serve(
    host: str,
    port: int,
    stage: str | None,
    challenger_stage: str | None,
    workers: int | None,
    model_dir: str | None = None,
    allow_unregistered: str | None = None,
) -> None:
    """`serve`: load the model (one line and exit 1 when it cannot be), then serve it."""
    chosen = {
        "stage": stage,
        "challenger_stage": challenger_stage,
        "model_dir": model_dir,
        "allow_unregistered": allow_unregistered,
    }
    # Options given here win over SERVE_* variables; workers read them from the environment.
    os.environ.update({f"SERVE_{k.upper()}": v for k, v in chosen.items() if v is not None})
    try:
        settings = ServeSettings()
        # Loaded here first, so a missing model is one line, not a crash per worker.
        app = create_app(settings)
    except PipelineError as err:
        print(f"serving: {err}", file=sys.stderr)
        sys.exit(1)
    workers = workers or settings.workers or usable_cores()
    # One worker serves the app built above; more build their own from the factory,
    # and this process keeps no model loaded.
    served = app if workers == 1 else FACTORY
    del app
    uvicorn.run(
        served,
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )


def usable_cores() -> int:
    """The cores this process may run on (a container's cpuset, not the host's count)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


if __name__ == "__main__":
    from ..cli import main

    sys.exit(main(["serve", *sys.argv[1:]]))
