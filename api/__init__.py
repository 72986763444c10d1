"""The reference control plane: U-Gen's REST API in front of the ugen-engine worker.

    from api import create_app, ApiSettings
    app = create_app(ApiSettings.from_env())      # python -m api serves it (docs/api.md)

Contents: `app` (FastAPI app and background loops), `routes/` (one router per resource),
`jobs` (create/cancel/retry), `events` (worker progress), `ledger` and `pricing` (credits),
`limits`, `templates`, `webhooks`, `dispatch` (queue and sweeper), `auth`, `models` + `migrations`.
"""

from api.settings import ApiSettings


def create_app(settings: ApiSettings | None = None):  # FastAPI is imported only when an app is made
    from api.app import create_app as _create

    return _create(settings)


__all__ = ["ApiSettings", "create_app"]
