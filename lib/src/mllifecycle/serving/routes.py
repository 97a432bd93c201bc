"""The service's routes: /health, /ready, /metadata, /predict.

Each handler gets the process's `ServiceState` through a FastAPI dependency. Only the
body type of /predict differs between apps (it is built from the packaged input
schema), so `router` gives `predict` that annotation and nothing else.
"""

# No `from __future__ import annotations` here: FastAPI reads the handlers'
# annotations at runtime.

import inspect
import json
import time
import typing
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from . import refusals
from .schema import Health, Metadata, PredictResponse
from .shedding import DEADLINE
from .state import ServiceState, service
from .strict_json import StrictJSONRoute

State = Annotated[ServiceState, Depends(service)]


async def health() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


async def is_ready(state: State) -> Any:
    """Readiness: the model is loaded and warmed up."""
    if not state.ready:
        return JSONResponse({"status": "loading"}, status_code=503)
    return Health(status="ready")


async def metadata(state: State) -> Metadata:
    meta, champion, challenger = state.meta, state.champion, state.challenger
    return Metadata(
        name=meta.name,
        task=meta.task,
        model_version=champion.version,
        artifact_version=champion.artifact.version,
        source=champion.source,
        data_version=meta.data_version,
        input_schema=meta.input_schema,
        metrics=meta.metrics,
        verdict_passed=meta.verdict.passed,
        registered=champion.registered,
        challenger_version=challenger.version if challenger else None,
        prediction_log_dropped=state.log_writer.dropped if state.log_writer else 0,
    )


async def predict(
    body: BaseModel,  # the app's request type: see `router`
    request: Request,
    state: State,
    x_request_id: str | None = Header(default=None, max_length=128),
) -> Any:
    """Score one or many records; the challenger (if any) runs after the response.

    A record that breaks the serving suite is a 422 naming the record, field,
    expectation and value, like a mistyped field."""
    request_id = x_request_id or uuid.uuid4().hex
    records: list[BaseModel] = body.records  # type: ignore[attr-defined]
    rows = [record.model_dump() for record in records]
    if await request.is_disconnected():  # nobody to answer: no scoring
        return Response(status_code=499)
    if time.monotonic() > getattr(request.state, DEADLINE, float("inf")):
        detail = f"the deadline of {state.settings.deadline_ms:.0f} ms passed before scoring"
        return JSONResponse({"detail": detail}, status_code=504)
    if state.scores_inline(len(rows)):
        # The compiled path scores a few records in well under a millisecond, less
        # than the hop to a thread pool and back costs.
        answer = state.checked_and_scored(rows)
    else:  # the scikit-learn path, or many records: keep the event loop answering
        answer = await run_in_threadpool(state.checked_and_scored, rows)
    id_column = state.id_column
    ids = [row.get(id_column) if id_column else None for row in rows]
    state.log_later(request_id, rows, ids, answer)
    # The PredictResponse JSON, serialised once here rather than validated again by FastAPI.
    content = {
        "request_id": request_id,
        "model_version": state.champion.version,
        "predictions": [answer.prediction(i, ids[i]) for i in range(len(rows))],
    }
    return Response(
        json.dumps(content, separators=(",", ":")).encode(),
        media_type="application/json",
        headers={"X-Request-ID": request_id},
    )


def router(request_type: type[BaseModel]) -> APIRouter:
    """The routes, /predict reading a body of `request_type` (FastAPI validates it)."""
    routes = APIRouter(route_class=StrictJSONRoute)
    routes.add_api_route("/health", health, methods=["GET"])
    routes.add_api_route(
        "/ready",
        is_ready,
        methods=["GET"],
        responses={503: {"model": Health, "description": "still loading"}},
    )
    routes.add_api_route("/metadata", metadata, methods=["GET"])
    routes.add_api_route(
        "/predict",
        TypedPredict(request_type),
        methods=["POST"],
        response_model=PredictResponse,
        responses=refusals.PREDICT,
        name="predict",
        route_class_override=StrictJSONRoute.for_records(record_keys(request_type)),
    )
    return routes


def record_keys(request_type: type[BaseModel]) -> frozenset[str]:
    """The keys a record of `request_type` may have (its `records: list[Record]`)."""
    (record,) = typing.get_args(request_type.model_fields["records"].annotation)
    return frozenset(record.model_fields)


class TypedPredict:
    """`predict` as FastAPI must see it: the same handler, its body of one app's request type."""

    __name__ = "predict"
    __doc__ = predict.__doc__

    def __init__(self, request_type: type[BaseModel]) -> None:
        signature = inspect.signature(predict)
        parameters = list(signature.parameters.values())
        body = parameters[0].replace(annotation=request_type)
        self.__signature__ = signature.replace(parameters=[body, *parameters[1:]])

    async def __call__(self, **values: Any) -> Any:
        return await predict(**values)
