"""The dask engine (conf/engine/dask.yaml) against the pandas engine, on the demo.

ingest and prepare run as `dvc repro` runs them (a process per stage), first with
the pandas engine on the demo, then with the dask engine on a 2-worker LocalCluster
over the same raw rows written as several Parquet parts: the prepared splits must
be the same rows with the same values. Skipped where dask is not installed (it is
the `dask` extra).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml

from mllifecycle.compose import composed
from mllifecycle.config import Params, parse_params
from mllifecycle.data.prepare import type_rows
from mllifecycle.errors import ConfigError

from .conftest import PACKAGE, ROOT, example_overrides

pytest.importorskip("distributed", reason="the dask engine needs the `dask` extra")
from mllifecycle.engine.dask_engine import (
    _hash_bucket,
    arrow_schema,
    quantile_from_counts,
)

pytestmark = pytest.mark.dask

PARTS = 4
DASK = {"name": "dask", "workers": 2, "threads_per_worker": 1, "memory_limit": "1GiB"}
SMALL = ("data.demo.n_rows=6000", "data.demo.n_production_rows=1500")


def _params(folder: Path, params: Params, **changes: Any) -> None:
    raw = params.model_dump(mode="json")
    for key, value in changes.items():
        section, _, name = key.partition("__")
        raw[section] = value if not name else {**raw[section], name: value}
    (folder / "params.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")


def _stage(
    folder: Path, name: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.stages.{name}"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def _run(folder: Path, *names: str) -> None:
    for name in names:
        done = _stage(folder, name)
        assert done.returncode == 0, f"{name} failed: {done.stderr[-2000:]}"


def _write_parts(frame: pd.DataFrame, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for number, rows in enumerate(np.array_split(np.arange(len(frame)), PARTS)):
        frame.iloc[rows].to_parquet(folder / f"part-{number:03d}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def demo() -> Params:
    return parse_params(composed(example_overrides(SMALL), ROOT / "conf"))


DUPLICATES = 300


@pytest.fixture(scope="module")
def both_engines(demo: Params, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo written as parts, with DUPLICATES rows repeated in the last part (their
    originals spread over all parts), prepared by the pandas and by the dask engine."""
    runs = {name: tmp_path_factory.mktemp(name) for name in ("pandas", "dask")}
    _params(runs["pandas"], demo)
    _run(runs["pandas"], "ingest")
    raw = pd.read_parquet(runs["pandas"] / "data/raw/dataset.parquet")
    repeated = pd.concat([raw, raw.sample(n=DUPLICATES, random_state=0)], ignore_index=True)
    parts = _write_parts(repeated, runs["dask"] / "parts.parquet")  # a directory both read
    _params(runs["pandas"], demo, data__source="file", data__path=str(parts))
    _params(runs["dask"], demo, data__source="file", data__path=str(parts), engine=DASK)
    for folder in runs.values():
        _run(folder, "ingest", "prepare")
    return runs


def test_duplicates_across_parts_are_dropped_and_no_scratch_is_left(
    both_engines: dict[str, Path],
) -> None:
    written = len(pd.read_parquet(both_engines["pandas"] / "data/raw/dataset.parquet"))
    kept = {
        engine: sum(
            len(pd.read_parquet(folder / f"data/prepared/{split}.parquet"))
            for split in ("train", "valid", "test")
        )
        for engine, folder in both_engines.items()
    }
    assert kept["dask"] == kept["pandas"] == written - DUPLICATES
    assert not list((both_engines["dask"] / "data/prepared").glob(".*")), "scratch removed"


@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_dask_prepares_the_splits_pandas_prepares(
    split: str, demo: Params, both_engines: dict[str, Path]
) -> None:
    key = demo.data.id_column
    assert key is not None, "the demo has an id column to match rows by"
    frames = {
        engine: pd.read_parquet(folder / f"data/prepared/{split}.parquet")
        .sort_values(key)
        .reset_index(drop=True)
        for engine, folder in both_engines.items()
    }
    assert len(frames["pandas"]) > 0
    pd.testing.assert_frame_equal(frames["dask"], frames["pandas"])


@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_dask_splits_are_in_time_order_across_parts(
    split: str, demo: Params, both_engines: dict[str, Path]
) -> None:
    """Time-ordered cross-validation reads train in row order, as pandas writes it."""
    time_column = demo.data.time_column
    assert time_column is not None, "the demo splits by time"
    folder = both_engines["dask"] / f"data/prepared/{split}.parquet"
    parts = sorted(folder.glob("part-*.parquet"))
    assert len(parts) > 1, "several parts, so the order across them is tested"
    times = pd.concat(pd.read_parquet(part) for part in parts)[time_column]
    assert times.is_monotonic_increasing


