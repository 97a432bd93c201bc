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
import queue
import threading
from collections.abc import Callable
from typing import Any

LOGGER = logging.getLogger(__name__)
_STOP = object()


class LogWriter:
    """Runs `write(job)` for each submitted job on one daemon thread, in order."""

    def __init__(self, write: Callable[[Any], None], max_pending: int) -> None:
        self._write = write
        self._jobs: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self.dropped = 0
        self._thread = threading.Thread(target=self._drain, name="prediction-log", daemon=True)
        self._thread.start()

    def submit(self, job: Any) -> bool:
        """Queue `job`; False (and counted) when the queue is full."""
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1:
                LOGGER.warning("prediction log: queue full, dropping entries (see /metadata)")
            return False
        return True

    def pending(self) -> int:
        """Jobs queued and not yet taken by the writer thread."""
        return self._jobs.qsize()

    def flush(self) -> None:
        """Wait until every queued job is written."""
        self._jobs.join()

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        self._jobs.put(_STOP)
        self._thread.join()

    def _drain(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is _STOP:
                    return
                self._write(job)
            except Exception:  # one bad job must not stop the log
                LOGGER.exception("prediction log: a job failed")
            finally:
                self._jobs.task_done()
