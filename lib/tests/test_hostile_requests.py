"""Hostile and careless requests, sent as raw bytes to a real server on loopback.

Each malformed body must be a 4xx naming the field, rendered as valid JSON, and
must leave the keep-alive connection usable (the next request on the same socket
succeeds). Overload and deadlines are checked as mechanisms, never as speeds.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mllifecycle.contracts import (
    InputField,
    NumericInput,
)
from mllifecycle.models import (
    artifact,
)
from mllifecycle.serving import (
    prediction_log,
    strict_json,
)
from mllifecycle.serving.app import (
    create_app,
)
from mllifecycle.serving.limits import LARGE_BODY_BYTES
from mllifecycle.serving.settings import (
    ServeSettings,
)
from mllifecycle.serving.shedding import LoadShedder
from mllifecycle.serving.state import INLINE_RECORDS
from mllifecycle.testing import serving

RAW = "__raw_value__"


@contextmanager
def packaged_service(pipeline_run: Path, log: Path, **limits: Any) -> Iterator[int]:
    """The packaged model's service on a loopback port; yields the port."""
    settings = ServeSettings(
        allow_unregistered=True,
        model_dir=pipeline_run / "models/package",
        prediction_log=log,
        **limits,
    )
    with serving(create_app(settings)) as url:
        yield int(url.rsplit(":", 1)[1])


@contextmanager
def a_slot_held(pipeline_run: Path, log: Path, **limits: Any) -> Iterator[tuple[int, Any]]:
    """The service, where a request of more than INLINE_RECORDS records (scored on the
    thread pool) holds its slot until the yielded event is set; yields (port, event)."""
    settings = ServeSettings(
        allow_unregistered=True, model_dir=pipeline_run / "models/package", prediction_log=log,
        **limits,
    )  # fmt: skip
    app = create_app(settings)
    service, release = app.state.service, threading.Event()
    scored = service.checked_and_scored

    def held(rows: list[dict[str, Any]]) -> Any:
        if len(rows) > INLINE_RECORDS:
            release.wait(30)
        return scored(rows)

    service.checked_and_scored = held
    try:
        with serving(app) as url:
            yield int(url.rsplit(":", 1)[1]), release
    finally:
        release.set()