def test_an_empty_part_is_written_with_the_columns_types(
    demo: Params, both_engines: dict[str, Path]
) -> None:
    """A split's part with no rows must read back beside the others (not typed null)."""
    raw = pd.read_parquet(both_engines["pandas"] / "data/raw/dataset.parquet").iloc[:0]
    empty = type_rows(raw, demo.data, "the data")
    schema = arrow_schema(empty)
    assert not [f.name for f in schema if pa.types.is_null(f.type)]
    assert set(schema.names) == set(empty.columns)


def test_the_random_split_follows_the_seed_and_the_id() -> None:
    rows = pd.DataFrame({"id": [f"c{i}" for i in range(2000)], "x": range(2000)})
    first = _hash_bucket(rows, "id", seed=0)
    assert first.equals(_hash_bucket(rows.assign(x=0), "id", seed=0)), "the id decides"
    assert not first.equals(_hash_bucket(rows, "id", seed=7)), "another seed, another split"
    assert 0.12 < (first < 0.15).mean() < 0.18, "fractions hold (approximately)"


def test_dask_writes_the_split_report_pandas_writes(both_engines: dict[str, Path]) -> None:
    reports = {
        e: json.loads((f / "reports/split.json").read_text()) for e, f in both_engines.items()
    }
    assert reports["dask"] == reports["pandas"]


