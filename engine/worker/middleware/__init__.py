"""The worker's cross-cutting concerns, one Dramatiq middleware each.

    job_context    JobContextMiddleware, current_job(): the parsed job for everyone else
    time_limits    JobTimeLimit: a time limit sized from the video's duration
    single_render  SingleRender: one thread, prefetch 1
    boot           WorkerBoot: models and connections once per process, after the fork
    progress       Progress: throttled, signed progress events through the outbox
    shutdown       GracefulShutdown: finish within the grace or hand the job back
    liveness       Liveness, check_liveness(): age of the last progress, for a probe
    metrics        Metrics: Prometheus counters and histograms
    gpu_memory     GpuMemory: free what a job left on the GPU
    log_redaction  RedactJobs: no callback secret in a log line
    log_format     JsonLogs: one JSON object per log line with the job's fields (UGEN_LOG_FORMAT=json)
    tracing        Tracing: a job span under the API's, a span per stage (OpenTelemetry, optional)
    retries        PatientRetries: Dramatiq's Retries, whose re-enqueue waits out a broker outage
"""

from engine.worker.middleware.boot import WorkerBoot
from engine.worker.middleware.gpu_memory import GpuMemory
from engine.worker.middleware.job_context import JobContext, JobContextMiddleware, current_job
from engine.worker.middleware.liveness import Liveness, check_liveness
from engine.worker.middleware.log_format import JsonLogs
from engine.worker.middleware.log_redaction import RedactJobs
from engine.worker.middleware.metrics import Metrics
from engine.worker.middleware.progress import Progress
from engine.worker.middleware.retries import PatientRetries
from engine.worker.middleware.shutdown import GracefulShutdown, JobHandedBack
from engine.worker.middleware.single_render import SingleRender
from engine.worker.middleware.time_limits import JobTimeLimit
from engine.worker.middleware.tracing import Tracing

__all__ = ["GpuMemory", "GracefulShutdown", "JobContext", "JobContextMiddleware", "JobHandedBack",
           "JobTimeLimit", "JsonLogs", "Liveness", "Metrics", "PatientRetries",
           "Progress", "RedactJobs", "SingleRender", "Tracing", "WorkerBoot",
           "check_liveness", "current_job"]
