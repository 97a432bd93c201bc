"""The compiled scoring path (models/compiled.py) scores exactly as the scikit-learn
pipeline does, for every task and candidate family, on awkward inputs; package proves
it and refuses one that disagrees; a step it does not know falls back to scikit-learn."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.base import BaseEstimator, TransformerMixin

from mllifecycle.config import (
    Params,
    parse_params,
)
from mllifecycle.contracts import (
    PackageContent,
)
from mllifecycle.data.demo import (
    generate,
)
from mllifecycle.data.prepare import (
    clean,
)
from mllifecycle.errors import (
    ArtifactError,
    DataError,
)
from mllifecycle.features.pipeline import (
    as_model_input,
    build_preprocessor,
    timestamp_inputs,
)
from mllifecycle.models import (
    artifact,
    compiled,
    factory,
    packaging,
)
from mllifecycle.models.compiled import (
    NotCompilable,
    NumericBlock,
    TransformedBlock,
)
from mllifecycle.serving import (
    batch,
    loading,
)
from mllifecycle.tasks.policy import DecisionPolicy

PROBLEMS = ("churn", "plan_change", "spend")
FAMILIES = {
    "lightgbm": ("model.n_estimators=40",),
    "hist_gb": ("model.max_iter=40",),
    "linear": (),
    "dummy": (),
}
DERIVED = [
    {"name": "per_product", "kind": "ratio", "numerator": "monthly_charges",
     "denominator": "num_products"},
    {"name": "weekday", "kind": "day_of_week", "column": "snapshot_date"},
    {"name": "since_login", "kind": "days_between", "start": "last_login_date",
     "end": "snapshot_date"},
]  # fmt: skip
PLAN_SPELLINGS = {"basic": " Basic", "premium": "PREMIUM  "}


def params_for(example_params: Callable[..., Params], *overrides: str, **features: Any) -> Params:
    raw = example_params(*overrides).model_dump(mode="json")
    raw["features"].update({"derived": DERIVED, "min_category_frequency": 30, **features})
    raw["data"]["time_zone"] = "Europe/Berlin"
    return parse_params(raw)


def fitted(params: Params, rows: int = 1500) -> tuple[artifact.Artifact, pd.DataFrame]:
    """A packaged-like artifact (compiled path on) fitted on demo rows, and a hostile
    batch to score: gaps, unseen and infrequent categories, aware and naive times."""
    history, production = generate(params.problem, rows, 400, seed=5)
    timestamps = timestamp_inputs(params.features, params.data)
    prepared = clean(history, params.data, params.problem.target, keep=timestamps)
    inputs = as_model_input(prepared, params.data, params.features)
    estimator = factory.build(params.model, params.problem)
    pipeline = artifact.pipeline_of(build_preprocessor(params.features, params.data), estimator)
    pipeline.fit(inputs, prepared[params.problem.target])
    policy = {"threshold": 0.3, "expected_value": 0.0, "offset": 1.5}
    kind = {"binary": "threshold", "multiclass": "expected_value"}.get(
        params.problem.task, "offset"
    )
    # Only what scoring reads.
    content = PackageContent.model_construct(  # type: ignore[call-arg]
        problem=params.problem,
        decision_policy=DecisionPolicy(kind, policy[kind]),
        input_schema=packaging.input_schema(prepared, params.data, timestamps),
        id_column=params.data.id_column,
    )
    return packaging.provisional(pipeline, content), hostile(production, timestamps)


def hostile(production: pd.DataFrame, timestamps: list[str]) -> pd.DataFrame:
    batch = production.reset_index(drop=True).copy()
    batch.loc[::7, "monthly_charges"] = np.nan
    batch.loc[::11, "num_products"] = 0  # a zero denominator
    batch.loc[::5, "plan"] = None
    batch.loc[3::13, "region"] = "atlantis"  # never seen in training
    batch.loc[1::17, "payment_method"] = "barter"
    for column in timestamps:
        text = pd.to_datetime(batch[column]).dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object)
        text[::9] = None
        batch[column] = text
    return batch


def assert_same(packaged: artifact.Artifact, frame: pd.DataFrame) -> None:
    reference = packaged.reference_scores(frame)
    compiled = packaged.scores(frame)
    assert packaged.compiled is not None
    assert reference.shape == compiled.shape
    np.testing.assert_allclose(compiled, reference, rtol=0, atol=1e-6)
    decided = packaged.decide_from_scores(compiled)
    expected = packaged.decide_from_scores(reference)
    if packaged.problem.is_classification:
        assert (decided == expected).all()
    else:
        np.testing.assert_allclose(decided, expected, rtol=0, atol=1e-6)


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            str(k): (None if v is None or (isinstance(v, float) and np.isnan(v)) else v)
            for k, v in r.items()
        }
        for r in frame.astype(object).to_dict("records")
    ]


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("problem", PROBLEMS)
def test_compiled_scores_match_the_pipeline_for_every_task_and_family(
    problem: str, family: str, example_params: Callable[..., Params]
) -> None:
    params = params_for(example_params, f"problem={problem}", f"model={family}", *FAMILIES[family])
    packaged, batch = fitted(params)
    assert_same(packaged, batch)
    many = packaged.scores_of_records(records_of(batch))
    np.testing.assert_allclose(many, packaged.reference_scores(batch), rtol=0, atol=1e-6)


def test_a_record_scores_as_a_frame_of_it(example_params: Callable[..., Params]) -> None:
    packaged, batch = fitted(params_for(example_params))
    for record in records_of(batch.head(25)):
        one = packaged.scores_of_records([record])
        assert one.shape == (1, len(packaged.problem.labels))
        np.testing.assert_allclose(
            one, packaged.reference_scores(pd.DataFrame([record])), rtol=0, atol=1e-6
        )


@pytest.mark.parametrize(
    ("column", "value"), [("monthly_charges", "lots"), ("snapshot_date", "last tuesday")]
)
def test_a_bad_record_value_is_refused_as_in_a_frame(
    example_params: Callable[..., Params], column: str, value: str
) -> None:
    packaged, batch = fitted(params_for(example_params))
    record = {**records_of(batch.head(1))[0], column: value}
    with pytest.raises(DataError) as from_frame:
        packaged.reference_scores(pd.DataFrame([record]))
    with pytest.raises(DataError) as from_record:
        packaged.scores_of_records([record])
    assert str(from_record.value) == str(from_frame.value)
    assert column in str(from_record.value) and value in str(from_record.value)


def test_normalised_categories_and_infrequent_ones_compile(
    example_params: Callable[..., Params],
) -> None:
    params = params_for(example_params, normalise_categories="lower", min_category_frequency=400)
    packaged, batch = fitted(params)
    encoder = packaged.pipeline.named_steps["preprocess"].named_steps["encode"]
    onehot = encoder.named_transformers_["categorical"].named_steps["encode"]
    assert any(rare is not None for rare in onehot.infrequent_categories_)
    batch["plan"] = batch["plan"].map(lambda v: PLAN_SPELLINGS.get(v, v))
    assert_same(packaged, batch)


def test_unseen_categories_compile_to_zeros_when_the_encoder_ignores_them(
    example_params: Callable[..., Params],
) -> None:
    params = params_for(example_params, min_category_frequency=400)
    packaged, batch = fitted(params)
    encoder = packaged.pipeline.named_steps["preprocess"].named_steps["encode"]
    onehot = encoder.named_transformers_["categorical"].named_steps["encode"]
    onehot.handle_unknown = "ignore"  # all zeros for "atlantis", not the infrequent column
    assert (batch["region"] == "atlantis").any()
    assert_same(packaged, batch)


def test_aware_and_naive_timestamps_compile(example_params: Callable[..., Params]) -> None:
    packaged, batch = fitted(params_for(example_params))
    aware = batch.copy()
    stamps = pd.to_datetime(aware["snapshot_date"]).dt.tz_localize("Asia/Tokyo")
    aware["snapshot_date"] = stamps.map(lambda t: None if pd.isna(t) else t.isoformat())
    assert_same(packaged, aware)
    mixed = records_of(batch.head(4)) + records_of(aware.head(4))  # naive read as UTC
    np.testing.assert_allclose(
        packaged.scores_of_records(mixed),
        packaged.reference_scores(pd.DataFrame(mixed)),
        rtol=0,
        atol=1e-6,
    )


def test_package_refuses_a_compiled_path_that_disagrees_naming_the_row(
    example_params: Callable[..., Params],
) -> None:
    packaged, batch = fitted(params_for(example_params))
    packaging.prove_compiled(packaged, "test", batch)  # agrees as compiled
    assert packaged.compiled is not None
    numeric = packaged.compiled.blocks[0]
    if isinstance(numeric, TransformedBlock):  # conf/features transforms a skewed feature
        numeric = numeric.inner
    assert isinstance(numeric, NumericBlock) and numeric.mean is not None
    numeric.mean[:] = numeric.mean + 0.5  # one fitted parameter, off by half a unit
    gaps = np.abs(packaged.scores(batch) - packaged.reference_scores(batch)).max(axis=1)
    first_gap = int(np.flatnonzero(gaps > 1e-6)[0])
    with pytest.raises(ArtifactError) as refused:
        packaging.prove_compiled(packaged, "test", batch)
    message = str(refused.value)
    assert "\n" not in message
    assert f"test row {first_gap} (index {first_gap}, customer_id=" in message
    assert repr(batch["customer_id"].iloc[first_gap]) in message
    assert "refusing to package" in message


class Doubler(TransformerMixin, BaseEstimator):
    """A user's own step: the compiler has no NumPy form of it."""

    def fit(self, frame: pd.DataFrame, target: Any = None) -> Doubler:
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame * 2


