"""The service under overload and hostile clients: the targets of issue 30.

    python probe_overload.py --repo RENDERED_REPO --module MODULE --out overload.json
        [--seconds 10] [--multipliers 1,10] [--hostile 2] [--stalled 8]

Run in the generated repo's environment after `dvc repro`. The service and this load
generator are pinned to separate halves of the machine's cores (os.sched_setaffinity;
on one core they share it, and the report says so), the service with one worker per
core it was given. Then:
- capacity: closed loop, one client per slot in all workers (overload.py);
- overload: open-loop arrivals at each multiple of that capacity, whatever the answers
  (each request times out on the client after 2 s): served requests/s, and how fast a
  shed request's 503 comes back;
- hostile: at 1x, `--hostile` clients each sending a 1.9 MB body of unknown keys in a
  loop and `--stalled` clients that send headers and half a body then wait, while a
  probe asks /health every 10 ms: its p99, and every status the service gave.
Targets: served at 10x >= 80% of served at 1x; 503 p99 < 50 ms; /health p99 < 50 ms
under hostile load; no server error (a 5xx other than the shedder's 503 and the
deadline's 504, which are answers by design, both counted in the report).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from typing import Any

import numpy as np
from overload import Client, capacity, open_loop
from probe_serving import free_port, one_record, probe_parser, run_probe, target

HOSTILE_BYTES = 1_900_000  # under the service's 2 MB body limit: it must be parsed
STALL_HEAD = (
    b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n" + b"{" + b" " * 499
)


def split_cores() -> tuple[set[int], set[int], str]:
    """(service cores, generator cores, what was done) from the cores this process has."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return set(cores), set(cores), "one core: service and generator share it"
    half = len(cores) // 2
    service, generator = set(cores[:half]), set(cores[half:])
    return service, generator, f"service on cores {sorted(service)}, generator on {sorted(generator)}"


def start(module: str, port: int, cores: set[int]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SERVE_MODEL_DIR": "models/package", "SERVE_ALLOW_UNREGISTERED": "1",
           "SERVE_PREDICTION_LOG": "build/probe_overload/predictions.jsonl",
           "SERVE_WORKERS": str(len(cores))}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", f"{module}.serving", "--port", str(port)],
        env=env,
        preexec_fn=lambda: os.sched_setaffinity(0, cores),  # its workers inherit it
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the service was not ready within 120 s")


def hostile_body() -> bytes:
    keys, size, index = [], 12, 0
    while size < HOSTILE_BYTES:
        key = f'"unknown_{index}":0'
        keys.append(key)
        size += len(key) + 1
        index += 1
    return ('{"records":[{' + ",".join(keys) + "}]}").encode()


