"""One record, one decision, whichever way it arrives.

Test-split records, spelled exactly as the source spells them, are scored by
the packaged pipeline in process, by batch scoring from CSV and from Parquet,
and by the service over HTTP; each must make the decisions that `evaluate`
judged (the trained model on the test split's features). The rule baseline must
decide the same on the source's rows as on the prepared rows evaluation judges
it on. Runs on whatever conf/ selects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from mllifecycle.config import (
    Params,
    load_params,
)
from mllifecycle.contracts import Decisions
from mllifecycle.evaluation.baselines import (
    rule_decisions,
)
from mllifecycle.evaluation.business import (
    decide,
)
from mllifecycle.features.pipeline import (
    timestamp_inputs,
)
from mllifecycle.io import (
    read_table,
)
from mllifecycle.models import (
    artifact,
    factory,
)
from mllifecycle.serving import (
    batch,
    loading,
)
from mllifecycle.serving.app import (
    create_app,
)
from mllifecycle.serving.settings import (
    ServeSettings,
)
from mllifecycle.testing import serving

ROWS = 300


@pytest.fixture(scope="module")
def run(pipeline_run: Path) -> Iterator[tuple[Path, Params]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(pipeline_run)
        yield pipeline_run, load_params()


@pytest.fixture(scope="module")
def chosen(run: tuple[Path, Params]) -> pd.DataFrame:
    """Prepared test rows a client could send (no null where training had none)."""
    folder, _ = run
    model = loading.from_dir(folder / "models/package", unregistered=True)
    schema = model.artifact.metadata.input_schema
    required = [field.name for field in schema if not field.nullable]
    return read_table(folder / "data/prepared/test.parquet").dropna(subset=required).head(ROWS)


@pytest.fixture(scope="module")
def records(run: tuple[Path, Params], chosen: pd.DataFrame) -> pd.DataFrame:
    """The chosen rows as the source holds them (matched by id), id and inputs only."""
    folder, params = run
    key = params.data.id_column
    # The features and the timestamps derived features read (features/derived.py).
    inputs = [*params.data.features, *timestamp_inputs(params.features, params.data)]
    if key is None:
        return chosen[inputs].reset_index(drop=True)
    raw = read_table(folder / "data/raw/dataset.parquet").drop_duplicates(subset=key)
    source = raw.set_index(key).loc[chosen[key]].reset_index()
    return source[[key, *inputs]]


@pytest.fixture(scope="module")
def evaluated(run: tuple[Path, Params], chosen: pd.DataFrame) -> list[str]:
    """What `evaluate` decided for the chosen rows: the trained model on their features."""
    folder, params = run
    problem = params.problem
    features = read_table(folder / "data/features/test.parquet").loc[chosen.index]
    scores = factory.scores(
        artifact.read_model(folder / "models/model.skops"),
        features.drop(columns=[problem.target]),
        problem,
    )
    policy = Decisions.read(folder / "models/decisions.json").model
    return decided(decide(problem, policy, scores), problem.is_classification)


def decided(values: Any, labels: bool) -> list[str]:
    """Decisions in one comparable form: class labels as text (a CSV reads "1" back as
    a number), predicted amounts to 1e-9."""
    return [str(v) if labels else f"{float(v):.9f}" for v in values]


def test_prepared_rows_keep_the_sources_spelling(run: tuple[Path, Params]) -> None:
    folder, params = run
    if not params.data.categorical or not params.data.id_column:
        pytest.skip("needs categorical features and an id column to match rows to the source")
    key = params.data.id_column
    raw = read_table(folder / "data/raw/dataset.parquet").set_index(key)
    prepared = read_table(folder / "data/prepared/test.parquet").set_index(key)
    for column in params.data.categorical:
        source = raw.loc[prepared.index, column].astype(object).where(lambda s: s.notna(), None)
        kept = prepared[column].astype(object).where(lambda s: s.notna(), None)
        assert source.tolist() == kept.tolist(), column


def test_every_scoring_path_makes_the_evaluated_decisions(
    run: tuple[Path, Params], records: pd.DataFrame, evaluated: list[str], tmp_path: Path
) -> None:
    folder, params = run
    labels = params.problem.is_classification
    model = loading.from_dir(folder / "models/package", unregistered=True)
    in_process = decided(model.artifact.decide(records), labels)
    assert in_process == evaluated

    for suffix in ("csv", "parquet"):
        source = tmp_path / f"records.{suffix}"
        records.to_csv(source, index=False) if suffix == "csv" else records.to_parquet(source)
        scored = tmp_path / f"scored.{suffix}"
        batch.score(model, str(source), scored, chunk_rows=97)
        assert decided(read_table(scored)["decision"], labels) == in_process, suffix

    payload = json.loads(records.to_json(orient="records", date_format="iso"))
    with served(folder / "models/package", tmp_path / "predictions.jsonl") as client:
        answer = client.post("/predict", json={"records": payload})
    assert answer.status_code == 200, answer.text
    assert decided((p["decision"] for p in answer.json()["predictions"]), labels) == in_process


def test_the_rule_baseline_sees_what_the_source_says(
    run: tuple[Path, Params], records: pd.DataFrame, chosen: pd.DataFrame, tmp_path: Path
) -> None:
    _, params = run
    if params.problem.baseline_rule is None:
        pytest.skip("the problem spec has no baseline rule")
    source = tmp_path / "records.csv"
    records.to_csv(source, index=False)
    from_source = rule_decisions(params.problem, read_table(source))
    from_prepared = rule_decisions(params.problem, chosen.reset_index(drop=True))
    assert from_source is not None and from_prepared is not None
    labels = params.problem.is_classification
    assert decided(from_source, labels) == decided(from_prepared, labels)
    if params.problem.is_classification:
        assert len(set(from_source.tolist())) > 1, "the rule never fires on these rows"


@contextmanager
def served(package: Path, log: Path) -> Iterator[httpx.Client]:
    """The service for `package` on a free loopback port, for the duration of the block."""
    settings = ServeSettings(
        allow_unregistered=True, model_dir=package, prediction_log=log, max_records=ROWS
    )
    with serving(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def test_decisions_are_compared_exactly() -> None:
    """The comparison itself can fail: a changed decision is a different entry."""
    assert decided([1.5], labels=False) != decided([1.5000001], labels=False)
    assert decided(np.array(["No", 1], dtype=object), labels=True) == ["No", "1"]
