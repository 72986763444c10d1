"""deploy/monitoring: the Grafana dashboard and the PrometheusRule load and have what each tool
requires, and every series they name is in a real scrape of a worker's and an API's /metrics."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from engine.settings import REPO_ROOT
from engine.worker import broker_from_url, send_job
from tests.api.support import ApiServer
from tests.support.jobs import make_job
from tests.support.servers import terminal

pytest_plugins = ["tests.support.fixtures"]  # real Redis, S3 and worker processes

MONITORING = REPO_ROOT / "deploy" / "monitoring"
SERIES = re.compile(r"\b(ugen_[a-z0-9_]+)\b")
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"),
            "gauge": ("",), "summary": ("_count", "_sum", "_created")}


def dashboard() -> dict:
    return json.loads((MONITORING / "grafana-dashboard.json").read_text())


def rules() -> list[dict]:
    rule = yaml.safe_load((MONITORING / "prometheus-rules.yaml").read_text())
    assert (rule["apiVersion"], rule["kind"], rule["metadata"]["name"]) == (
        "monitoring.coreos.com/v1", "PrometheusRule", "ugen-engine")
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def expressions() -> list[str]:
    return [r["expr"] for r in rules()] + [t["expr"] for p in dashboard()["panels"] for t in p["targets"]]


def test_the_dashboard_has_what_grafana_needs_to_import_it():
    board = dashboard()
    assert {"title", "uid", "panels", "schemaVersion", "templating", "time"} <= set(board)
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) and len(ids) >= 10
    for panel in board["panels"]:
        assert {"type", "title", "gridPos", "targets", "datasource"} <= set(panel), panel["title"]
        assert {"h", "w", "x", "y"} == set(panel["gridPos"])
        assert panel["targets"] and all(t["expr"] and t["refId"] for t in panel["targets"])


def test_the_rules_alert_on_dead_letters_outbox_depth_webhook_backlog_and_job_failure_rate():
    alerts = {r["alert"]: r for r in rules()}
    assert len(alerts) == len(rules())
    assert {"UGenEventsDeadLettered", "UGenOutboxBacklog", "UGenWebhookBacklog", "UGenJobFailureRate"} <= set(alerts)
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert rule["annotations"]["summary"] and rule["expr"].strip(), name
        assert rule["expr"].count("(") == rule["expr"].count(")"), name
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s")), name
    assert 'then="dead_lettered"' in alerts["UGenEventsDeadLettered"]["expr"]
    assert "ugen_api_worker_outbox_jobs" in alerts["UGenOutboxBacklog"]["expr"]
    assert 'outcome="failed"' in alerts["UGenJobFailureRate"]["expr"]


def series_in(text: str) -> set[str]:
    """Every series name a scrape declares (a labelled family without samples yet included)."""
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
        names |= {sample.name for sample in family.samples}
    return names


@pytest.mark.integration
def test_every_series_the_dashboard_and_the_rules_name_is_scraped_from_a_worker_or_the_api(
        start_worker, api, product_url, tmp_path):
    worker = start_worker()
    # In multiprocess mode a series shows once a process wrote a sample: one job writes them.
    job = make_job(product_url, api)
    send_job(broker_from_url(worker.env["UGEN_BROKER_URL"]), job, queue=worker.env["UGEN_QUEUE"])
    assert api.wait_for(terminal, job_id=job["job_id"], timeout_s=180)[-1]["status"] == "completed"
    server = ApiServer(f"sqlite:///{tmp_path}/api.sqlite3", tmp_path, UGEN_BROKER_URL=worker.env["UGEN_BROKER_URL"],
                       UGEN_QUEUE=worker.env["UGEN_QUEUE"]).start()
    try:
        worker_text = urllib.request.urlopen(f"http://127.0.0.1:{worker.env['UGEN_METRICS_PORT']}/metrics",
                                             timeout=10).read().decode()
        api_text = urllib.request.urlopen(server.url + "/metrics", timeout=10).read().decode()
    finally:
        server.stop()
    scraped = series_in(worker_text) | series_in(api_text)
    named = {name for expr in expressions() for name in SERIES.findall(expr)}
    assert named, "no series found in the expressions"
    assert sorted(named - scraped) == []
    assert "ugen_jobs_total" in series_in(worker_text) and "ugen_api_webhook_backlog" in series_in(api_text)
