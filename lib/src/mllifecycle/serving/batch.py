"""Batch scoring: a table in, decisions out, in chunks, stamped with the model version.

    mllifecycle score data/new.parquet scored.parquet --stage prod
    mllifecycle score sql:customers scored.csv   # SQLAlchemy URL in $DATABASE_URL
    mllifecycle score 's3://bucket/new/*.parquet' build/scored --engine dask

Chunks keep memory flat at any size: CSV streams through pyarrow's reader, Parquet by
record batches, and each chunk is scored through the package's compiled path (the
scikit-learn pipeline for packages without one) and appended to a partial file.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

from ..errors import ArtifactError, DataError, PipelineError
from ..evaluation import business
from ..io import SQL_PREFIX, read_sql, table_files
from ..models import compiled
from ..models.artifact import Artifact
from . import loading

# pandas' default missing-value markers (pyarrow's lack "None" and "<NA>"): a CSV means
# the same missing values in batch scoring as in training, which reads it with pandas.
CSV_NULLS = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip


def read_chunks(
    source: str,
    chunk_rows: int,
    types: dict[str, pa.DataType] | None = None,
    wanted: list[str] | None = None,
) -> Iterator[pd.DataFrame | pa.Table]:
    """CSV or Parquet (as Arrow tables) from a path or fsspec URL, or `sql:TABLE` (as
    frames) through $DATABASE_URL. Only the `wanted` columns are read (all if None); a
    CSV's columns named in `types` are read as that type in every block (pyarrow would
    otherwise guess each from the first block), and a Parquet file's text columns that
    `types` reads as dictionaries are read dictionary-encoded."""
    if source.startswith(SQL_PREFIX):
        yield from read_sql(source.removeprefix(SQL_PREFIX), chunk_rows)
    elif in_parts(source):  # a directory or a glob of files, read one after another
        for file in table_files(source):
            yield from read_chunks(file, chunk_rows, types, wanted)
    elif source.endswith((".parquet", ".pq")):
        yield from read_parquet_chunks(source, chunk_rows, types or {}, wanted)
    elif source.endswith((".csv", ".csv.gz")):
        yield from read_csv_chunks(source, chunk_rows, types or {}, wanted)
    else:
        raise DataError(f"{source}: expected .csv, .csv.gz, .parquet or sql:TABLE")


def in_parts(source: str) -> bool:
    """A table written as parts: a directory (the dask engine's outputs) or a glob."""
    fs, root = fsspec.core.url_to_fs(source)
    return any(mark in root for mark in "*?[") or fs.isdir(root)


def read_parquet_chunks(
    source: str, chunk_rows: int, types: dict[str, pa.DataType], wanted: list[str] | None
) -> Iterator[pa.Table]:
    with fsspec.open(source, "rb") as handle:
        schema = pq.read_schema(handle)
        handle.seek(0)
        text = [
            name
            for name, kind in types.items()
            if pa.types.is_dictionary(kind) and name in schema.names
            and compiled.is_text_type(schema.field(name).type)
        ]  # fmt: skip
        columns = None if wanted is None else [n for n in schema.names if n in wanted]
        reader = pq.ParquetFile(handle, read_dictionary=text)
        for batch in reader.iter_batches(batch_size=chunk_rows, columns=columns):
            yield pa.Table.from_batches([batch])


def read_csv_chunks(
    source: str, chunk_rows: int, types: dict[str, pa.DataType], wanted: list[str] | None
) -> Iterator[pa.Table]:
    """pyarrow's streaming CSV reader, regrouped into tables of about `chunk_rows` rows."""
    names = header(source)
    convert = pv.ConvertOptions(
        column_types={n: t for n, t in types.items() if n in names},
        null_values=list(CSV_NULLS),
        strings_can_be_null=True,
        include_columns=None if wanted is None else [n for n in names if n in wanted],
    )
    with fsspec.open(source, "rb", compression="infer") as handle:
        try:
            reader = pv.open_csv(handle, convert_options=convert)
            pending: list[pa.RecordBatch] = []
            for batch in reader:
                pending.append(batch)
                if sum(len(b) for b in pending) >= chunk_rows:
                    yield pa.Table.from_batches(pending)
                    pending = []
        except pa.ArrowInvalid as err:  # a value that is not what the column held before
            raise DataError(f"{source}: {csv_problem(str(err), names)}") from err
        if pending:
            yield pa.Table.from_batches(pending)


def header(source: str) -> list[str]:
    with fsspec.open(source, "rt", compression="infer") as text:
        return next(csv.reader(text), [])


def csv_problem(message: str, names: list[str]) -> str:
    """pyarrow's first line, with the column's name where it gives only its number."""
    line = message.splitlines()[0]
    found = re.search(r"column #(\d+)", line)
    if found and int(found.group(1)) < len(names):
        line = f"column {names[int(found.group(1))]!r}: {line}"
    return line


def input_types(model: loading.ServedModel) -> dict[str, pa.DataType]:
    """The model's inputs as a CSV must be read: numbers as float64, categories and
    timestamps as dictionary-encoded text (the scoring path types each distinct value
    once a chunk, not once a row, as training types it)."""
    text = pa.dictionary(pa.int32(), pa.string())
    schema = model.artifact.metadata.input_schema
    return {f.name: pa.float64() if f.kind == "numeric" else text for f in schema}


def wanted_columns(model: loading.ServedModel) -> list[str]:
    """The columns scoring reads: the model's inputs and the id."""
    metadata = model.artifact.metadata
    return [*metadata.input_names, *([metadata.id_column] if metadata.id_column else [])]


def scores_of(artifact: Artifact, chunk: pd.DataFrame | pa.Table) -> np.ndarray:
    """An Arrow chunk goes straight to the compiled path; without one, through pandas."""
    if isinstance(chunk, pd.DataFrame):
        return artifact.scores(chunk)
    if artifact.compiled is None:
        return artifact.scores(as_frame(chunk))
    artifact.check_columns(chunk.column_names)
    return artifact.compiled_scores(compiled.columns_of_arrow(chunk, artifact.kinds))


def as_frame(chunk: pa.Table) -> pd.DataFrame:
    """The chunk as pandas, its dictionary-encoded columns as plain text again."""
    plain = [
        column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
        for column in chunk.columns
    ]
    return pa.Table.from_arrays(plain, names=chunk.column_names).to_pandas()


def ids_of(chunk: pd.DataFrame | pa.Table, id_column: str | None) -> dict[str, pa.ChunkedArray]:
    """The chunk's id column, when it has one, as Arrow (taken as read, not converted)."""
    if id_column is None:
        return {}
    if isinstance(chunk, pd.DataFrame):
        if id_column not in chunk.columns:
            return {}
        return {id_column: pa.chunked_array([pa.array(chunk[id_column], from_pandas=True)])}
    if id_column not in chunk.column_names:
        return {}
    column = chunk.column(id_column)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return {id_column: column}


def decisions_of(artifact: Artifact, scores: np.ndarray) -> pa.Array:
    """The decisions as Arrow text or numbers. Classes go in as codes into the labels:
    each label's text is made once a chunk, not once a row."""
    problem = artifact.problem
    if not problem.is_classification:
        return as_floats(artifact.decide_from_scores(scores))
    positions = business.decided_positions(problem, artifact.policy, scores)
    labels = pa.array(problem.labels, pa.large_string())
    return pa.DictionaryArray.from_arrays(pa.array(positions), labels).cast(pa.large_string())


def as_floats(values: np.ndarray) -> pa.Array:
    """Numbers as Arrow, NaN written as a missing value (as pandas writes it)."""
    return pa.array(values, pa.float64(), from_pandas=True)


def score_chunk(model: loading.ServedModel, chunk: pd.DataFrame | pa.Table) -> pa.Table:
    """Decisions (and class probabilities) for one chunk, with the id when there is one."""
    artifact = model.artifact
    scores = scores_of(artifact, chunk)
    rows = len(scores)
    scored: dict[str, pa.Array | pa.ChunkedArray] = {
        **ids_of(chunk, artifact.metadata.id_column),
        "decision": decisions_of(artifact, scores),
    }
    if artifact.problem.is_classification:
        for i, label in enumerate(artifact.problem.labels):
            scored[f"score_{label}"] = as_floats(scores[:, i])
    # One label and a code per row: 5x faster than repeating the text itself.
    version = pa.array([model.version], pa.large_string())
    scored["model_version"] = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(rows, dtype=np.int8)), version
    ).cast(pa.large_string())
    return pa.table(scored)


