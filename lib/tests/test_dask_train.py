"""Training on the dask engine (models/distributed.py), piece by piece against pandas.

Early stopping chosen after the fit must keep the round LightGBM's own callback keeps;
the baseline fitted on counts must be the baseline fitted on rows. No cluster: dask's
synchronous scheduler runs the per-partition work here (the whole pipeline on a
LocalCluster is the template's test). Skipped where dask is not installed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from mllifecycle.config import Params
from mllifecycle.errors import EngineError
from mllifecycle.models import factory, training

pytest.importorskip("dask", reason="the dask engine needs the `dask` extra")

import dask
import dask.dataframe as dd
from distributed import Client, LocalCluster

from mllifecycle.engine.dask_engine import read_parts
from mllifecycle.models import distributed


def _table(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    noisy = x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=1.5, size=rows)
    return pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(label=(noisy > 0.8).astype(int))


def test_early_stopping_after_the_fit_keeps_lightgbms_round() -> None:
    train, valid = _table(3000, 0), _table(1500, 1)
    settings: dict[str, Any] = {
        "n_estimators": 300,
        "learning_rate": 0.1,
        "num_leaves": 15,
        "verbose": -1,
    }
    stopped = lgb.LGBMClassifier(**settings).fit(
        train[["a", "b", "c", "d"]],
        train["label"],
        eval_X=(valid[["a", "b", "c", "d"]],),
        eval_y=(valid["label"],),
        callbacks=[lgb.early_stopping(20, verbose=False)],
    )
    full = lgb.LGBMClassifier(**settings).fit(train[["a", "b", "c", "d"]], train["label"])
    problem: Any = SimpleNamespace(target="label")  # all the loss reads of the spec
    with dask.config.set(scheduler="sync"):
        losses, metric = distributed.validation_losses(
            full, dd.from_pandas(valid, npartitions=3), problem
        )
    assert metric == "binary_logloss"
    expected = stopped.evals_result_["valid_0"]["binary_logloss"]
    assert losses[: len(expected)] == pytest.approx(expected, rel=1e-6)
    assert distributed.best_round(losses, 20) == stopped.best_iteration_


def test_the_baseline_from_counts_is_the_baseline_from_rows(
    example_params: Callable[..., Params],
) -> None:
    params: Params = example_params()
    problem = params.problem
    labels = pd.Series(np.resize(problem.labels, 1000))
    labels.iloc[:137] = problem.labels[0]  # an uneven prior
    zero = pd.DataFrame(0.0, index=[0], columns=["a", "b"])
    rows = pd.DataFrame(0.0, index=range(len(labels)), columns=["a", "b"])
    if problem.is_classification:
        counted = distributed.fit_baseline(problem, labels.value_counts(), 0.0, zero)
        fitted = factory.build(factory.BASELINE, problem).fit(rows, labels)
        assert counted.class_prior_ == pytest.approx(fitted.class_prior_)
        assert list(counted.classes_) == list(fitted.classes_)
        balance = distributed.class_balance_of(problem, labels.value_counts())
        assert balance == training.class_balance(problem, labels)
    else:
        values = pd.Series(np.linspace(0, 10, 1000))
        counted = distributed.fit_baseline(problem, None, float(values.mean()), zero)
        fitted = factory.build(factory.BASELINE, problem).fit(rows, values)
        assert counted.predict(zero) == pytest.approx(fitted.predict(zero))


class _Scheduler:
    """Two workers; from the third look on, worker b has left and c stands in its place."""

    def __init__(self) -> None:
        self.looks = 0

    def scheduler_info(self) -> dict[str, Any]:
        self.looks += 1
        names = ("tcp://a", "tcp://b") if self.looks < 3 else ("tcp://a", "tcp://c")
        return {"workers": {key: {} for key in names}}


def test_a_worker_lost_during_the_fit_stops_it_in_one_line() -> None:
    """LightGBM would wait for the lost worker for ever (its tasks are pinned to it)."""
    never = threading.Event()
    with pytest.raises(EngineError, match=r"worker tcp://b left during the LightGBM fit"):
        distributed.watched(cast(Any, _Scheduler()), never.wait, every=0.01)
    never.set()
    assert distributed.watched(cast(Any, _Scheduler()), lambda: "fitted", every=0.01) == "fitted"


@pytest.mark.dask
def test_more_workers_than_train_parts_with_rows_still_fit(tmp_path: Path) -> None:
    """A time split leaves train parts empty; a worker holding only those would give
    LightGBM's Dask fit an empty matrix ("Input data must be 2 dimensional and non empty")."""
    folder = tmp_path / "train.parquet"
    folder.mkdir()
    table = _table(2000, 0)
    table.to_parquet(folder / "part-00000.parquet", index=False)
    for number in range(1, 6):
        table.iloc[:0].to_parquet(folder / f"part-{number:05d}.parquet", index=False)
    train, files = read_parts(folder, skip_empty=True)
    assert [Path(f).name for f in files] == ["part-00000.parquet"]
    valid = dd.from_pandas(_table(500, 1), npartitions=2)
    model: Any = SimpleNamespace(hyperparameters={"n_estimators": 20, "num_leaves": 7})
    problem: Any = SimpleNamespace(target="label", task="binary_classification", labels=[0, 1])
    with (
        LocalCluster(n_workers=3, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        fitted = distributed.fit_lightgbm(model, problem, client, train, valid)
    assert fitted.booster_.current_iteration() >= 1
    assert list(fitted.classes_) == [0, 1]
