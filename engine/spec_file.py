"""A job spec read from a JSON file, as the local tools (render_one, bench_stages) take it.

    spec = load_spec_file(Path("configs/jobs/demo.json"), catalog,
                          overrides={"video_resolution": "draft"})

A relative local `product_image_url` is read relative to the spec file; a `template_id`
fills in what the job leaves out. The worker never reads files: it gets parsed JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from engine.catalog import Catalog
from engine.errors import InvalidJobSpec
from engine.spec import JobSpec, parse_job


def load_spec_file(path: Path, catalog: Catalog, *, overrides: dict[str, Any] | None = None) -> JobSpec:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidJobSpec(f"cannot read job spec {path}: {exc}") from None
    if not isinstance(raw, dict):
        return parse_job(raw)
    url = raw.get("product_image_url")
    if isinstance(url, str) and not urlparse(url).scheme and not Path(url).is_absolute():
        raw["product_image_url"] = str((path.parent / url).resolve())
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    template = catalog.template(raw["template_id"]).config if raw.get("template_id") else None
    return parse_job(raw, template=template)