def score(model: loading.ServedModel, source: str, output: Path, chunk_rows: int) -> int:
    """Score `source` into `output` (.parquet or .csv); returns the number of rows. The
    next chunk is read, and the last one written, on threads while this one is scored:
    they fill the core the booster leaves idle between chunks."""
    if output.suffix not in {".parquet", ".csv"}:
        raise DataError(f"{output}: write .parquet or .csv")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    scored_file = ScoredFile(partial, output.suffix == ".csv", source)
    chunks = read_chunks(source, chunk_rows, input_types(model), wanted_columns(model))
    if not source.startswith(SQL_PREFIX):  # a database connection stays on its own thread
        chunks = prefetched(chunks)
    try:
        for chunk in chunks:
            try:
                scored = score_chunk(model, chunk)
            except ArtifactError as err:
                raise DataError(f"{source}: {err}") from err
            scored_file.append(scored)
        scored_file.finish()
        if scored_file.rows == 0:
            raise DataError(f"{source}: no rows to score")
        partial.replace(output)  # a failed run never leaves a half-written output
    finally:
        close_chunks(chunks)
        scored_file.abandon()
        partial.unlink(missing_ok=True)
    return scored_file.rows


def prefetched(
    chunks: Iterator[pd.DataFrame | pa.Table],
) -> Iterator[pd.DataFrame | pa.Table]:
    """`chunks`, each next one read on a thread while the caller works on this one
    (pyarrow reads without holding the GIL); a reading error is raised here."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        ahead = pool.submit(next, chunks, None)
        while (chunk := ahead.result()) is not None:
            ahead = pool.submit(next, chunks, None)
            yield chunk
    finally:
        pool.shutdown(wait=True)  # a chunk still being read is dropped
        close_chunks(chunks)


def close_chunks(chunks: Iterator[Any]) -> None:
    """Close the generator behind `chunks` (its file or connection) now, not at exit."""
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


class ScoredFile:
    """Scored chunks appended to the partial output, each written on a thread while the
    next is scored; a writing error is raised at the next append or at finish."""

    def __init__(self, partial: Path, as_csv: bool, source: str) -> None:
        self.partial, self.as_csv, self.source = partial, as_csv, source
        self.rows = 0
        self.parquet: pq.ParquetWriter | None = None
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending: Future[None] | None = None

    def append(self, scored: pa.Table) -> None:
        self.wait()
        self.pending = self.pool.submit(self.write, scored, self.rows == 0)
        self.rows += scored.num_rows

    def write(self, scored: pa.Table, first: bool) -> None:
        if self.as_csv:  # pandas writes the CSV: numbers and missing values as before
            scored.to_pandas().to_csv(self.partial, mode="a", header=first, index=False)
            return
        self.parquet = self.parquet or pq.ParquetWriter(self.partial, scored.schema)
        self.parquet.write_table(cast_to(scored, self.parquet.schema, self.source))

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def finish(self) -> None:
        self.wait()
        if self.parquet is not None:
            self.parquet.close()
            self.parquet = None

    def abandon(self) -> None:
        """After finish, or after a failure (its error already raised): release all."""
        if self.pending is not None:
            wait([self.pending])
        self.pool.shutdown(wait=True)
        if self.parquet is not None:
            self.parquet.close()


def cast_to(table: pa.Table, schema: pa.Schema, source: str) -> pa.Table:
    """A chunk in the output's schema (the first chunk's): an id column that gains a
    missing value later (a SQL chunk's int64 ids become float64) still fits, and one that
    cannot is named."""
    if table.schema.equals(schema):
        return table
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as err:
        raise DataError(f"{source}: a later chunk's columns do not fit the first's: {err}") from err


def score_command(
    source: str,
    output: Path,
    stage: str,
    model_dir: Path | None,
    chunk_rows: int,
    engine: str,
    unregistered: bool = False,
) -> None:
    """`score`: the model in `stage` (or `model_dir`) scores `source` into `output`. On the
    dask engine each part of `source` is scored on a cluster ($DASK_SCHEDULER_ADDRESS, else
    the LocalCluster conf/engine/dask.yaml sizes) into `output`, a directory of parts. A
    folder never registered scores only with `unregistered` (--allow-unregistered)."""
    try:
        model = loading.load(model_dir, stage, Path("."), Path("build/serving"), unregistered)
        assert model is not None  # a stage always has a default
        if engine == "dask":
            from . import batch_on_cluster

            rows = batch_on_cluster.score(model, source, output, chunk_rows, score)
        else:
            rows = score(model, source, output, chunk_rows)
    except PipelineError as err:
        print(f"batch: {err}", file=sys.stderr)
        sys.exit(1)
    unregistered_note = "" if model.registered else " (an UNREGISTERED package)"
    print(f"scored {rows} rows with {model.version}{unregistered_note} into {output}")
