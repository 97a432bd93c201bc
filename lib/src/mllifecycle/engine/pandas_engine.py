"""The pandas engine: the whole table is one frame in this process (today's behaviour)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import DataConfig, ProblemSpec
from ..data import prepare, sources
from ..io import read_table, read_whole, write_table


class PandasEngine:
    name = "pandas"

    def collect(self, data: DataConfig, problem: ProblemSpec) -> tuple[Any, Any]:
        return sources.collect(data, problem)

    def read(self, location: str | Path) -> pd.DataFrame:
        return read_table(location)

    def write(self, table: pd.DataFrame, path: Path) -> None:
        if not path.is_dir():
            write_table(table, path)
            return
        # The parts the dask engine wrote here last time go once this table is complete.
        fresh = path.with_name(f".swap-{path.name}")
        write_table(table, fresh)
        shutil.rmtree(path)
        fresh.rename(path)

    def clean(
        self, table: pd.DataFrame, data: DataConfig, target: str | None, keep: list[str]
    ) -> pd.DataFrame:
        return prepare.clean(table, data, target, keep=keep)

    def split(self, table: pd.DataFrame, data: DataConfig) -> dict[str, pd.DataFrame]:
        return prepare.split(table, data)

    def split_summary(
        self, parts: dict[str, pd.DataFrame], problem: ProblemSpec, data: DataConfig
    ) -> dict[str, dict[str, Any]]:
        return prepare.split_summary(parts, problem, data)

    def rows(self, table: pd.DataFrame) -> int:
        return len(table)

    def summarise(
        self,
        table: pd.DataFrame,
        summary: Callable[[pd.DataFrame], Any],
        combine: Callable[[Any, Any], Any],
    ) -> Any:
        return summary(table)

    def sample(self, table: pd.DataFrame, seed: int, total: int | None = None) -> pd.DataFrame:
        return table

    def each_part(self, locations: list[Path], work: Callable[..., Any]) -> list[Any]:
        return [work(None, *(read_whole(location) for location in locations))]
