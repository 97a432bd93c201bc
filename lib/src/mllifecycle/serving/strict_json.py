"""Request bodies parsed as RFC 8259 JSON, not as Python's lenient dialect.

`json.loads` accepts `NaN`, `Infinity` and `1e309` (as inf), lone UTF-16
surrogates (`"\\ud800"`) and duplicate keys; none is JSON, and each used to
reach the model or crash the error response. Here each is a 422 in FastAPI's
error shape (detail: [{loc, msg, type, input}]) naming where it was, with the
offending text rendered so that it can always be encoded back.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from typing import Any

from fastapi import HTTPException, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from .limits import LARGE_BODY_BYTES

INT64 = 2**63
MAX_DIGITS = 19  # no int64 needs more
MAX_ECHO = 80  # characters of an offending value shown back
MAX_ERRORS = 20  # errors listed in one answer (refusals.py's too); the rest are counted


class BodyError(HTTPException):
    """A body that is not strict JSON: FastAPI lets HTTPException through body parsing,
    and its handler answers {"detail": errors}, the shape of its own 422."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(422, errors)


class _Refused:
    """A number JSON does not allow (NaN, Infinity) or that no float64 holds."""

    def __init__(self, text: str, why: str) -> None:
        self.text = text[:MAX_ECHO]
        self.why = why


class _Object(dict[str, Any]):
    duplicates: list[str]


def _constant(text: str) -> _Refused:
    return _Refused(text, f"{text} is not a JSON number")


def _float(text: str) -> float | _Refused:
    value = float(text)
    return value if math.isfinite(value) else _Refused(text, f"{text} is beyond a 64-bit float")


def _int(text: str) -> int | float | _Refused:
    """Python ints are unbounded (and refuse 4,300 digits): beyond int64 a number
    is a float, which an integer field's int64 bounds then refuse."""
    if len(text.lstrip("-")) <= MAX_DIGITS and -INT64 <= (value := int(text)) < INT64:
        return value
    return _float(text)


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    made = _Object(pairs)
    made.duplicates = []
    if len(made) < len(pairs):  # only then count: the common case stays linear
        counts = Counter(key for key, _ in pairs)
        made.duplicates = [key for key, count in counts.items() if count > 1]
    return made


def safe_text(text: str) -> str:
    """`text`, with lone surrogates shown as `\\udXXX` escapes instead of unencodable."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error(loc: list[str | int], kind: str, msg: str, shown: Any) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg, "input": shown}


def parse(body: bytes) -> Any:
    """The JSON value in `body`, or BodyError listing every place it breaks strict JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = body[err.start : err.start + 8].hex(" ")
        raise BodyError(
            [error(["body", err.start], "json_invalid", "the body is not UTF-8 text", bad)]
        ) from None
    try:
        value = json.loads(
            text,
            parse_constant=_constant,
            parse_float=_float,
            parse_int=_int,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as err:
        near = text[err.pos : err.pos + 20]
        raise BodyError([error(["body", err.pos], "json_invalid", err.msg, near)]) from None
    except RecursionError:
        raise BodyError([error(["body"], "json_invalid", "nested too deep", "")]) from None
    problems = _problems(value)
    if problems:
        raise BodyError(problems)
    return value


def _problems(value: Any) -> list[dict[str, Any]]:
    """Every refused number, unencodable string and repeated key, by location.

    Iterative: a body nested as deep as the parser allows must not overflow here."""
    found: list[dict[str, Any]] = []
    pending: list[tuple[list[str | int], Any]] = [(["body"], value)]
    while pending:
        loc, item = pending.pop()
        if isinstance(item, _Refused):
            found.append(error(loc, "finite_number", item.why, item.text))
        elif isinstance(item, str) and safe_text(item) != item:
            found.append(error(loc, "string_unicode", "a lone UTF-16 surrogate", safe_text(item)))
        elif isinstance(item, _Object):
            for key in item.duplicates:
                found.append(error([*loc, safe_text(key)], "duplicate_key", "key repeated", key))
            for key, child in item.items():
                shown = safe_text(key)
                if shown != key:
                    why = "a lone UTF-16 surrogate in a key"
                    found.append(error([*loc, shown], "string_unicode", why, shown))
                pending.append(([*loc, shown], child))
        elif isinstance(item, list):
            pending.extend(([*loc, i], child) for i, child in enumerate(item))
    return sorted(found, key=lambda e: [(isinstance(p, str), p) for p in e["loc"]])[:MAX_ERRORS]


def unknown_keys(value: Any, record_keys: frozenset[str]) -> list[dict[str, Any]]:
    """A flood of keys no record field has: the first MAX_ERRORS named, the rest counted.

    Validation would build one error per unknown key before any cap applies (100,000
    keys: half a second); more than can be shown is refused here, in the shape of
    FastAPI's 422. A few unknown keys are left to validation, which lists them among
    the body's other errors.
    """
    records = value.get("records") if isinstance(value, dict) else None
    if not isinstance(records, list):
        return []
    unknown = (
        (index, key)
        for index, record in enumerate(records)
        if isinstance(record, dict)
        for key in record.keys() - record_keys
    )
    found = list(itertools.islice(unknown, MAX_ERRORS + 1))
    if len(found) <= MAX_ERRORS:
        return []
    total = len(found) + sum(1 for _ in unknown)
    errors = [
        error(
            ["body", "records", index, safe_text(key)],
            "extra_forbidden",
            "Extra inputs are not permitted",
            safe_text(key)[:MAX_ECHO],
        )
        for index, key in found[:MAX_ERRORS]
    ]
    return [*errors, not_shown(total - MAX_ERRORS)]


def not_shown(count: int) -> dict[str, Any]:
    """The last entry of a capped error list: how many more there were."""
    return {"type": "too_many_errors", "loc": ["body"], "msg": f"{count} more errors not shown"}


class StrictJSONRequest(Request):
    record_keys: frozenset[str] | None = None

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            if len(body) > LARGE_BODY_BYTES:  # off the event loop
                value = await run_in_threadpool(self._checked, body)
            else:
                value = self._checked(body)
            self._json = value
        return self._json

    def _checked(self, body: bytes) -> Any:
        value = parse(body)
        flood = unknown_keys(value, self.record_keys) if self.record_keys is not None else []
        if flood:
            raise BodyError(flood)
        return value


class StrictJSONRoute(APIRoute):
    """A route whose JSON body goes through `parse` (FastAPI's custom-request recipe),
    with `record_keys` (the fields of a record) to refuse a flood of unknown keys."""

    record_keys: frozenset[str] | None = None

    @classmethod
    def for_records(cls, record_keys: frozenset[str]) -> type[StrictJSONRoute]:
        return type("StrictRecordsRoute", (cls,), {"record_keys": record_keys})

    def get_route_handler(self) -> Any:
        handle = super().get_route_handler()

        async def strict(request: Request) -> Any:
            checked = StrictJSONRequest(request.scope, request.receive)
            checked.record_keys = self.record_keys
            return await handle(checked)

        return strict
