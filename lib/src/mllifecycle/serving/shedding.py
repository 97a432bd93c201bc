"""Load shedding: a bounded number of requests in flight, a bounded wait, a deadline.

Scoring is CPU-bound and the GIL runs one score at a time, so a worker that
takes every request only makes every request slow: past capacity the queue
grows until clients time out and the worker goes on scoring for nobody. Here a
request waits at most `max_wait_s` for one of `max_in_flight` slots, else it
gets an immediate 503 with Retry-After, which a client or a load balancer can
act on; an admitted request carries a deadline the endpoint checks before the
expensive work (504 past it), and a client that has left is not scored.

A slot is for scoring, not for waiting on a client: when every slot is taken and as
many requests wait as there are slots, the 503 goes out before the body is read (a
prebuilt answer, the cheapest this service can give); otherwise the body is read
first, within `body_timeout_s` (408, connection closed), and only then is a slot
taken. A client that sends headers
and half a body holds a connection until its timeout, never a slot. A body over
LARGE_BODY_BYTES waits for nothing: it has one slot of its own, and is shed when that
is busy.
"""

from __future__ import annotations

import asyncio
import json
import time

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .limits import LARGE_BODY_BYTES

DEADLINE = "deadline"  # key in scope["state"] (request.state.deadline): monotonic seconds


class LoadShedder:
    def __init__(
        self,
        app: ASGIApp,
        paths: set[str],
        max_in_flight: int,
        max_wait_s: float,
        deadline_s: float,
        retry_after_s: int,
        body_timeout_s: float,
    ) -> None:
        self.app = app
        self.paths = paths
        self.slots = asyncio.Semaphore(max_in_flight)
        # A large body (a batch, or a hostile one) costs hundreds of times a record to
        # parse: one at a time, in a lane of its own, so it never takes a record's slot.
        self.large_slots = asyncio.Semaphore(1)
        # At most one request waits per slot: past that, waiting only delays the 503.
        self.waiting, self.max_waiting = 0, max_in_flight
        self.max_wait_s = max_wait_s
        self.deadline_s = deadline_s
        self.body_timeout_s = body_timeout_s
        # The 503, built once: under overload it is most of what the worker sends.
        detail = f"overloaded: no slot free within {max_wait_s * 1000:.0f} ms; retry later"
        self.shed_body = json.dumps({"detail": detail}).encode()
        self.shed_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.shed_body)).encode()),
            (b"retry-after", str(retry_after_s).encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[DEADLINE] = time.monotonic() + self.deadline_s
        if self._full(declared_large(scope)):
            await self._shed(send)  # nothing read, nothing parsed
            return
        try:
            body = await self._body(receive, time.monotonic() + self.body_timeout_s)
        except HTTPException as refusal:  # 408 (stalled) or 413 (over the size limit)
            await JSONResponse({"detail": refusal.detail}, refusal.status_code,
                               headers=refusal.headers)(scope, receive, send)  # fmt: skip
            return
        if body is None:  # the client left before its body was in: nobody to answer
            return
        slots = self.large_slots if len(body) > LARGE_BODY_BYTES else self.slots
        if not await self._admitted(slots, may_wait=slots is self.slots):
            await self._shed(send)
            return
        held = True

        async def send_then_free(message: Message) -> None:
            # Freed with the response's last byte: background work (the challenger, the
            # log) runs after it, at most one batch per admitted request.
            nonlocal held
            if held and message["type"] == "http.response.body" and not message.get("more_body"):
                held = False
                slots.release()
            await send(message)

        try:
            await self.app(scope, self._replay(body, receive), send_then_free)
        finally:
            if held:
                slots.release()

    def _full(self, large: bool) -> bool:
        """Whether a request would be shed whatever its body (its lane has no room)."""
        if large:
            return self.large_slots.locked()
        return self.slots.locked() and (self.max_wait_s <= 0 or self.waiting >= self.max_waiting)

    async def _shed(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": self.shed_headers})
        await send({"type": "http.response.body", "body": self.shed_body})

    async def _body(self, receive: Receive, deadline: float) -> bytes | None:
        """The whole request body (None if the client left first), or HTTPException 408
        when it is not in by `deadline`."""
        parts: list[bytes] = []
        while True:
            waiting = asyncio.ensure_future(receive())
            done, _ = await asyncio.wait({waiting}, timeout=max(deadline - time.monotonic(), 0))
            if waiting not in done:
                waiting.cancel()
                raise HTTPException(
                    408,
                    f"the request body did not arrive within {self.body_timeout_s * 1000:.0f} ms",
                    headers={"Connection": "close"},
                )
            message = waiting.result()
            if message["type"] != "http.request":  # http.disconnect
                return None
            parts.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(parts)

    @staticmethod
    def _replay(body: bytes, receive: Receive) -> Receive:
        """The body already read, then the connection's own messages (a disconnect)."""
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    async def _admitted(self, slots: asyncio.Semaphore, may_wait: bool) -> bool:
        if not slots.locked():
            await slots.acquire()
            return True
        if self.max_wait_s <= 0 or not may_wait:
            return False
        # asyncio.wait, not wait_for: wait_for's timeout is asyncio.TimeoutError on
        # Python 3.10 and the builtin one after, and no spelling catches both cleanly.
        waiting = asyncio.ensure_future(slots.acquire())
        self.waiting += 1
        try:
            done, _ = await asyncio.wait({waiting}, timeout=self.max_wait_s)
        finally:
            self.waiting -= 1
        if waiting in done:
            return True
        if not waiting.cancel():  # it took a slot just as the wait ran out
            slots.release()
        return False


def declared_large(scope: Scope) -> bool:
    """Whether the request's Content-Length says its body is large (BodySizeLimit, which
    runs first, has refused one that is not a number)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) > LARGE_BODY_BYTES
    return False
