"""The stage benchmark and the references a render is measured against.

    result = run_benchmark(spec, settings=settings, profile="cpu", options=BenchOptions(repeat=3),
                           work_dir=Path("out/bench"))
    print(format_table(result)); write_json(result, path); plot(result, png)

    stages.py           run_benchmark: repeated renders per stage, ratios, targets
    output.py           the table, the JSON and the plot; the machine it ran on
    reference_scene.py  the render's own composition captured for the references to rebuild
    encode_floor.py     the same frames through the same encoder, nothing else (a subprocess)
    moviepy_render.py   the same ad built with MoviePy 2 (a subprocess)
    lipsync.py          lip-sync throughput of the MuseTalk backend (scripts/bench_lipsync.py)
    gpu_smoke.py        a draft render on the GPU profile with random weights (scripts/check_gpu_profile.py)

Anything that measures or compares a render lives here, never in pipelines/.
"""

from engine.bench.output import format_table, plot, write_json
from engine.bench.stages import REFERENCES, BenchOptions, run_benchmark

__all__ = ["REFERENCES", "BenchOptions", "format_table", "plot", "run_benchmark", "write_json"]
