#!/usr/bin/env python3
"""Render one job locally.

    python scripts/render_one.py configs/jobs/demo.json --out out/demo [--profile cpu]
                                 [--stop-at STAGE] [--resolution draft]

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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.catalog import Catalog  # noqa: E402
from engine.errors import BackendUnavailable, RenderFailed, UGenError  # noqa: E402
from engine.gpu_memory import as_out_of_memory  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.spec import STAGES  # noqa: E402
from engine.spec_file import load_spec_file  # noqa: E402
from engine.terminal import ProgressPrinter, timing_table  # noqa: E402
from models.profile_check import format_problems, validate_profile  # noqa: E402
from models.registry import Registry  # noqa: E402
from pipelines.contract import CONTRACT_FILES  # noqa: E402
from pipelines.render import RenderPipeline  # noqa: E402


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Render one U-Gen job into a video.")
    parser.add_argument("spec", type=Path, help="job spec JSON file")
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


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    settings = Settings.from_env()
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
                              on_progress=printer.update)
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


if __name__ == "__main__":
    sys.exit(main())
