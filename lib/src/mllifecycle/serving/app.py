"""The real-time service: /predict, /health, /ready, /metadata.

Run it with `make serve` (uvicorn, the prod model) or
`uvicorn mllifecycle.serving.app:create_app --factory`.
`create_app` loads the state (state.py), mounts the routes (routes.py) and wraps them
in the request limits (limits.py, shedding.py).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from . import refusals, routes
from .limits import BodySizeLimit
from .settings import ServeSettings
from .shedding import LoadShedder
from .state import Scored, ServiceState, example_frame

__all__ = ["Scored", "create_app", "example_frame"]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.service.warm_up()
    # The model and everything loaded so far live as long as the worker: out of the
    # collector's sight, a full collection (after a large body) pauses the loop far less.
    gc.freeze()
    yield
    app.state.service.close()  # the queued log entries are written before the exit


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    settings = settings or ServeSettings()
    state = ServiceState(settings)
    app = FastAPI(
        title=f"{state.meta.name} model service",
        version=state.champion.version,
        lifespan=lifespan,
        description=state.meta.problem.decision,
        responses=refusals.COMMON,
    )
    app.state.service = state
    app.include_router(routes.router(state.request_type))
    app.add_exception_handler(RequestValidationError, refusals.validation_errors)
    # The shedder reads the body (through the size limit, which wraps it) before it
    # takes a slot; a shed request costs only its headers' length check.
    app.add_middleware(
        LoadShedder,
        paths={"/predict"},
        max_in_flight=settings.max_in_flight,
        max_wait_s=settings.max_queue_wait_ms / 1000,
        deadline_s=settings.deadline_ms / 1000,
        retry_after_s=settings.retry_after_s,
        body_timeout_s=settings.body_timeout_ms / 1000,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
