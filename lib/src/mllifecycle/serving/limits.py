"""A request body size limit, enforced while the body streams in."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A body past this size is parsed on the thread pool (a 2 MB body is ~0.3 s of Python
# that would hold the event loop, /health included) and has a slot of its own
# (shedding.py), so it never takes the slot of a request of a few records.
LARGE_BODY_BYTES = 64 * 1024


class BodySizeLimit:
    """413 for a body over `max_bytes`, whether declared (Content-Length) or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit():
            await JSONResponse({"detail": "invalid Content-Length"}, 400)(scope, receive, send)
            return
        if int(declared) > self.max_bytes:
            await JSONResponse({"detail": self._detail()}, 413)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # FastAPI re-raises HTTPException from body parsing, so this is a 413.
                raise HTTPException(413, self._detail())
            return message

        await self.app(scope, limited, send)

    def _detail(self) -> str:
        return f"request body is over the limit of {self.max_bytes} bytes"
