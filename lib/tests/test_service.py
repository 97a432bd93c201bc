"""The service on a real loopback port, spoken to over HTTP; batch scoring; shadow mode."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from pydantic import ValidationError
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from mllifecycle.config import (
    load_params,
)
from mllifecycle.contracts import (
    CategoricalInput,
    InputField,
)
from mllifecycle.data.prepare import (
    clean,
)
from mllifecycle.errors import (
    ArtifactError,
    ContractError,
    DataError,
    RegistryError,
)
from mllifecycle.models import (
    artifact,
)
from mllifecycle.monitoring import (
    current as monitor_current,
)
from mllifecycle.serving import (
    batch,
    loading,
    prediction_log,
    schema,
    shadow_report,
    state,
)
from mllifecycle.serving.app import (
    create_app,
)
from mllifecycle.serving.settings import (
    ServeSettings,
)
from mllifecycle.testing import serving
from mllifecycle.validation import (
    gates,
)


@pytest.fixture(scope="module")
def packaged(pipeline_run: Path) -> artifact.Artifact:
    return artifact.load(pipeline_run / "models/package")


@pytest.fixture(scope="module")
def records(pipeline_run: Path, packaged: artifact.Artifact) -> list[dict[str, Any]]:
    """Real test-split records as a client sends them (the id when the data has one, never
    the target)."""
    id_column = packaged.metadata.id_column
    columns = [*([id_column] if id_column else []), *input_names(packaged)]
    frame = pd.read_parquet(pipeline_run / "data/prepared/test.parquet")[columns].head(200)
    # Timestamps (inputs of derived features) as ISO text, as a client writes them.
    loaded: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return loaded


def input_names(packaged: artifact.Artifact) -> list[str]:
    return packaged.metadata.input_names


def scoring_input(pipeline_run: Path) -> Path:
    """Raw rows to score: the production batch, or the dataset when conf/data has none."""
    production = pipeline_run / "data/raw/production.parquet"
    if len(pd.read_parquet(production)):
        return production
    return pipeline_run / "data/raw/dataset.parquet"


def tool(name: str) -> str:
    """A console script from this environment (make test does not put it on PATH)."""
    return str(Path(sys.executable).parent / name)


@pytest.fixture(scope="module")
def server(
    pipeline_run: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """uvicorn on 127.0.0.1, the packaged model as champion and as shadow challenger."""
    log = tmp_path_factory.mktemp("serving") / "predictions.jsonl"
    package = pipeline_run / "models/package"
    settings = ServeSettings(
        allow_unregistered=True,
        model_dir=package,
        challenger_dir=package,
        prediction_log=log,
        max_records=500,
    )
    with serving(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield {"client": client, "log": log, "url": url}


def test_health_ready_and_metadata(server: dict[str, Any], packaged: artifact.Artifact) -> None:
    client = server["client"]
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").status_code == 200
    meta = client.get("/metadata").json()
    assert meta["artifact_version"] == packaged.version
    assert meta["challenger_version"] == packaged.version
    assert meta["input_schema"] == [
        field.model_dump(mode="json") for field in packaged.metadata.input_schema
    ]
    # Asked for explicitly, and said so: the workspace's package was never registered.
    assert meta["registered"] is False and meta["source"].endswith("(unregistered)")


def test_a_folder_never_registered_serves_and_scores_only_when_asked_for(
    pipeline_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SERVE_MODEL_DIR and `score --model-dir` used to load any folder unchecked."""
    package = pipeline_run / "models/package"
    for load in (
        lambda: loading.from_dir(package),
        lambda: create_app(ServeSettings(model_dir=package, prediction_log=tmp_path / "l")),
    ):
        with pytest.raises(RegistryError, match="never registered") as refused:
            load()
        assert "SERVE_ALLOW_UNREGISTERED=1" in str(refused.value)
    scored = tmp_path / "scored.parquet"
    source = str(pipeline_run / "data/raw/production.parquet")
    with pytest.raises(SystemExit):
        batch.score_command(source, scored, "prod", package, 1000, "pandas")
    assert "never registered" in capsys.readouterr().err and not scored.exists()
    batch.score_command(source, scored, "prod", package, 1000, "pandas", unregistered=True)
    assert "(an UNREGISTERED package)" in capsys.readouterr().out and scored.exists()


