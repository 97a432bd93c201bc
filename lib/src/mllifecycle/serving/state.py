"""What one service process holds: the loaded models, their contract, its limits and log.

Built once by `create_app` and kept on `app.state.service`; the routes reach it through
a FastAPI dependency, so no handler closes over it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from ..contracts import InputField, NumericInput, TimestampInput
from ..errors import ContractError
from . import loading
from .contract import RequestContract
from .log_writer import LogWriter
from .prediction_log import PredictionLog
from .schema import record_model, request_model
from .settings import ServeSettings

# Up to this many records in one request are scored on the event loop (compiled path).
INLINE_RECORDS = 64


class Scored:
    """One model's answer to one request."""

    def __init__(self, model: loading.ServedModel, rows: list[dict[str, Any]]) -> None:
        started = time.perf_counter()
        artifact = model.artifact
        # The compiled NumPy path on the raw records: no pandas per request.
        self.scores: np.ndarray = artifact.scores_of_records(rows)
        self.decisions = artifact.decide_from_scores(self.scores)
        self.latency_ms = (time.perf_counter() - started) * 1000
        self.version = model.version
        self.labels = artifact.problem.labels if artifact.problem.is_classification else None

    def decision(self, i: int) -> str | float:
        return str(self.decisions[i]) if self.labels is not None else float(self.decisions[i])

    def prediction(self, i: int, record_id: Any) -> dict[str, Any]:
        """One record's answer as the JSON of `Prediction` (built by hand: the hot path)."""
        if self.labels is None:
            return {"decision": self.decision(i), "scores": None, "id": record_id}
        scores = {
            label: round(float(p), 6) for label, p in zip(self.labels, self.scores[i], strict=True)
        }
        return {"decision": self.decision(i), "scores": scores, "id": record_id}

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
            settings.model_dir,
            settings.stage,
            settings.repo,
            settings.cache_dir,
            settings.allow_unregistered,
        )
        if champion is None:
            raise ValueError("set SERVE_MODEL_DIR or SERVE_STAGE")
        if not champion.registered:
            print(f"serving an UNREGISTERED package: {champion.source}", file=sys.stderr)
        self.settings = settings
        self.champion = champion
        self.challenger = loading.load(
            settings.challenger_dir,
            settings.challenger_stage,
            settings.repo,
            settings.cache_dir,
            settings.allow_unregistered,
        )
        if self.challenger is not None:
            require_shadowable(champion, self.challenger)
        self.log = PredictionLog(
            settings.prediction_log,
            settings.prediction_log_max_bytes,
            settings.prediction_log_backups,
        )
        self.log_writer: LogWriter | None = None
        self.meta = champion.artifact.metadata
        self.id_column: str | None = self.meta.id_column
        suite = self.meta.serving_suite
        record_type = record_model(self.meta.input_schema, self.id_column, suite)
        self.request_type: type[BaseModel] = request_model(record_type, settings.max_records)
        # Types come from the request model; the reviewed serving suite adds its rules.
        self.contract = RequestContract(suite)
        self.ready = False

    def warm_up(self) -> None:
        """Score one record with each model, so the first real request is not the slow one,
        and start the log's writer thread."""
        Scored(self.champion, [example_record(self.meta.input_schema)])
        if self.challenger is not None:
            own_example = example_record(self.challenger.artifact.metadata.input_schema)
            Scored(self.challenger, [own_example])
        self.log_writer = LogWriter(self.write_log, self.settings.prediction_log_queue)
        self.ready = True

    def close(self) -> None:
        if self.log_writer is not None:
            self.log_writer.close()

    def scores_inline(self, records: int) -> bool:
        """A few records through the compiled path: cheaper on the event loop than a
        hop to the thread pool. The scikit-learn path (~10 ms) never blocks the loop."""
        return self.champion.artifact.compiled is not None and records <= INLINE_RECORDS

    def checked_and_scored(self, rows: list[dict[str, Any]]) -> Scored:
        violations = self.contract.violations(rows)
        if violations:
            raise RequestValidationError([v.as_error() for v in violations])
        return Scored(self.champion, rows)

    def log_later(
        self, request_id: str, rows: list[dict[str, Any]], ids: list[Any], answer: Scored
    ) -> None:
        """Hand the request to the writer thread (shadow scoring and the log); never waits."""
        if self.log_writer is not None:
            at = datetime.now(ZoneInfo("UTC")).isoformat()  # datetime.UTC is 3.11+
            self.log_writer.submit(LogJob(request_id, at, rows, ids, answer))

    def write_log(self, jobs: list[LogJob]) -> None:
        """The writer thread's work: shadow-score each request, append all their lines."""
        self.log.append([entry for job in jobs for entry in self.log_entries(job)])

    def log_entries(self, job: LogJob) -> list[dict[str, Any]]:
        shadow: Scored | None = None
        error = None
        if self.challenger is not None:
            try:
                shadow = Scored(self.challenger, job.rows)
            except Exception as err:  # the challenger must never hurt the champion's traffic
                error = f"{type(err).__name__}: {err}"
        return [
            {
                "request_id": job.request_id,
                "record": i,
                "timestamp": job.at,
                "id": job.ids[i],
                "inputs": {k: v for k, v in row.items() if k != self.id_column},
                "champion": job.answer.log_view(i),
                "challenger": shadow.log_view(i)
                if shadow
                else ({"error": error} if error else None),
            }
            for i, row in enumerate(job.rows)
        ]


def require_shadowable(champion: loading.ServedModel, challenger: loading.ServedModel) -> None:
    """Requests pass the champion's contract only, so a challenger that reads an input
    the champion does not accept could never be scored in shadow: refused at start-up."""
    accepted = set(champion.artifact.metadata.input_names)
    unread = [n for n in challenger.artifact.metadata.input_names if n not in accepted]
    if unread:
        raise ContractError(
            f"challenger {challenger.version} ({challenger.source}) reads inputs {unread} "
            f"that the champion {champion.version}'s requests do not carry; shadow it beside "
            "a champion whose inputs include them"
        )


@dataclass(frozen=True)
class LogJob:
    """One answered request, as the writer thread logs it."""

    request_id: str
    at: str
    rows: list[dict[str, Any]]
    ids: list[Any]
    answer: Scored


async def service(request: Request) -> ServiceState:
    """The FastAPI dependency that hands each route the process's state (async: FastAPI
    runs a sync dependency in a thread pool, a hop that costs more than the route)."""
    state: ServiceState = request.app.state.service
    return state


def example_frame(input_schema: list[InputField]) -> pd.DataFrame:
    """One plausible record as a frame."""
    return pd.DataFrame([example_record(input_schema)])


def example_record(input_schema: list[InputField]) -> dict[str, Any]:
    """One plausible record: mid-range numbers, the first known category."""
    row: dict[str, Any] = {}
    for column in input_schema:
        if isinstance(column, NumericInput):
            row[column.name] = (column.min + column.max) / 2
        elif isinstance(column, TimestampInput):
            row[column.name] = column.max
        else:
            row[column.name] = column.categories[0] if column.categories else None
    return row
