"""Reading and writing tables and reports.

Every data-heavy stage goes through these functions, so the dataframe engine
(pandas today) sits behind one small seam. Writes are atomic: a stage that
fails half-way never leaves a truncated file where a good one was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import DataError

SQL_PREFIX = "sql:"
# SQL credentials live in the environment, never in conf/ or any file in git.
DATABASE_URL_ENV = "DATABASE_URL"
# Without one: the embedded SQLite file of the SQL example (`make demo-db`), which
# holds no credentials.
DEFAULT_DATABASE_URL = "sqlite:///data/external/warehouse.sqlite"
# Files the pipeline writes are readable by the group and others, as `open` makes them.
WRITE_MODE = 0o644


_UMASK = os.umask(0)
os.umask(_UMASK)  # read once, at import, before any thread could race on it


def database_url() -> str:
    return os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def read_table(location: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet table from a local path or any fsspec URL, or `sql:TABLE`
    from the database whose SQLAlchemy URL is in $DATABASE_URL."""
    text = str(location)
    if text.startswith(SQL_PREFIX):
        return next(read_sql(text.removeprefix(SQL_PREFIX)))
    try:
        if text.endswith((".parquet", ".pq")):
            return pd.read_parquet(text)
        if text.endswith((".csv", ".csv.gz")):
            return pd.read_csv(text)
    except FileNotFoundError as err:
        raise DataError(f"{text}: file not found") from err
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise DataError(f"{text}: cannot be read as a table ({err})") from err
    raise DataError(f"{text}: unsupported format, expected .csv, .csv.gz, .parquet or sql:TABLE")


TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz")


def read_whole(location: str | Path) -> pd.DataFrame:
    """A table in one frame, whether it is one file or parts (a directory or a glob of
    files, as the dask engine writes and as exports arrive); parts without rows add none."""
    text = str(location)
    if text.startswith(SQL_PREFIX):
        return read_table(text)
    frames = [read_table(file) for file in table_files(text)]
    filled = [frame for frame in frames if not frame.empty] or frames[:1]
    return filled[0] if len(filled) == 1 else pd.concat(filled, ignore_index=True)


def rows_in(location: str | Path) -> int:
    """Rows of a table written as one file or as parts, from the Parquet footers."""
    rows = 0
    for file in table_files(location):
        counted = parquet_rows(file)
        rows += len(read_table(file)) if counted is None else counted
    return rows


def parquet_rows(file: str) -> int | None:
    """A Parquet file's rows, from its footer; None for another format (CSV)."""
    if not file.endswith((".parquet", ".pq")):
        return None
    import fsspec
    import pyarrow.parquet as pq

    with fsspec.open(file, "rb") as handle:
        return int(pq.read_metadata(handle).num_rows)


def table_files(location: str | Path) -> list[str]:
    """The files a table is written in: one file, a directory of parts or a glob, local
    or any fsspec URL; sorted, so partitions keep the files' order."""
    import fsspec

    text = str(location)
    fs, root = fsspec.core.url_to_fs(text)
    if fs.isdir(root):
        names = [n for n in fs.find(root) if n.endswith(TABLE_SUFFIXES)]
    elif any(mark in root for mark in "*?["):
        names = [n for n in fs.glob(root) if n.endswith(TABLE_SUFFIXES)]
    else:
        names = [root] if fs.exists(root) else []
    if not names:
        raise DataError(f"{text}: no .parquet or .csv files there")
    return [fs.unstrip_protocol(n) if "://" in text else n for n in sorted(names)]


def schema_of(file: str) -> dict[str, str]:
    """Column -> type of one file, read from the Parquet footer or a CSV's first rows."""
    import fsspec

    with fsspec.open(file, "rb", compression="infer") as handle:
        if file.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            schema = pq.read_schema(handle)
            return {name: str(schema.field(name).type) for name in schema.names}
        head = pd.read_csv(handle, nrows=1000)
    # A CSV's integers read as floats where a block holds a gap: one kind, "number".
    return {
        str(c): "number" if pd.api.types.is_numeric_dtype(t) else str(t)
        for c, t in head.dtypes.items()
    }


def read_sql(table: str, chunk_rows: int | None = None) -> Iterator[pd.DataFrame]:
    """The table whole (chunk_rows None) or in chunks, through SQLAlchemy."""
    import sqlalchemy

    url = database_url()
    engine = sqlalchemy.create_engine(url)
    try:
        if not sqlalchemy.inspect(engine).has_table(table):
            shown = sqlalchemy.make_url(url).render_as_string(hide_password=True)
            default = " (the default; set $DATABASE_URL for another database)"
            raise DataError(
                f"{SQL_PREFIX}{table}: no such table in {shown}"
                + (default if url == DEFAULT_DATABASE_URL else "")
            )
        with engine.connect() as connection:
            if chunk_rows is None:
                yield pd.read_sql_table(table, connection)
            else:
                yield from pd.read_sql_table(table, connection, chunksize=chunk_rows)
    finally:
        engine.dispose()


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        tmp.chmod(WRITE_MODE & ~_UMASK)  # mkstemp makes 0600 files
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    _atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_bytes(content: bytes, path: Path) -> None:
    _atomic_write(path, lambda tmp: tmp.write_bytes(content))


def write_text(text: str, path: Path) -> None:
    _atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(payload: Any, path: Path) -> None:
    write_text(json.dumps(payload, indent=2, sort_keys=False, default=_to_builtin) + "\n", path)


def as_json_data(payload: Any) -> Any:
    """`payload` as JSON holds it (numpy scalars as numbers, tuples as lists)."""
    return json.loads(json.dumps(payload, default=_to_builtin))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _to_builtin(value: Any) -> Any:
    """json.dumps fallback for numpy scalars and timestamps."""
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
