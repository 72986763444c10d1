"""The `api` extra is enough to enqueue: the API's imports and a real send to Redis run in an
environment that holds only the project's base dependencies and that extra.

The environment is cheap to build: nothing is downloaded. The dependency closure of
`ugen-engine[api]` is read from the installed metadata, and a folder of links to exactly those
distributions' top-level modules becomes the only site-packages of an isolated interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import uuid
from importlib import metadata
from pathlib import Path

import redis
from packaging.requirements import Requirement

from engine.settings import REPO_ROOT
from tests.api.support import REDIS_URL

SEND = """
import json, sys
from api.dispatch import Dispatcher
from api.settings import ApiSettings
from api.tables import Job
settings = ApiSettings(broker_url=sys.argv[1], queue=sys.argv[2])
job = Job(id=sys.argv[3], attempt=1, spec=json.loads(sys.argv[4]))
assert Dispatcher(settings).send(job), "the job was not sent"
print("sent")
"""


def declared(extra: str) -> list[Requirement]:
    """What pyproject.toml asks for: the base dependencies and one extra."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(raw) for raw in project["dependencies"] + project["optional-dependencies"][extra]]


def closure(roots: list[Requirement]) -> set[str]:
    """Distribution names the requirements need, transitively, as pip would install them."""
    seen: set[str] = set()
    todo = [(req.name, frozenset(req.extras)) for req in roots]
    while todo:
        name, wanted = todo.pop()
        dist = metadata.distribution(name)
        seen.add(dist.metadata["Name"].lower())
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker and not any(req.marker.evaluate({"extra": e}) for e in (wanted | {""})):
                continue
            if req.name.lower() not in seen:
                todo.append((req.name, frozenset(req.extras)))
    return seen


def top_level(name: str) -> set[str]:
    """The importable top-level entries a distribution installed (packages, modules, libs)."""
    dist = metadata.distribution(name)
    entries = set()
    for file in dist.files or []:
        first = file.parts[0]
        if first.endswith((".dist-info", ".data", ".pth")) or first in ("..", "__pycache__"):
            continue
        entries.add(first)
    return entries


def only_the_api_extra(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    site_packages = Path(metadata.distribution("pydantic").locate_file(""))
    for name in closure(declared("api")):
        for entry in top_level(name):
            if (site_packages / entry).exists() and not (site / entry).exists():
                (site / entry).symlink_to(site_packages / entry)
    return site


def test_the_api_extra_alone_can_import_the_api_and_enqueue_a_job(tmp_path):
    site = only_the_api_extra(tmp_path)
    queue, job_id = f"api-extra-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    spec = {"product_name": "Cups", "product_image_url": "https://example.com/cup.png"}
    # -I: no user site, no PYTHONPATH; -S: not even the full site-packages of this venv.
    code = f"import sys; sys.path[:0] = [{str(REPO_ROOT)!r}, {str(site)!r}]\n" + SEND
    argv = [sys.executable, "-I", "-S", "-c", code, REDIS_URL, queue, job_id, json.dumps(spec)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0 and "sent" in done.stdout, done.stderr[-3000:]
    client = redis.Redis.from_url(REDIS_URL)
    try:
        [raw] = client.hvals(f"dramatiq:{queue}.msgs")
        assert json.loads(raw)["args"][0]["job_id"] == job_id
    finally:
        client.delete(f"dramatiq:{queue}", f"dramatiq:{queue}.msgs")
