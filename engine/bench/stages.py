"""Where a render's time goes: repeated renders, per stage, next to two references.

    result = run_benchmark(spec, settings=Settings.from_env(), profile="cpu",
                           options=BenchOptions(repeat=3), work_dir=Path("out/bench"))
    result["summary"]["realtime_factor"]          # render seconds per video second
    result["ratios"]["render_vs_floor"]["value"]  # numerator / denominator, both measured

The pipeline is built once and renders the job once to warm up (models loaded, caches filled,
as in a worker), then `repeat` more times in this process; each run's peak memory is reset
first, so every run reports its own. Two references run in their own processes on the same
job: the encode floor (engine.bench.encode_floor) after every measured render, and a MoviePy
2 render of the same composition (engine.bench.moviepy_render) once, mid-way; alternating
keeps renders and references under similar load on a shared machine. Every ratio keeps its
numerator and denominator, so a reader can check it against the measurements it came from.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.bench import reference_scene
from engine.bench.output import environment
from engine.catalog import Catalog
from engine.errors import RenderFailed
from engine.measure import gpu_memory, measured, reset_gpu_peak
from engine.settings import Settings
from engine.spec import JobSpec
from models.registry import Registry
from pipelines.render import RenderPipeline

REFERENCES = {"floor": "engine.bench.encode_floor", "moviepy": "engine.bench.moviepy_render"}
# Targets for the 24 s demo at 1080x1920 on 2 cores; "1.5 GB" is read as 1.5e9 bytes.
TARGETS = {
    "render_vs_floor": ("<=", 1.3),
    "moviepy_speedup": (">=", 4.0),
    "realtime_factor": ("<", 1.0),
    "peak_total_mb": ("<", 1.5e9 / 2**20),
    "qa_added": ("<=", 0.15),  # the QA gate's time over the rest of the render (issue 15)
}
Log = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    repeat: int = 3
    references: tuple[str, ...] = ("floor", "moviepy")
    ring_frames: int = 90  # frames the encode floor holds in memory (see reference_encode)
    reference_timeout_s: float = 3600.0
    allow_local_files: bool = True


def build_pipeline(settings: Settings, profile: str) -> RenderPipeline:
    registry = Registry.from_settings(settings, profile=profile)
    return RenderPipeline(registry=registry, catalog=Catalog(settings.configs_dir),
                          settings=settings)


def measured_run(pipeline: RenderPipeline, spec: JobSpec, *, out_dir: Path,
                 allow_local_files: bool) -> dict[str, Any]:
    """One render with its wall, CPU and peak memory (this process and its ffmpeg children)."""
    with measured() as record:
        result = pipeline.run(spec, out_dir=out_dir, allow_local_files=allow_local_files)
    report = result.report
    record.update(stages=report["stages"], frames=report["frames"],
                  video_duration_s=report["video_duration_s"], width=report["width"],
                  height=report["height"], size_bytes=result.artifacts["final.mp4"].stat().st_size)
    return record


def capture_references(pipeline: RenderPipeline, spec: JobSpec, options: BenchOptions,
                       work_dir: Path, log: Log) -> Path | None:
    if not options.references:
        return None
    log("capturing the job's scene for the references")
    return reference_scene.capture(pipeline, spec, work=work_dir / "reference",
                                   allow_local_files=options.allow_local_files)


def reference_run(name: str, bundle: Path, options: BenchOptions, log: Log) -> dict[str, Any]:
    """One reference in its own process; a failure is returned as its error object."""
    log(f"reference: {name}")
    extra = ("--ring-frames", str(options.ring_frames)) if name == "floor" else ()
    try:
        record = reference_scene.run_reference(REFERENCES[name], bundle, extra_args=extra,
                                               timeout_s=options.reference_timeout_s)
    except RenderFailed as exc:  # kept in the result: the renders measured so far still count
        log(f"reference: {name}: failed: {exc}")
        return exc.to_dict()
    log(f"reference: {name}: {record['wall_s']:.2f} s")
    return record


def schedule(options: BenchOptions) -> list[list[str]]:
    """The references to run after each measured render.

    The floor runs after every render, so renders and floors alternate under the same load
    on a shared machine; MoviePy (slow) runs once, after the middle render.
    """
    middle = (options.repeat - 1) // 2
    return [[name for name in options.references if name == "floor" or index == middle]
            for index in range(options.repeat)]


def interleaved_runs(pipeline: RenderPipeline, spec: JobSpec, bundle: Path | None,
                     options: BenchOptions, work_dir: Path,
                     log: Log) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    runs: list[dict[str, Any]] = []
    references: dict[str, list[dict[str, Any]]] = {name: [] for name in options.references}
    for index, after in enumerate(schedule(options)):
        runs.append(measured_run(pipeline, spec, out_dir=work_dir / f"run{index + 1}",
                                 allow_local_files=options.allow_local_files))
        log(f"run {index + 1}/{options.repeat}: {runs[-1]['wall_s']:.2f} s")
        for name in after:
            references[name].append(reference_run(name, bundle, options, log))
    return runs, references


def combine(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A reference's runs as one: the median of each number (the largest of each peak), the
    first run's other fields; the first failure if any run failed."""
    failed = [record for record in records if "error" in record]
    if failed:
        return failed[0]
    combined = {}
    for key, value in records[0].items():
        numbers = [r[key] for r in records]
        if isinstance(value, bool) or not isinstance(value, int | float) or None in numbers:
            combined[key] = value
        else:
            combined[key] = max(numbers) if "peak" in key else statistics.median(numbers)
    return combined | {"runs": len(records)}


