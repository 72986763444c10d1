#!/usr/bin/env python3
"""Stage benchmark: where a render's time goes, next to the encode floor and MoviePy.

    python scripts/bench_stages.py --spec configs/jobs/demo.json [--profile cpu] [--repeat 3]
                                   [--json out/bench.json] [--plot out/bench.png]
                                   [--references floor,moviepy] [--resolution draft]

Renders the job once to warm up and then --repeat times in this process (as a worker does),
runs the two references in their own processes, and prints per-stage wall time, CPU time,
peak memory and share, the realtime factor, frames per second and every ratio with its
target. A relative local product_image_url is read relative to the spec file. Exit code 0
when the benchmark and its references ran (targets met or not); 1 when the render failed
(the error object on stderr) or a reference did (the table and JSON still written, the
reference's error in them); 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.bench.output import format_table, plot, write_json  # noqa: E402
from engine.bench.stages import REFERENCES, BenchOptions, run_benchmark  # noqa: E402
from engine.catalog import Catalog  # noqa: E402
from engine.errors import UGenError  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.spec_file import load_spec_file  # noqa: E402


def _references(text: str) -> tuple[str, ...]:
    names = tuple(name for name in text.split(",") if name)
    unknown = [name for name in names if name not in REFERENCES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown reference(s) {unknown}; "
                                         f"known: {list(REFERENCES)}")
    return names


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark a render stage by stage.")
    parser.add_argument("--spec", type=Path, required=True, help="job spec JSON file")
    parser.add_argument("--profile", default=None, help="backend profile (default: cpu)")
    parser.add_argument("--repeat", type=int, default=3, help="measured renders after a warm-up")
    parser.add_argument("--json", type=Path, default=None, help="write the full result here")
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG of stage times")
    parser.add_argument("--references", type=_references, default=tuple(REFERENCES),
                        help="comma-separated: floor,moviepy (empty string: none)")
    parser.add_argument("--resolution", choices=("draft", "hd", "standard"), default=None,
                        help="override video_resolution")
    parser.add_argument("--ring-frames", type=int, default=90,
                        help="frames the encode floor keeps in memory")
    parser.add_argument("--work", type=Path, default=None,
                        help="keep renders and reference videos here (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        parser.error("--plot needs matplotlib: pip install 'matplotlib>=3.8'")
    if "moviepy" in args.references and importlib.util.find_spec("moviepy") is None:
        parser.error("the MoviePy reference needs moviepy 2: pip install 'moviepy>=2.2,<3' "
                     "(or --references floor)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    settings = Settings.from_env()
    work = args.work or Path(tempfile.mkdtemp(prefix="ugen-bench-", dir=settings.work_root))
    options = BenchOptions(repeat=args.repeat, references=args.references,
                           ring_frames=args.ring_frames)
    try:
        spec = load_spec_file(args.spec, Catalog(settings.configs_dir),
                              overrides={"video_resolution": args.resolution})
        result = run_benchmark(spec, settings=settings, profile=args.profile or settings.profile,
                               options=options, work_dir=work,
                               log=lambda line: print(line, file=sys.stderr, flush=True))
    except UGenError as exc:
        print(json.dumps(exc.to_dict()), file=sys.stderr)
        return 1
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(format_table(result))
    if args.json:
        write_json(result, args.json)
    if args.plot:
        plot(result, args.plot)
    failed = [name for name, ref in result["references"].items() if "error" in ref]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