async def exchange(port: int, request: bytes) -> tuple[int, float, int]:
    """(status, seconds, response bytes) of one request on a new connection."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length"))
        await reader.readexactly(length)
        return int(lines[0].split()[1]), time.perf_counter() - started, length
    finally:
        writer.close()


async def hostile_client(port: int, body: bytes, stop: float, seen: Counter, sizes: list) -> None:
    request = (
        "POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    while time.monotonic() < stop:
        try:
            status, seconds, length = await exchange(port, request)
        except (OSError, ValueError, asyncio.IncompleteReadError):
            seen["hostile:error"] += 1
            continue
        seen[f"hostile:{status}"] += 1
        sizes.append((seconds, length))


async def stalled_client(port: int, stop: float, seen: Counter) -> None:
    """Headers and half a body, then nothing: the service should answer 408 and close."""
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(STALL_HEAD)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), stop - time.monotonic())
            seen[f"stalled:{int(head.split()[1])}"] += 1
            writer.close()
        except TimeoutError:
            seen["stalled:held to the end"] += 1
        except (OSError, ValueError, asyncio.IncompleteReadError):
            seen["stalled:closed"] += 1


async def health_probe(port: int, stop: float, seen: Counter) -> list[float]:
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    samples = []
    while time.monotonic() < stop:
        try:
            status, seconds, _ = await exchange(port, request)
            seen[f"health:{status}"] += 1
            samples.append(seconds * 1000)
        except (OSError, ValueError, asyncio.IncompleteReadError):
            seen["health:error"] += 1
        await asyncio.sleep(0.01)
    return samples


async def hostile(port: int, client: Client, rate: float, args: argparse.Namespace) -> dict:
    seen: Counter = Counter()
    sizes: list[tuple[float, int]] = []
    stop = time.monotonic() + args.seconds
    body = hostile_body()
    attackers = [hostile_client(port, body, stop, seen, sizes) for _ in range(args.hostile)]
    attackers += [stalled_client(port, stop, seen) for _ in range(args.stalled)]
    load = asyncio.create_task(open_loop(client, rate, args.seconds))
    health, *_ = await asyncio.gather(health_probe(port, stop, seen), *attackers)
    step = await load
    return {
        "health_p50_ms": round(float(np.percentile(health, 50)), 1),
        "health_p99_ms": round(float(np.percentile(health, 99)), 1),
        "hostile_body_bytes": len(body),
        "hostile_answer_p99_s": round(float(np.percentile([s for s, _ in sizes], 99)), 3)
        if sizes else None,
        "hostile_answer_max_bytes": max((n for _, n in sizes), default=None),
        "statuses": dict(sorted(seen.items())),
        "valid_load": step,
    }


async def run(port: int, body: bytes, service: set[int], args: argparse.Namespace) -> dict:
    client = Client(port, body)
    slots = int(os.environ.get("SERVE_MAX_IN_FLIGHT", "1")) * len(service)
    await capacity(client, slots, 2)  # warm-up
    measured = await capacity(client, slots, args.seconds)
    steps = []
    for multiple in args.multipliers:
        steps.append({"multiple": multiple, **await open_loop(client, measured * multiple,
                                                               args.seconds)})  # fmt: skip
        await asyncio.sleep(2)  # stragglers finish before the next step
    under_attack = await hostile(port, client, measured, args)
    client.close()
    return {"capacity_per_s": round(measured, 1), "steps": steps, "hostile": under_attack}


def server_errors(detail: dict[str, Any]) -> int:
    """5xx answers other than the shedder's 503 and the deadline's 504."""
    statuses = Counter[str]()
    for step in [*detail["steps"], detail["hostile"]["valid_load"]]:
        statuses.update(step["other"])
    for key, count in detail["hostile"]["statuses"].items():
        statuses[key.split(":")[1]] += count
    return sum(n for code, n in statuses.items() if code.startswith("5") and code not in ("503", "504"))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    os.chdir(args.repo)
    body = json.dumps({"records": [one_record(args.module)]}).encode()
    service, generator, pinning = split_cores()
    port = free_port()
    server = start(args.module, port, service)
    os.sched_setaffinity(0, generator)
    started = time.process_time()
    try:
        detail = asyncio.run(run(port, body, service, args))
    finally:
        server.terminate()
        server.wait(timeout=30)
    detail["pinning"], detail["generator_cpu_s"] = pinning, round(time.process_time() - started, 1)
    by_multiple = {step["multiple"]: step for step in detail["steps"]}
    low, high = by_multiple[min(by_multiple)], by_multiple[max(by_multiple)]
    kept = high["served_per_s"] / low["served_per_s"] if low["served_per_s"] else 0.0
    shed_p99 = high["shed_p99_ms"] if high["shed_p99_ms"] is not None else 0.0
    health = detail["hostile"]["health_p99_ms"]
    errors = server_errors(detail)
    note = f"{pinning}; {len(service)} worker(s); generator {detail['generator_cpu_s']} CPU s"
    targets = [
        target(f"overload_throughput_{max(by_multiple):g}x", kept * 100, "% of 1x", ">= 80%",
               kept >= 0.8, note=f"served {high['served_per_s']}/s at {high['offered_per_s']}/s "
               f"offered against {low['served_per_s']}/s at 1x; {note}"),
        target("overload_shed_p99", shed_p99, "ms", "< 50 ms", shed_p99 < 50,
               note=f"{high['shed_503']} shed (503) at {max(by_multiple):g}x, "
               f"{high['client_timeouts']} client timeouts"),
        target("overload_health_p99", health, "ms", "< 50 ms", health < 50,
               note=f"{args.hostile} clients sending {detail['hostile']['hostile_body_bytes']:,}"
               f"-byte hostile bodies, {args.stalled} stalled mid-body, valid load at 1x"),
        target("overload_server_errors", errors, "answers", "0", errors == 0,
               note="5xx other than 503 (shed) and 504 (deadline), in every step"),
    ]  # fmt: skip
    return {"targets": targets, "detail": detail}


def main() -> None:
    parser = probe_parser(__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--multipliers", type=lambda s: [float(x) for x in s.split(",")],
                        default=[1.0, 10.0])  # fmt: skip
    parser.add_argument("--hostile", type=int, default=2)
    parser.add_argument("--stalled", type=int, default=8)
    print(json.dumps(run_probe(measure, parser.parse_args())["detail"], indent=2))


if __name__ == "__main__":
    main()