def test_a_custom_transformer_falls_back_to_scikit_learn(
    example_params: Callable[..., Params], capsys: pytest.CaptureFixture[str]
) -> None:
    packaged, _ = fitted(params_for(example_params))
    encoder = packaged.pipeline.named_steps["preprocess"].named_steps["encode"]
    encoder.named_transformers_["numeric"].steps.insert(0, ("double", Doubler()))
    content = PackageContent.model_construct(**dict(packaged.metadata))
    with pytest.raises(NotCompilable, match="Doubler"):
        _ = packaging.provisional(packaged.pipeline, content).compiled
    proven: list[Path] = []

    def each_part(locations: list[Path], work: Callable[..., None]) -> list[None]:
        proven.extend(locations)
        return []

    scoring = packaging.scoring_path(
        packaged.pipeline, content, {"test": Path("test.parquet")}, each_part
    )
    assert scoring == "scikit-learn" and not proven, "nothing to prove without a compiled path"
    said = capsys.readouterr().out.strip().splitlines()
    assert said == [said[0]] and "scoring through scikit-learn" in said[0]
    assert "Doubler" in said[0]


def test_the_demo_package_scores_through_the_proven_compiled_path(pipeline_run: Path) -> None:
    packaged = artifact.load(pipeline_run / "models/package")
    assert packaged.metadata.scoring_path == "compiled"
    test = pd.read_parquet(pipeline_run / "data/prepared/test.parquet")
    assert_same(packaged, test)
    old = artifact.Artifact(
        packaged.pipeline, packaged.metadata.model_copy(update={"scoring_path": "scikit-learn"})
    )
    assert old.compiled is None
    np.testing.assert_array_equal(old.scores(test), packaged.reference_scores(test))


