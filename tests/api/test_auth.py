"""Authentication over real HTTP: API keys (create, list, revoke, expiry), JWTs, and which wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from api.auth import mint_token
from tests.api.support import ApiServer, job_body


def unauthorized(reason: str, message: str) -> dict:
    return {"error": {"code": "UNAUTHORIZED", "message": message, "details": {"reason": reason}}}


def test_a_request_without_credentials_gets_the_401_error_body(server: ApiServer):
    response = server.client().get("/api/v1/jobs")
    assert response.status_code == 401
    assert response.json() == unauthorized("missing_credentials", "Missing API key or bearer token")


def test_an_unknown_api_key_is_refused(server: ApiServer):
    response = server.client(**{"X-API-Key": "ugen_sk_not-a-real-key"}).get("/api/v1/jobs")
    assert response.status_code == 401
    assert response.json() == unauthorized("invalid_api_key", "Invalid API key")


def test_a_created_key_works_is_listed_masked_and_stops_working_once_revoked(server: ApiServer, account):
    created = account.client.post("/api/v1/api-keys", json={"name": "ci"})
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("ugen_sk_") and created.json()["key_prefix"] == f"ugen_sk_...{key[-4:]}"
    second = server.client(**{"X-API-Key": key})
    assert second.get("/api/v1/credits/balance").status_code == 200
    listed = account.client.get("/api/v1/api-keys").json()
    assert listed["total"] == 2 and key not in str(listed)
    assert {k["name"] for k in listed["items"]} == {"initial key", "ci"}
    assert next(k for k in listed["items"] if k["name"] == "ci")["last_used_at"] is not None
    assert account.client.delete(f"/api/v1/api-keys/{created.json()['id']}").status_code == 204
    assert second.get("/api/v1/credits/balance").json() == unauthorized("invalid_api_key", "Invalid API key")
    assert account.client.delete(f"/api/v1/api-keys/{created.json()['id']}").status_code == 404


def test_an_expired_key_is_refused(server: ApiServer, account):
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    key = account.client.post("/api/v1/api-keys", json={"name": "old", "expires_at": past}).json()["key"]
    response = server.client(**{"X-API-Key": key}).get("/api/v1/jobs")
    assert response.status_code == 401 and response.json()["error"]["details"]["reason"] == "api_key_expired"


def test_one_account_cannot_revoke_or_see_another_accounts_keys(server: ApiServer, account):
    other = server.new_account()
    key_id = account.client.get("/api/v1/api-keys").json()["items"][0]["id"]
    assert other.client.delete(f"/api/v1/api-keys/{key_id}").status_code == 404
    assert other.client.get("/api/v1/api-keys").json()["total"] == 1


def test_a_bearer_jwt_signed_with_the_secret_authenticates_its_account(server: ApiServer, account):
    token = mint_token(server.jwt_secret, account.id)
    response = server.client(Authorization=f"Bearer {token}").get("/api/v1/credits/balance")
    assert response.status_code == 200 and response.json()["available_credits"] == 1000


def test_the_jwt_wins_when_both_a_jwt_and_an_api_key_are_sent(server: ApiServer, account):
    other = server.new_account()
    job_id = other.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    both = server.client(**{"X-API-Key": account.key, "Authorization": f"Bearer {mint_token(server.jwt_secret, other.id)}"})
    assert [j["job_id"] for j in both.get("/api/v1/jobs").json()["items"]] == [job_id]
    bad_jwt = server.client(**{"X-API-Key": account.key, "Authorization": "Bearer not.a.jwt"})
    assert bad_jwt.get("/api/v1/jobs").json() == unauthorized("invalid_token", "Invalid bearer token")


def test_expired_wrongly_signed_and_non_hs256_tokens_are_refused(server: ApiServer, account):
    expired = mint_token(server.jwt_secret, account.id, ttl_s=-10)
    wrong_secret = mint_token("another-secret-of-enough-length-0123", account.id)
    no_exp = jwt.encode({"sub": account.id}, server.jwt_secret, algorithm="HS256")
    none_alg = jwt.encode({"sub": account.id, "exp": 9999999999}, None, algorithm="none")
    reasons = [server.client(Authorization=f"Bearer {t}").get("/api/v1/jobs").json()["error"]["details"]["reason"]
               for t in (expired, wrong_secret, no_exp, none_alg)]
    assert reasons == ["token_expired", "invalid_token", "invalid_token", "invalid_token"]


def test_a_token_for_an_account_that_does_not_exist_is_refused(server: ApiServer):
    token = mint_token(server.jwt_secret, "00000000-0000-0000-0000-000000000000")
    response = server.client(Authorization=f"Bearer {token}").get("/api/v1/jobs")
    assert response.json() == unauthorized("unknown_account", "Unknown account")


def test_a_disabled_account_gets_403(server: ApiServer, account):
    assert server.admin().patch(f"/admin/v1/accounts/{account.id}", json={"disabled": True}).status_code == 200
    response = account.client.get("/api/v1/jobs")
    assert response.status_code == 403
    assert response.json() == {"error": {"code": "ACCOUNT_DISABLED", "message": "This account is disabled",
                                         "details": {}}}


def test_admin_endpoints_refuse_a_missing_or_wrong_admin_token(server: ApiServer):
    for client in (server.client(), server.client(**{"X-Admin-Token": "guess"})):
        response = client.post("/admin/v1/accounts", json={"name": "x"})
        assert response.status_code == 401 and response.json()["error"]["code"] == "UNAUTHORIZED"