def test_one_and_many_records_get_the_packaged_decisions(
    server: dict[str, Any], records: list[dict[str, Any]], packaged: artifact.Artifact
) -> None:
    client = server["client"]
    one = client.post("/predict", json={"records": records[:1]}, headers={"X-Request-ID": "req-1"})
    assert one.status_code == 200 and one.headers["X-Request-ID"] == "req-1"
    many = client.post("/predict", json={"records": records}).json()
    assert len(many["predictions"]) == len(records)
    expected = packaged.decide(pd.DataFrame(records))
    decided = [p["decision"] for p in many["predictions"]]
    if isinstance(decided[0], str):
        assert decided == [str(d) for d in expected]
    else:
        assert np.allclose(decided, expected.astype(float))
    id_column = packaged.metadata.id_column
    assert many["predictions"][0]["id"] == (records[0][id_column] if id_column else None)


def malformed(case: str, record: dict[str, Any], schema: list[InputField]) -> str:
    """Break `record` in one way; return the field the 422 must name."""
    numeric = next(f.name for f in schema if f.kind == "numeric")
    required = next(f.name for f in schema if not f.nullable)
    if case == "wrong type":
        record[numeric] = "not a number"
        return numeric
    if case == "missing field":
        record.pop(required)
        return required
    if case == "null where training had none":
        record[required] = None
        return required
    record["not_a_column_anywhere"] = 1
    return "not_a_column_anywhere"


@pytest.mark.parametrize(
    "case", ["wrong type", "missing field", "null where training had none", "unknown field"]
)
def test_a_malformed_record_is_a_422_naming_the_field(
    server: dict[str, Any], records: list[dict[str, Any]], packaged: artifact.Artifact, case: str
) -> None:
    record = dict(records[0])
    field = malformed(case, record, packaged.metadata.input_schema)
    answer = server["client"].post("/predict", json={"records": [record]})
    assert answer.status_code == 422
    assert ["body", "records", 0, field] in [error["loc"] for error in answer.json()["detail"]]


def test_the_service_applies_the_serving_suite_as_gx_does(
    in_root: Path,
    server: dict[str, Any],
    records: list[dict[str, Any]],
    packaged: artifact.Artifact,
) -> None:
    """A value outside the reviewed range is a 422 naming record, field and rule, and the
    GX checkpoint of the same suite fails the same field."""
    suite = packaged.metadata.serving_suite
    assert suite == gates.load_suite("serving")
    ranged = next(r["kwargs"] for r in suite if r["type"] == "expect_column_values_to_be_between")
    column, value = ranged["column"], ranged["max_value"] + 1000
    broken = {**records[0], column: value}
    answer = server["client"].post("/predict", json={"records": [records[1], broken]})
    assert answer.status_code == 422
    error = answer.json()["detail"][0]
    assert error["loc"] == ["body", "records", 1, column] and error["input"] == value
    assert error["msg"].startswith("expect_column_values_to_be_between(")

    checked = gates.run(pd.DataFrame([records[1], broken]), "serving", "request", [])
    assert [(f.expectation, f.column) for f in checked.failures] == [
        ("expect_column_values_to_be_between", column)
    ]


def test_an_unseen_category_is_served(
    server: dict[str, Any], records: list[dict[str, Any]], packaged: artifact.Artifact
) -> None:
    """The serving suite tolerates a few unseen categories per batch."""
    schema = packaged.metadata.input_schema
    category = next((f for f in schema if f.kind == "categorical"), None)
    if category is None:
        pytest.skip("conf/data lists no categorical feature")
    unseen = {**records[0], category.name: "never-seen-before"}
    assert server["client"].post("/predict", json={"records": [unseen]}).status_code == 200


