"""The real-time service: /predict, /health, /ready, /metadata.

Run it with `make serve` (uvicorn, the prod model) or
`uvicorn {{ cookiecutter.module_name }}.serving.app:create_app --factory`.
"""

# No `from __future__ import annotations` here: FastAPI reads the annotation of
# `predict` at runtime, and its request type is built inside create_app.

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import pandas as pd
from fastapi import BackgroundTasks, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from . import loading, refusals
from .contract import RequestContract
from .limits import BodySizeLimit
from .prediction_log import PredictionLog
from .schema import (
    Health,
    Metadata,
    Prediction,
    PredictResponse,
    record_model,
    request_model,
)
from .settings import ServeSettings
from .shedding import DEADLINE, LoadShedder
from .strict_json import StrictJSONRoute


class Scored:
    """One model's answer to one request."""

    def __init__(self, model: loading.ServedModel, frame: pd.DataFrame) -> None:
        started = time.perf_counter()
        artifact = model.artifact
        self.scores: np.ndarray = artifact.scores(frame)
        self.decisions = artifact.decide_from_scores(self.scores)
        self.latency_ms = (time.perf_counter() - started) * 1000
        self.version = model.version
        self.labels = artifact.problem.labels if artifact.problem.is_classification else None

    def decision(self, i: int) -> str | float:
        return str(self.decisions[i]) if self.labels is not None else float(self.decisions[i])

    def prediction(self, i: int, record_id: Any) -> Prediction:
        if self.labels is None:
            return Prediction(decision=self.decision(i), id=record_id)
        scores = {
            label: round(float(p), 6) for label, p in zip(self.labels, self.scores[i], strict=True)
        }
        return Prediction(decision=self.decision(i), scores=scores, id=record_id)

    def log_view(self, i: int) -> dict[str, Any]:
        return {
            "version": self.version,
            "decision": self.decision(i),
            "latency_ms": round(self.latency_ms, 3),
        }


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    settings = settings or ServeSettings()
    champion = loading.load(settings.model_dir, settings.stage, settings.repo, settings.cache_dir)
    if champion is None:
        raise ValueError("set SERVE_MODEL_DIR or SERVE_STAGE")
    challenger = loading.load(
        settings.challenger_dir, settings.challenger_stage, settings.repo, settings.cache_dir
    )
    log = PredictionLog(
        settings.prediction_log, settings.prediction_log_max_bytes, settings.prediction_log_backups
    )
    meta = champion.artifact.metadata
    id_column: str | None = meta.get("id_column")
    suite = meta.get("serving_suite", [])
    record_type = record_model(meta["input_schema"], id_column, suite)
    request_type = request_model(record_type, settings.max_records)
    # Types come from the request model; the reviewed serving suite adds its rules.
    contract = RequestContract(suite)
    ready = {"now": False}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Warm up both models once, so the first real request is not the slow one.
        example = example_frame(meta["input_schema"])
        Scored(champion, example)
        if challenger is not None:
            Scored(challenger, example)
        ready["now"] = True
        yield

    app = FastAPI(
        title=f"{meta['name']} model service",
        version=champion.version,
        lifespan=lifespan,
        description=meta["problem"]["decision"],
        responses=refusals.COMMON,
    )
    app.router.route_class = StrictJSONRoute
    app.add_exception_handler(RequestValidationError, refusals.validation_errors)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Added last, so it runs first: a shed request costs no body read and no parsing.
    app.add_middleware(
        LoadShedder,
        paths={"/predict"},
        max_in_flight=settings.max_in_flight,
        max_wait_s=settings.max_queue_wait_ms / 1000,
        deadline_s=settings.deadline_ms / 1000,
        retry_after_s=settings.retry_after_s,
    )

    @app.get("/health")
    def health() -> Health:
        """Liveness: the process answers."""
        return Health(status="ok")

    @app.get("/ready", responses={503: {"model": Health, "description": "still loading"}})
    def is_ready() -> Any:
        """Readiness: the model is loaded and warmed up."""
        if not ready["now"]:
            return JSONResponse({"status": "loading"}, status_code=503)
        return Health(status="ready")

    @app.get("/metadata")
    def metadata() -> Metadata:
        return Metadata(
            name=meta["name"],
            task=meta["task"],
            model_version=champion.version,
            artifact_version=champion.artifact.version,
            source=champion.source,
            data_version=meta["data_version"],
            input_schema=meta["input_schema"],
            metrics=meta["metrics"],
            verdict_passed=meta["verdict"]["passed"],
            challenger_version=challenger.version if challenger else None,
        )

    async def predict(
        body: request_type,  # type: ignore[valid-type]
        request: Request,
        response: Response,
        background: BackgroundTasks,
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
            detail = f"the deadline of {settings.deadline_ms:.0f} ms passed before scoring"
            return JSONResponse({"detail": detail}, status_code=504)
        frame, answer = await run_in_threadpool(checked_and_scored, rows)
        ids = [row.get(id_column) if id_column else None for row in rows]
        background.add_task(shadow_and_log, request_id, frame, rows, ids, answer)
        response.headers["X-Request-ID"] = request_id
        return PredictResponse(
            request_id=request_id,
            model_version=champion.version,
            predictions=[answer.prediction(i, ids[i]) for i in range(len(rows))],
        )

    def checked_and_scored(rows: list[dict[str, Any]]) -> tuple[pd.DataFrame, Scored]:
        frame = pd.DataFrame(rows)
        violations = contract.violations(frame)
        if violations:
            raise RequestValidationError([v.as_error() for v in violations])
        return frame, Scored(champion, frame)

    def shadow_and_log(
        request_id: str,
        frame: pd.DataFrame,
        rows: list[dict[str, Any]],
        ids: list[Any],
        answer: Scored,
    ) -> None:
        shadow: Scored | None = None
        error = None
        if challenger is not None:
            try:
                shadow = Scored(challenger, frame)
            except Exception as err:  # the challenger must never hurt the champion's traffic
                error = f"{type(err).__name__}: {err}"
        at = pd.Timestamp.now(tz="UTC").isoformat()
        log.append(
            [
                {
                    "request_id": request_id,
                    "record": i,
                    "timestamp": at,
                    "id": ids[i],
                    "inputs": {k: v for k, v in row.items() if k != id_column},
                    "champion": answer.log_view(i),
                    "challenger": shadow.log_view(i)
                    if shadow
                    else ({"error": error} if error else None),
                }
                for i, row in enumerate(rows)
            ]
        )

    app.post(
        "/predict",
        response_model=PredictResponse,
        responses=refusals.PREDICT,
    )(predict)
    return app


def example_frame(input_schema: list[dict[str, Any]]) -> pd.DataFrame:
    """One plausible record: mid-range numbers, the first known category."""
    row: dict[str, Any] = {}
    for column in input_schema:
        if column["kind"] == "numeric":
            row[column["name"]] = (column["min"] + column["max"]) / 2
        elif column["kind"] == "timestamp":
            row[column["name"]] = column["max"]
        else:
            row[column["name"]] = column["categories"][0] if column["categories"] else None
    return pd.DataFrame([row])
