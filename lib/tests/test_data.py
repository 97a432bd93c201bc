from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from mllifecycle.config import (
    Params,
)
from mllifecycle.data import (
    demo,
    warehouse,
)
from mllifecycle.data.prepare import (
    clean,
    split,
)
from mllifecycle.data.sources import (
    collect,
)
from mllifecycle.errors import (
    DataError,
)
from mllifecycle.io import (
    read_table,
)
from mllifecycle.validation import (
    gates,
)
from mllifecycle.validation.raw import (
    derived_expectations,
)

from .conftest import PROBLEMS, requires_demo


@pytest.mark.parametrize("problem", PROBLEMS)
def test_demo_is_deterministic_and_complete(
    problem: str, example_params: Callable[..., Params]
) -> None:
    params = example_params(f"problem={problem}")
    history, production = demo.generate(params.problem, 3000, 500, seed=7)
    again, _ = demo.generate(params.problem, 3000, 500, seed=7)
    pd.testing.assert_frame_equal(history, again)
    expected = {
        params.data.id_column,
        params.data.time_column,
        params.problem.target,
        *params.data.checks.event_time_columns,
        *params.data.features,
    }
    assert set(history.columns) == expected
    assert history[params.data.id_column].is_unique
    assert history["usage_hours"].isna().any() and history["payment_method"].isna().any()
    assert production["snapshot_date"].min() > history["snapshot_date"].max()
    assert history["snapshot_date"].dt.to_period("M").nunique() >= 12


def test_demo_label_is_skewed_and_production_is_shifted(
    example_params: Callable[..., Params],
) -> None:
    params = example_params("problem=churn")
    history, production = demo.generate(params.problem, 5000, 2000, seed=1)
    assert 0.05 < history["churned"].mean() < 0.35
    assert production["monthly_charges"].mean() > history["monthly_charges"].mean() + 10
    assert production["tenure_months"].mean() == pytest.approx(
        history["tenure_months"].mean(), rel=0.1
    )


def test_time_split_never_trains_on_the_future(example_params: Callable[..., Params]) -> None:
    params = example_params("problem=churn")
    history, _ = demo.generate(params.problem, 4000, 0, seed=3)
    parts = split(clean(history, params.data, "churned"), params.data)
    assert parts["train"]["snapshot_date"].max() < parts["valid"]["snapshot_date"].min()
    assert parts["valid"]["snapshot_date"].max() < parts["test"]["snapshot_date"].min()
    assert sum(len(p) for p in parts.values()) == len(history)
    ids = [set(p["customer_id"]) for p in parts.values()]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])


def test_clean_names_a_missing_column(example_params: Callable[..., Params]) -> None:
    params = example_params("problem=churn")
    history, _ = demo.generate(params.problem, 1000, 0, seed=3)
    with pytest.raises(DataError, match="region"):
        clean(history.drop(columns=["region"]), params.data, "churned")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_file_source_reads_dataset_and_optional_production_batch(
    tmp_path: Path, example_params: Callable[..., Params], suffix: str
) -> None:
    params = example_params("problem=churn")
    history, production = demo.generate(params.problem, 800, 200, seed=2)
    paths = {name: tmp_path / f"{name}{suffix}" for name in ("history", "production")}
    for name, frame in (("history", history), ("production", production)):
        if suffix == ".csv":
            frame.to_csv(paths[name], index=False)
        else:
            frame.to_parquet(paths[name], index=False)
    with_batch = params.data.model_copy(
        update={
            "source": "file",
            "path": str(paths["history"]),
            "production_path": str(paths["production"]),
        }
    )
    dataset, batch = collect(with_batch, params.problem)
    assert len(dataset) == 800 and len(batch) == 200
    assert list(dataset.columns) == list(history.columns)
    without_batch = with_batch.model_copy(update={"production_path": None})
    _, empty = collect(without_batch, params.problem)
    assert empty.empty and list(empty.columns) == list(history.columns)


def test_unreadable_sources_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"missing\.csv: file not found"):
        read_table(tmp_path / "missing.csv")
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(DataError, match=r"truncated\.parquet: cannot be read"):
        read_table(truncated)
    with pytest.raises(DataError, match="unsupported format"):
        read_table(tmp_path / "data.xlsx")


@requires_demo  # the raw gate's suite in gx/ describes the demo data
def test_the_sql_example_reads_the_demo_tables_through_the_environments_url(
    in_root: Path,
    tmp_path: Path,
    example_params: Callable[..., Params],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """conf/data/warehouse.yaml on an embedded SQLite database: the same rows as the
    generator, with types the raw gate (the demo's reviewed suite) accepts."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    params = example_params("problem=churn", "data=warehouse")
    assert (params.data.path, params.data.production_path) == ("sql:customers", "sql:production")
    # Without $DATABASE_URL: the SQL example's embedded file, named in the message.
    with pytest.raises(DataError, match=r"sql:customers: no such table in sqlite:///.*the default"):
        collect(params.data, params.problem)

    history, production = demo.generate(params.problem, 600, 150, seed=3)
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    warehouse.write_tables(url, {"customers": history, "production": production})
    monkeypatch.setenv("DATABASE_URL", url)
    dataset, batch = collect(params.data, params.problem)
    pd.testing.assert_frame_equal(dataset, history, check_dtype=False)
    assert len(batch) == 150
    assert gates.run(dataset, "raw", "dataset", derived_expectations(params)).passed
    with pytest.raises(DataError, match="sql:nowhere: no such table"):
        read_table("sql:nowhere")
