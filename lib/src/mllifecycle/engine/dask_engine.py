"""The dask engine: tables are Dask frames, one partition per file, on a cluster.

`connect` joins the scheduler in DASK_SCHEDULER_ADDRESS (any `distributed` cluster) or
starts the LocalCluster conf/engine/dask.yaml sizes. Row-wise work runs per partition
through the same pandas functions the pandas engine calls; what needs the whole table
(duplicates, cut points, counts) is computed on the cluster, never collected whole.
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import math
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial, reduce
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
from distributed import Client, LocalCluster

from .. import paths
from ..config import DataConfig, EngineConfig, ProblemSpec
from ..data import demo, prepare
from ..data.times import parse_times
from ..errors import DataError, EngineError, GateError
from ..io import TABLE_SUFFIXES, parquet_rows, read_table, schema_of, table_files

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
WORKER_PEAKS_ENV = "WORKER_PEAKS_FILE"
PACKAGE = __name__.split(".")[0]
# Random split: a row's bucket of its hash, so the split needs no shuffle.
HASH_BUCKETS = 10_000


@contextmanager
def connect(cfg: EngineConfig) -> Iterator[Client]:
    """A client of the scheduler in $DASK_SCHEDULER_ADDRESS, else of a fresh LocalCluster."""
    _quiet()
    address = os.environ.get(SCHEDULER_ENV)
    if not address:
        with (
            LocalCluster(
                n_workers=cfg.workers,
                threads_per_worker=cfg.threads_per_worker,
                memory_limit=cfg.memory_limit,
                # ":0": a free port; None still binds 8787 and warns when it is taken.
                dashboard_address=":0",
                processes=True,
                # A task's error reaches the stage as an exception, said once in one line.
                silence_logs=logging.CRITICAL,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
            record_worker_peaks(client)
        return
    try:
        client = Client(address, timeout=cfg.connect_timeout)
    except Exception as err:  # OSError, TypeError (tls://), garbage from a non-scheduler
        reason = (str(err).splitlines() or [type(err).__name__])[0]
        raise EngineError(
            f"{SCHEDULER_ENV}={address}: no Dask scheduler answered within "
            f"{cfg.connect_timeout} ({reason}); unset {SCHEDULER_ENV} to run on a "
            "LocalCluster sized by conf/engine/dask.yaml"
        ) from None
    with client:
        _check_installed(client, address)
        yield client
        record_worker_peaks(client)


def record_worker_peaks(client: Client) -> None:
    """Each worker's peak memory during this stage, appended to the JSON-lines file
    $WORKER_PEAKS_FILE names (the benchmark sets it; nothing else does), and this
    process's (the driver's) peak when it exits: some stages judge in this process after
    their cluster has closed. From the worker's own monitor: a worker's ru_maxrss
    inherits its parent's high-water mark."""
    target = os.environ.get(WORKER_PEAKS_ENV)
    if not target:
        return
    stage = (
        os.environ.get(paths.STAGE_ENV)
        or getattr(sys.modules["__main__"].__spec__, "name", "?").rsplit(".", 1)[-1]
    )
    peaks = client.run(_worker_peak)
    limits = {w["id"]: w["memory_limit"] for w in client.scheduler_info()["workers"].values()}
    _append(
        target,
        {
            "stage": stage,
            "worker_peak_bytes": sorted(int(p) for p in peaks.values()),
            "memory_limit_bytes": max(limits.values(), default=0),
        },
    )
    atexit.register(_record_driver_peak, target, stage)


def _record_driver_peak(target: str, stage: str) -> None:
    import resource

    # Linux counts ru_maxrss in KiB.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    _append(target, {"stage": stage, "driver_peak_bytes": peak})


