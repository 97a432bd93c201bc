"""Service settings, from SERVE_* environment variables (twelve-factor style)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServeSettings(BaseSettings):
    """Which model serves, which one shadows it, and the request limits."""

    model_config = SettingsConfigDict(env_prefix="SERVE_", extra="ignore")

    # A packaged model folder wins over a registry stage (images bake one in). A folder
    # never registered (no registry.json beside it) serves only with allow_unregistered,
    # which /metadata and the log then report.
    model_dir: Path | None = None
    allow_unregistered: bool = False
    stage: str = "prod"
    # The challenger scores every request in the background, never in the response.
    challenger_dir: Path | None = None
    challenger_stage: str | None = None
    prediction_log: Path = Path("logs/predictions.jsonl")
    # Rotated by size: the log and this many older files are kept.
    prediction_log_max_bytes: int = Field(default=50_000_000, ge=1024)
    prediction_log_backups: int = Field(default=5, ge=0)
    # Answered requests waiting for the log's writer thread; beyond this they are dropped
    # (counted in /metadata), so a slow disk never slows a response.
    prediction_log_queue: int = Field(default=10_000, ge=1)
    max_records: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(default=2_000_000, ge=1024)
    # Load shedding, per worker process: this many /predict requests at once (scoring is
    # CPU-bound: more only queues inside), a request waits this long for a slot, else
    # 503 with Retry-After; an admitted request past its deadline is not scored (504).
    max_in_flight: int = Field(default=1, ge=1)
    max_queue_wait_ms: float = Field(default=20, ge=0)
    deadline_ms: float = Field(default=1000, gt=0)
    # An admitted request's body must arrive within this (408 and the connection closed
    # after it): a client that stalls mid-body frees its slot.
    body_timeout_ms: float = Field(default=2000, gt=0)
    retry_after_s: int = Field(default=1, ge=0)
    # Worker processes of `serve`; 0: one per core (os.cpu_count()).
    workers: int = Field(default=0, ge=0)
    repo: Path = Path(".")
    # Where registry versions are materialised (git-ignored).
    cache_dir: Path = Path("build/serving")
