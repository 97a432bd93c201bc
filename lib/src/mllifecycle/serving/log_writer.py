"""The prediction log, written off the response path.

A response never waits for the disk nor for the shadow challenger: each answered
request becomes a job on a bounded queue, and one writer thread scores the
challenger and appends the job's lines. When the queue is full (the disk or the
challenger cannot keep up) the job is dropped and counted, never waited for; the
count is in /metadata (`prediction_log_dropped`, per worker process) and the first
drop is logged as a warning.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

LOGGER = logging.getLogger(__name__)
# The writer wakes this often: a request only appends to a deque (no lock, no wake-up
# of another thread, which would contend for the GIL inside the response).
INTERVAL_S = 0.05
MAX_BATCH = 1024  # jobs a single append writes


class LogWriter:
    """Runs `write(jobs)` on one daemon thread for the submitted jobs, in order, in
    batches of what has queued up since it last woke (one file append for many requests)."""

    def __init__(self, write: Callable[[list[Any]], None], max_pending: int) -> None:
        self._write = write
        self._max_pending = max_pending
        self._jobs: deque[Any] = deque()
        self._writing = False
        self._stop = threading.Event()
        self.dropped = 0
        self._thread = threading.Thread(target=self._drain, name="prediction-log", daemon=True)
        self._thread.start()

    def submit(self, job: Any) -> bool:
        """Queue `job`; False (and counted) when `max_pending` jobs are already waiting."""
        if len(self._jobs) >= self._max_pending:
            self.dropped += 1
            if self.dropped == 1:
                LOGGER.warning("prediction log: queue full, dropping entries (see /metadata)")
            return False
        self._jobs.append(job)  # deque.append is atomic: no lock needed
        return True

    def pending(self) -> int:
        """Jobs queued and not yet taken by the writer thread."""
        return len(self._jobs)

    def flush(self) -> None:
        """Wait until every queued job is written."""
        while self._jobs or self._writing:
            time.sleep(INTERVAL_S / 5)

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is queued, then stop the thread; a stuck disk or challenger cannot
        hold the shutdown longer than `timeout_s` (what is left is logged, then lost)."""
        self._stop.set()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            LOGGER.warning("prediction log: %d entries left unwritten at shutdown", len(self._jobs))

    def _drain(self) -> None:
        while not self._stop.wait(INTERVAL_S):
            self._write_queued()
        self._write_queued()

    def _write_queued(self) -> None:
        while self._jobs:
            self._writing = True
            batch = [self._jobs.popleft() for _ in range(min(len(self._jobs), MAX_BATCH))]
            try:
                self._write_each_if_needed(batch)
            finally:
                self._writing = False

    def _write_each_if_needed(self, batch: list[Any]) -> None:
        """One append for the batch; if it fails, job by job, so one bad job (or a
        passing disk error) loses only its own lines."""
        try:
            self._write(batch)
            return
        except Exception:
            if len(batch) == 1:
                LOGGER.exception("prediction log: a request's entries could not be written")
                return
        for job in batch:
            self._write_each_if_needed([job])
