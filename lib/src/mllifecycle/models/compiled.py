"""The packaged pipeline compiled to NumPy: the same scores, without pandas per call.

`compile_pipeline` reads the fitted parameters of the packaged pipeline
(DerivedColumns -> ColumnTransformer[numeric: impute (+indicator) -> scale;
categorical: normalise -> impute -> one-hot] -> estimator) and returns a
`CompiledPipeline` that repeats each step as array operations. LightGBM models
are scored by their booster directly; other estimators get the same matrix
through their own predict/predict_proba. A step it does not know (a user's own
transformer) raises NotCompilable: that package scores through scikit-learn.

The scikit-learn pipeline stays the reference: packaging proves on every row of
the test split and the production batch that both agree before it records the
compiled path (models/packaging.py).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ..errors import DataError
from ..features.derived import Derived, local_times
from ..features.inputs import (
    Coded,
    _is_number,
    _number_text,
    category_text,
    numbers,
    times,
)
from ..features.normalise import CategoryNormaliser
from ..features.pipeline import DerivedColumns
from ..features.transforms import SkewTransformer

UTC = ZoneInfo("UTC")  # not datetime.UTC: renders may target Python 3.10
# Below this many rows LightGBM scores on one thread: starting threads costs more.
FEW_ROWS = 64
NUMERIC_STEPS = [SimpleImputer, StandardScaler]
# From this many rows a thread keeps its matrix for the next call of the same size.
REUSE_ROWS = 10_000


class NotCompilable(Exception):
    """The pipeline holds a step this module has no NumPy form for."""


class Columns:
    """Typed input columns as arrays: float64 numbers, object text (None when missing),
    naive local datetime64 timestamps."""

    def __init__(self, arrays: dict[str, Any], rows: int) -> None:
        self.arrays = arrays
        self.rows = rows

    def __len__(self) -> int:
        return self.rows

    def __getitem__(self, name: str) -> Any:
        return self.arrays[name]


@dataclass(frozen=True)
class Kinds:
    numeric: list[str]
    categorical: list[str]
    timestamps: list[str]
    time_zone: str | None = None


# --- typing raw values ---------------------------------------------------------------


def columns_of_frame(frame: pd.DataFrame, kinds: Kinds) -> Columns:
    """Arrays from a raw frame, typed as features.inputs.typed_inputs types it. Text
    columns stay as they are (their values already are the category text)."""
    arrays: dict[str, Any] = {}
    for name in kinds.numeric:
        arrays[name] = numbers(frame[name], name).to_numpy(dtype=np.float64)
    for name in kinds.categorical:
        values = frame[name]
        is_text = pd.api.types.is_string_dtype(values) and values.dtype != object
        arrays[name] = values if is_text else category_text(values)
    for name in kinds.timestamps:
        local = local_times(times(frame[name], name), kinds.time_zone)
        arrays[name] = local.to_numpy(dtype="datetime64[ns]")
    return Columns(arrays, len(frame))


def columns_of_arrow(table: pa.Table, kinds: Kinds) -> Columns:
    """Arrays from an Arrow table (batch scoring), typed as columns_of_frame types its
    pandas form: numbers and text straight from Arrow, anything else through pandas."""
    arrays: dict[str, Any] = {}
    for name in kinds.numeric:
        column = table.column(name)
        if is_number_type(column.type):
            arrays[name] = pc.cast(column, pa.float64()).to_numpy()  # nulls become NaN
        else:  # text and the like: pandas' parsing, and its error naming the column
            arrays[name] = numbers(column.to_pandas(), name).to_numpy(dtype=np.float64)
    for name in kinds.categorical:
        column = table.column(name)
        arrays[name] = (
            coded(column) if is_text_type(column.type) else category_text(column.to_pandas())
        )
    for name in kinds.timestamps:
        column = table.column(name)
        if is_text_type(column.type):
            arrays[name] = text_stamps(column, name, kinds.time_zone)
        elif pa.types.is_timestamp(column.type) and column.type.tz is None:
            arrays[name] = naive_stamps(column, name)
        else:
            local = local_times(times(column.to_pandas(), name), kinds.time_zone)
            arrays[name] = local.to_numpy(dtype="datetime64[ns]")
    return Columns(arrays, table.num_rows)


def naive_stamps(column: pa.ChunkedArray, name: str) -> np.ndarray:
    """Naive timestamps as they are (local already), in nanoseconds as every path types
    them; a value outside that unit's range is refused, not wrapped around."""
    try:
        return column.cast(pa.timestamp("ns")).to_numpy()
    except pa.ArrowInvalid as err:
        raise DataError(
            f"column {name!r}: a timestamp outside 1677-09-21..2262-04-11 ({err})"
        ) from err