def scoring_batch(pipeline_run: Path) -> pd.DataFrame:
    """The production batch, or the test split where none is configured (your own data)."""
    production = pd.read_parquet(pipeline_run / "data/raw/production.parquet")
    return (
        production
        if len(production)
        else pd.read_parquet(pipeline_run / "data/prepared/test.parquet")
    )


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_batch_scoring_streams_to_the_same_output_as_the_scikit_learn_path(
    pipeline_run: Path, tmp_path: Path, suffix: str
) -> None:
    served = loading.from_dir(pipeline_run / "models/package", unregistered=True)
    assert served.artifact.compiled is not None
    reference = loading.ServedModel(
        artifact.Artifact(
            served.artifact.pipeline,
            served.artifact.metadata.model_copy(update={"scoring_path": "scikit-learn"}),
        ),
        served.version,
        served.source,
    )
    source = tmp_path / f"batch.{suffix}"
    production = scoring_batch(pipeline_run)
    production.to_csv(source, index=False) if suffix == "csv" else production.to_parquet(source)
    fast, slow = tmp_path / "fast.parquet", tmp_path / "slow.parquet"
    assert batch.score(served, str(source), fast, chunk_rows=333) == len(production)
    assert batch.score(reference, str(source), slow, chunk_rows=333) == len(production)
    got, expected = pd.read_parquet(fast), pd.read_parquet(slow)
    assert list(got.columns) == list(expected.columns)
    assert got["decision"].tolist() == expected["decision"].tolist()
    scores = [c for c in got.columns if c.startswith("score_")]
    np.testing.assert_allclose(got[scores], expected[scores], rtol=0, atol=1e-6)
    id_column = served.artifact.metadata.id_column
    if id_column:
        assert got[id_column].astype(str).tolist() == production[id_column].astype(str).tolist()


