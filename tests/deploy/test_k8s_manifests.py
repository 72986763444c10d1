"""deploy/k8s: the manifests parse, and their names agree with the image, the settings, the
scripts and Dramatiq's own queue keys."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import yaml
from dramatiq.brokers.redis import RedisBroker

from engine.settings import REPO_ROOT
from engine.worker.settings import WorkerEnv, WorkerSettings
from tests.deploy.test_dockerfile import env_vars, exec_form, instructions

ROOT = REPO_ROOT
K8S = ROOT / "deploy" / "k8s"
CODE = "\n".join(p.read_text() for folder in ("engine", "pipelines", "models", "scripts")
                 for p in (ROOT / folder).rglob("*.py"))


def _docs() -> list[dict]:
    return [doc for path in sorted(K8S.glob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text()) if doc]


def _one(kind: str, name: str | None = None, *, file: str | None = None) -> dict:
    docs = _docs() if file is None else list(yaml.safe_load_all((K8S / file).read_text()))
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, (kind, name, file, len(found))
    return found[0]


def _container(workload: dict) -> dict:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    return container


def _env(container: dict) -> dict[str, str | None]:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


@pytest.fixture
def worker() -> dict:
    return _one("Deployment", "ugen-worker")


def test_every_manifest_parses_into_kubernetes_objects():
    docs = _docs()
    assert {d["kind"] for d in docs} == {"Deployment", "Job", "PersistentVolumeClaim",
                                         "ScaledObject", "TriggerAuthentication"}
    assert all(d.get("apiVersion") and d["metadata"].get("name") for d in docs)


def read_variables() -> set[str]:
    """Every UGEN_ variable the worker's settings model reads (engine/worker/settings.py)."""
    return {f"UGEN_{name}".upper() for name in WorkerEnv.model_fields}


def test_every_ugen_variable_in_the_manifests_is_read_by_the_code(worker):
    for workload in (worker, _one("Job")):
        for name in _env(_container(workload)):
            if name.startswith("UGEN_"):
                assert name in read_variables() or f'"{name}"' in CODE, name


def test_the_worker_runs_the_images_entrypoint_and_probes_with_its_healthcheck(worker):
    container = _container(worker)
    assert "command" not in container  # the image's ENTRYPOINT (ugen-worker) stays PID 1
    assert container["args"] == exec_form("CMD")
    health = next(a for k, a in instructions() if k == "HEALTHCHECK")
    for probe in ("livenessProbe", "startupProbe"):
        assert container[probe]["exec"]["command"] == ["ugen-worker", "check"]
        assert health.endswith('["ugen-worker", "check"]')


def test_one_gpu_per_pod_and_the_metrics_port_is_the_one_the_worker_serves(worker):
    container = _container(worker)
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    port = int(_env(container)["UGEN_METRICS_PORT"])
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert f"EXPOSE {port}" in {f"{k} {a}" for k, a in instructions()}
    annotations = worker["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)


def test_the_grace_period_outlasts_the_longest_render_plus_the_shutdown_grace(worker):
    env, defaults = _env(_container(worker)), WorkerSettings()
    longest = float(env.get("UGEN_TIME_LIMIT_MAX_S") or defaults.time_limit_max_s)
    grace = float(env.get("UGEN_SHUTDOWN_GRACE_S") or defaults.shutdown_grace_s)
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > longest + grace
    assert grace == float(env_vars()["UGEN_SHUTDOWN_GRACE_S"])


def test_the_models_volume_is_written_by_the_job_and_read_only_in_the_workers(worker):
    claim = _one("PersistentVolumeClaim")
    assert "ReadOnlyMany" in claim["spec"]["accessModes"]
    models_dir = env_vars()["UGEN_MODELS_DIR"]
    job = _one("Job")
    for workload, read_only in ((worker, True), (job, False)):
        spec = workload["spec"]["template"]["spec"]
        (volume,) = [v for v in spec["volumes"] if "persistentVolumeClaim" in v]
        assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        (mount,) = [m for m in _container(workload)["volumeMounts"] if m["name"] == volume["name"]]
        assert mount["mountPath"] == models_dir and mount.get("readOnly", False) is read_only


def test_the_fetch_job_runs_the_repos_fetch_script_with_flags_it_has():
    container = _container(_one("Job"))
    program, script, *flags = container["command"]
    assert program == "python" and (ROOT / script).is_file()
    source = (ROOT / script).read_text()
    for flag in flags:
        assert re.search(rf'add_argument\("{flag}"', source), flag
    assert _env(container)["HF_HUB_OFFLINE"] == "0"  # the image sets 1; the script refuses it


def test_the_redis_scaler_watches_the_list_dramatiqs_redis_broker_keeps_for_the_queue(worker):
    queue = _env(_container(worker)).get("UGEN_QUEUE") or WorkerSettings().queue
    namespace = inspect.signature(RedisBroker.__init__).parameters["namespace"].default
    dispatch = (Path(inspect.getfile(RedisBroker)).parent / "redis" / "dispatch.lua").read_text()
    assert 'local queue_full_name = namespace .. ":" .. queue_name' in dispatch
    scaled = _one("ScaledObject", file="scaledobject-redis.yaml")
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == f"{namespace}:{queue}" == "dramatiq:renders"
    assert scaled["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]


def test_the_rabbitmq_scaler_watches_the_queue_by_its_dramatiq_name(worker):
    queue = _env(_container(worker)).get("UGEN_QUEUE") or WorkerSettings().queue
    scaled = _one("ScaledObject", file="scaledobject-rabbitmq.yaml")
    (trigger,) = scaled["spec"]["triggers"]
    assert (trigger["type"], trigger["metadata"]["queueName"]) == ("rabbitmq", queue)
    assert scaled["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]
