"""Store backends for the tests: every store test runs on SQLite and on PostgreSQL.

SQLite stores are files in the test's temporary directory. PostgreSQL needs a server:
``COMPCALC_TEST_POSTGRES_URL`` names a database on it (``.ci/run`` starts a throwaway server
and sets it); without it the PostgreSQL variants are skipped, saying so. Each PostgreSQL store
gets a fresh schema of its own (the URL's ``search_path``), dropped when the test ends, so
tests never see each other's data, even when several test runs share the database.

``COMPCALC_TEST_POSTGRES_REQUIRED=1`` (set by ``.ci/run``) turns that skip into a failure, so
CI cannot pass without running them. ``pytest -m postgresql`` runs only the PostgreSQL ones.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from compcalc.store.store import store_url as resolve_url

POSTGRES_ENV = "COMPCALC_TEST_POSTGRES_URL"
REQUIRED_ENV = "COMPCALC_TEST_POSTGRES_REQUIRED"
SKIP_REASON = (
    f"PostgreSQL tests need {POSTGRES_ENV} (.ci/run starts a server and sets it), "
    "e.g. postgresql://user:pw@localhost/compcalc_test"
)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]
_names = itertools.count(1)

NewUrl = Callable[[], str]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"postgresql: runs against a PostgreSQL server ({POSTGRES_ENV})"
    )


class StoreUrls:
    """Fresh, empty store URLs of one backend; :meth:`close` drops what they created."""

    def __init__(self, backend: str, directory: Path) -> None:
        self.backend = backend
        self.directory = directory
        self.schemas: list[str] = []
        self.admin: Engine | None = None
        if backend == "postgresql":
            base = os.environ.get(POSTGRES_ENV)
            if not base:
                if os.environ.get(REQUIRED_ENV):
                    pytest.fail(f"{REQUIRED_ENV} is set but {POSTGRES_ENV} is not")
                pytest.skip(SKIP_REASON)
            self.base = resolve_url(base)
            self.admin = create_engine(self.base)

    def __call__(self) -> str:
        number = next(_names)
        if self.admin is None:
            return f"sqlite:///{self.directory / f'compcalc-{number}.db'}"
        schema = f"compcalc_test_{os.getpid()}_{number}"
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.schemas.append(schema)
        fresh = self.base.update_query_dict({"options": f"-csearch_path={schema}"})
        return fresh.render_as_string(hide_password=False)

    def close(self) -> None:
        if self.admin is None:
            return
        with self.admin.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))  # a leaked session fails here
            for schema in self.schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(params=BACKENDS)
def new_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewUrl]:
    """A maker of fresh empty store URLs (SQLite file, or PostgreSQL schema) for one test."""
    urls = StoreUrls(request.param, tmp_path)
    yield urls
    urls.close()


@pytest.fixture
def store_backend(new_store_url: NewUrl) -> str:
    """The backend ``new_store_url`` makes stores on: ``sqlite`` or ``postgresql``."""
    assert isinstance(new_store_url, StoreUrls)
    return new_store_url.backend


@pytest.fixture(scope="module", params=BACKENDS)
def module_store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty store shared by one module's tests, once per backend."""
    urls = StoreUrls(request.param, tmp_path_factory.mktemp("store"))
    yield urls()
    urls.close()