def test_a_csv_value_that_is_not_a_number_is_one_line_naming_the_file(
    pipeline_run: Path, tmp_path: Path
) -> None:
    served = loading.from_dir(pipeline_run / "models/package", unregistered=True)
    numeric = next(f.name for f in served.artifact.metadata.input_schema if f.kind == "numeric")
    production = scoring_batch(pipeline_run).head(50)
    production[numeric] = production[numeric].astype(object)
    production.loc[40, numeric] = "twelve"
    source = tmp_path / "broken.csv"
    production.to_csv(source, index=False)
    output = tmp_path / "scored.parquet"
    with pytest.raises(DataError) as refused:
        batch.score(served, str(source), output, chunk_rows=10)
    assert str(source) in str(refused.value) and "\n" not in str(refused.value)
    assert f"column {numeric!r}" in str(refused.value) and "twelve" in str(refused.value)
    assert not output.exists()


def category_chunks(batch: pd.DataFrame, rows: int) -> pd.DataFrame:
    """The hostile batch made harder for dictionary-encoded reading: odd spellings, a
    column all missing in the second chunk, and a first chunk that holds one region
    only (so later chunks' dictionaries differ from the first's)."""
    batch = batch.copy()
    batch["plan"] = batch["plan"].map(lambda v: PLAN_SPELLINGS.get(v, v))
    batch.loc[rows : 2 * rows - 1, "plan"] = None
    batch.loc[: rows - 1, "region"] = batch["region"].iloc[0]
    return batch


def dictionaries(source: Path, column: str, rows: int) -> list[list[Any]]:
    parquet = pq.ParquetFile(source, read_dictionary=[column])
    return [
        b.column(column).dictionary.to_pylist()
        for b in parquet.iter_batches(batch_size=rows, columns=[column])
    ]


