"""Faults injected into a good dataset: each stops its gate with a message that
names it, and nothing downstream of the gate changes.

A good run of the data stages (ingest to validate_features, and the production
check) on a file source comes first; each fault then replaces the source file in a
copy of that run. A fault in the production batch is caught by its own check, off
the training path, in a copy of the whole pipeline run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mllifecycle.compose import (
    composed,
)
from mllifecycle.config import (
    Params,
    parse_params,
)
from mllifecycle.data import (
    demo,
)
from mllifecycle.errors import (
    DataError,
    GateError,
)

from .conftest import ROOT, requires_demo, run_stages

# Faults injected into the demo's columns, caught by the reviewed demo suites in gx/.
pytestmark = requires_demo

SOURCE = Path("data/external/customers.parquet")
DATA_STAGES = (
    "ingest",
    "validate_raw",
    "prepare",
    "featurize",
    "validate_features",
    "validate_production",
)
# The stages that train and package a model from the raw data: none reads the batch.
TRAINING_STAGES = (
    "validate_raw",
    "prepare",
    "featurize",
    "validate_features",
    "train",
    "evaluate",
    "package",
)
# What a failing gate must leave as it was: every output of the stages after it.
DOWNSTREAM = {
    "ingest": ("data/raw", "data/prepared", "data/features", "reports/validation"),
    "validate_raw": ("data/prepared", "data/features", "reports/validation"),
    "validate_features": ("reports/validation/features.json",),
    # Outside the training path: what training wrote before it stays as it was.
    "validate_production": (
        "data/prepared",
        "data/features",
        "reports/validation/raw.json",
        "reports/validation/features.json",
    ),
}

Fault = Callable[[pd.DataFrame, Params], pd.DataFrame | bytes]


def leaked_label(frame: pd.DataFrame, params: Params) -> pd.DataFrame:
    """A feature that is the label in disguise (a monotone recoding, within range)."""
    ranks = frame[params.problem.target].rank(method="dense")
    return frame.assign(usage_hours=(ranks - 1) / max(ranks.max() - 1, 1) * 700)


def rows_from_the_future(frame: pd.DataFrame, params: Params) -> pd.DataFrame:
    column = params.data.time_column
    assert column is not None
    future = frame.copy()
    future.loc[future.index[:5], column] = pd.Timestamp.now() + pd.Timedelta(days=400)
    return future


def events_after_the_snapshot(frame: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Time leakage: the login a feature counts from happened after the prediction time."""
    leaked = frame.copy()
    leaked.loc[leaked.index[:5], "last_login_date"] += pd.Timedelta(days=400)
    return leaked


def with_value(column: str, value: float | str | None, rows: int | None = 3) -> Fault:
    def inject(frame: pd.DataFrame, params: Params) -> pd.DataFrame:
        name = params.problem.target if column == "<target>" else column
        broken = frame.copy()
        if rows is None:
            broken[name] = value
        else:
            broken[name] = broken[name].astype(object)
            broken.loc[broken.index[:rows], name] = value
        return broken

    return inject


FAULTS: dict[str, tuple[Fault, str, tuple[str, ...]]] = {
    "missing column": (
        lambda f, p: f.drop(columns=["region"]),
        "validate_raw",
        ("expect_table_columns_to_match_set", "missing ['region']"),
    ),
    "renamed column": (
        lambda f, p: f.rename(columns={"region": "sales_region"}),
        "validate_raw",
        ("missing ['region']",),
    ),
    "dtype change": (
        lambda f, p: f.assign(tenure_months=f["tenure_months"].astype(str)),
        "validate_raw",
        ("column 'tenure_months': expect_column_values_to_be_of_type",),
    ),
    "nulls in the target": (
        with_value("<target>", None),
        "validate_raw",
        ("expect_column_values_to_not_be_null",),
    ),
    "out-of-range values": (
        with_value("monthly_charges", -40.0),
        "validate_raw",
        ("column 'monthly_charges': expect_column_values_to_be_between", "-40.0"),
    ),
    "unseen category": (
        with_value("plan", "platinum"),
        "validate_raw",
        ("column 'plan': expect_column_values_to_be_in_set", "platinum"),
    ),
    "empty file": (lambda f, p: b"", "ingest", (str(SOURCE), "cannot be read")),
    "truncated parquet": (
        lambda f, p: _parquet_bytes(f)[: len(_parquet_bytes(f)) // 2],
        "ingest",
        (str(SOURCE), "cannot be read"),
    ),
    "duplicate ids": (
        lambda f, p: f.assign(customer_id=f["customer_id"].where(f.index % 2 == 0, "C-dup")),
        "validate_raw",
        ("column 'customer_id': expect_column_values_to_be_unique",),
    ),
    # One class to learn from gives a model that always says the same thing.
    "a target with one class": (
        lambda f, p: f.assign(**{p.problem.target: f[p.problem.target].iloc[0]}),
        "validate_raw",
        ("column '<target>': expect_column_unique_value_count_to_be_between",),
    ),
    "constant column": (
        with_value("support_tickets", 3, rows=None),
        "validate_raw",
        ("column 'support_tickets': expect_column_unique_value_count_to_be_between",),
    ),
    "leaked label column": (leaked_label, "validate_features", ("usage_hours", "leak")),
    "rows from the future": (
        rows_from_the_future,
        "validate_raw",
        ("column 'snapshot_date': expect_column_values_to_be_between",),
    ),
    "feature timestamps after the label time": (
        events_after_the_snapshot,
        "validate_raw",
        ("column 'last_login_date': expect_column_pair_values_a_to_be_greater_than_b",),
    ),
}


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def digests(folder: Path, locations: tuple[str, ...]) -> dict[str, str]:
    files = []
    for location in locations:
        path = folder / location
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Params]]:
    folder = tmp_path_factory.mktemp("faults")
    overrides = ["data.source=file", f"data.path={SOURCE}", "data.production_path=null"]
    params = parse_params(composed(overrides, ROOT / "conf"))
    (folder / "params.yaml").write_text(yaml.safe_dump(params.model_dump(mode="json")))
    shutil.copytree(ROOT / "gx", folder / "gx")
    rows = params.problem.constraints.min_rows + 1000
    history, _ = demo.generate(params.problem, rows, 0, seed=11)
    (folder / SOURCE).parent.mkdir(parents=True)
    history.to_parquet(folder / SOURCE)
    run_stages(folder, DATA_STAGES)
    yield folder, params


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_is_caught_by_its_gate_and_loses_nothing(
    good_run: tuple[Path, Params], tmp_path: Path, fault: str
) -> None:
    good, params = good_run
    inject, gate, expected = FAULTS[fault]
    folder = tmp_path / "run"
    shutil.copytree(good, folder)
    kept = digests(folder, DOWNSTREAM[gate])
    assert kept, "the good run wrote what the gate protects"

    broken = inject(pd.read_parquet(good / SOURCE), params)
    if isinstance(broken, bytes):
        (folder / SOURCE).write_bytes(broken)
    else:
        broken.to_parquet(folder / SOURCE)

    upstream = DATA_STAGES[: DATA_STAGES.index(gate)]
    run_stages(folder, upstream)
    with pytest.raises((GateError, DataError)) as caught:
        run_stages(folder, (gate,))
    message = str(caught.value)
    for part in (part.replace("<target>", params.problem.target) for part in expected):
        assert part in message, f"{fault}: {part!r} not in\n{message}"
    assert digests(folder, DOWNSTREAM[gate]) == kept
    if gate == "validate_raw":  # the failed run's Data Docs show what failed, for a person
        assert "Data Docs: reports/data_docs/raw/dataset/index.html" in message
        pages = list((folder / "reports/data_docs/raw/dataset/validations").rglob("*.html"))
        failed_status = '<i class="fas fa-times text-danger" aria-hidden="true"></i> Failed'
        assert any(failed_status in page.read_text() for page in pages)


