"""Property-based fuzzing of every operation in the generated OpenAPI schema (schemathesis):
no input, valid or not, may produce a 5xx or a response the schema does not describe.

Schemathesis's pytest plugin does not run under this pytest (9.x), so each operation is a
parametrized test that draws cases from schemathesis's own strategies with Hypothesis.
"""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import ApiSettings
from tests.api.support import ADMIN_TOKEN, Account, ApiServer

EXAMPLES_PER_OPERATION = 40  # 36 operations: about half a minute on two cores
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]

# The schema the server publishes, built in-process (no server, no database touched) so the
# operations are known when tests are collected.
SCHEMA = schemathesis.openapi.from_dict(create_app(ApiSettings(database_url="sqlite://")).openapi())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


# Ids of things that must exist (a persona, a template...) are almost never generated right, so
# valid bodies leave them out and get through to the job itself; tests/api/test_jobs.py and
# test_templates.py cover those references.
REFERENCES = ("persona_id", "template_id", "custom_music_id", "webhook_url")


def without_references(case):
    if isinstance(case.body, dict):
        for name in REFERENCES:
            case.body.pop(name, None)
        if isinstance(case.body.get("voice_settings"), dict):
            case.body["voice_settings"].pop("voice_id", None)
    return case


@pytest.fixture(scope="module")
def fuzz_account(server: ApiServer) -> Account:
    return server.new_account(credits=10**8, max_concurrent_jobs=10_000, daily_job_limit=1_000_000)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_operation_answers_5xx_or_off_schema(operation, server: ApiServer, fuzz_account: Account):
    auth = {"X-API-Key": fuzz_account.key, "X-Admin-Token": ADMIN_TOKEN}
    cases = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE).map(without_references),
                      operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def call(case) -> None:
        # Generated credentials would only ever be refused (a generated JWT wins over the key).
        for name in ("Authorization", "X-API-Key", "X-Admin-Token"):
            (case.headers or {}).pop(name, None)
        case.call_and_validate(base_url=server.url, headers=auth, timeout=30, checks=CHECKS)

    call()
