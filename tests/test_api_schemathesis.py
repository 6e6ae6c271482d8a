"""The API against its own OpenAPI document, with Schemathesis: for every operation under
`/api/v1`, a bounded number of generated requests (valid and invalid, a fixed seed,
derandomized) must never get a server error, never an undocumented status code, and every
answer must match its documented schema.

The requests are signed in, so the authenticated paths are exercised too: Alice's customer
token for the customer API, a supervisor's token for the staff API (staff paths, policies,
figures). Signing out ends a throwaway session instead of Alice's. SQLite only (it runs in a
little over a minute)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from sanbuting.store.database import make_engine, sessions
from sanbuting.store.web_models import Customer
from test_api_world import World, build_world, make_app, new_session

SEED = 20200203
MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
STAFF_PATHS = ("/api/v1/staff/", "/api/v1/policies", "/api/v1/figures")


FOLDER = Path(tempfile.mkdtemp(prefix="sanbuting-schemathesis-"))
atexit.register(shutil.rmtree, FOLDER, True)
APP = make_app(f"sqlite:///{FOLDER / 'store.db'}")
"""The application under test; its store is built by the `world` fixture before the first
request (loading the OpenAPI document at import time touches no database). Schemathesis
loads the schema at import: its lazy `from_fixture` does not work with pytest 9."""

schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(path_regex=r"^/api/v1/")
schema.config.seed = SEED
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    yield build_world(f"sqlite:///{FOLDER / 'store.db'}", FOLDER, daily=True)
    APP.state.engine.dispose()


def throwaway_token(world: World) -> str:
    """A new session of Carol's, for a sign-out to end."""
    engine = make_engine(world.url)
    with sessions(engine).begin() as session:
        carol = session.scalar(select(Customer).where(Customer.phone == "13900000003"))
        assert carol is not None
        token = new_session(session, customer_id=carol.id)
    engine.dispose()
    return token


@schema.parametrize()
def test_the_api_keeps_its_contract(case: Any, world: World) -> None:
    path = case.operation.path
    if path.endswith("/auth/signout"):
        token = throwaway_token(world)
    elif path.startswith(STAFF_PATHS):
        token = world.tokens["super_p"]
    else:
        token = world.tokens["alice"]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def test_every_operation_documents_its_errors_as_problems() -> None:
    """A route that can refuse declares it (what Schemathesis holds the answers to)."""
    document = make_app("sqlite://").openapi()
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            for status in statuses - {"200", "201", "202", "204"}:
                content = operation["responses"][status]["content"]
                assert "application/problem+json" in content, (method, path, status)
            if path != "/api/v1/business-types" and not path.startswith("/api/v1/auth/"):
                assert "401" in statuses, (method, path)
            if "{" in path or operation.get("parameters") or "requestBody" in operation:
                assert "422" in statuses, (method, path)
