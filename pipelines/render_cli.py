"""`ugen-render`: render one job locally, on this machine, without a queue.

    ugen-render configs/jobs/demo.json --out out/demo [--profile cpu]
                [--stop-at STAGE] [--resolution draft]
    ugen-render demo --out /tmp/demo --resolution draft   # a job shipped in configs/jobs, by name
    python scripts/render_one.py ...        # the same, from a checkout

Writes final.mp4, thumbnail.jpg, captions.vtt, script.json, storyboard.png, qa.json and report.json into
--out. A relative local product_image_url is read relative to the spec file. On failure: exit
code 1 (2 for a bad command line), no final.mp4, and the error object as the last stderr line.
A profile whose backends lack weights, a device or an extra fails before any work with
BACKEND_UNAVAILABLE, listing everything missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from engine.catalog import Catalog
from engine.errors import BackendUnavailable, RenderFailed, UGenError
from engine.gpu_memory import as_out_of_memory
from engine.settings import Settings, SettingsError
from engine.spec import STAGES
from engine.spec_file import load_spec_file
from engine.terminal import ProgressPrinter, timing_table
from models.profile_check import format_problems, validate_profile
from models.registry import Registry
from pipelines.contract import CONTRACT_FILES
from pipelines.render import RenderPipeline


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ugen-render", description="Render one U-Gen job into a video.",
                                     epilog="Settings (profile, configs, models, caches) come from UGEN_* "
                                            "variables; UGEN_DEBUG=1 prints tracebacks.")
    parser.add_argument("spec", type=Path,
                        help="job spec JSON file, or the name of a job shipped in configs/jobs (e.g. demo)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--profile", default=None,
                        help="backend profile name or YAML path (default: $UGEN_PROFILE or cpu)")
    parser.add_argument("--stop-at", choices=STAGES, default=None, help="stop after this stage")
    parser.add_argument("--resolution", choices=("draft", "hd", "standard"), default=None,
                        help="override video_resolution")
    return parser.parse_args(argv)


def _clear(out_dir: Path) -> None:
    """A failed render must not leave an earlier run's video looking like its result."""
    for name in CONTRACT_FILES:
        (out_dir / name).unlink(missing_ok=True)


EXIT_CONFIG = 78  # sysexits' EX_CONFIG, as the worker and the API exit on a bad setting


def spec_path(spec: Path, configs_dir: Path) -> Path:
    """The spec file as given, else the shipped job of that name (configs/jobs/<name>.json)."""
    shipped = configs_dir / "jobs" / f"{spec.name}.json"
    return shipped if not spec.exists() and spec.parent == Path() and shipped.is_file() else spec


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"ugen-render: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    args.spec = spec_path(args.spec, settings.configs_dir)
    profile = args.profile or settings.profile
    catalog = Catalog(settings.configs_dir)
    _clear(args.out)
    problems = validate_profile(profile, settings)  # before any work: what the profile lacks here
    if problems:
        print(format_problems(problems, profile=profile), file=sys.stderr)
        error = BackendUnavailable(f"profile {profile} cannot run here",
                                   details={"missing": problems})
        print(json.dumps(error.to_dict()), file=sys.stderr)
        return 1
    try:
        spec = load_spec_file(args.spec, catalog, overrides={
            "stop_at_stage": args.stop_at, "video_resolution": args.resolution})
        registry = Registry.from_settings(settings, profile=profile)
        pipeline = RenderPipeline(registry=registry, catalog=catalog, settings=settings)
        printer = ProgressPrinter(sys.stderr)
        result = pipeline.run(spec, out_dir=args.out, allow_local_files=True,
                              on_progress=printer.update, on_notice=printer.notice)
        printer.close()
    except UGenError as exc:
        _clear(args.out)
        print(json.dumps(exc.to_dict()), file=sys.stderr)
        return 1
    except Exception as exc:  # the outermost boundary: every failure ends with a code
        if os.environ.get("UGEN_DEBUG"):
            traceback.print_exc()
        _clear(args.out)
        error = as_out_of_memory(exc) or RenderFailed(f"render failed: {type(exc).__name__}: {exc}")
        print(json.dumps(error.to_dict()), file=sys.stderr)
        return 1
    print(timing_table(result.report))
    for name, path in sorted(result.artifacts.items()):
        print(f"{name:<14} {path}")
    return 0
