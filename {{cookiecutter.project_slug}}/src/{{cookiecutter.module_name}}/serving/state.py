"""What one service process holds: the loaded models, their contract, its limits and log.

Built once by `create_app` and kept on `app.state.service`; the routes reach it through
a FastAPI dependency, so no handler closes over it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from ..contracts import InputField, NumericInput, TimestampInput
from . import loading
from .contract import RequestContract
from .prediction_log import PredictionLog
from .schema import Prediction, record_model, request_model
from .settings import ServeSettings


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


class ServiceState:
    """The champion (and challenger), the request contract, the settings and the log."""

    def __init__(self, settings: ServeSettings) -> None:
        champion = loading.load(
            settings.model_dir, settings.stage, settings.repo, settings.cache_dir
        )
        if champion is None:
            raise ValueError("set SERVE_MODEL_DIR or SERVE_STAGE")
        self.settings = settings
        self.champion = champion
        self.challenger = loading.load(
            settings.challenger_dir, settings.challenger_stage, settings.repo, settings.cache_dir
        )
        self.log = PredictionLog(
            settings.prediction_log,
            settings.prediction_log_max_bytes,
            settings.prediction_log_backups,
        )
        self.meta = champion.artifact.metadata
        self.id_column: str | None = self.meta.id_column
        suite = self.meta.serving_suite
        record_type = record_model(self.meta.input_schema, self.id_column, suite)
        self.request_type: type[BaseModel] = request_model(record_type, settings.max_records)
        # Types come from the request model; the reviewed serving suite adds its rules.
        self.contract = RequestContract(suite)
        self.ready = False

    def warm_up(self) -> None:
        """Score one record with each model, so the first real request is not the slow one."""
        example = example_frame(self.meta.input_schema)
        Scored(self.champion, example)
        if self.challenger is not None:
            Scored(self.challenger, example)
        self.ready = True

    def checked_and_scored(self, rows: list[dict[str, Any]]) -> tuple[pd.DataFrame, Scored]:
        frame = pd.DataFrame(rows)
        violations = self.contract.violations(frame)
        if violations:
            raise RequestValidationError([v.as_error() for v in violations])
        return frame, Scored(self.champion, frame)

    def shadow_and_log(
        self,
        request_id: str,
        frame: pd.DataFrame,
        rows: list[dict[str, Any]],
        ids: list[Any],
        answer: Scored,
    ) -> None:
        shadow: Scored | None = None
        error = None
        if self.challenger is not None:
            try:
                shadow = Scored(self.challenger, frame)
            except Exception as err:  # the challenger must never hurt the champion's traffic
                error = f"{type(err).__name__}: {err}"
        at = pd.Timestamp.now(tz="UTC").isoformat()
        self.log.append(
            [
                {
                    "request_id": request_id,
                    "record": i,
                    "timestamp": at,
                    "id": ids[i],
                    "inputs": {k: v for k, v in row.items() if k != self.id_column},
                    "champion": answer.log_view(i),
                    "challenger": shadow.log_view(i)
                    if shadow
                    else ({"error": error} if error else None),
                }
                for i, row in enumerate(rows)
            ]
        )


def service(request: Request) -> ServiceState:
    """The FastAPI dependency that hands each route the process's state."""
    state: ServiceState = request.app.state.service
    return state


def example_frame(input_schema: list[InputField]) -> pd.DataFrame:
    """One plausible record: mid-range numbers, the first known category."""
    row: dict[str, Any] = {}
    for column in input_schema:
        if isinstance(column, NumericInput):
            row[column.name] = (column.min + column.max) / 2
        elif isinstance(column, TimestampInput):
            row[column.name] = column.max
        else:
            row[column.name] = column.categories[0] if column.categories else None
    return pd.DataFrame([row])
