"""Open-loop overload test of a generated repo's service (loopback only).

Run from a generated repo's root, in its environment, after `dvc repro`:

    python /path/to/benchmarks/overload.py MODULE [--seconds 10] [--multipliers 1,2,5,10]

It starts `python -m MODULE.serving` on a free loopback port (SERVE_* variables in
the environment apply: SERVE_WORKERS, SERVE_MAX_IN_FLIGHT, SERVE_MAX_QUEUE_WAIT_MS, ...),
measures capacity closed-loop (as many clients as slots in all workers, one record per request, each
sending its next request when its answer arrives), then drives the service
open-loop at each multiple of that capacity: arrivals at fixed intervals whatever
the answers, on raw keep-alive sockets (a cheap client, so the 2-core machine's
time goes to the server). Every request has a client timeout; at the end of each
step a probe measures how soon a request is served again. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CLIENT_TIMEOUT_S = 2.0
MAX_CONNECTIONS = 1000


class Client:
    """HTTP/1.1 over a pool of keep-alive sockets: one request per socket at a time."""

    def __init__(self, port: int, body: bytes) -> None:
        self.port = port
        self.request = (
            f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.open = 0

    async def post(self) -> tuple[int, float]:
        """(status, seconds); status 0: client timeout, -1: no socket or an I/O error."""
        started = time.perf_counter()
        if self.idle:
            reader, writer = self.idle.pop()
        elif self.open < MAX_CONNECTIONS:
            self.open += 1
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                self.open -= 1
                return -1, time.perf_counter() - started
        else:
            return -1, 0.0
        try:
            status = await asyncio.wait_for(self._exchange(reader, writer), CLIENT_TIMEOUT_S)
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError) as err:
            writer.close()  # the client leaves: the server should not score for it
            self.open -= 1
            return (0 if isinstance(err, TimeoutError) else -1), time.perf_counter() - started
        self.idle.append((reader, writer))
        return status, time.perf_counter() - started

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
        writer.write(self.request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(
            int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length")
        )
        await reader.readexactly(length)
        return int(lines[0].split()[1])

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def capacity(client: Client, clients: int, seconds: float) -> float:
    """Served requests per second, closed loop."""
    served = 0
    stop = time.monotonic() + seconds

    async def loop() -> None:
        nonlocal served
        while time.monotonic() < stop:
            status, _ = await client.post()
            served += status == 200

    await asyncio.gather(*(loop() for _ in range(clients)))
    return served / seconds


async def open_loop(client: Client, rate: float, seconds: float) -> dict[str, Any]:
    started = time.monotonic()
    count = int(rate * seconds)
    tasks = []
    for i in range(count):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(client.post()))
    load_stopped = time.monotonic()
    recovery = await recovery_s(client, load_stopped)
    results = await asyncio.gather(*tasks)
    return summary(results, rate, seconds, recovery)


async def recovery_s(client: Client, since: float) -> float:
    """Seconds from the last arrival until a new request is served."""
    while True:
        status, _ = await client.post()
        if status == 200:
            return time.monotonic() - since
        await asyncio.sleep(0.01)


def summary(
    results: list[tuple[int, float]], rate: float, seconds: float, recovery: float
) -> dict[str, Any]:
    def ms(status: int, q: float) -> float | None:
        values = [s for code, s in results if code == status]
        return round(float(np.percentile(values, q)) * 1000, 1) if values else None

    codes = [code for code, _ in results]
    return {
        "offered_per_s": round(rate, 1),
        "sent": len(results),
        "served_per_s": round(codes.count(200) / seconds, 1),
        "ok": codes.count(200),
        "shed_503": codes.count(503),
        "deadline_504": codes.count(504),
        "client_timeouts": codes.count(0),
        # The generator's own limits (no free socket, a reset connection): not answers.
        "client_io_errors": codes.count(-1),
        "other": {str(c): codes.count(c) for c in sorted(set(codes) - {200, 503, 504, 0, -1})},
        "ok_p50_ms": ms(200, 50),
        "ok_p99_ms": ms(200, 99),
        "shed_p99_ms": ms(503, 99),
        "recovery_s": round(recovery, 3),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("overload: the service was not ready within 60 s")


async def main_async(port: int, body: bytes, args: argparse.Namespace) -> dict[str, Any]:
    client = Client(port, body)
    # Slots are per worker process; the service runs one worker per core by default.
    workers = int(os.environ.get("SERVE_WORKERS", "0")) or os.cpu_count() or 1
    slots = int(os.environ.get("SERVE_MAX_IN_FLIGHT", "1")) * workers
    await capacity(client, slots, 2)  # warm-up
    measured = await capacity(client, slots, args.seconds)
    steps = []
    for multiple in args.multipliers:
        step = await open_loop(client, measured * multiple, args.seconds)
        steps.append({"multiple": multiple, **step})
        await asyncio.sleep(2)  # let stragglers finish before the next step
    client.close()
    return {"capacity_per_s": round(measured, 1), "seconds_per_step": args.seconds,
            "client_timeout_s": CLIENT_TIMEOUT_S, "steps": steps}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("module")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--multipliers", type=lambda s: [float(x) for x in s.split(",")],
                        default=[1.0, 2.0, 5.0, 10.0])  # fmt: skip
    args = parser.parse_args()
    meta = json.loads(Path("models/package/metadata.json").read_text())
    columns = [field["name"] for field in meta["input_schema"]]
    record = json.loads(pd.read_parquet("data/prepared/test.parquet")[columns].head(1).to_json(
        orient="records", date_format="iso"))  # fmt: skip
    body = json.dumps({"records": record}).encode()
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"overload-{port}.jsonl"
    env = {"SERVE_MODEL_DIR": "models/package", "SERVE_ALLOW_UNREGISTERED": "1",
           "SERVE_PREDICTION_LOG": str(log), **os.environ}
    server = subprocess.Popen(
        [sys.executable, "-m", f"{args.module}.serving", "--port", str(port)], env=env
    )
    try:
        wait_ready(port)
        result = asyncio.run(main_async(port, body, args))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