def text_stamps(column: pa.ChunkedArray, name: str, time_zone: str | None) -> np.ndarray:
    """ISO 8601 text parsed once per distinct value (a batch has few: dates), then
    taken by code. Parsing is value by value, so the distinct values parse as the whole
    column would; a value that does not parse is refused as the whole column refuses it
    (its message counts rows)."""
    distinct = coded(column)
    text = pd.Series([*distinct.dictionary, None], dtype=object)  # code -1: missing
    try:
        parsed = local_times(times(text, name), time_zone)
    except DataError:
        times(column.to_pandas(), name)
        raise
    return parsed.to_numpy(dtype="datetime64[ns]")[distinct.codes]


def is_number_type(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
    )


def is_text_type(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def coded(column: pa.ChunkedArray) -> Coded:
    """Codes into one dictionary for the whole column: each chunk's own dictionary
    (they may differ from chunk to chunk) appended, its codes shifted to match."""
    codes: list[np.ndarray] = []
    dictionary: list[Any] = []
    for chunk in column.chunks:
        if not pa.types.is_dictionary(chunk.type):
            chunk = pc.dictionary_encode(chunk)
        indices = pc.fill_null(chunk.indices, -1).to_numpy().astype(np.int64)
        codes.append(np.where(indices >= 0, indices + len(dictionary), -1))
        dictionary.extend(chunk.dictionary.to_pylist())
    joined = np.concatenate(codes) if codes else np.empty(0, dtype=np.int64)
    return Coded(joined, dictionary)


def columns_of_records(records: list[dict[str, Any]], kinds: Kinds) -> Columns:
    """Arrays from JSON-like records, typed as typed_inputs types a frame of them."""
    arrays: dict[str, np.ndarray] = {}
    for name in kinds.numeric:
        arrays[name] = np.array([number(r.get(name), name) for r in records], dtype=np.float64)
    for name in kinds.categorical:
        arrays[name] = np.array([category(r.get(name)) for r in records] or [], dtype=object)
    for name in kinds.timestamps:
        arrays[name] = local_stamps([r.get(name) for r in records], name, kinds.time_zone)
    return Columns(arrays, len(records))


def number(value: Any, column: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, int | float):  # bool too: pandas reads True as 1.0
        return float(value)
    # Text and anything else: pandas' own parsing, so "1_000" fails here as it does there.
    return float(numbers(pd.Series([value], dtype=object), column).iloc[0])


def category(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    # As features.inputs.category_text: whole numbers as their integer text.
    return _number_text(value) if _is_number(value) else str(value)


def local_stamps(values: list[Any], column: str, time_zone: str | None) -> np.ndarray:
    """ISO 8601 text as naive wall-clock times in `time_zone`; a column mixing naive and
    aware values reads the naive ones as UTC, as pandas does."""
    parsed = [parse_time(v, column) for v in values]
    aware = any(p is not None and p.tzinfo is not None for p in parsed)
    zone = ZoneInfo(time_zone or "UTC")
    out = np.full(len(parsed), np.datetime64("NaT", "ns"))
    for i, stamp in enumerate(parsed):
        if stamp is None:
            continue
        if aware:
            stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
            stamp = stamp.astimezone(zone).replace(tzinfo=None)
        out[i] = np.datetime64(stamp, "ns")
    return out


def parse_time(value: Any, column: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:  # ISO 8601 forms Python does not read: pandas decides, as typed_inputs
        parsed = times(pd.Series([value], dtype=object), column).iloc[0]
        return None if pd.isna(parsed) else parsed.to_pydatetime()


# --- the compiled steps --------------------------------------------------------------


@dataclass(frozen=True)
class NumericBlock:
    columns: list[str]
    statistics: np.ndarray
    indicator_of: np.ndarray  # positions (within columns) that get a missing indicator
    mean: np.ndarray | None
    scale: np.ndarray | None

    def fill(self, columns: Columns, out: np.ndarray) -> None:
        """Write the imputed (and scaled) columns, then the indicators, into `out`."""
        if len(columns) > FEW_ROWS:  # a record's few values cost less through temporaries
            self.fill_in_place(columns, out)
            return
        width = len(self.columns)
        for j, name in enumerate(self.columns):
            values = columns[name]
            missing = np.isnan(values)
            out[:, j] = self.scaled(np.where(missing, self.statistics[j], values), j)
            for k in np.flatnonzero(self.indicator_of == j):
                out[:, width + k] = self.scaled(missing.astype(np.float64), width + int(k))

    def fill_in_place(self, columns: Columns, out: np.ndarray) -> None:
        """As fill, with no temporary arrays (the same arithmetic, so the same values)."""
        width = len(self.columns)
        for j, name in enumerate(self.columns):
            values = columns[name]
            missing = np.isnan(values)
            column = out[:, j]
            np.copyto(column, values)
            np.copyto(column, self.statistics[j], where=missing)
            self.scale_in_place(column, j)
            for k in np.flatnonzero(self.indicator_of == j):
                indicator = out[:, width + k]
                np.copyto(indicator, missing)
                self.scale_in_place(indicator, width + int(k))

    def scale_in_place(self, values: np.ndarray, position: int) -> None:
        if self.mean is None or self.scale is None:
            return
        values -= self.mean if self.mean.ndim == 0 else self.mean[position]
        values /= self.scale if self.scale.ndim == 0 else self.scale[position]

    def scaled(self, values: np.ndarray, position: int) -> np.ndarray:
        if self.mean is None or self.scale is None:
            return values
        mean = self.mean if self.mean.ndim == 0 else self.mean[position]
        scale = self.scale if self.scale.ndim == 0 else self.scale[position]
        return (values - mean) / scale


@dataclass(frozen=True)
class CategoricalBlock:
    columns: list[str]
    mode: str
    fill_value: str
    # Per column: category -> output position, and the position of an unknown one (-1: none).
    positions: list[dict[str, int]]
    unknown: list[int]
    width: int

    def fill(self, columns: Columns, out: np.ndarray) -> None:
        """Write the one-hot columns into `out` (zeros where no category matches)."""
        out[:] = 0.0
        for index, name in enumerate(self.columns):
            known, unknown = self.positions[index], self.unknown[index]
            position = self.column_of_rows(columns[name], known, unknown)
            for column in set(known.values()):  # one comparison per output column
                out[:, column] = position == column

    def column_of_rows(self, values: Any, known: dict[str, int], unknown: int) -> np.ndarray:
        """Each row's output column (-1: none)."""
        if isinstance(values, Coded):  # the missing value's position last: code -1
            found = [known.get(self.text(value), unknown) for value in values.dictionary]
            found.append(known.get(self.fill_value, unknown))
            return np.asarray(found, dtype=np.int64)[values.codes]
        if len(values) <= FEW_ROWS:
            return np.array([known.get(self.text(v), unknown) for v in values], np.int64)
        # Each distinct value looked up once: a chunk has few of them.
        codes, distinct = pd.factorize(values, use_na_sentinel=False)
        found = [known.get(self.text(value), unknown) for value in distinct]
        return np.asarray(found, dtype=np.int64)[codes]

    def text(self, value: Any) -> str:
        if not isinstance(value, str):  # None, NaN or NA: category text is always str
            return self.fill_value
        if self.mode == "strip":
            return value.strip()
        if self.mode == "lower":
            return value.strip().lower()
        return value


@dataclass(frozen=True)
class TransformedBlock:
    """A numeric block whose skewed columns are first transformed (features/transforms.py)."""

    transformer: SkewTransformer
    inner: NumericBlock

    @property
    def columns(self) -> list[str]:
        return self.inner.columns

    @property
    def indicator_of(self) -> np.ndarray:
        return self.inner.indicator_of

    def fill(self, columns: Columns, out: np.ndarray) -> None:
        arrays = self.transformer.transform_arrays(columns.arrays)
        self.inner.fill(Columns(arrays, columns.rows), out)


@dataclass
class CompiledPipeline:
    kinds: Kinds
    derived: list[Derived]
    blocks: list[NumericBlock | TransformedBlock | CategoricalBlock]
    estimator: Any
    feature_names: list[str]
    booster: Any = None
    classes_: np.ndarray | None = field(default=None)
    scratch: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    def matrix(self, columns: Columns) -> np.ndarray:
        """The matrix the estimator was fitted on, from typed input columns."""
        for step in self.derived:
            columns.arrays[step.name] = step.array_values(columns)
        out = self.buffer(len(columns))
        start = 0
        for block in self.blocks:
            width = block_width(block)
            block.fill(columns, out[:, start : start + width])
            start += width
        return out

    def buffer(self, rows: int) -> np.ndarray:
        """The matrix to fill: column-major (each feature written contiguously; LightGBM
        reads this layout without a copy). Large ones are reused by the same thread for
        the same number of rows (batch chunks), saving fresh memory's page faults; the
        matrix is consumed before the call returns, and threads never share one."""
        shape = (rows, len(self.feature_names))
        if rows <= REUSE_ROWS:
            return np.empty(shape, order="F")
        kept = getattr(self.scratch, "matrix", None)
        if kept is None or kept.shape != shape:
            kept = self.scratch.matrix = np.empty(shape, order="F")
        return kept

    def predict_proba(self, columns: Columns) -> np.ndarray:
        matrix = self.matrix(columns)
        if self.booster is None:
            return np.asarray(self.estimator.predict_proba(self.named(matrix)))
        raw = self.booster_predict(matrix)
        return raw if raw.ndim == 2 else np.vstack((1.0 - raw, raw)).transpose()

    def predict(self, columns: Columns) -> np.ndarray:
        matrix = self.matrix(columns)
        if self.booster is None:
            return np.asarray(self.estimator.predict(self.named(matrix)))
        return self.booster_predict(matrix)

    def booster_predict(self, matrix: np.ndarray) -> np.ndarray:
        threads = 1 if len(matrix) <= FEW_ROWS else 0  # 0: LightGBM's default, every core
        return np.asarray(self.booster.predict(matrix, num_threads=threads))

    def named(self, matrix: np.ndarray) -> pd.DataFrame:
        # The estimator was fitted on named columns; a bare array would warn on every call.
        return pd.DataFrame(matrix, columns=self.feature_names, copy=False)


def compile_pipeline(pipeline: Pipeline, kinds: Kinds) -> CompiledPipeline:
    """The NumPy form of a fitted Pipeline([preprocess, model]); NotCompilable otherwise."""
    steps = [step for _, step in pipeline.steps]
    if len(steps) != 2:
        raise NotCompilable(f"expected preprocessing and a model, found {len(steps)} steps")
    preprocess, estimator = steps
    derived: list[Derived] = []
    if isinstance(preprocess, Pipeline):
        inner = [step for _, step in preprocess.steps]
        if len(inner) != 2 or not isinstance(inner[0], DerivedColumns):
            raise NotCompilable("preprocessing is not DerivedColumns then a ColumnTransformer")
        derived = list(inner[0].derived or [])
        preprocess = inner[1]
    for step in derived:
        if not callable(getattr(type(step), "array_values", None)):
            raise NotCompilable(f"derived feature {step.name!r} has no NumPy form")
    if not isinstance(preprocess, ColumnTransformer):
        raise NotCompilable(f"{type(preprocess).__name__} is not a ColumnTransformer")
    blocks = [block_of(name, step, list(cols)) for name, step, cols in active(preprocess)]
    names = [str(n) for n in preprocess.get_feature_names_out()]
    booster = getattr(estimator, "booster_", None) if is_lightgbm(estimator) else None
    compiled = CompiledPipeline(
        kinds, derived, blocks, estimator, names, booster, getattr(estimator, "classes_", None)
    )
    width = sum(block_width(b) for b in blocks)
    if width != len(names):
        raise NotCompilable(f"compiled {width} features, the pipeline makes {len(names)}")
    return compiled


def active(transformer: ColumnTransformer) -> Iterable[tuple[str, Any, list[str]]]:
    for name, step, columns in transformer.transformers_:
        if name == "remainder" and step == "drop":
            continue
        if step == "drop" or len(columns) == 0:
            continue
        yield name, step, list(columns)


def is_lightgbm(estimator: Any) -> bool:
    return type(estimator).__module__.startswith("lightgbm")


def block_width(block: NumericBlock | TransformedBlock | CategoricalBlock) -> int:
    if isinstance(block, CategoricalBlock):
        return block.width
    return len(block.columns) + len(block.indicator_of)


def block_of(
    name: str, step: Any, columns: list[str]
) -> NumericBlock | TransformedBlock | CategoricalBlock:
    parts = [s for _, s in step.steps] if isinstance(step, Pipeline) else [step]
    kinds = [type(p) for p in parts]
    if kinds[:1] == [SkewTransformer] and kinds[1:] in ([SimpleImputer], NUMERIC_STEPS):
        return TransformedBlock(parts[0], numeric_block(columns, *parts[1:]))
    if kinds in ([SimpleImputer], [SimpleImputer, StandardScaler]):
        return numeric_block(columns, *parts)
    if kinds == [CategoryNormaliser, SimpleImputer, OneHotEncoder]:
        return categorical_block(columns, *parts)
    raise NotCompilable(f"{name}: steps {[k.__name__ for k in kinds]} have no NumPy form")


def numeric_block(
    columns: list[str], imputer: SimpleImputer, scaler: StandardScaler | None = None
) -> NumericBlock:
    # Copies: the compiled form never shares (or changes) the pipeline's own arrays.
    statistics = np.array(imputer.statistics_, dtype=np.float64)
    if np.isnan(statistics).any() or str(imputer.missing_values) != "nan":
        raise NotCompilable("a numeric imputer drops an empty column or reads another marker")
    indicator = getattr(imputer, "indicator_", None)
    indicator_of = np.asarray(indicator.features_ if indicator is not None else [], dtype=int)
    mean = scale = None
    if scaler is not None:
        mean = np.array(scaler.mean_ if scaler.with_mean else 0.0, dtype=np.float64)
        scale = np.array(scaler.scale_ if scaler.with_std else 1.0, dtype=np.float64)
    return NumericBlock(columns, statistics, indicator_of, mean, scale)


def categorical_block(
    columns: list[str],
    normaliser: CategoryNormaliser,
    imputer: SimpleImputer,
    encoder: OneHotEncoder,
) -> CategoricalBlock:
    if encoder.drop is not None or imputer.strategy != "constant":
        raise NotCompilable("categorical steps other than constant imputing and one-hot")
    if encoder.handle_unknown not in ("infrequent_if_exist", "ignore"):
        raise NotCompilable(f"one-hot handle_unknown={encoder.handle_unknown!r}")
    infrequent_all = getattr(encoder, "infrequent_categories_", None) or [None] * len(columns)
    positions, unknown, offset = [], [], 0
    for categories, infrequent in zip(encoder.categories_, infrequent_all, strict=True):
        rare = {str(c) for c in infrequent} if infrequent is not None else set()
        frequent = [str(c) for c in categories if str(c) not in rare]
        mapping = {c: offset + i for i, c in enumerate(frequent)}
        offset += len(frequent)
        rare_position = -1
        if rare:
            rare_position = offset
            mapping.update({c: rare_position for c in rare})
            offset += 1
        positions.append(mapping)
        # scikit-learn maps an unseen category to the infrequent column only under
        # "infrequent_if_exist"; under "ignore" it is all zeros.
        seen_only = encoder.handle_unknown == "infrequent_if_exist"
        unknown.append(rare_position if seen_only else -1)
    return CategoricalBlock(
        columns, normaliser.mode, str(imputer.fill_value), positions, unknown, offset
    )


def kinds_of(schema: Iterable[Any], derived_zone: str | None) -> Kinds:
    return Kinds(
        numeric=[f.name for f in schema if f.kind == "numeric"],
        categorical=[f.name for f in schema if f.kind == "categorical"],
        timestamps=[f.name for f in schema if f.kind == "timestamp"],
        time_zone=derived_zone,
    )


def time_zone_of(pipeline: Pipeline) -> str | None:
    """The data's time zone as the timestamp-reading derived features hold it."""
    preprocess = pipeline.steps[0][1]
    if isinstance(preprocess, Pipeline) and isinstance(preprocess.steps[0][1], DerivedColumns):
        for step in preprocess.steps[0][1].derived or []:
            zone = getattr(step, "time_zone", None)
            if zone:
                return str(zone)
    return None


def first_different(reference: np.ndarray, compiled: np.ndarray, tolerance: float) -> int | None:
    """The first row whose scores differ by more than `tolerance`; None when all agree."""
    gap = np.abs(np.asarray(reference, float) - np.asarray(compiled, float))
    worst = gap.reshape(len(gap), -1).max(axis=1) if len(gap) else gap
    bad = np.flatnonzero(~(worst <= tolerance))
    return int(bad[0]) if len(bad) else None
