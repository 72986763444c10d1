"""The stage benchmark's outputs: the machine it ran on, a table, JSON and a plot.

    env = environment()                   # CPUs, memory, load, library versions, ffmpeg
    print(format_table(result))           # result from engine.bench.stages.run_benchmark
    write_json(result, Path("bench.json"))
    plot(result, Path("bench.png"))       # stage times per run, references below

matplotlib is imported only inside `plot`, so the rest works without it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pipelines.encode.ffmpeg import ffmpeg_exe

LIBRARIES = ("numpy", "pillow", "opencv-python-headless", "onnxruntime", "piper-tts",
             "imageio-ffmpeg", "moviepy", "matplotlib", "torch", "pydantic")
STAGE_COLOURS = ("#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
                 "#b3de69", "#fccde5")
REFERENCE_COLOURS = {"encode floor": "#555555", "MoviePy build": "#8c564b",
                     "MoviePy write": "#d62728"}


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_total_mb() -> float | None:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None
    return pages * size / 2**20


def _ffmpeg() -> dict[str, str | None]:
    exe = ffmpeg_exe()
    try:
        out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    return {"path": exe, "version": out.splitlines()[0] if out else None}


def environment() -> dict[str, Any]:
    """What the numbers depend on; the load average says how busy the machine was."""
    return {
        "python": platform.python_version(), "platform": platform.platform(),
        "cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(), "memory_total_mb": _memory_total_mb(),
        "load_average": list(os.getloadavg()),
        "libraries": {name: _version(name) for name in LIBRARIES}, "ffmpeg": _ffmpeg(),
    }


def write_json(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")


def _stage_rows(result: dict[str, Any]) -> list[str]:
    summary = result["summary"]
    rows = [f"{'stage':<12}{'wall s':>9}{'cpu s':>9}{'peak MiB':>10}{'share':>8}"]
    for name, s in summary["stages"].items():
        rows.append(f"{name:<12}{s['wall_s']:>9.2f}{s['cpu_s']:>9.2f}{s['peak_rss_mb']:>10.0f}"
                    f"{100 * s['share']:>7.1f}%")
    rows.append(f"{'render':<12}{summary['total_wall_s']:>9.2f}{summary['total_cpu_s']:>9.2f}"
                f"{summary['peak_rss_mb']:>10.0f}  median of {summary['runs']} after a warm-up"
                f" (min {summary['total_wall_s_min']:.2f}, max {summary['total_wall_s_max']:.2f})")
    return rows


def _whole_rows(result: dict[str, Any]) -> list[str]:
    job, summary, env = result["job"], result["summary"], result["environment"]
    return [
        f"machine: {env['cpus_usable']} CPUs, load average {env['load_average'][0]:.2f} at the "
        f"start, {env.get('load_average_end', [float('nan')])[0]:.2f} at the end",
        f"video {job['video_duration_s']:.2f} s, {job['frames']} frames at "
        f"{job['width']}x{job['height']}",
        f"realtime factor {summary['realtime_factor']:.3f} (render s per video s); "
        f"{summary['generation_fps']:.1f} frames/s in generation, "
        f"{summary['render_fps']:.1f} over the whole render; generation CPU "
        f"{summary['generation_cpu_ms_per_frame']:.1f} ms per frame",
        f"peak memory: python {summary['peak_rss_mb']:.0f} MiB, ffmpeg "
        f"{summary['ffmpeg_peak_rss_mb']:.0f} MiB, together {summary['peak_total_mb']:.0f} MiB",
    ]


def _reference_rows(result: dict[str, Any]) -> list[str]:
    refs = result["references"]
    if not refs:
        return []
    rows = [f"{'reference':<30}{'wall s':>9}{'cpu s':>9}{'peak MiB':>10}{'ffmpeg':>8}{'fps':>8}"]
    names = {"floor": "encode floor", "moviepy": "MoviePy (build+write)"}
    for key, ref in refs.items():
        if "error" in ref:
            rows.append(f"{names.get(key, key):<30} failed: {ref['error']['message']}")
            continue
        label = names.get(key, key) + (f", median of {ref['runs']}" if ref["runs"] > 1 else "")
        rows.append(f"{label:<30}{ref['wall_s']:>9.2f}{ref['cpu_s']:>9.2f}"
                    f"{ref['peak_rss_mb']:>10.0f}{ref['child_peak_rss_mb'] or 0:>8.0f}"
                    f"{ref['fps']:>8.1f}")
    if "write_wall_s" in refs.get("moviepy", {}):
        m = refs["moviepy"]
        rows.append(f"  MoviePy {m['moviepy_version']}: building clips {m['build_wall_s']:.2f} s,"
                    f" write_videofile {m['write_wall_s']:.2f} s ({m['write_fps']:.1f} fps)")
    rates = result["throughput"]
    if "lipsync_fps" in rates:
        rows.append(f"  alone on the same frames: lip-sync {rates['lipsync_fps']:.1f} fps, "
                    f"compose {rates['compose_fps']:.1f} fps, "
                    f"encoder {rates['encoder_fps']:.1f} fps")
        rows.append(f"  CPU ms per frame: lip-sync {rates['lipsync_cpu_ms_per_frame']:.1f}, "
                    f"compose {rates['compose_cpu_ms_per_frame']:.1f}, "
                    f"encoder incl. pipe {rates['encoder_cpu_ms_per_frame']:.1f}")
    return rows


def _ratio_rows(result: dict[str, Any]) -> list[str]:
    labels = {"render_vs_floor": "render / encode floor",
              "generation_vs_floor": "generation / encode floor",
              "moviepy_speedup": "MoviePy / ours, video part",
              "moviepy_speedup_render": "MoviePy / ours, whole render",
              "render_vs_floor_cpu": "render / encode floor, CPU s",
              "moviepy_speedup_cpu": "MoviePy / ours, video part CPU s",
              "moviepy_vs_floor": "MoviePy / encode floor (ceiling)",
              "realtime_factor": "realtime factor", "peak_total_mb": "peak MiB, python+ffmpeg"}
    rows = [f"{'ratio':<34}{'value':>9}  {'target':<9} "]
    targets = result["targets"]
    values = {name: r["value"] for name, r in result["ratios"].items()}
    values.update({name: t["value"] for name, t in targets.items()})
    for name, value in values.items():
        target = targets.get(name)
        verdict = "" if target is None else ("met" if target["met"] else "MISSED")
        rows.append(f"{labels.get(name, name):<34}{value:>9.3f}  "
                    f"{target['target'] if target else '':<9} {verdict}")
    return rows


def format_table(result: dict[str, Any]) -> str:
    gpu = result.get("gpu")
    gpu_rows = [] if not gpu else [f"GPU {gpu['device']}: peak {gpu['peak_allocated_mb']:.0f} MiB"
                                   f" allocated, {gpu['peak_reserved_mb']:.0f} MiB reserved"]
    blocks = [_stage_rows(result), _whole_rows(result) + gpu_rows, _reference_rows(result),
              _ratio_rows(result)]
    return "\n\n".join("\n".join(block) for block in blocks if block)


def _bars(result: dict[str, Any]) -> list[tuple[str, list[tuple[str, float]]]]:
    """(label, [(part, seconds), ...]) per bar: the warm-up, each run, then the references."""
    runs = [("warm-up", result["warmup"])] + [(f"run {i + 1}", r)
                                              for i, r in enumerate(result["runs"])]
    bars = [(label, [(name, s["wall_s"]) for name, s in run["stages"].items()])
            for label, run in runs]
    for index, floor in enumerate(result["reference_runs"].get("floor", [])):
        if "error" not in floor:
            bars.append((f"encode floor {index + 1}", [("encode floor", floor["wall_s"])]))
    for movie in result["reference_runs"].get("moviepy", []):
        if "error" not in movie:
            bars.append(("MoviePy", [("MoviePy build", movie["build_wall_s"]),
                                     ("MoviePy write", movie["write_wall_s"])]))
    return bars


def _draw_bars(ax: Any, bars: list[tuple[str, list[tuple[str, float]]]],
               colours: dict[str, str]) -> None:
    labelled: set[str] = set()
    for row, (_, segments) in enumerate(reversed(bars)):
        left = 0.0
        for part, seconds in segments:
            ax.barh(row, seconds, left=left, color=colours.get(part, "#999999"),
                    edgecolor="white", label=None if part in labelled else part)
            labelled.add(part)
            left += seconds
    ax.set_yticks(range(len(bars)), [label for label, _ in reversed(bars)])


def plot(result: dict[str, Any], path: Path) -> None:
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    bars = _bars(result)
    colours = {name: STAGE_COLOURS[i % len(STAGE_COLOURS)]
               for i, name in enumerate(result["summary"]["stages"])} | REFERENCE_COLOURS
    fig = Figure(figsize=(11, 1.6 + 0.45 * len(bars)))
    ax = fig.subplots()
    _draw_bars(ax, bars, colours)
    job = result["job"]
    ax.axvline(job["video_duration_s"], color="black", linestyle="--", linewidth=1,
               label="video length (realtime)")
    ax.set_xlabel("wall time, s")
    ax.set_title(f"{job['width']}x{job['height']}, {job['video_duration_s']:.1f} s video, "
                 f"profile {result['profile']}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
