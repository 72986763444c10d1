"""`ugen-enqueue`: send one job to the render queue the way the API does.

    ugen-enqueue configs/jobs/demo.json [--broker redis://127.0.0.1:6379/0]
        [--queue renders] [--job-id ID] [--callback-url URL] [--callback-secret-file PATH]
        [--attempt 1] [--upload '{"kind": "s3", "bucket": "renders"}'] [--delay-s 0]
    UGEN_CALLBACK_SECRET=... ugen-enqueue job.json --callback-url URL

The spec is validated first (an invalid one exits 2 with the 422-style error, as the API would
refuse it); a missing job_id gets a fresh UUID. The flags fill the job's delivery block; values
already in the spec's own `delivery` are kept unless a flag overrides them. The callback secret
comes from the environment or a file, never from the command line (where `ps` shows it). Prints
the job id and the message id. The broker defaults to UGEN_BROKER_URL, then local Redis; when it
is down, one line says so and the exit code is 69.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path

import dramatiq.errors
from redis.exceptions import RedisError

from engine.errors import InvalidJobSpec
from engine.spec import parse_job
from engine.worker.app import broker_from_url, send_job
from engine.worker.reachability import EXIT_UNAVAILABLE, broker_down, down_line
from engine.worker.settings import DEFAULT_REDIS_URL

SECRET_VARIABLE = "UGEN_CALLBACK_SECRET"


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ugen-enqueue", description="Enqueue one U-Gen job for the render workers.", allow_abbrev=False,
        epilog=f"The callback secret is read from ${SECRET_VARIABLE} or from the file that "
               f"--callback-secret-file (or ${SECRET_VARIABLE}_FILE) names, never from the command line. "
               f"Exit codes: 0 sent, 2 invalid spec, {EXIT_UNAVAILABLE} broker unreachable.")
    parser.add_argument("spec", type=Path, help="job spec JSON file")
    parser.add_argument("--broker", default=os.environ.get("UGEN_BROKER_URL", DEFAULT_REDIS_URL),
                        help="redis://... or amqp://... (default: UGEN_BROKER_URL or local Redis)")
    parser.add_argument("--queue", default=os.environ.get("UGEN_QUEUE", "renders"),
                        help="queue to send to (default: UGEN_QUEUE or renders)")
    parser.add_argument("--job-id", default=None, help="the job's id (default: the spec's, else a new UUID)")
    parser.add_argument("--callback-url", default=None, help="where the worker POSTs progress events")
    parser.add_argument("--callback-secret-file", type=Path,
                        default=os.environ.get(f"{SECRET_VARIABLE}_FILE") or None,
                        help=f"file holding the secret that signs the events (default: ${SECRET_VARIABLE}_FILE)")
    parser.add_argument("--attempt", type=int, default=None, help="the delivery attempt number (default 1)")
    parser.add_argument("--upload", type=json.loads, default=None, help="the delivery.upload block, JSON")
    parser.add_argument("--delay-s", type=float, default=None, help="deliver the message after this many seconds")
    return parser.parse_args(argv)


def callback_secret(args: argparse.Namespace) -> str | None:
    """$UGEN_CALLBACK_SECRET, else the secret file's contents (one trailing newline dropped)."""
    if os.environ.get(SECRET_VARIABLE):
        return os.environ[SECRET_VARIABLE]
    if args.callback_secret_file is None:
        return None
    return args.callback_secret_file.read_text(encoding="utf-8").removesuffix("\n")


def build_job(args: argparse.Namespace) -> dict:
    raw = json.loads(args.spec.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise InvalidJobSpec("job spec must be a JSON object")
    raw["job_id"] = args.job_id or raw.get("job_id") or str(uuid.uuid4())
    delivery = dict(raw.get("delivery") or {})
    flags = {"callback_url": args.callback_url, "callback_secret": callback_secret(args),
             "attempt": args.attempt, "upload": args.upload}
    delivery.update({key: value for key, value in flags.items() if value is not None})
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
    if why := broker_down(args.broker):
        print(down_line("ugen-enqueue", args.broker, why), file=sys.stderr)
        return EXIT_UNAVAILABLE
    broker = broker_from_url(args.broker)
    try:
        message = send_job(broker, job, queue=args.queue, delay_s=args.delay_s)
    except (ConnectionError, RedisError, dramatiq.errors.ConnectionError) as exc:  # went down meanwhile
        print(down_line("ugen-enqueue", args.broker, str(exc) or type(exc).__name__), file=sys.stderr)
        return EXIT_UNAVAILABLE
    finally:
        broker.close()
    print(json.dumps({"job_id": job["job_id"], "message_id": message.message_id, "queue": args.queue}))
    return 0
