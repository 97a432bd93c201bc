"""Every refusal the service makes: rendered safely, and documented in OpenAPI.

FastAPI's own 422 handler echoes each error's input through JSON, which fails
(a 500, and a reset keep-alive connection) when the input is NaN, infinite, a
lone surrogate or undecodable bytes. This one renders such inputs as text, and
keeps the answer small whatever the body: at most MAX_ERRORS errors (the count of
the rest in a last entry), each echoed input cut to MAX_ITEMS items and MAX_TEXT
characters (a 2 MB body of unknown keys was a 20 MB answer).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .schema import Problem
from .strict_json import MAX_ERRORS, not_shown, safe_text

MAX_DEPTH = 8  # deeper parts of an echoed input are elided, not rendered
MAX_ITEMS = 20  # keys or items of an echoed object or list
MAX_TEXT = 200  # characters of an echoed string


def cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else f"{text[:MAX_TEXT]}... ({len(text)} characters)"


def safe(value: Any, depth: int = 0) -> Any:
    """`value` as something json.dumps(allow_nan=False) and UTF-8 always accept, and small."""
    if depth > MAX_DEPTH:
        return "..."
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return safe_text(cut(value))
    if isinstance(value, bytes):
        return cut(value[: MAX_TEXT * 4].decode("utf-8", "backslashreplace"))
    if isinstance(value, dict):
        shown = {
            str(safe(k, depth + 1)): safe(v, depth + 1)
            for k, v in itertools.islice(value.items(), MAX_ITEMS)
        }
        if len(value) > MAX_ITEMS:
            shown["..."] = f"{len(value) - MAX_ITEMS} more keys"
        return shown
    if isinstance(value, list | tuple):
        items = [safe(item, depth + 1) for item in value[:MAX_ITEMS]]
        return items + (
            [f"... {len(value) - MAX_ITEMS} more items"] if len(value) > MAX_ITEMS else []
        )
    try:
        return safe(jsonable_encoder(value), depth + 1)
    except Exception:  # whatever it is, its repr is text
        return safe_text(repr(value))


def validation_errors(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    detail = [
        {key: safe(error[key]) for key in ("type", "loc", "msg", "input", "ctx") if key in error}
        for error in itertools.islice(errors, MAX_ERRORS)
    ]
    if len(errors) > MAX_ERRORS:
        detail.append(not_shown(len(errors) - MAX_ERRORS))
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
    408: {
        "model": Problem,
        "description": "the body did not arrive within SERVE_BODY_TIMEOUT_MS of admission",
    },
    504: {"model": Problem, "description": "SERVE_DEADLINE_MS passed before scoring"},
}