@pytest.mark.parametrize("form", ["csv", "parquet", "parquet-plain"])
def test_batch_scoring_of_dictionary_encoded_categories_matches_the_pipeline(
    example_params: Callable[..., Params], tmp_path: Path, form: str
) -> None:
    rows = 97
    params = params_for(example_params, normalise_categories="lower", min_category_frequency=400)
    packaged, hostile_batch = fitted(params)
    frame = category_chunks(hostile_batch, rows)
    source = tmp_path / f"in.{form.split('-')[0]}"
    if form == "csv":
        frame.to_csv(source, index=False)
    else:  # Parquet's own dictionary pages, or plain pages Arrow encodes on reading
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table, source, use_dictionary=form == "parquet", row_group_size=rows)
        paged = form == "parquet"
        assert pq.ParquetFile(source).metadata.row_group(0).column(0).has_dictionary_page == paged
        if paged:  # Arrow rebuilds plain pages' dictionaries across chunks
            assert dictionaries(source, "plan", rows)[1] == []  # all missing in chunk two
            assert len(set(map(tuple, dictionaries(source, "region", rows)))) > 1
    served = loading.ServedModel(packaged, "v-test", "test")
    output = tmp_path / "scored.parquet"
    assert batch.score(served, str(source), output, chunk_rows=rows) == len(frame)
    read_back = pd.read_csv(source) if form == "csv" else pd.read_parquet(source)
    reference = packaged.reference_scores(read_back)
    scored = pd.read_parquet(output)
    labels = [f"score_{label}" for label in packaged.problem.labels]
    np.testing.assert_allclose(scored[labels].to_numpy(), reference, rtol=0, atol=1e-6)
    expected = packaged.decide_from_scores(reference)
    assert scored["decision"].astype(str).tolist() == pd.Series(expected).astype(str).tolist()
    assert scored["customer_id"].astype(str).tolist() == frame["customer_id"].astype(str).tolist()


def test_arrow_columns_type_as_the_frame_does(example_params: Callable[..., Params]) -> None:
    """Nullable integers, a pandas categorical (Arrow dictionary) split over chunks,
    typed timestamps naive and aware, with gaps: the Arrow reading gives the compiled
    path the frame's scores."""
    packaged, hostile_batch = fitted(params_for(example_params))
    frame = category_chunks(hostile_batch, 50)
    frame["num_products"] = frame["num_products"].astype("Int64")
    frame.loc[::13, "num_products"] = pd.NA
    frame["region"] = frame["region"].astype("category")
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"])  # naive, NaT in gaps
    aware = pd.to_datetime(frame["last_login_date"]).dt.tz_localize("Asia/Tokyo")
    frame["last_login_date"] = aware
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = pa.concat_tables([table.slice(0, 50), table.slice(50)])  # two chunks
    columns = compiled.columns_of_arrow(table, packaged.kinds)
    assert isinstance(columns["region"], compiled.Coded)
    np.testing.assert_allclose(
        packaged.compiled_scores(columns), packaged.reference_scores(frame), rtol=0, atol=1e-6
    )


def test_batch_output_writes_a_nan_score_as_missing() -> None:
    """As pandas wrote it before the output was built in Arrow: null, not NaN."""
    column = batch.as_floats(np.array([0.25, np.nan]))
    assert column.to_pylist() == [0.25, None] and column.null_count == 1


def test_a_naive_arrow_timestamp_past_2262_is_refused_naming_its_column(
    example_params: Callable[..., Params],
) -> None:
    """Typed in nanoseconds, a far date (a 9999-12-31 sentinel) would wrap around into a
    wrong feature; it is refused instead."""
    packaged, hostile_batch = fitted(params_for(example_params))
    table = pa.Table.from_pandas(hostile_batch, preserve_index=False)
    far = pa.array([datetime(9999, 12, 31)] * table.num_rows, pa.timestamp("us"))
    table = table.set_column(table.column_names.index("snapshot_date"), "snapshot_date", far)
    with pytest.raises(DataError, match=r"'snapshot_date'.*2262"):
        compiled.columns_of_arrow(table, packaged.kinds)


def test_a_bad_text_timestamp_from_arrow_is_refused_as_in_a_frame(
    example_params: Callable[..., Params],
) -> None:
    """Text timestamps are parsed once per distinct value; a bad one is still refused
    with the frame's message, which counts rows."""
    packaged, hostile_batch = fitted(params_for(example_params))
    frame = hostile_batch.copy()
    frame.loc[[3, 8], "snapshot_date"] = "last tuesday"
    with pytest.raises(DataError) as from_frame:
        packaged.reference_scores(frame)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pytest.raises(DataError) as from_arrow:
        compiled.columns_of_arrow(table, packaged.kinds)
    assert str(from_arrow.value) == str(from_frame.value)
    assert "2 value(s)" in str(from_arrow.value) and "snapshot_date" in str(from_arrow.value)
