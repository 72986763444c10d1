"""The wheel works installed, away from the source tree: `ugen-render` renders a conformant MP4
and `ugen-api` serves /healthz, with configs, fonts and migrations read from the package and
everything written to the data directory, none of it into site-packages.

Nothing is downloaded. The wheel is built from a copy of this checkout's sources (`pip wheel
--no-deps`, as Dockerfile.gpu builds it) and
installed `--no-deps` into a fresh venv; that venv sees the libraries of the project's own
environment through a .pth line naming its site-packages. A .pth line adds a folder to the path
without reading the .pth files inside it, so this project's editable finder (an
`__editable__` .pth there) is not loaded: `engine`, `pipelines`, `models` and `api` can only
come from the installed wheel, which the tests check.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from engine.settings import REPO_ROOT
from tests.conftest import ffprobe
from tests.support.seaweed import free_port
from tests.support.workers import start_logged

pytestmark = pytest.mark.integration

SOURCES = ("pyproject.toml", "setup.py", "README.md", "engine", "pipelines", "models", "api", "configs")
SPEC = """{"product_name": "Espresso Cups", "product_image_url": "%s", "segment_count": 1,
 "segment_duration": 3, "video_resolution": "draft", "music_enabled": true, "seed": 3}"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("installed")
    source = root / "source"  # what the Dockerfile copies, so no stale build/ of the checkout leaks in
    source.mkdir()
    for name in SOURCES:
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(REPO_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO_ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(root / "dist"), str(source)], check=True, timeout=120,
                   capture_output=True)
    venv = root / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    own_site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import site; print(site.getsitepackages()[0])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    (own_site / "libraries.pth").write_text(site.getsitepackages()[0] + "\n")
    wheel = next((root / "dist").glob("ugen_engine-*.whl"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UGEN_", "PYTHON", "XDG_"))}
    # --force-reinstall: the editable install's metadata is visible too, with the same version.
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                    "--no-deps", "--no-index", "--force-reinstall", str(wheel)], check=True, timeout=120,
                   capture_output=True, env=env)
    home = root / "home"
    home.mkdir()
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CACHE_HOME=str(home / "cache"),
               PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")
    return {"venv": venv, "site": own_site, "home": home, "env": env, "cwd": root}


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if "__pycache__" not in p.parts}


def test_the_installed_packages_come_from_the_wheel_not_the_checkout(installed):
    done = subprocess.run(["python", "-c", "import engine, pipelines, models, api, engine.locations as l; "
                           "print(engine.__file__, pipelines.__file__, models.__file__, api.__file__); "
                           "print(l.configs_root())"],
                          env=installed["env"], cwd=installed["cwd"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    paths, configs = done.stdout.split("\n")[:2]
    assert all(Path(p).is_relative_to(installed["site"]) for p in paths.split()), paths
    assert Path(configs) == installed["site"] / "engine" / "configs"
    assert (Path(configs) / "profiles" / "cpu.yaml").is_file()


def undocumented(help_text: str) -> list[str]:
    """Arguments in an argparse --help with no help text: nothing after the name on its line
    (two spaces apart) and no deeper-indented line under it."""
    lines = help_text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if not line.startswith("  ") or line.startswith("    ") or not line.strip() or ":" in line[:3]:
            continue
        described = "  " in line.strip() or (i + 1 < len(lines) and lines[i + 1].startswith("    "))
        if not described:
            found.append(line.strip())
    return found


@pytest.mark.parametrize("command", ["ugen-render", "ugen-enqueue", "ugen-worker", "ugen-api", "ugen-api serve",
                                     "ugen-api create-account", "ugen-api token"])
def test_every_console_entry_point_has_help_on_every_argument(installed, command):
    done = subprocess.run([*command.split(), "--help"], env=installed["env"], cwd=installed["cwd"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "  -h, --help" in done.stdout and undocumented(done.stdout) == [], done.stdout


def test_the_help_check_finds_an_argument_without_help():
    text = "options:\n  -h, --help  show this help\n  --port PORT\n  --out OUT   where\n  --long-name LONG\n" \
           "                        described below\n  spec\n"
    assert undocumented(text) == ["--port PORT", "spec"]


def test_ugen_render_renders_a_conformant_mp4_and_writes_nothing_into_site_packages(installed, tmp_path,
                                                                                     ffprobe_available):
    image = installed["site"] / "engine" / "configs" / "jobs" / "espresso_cup.png"
    spec = tmp_path / "job.json"
    spec.write_text(SPEC % image)
    before = files_under(installed["site"])
    done = subprocess.run(["ugen-render", str(spec), "--out", str(tmp_path / "out")], env=installed["env"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    probe = ffprobe(tmp_path / "out" / "final.mp4")
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    audio = next(s for s in probe["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["pix_fmt"], video["width"], video["height"]) == ("h264", "yuv420p", 360, 640)
    assert audio["codec_name"] == "aac" and float(video["duration"]) >= 3.0
    assert files_under(installed["site"]) == before
    assert (installed["home"] / "cache" / "ugen-engine").is_dir()  # the caches went to the user's cache dir


def test_ugen_api_serves_healthz_with_its_database_in_the_data_dir_and_secrets_from_files(installed, tmp_path):
    for name in ("jwt", "callback"):
        (tmp_path / name).write_text(f"{name}-secret-from-a-file\n")
    port = free_port()
    env = {**installed["env"], "UGEN_API_PORT": str(port), "UGEN_API_JWT_SECRET_FILE": str(tmp_path / "jwt"),
           "UGEN_API_CALLBACK_SECRET_FILE": str(tmp_path / "callback")}
    before = files_under(installed["site"])
    server = start_logged(["ugen-api"], env=env, log_path=tmp_path / "api.log")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "api.log").read_text()
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert json.loads(body) == {"status": "ok"}
    assert (installed["home"] / "data" / "ugen-engine" / "api.sqlite3").is_file()
    assert files_under(installed["site"]) == before