def test_bad_envelopes_are_refused_without_a_server_error(
    server: dict[str, Any], records: list[dict[str, Any]]
) -> None:
    client = server["client"]
    assert client.post("/predict", json={"records": []}).status_code == 422
    too_many = records * (500 // len(records) + 1)  # more than max_records
    assert client.post("/predict", json={"records": too_many}).status_code == 422
    assert (
        client.post(
            "/predict", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    huge = b'{"records": [' + b" " * 3_000_000 + b"]}"
    too_big = client.post("/predict", content=huge, headers={"content-type": "application/json"})
    assert too_big.status_code == 413 and "limit" in too_big.json()["detail"]


def test_the_challenger_shadows_every_request_into_the_log(
    server: dict[str, Any],
    records: list[dict[str, Any]],
    pipeline_run: Path,
    packaged: artifact.Artifact,
) -> None:
    client = server["client"]
    answer = client.post(
        "/predict", json={"records": records[:5]}, headers={"X-Request-ID": "shadow-1"}
    )
    assert answer.status_code == 200
    log: Path = server["log"]
    deadline = time.monotonic() + 10  # the log is written after the response is sent
    while time.monotonic() < deadline:
        table = prediction_log.read(log) if log.exists() else pd.DataFrame()
        if not table.empty and (table["request_id"] == "shadow-1").sum() == 5:
            break
        time.sleep(0.05)
    logged = table[table["request_id"] == "shadow-1"]
    assert len(logged) == 5
    assert (
        logged["champion.decision"].astype(str) == logged["challenger.decision"].astype(str)
    ).all()
    assert logged["challenger.latency_ms"].notna().all()
    assert set(prediction_log.inputs(log).columns) >= set(records[0]) - {
        packaged.metadata.id_column
    }

    labels = pd.read_parquet(pipeline_run / "data/prepared/test.parquet")
    params = load_params(pipeline_run / "params.yaml")
    if params.data.id_column is None:  # labels join the log on the record's id
        with pytest.raises(DataError, match="labels need the id column"):
            shadow_report.compare(params.problem, None, prediction_log.read(log), labels)
        return
    report = shadow_report.compare(
        params.problem, params.data.id_column, prediction_log.read(log), labels
    )
    assert report["challenger_errors"] == 0
    assert report.get("agreement", 1.0) == 1.0 and report.get("mean_abs_difference", 0.0) == 0.0
    worth = report["with_labels"]["value_per_1000"]
    assert worth["champion"] == worth["challenger"]


def test_a_challenger_reading_an_input_the_champion_lacks_is_refused_at_start(
    packaged: artifact.Artifact,
) -> None:
    """Requests pass the champion's contract only: such a challenger could never be scored."""
    champion = loading.ServedModel(packaged, "v1.0.0", "champion dir")
    field = packaged.metadata.input_schema[0].model_copy(update={"name": "new_signal"})
    wider = packaged.metadata.model_copy(
        update={"input_schema": [*packaged.metadata.input_schema, field]}
    )
    challenger = loading.ServedModel(
        dataclasses.replace(packaged, metadata=wider), "v1.1.0", "challenger dir"
    )
    state.require_shadowable(champion, champion)  # the same inputs: fine
    with pytest.raises(ContractError, match=r"challenger v1\.1\.0 .*\['new_signal'\]"):
        state.require_shadowable(champion, challenger)


def test_the_monitor_reads_the_prediction_log(
    server: dict[str, Any], records: list[dict[str, Any]], pipeline_run: Path
) -> None:
    server["client"].post("/predict", json={"records": records[:20]})
    time.sleep(0.5)  # the log line is written just after the response
    data = load_params(pipeline_run / "params.yaml").data
    batch_frame = monitor_current.load(str(server["log"]), data)
    assert len(batch_frame) >= 20
    assert set(data.features) <= set(batch_frame.columns)
    cleaned = clean(batch_frame, data, None)  # what the monitor stage does next
    assert cleaned[data.features[0]].notna().any()


def test_schemathesis_finds_no_server_error(server: dict[str, Any]) -> None:
    result = subprocess.run(
        [
            tool("schemathesis"),
            "run",
            f"{server['url']}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "40",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def test_batch_scoring_matches_the_service_and_keeps_outputs_on_failure(
    pipeline_run: Path, tmp_path: Path
) -> None:
    model = loading.from_dir(pipeline_run / "models/package", unregistered=True)
    source = scoring_input(pipeline_run)
    scored_path = tmp_path / "scored.parquet"
    rows = batch.score(model, str(source), scored_path, chunk_rows=400)
    inputs = pd.read_parquet(source)
    scored = pd.read_parquet(scored_path)
    assert rows == len(inputs) == len(scored)
    assert (scored["model_version"] == model.version).all()
    expected = model.artifact.decide(inputs)
    assert np.array_equal(scored["decision"].astype(str), pd.Series(expected).astype(str))

    broken = tmp_path / "broken.csv"
    dropped = model.artifact.metadata.input_schema[0].name
    inputs.drop(columns=[dropped]).to_csv(broken, index=False)
    with pytest.raises(DataError, match=rf"broken\.csv: input is missing columns \['{dropped}'\]"):
        batch.score(model, str(broken), scored_path, chunk_rows=400)
    assert pd.read_parquet(scored_path).equals(scored)  # the earlier output is untouched


def test_batch_scores_a_directory_of_parts_in_order(pipeline_run: Path, tmp_path: Path) -> None:
    """A table written as parts (the dask engine's data/raw/production.parquet/, an
    export a file a day) is scored part after part, an empty part adding no row."""
    model = loading.from_dir(pipeline_run / "models/package", unregistered=True)
    inputs = pd.read_parquet(scoring_input(pipeline_run))
    parts = tmp_path / "batch.parquet"
    parts.mkdir()
    inputs.iloc[:300].to_parquet(parts / "part-0.parquet", index=False)
    inputs.iloc[:0].to_parquet(parts / "part-1.parquet", index=False)
    inputs.iloc[300:].to_parquet(parts / "part-2.parquet", index=False)
    whole, in_parts = tmp_path / "whole.parquet", tmp_path / "parts.parquet"
    batch.score(model, str(scoring_input(pipeline_run)), whole, chunk_rows=400)
    assert batch.score(model, str(parts), in_parts, chunk_rows=400) == len(inputs)
    assert pd.read_parquet(in_parts).equals(pd.read_parquet(whole))


def test_batch_reads_a_sql_table(
    pipeline_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy

    database = tmp_path / "scoring.sqlite"
    engine = sqlalchemy.create_engine(f"sqlite:///{database}")
    rows = pd.read_parquet(scoring_input(pipeline_run)).head(300)
    rows.to_sql("customers", engine, index=False)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    model = loading.from_dir(pipeline_run / "models/package", unregistered=True)
    scored = batch.score(model, "sql:customers", tmp_path / "scored.csv", chunk_rows=100)
    assert scored == len(rows) > 0
    with pytest.raises(DataError, match="sql:nowhere: no such table"):
        batch.score(model, "sql:nowhere", tmp_path / "other.csv", chunk_rows=100)


class Shell(BaseEstimator, TransformerMixin):
    """A transformer from outside the allow-list: loading it would mean trusting this code."""

    def fit(self, X: Any, y: Any = None) -> Shell:
        return self

    def transform(self, X: Any) -> Any:
        return X


def test_the_artifact_refuses_types_outside_the_allow_list(
    tmp_path: Path, pipeline_run: Path
) -> None:
    with pytest.raises(ArtifactError, match="cannot be loaded safely"):
        content = artifact.load(pipeline_run / "models/package").metadata
        artifact.save(tmp_path / "refused", Pipeline([("shell", Shell())]), content)
    assert not (tmp_path / "refused" / artifact.MODEL_FILE).exists()

    # A package whose model file was swapped for one with foreign types, hash and all.
    folder = tmp_path / "swapped"
    shutil.copytree(pipeline_run / "models/package", folder)
    sio.dump(Pipeline([("shell", Shell())]), folder / artifact.MODEL_FILE)
    meta = json.loads((folder / artifact.METADATA_FILE).read_text())
    meta["sha256"] = artifact.sha256_of(folder / artifact.MODEL_FILE)
    meta["digest"] = artifact.digest_of(meta)
    meta["version"] = meta["digest"][:12]
    (folder / artifact.METADATA_FILE).write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="refusing to load untrusted types"):
        artifact.load(folder)


def test_the_service_imports_without_pipeline_tools() -> None:
    """The image installs only core + serve: no DVC, Great Expectations, Hydra or locust."""
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'dvc', 'great_expectations', 'hydra', 'gto', 'locust'}:\n"
        "            raise ImportError(f'{name} is not in the image')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import mllifecycle.serving.app, mllifecycle.serving.batch\n"
    )
    result = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_category_of_numbers_takes_the_number_that_spells_it() -> None:
    """A category column the table holds as numbers (tiers 1-4) is text from ingest on, so
    the service took only "2"; batch scoring took 2. Now a JSON number that spells a known
    category is that category; any other number is refused naming the field."""
    tiers = CategoricalInput(
        name="tier", kind="categorical", nullable=False, categories=["1", "2", "3", "4"]
    )
    plan = CategoricalInput(
        name="plan", kind="categorical", nullable=False, categories=["basic", "premium"]
    )
    record = schema.record_model([tiers, plan], None, [])
    for sent in (2, 2.0, "2"):
        assert record.model_validate({"tier": sent, "plan": "basic"}).model_dump()["tier"] == "2"
    for bad, field in ((7, "tier"), (2.5, "tier"), (True, "tier"), (1, "plan")):
        with pytest.raises(ValidationError) as refused:
            record.model_validate(
                {"tier": bad if field == "tier" else "1", "plan": 1 if field == "plan" else "basic"}
            )
        assert [error["loc"] for error in refused.value.errors()] == [(field,)], bad
    documented = record.model_json_schema()["properties"]["tier"]
    assert {"type": "integer", "enum": [1, 2, 3, 4]} in documented["anyOf"]
