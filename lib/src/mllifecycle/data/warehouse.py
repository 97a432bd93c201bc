"""The SQL example: the demo's tables in a database, read back through `sql:TABLE`.

By default the database is an embedded SQLite file, so the example needs no
server; any SQLAlchemy URL in $DATABASE_URL works the same (PostgreSQL with the
`sql` extra: postgresql+psycopg://user@host/db, the password in $PGPASSWORD or
~/.pgpass, never in a file in git).

    make demo-db                        # the demo tables into $DATABASE_URL
    # conf/config.yaml: data: warehouse # ingest reads sql:customers, sql:production
"""

from __future__ import annotations

import os

import pandas as pd
import sqlalchemy

from ..config import DemoConfig, load_params
from ..io import database_url
from . import demo

TABLES = ("customers", "production")


def write_tables(url: str, tables: dict[str, pd.DataFrame]) -> None:
    """Create (or replace) each table in one transaction: all of them or none."""
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(url.removeprefix("sqlite:///")) or ".", exist_ok=True)
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            for name, frame in tables.items():
                frame.to_sql(name, connection, if_exists="replace", index=False, chunksize=10_000)
    finally:
        engine.dispose()


def main() -> None:
    params = load_params()
    url = database_url()
    generator = params.data.demo or DemoConfig(n_rows=20_000, n_production_rows=4_000, seed=42)
    history, production = demo.generate(
        params.problem, generator.n_rows, generator.n_production_rows, generator.seed
    )
    write_tables(url, dict(zip(TABLES, (history, production), strict=True)))
    shown = sqlalchemy.make_url(url).render_as_string(hide_password=True)
    print(f"wrote {len(history)} customers and a production batch of {len(production)} to {shown}")


if __name__ == "__main__":
    main()