def test_a_part_with_another_schema_is_refused_naming_it(
    demo: Params, both_engines: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(both_engines["dask"], folder)
    parts = folder / "parts.parquet"
    _params(folder, demo, data__source="file", data__path=str(parts), engine=DASK)
    raw_before = sorted(p.read_bytes() for p in (folder / "data/raw/dataset.parquet").iterdir())
    column = demo.data.categorical[0]
    bad = parts / "part-002.parquet"
    pd.read_parquet(bad).drop(columns=[column]).to_parquet(bad, index=False)
    done = _stage(folder, "ingest")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(bad) in lines[0] and column in lines[0], lines[0]
    raw_after = sorted(p.read_bytes() for p in (folder / "data/raw/dataset.parquet").iterdir())
    assert raw_after == raw_before, "a refused ingest left the last good raw data as it was"


def test_an_unreachable_scheduler_is_one_line_naming_it(demo: Params, tmp_path: Path) -> None:
    _params(tmp_path, demo, engine={**DASK, "connect_timeout": "2s"})
    address = "tcp://127.0.0.1:1"
    done = _stage(tmp_path, "ingest", env={"DASK_SCHEDULER_ADDRESS": address})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert address in lines[0] and "DASK_SCHEDULER_ADDRESS" in lines[0], lines[0]


@pytest.mark.parametrize("q", [0.0, 0.3, 0.7, 0.85, 1.0])
def test_cut_points_from_counts_are_pandas_quantiles(q: float) -> None:
    offsets = pd.to_timedelta(np.random.default_rng(0).integers(0, 400, 5001), unit="D")
    # Any: pandas-stubs types quantile for numeric series only; pandas has it for times.
    days: Any = pd.Series(pd.Timestamp("2024-01-01") + offsets)
    assert quantile_from_counts(days.value_counts(), q) == days.quantile(q)
    numbers = pd.Series(np.random.default_rng(1).integers(0, 50, 999).astype("float64"))
    assert quantile_from_counts(numbers.value_counts(), q) == numbers.quantile(q)


def test_pandas_is_the_default_engine(example_params: Callable[..., Params]) -> None:
    assert example_params().engine.name == "pandas"


def test_a_worker_under_one_gib_is_refused(example_params: Callable[..., Params]) -> None:
    with pytest.raises(ConfigError, match=r"engine\.memory_limit"):
        example_params("engine=dask", "engine.memory_limit=512MiB")


ENTRY = """
import json, sys
from mllifecycle.cli import main  # all that the `mllifecycle` console script imports

if __name__ == "__main__":
    from mllifecycle.config import EngineConfig
    from mllifecycle.engine import dask_engine

    def imported():
        return sorted(m for m in sys.argv[1:] if m in sys.modules)

    with dask_engine.connect(EngineConfig(name="dask", workers=1, memory_limit="1GiB")) as c:
        print(json.dumps(list(c.run(imported).values())))
"""


def test_a_stages_workers_import_nothing_of_the_model_before_a_task(tmp_path: Path) -> None:
    """dvc.yaml starts every stage through the `mllifecycle` console script, and each
    worker process re-imports the program as __mp_main__: it must stay thin, so workers
    do not carry scikit-learn and LightGBM (~200 MB each) before a task needs them."""
    heavy = ["sklearn", "lightgbm", "great_expectations", "mllifecycle.models.artifact"]
    script = tmp_path / "mllifecycle_entry.py"
    script.write_text(ENTRY)
    done = subprocess.run([sys.executable, str(script), *heavy], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [[]]


def _batch_parts(batch: pd.DataFrame, folder: Path) -> list[Path]:
    """The batch as three day files and a fourth that arrived empty."""
    folder.mkdir(parents=True)
    files = []
    for number, rows in enumerate(np.array_split(np.arange(len(batch)), 3)):
        files.append(folder / f"day-{number}.parquet")
        batch.iloc[rows].to_parquet(files[-1], index=False)
    files.append(folder / "day-3.parquet")
    batch.iloc[:0].to_parquet(files[-1], index=False)
    return files


def test_a_partitioned_production_batch_is_checked_packaged_and_monitored_part_by_part(
    pipeline_run: Path, tmp_path: Path
) -> None:
    """The pipeline run's production batch as day files in a directory, on a 2-worker
    LocalCluster: ingest keeps a part per file, named after it; validate_production
    passes and names the empty part it skipped; package proves its compiled path on
    every part; monitor, from per-part sums, flags what the pandas monitor flagged on
    the same batch in one frame. Then one day file loses a column: the gate names it."""
    folder = tmp_path / "run"
    shutil.copytree(pipeline_run, folder)
    params = parse_params(yaml.safe_load((folder / "params.yaml").read_text()))
    batch = pd.read_parquet(folder / "data/raw/production.parquet")
    days = _batch_parts(batch, folder / "data/external/batch")
    shutil.copy(folder / "data/raw/dataset.parquet", folder / "data/external/dataset.parquet")
    _params(
        folder,
        params,
        data__source="file",
        data__path="data/external/dataset.parquet",
        data__production_path="data/external/batch",
        engine=DASK,
    )
    _run(folder, "ingest")
    written = sorted(p.name for p in (folder / "data/raw/production.parquet").iterdir())
    assert written == [f"part-{i:05d}-day-{i}.parquet" for i in range(4)]

    _run(folder, "validate_production", "package", "monitor")
    (serving, *_) = json.loads((folder / "reports/validation/production.json").read_text())
    assert serving["passed"] and serving["rows"] == len(batch), serving
    assert serving["skipped_empty_parts"] == ["part-00003-day-3.parquet"]
    package = json.loads((folder / "models/package/metadata.json").read_text())
    assert package["scoring_path"] == "compiled"
    exact = json.loads((pipeline_run / "reports/monitor.json").read_text())
    sketched = json.loads((folder / "reports/monitor.json").read_text())
    assert sketched["current_rows"] == exact["current_rows"] == len(batch)
    assert sketched["drifted"] == exact["drifted"]
    assert [(w["start"], w["rows"]) for w in sketched["windows"]] == [
        (w["start"], w["rows"]) for w in exact["windows"]
    ]
    for mine, theirs in zip(sketched["features"], exact["features"], strict=True):
        assert mine["null_rate_current"] == theirs["null_rate_current"], mine["column"]
        assert abs(mine["statistic"] - theirs["statistic"]) <= 0.005, (mine, theirs)

    column = params.data.categorical[0]
    pd.read_parquet(days[1]).drop(columns=[column]).to_parquet(days[1], index=False)
    _run(folder, "ingest")
    done = _stage(folder, "validate_production")
    assert done.returncode == 1
    assert "part-00001-day-1.parquet" in done.stderr and column in done.stderr, done.stderr
    (serving, *_) = json.loads((folder / "reports/validation/production.json").read_text())
    assert serving["rows"] == len(batch) - len(pd.read_parquet(days[1]))


def test_a_stage_records_its_workers_peaks_and_its_own_at_exit(
    both_engines: dict[str, Path], tmp_path: Path
) -> None:
    """What `make bench ENGINE=dask` reads: each worker's peak against its limit when
    the cluster closes, and the stage process's own peak when it exits (evaluate judges
    in this process after its cluster has closed)."""
    folder = tmp_path / "run"
    shutil.copytree(both_engines["dask"], folder)
    peaks = tmp_path / "peaks.jsonl"
    done = _stage(folder, "prepare", env={"WORKER_PEAKS_FILE": str(peaks)})
    assert done.returncode == 0, done.stderr[-2000:]
    workers, driver = (json.loads(line) for line in peaks.read_text().splitlines())
    assert workers["stage"] == driver["stage"] == "prepare"
    assert len(workers["worker_peak_bytes"]) == DASK["workers"]
    assert 0 < max(workers["worker_peak_bytes"]) < workers["memory_limit_bytes"] == 2**30
    assert driver["driver_peak_bytes"] > 50 * 2**20, "a Python process with pandas and dask"
