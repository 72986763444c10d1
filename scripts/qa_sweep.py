#!/usr/bin/env python3
"""The QA gate's false-alarm sweep: the example jobs over N seeds, scores at `standard`.

    python scripts/qa_sweep.py --seeds 10 --resolution draft --json out/qa_sweep.json

Exit code 0 when every render scores at least 0.70 (standard), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.bench.qa_sweep import EXAMPLES, run_sweep  # noqa: E402
from engine.bench.stages import build_pipeline  # noqa: E402
from engine.settings import Settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the example jobs over seeds; QA scores.")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--resolution", choices=("draft", "hd", "standard"), default="draft")
    parser.add_argument("--json", type=Path, default=Path("out/qa_sweep.json"))
    parser.add_argument("--work", type=Path, default=Path("out/qa_sweep"))
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    pipeline = build_pipeline(settings, settings.profile)
    specs = [settings.configs_dir / "jobs" / name for name in EXAMPLES]
    result = run_sweep(pipeline, specs, seeds=range(args.seeds), resolution=args.resolution,
                       work_dir=args.work)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    for name, job in result["jobs"].items():
        print(f"{name}: min score {job['min_score']:.3f}, min by check {job['min_by_check']}")
    return 0 if result["all_pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
