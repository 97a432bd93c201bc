"""Batch scoring on a Dask cluster (`--engine dask`): a partitioned table in, a
directory of scored parts out.

Each part file of the source (a directory or glob, local or any fsspec URL) is scored
on a worker by the one-file scorer batch scoring passes in (`batch.score`), in chunks, so a worker's memory is bounded by the chunk,
not the part. The model goes to every worker once. The output directory appears
whole or not at all: a failure in any part names its file and leaves the last output
where it was. The workers write the parts, so on a remote cluster the output must be
on a filesystem they and this machine share.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from distributed import Client

from ..compose import composed_params
from ..config import EngineConfig
from ..engine.dask_engine import connect, known_empty, remove, staging_for, swap_in
from ..errors import DataError
from ..io import table_files
from ..models.artifact import Artifact
from . import loading

CSV_SUFFIXES = (".csv", ".csv.gz")
# (model, source file, output file, chunk rows) -> rows scored: batch.score
ScoreFile = Callable[[loading.ServedModel, str, Path, int], int]


def engine_config() -> EngineConfig:
    """conf/engine/dask.yaml as the pipeline composes it (conf/local's overrides too)."""
    return EngineConfig.model_validate(composed_params(["engine=dask"])["engine"])


def score(
    model: loading.ServedModel, source: str, output: Path, chunk_rows: int, score_file: ScoreFile
) -> int:
    """`score_file` of every part of `source` on the cluster; returns the rows scored."""
    if output.name.endswith(CSV_SUFFIXES):
        raise DataError(
            f"{output}: with --engine dask the output is a directory of Parquet parts; "
            "name it without a CSV suffix"
        )
    files = [file for file in table_files(source) if not known_empty(file)]
    if not files:
        raise DataError(f"{source}: every part is empty; no rows to score")
    output.parent.mkdir(parents=True, exist_ok=True)
    with connect(engine_config()) as client:
        return score_parts(client, portable(model), files, output, chunk_rows, score_file)


def score_parts(
    client: Client,
    model: loading.ServedModel,
    files: list[str],
    output: Path,
    chunk_rows: int,
    score_file: ScoreFile,
) -> int:
    fresh = staging_for(output)
    fresh.mkdir()
    try:
        shipped = client.scatter(model, broadcast=True)
        targets = [fresh / f"part-{number:05d}.parquet" for number in range(len(files))]
        scored = client.map(
            score_file, [shipped] * len(files), files, targets, [chunk_rows] * len(files)
        )
        rows = sum(client.gather(scored))
    except BaseException:
        remove(fresh)  # the last complete output stays where it was
        raise
    swap_in(fresh, output)
    return rows


def portable(model: loading.ServedModel) -> loading.ServedModel:
    """The model as it left the package: an artifact that has scored holds compiled
    state (the booster's handle) that does not pickle; each worker compiles its own."""
    unused = Artifact(pipeline=model.artifact.pipeline, metadata=model.artifact.metadata)
    return loading.ServedModel(unused, model.version, model.source)