def test_an_empty_production_batch_is_a_failed_export_not_a_quiet_day(
    good_run: tuple[Path, Params], tmp_path: Path
) -> None:
    good, params = good_run
    folder = tmp_path / "run"
    shutil.copytree(good, folder)
    kept = digests(folder, DOWNSTREAM["validate_production"])
    batch = Path("data/external/production.parquet")
    pd.read_parquet(good / SOURCE).iloc[0:0].to_parquet(folder / batch)
    configured = params.model_dump(mode="json")
    configured["data"]["production_path"] = str(batch)
    (folder / "params.yaml").write_text(yaml.safe_dump(configured))
    run_stages(folder, ("ingest",))
    with pytest.raises(GateError) as caught:
        run_stages(folder, ("validate_production",))
    assert "production (suite 'serving'): table: expect_table_row_count_to_be_between" in str(
        caught.value
    )
    assert digests(folder, DOWNSTREAM["validate_production"]) == kept
    # The empty batch blocks nothing on the training path.
    run_stages(folder, ("validate_raw", "prepare", "featurize", "validate_features"))


def test_the_good_dataset_passes_every_gate(good_run: tuple[Path, Params]) -> None:
    folder, _ = good_run
    assert (folder / "reports/validation/raw.json").exists()
    assert (folder / "reports/validation/features.json").exists()
    assert (
        np.isfinite(pd.read_parquet(folder / "data/features/train.parquet").select_dtypes("number"))
        .all()
        .all()
    )


def test_a_unit_change_in_production_fails_its_check_not_the_retrain(
    pipeline_run: Path, tmp_path: Path
) -> None:
    """Charges in cents, not euros, in the production batch only: training still runs
    green, the production check stops loudly naming the column, the monitor reports it."""
    folder = tmp_path / "run"
    shutil.copytree(pipeline_run, folder)
    batch = folder / "data/raw/production.parquet"
    production = pd.read_parquet(batch)
    production.assign(monthly_charges=production["monthly_charges"] * 100).to_parquet(batch)

    run_stages(folder, TRAINING_STAGES)  # the retrain the shift calls for is not blocked
    trained = ("models", "metrics", "reports/verdict.json", *DOWNSTREAM["validate_production"])
    kept = digests(folder, trained)
    with pytest.raises(GateError) as caught:
        run_stages(folder, ("validate_production",))
    lines = str(caught.value).splitlines()
    skewed = [line for line in lines if "production_matches_training" in line]
    assert len(skewed) == 1, lines
    where = "validate_production: production vs training (suite 'skew'): "
    assert skewed[0].strip().startswith(where + "column 'monthly_charges'")
    assert "training std apart" in skewed[0]
    assert digests(folder, trained) == kept

    run_stages(folder, ("monitor",))  # as `python -m ...stages.monitor` after the failure
    summary = json.loads((folder / "reports/monitor.json").read_text())
    checks = summary["production_checks"]
    assert not checks["passed"]
    assert any("column 'monthly_charges'" in line for line in checks["failures"])
    assert "monthly_charges" in summary["drifted"]
    page = (folder / "reports/monitor.html").read_text()
    assert "failed its production checks" in page and "monthly_charges" in page
