"""What the worker tests send: service URLs and short draft jobs.

    job = make_job(product_url, api, segments=2)   # 2 x 3 s, draft, reporting to `api`
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from tests.support.servers import EventRecorder

# A database of its own, flushed once per session; UGEN_TEST_REDIS_DB moves it, so two test
# sessions on one Redis do not flush each other.
REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('UGEN_TEST_REDIS_DB', '9')}"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def make_job(product_url: str, api: EventRecorder, *, segments: int = 1, **fields: Any) -> dict[str, Any]:
    """A short draft job (segments x 3 s) with its delivery block pointing at the recording API."""
    return {"job_id": f"job-{uuid.uuid4().hex[:12]}", "product_name": "Espresso Cups",
            "product_image_url": product_url, "video_resolution": "draft", "segment_count": segments,
            "segment_duration": 3, "seed": 1,
            "delivery": {"attempt": 1, "callback_url": api.url, "callback_secret": api.secret}, **fields}
