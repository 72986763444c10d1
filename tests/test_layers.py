"""The folders keep the architecture: imports run one way, names stay tidy, tests mirror the tree.

    scripts/, api/  ->  engine.worker, engine.bench  ->  pipelines  ->  models, engine leaves
    models import only models (and roles only base.py, devices.py, diffusers_layout.py and themselves)

Every import statement is read from the source (function-level imports included), so a lazy
import that runs upward is caught as well as a top-level one.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from engine.settings import REPO_ROOT

PACKAGES = ("engine", "pipelines", "models", "api", "scripts")
OURS = {"engine", "pipelines", "models", "api", "scripts", "tests"}
ROLES = ("script", "voice", "persona", "cutout", "music", "keyframe", "motion")
# diffusers_layout: the strict diffusers-folder loader shared by the keyframe and motion roles;
# release_configs: where configs/models/ is, checked out or installed
SHARED_BY_ROLES = ("models.base", "models.devices", "models.diffusers_layout", "models.release_configs")
BANNED_NAMES = {"utils", "helpers", "misc", "setup", "glue", "common"}


def layer_of(module: str) -> str:
    """engine.spec -> "engine-leaf", engine.worker.runner -> "engine.worker", models.x -> "models"."""
    parts = module.split(".")
    if parts[0] == "engine":
        return f"engine.{parts[1]}" if len(parts) > 1 and parts[1] in ("worker", "bench") else "engine-leaf"
    return parts[0]


# What each layer may import from this project (anything outside it is a library).
ALLOWED = {
    "models": {"models"},
    "engine-leaf": {"engine-leaf"},
    "pipelines": {"pipelines", "models", "engine-leaf"},
    "engine.worker": {"engine.worker", "pipelines", "models", "engine-leaf"},
    "engine.bench": {"engine.bench", "pipelines", "models", "engine-leaf"},
    "api": {"api", "engine.worker", "engine-leaf"},
    "scripts": {"scripts", "engine.worker", "engine.bench", "pipelines", "models", "engine-leaf"},
}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path, root)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
    return found


def role_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "models" and len(parts) > 2 and parts[1] in ROLES else None


def violations(root: Path) -> list[str]:
    """Every upward or sideways import under `root`, as "path:line: a imports b (why)"."""
    problems = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            source = module_name(path, root)
            for line, target in imports_of(path, root):
                if target.split(".")[0] not in OURS:
                    continue
                problem = judge(source, target)
                if problem:
                    problems.append(f"{path.relative_to(root)}:{line}: {source} imports {target} ({problem})")
    return problems


def judge(source: str, target: str) -> str | None:
    src, dst = layer_of(source), layer_of(target)
    if dst not in ALLOWED[src]:
        return f"{src} may not import {dst}"
    role, other = role_of(source), role_of(target)
    if role and target.startswith("models.") and not target.startswith(SHARED_BY_ROLES) \
            and other != role and target != "models":
        return f"models role {role} may not import another role"
    return None


def test_every_import_runs_down_the_layers():
    assert violations(REPO_ROOT) == []


def test_the_layer_check_names_the_file_and_line_of_a_planted_violation(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "engine" / "spec.py").write_text("import json\n\nfrom pipelines.render import RenderPipeline\n")
    (tmp_path / "models" / "voice").mkdir()
    (tmp_path / "models" / "voice" / "piper.py").write_text(
        "from models.base import Speech\n\n\ndef f():\n    from models.persona.face_locator import x\n")
    (tmp_path / "pipelines" / "render.py").write_text("from engine.worker.runner import JobRunner\n")
    assert violations(tmp_path) == [
        "engine/spec.py:3: engine.spec imports pipelines.render (engine-leaf may not import pipelines)",
        "pipelines/render.py:1: pipelines.render imports engine.worker.runner "
        "(pipelines may not import engine.worker)",
        "models/voice/piper.py:5: models.voice.piper imports models.persona.face_locator "
        "(models role voice may not import another role)",
    ]


def source_modules() -> list[Path]:
    return [p for package in PACKAGES for p in (REPO_ROOT / package).rglob("*.py")
            if "migrations" not in p.parts]


def test_no_module_is_named_like_a_junk_drawer():
    assert [str(p.relative_to(REPO_ROOT)) for p in source_modules() if p.stem in BANNED_NAMES] == []


def test_no_three_modules_of_one_folder_share_a_prefix():
    crowded = []
    for folder in {p.parent for p in source_modules()}:
        stems = [p.stem for p in folder.glob("*.py") if p.stem != "__init__"]
        prefixes = Counter(s.split("_")[0] for s in stems if "_" in s.strip("_"))
        crowded += [f"{folder.relative_to(REPO_ROOT)}/{prefix}_*" for prefix, n in prefixes.items() if n >= 3]
    assert crowded == []


def test_every_test_folder_mirrors_a_source_folder():
    tests = REPO_ROOT / "tests"
    unmatched = [str(d.relative_to(tests)) for d in tests.rglob("*") if d.is_dir()
                 and d.name != "__pycache__" and d.parts[len(tests.parts)] != "support"
                 and not (REPO_ROOT / d.relative_to(tests)).is_dir()]
    assert unmatched == []


def test_every_package_folder_has_a_table_of_contents():
    missing = [str(p.parent.relative_to(REPO_ROOT)) for p in source_modules()
               if p.name == "__init__.py" and p.parent.name != "versions"
               and not (ast.get_docstring(ast.parse(p.read_text())) or "").strip()]
    assert missing == []
