"""The migrations build exactly the schema the models describe, on PostgreSQL and SQLite, and
running them again changes nothing."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from api.db import make_engine, migrate
from api.tables import Base


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_url(request, new_database, tmp_path) -> str:
    return new_database() if request.param == "postgresql" else f"sqlite:///{tmp_path}/fresh.sqlite3"


def test_the_migrated_schema_matches_the_models_and_a_second_run_is_a_no_op(fresh_url: str):
    engine = make_engine(fresh_url)
    try:
        migrate(engine)
        migrate(engine)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            tables = set(inspect(connection).get_table_names())
        assert differences == []
        assert tables == {*Base.metadata.tables, "alembic_version"}
    finally:
        engine.dispose()
