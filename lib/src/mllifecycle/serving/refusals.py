"""Every refusal the service makes: rendered safely, and documented in OpenAPI.

FastAPI's own 422 handler echoes each error's input through JSON, which fails
(a 500, and a reset keep-alive connection) when the input is NaN, infinite, a
lone surrogate or undecodable bytes. This one renders such inputs as text.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .schema import Problem
from .strict_json import safe_text

MAX_DEPTH = 8  # deeper parts of an echoed input are elided, not rendered


def safe(value: Any, depth: int = 0) -> Any:
    """`value` as something json.dumps(allow_nan=False) and UTF-8 always accept."""
    if depth > MAX_DEPTH:
        return "..."
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, dict):
        return {str(safe(k, depth + 1)): safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe(item, depth + 1) for item in value]
    try:
        return safe(jsonable_encoder(value), depth + 1)
    except Exception:  # whatever it is, its repr is text
        return safe_text(repr(value))


def validation_errors(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {key: safe(error[key]) for key in ("type", "loc", "msg", "input", "ctx") if key in error}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
# Any route: the body-size middleware reads Content-Length before routing.
COMMON: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Content-Length is not a number"},
    413: {"model": Problem, "description": "request body over SERVE_MAX_BODY_BYTES"},
}
PREDICT: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "malformed body (not strict JSON, wrong type, missing or unknown "
        "field) or a record that breaks the serving suite; each error names its field"
    },
    503: {
        "model": Problem,
        "description": "overloaded: no slot free within SERVE_MAX_QUEUE_WAIT_MS",
        "headers": RETRY_AFTER,
    },
    504: {"model": Problem, "description": "SERVE_DEADLINE_MS passed before scoring"},
}
