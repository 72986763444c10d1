"""The committed OpenAPI document (docs/openapi.json), written from the app itself.

    python -m api.openapi_doc docs/openapi.json      # regenerate after changing a route or a model
    document()                                       # the text that file must hold

Built in-process with a throwaway SQLite URL: nothing is migrated, served or connected to.
tests/api/test_openapi.py fails when the app's schema and the committed file differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from api.app import create_app
from api.settings import ApiSettings

REGENERATE = "python -m api.openapi_doc docs/openapi.json"


def document() -> str:
    schema = create_app(ApiSettings(database_url="sqlite://")).openapi()
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: {REGENERATE}", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(document(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
