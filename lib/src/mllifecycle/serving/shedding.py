"""Load shedding: a bounded number of requests in flight, a bounded wait, a deadline.

Scoring is CPU-bound and the GIL runs one score at a time, so a worker that
takes every request only makes every request slow: past capacity the queue
grows until clients time out and the worker goes on scoring for nobody. Here a
request waits at most `max_wait_s` for one of `max_in_flight` slots, else it
gets an immediate 503 with Retry-After, which a client or a load balancer can
act on; an admitted request carries a deadline the endpoint checks before the
expensive work (504 past it), and a client that has left is not scored. Once
admitted, its body must arrive within `body_timeout_s`: a client that sends headers
and half a body would otherwise hold its slot for ever (408, connection closed).
"""

from __future__ import annotations

import asyncio
import time

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        self.max_wait_s = max_wait_s
        self.deadline_s = deadline_s
        self.retry_after = str(retry_after_s)
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        scope.setdefault("state", {})[DEADLINE] = arrived + self.deadline_s
        if not await self._admitted():
            waited_ms = (time.monotonic() - arrived) * 1000
            detail = f"overloaded: no slot free within {waited_ms:.0f} ms; retry later"
            refusal = JSONResponse(
                {"detail": detail}, 503, headers={"Retry-After": self.retry_after}
            )
            await refusal(scope, receive, send)
            return
        held = True
        receive = self._by_deadline(receive, time.monotonic() + self.body_timeout_s)

        async def send_then_free(message: Message) -> None:
            # Freed with the response's last byte: background work (the challenger, the
            # log) runs after it, at most one batch per admitted request.
            nonlocal held
            if held and message["type"] == "http.response.body" and not message.get("more_body"):
                held = False
                self.slots.release()
            await send(message)

        try:
            await self.app(scope, receive, send_then_free)
        finally:
            if held:
                self.slots.release()

    def _by_deadline(self, receive: Receive, deadline: float) -> Receive:
        """`receive`, bounded by `deadline` until the body's last part has arrived."""
        body_done = False

        async def receive_by_deadline() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            waiting = asyncio.ensure_future(receive())
            done, _ = await asyncio.wait({waiting}, timeout=max(deadline - time.monotonic(), 0))
            if waiting not in done:
                waiting.cancel()
                # FastAPI lets HTTPException through body parsing, as limits.py's 413.
                raise HTTPException(
                    408,
                    f"the request body did not arrive within {self.body_timeout_s * 1000:.0f} ms"
                    " of admission",
                    headers={"Connection": "close"},
                )
            message = waiting.result()
            body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        return receive_by_deadline

    async def _admitted(self) -> bool:
        if not self.slots.locked():
            await self.slots.acquire()
            return True
        if self.max_wait_s <= 0:
            return False
        # asyncio.wait, not wait_for: wait_for's timeout is asyncio.TimeoutError on
        # Python 3.10 and the builtin one after, and no spelling catches both cleanly.
        waiting = asyncio.ensure_future(self.slots.acquire())
        done, _ = await asyncio.wait({waiting}, timeout=self.max_wait_s)
        if waiting in done:
            return True
        if not waiting.cancel():  # it took a slot just as the wait ran out
            self.slots.release()
        return False