def head(body_length: int, request_id: str = "") -> bytes:
    lines = [
        "POST /predict HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {body_length}",
        *([f"X-Request-ID: {request_id}"] if request_id else []),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response (uvicorn always sends Content-Length for JSON)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    header_text, body = data.split(b"\r\n\r\n", 1)
    status_line, *header_lines = header_text.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection mid-body"
        body += chunk
    return int(status_line.split()[1]), headers, body


def exchange(sock: socket.socket, body: bytes) -> tuple[int, dict[str, str], bytes]:
    sock.sendall(head(len(body)) + body)
    return read_response(sock)


@pytest.fixture(scope="module")
def packaged(pipeline_run: Path) -> artifact.Artifact:
    return artifact.load(pipeline_run / "models/package")


@pytest.fixture(scope="module")
def record(pipeline_run: Path, packaged: artifact.Artifact) -> dict[str, Any]:
    """A real test-split record as a client sends it, id included."""
    meta = packaged.metadata
    columns = meta.input_names
    if meta.id_column:
        columns.insert(0, meta.id_column)
    frame = pd.read_parquet(pipeline_run / "data/prepared/test.parquet")[columns].head(1)
    loaded: dict[str, Any] = json.loads(frame.to_json(orient="records", date_format="iso"))[0]
    return loaded


@pytest.fixture(scope="module")
def port(pipeline_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with packaged_service(pipeline_run, tmp_path_factory.mktemp("hostile") / "log.jsonl") as bound:
        yield bound


def body_with(record: dict[str, Any], field: str, raw: str, key: str | None = None) -> bytes:
    """The record with `raw` (JSON text, spliced in as is) as `field`'s value, or as
    the value of an extra key spelled `key` (raw JSON text too)."""
    edited = dict(record)
    if key is None:
        edited[field] = RAW
        text = json.dumps({"records": [edited]}).replace(json.dumps(RAW), raw)
    else:
        edited[RAW] = 1
        text = json.dumps({"records": [edited]}).replace(json.dumps(RAW), key)
    return text.encode()


def pick(schema: list[InputField], want: str) -> str | None:
    """A field of the kind a case needs, or None where the schema has none."""
    for field in schema:
        if want == "numeric" and isinstance(field, NumericInput):
            return field.name
        if want == "integer" and isinstance(field, NumericInput) and field.integer:
            return field.name
        if want == "categorical" and field.kind == "categorical":
            return field.name
    return None


CASES = {
    # case: (field kind, the raw JSON value, or None when the case is an extra key)
    "NaN": ("numeric", "NaN"),
    "Infinity": ("numeric", "Infinity"),
    "-Infinity": ("numeric", "-Infinity"),
    "1e309": ("numeric", "1e309"),
    "surrogate in the id": ("id", '"\\ud800"'),
    "surrogate in a category": ("categorical", '"\\ud800"'),
    "surrogate as an unknown key": ("key", '"\\ud800"'),
    "a number as a string": ("numeric", '"12"'),
    "a number as a bool": ("numeric", "true"),
    "a fraction for a count": ("integer", "1.5"),
    "NUL in a category": ("categorical", '"a\\u0000b"'),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_value_is_a_4xx_naming_the_field_and_the_connection_survives(
    port: int, record: dict[str, Any], packaged: artifact.Artifact, case: str
) -> None:
    kind, raw = CASES[case]
    if kind == "key":
        field: str | None = "\\ud800"  # the key, shown escaped
        body = body_with(record, "", "", key=raw)
    else:
        meta = packaged.metadata
        field = meta.id_column if kind == "id" else pick(meta.input_schema, kind)
        if field is None:
            pytest.skip(f"the packaged schema has no {kind} field")
        body = body_with(record, field, raw)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        status, _, answer = exchange(sock, body)
        assert 400 <= status < 500, answer
        errors = json.loads(answer)["detail"]  # valid JSON, the offending value included
        assert ["body", "records", 0, field] in [error["loc"] for error in errors], errors
        # The same socket: a keep-alive connection that a 500 used to reset.
        status, _, answer = exchange(sock, json.dumps({"records": [record]}).encode())
        assert status == 200, answer


def test_a_body_of_unknown_keys_gets_a_small_422_and_the_connection_survives(
    port: int, record: dict[str, Any]
) -> None:
    """60,000 unknown keys (1.3 MB, under the body limit): 20 errors named and the rest
    counted, each echo cut short, instead of a 20 MB answer that held the worker."""
    unknown = 60_000
    edited = {**record, **{f"unknown_{i:06d}": i for i in range(unknown)}}
    body = json.dumps({"records": [edited]}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        status, _, answer = exchange(sock, body)
        assert status == 422 and len(answer) < 20_000, (status, len(answer))
        detail = json.loads(answer)["detail"]
        assert len(detail) == 21 and detail[-1]["type"] == "too_many_errors"
        assert detail[-1]["msg"] == f"{unknown - 20} more errors not shown"
        assert all(error["loc"][:3] == ["body", "records", 0] for error in detail[:-1])
        status, _, answer = exchange(sock, json.dumps({"records": [record]}).encode())
        assert status == 200, answer


def test_a_body_that_is_not_utf8_is_a_422_naming_the_byte(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        status, _, answer = exchange(sock, b'{"records": [{"plan": "\xff"}]}')
        assert status == 422
        assert json.loads(answer)["detail"][0]["loc"] == ["body", 23]


def test_schemathesis_with_every_check_finds_nothing(port: int) -> None:
    schemathesis = str(Path(sys.executable).parent / "schemathesis")
    command = [schemathesis, "run", f"http://127.0.0.1:{port}/openapi.json",
               "--checks", "all", "--max-examples", "100", "--seed", "1"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]


def test_a_client_still_sending_its_body_holds_no_slot(
    pipeline_run: Path, tmp_path: Path, record: dict[str, Any]
) -> None:
    """One slot, no waiting. A request whose body was still arriving held the slot, so
    every other request got a 503 (8 slow clients shed 54% of valid requests): a slot
    is now taken once the body is in, and the request behind the slow one is served."""
    body = json.dumps({"records": [record]}).encode()
    limits = {"max_in_flight": 1, "max_queue_wait_ms": 0}
    with (
        packaged_service(pipeline_run, tmp_path / "log.jsonl", **limits) as bound,
        socket.create_connection(("127.0.0.1", bound), timeout=30) as slow,
    ):
        slow.sendall(head(len(body)) + body[:10])  # headers in, body pending
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", bound), timeout=30) as other:
            status, _, answer = exchange(other, body)
        assert status == 200, answer
        slow.sendall(body[10:])
        assert read_response(slow)[0] == 200  # and the slow one once its body is in


def test_past_the_slots_a_request_gets_a_fast_503_with_retry_after(
    pipeline_run: Path, tmp_path: Path, record: dict[str, Any]
) -> None:
    """One slot, no waiting: while it scores, another request gets a 503 at once."""
    body = json.dumps({"records": [record]}).encode()
    many = json.dumps({"records": [record] * (INLINE_RECORDS + 1)}).encode()
    limits = {"max_in_flight": 1, "max_queue_wait_ms": 0}
    with (
        a_slot_held(pipeline_run, tmp_path / "log.jsonl", **limits) as (bound, release),
        socket.create_connection(("127.0.0.1", bound), timeout=30) as holder,
    ):
        holder.sendall(head(len(many)) + many)  # admitted: scoring until released
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", bound), timeout=30) as other:
            status, headers, answer = exchange(other, body)
        assert status == 503 and headers["retry-after"].isdigit(), answer
        assert "overloaded" in json.loads(answer)["detail"]
        release.set()
        assert read_response(holder)[0] == 200  # the admitted one is served


def shedder(app: Any, **limits: float) -> LoadShedder:
    settings = {"max_in_flight": 1, "max_wait_s": 0.0, "deadline_s": 1.0, "retry_after_s": 1,
                "body_timeout_s": 0.2, **limits}  # fmt: skip
    return LoadShedder(app, paths={"/predict"}, **settings)  # type: ignore[arg-type]


def test_past_the_slots_a_request_gets_a_503_before_its_body_is_read() -> None:
    """While the one slot scores, a request is answered 503 with Retry-After at once:
    its body is never read or parsed (under overload that is most of the work)."""

    async def scenario() -> tuple[list[dict[str, Any]], bool]:
        scoring, release = asyncio.Event(), asyncio.Event()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await receive()
            scoring.set()
            await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})

        guarded, sent, read = shedder(app), [], False

        async def whole_body() -> dict[str, Any]:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def never_read() -> dict[str, Any]:
            nonlocal read
            read = True
            return await whole_body()

        async def keep(message: Any) -> None:
            sent.append(message)

        scope = {"type": "http", "path": "/predict", "headers": []}
        first = asyncio.create_task(guarded(dict(scope), whole_body, keep))
        await scoring.wait()
        await guarded(dict(scope), never_read, keep)
        release.set()
        await first
        return sent, read

    sent, read = asyncio.run(scenario())
    shed, body = sent[0], json.loads(sent[1]["body"])
    assert shed["status"] == 503 and (b"retry-after", b"1") in shed["headers"]
    assert body["detail"].startswith("overloaded: no slot free") and not read
    assert sent[2]["status"] == 200  # the one scoring is answered


def test_a_client_that_stalls_mid_body_frees_its_slot(
    pipeline_run: Path, tmp_path: Path, record: dict[str, Any]
) -> None:
    """One slot: a client sends its headers and half its body, then nothing. It used to
    hold the slot for ever; now it gets a 408 and its connection is closed, and the
    client queued behind it is served."""
    body = json.dumps({"records": [record]}).encode()
    limits = {"max_in_flight": 1, "max_queue_wait_ms": 30_000, "body_timeout_ms": 300}
    with (
        packaged_service(pipeline_run, tmp_path / "log.jsonl", **limits) as bound,
        socket.create_connection(("127.0.0.1", bound), timeout=30) as stalled,
    ):
        stalled.sendall(head(len(body)) + body[: len(body) // 2])
        time.sleep(0.1)  # admitted first
        with socket.create_connection(("127.0.0.1", bound), timeout=30) as queued:
            status, _, answer = exchange(queued, body)
        assert status == 200, answer
        status, headers, answer = read_response(stalled)
        assert status == 408 and headers.get("connection") == "close", (status, headers)
        assert "did not arrive within 300 ms" in json.loads(answer)["detail"]
        assert stalled.recv(1) == b""  # closed by the server


def test_a_request_past_its_deadline_is_not_scored(
    pipeline_run: Path, tmp_path: Path, record: dict[str, Any]
) -> None:
    body = json.dumps({"records": [record]}).encode()
    log = tmp_path / "log.jsonl"
    with (
        packaged_service(pipeline_run, log, deadline_ms=100) as bound,
        socket.create_connection(("127.0.0.1", bound), timeout=30) as sock,
    ):
        sock.sendall(head(len(body), "late-1") + body[:10])
        time.sleep(0.5)  # the deadline passes while the body trickles in
        sock.sendall(body[10:])
        status, _, answer = read_response(sock)
        assert status == 504 and "deadline" in json.loads(answer)["detail"]
        assert exchange(sock, body)[0] == 200  # a prompt request is served
    assert "late-1" not in set(prediction_log.read(log)["request_id"])


def test_a_client_that_left_is_not_scored(
    pipeline_run: Path, tmp_path: Path, record: dict[str, Any]
) -> None:
    """The one slot is held; a second client queues, sends its whole body, and
    hangs up before its turn: it is never scored, nor logged."""
    body = json.dumps({"records": [record]}).encode()
    many = json.dumps({"records": [record] * (INLINE_RECORDS + 1)}).encode()
    log = tmp_path / "log.jsonl"
    limits = {"max_in_flight": 1, "max_queue_wait_ms": 5000}
    with a_slot_held(pipeline_run, log, **limits) as (bound, release):
        with socket.create_connection(("127.0.0.1", bound), timeout=30) as holder:
            holder.sendall(head(len(many), "holder") + many)
            time.sleep(0.3)
            with socket.create_connection(("127.0.0.1", bound), timeout=30) as gone:
                gone.sendall(head(len(body), "gone") + body)
                time.sleep(0.3)
            release.set()
            assert read_response(holder)[0] == 200
        with socket.create_connection(("127.0.0.1", bound), timeout=30) as last:
            last.sendall(head(len(body), "last") + body)
            assert read_response(last)[0] == 200
        time.sleep(0.5)  # the log is written after the response
    logged = set(prediction_log.read(log)["request_id"])
    assert {"holder", "last"} <= logged and "gone" not in logged


def test_a_large_body_has_a_slot_of_its_own() -> None:
    """A 2 MB body is ~0.3 s of parsing: in the records' slot, two hostile clients shed
    nearly every valid request. A body over LARGE_BODY_BYTES takes the one large slot
    (shed at once when it is busy) and never a record's slot, nor a record its."""
    large = b"[" + b" " * LARGE_BODY_BYTES + b"]"

    async def scenario() -> list[int]:
        holding: dict[bytes, asyncio.Event] = {}
        release = asyncio.Event()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            body = (await receive())["body"]
            holding.setdefault(body, asyncio.Event()).set()
            if scope["hold"]:
                await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})

        guarded = shedder(app)

        async def call(body: bytes, hold: bool = False) -> int:
            sent: list[Any] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            async def keep(message: Any) -> None:
                sent.append(message)

            length = [(b"content-length", str(len(body)).encode())]
            scope = {"type": "http", "path": "/predict", "headers": length, "hold": hold}
            await guarded(scope, receive, keep)
            return int(sent[0]["status"])

        small_held = asyncio.create_task(call(b"{}", hold=True))
        await asyncio.sleep(0.01)
        large_held = asyncio.create_task(call(large, hold=True))  # the record's slot is busy
        await asyncio.sleep(0.01)
        while_held = [await call(large), await call(b"{}")]  # both lanes busy
        release.set()
        return [*while_held, await small_held, await large_held]

    assert asyncio.run(scenario()) == [503, 503, 200, 200]


def test_a_flood_of_unknown_keys_is_refused_before_validation() -> None:
    """Validation built one error per unknown key before the answer's cap (100,000 keys:
    half a second on the event loop); past the cap they are counted while parsing."""
    known = frozenset({"tenure_months", "plan"})
    few = {"records": [{"tenure_months": 3, "plan": "a", "colour": 1}]}
    assert strict_json.unknown_keys(few, known) == []  # left to validation's full list
    flood = {"records": [{"plan": "a"}, {f"k{i}": i for i in range(5_000)}]}
    errors = strict_json.unknown_keys(flood, known)
    assert len(errors) == 21 and errors[-1]["msg"] == "4980 more errors not shown"
    assert all(e["type"] == "extra_forbidden" and e["loc"][:3] == ["body", "records", 1]
               for e in errors[:-1])  # fmt: skip
