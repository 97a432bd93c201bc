"""Batch scoring on a cluster (`serving.batch --engine dask`): the pipeline run's test
split written as parts, scored on a 2-worker LocalCluster, must give the rows one
process gives; a part missing a column fails naming its file and keeps the last output.
Skipped where dask is not installed (it is the `dask` extra).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mllifecycle.errors import DataError
from mllifecycle.io import read_table
from mllifecycle.serving import batch, loading

pytest.importorskip("distributed", reason="the dask engine needs the `dask` extra")
from distributed import Client, LocalCluster

from mllifecycle.serving import batch_on_cluster

from .conftest import ROOT

pytestmark = pytest.mark.dask

PARTS = 3
CHUNK_ROWS = 97  # several chunks per part


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as connected,
    ):
        yield connected


def _parts(frame: pd.DataFrame, folder: Path) -> list[str]:
    folder.mkdir(parents=True)
    files = []
    for number, rows in enumerate(np.array_split(np.arange(len(frame)), PARTS)):
        files.append(str(folder / f"part-{number:05d}.parquet"))
        frame.iloc[rows].to_parquet(files[-1], index=False)
    return files


def test_parts_scored_on_the_cluster_are_the_rows_one_process_scores(
    pipeline_run: Path, client: Client, tmp_path: Path
) -> None:
    model = loading.from_dir(pipeline_run / "models/package", unregistered=True)
    test = read_table(pipeline_run / "data/prepared/test.parquet")
    whole = tmp_path / "test.parquet"
    test.to_parquet(whole, index=False)
    batch.score(model, str(whole), tmp_path / "one.parquet", CHUNK_ROWS)  # the model has scored

    files = _parts(test, tmp_path / "in")
    output = tmp_path / "scored"
    shipped = batch_on_cluster.portable(model)
    rows = batch_on_cluster.score_parts(client, shipped, files, output, CHUNK_ROWS, batch.score)

    assert rows == len(test)
    assert sorted(p.name for p in output.iterdir()) == [Path(f).name for f in files]
    pd.testing.assert_frame_equal(
        pd.read_parquet(output).reset_index(drop=True), pd.read_parquet(tmp_path / "one.parquet")
    )

    column = model.artifact.metadata.input_names[0]
    broken = _parts(test, tmp_path / "broken")
    pd.read_parquet(broken[1]).drop(columns=[column]).to_parquet(broken[1], index=False)
    with pytest.raises(DataError, match=rf"broken/part-00001\.parquet.*{column}"):
        batch_on_cluster.score_parts(client, shipped, broken, output, CHUNK_ROWS, batch.score)
    assert len(pd.read_parquet(output)) == rows, "the last output was kept whole"
    assert not list(tmp_path.glob(".scored*")), "no staging left behind"


def test_the_cluster_is_sized_by_the_composed_engine_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """conf/local's engine overrides reach batch scoring as they reach the stages."""
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    local = tmp_path / "conf/local/default.yaml"
    local.parent.mkdir(exist_ok=True)
    local.write_text("# @package _global_\nengine:\n  workers: 3\n  memory_limit: 3GiB\n")
    monkeypatch.chdir(tmp_path)
    sized = batch_on_cluster.engine_config()
    assert (sized.name, sized.workers, sized.memory_limit) == ("dask", 3, "3GiB")


def test_a_csv_output_is_refused_before_any_cluster_starts(
    pipeline_run: Path, tmp_path: Path
) -> None:
    model = loading.from_dir(pipeline_run / "models/package", unregistered=True)
    with pytest.raises(DataError, match=r"scored\.csv: .*directory of Parquet parts"):
        batch_on_cluster.score(
            model, str(tmp_path), tmp_path / "scored.csv", CHUNK_ROWS, batch.score
        )
    assert not (tmp_path / "scored.csv").exists()
