"""The SQL example against a real PostgreSQL server, as a user switches to it:
`make demo-db` into the database, `data: warehouse`, then the pipeline's data gate.

Runs where TEST_DATABASE_URL names a server (a SQLAlchemy URL, the password in
$PGPASSWORD): `.ci/run` starts one from Debian's packages when it can, the
template's GitHub workflow uses a service container.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import GeneratedEnv, bake, run

URL = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not URL, reason="no PostgreSQL server in TEST_DATABASE_URL")


def test_postgres_tables_feed_the_gate_and_a_broken_table_is_stopped(
        tmp_path: Path, generated_env: GeneratedEnv) -> None:
    assert URL is not None
    project = bake(tmp_path, module_name="warehouse_demo", project_name="warehouse demo")
    generated_env.install(project)
    env = {**generated_env.env(), "DATABASE_URL": URL}
    make = ["make", f"VENV={generated_env.root}"]
    root = project / "conf/config.yaml"
    root.write_text(root.read_text().replace("data: demo", "data: warehouse"))

    wrote = run([*make, "params", "demo-db"], cwd=project, env=env).stdout
    assert "wrote 20000 customers and a production batch of 4000" in wrote
    assert "to postgresql+psycopg://" in wrote
    out = run(["dvc", "repro", "prepare", "validate_production"], cwd=project, env=env).stdout
    assert "ingested 20000 rows and a production batch of 4000 rows" in out
    passed = [*json.loads((project / "reports/validation/raw.json").read_text()),
              *json.loads((project / "reports/validation/production.json").read_text())]
    assert [(r["suite"], r["dataset"]) for r in passed if r["passed"]] == [
        ("raw", "dataset"), ("time zones", "dataset"), ("target classes", "dataset"),
        ("serving", "production"), ("time zones", "production"),
        ("skew", "production vs training")]
    train = (project / "data/prepared/train.parquet").read_bytes()

    # Upstream renames a column; the retrain re-reads the table and stops at the gate.
    script = ("import os, sqlalchemy; e = sqlalchemy.create_engine(os.environ['DATABASE_URL'])\n"
              "with e.begin() as c: c.execute(sqlalchemy.text("
              "'ALTER TABLE customers RENAME COLUMN region TO sales_region'))")
    run(["python", "-c", script], cwd=project, env=env)
    failed = run([*make, "retrain"], cwd=project, env=env, check=False)
    assert failed.returncode != 0
    assert "validate_raw: dataset (suite 'raw')" in failed.stderr + failed.stdout
    assert "missing ['region']" in failed.stderr + failed.stdout
    # DVC clears the gate's own report before it runs; what follows the gate stays.
    assert (project / "data/prepared/train.parquet").read_bytes() == train
    assert (project / "reports/data_docs/raw/dataset/index.html").exists()
