#!/usr/bin/env python3
"""Send one job to the render queue the way the API does.

    python scripts/enqueue_job.py configs/jobs/demo.json [--broker redis://127.0.0.1:6379/0]
        [--queue renders] [--job-id ID] [--callback-url URL --callback-secret SECRET]
        [--attempt 1] [--upload '{"kind": "s3", "bucket": "renders"}'] [--delay-s 0]

The spec is validated first (an invalid one exits 2 with the 422-style error, as the API would
refuse it); a missing job_id gets a fresh UUID. The flags fill the job's delivery block; values
already in the spec's own `delivery` are kept unless a flag overrides them. Prints the job id
and the message id. The broker defaults to UGEN_BROKER_URL, then local Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.errors import InvalidJobSpec  # noqa: E402
from engine.spec import parse_job  # noqa: E402
from engine.worker import broker_from_url, send_job  # noqa: E402
from engine.worker.settings import DEFAULT_REDIS_URL  # noqa: E402


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Enqueue one U-Gen job for the render workers.")
    parser.add_argument("spec", type=Path, help="job spec JSON file")
    parser.add_argument("--broker", default=os.environ.get("UGEN_BROKER_URL", DEFAULT_REDIS_URL),
                        help="redis://... or amqp://... (default: UGEN_BROKER_URL or local Redis)")
    parser.add_argument("--queue", default=os.environ.get("UGEN_QUEUE", "renders"))
    parser.add_argument("--job-id", default=None)
    parser.add_argument("--callback-url", default=None)
    parser.add_argument("--callback-secret", default=None)
    parser.add_argument("--attempt", type=int, default=None)
    parser.add_argument("--upload", type=json.loads, default=None, help="the delivery.upload block, JSON")
    parser.add_argument("--delay-s", type=float, default=None)
    return parser.parse_args(argv)


def build_job(args: argparse.Namespace) -> dict:
    raw = json.loads(args.spec.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise InvalidJobSpec("job spec must be a JSON object")
    raw["job_id"] = args.job_id or raw.get("job_id") or str(uuid.uuid4())
    delivery = dict(raw.get("delivery") or {})
    for key in ("callback_url", "callback_secret", "attempt", "upload"):
        if getattr(args, key) is not None:
            delivery[key] = getattr(args, key)
    if delivery:
        raw["delivery"] = delivery
    parse_job(raw)  # refuse what the worker would refuse, before it reaches the queue
    return raw


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    try:
        job = build_job(args)
    except (OSError, json.JSONDecodeError) as exc:
        print(json.dumps(InvalidJobSpec(f"cannot read job spec {args.spec}: {exc}").to_dict()), file=sys.stderr)
        return 2
    except InvalidJobSpec as exc:
        print(json.dumps(exc.to_dict()), file=sys.stderr)
        return 2
    broker = broker_from_url(args.broker)
    try:
        message = send_job(broker, job, queue=args.queue, delay_s=args.delay_s)
    finally:
        broker.close()
    print(json.dumps({"job_id": job["job_id"], "message_id": message.message_id, "queue": args.queue}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
