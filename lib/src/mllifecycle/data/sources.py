"""Collect the modelling dataset and the latest production batch."""

from __future__ import annotations

import pandas as pd

from ..config import DataConfig, ProblemSpec
from ..errors import DataError
from ..io import read_table, read_whole
from . import demo
from .times import parse_times


def collect(data: DataConfig, problem: ProblemSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (dataset, production batch), time columns parsed; the batch is empty
    when none is configured."""
    dataset, production = _read(data, problem)
    return (
        parse_times(dataset, data, data.path or "the demo dataset"),
        parse_times(production, data, data.production_path or "the production batch"),
    )


def _read(data: DataConfig, problem: ProblemSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    if data.source == "demo":
        assert data.demo is not None  # guaranteed by DataConfig
        return demo.generate(problem, data.demo.n_rows, data.demo.n_production_rows, data.demo.seed)
    assert data.path is not None  # guaranteed by DataConfig
    dataset = read_table(data.path)
    if dataset.empty:
        raise DataError(f"{data.path}: the file has no rows")
    production = (
        read_whole(data.production_path) if data.production_path else dataset.iloc[0:0].copy()
    )
    return dataset, production
