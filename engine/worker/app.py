"""The queue worker: a Dramatiq broker from settings and the `render_job` actor on `renders`.

    ugen-worker                # runs the line below with the settings' timeouts
    dramatiq_queue_prefetch=1 python -m dramatiq engine.worker:setup \\
        --processes 1 --threads 1 --queues renders --worker-shutdown-timeout 630000
    ugen-worker check          # liveness probe: exit 0 alive, 1 not
    ugen-worker --processes 2  # two processes, each on its own GPU, one /metrics for both

    send_job(broker_from_url("redis://127.0.0.1:6379/0"), job)   # what the API does

`ugen-worker` first checks the profile ($UGEN_PROFILE): when a backend lacks its weights, the
CUDA device it asks for or its extra, it prints everything missing and exits with 78 before
Dramatiq starts; a broker it cannot reach is one line and exit 69. Each worker process checks
the profile again at boot (for `dramatiq` started directly). Before exec it makes an empty run
directory for prometheus_client's multiprocess mode (engine/worker/scrape.py) and the processes'
GPU slots (engine/worker/devices.py).

Dramatiq calls `setup` in each worker process (it accepts a callable in place of a broker
module), so importing this module connects to nothing and the models load after the fork.
The message is one JSON object: the job spec with its `delivery` block. Settings come from
the environment (engine/worker/settings.py, engine/worker/storage.py); docs/worker.md has them all.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from functools import partial
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq import Broker, Message
from dramatiq.middleware import CurrentMessage, TimeLimit

from engine.errors import PermanentError
from engine.settings import SettingsError
from engine.worker.devices import claim_slot, device_for, pinned_device, too_few_devices
from engine.worker.middleware import (
    GpuMemory,
    GracefulShutdown,
    JobContextMiddleware,
    JobTimeLimit,
    JsonLogs,
    Liveness,
    Metrics,
    PatientRetries,
    Progress,
    RedactJobs,
    SingleRender,
    Tracing,
    WorkerBoot,
    check_liveness,
    current_job,
)
from engine.worker.middleware.boot import EXIT_PROFILE_NOT_READY, profile_problems, refusal
from engine.worker.middleware.job_context import build_context
from engine.worker.middleware.metrics import message_metrics
from engine.worker.reachability import EXIT_UNAVAILABLE, broker_down, down_line
from engine.worker.runner import JobRunner, should_retry
from engine.worker.runtime import Runtime
from engine.worker.scrape import SLOTS_VARIABLE, multiprocess_env, prepare_run_dir
from engine.worker.settings import WorkerSettings

log = logging.getLogger(__name__)

ACTOR_NAME = "render_job"
EXIT_CONFIG = 78  # sysexits' EX_CONFIG, like the profile refusal


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def broker_from_url(url: str, *, middleware: list | None = None, settings: WorkerSettings | None = None) -> Broker:
    """RabbitMQ for amqp:// URLs, Redis otherwise."""
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url, middleware=middleware, confirm_delivery=True)
    from dramatiq.brokers.redis import RedisBroker

    s = settings or WorkerSettings()
    # A dead worker's messages come back once its heartbeat is this old and a command rolls
    # maintenance; Dramatiq's default chance (0.1 %) can leave them for many minutes.
    return RedisBroker(url=url, middleware=middleware, heartbeat_timeout=_ms(s.redis_heartbeat_timeout_s),
                       maintenance_chance=s.redis_maintenance_chance)


def build_middleware(settings: WorkerSettings, runtime: Runtime) -> list:
    """Order matters: `before_*` hooks run in this order, `after_*` hooks in reverse. The job
    context comes first (and is cleared last); TimeLimit comes last so its timer covers only
    the actor and is removed before any other after-hook runs."""
    return [
        JobContextMiddleware(runtime.parse),
        Tracing(),  # its job span is open for every other hook, and current for the actor
        RedactJobs(),
        JsonLogs(),
        SingleRender(),
        WorkerBoot(runtime),
        Liveness(settings.liveness_dir, stall_s=settings.liveness_stall_s),
        Metrics(port=settings.metrics_port),
        *message_metrics(),
        JobTimeLimit(settings),
        Progress(runtime, interval_s=settings.progress_interval_s),
        GracefulShutdown(grace_s=settings.shutdown_grace_s),
        GpuMemory(),
        CurrentMessage(),
        PatientRetries(max_retries=settings.max_retries, min_backoff=_ms(settings.min_backoff_s),
                max_backoff=_ms(settings.max_backoff_s)),
        TimeLimit(),
    ]


