"""Personas and voices come from the same configs/ catalog the worker renders with."""

from __future__ import annotations

from engine.catalog import Catalog
from engine.settings import REPO_ROOT


def test_personas_are_listed_in_the_envelope_and_readable_one_by_one(account):
    catalog = Catalog(REPO_ROOT / "configs")
    listed = account.client.get("/api/v1/personas").json()
    assert [p["id"] for p in listed["items"]] == [p.id for p in catalog.personas()]
    assert (listed["total"], listed["page"], listed["total_pages"]) == (len(catalog.personas()), 1, 1)
    grace = account.client.get("/api/v1/personas/grace").json()
    assert (grace["name"], grace["voice_id"]) == ("Grace", "ruth") and "Hopper" in grace["attribution"]
    second_page = account.client.get("/api/v1/personas", params={"page": 2, "page_size": 1}).json()
    assert [p["id"] for p in second_page["items"]] == [catalog.personas()[1].id]


def test_voices_are_listed_and_readable(account):
    listed = account.client.get("/api/v1/voices").json()
    assert [v["id"] for v in listed["items"]] == ["ava", "joe", "ruth"]
    assert account.client.get("/api/v1/voices/joe").json() == {
        "id": "joe", "name": "Joe", "language": "en_US", "backend": "piper",
        "description": Catalog(REPO_ROOT / "configs").voice("joe").description}
    ava = account.client.get("/api/v1/voices/ava").json()
    assert (ava["name"], ava["language"]) == ("Ava", "en_US") and "Change gender" in ava["description"]


def test_unknown_personas_and_voices_are_404(account):
    for path in ("/api/v1/personas/nobody", "/api/v1/voices/nobody"):
        response = account.client.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