def succeeded(references: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: ref for name, ref in references.items() if "error" not in ref}


def run_benchmark(spec: JobSpec, *, settings: Settings, profile: str, options: BenchOptions,
                  work_dir: Path, log: Log = lambda line: None) -> dict[str, Any]:
    if options.repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {options.repeat}")
    started, machine = time.time(), environment()
    pipeline = build_pipeline(settings, profile)
    reset_gpu_peak()  # a GPU backend loads during the warm-up; its weights count
    log("warm-up render")
    warmup = measured_run(pipeline, spec, out_dir=work_dir / "warmup",
                          allow_local_files=options.allow_local_files)
    bundle = capture_references(pipeline, spec, options, work_dir, log)
    runs, reference_runs = interleaved_runs(pipeline, spec, bundle, options, work_dir, log)
    machine["load_average_end"] = list(os.getloadavg())
    references = {name: combine(records) for name, records in reference_runs.items()}
    summary, measured_refs = summarize(runs), succeeded(references)
    ratios = compute_ratios(summary, measured_refs)
    return {"schema": 1, "started_unix": started, "environment": machine, "profile": profile,
            "backends": dict(pipeline.registry.profile), "codec": pipeline.codec.argv(),
            "job": job_facts(spec, runs[0]), "options": asdict(options), "warmup": warmup,
            "runs": runs, "summary": summary, "references": references,
            "reference_runs": reference_runs, "ratios": ratios,
            "targets": check_targets(summary, ratios),
            "throughput": throughput(summary, measured_refs), "gpu": gpu_memory()}


