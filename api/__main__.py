"""`ugen-api` (or `python -m api`, what `make api` runs): the control plane, and its operator commands.

    ugen-api                                       # serve on UGEN_API_HOST:UGEN_API_PORT (127.0.0.1:8000)
    ugen-api serve --port 8080
    python -m api migrate                          # alembic upgrade head, then exit
    python -m api create-account --name acme --credits 1000     # prints the account id and an API key
    python -m api token ACCOUNT_ID [--ttl-s 3600]  # an HS256 JWT signed with UGEN_API_JWT_SECRET

Settings come from the environment (api/settings.py; docs/api.md lists them). The database is
the embedded SQLite at <data dir>/api.sqlite3 (UGEN_DATA_DIR: out/ in a checkout, else
~/.local/share/ugen-engine) unless UGEN_API_DATABASE_URL names another. Without
UGEN_API_JWT_SECRET and UGEN_API_CALLBACK_SECRET (or their _FILE variants) every command exits
with status 2 and says so, unless UGEN_API_DEV=1 (`make api`) lets it keep generated ones in
<data dir>/api-secrets.json. Secrets are never taken from the command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys

from api.settings import ApiSettings, MissingSecret, describe
from engine.log_format import log_format_from_env, use_json_logs
from engine.settings import SettingsError

EXIT_CONFIG = 78  # sysexits' EX_CONFIG


def _serve(settings: ApiSettings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = dataclasses.replace(settings, host=args.host or settings.host, port=args.port or settings.port)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=args.log_level)
    return 0


def _migrate(settings: ApiSettings, _args: argparse.Namespace) -> int:
    from api.db import make_engine, migrate

    migrate(make_engine(settings.database_url))
    return 0


def _create_account(settings: ApiSettings, args: argparse.Namespace) -> int:
    from api.context import AppContext
    from api.db import migrate
    from api.routes.admin import AccountIn, create_account

    ctx = AppContext.build(settings)
    migrate(ctx.engine)
    created = create_account(ctx, AccountIn(name=args.name, credits=args.credits))
    print(json.dumps(created.model_dump(mode="json"), indent=2))
    return 0


def _token(settings: ApiSettings, args: argparse.Namespace) -> int:
    from api.auth import mint_token

    print(mint_token(settings.jwt_secret, args.account_id, ttl_s=args.ttl_s, audience=settings.jwt_audience))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ugen-api", description="The ugen-engine control plane.",
        epilog="Settings and secrets come from UGEN_API_* variables (docs/api.md). Exit codes: 2 a secret "
               f"is missing, {EXIT_CONFIG} a setting is invalid.")
    commands = parser.add_subparsers(dest="command", title="commands")
    serve = commands.add_parser("serve", help="run the API (the default)")
    serve.add_argument("--host", help="address to listen on (default: $UGEN_API_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: $UGEN_API_PORT or 8000)")
    serve.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"),
                       help="uvicorn's log level (default info)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    account = commands.add_parser("create-account", help="create an account and print its first API key")
    account.add_argument("--name", required=True, help="the account's name")
    account.add_argument("--credits", type=int, default=0, help="starting credits (default 0)")
    token = commands.add_parser("token", help="print a JWT for an account")
    token.add_argument("account_id", help="the account the token is for")
    token.add_argument("--ttl-s", type=int, default=3600, help="lifetime in seconds (default 3600)")
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["serve", *(argv or [])])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if log_format_from_env() == "json":
        use_json_logs(logging.getLogger().handlers)
    handlers = {"serve": _serve, "migrate": _migrate, "create-account": _create_account, "token": _token}
    try:
        settings = ApiSettings.from_env()
    except MissingSecret as exc:  # one line, no traceback: the message says what to set
        print(f"ugen-api: {exc}", file=sys.stderr)
        return 2
    except SettingsError as exc:  # a typo stops the API at start, loudly
        print(f"ugen-api: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"ugen-api: {describe(settings)}", file=sys.stderr, flush=True)
    return handlers[args.command](settings, args)


if __name__ == "__main__":
    sys.exit(main())
