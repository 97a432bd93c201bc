"""Where a stage's tables live: one pandas frame in this process, or a Dask cluster.

A stage opens `session(params.engine)` and does its data work through the Engine it
gets; library functions keep taking pandas frames (the dask engine applies them per
partition). With `engine: pandas` every stage behaves exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from ..config import DataConfig, EngineConfig, ProblemSpec


class Engine(Protocol):
    """What ingest and prepare do with a table; `Any` is a pandas or a Dask frame."""

    name: str

    def collect(self, data: DataConfig, problem: ProblemSpec) -> tuple[Any, Any]: ...

    def read(self, location: str | Path) -> Any: ...

    def write(self, table: Any, path: Path) -> None: ...

    def clean(self, table: Any, data: DataConfig, target: str | None, keep: list[str]) -> Any: ...

    def split(self, table: Any, data: DataConfig) -> dict[str, Any]: ...

    def split_summary(
        self, parts: dict[str, Any], problem: ProblemSpec, data: DataConfig
    ) -> dict[str, dict[str, Any]]: ...

    def rows(self, table: Any) -> int: ...

    def summarise(
        self, table: Any, summary: Callable[[pd.DataFrame], Any], combine: Callable[[Any, Any], Any]
    ) -> Any:
        """`summary` (a pandas function) of the whole table: on dask, of each partition on
        the workers, folded with `combine` (counts add, bounds widen) in this process."""
        ...

    def sample(self, table: Any, seed: int, total: int | None = None) -> Any:
        """A pandas frame that stands for `table` where a sample will do (spreads,
        distances): on dask a seeded sample of `sample_rows`; on pandas the table.
        `total`: the table's rows where the caller has counted them (saves a pass)."""
        ...

    def each_part(self, locations: list[Path], work: Callable[..., Any]) -> list[Any]:
        """`work(part, *frames)` with the i-th part of each table at `locations` (tables
        written part for part alike: a split and its features): on dask once per part on
        the workers, `part` its file's name; on pandas once, on the whole tables, `part`
        None."""
        ...


@contextmanager
def session(cfg: EngineConfig) -> Iterator[Engine]:
    """The engine conf/engine selects; a dask session holds its cluster until the stage ends."""
    if cfg.name == "pandas":
        from .pandas_engine import PandasEngine

        yield PandasEngine()
        return
    from . import dask_engine

    with dask_engine.connect(cfg) as client:
        engine = dask_engine.DaskEngine(cfg, client)
        try:
            yield engine
        finally:
            engine.close()
