"""Locust users for `make loadtest`: single-record decisions at a steady rate.

The payloads (real records from the test split) come from LOADTEST_PAYLOADS,
written by `{{ cookiecutter.project_slug }} loadtest` (make loadtest), which also starts
the service and judges the result against the problem spec's p99 latency.
"""

import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, task

PAYLOADS = json.loads(Path(os.environ["LOADTEST_PAYLOADS"]).read_text())
RATE_PER_USER = float(os.environ.get("LOADTEST_RATE_PER_USER", "5"))


# FastHttpUser (geventhttpclient): the requests-based HttpUser costs the client several
# milliseconds a request, which would show up in the p99 judged against the spec.
class DecisionUser(FastHttpUser):
    def wait_time(self) -> float:
        # Random (Poisson) arrivals at RATE_PER_USER a second, as independent callers
        # behave; a fixed pace would send every user's request at the same instant.
        return random.expovariate(RATE_PER_USER)

    @task
    def one_record(self) -> None:
        self.client.post("/predict", json={"records": [random.choice(PAYLOADS)]}, name="/predict")