def declare_actor(broker: Broker, settings: WorkerSettings, runner: JobRunner) -> Any:
    def render_job(job: dict[str, Any]) -> None:
        context = current_job() or build_context(CurrentMessage.get_current_message(), runner.runtime.parse)
        runner.run(context)

    return dramatiq.actor(
        render_job, actor_name=ACTOR_NAME, queue_name=settings.queue, broker=broker,
        max_retries=settings.max_retries, throws=(PermanentError,),
        retry_when=partial(should_retry, max_retries=settings.max_retries),
        min_backoff=_ms(settings.min_backoff_s), max_backoff=_ms(settings.max_backoff_s))


def take_device() -> None:
    """Under `ugen-worker --processes N`, this process's own GPU, before anything touches CUDA."""
    slots, processes = os.environ.get(SLOTS_VARIABLE), int(os.environ.get("UGEN_WORKER_PROCESSES", 1))
    if not slots or processes <= 1:
        return
    slot = claim_slot(Path(slots), processes=processes)
    device = device_for(slot=slot, processes=processes, visible=os.environ.get("CUDA_VISIBLE_DEVICES"))
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = device
    log.info("worker slot %d of %d: CUDA_VISIBLE_DEVICES=%s", slot, processes, device)


def setup() -> Broker:
    """Dramatiq's entry point in each worker process: `dramatiq engine.worker:setup`."""
    take_device()
    settings = WorkerSettings.from_env()
    runtime = Runtime(settings, settings.storage)
    broker = broker_from_url(settings.broker_url, middleware=build_middleware(settings, runtime), settings=settings)
    dramatiq.set_broker(broker)
    declare_actor(broker, settings, JobRunner(runtime, broker))
    return broker


def send_job(broker: Broker, job: dict[str, Any], *, queue: str = "renders", delay_s: float | None = None) -> Message:
    """Enqueues one job (spec plus delivery block) for `render_job`, as the API does."""
    broker.declare_queue(queue)
    message = Message(queue_name=queue, actor_name=ACTOR_NAME, args=(job,), kwargs={}, options={})
    return broker.enqueue(message, delay=int(delay_s * 1000) if delay_s else None)


def dramatiq_argv(settings: WorkerSettings, *, processes: int) -> list[str]:
    # Dramatiq must outwait the grace, or it would cut off a render that is about to finish.
    shutdown_ms = int((settings.shutdown_grace_s + 30) * 1000)
    return [sys.executable, "-m", "dramatiq", "engine.worker:setup", "--processes", str(processes),
            "--threads", "1", "--queues", settings.queue, "--worker-shutdown-timeout", str(shutdown_ms)]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ugen-worker", description="Render U-Gen jobs from the queue.",
        epilog="Settings come from UGEN_* variables (docs/worker.md). Exit codes: 78 bad setting or "
               f"profile not ready, {EXIT_UNAVAILABLE} broker unreachable.")
    parser.add_argument("command", nargs="?", choices=("run", "check"), default="run",
                        help="run: consume the queue (default); check: liveness probe, exit 0 alive, 1 not")
    parser.add_argument("--processes", type=int, default=int(os.environ.get("UGEN_WORKER_PROCESSES", 1)),
                        help="worker processes, each given its own GPU (the i-th of CUDA_VISIBLE_DEVICES, "
                             "else GPU i); default $UGEN_WORKER_PROCESSES or 1")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = WorkerSettings.from_env()
    except SettingsError as exc:  # before exec: a typo stops the container at start, loudly
        print(f"ugen-worker: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "check":
        alive, why = check_liveness(settings.liveness_dir)
        print(why)
        return 0 if alive else 1
    problems = profile_problems(settings.engine)  # before exec: no process starts, nothing is consumed
    if problems:
        print(refusal(settings.engine, problems), file=sys.stderr)
        return EXIT_PROFILE_NOT_READY
    if why := (too_few_devices(processes=args.processes, visible=os.environ.get("CUDA_VISIBLE_DEVICES"))
               or pinned_device(processes=args.processes, device=settings.engine.device)):
        print(f"ugen-worker: {why}", file=sys.stderr)
        return EXIT_CONFIG
    if why := broker_down(settings.broker_url):
        print(down_line("ugen-worker", settings.broker_url, why), file=sys.stderr)
        return EXIT_UNAVAILABLE
    run_dir = prepare_run_dir(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    argv_ = dramatiq_argv(settings, processes=args.processes)
    # Fetch a message only when the one thread is free (Dramatiq reads this at start).
    os.execve(sys.executable, argv_, {**os.environ, **multiprocess_env(run_dir), "dramatiq_queue_prefetch": "1",
                                      "UGEN_WORKER_PROCESSES": str(args.processes)})
    return 0  # not reached: exec replaces this process, so signals reach Dramatiq directly


if __name__ == "__main__":
    sys.exit(main())