def job_facts(spec: JobSpec, run: dict[str, Any]) -> dict[str, Any]:
    return {"job_id": spec.job_id, "width": run["width"], "height": run["height"],
            "frames": run["frames"], "video_duration_s": run["video_duration_s"],
            "segment_count": spec.segment_count, "segment_duration_s": spec.segment_duration}


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the measured runs (peaks: the largest); shares of the median total."""
    total = statistics.median(r["wall_s"] for r in runs)
    stages = {}
    for name in runs[0]["stages"]:
        wall = statistics.median(r["stages"][name]["wall_s"] for r in runs)
        stages[name] = {"wall_s": wall,
                        "cpu_s": statistics.median(r["stages"][name]["cpu_s"] for r in runs),
                        "peak_rss_mb": max(r["stages"][name]["peak_rss_mb"] for r in runs),
                        "share": wall / total}
    frames, video_s = runs[0]["frames"], runs[0]["video_duration_s"]
    child = [r["child_peak_rss_mb"] or 0.0 for r in runs]
    return {
        "runs": len(runs), "stages": stages, "total_wall_s": total,
        "total_wall_s_min": min(r["wall_s"] for r in runs),
        "total_wall_s_max": max(r["wall_s"] for r in runs),
        "total_cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "realtime_factor": total / video_s, "render_fps": frames / total,
        "generation_fps": frames / stages["generation"]["wall_s"],
        "generation_cpu_ms_per_frame": 1000 * stages["generation"]["cpu_s"] / frames,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "ffmpeg_peak_rss_mb": max(child),
        "peak_total_mb": max(r["peak_rss_mb"] + c for r, c in zip(runs, child, strict=True)),
        # QA is a sub-stage of `complete` (pipelines/render.py); None for a stopped render
        "qa_wall_s": statistics.median(r["stages"]["complete"].get("qa_wall_s", 0.0)
                                       for r in runs) if "complete" in runs[0]["stages"] else None,
    }


def _ratio(num_name: str, num: float, den_name: str, den: float) -> dict[str, Any]:
    return {"value": num / den, "numerator": {"what": num_name, "value": num},
            "denominator": {"what": den_name, "value": den}}


def compute_ratios(summary: dict[str, Any], references: dict[str, dict]) -> dict[str, Any]:
    """Each ratio from measured numbers only; a missing reference leaves its ratios out."""
    stages, total = summary["stages"], summary["total_wall_s"]
    generation = stages["generation"]["wall_s"]
    video_part = generation + stages["concat"]["wall_s"]
    ratios: dict[str, Any] = {}
    if summary.get("qa_wall_s"):
        qa = summary["qa_wall_s"]
        ratios["qa_added"] = _ratio("QA wall s (median)", qa,
                                    "render wall s without QA (median)", total - qa)
    if "floor" in references:
        floor = references["floor"]
        ratios["render_vs_floor"] = _ratio("render wall s (median)", total,
                                           "encode floor wall s", floor["wall_s"])
        ratios["generation_vs_floor"] = _ratio("generation wall s (median)", generation,
                                               "encode floor wall s", floor["wall_s"])
        ratios["render_vs_floor_cpu"] = _ratio("render CPU s (median)", summary["total_cpu_s"],
                                               "encode floor CPU s", floor["cpu_s"])
    if "moviepy" in references:
        movie = references["moviepy"]
        ratios["moviepy_speedup"] = _ratio("MoviePy write_videofile wall s", movie["write_wall_s"],
                                           "generation + concat wall s (median)", video_part)
        ratios["moviepy_speedup_render"] = _ratio(
            "other stages + MoviePy write_videofile wall s",
            total - video_part + movie["write_wall_s"], "render wall s (median)", total)
        if "floor" in references:  # the most any pipeline with this encoder could show
            ratios["moviepy_vs_floor"] = _ratio("MoviePy write_videofile wall s",
                                                movie["write_wall_s"], "encode floor wall s",
                                                references["floor"]["wall_s"])
        ratios["moviepy_speedup_cpu"] = _ratio(
            "MoviePy write_videofile CPU s", movie["write_cpu_s"],
            "generation + concat CPU s (median)",
            stages["generation"]["cpu_s"] + stages["concat"]["cpu_s"])
    return ratios


def check_targets(summary: dict[str, Any], ratios: dict[str, Any]) -> dict[str, Any]:
    measured = {"realtime_factor": summary["realtime_factor"],
                "peak_total_mb": summary["peak_total_mb"],
                **{name: r["value"] for name, r in ratios.items()}}
    checks = {}
    for name, (op, limit) in TARGETS.items():
        if name in measured:
            value = measured[name]
            met = {"<": value < limit, "<=": value <= limit, ">=": value >= limit}[op]
            checks[name] = {"value": value, "target": f"{op} {limit:.4g}", "met": met}
    return checks


def throughput(summary: dict[str, Any], references: dict[str, dict]) -> dict[str, Any]:
    """Frames per second of each part on its own, next to the pipeline's generation rate."""
    rates = {"generation_fps": summary["generation_fps"], "render_fps": summary["render_fps"]}
    if "floor" in references:
        floor = references["floor"]
        rates.update(encoder_fps=floor["fps"], lipsync_fps=floor["lipsync_fps"],
                     compose_fps=floor["compose_fps"],
                     encoder_cpu_ms_per_frame=1000 * floor["cpu_s"] / floor["frames"],
                     lipsync_cpu_ms_per_frame=floor["animate_cpu_ms_per_frame"],
                     compose_cpu_ms_per_frame=floor["compose_cpu_ms_per_frame"])
    if "moviepy" in references:
        rates["moviepy_fps"] = references["moviepy"]["write_fps"]
    return rates
