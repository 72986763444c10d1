"""docs/openapi.json is the app's schema: a change to a route or a model without regenerating
the committed document fails here, with the command that regenerates it."""

from __future__ import annotations

import difflib
import json

from api.openapi_doc import REGENERATE, document
from engine.settings import REPO_ROOT

COMMITTED = REPO_ROOT / "docs" / "openapi.json"


def test_the_committed_openapi_document_is_the_apps_schema():
    current, committed = document(), COMMITTED.read_text(encoding="utf-8")
    diff = "".join(list(difflib.unified_diff(committed.splitlines(True), current.splitlines(True),
                                             "docs/openapi.json (committed)", "the app's schema", n=1))[:60])
    assert current == committed, f"docs/openapi.json is out of date; regenerate it with\n    {REGENERATE}\n{diff}"


def test_the_document_lists_every_public_endpoint_with_u_gens_shapes():
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for path in ("/api/v1/models", "/api/v1/music/catalog", "/api/v1/music/custom", "/api/v1/templates",
                 "/readyz", "/metrics"):
        assert path in schema["paths"], path
    models = schema["paths"]["/api/v1/models"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert models["type"] == "array"
    upload = schema["paths"]["/api/v1/music/custom"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"413", "415"} <= set(upload["responses"])