def _append(target: str, line: dict[str, Any]) -> None:
    with open(target, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def _worker_peak(dask_worker: Any) -> float:
    return float(max(dask_worker.monitor.quantities["memory"], default=0))


def _quiet() -> None:
    # Every p2p shuffle logs two WARNING lines that say nothing is wrong (dask-plan F6).
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    logging.getLogger("distributed.worker").setLevel(logging.CRITICAL)
    # pandas 3's own `str` columns as they are: dask would turn them into
    # `string[pyarrow]` with pd.NA, and the prepared splits would differ from pandas'.
    dask.config.set({"dataframe.convert-string": False})


def _check_installed(client: Client, address: str) -> None:
    """Workers unpickle this project's functions by reference: they must have it."""
    try:
        client.run(importlib.import_module, PACKAGE)
    except Exception as err:
        raise EngineError(
            f"the workers of {address} cannot import {PACKAGE!r} ({err}); install this "
            "project, at this version, on every worker"
        ) from None


class DaskEngine:
    name = "dask"

    def __init__(self, cfg: EngineConfig, client: Client) -> None:
        self.cfg = cfg
        self.client = client
        # Tables computed once and read back (clean's output); removed when the session ends.
        self.scratch: list[Path] = []
        self.time_ordered: dd.DataFrame | None = None

    def close(self) -> None:
        for path in self.scratch:
            remove(path)

    def collect(self, data: DataConfig, problem: ProblemSpec) -> tuple[Any, Any]:
        """(dataset, production batch): the dataset lazily, one partition per file; the
        batch as parts, each made on a worker (BatchParts)."""
        if data.source == "demo":
            return demo_parts(data, problem, self.cfg.partition_rows)
        assert data.path is not None  # guaranteed by DataConfig
        dataset = read_files(data.path, data)
        if not data.production_path:
            return dataset, dataset._meta.copy()
        return dataset, BatchParts.of_files(data.production_path, data)

    def read(self, location: str | Path) -> dd.DataFrame:
        return read_parts(location)[0]

    def write(self, table: Any, path: Path) -> None:
        """A directory of part files under `path`, swapped in whole when complete."""
        if isinstance(table, pd.DataFrame):
            from .pandas_engine import PandasEngine

            PandasEngine().write(table, path)  # one file, in place of any parts
            return
        if isinstance(table, BatchParts):
            table.write(path)
            return
        fresh = staging_for(path)
        try:
            table.to_parquet(
                fresh,
                write_index=False,
                schema=arrow_schema(table._meta),
                name_function=lambda i: f"part-{i:05d}.parquet",
            )
        except BaseException:
            remove(fresh)  # the last complete table stays where it was
            raise
        swap_in(fresh, path)

    def clean(
        self, table: dd.DataFrame, data: DataConfig, target: str | None, keep: list[str]
    ) -> dd.DataFrame:
        """prepare.clean per partition, duplicates dropped across the whole table, in one
        shuffle, computed once into a scratch directory and read back from there (else
        each split written and the split summary would run the shuffle again)."""
        columns = prepare.prepared_columns(table._meta, data, target, keep)
        table = table[columns]
        ordered = None
        if data.time_column:  # rows that are exact duplicates share their time
            counts = table[data.time_column].value_counts().compute()
            ordered = in_time_order(table, data.time_column, counts, unique=True)
        unique = ordered
        if unique is None:
            unique = table.drop_duplicates(split_out=table.npartitions, shuffle_method="tasks")
        typed = partial(prepare.type_rows, data=data, source="the data")
        cleaned = self.computed(unique.map_partitions(typed, meta=typed(unique._meta.copy())))
        self.time_ordered = cleaned if ordered is not None else None
        return cleaned

    def computed(self, table: dd.DataFrame) -> dd.DataFrame:
        """`table` computed once into a scratch directory of parts beside the prepared
        splits (a path the workers share, as they share the outputs), read back lazily."""
        path = paths.PREPARED_DIR / f".computed-{len(self.scratch)}.parquet"
        self.scratch.append(path)
        self.write(table, path)
        return read_parts(path)[0]

    def split(self, table: dd.DataFrame, data: DataConfig) -> dict[str, dd.DataFrame]:
        """The pandas engine's split: by time at the same cut points, else by a row hash."""
        cfg = data.split
        if not data.time_column:
            hashed = partial(_hash_bucket, key=data.id_column, seed=cfg.seed)
            bucket = table.map_partitions(hashed, meta=("bucket", "float64"))
            test, valid = cfg.test_fraction, cfg.test_fraction + cfg.valid_fraction
            return {
                "train": table[bucket >= valid],
                "valid": table[(bucket >= test) & (bucket < valid)],
                "test": table[bucket < test],
            }
        column = data.time_column
        counts = table[column].value_counts().compute()
        if counts.empty:
            raise DataError(f"{column}: no row has a time, so the data cannot be split by it")
        valid_start = quantile_from_counts(counts, 1 - cfg.valid_fraction - cfg.test_fraction)
        test_start = quantile_from_counts(counts, 1 - cfg.test_fraction)
        ordered = table if table is self.time_ordered else in_time_order(table, column, counts)
        if ordered is None:  # one distinct time: any order is time order
            ordered = table
        times = ordered[column]
        return {
            "train": ordered[times < valid_start],
            "valid": ordered[(times >= valid_start) & (times < test_start)],
            "test": ordered[times >= test_start],
        }

    def split_summary(
        self, parts: dict[str, dd.DataFrame], problem: ProblemSpec, data: DataConfig
    ) -> dict[str, dict[str, Any]]:
        """prepare.split_summary from cluster aggregates, in one pass."""
        wanted: dict[str, dict[str, Any]] = {}
        for name, part in parts.items():
            wanted[name] = {"rows": part.shape[0]}
            if problem.is_classification:
                labels = part[problem.target].astype(str)
                wanted[name]["label_share"] = labels.value_counts(normalize=True)
            if data.time_column:
                times = part[data.time_column]
                wanted[name]["from"], wanted[name]["to"] = times.min(), times.max()
        (computed,) = dask.compute(wanted)
        for entry in computed.values():
            if "label_share" in entry:
                shares = entry["label_share"].sort_values(ascending=False, kind="stable")
                entry["label_share"] = {k: round(float(v), 4) for k, v in shares.items()}
            for key in ("from", "to"):
                if key in entry:
                    entry[key] = str(entry[key])
            entry["rows"] = int(entry["rows"])
        return computed

    def rows(self, table: Any) -> int:
        return len(table)

    def summarise(
        self,
        table: dd.DataFrame,
        summary: Callable[[pd.DataFrame], Any],
        combine: Callable[[Any, Any], Any],
    ) -> Any:
        return summarise(table, summary, combine)

    def sample(self, table: dd.DataFrame, seed: int, total: int | None = None) -> pd.DataFrame:
        return sampled(table, self.cfg.sample_rows, seed, total)

    def each_part(self, locations: list[Path], work: Callable[..., Any]) -> list[Any]:
        tables = [table_files(location) for location in locations]
        if len({len(files) for files in tables}) > 1:
            counts = ", ".join(f"{loc}: {len(f)}" for loc, f in zip(locations, tables, strict=True))
            raise EngineError(f"tables written part for part alike hold different parts ({counts})")
        tasks = [dask.delayed(_on_files)(work, *files) for files in zip(*tables, strict=True)]
        return list(dask.compute(*tasks))


def _on_files(work: Callable[..., Any], *files: str) -> Any:
    return work(files[0].rsplit("/", 1)[-1], *(read_table(file) for file in files))


def summarise(
    table: dd.DataFrame, summary: Callable[[pd.DataFrame], Any], combine: Callable[[Any, Any], Any]
) -> Any:
    """`summary` of each partition on the workers, folded with `combine` here. (Small
    results, no shuffle: dask's own grouped counts shuffle once a table has more than 15
    partitions, and its grouped `value_counts` fails there in 2026.8.0.)"""
    parts = [dask.delayed(summary)(part) for part in table.to_delayed()]
    return reduce(combine, dask.compute(*parts))


def sampled(split: dd.DataFrame, rows: int, seed: int, total: int | None = None) -> pd.DataFrame:
    """At most `rows` rows of `split`, a seeded sample (all of it when it is smaller).
    `total`: the split's row count where the caller has counted it (else a pass counts)."""
    total = int(split.shape[0].compute()) if total is None else total
    if total <= rows:
        return split.compute()
    return split.sample(frac=rows / total, random_state=seed).compute()


def demo_parts(data: DataConfig, problem: ProblemSpec, rows: int) -> tuple[Any, Any]:
    """The demo made on the workers, the pandas engine's rows part by part
    (demo.generate_part), at most `rows` a partition, and its batch (the same way)."""
    assert data.demo is not None  # guaranteed by DataConfig
    total, seed = data.demo.n_rows, data.demo.seed
    made = partial(_demo_part, problem=problem, data=data, seed=seed)
    parts = demo.parts(total)
    history = dd.from_map(made, parts, meta=made((0, 2, 1)).iloc[:0], enforce_metadata=False)
    if rows < demo.PART_ROWS:
        history = history.repartition(npartitions=-(-total // rows))
    batch_parts = demo.production_parts(total, data.demo.n_production_rows)
    batch = BatchParts(
        [f"part-{number:05d}.parquet" for number, _, _ in batch_parts],
        [partial(_demo_batch_part, part, problem, data, seed) for part in batch_parts],
    )
    return history, batch


def _demo_batch_part(
    part: tuple[int, int, int], problem: ProblemSpec, data: DataConfig, seed: int
) -> pd.DataFrame:
    batch = demo.generate_production_part(problem, *part, seed)
    return parse_times(batch, data, "the production batch")


@dataclass(frozen=True)
class BatchParts:
    """A production batch as parts, each made (read or drawn) and written by a task of
    its own, as it came: its own columns, rows or none. Ingest refuses no part:
    validate_production judges each one and names the part that fails or is skipped
    (a broken batch stops batch scoring and the monitor, never a retrain)."""

    names: list[str]
    makers: list[Callable[[], pd.DataFrame]]

    @classmethod
    def of_files(cls, location: str, data: DataConfig) -> BatchParts:
        """A part per file of `location` (a file, a directory or a glob), each named
        after its source: `part-00003-<source name>.parquet`."""
        files = table_files(location)
        return cls(
            [f"part-{i:05d}-{_stem(file)}.parquet" for i, file in enumerate(files)],
            [partial(_batch_file, file, data) for file in files],
        )

    def write(self, path: Path) -> None:
        fresh = staging_for(path)
        fresh.mkdir(parents=True)
        written = [
            dask.delayed(_write_part)(make, fresh / name)
            for make, name in zip(self.makers, self.names, strict=True)
        ]
        try:
            dask.compute(*written)
        except BaseException:
            remove(fresh)  # the last complete batch stays where it was
            raise
        swap_in(fresh, path)


def _stem(file: str) -> str:
    name = file.rsplit("/", 1)[-1]
    for suffix in TABLE_SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def _batch_file(file: str, data: DataConfig) -> pd.DataFrame:
    return parse_times(read_table(file), data, file)


def _write_part(make: Callable[[], pd.DataFrame], target: Path) -> None:
    frame = make()
    # An empty part keeps its columns' types (text would be written as null).
    schema = arrow_schema(frame) if frame.empty else None
    frame.to_parquet(target, index=False, schema=schema)


def _demo_part(
    part: tuple[int, int, int], problem: ProblemSpec, data: DataConfig, seed: int
) -> pd.DataFrame:
    number, rows, first_id = part
    history = demo.generate_part(problem, number, rows, first_id, seed)
    return parse_times(history, data, "the demo dataset")


def staging_for(path: Path) -> Path:
    """Where a directory of parts is written before it replaces `path` (swap_in): a
    sibling, emptied, after a swap cut short last time is undone."""
    fresh = path.with_name(f".{path.name}.tmp")
    stale = path.with_name(f".{path.name}.old")
    if stale.exists() and not path.exists():
        stale.rename(path)
    for leftover in (fresh, stale):
        remove(leftover)
    return fresh


def swap_in(fresh: Path, path: Path) -> None:
    """The complete directory `fresh` in place of `path`, in two renames."""
    stale = path.with_name(f".{path.name}.old")
    if path.exists():
        path.rename(stale)
    fresh.rename(path)
    remove(stale)


def read_parts(location: str | Path, skip_empty: bool = False) -> tuple[dd.DataFrame, list[str]]:
    """A table written as parts, one partition per file, and the files. (`read_parquet`
    fuses small files by the columns read, so two projections of one table could split
    into different partitions: LightGBM's Dask fit needs features and labels aligned.)
    `skip_empty`: without the parts that hold no rows (a time split leaves some), as long
    as one part is left to carry the columns."""
    files = table_files(location)
    kept = [file for file in files if not known_empty(file)] if skip_empty else files
    kept = kept or files[:1]
    return read_files_as_they_are(kept), kept


def read_files_as_they_are(files: list[str]) -> dd.DataFrame:
    """A partition per file, read as it is (the first file's columns are the meta)."""
    return dd.from_map(read_table, files, meta=_empty_like(files[0]), enforce_metadata=False)


def _empty_like(file: str) -> pd.DataFrame:
    """The file's columns and types, with no rows, from its footer where it has one."""
    if file.endswith((".parquet", ".pq")):
        import fsspec
        import pyarrow.parquet as pq

        with fsspec.open(file, "rb") as handle:
            return pq.read_schema(handle).empty_table().to_pandas()
    return read_table(file).iloc[:0]


def read_files(location: str, data: DataConfig) -> dd.DataFrame:
    """A partitioned table, lazily, after every file's schema matched the first's."""
    files = [file for file in table_files(location) if not known_empty(file)]
    if not files:
        raise DataError(f"{location}: every part is empty; the dataset has no rows")
    check_schemas(files)
    load = partial(_load_file, data=data)
    return dd.from_map(load, files, meta=load(files[0]).iloc[:0], enforce_metadata=False)


def check_schemas(files: list[str]) -> None:
    """A file whose columns or types differ from the first file's stops ingest, named."""
    for file, found in schema_differences(files[0], files[1:]):
        raise GateError(
            f"{file}: schema differs from the first part {files[0]}: {'; '.join(found)}"
        )


def schema_differences(reference: str, files: list[str]) -> list[tuple[str, list[str]]]:
    """(file, what differs) for each of `files` whose columns or types are not those of
    the file `reference`."""
    first = kinds_of(reference)
    differing = []
    for file in files:
        schema = kinds_of(file)
        missing = [c for c in first if c not in schema]
        extra = [c for c in schema if c not in first]
        changed = [
            f"{c} is {schema[c]}, not {t}" for c, t in first.items() if schema.get(c, t) != t
        ]
        found = [
            *([f"missing columns {missing}"] if missing else []),
            *([f"extra columns {extra}"] if extra else []),
            *changed,
        ]
        if found:
            differing.append((file, found))
    return differing


def kinds_of(file: str) -> dict[str, str]:
    """The file's columns and their types, as _kinds compares them."""
    return _kinds(schema_of(file))


def _kinds(schema: dict[str, str]) -> dict[str, str]:
    """Types as the data means them: pandas 2 and 3 write text as string or
    large_string and times in ns or us; neither is a different column."""
    kinds = {}
    for column, kind in schema.items():
        kind = "string" if kind in ("string", "large_string", "string_view") else kind
        kinds[column] = re.sub(r"^timestamp\[(s|ms|us|ns)", "timestamp[", kind)
    return kinds


def known_empty(file: str) -> bool:
    """A Parquet part with no rows (Spark writes them): skipped, as it adds nothing."""
    return parquet_rows(file) == 0


def _load_file(file: str, data: DataConfig) -> pd.DataFrame:
    frame = read_table(file)
    if frame.empty:
        raise DataError(f"{file}: the file has no rows")
    return parse_times(frame, data, file)


def in_time_order(
    table: dd.DataFrame, column: str, counts: pd.Series, unique: bool = False
) -> dd.DataFrame | None:
    """The table in time order across partitions, as the pandas split is (time-ordered
    cross-validation reads it so); None when it has one distinct time (any order is time
    order). The range boundaries come from the exact counts: `sort_values` would
    estimate them, and its quantile step hung dask 2026.8.0. `unique`: exact duplicates
    dropped too, per partition: the shuffle puts rows of one time in one partition."""
    ordered = counts[counts > 0].sort_index()
    if ordered.empty:
        return None
    ends = np.cumsum(ordered.to_numpy())
    n = max(table.npartitions, 1)
    at = [int(np.searchsorted(ends, ends[-1] * k / n, side="right")) for k in range(1, n)]
    cuts = [ordered.index[min(i, len(ordered) - 1)] for i in at]
    divisions = sorted({ordered.index[0], *cuts, ordered.index[-1]})
    if len(divisions) < 2:
        return None
    by_time = table.set_index(column, divisions=divisions, shuffle_method="tasks")
    put_in_order = partial(_sorted_by, column=column, unique=unique)
    return by_time.reset_index()[list(table.columns)].map_partitions(put_in_order)


def arrow_schema(meta: pd.DataFrame) -> Any:
    """The Parquet schema every part is written with, an empty part included: its text
    columns would be typed null, and the directory would not read back."""
    import pyarrow as pa

    schema = pa.Schema.from_pandas(meta, preserve_index=False)
    for i, field in enumerate(schema):
        if pa.types.is_null(field.type):
            schema = schema.set(i, field.with_type(pa.large_string()))
    return schema


def quantile_from_counts(counts: pd.Series, q: float) -> Any:
    """`Series.quantile(q)` (linear) of the values `counts` counts, exactly, from the counts."""
    ordered = counts[counts > 0].sort_index()
    ends = np.cumsum(ordered.to_numpy())
    position = q * (int(ends[-1]) - 1)
    lower = math.floor(position)

    def value_at(rank: int) -> Any:
        return ordered.index[int(np.searchsorted(ends, rank, side="right"))]

    upper = min(lower + 1, int(ends[-1]) - 1)
    pair = pd.Series([value_at(lower), value_at(upper)], dtype=ordered.index.dtype)
    return pair.quantile(position - lower)


def _sorted_by(frame: pd.DataFrame, column: str, unique: bool = False) -> pd.DataFrame:
    return (frame.drop_duplicates() if unique else frame).sort_values(column, kind="stable")


def _hash_bucket(frame: pd.DataFrame, key: str | None, seed: int) -> pd.Series:
    """A row's place in [0, 1) from its id (else the whole row) and the split's seed:
    the same row lands in the same split in any partition, with no shuffle."""
    rows = frame[[key]] if key else frame
    hashes = pd.util.hash_pandas_object(rows, index=False, hash_key=f"{seed:016d}"[-16:])
    return (hashes % HASH_BUCKETS).astype("float64") / HASH_BUCKETS


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
