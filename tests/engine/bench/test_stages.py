"""The stage benchmark: a real run on a tiny job (360x640, one 3 s segment, one measured render
after a warm-up, both references), and unit tests of its arithmetic and its memory probes."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import statistics
import subprocess
import sys

import av
import numpy as np
import pytest
from PIL import Image

from engine.bench.encode_floor import ping_pong
from engine.bench.stages import BenchOptions, combine, compute_ratios, schedule, summarize
from engine.measure import ChildPeaks, gpu_memory, measured, own_peak_mb, reset_own_peak
from engine.settings import REPO_ROOT

STAGES = ["prepare", "agents", "init", "generation", "concat", "audio", "captions", "complete"]
TINY_JOB = {"product_name": "Espresso Cups", "video_resolution": "draft", "segment_count": 1,
            "segment_duration": 3, "persona_id": "grace", "seed": 7,
            "product_image_url": str(REPO_ROOT / "configs" / "jobs" / "espresso_cup.png")}


def _cli():
    spec = importlib.util.spec_from_file_location("bench_stages",
                                                  REPO_ROOT / "scripts" / "bench_stages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """One benchmark run through the command line; (exit code, stdout, result, out dir)."""
    out = tmp_path_factory.mktemp("bench")
    job = out / "tiny.json"
    job.write_text(json.dumps(TINY_JOB))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("UGEN_WORK_ROOT", str(tmp_path_factory.mktemp("work")))
        env.setenv("UGEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        stdout = out / "stdout.txt"
        with stdout.open("w") as sink, contextlib.redirect_stdout(sink):
            code = _cli().main(["--spec", str(job), "--repeat", "1", "--json",
                                str(out / "bench.json"), "--plot", str(out / "bench.png"),
                                "--work", str(out / "work")])
    return code, stdout.read_text(), json.loads((out / "bench.json").read_text()), out


@pytest.mark.integration
def test_the_benchmark_runs_and_reports_every_stage_with_wall_cpu_peak_and_share(bench):
    code, _, result, _ = bench
    assert code == 0
    assert len(result["runs"]) == 1 and result["warmup"]["stages"]
    stages = result["summary"]["stages"]
    assert list(stages) == STAGES
    for name, stage in stages.items():
        assert stage["wall_s"] >= 0 and stage["cpu_s"] >= 0, name
        assert stage["peak_rss_mb"] > 50, name
        assert 0 <= stage["share"] <= 1, name
    assert 0.9 < sum(s["share"] for s in stages.values()) <= 1.0


@pytest.mark.integration
def test_the_whole_render_has_realtime_factor_fps_and_honest_peaks(bench):
    _, _, result, _ = bench
    run, summary = result["runs"][0], result["summary"]
    job = result["job"]
    assert job["frames"] == 120 and (job["width"], job["height"]) == (360, 640)
    assert summary["realtime_factor"] == pytest.approx(run["wall_s"] / run["video_duration_s"])
    assert summary["generation_fps"] == pytest.approx(120 / run["stages"]["generation"]["wall_s"])
    # ffmpeg's own peak, far below this process's: the fork-inherited figure is not used
    assert 5 < summary["ffmpeg_peak_rss_mb"] < summary["peak_rss_mb"]
    assert any(name.startswith("ffmpeg") for name in run["child_peaks_mb"])
    assert summary["peak_total_mb"] == pytest.approx(run["peak_rss_mb"] + run["child_peak_rss_mb"])


@pytest.mark.integration
def test_every_ratio_is_its_measured_numerator_over_its_measured_denominator(bench):
    _, _, result, _ = bench
    ratios, refs, summary = result["ratios"], result["references"], result["summary"]
    assert set(ratios) == {"render_vs_floor", "generation_vs_floor", "render_vs_floor_cpu",
                           "moviepy_speedup", "moviepy_speedup_render", "moviepy_speedup_cpu",
                           "moviepy_vs_floor", "qa_added"}
    for name, ratio in ratios.items():
        num, den = ratio["numerator"]["value"], ratio["denominator"]["value"]
        assert num > 0 and den > 0, name
        assert ratio["value"] == pytest.approx(num / den), name
    total = statistics.median(r["wall_s"] for r in result["runs"])
    video_part = summary["stages"]["generation"]["wall_s"] + summary["stages"]["concat"]["wall_s"]
    assert ratios["render_vs_floor"]["numerator"]["value"] == total
    floors = [floor["wall_s"] for floor in result["reference_runs"]["floor"]]
    assert len(floors) == len(result["runs"])
    assert ratios["render_vs_floor"]["denominator"]["value"] == statistics.median(floors)
    assert ratios["moviepy_speedup"]["numerator"]["value"] == refs["moviepy"]["write_wall_s"]
    assert ratios["moviepy_speedup"]["denominator"]["value"] == pytest.approx(video_part)
    qa = statistics.median(r["stages"]["complete"]["qa_wall_s"] for r in result["runs"])
    assert ratios["qa_added"]["numerator"]["value"] == pytest.approx(qa)
    assert ratios["qa_added"]["denominator"]["value"] == pytest.approx(total - qa)
    for target in result["targets"].values():
        assert isinstance(target["met"], bool)


def test_a_bad_command_line_exits_with_2(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        _cli().main(["--spec", str(tmp_path / "job.json"), "--repeat", "0"])
    assert exit_info.value.code == 2


def test_ratios_follow_the_measurements_they_come_from():
    runs = [{"wall_s": w, "cpu_s": w, "peak_rss_mb": 100.0, "child_peak_rss_mb": 20.0,
             "frames": 90, "video_duration_s": 3.0,
             "stages": {s: {"wall_s": w / 8, "cpu_s": w / 8, "peak_rss_mb": 100.0} for s in STAGES}}
            for w in (4.0, 8.0, 6.0)]
    summary = summarize(runs)
    assert summary["total_wall_s"] == 6.0 and summary["realtime_factor"] == 2.0
    slow = compute_ratios(summary, {"floor": {"wall_s": 2.0, "cpu_s": 3.0},
                                    "moviepy": {"write_wall_s": 9.0, "write_cpu_s": 9.0}})
    fast = compute_ratios(summary, {"floor": {"wall_s": 4.0, "cpu_s": 6.0},
                                    "moviepy": {"write_wall_s": 3.0, "write_cpu_s": 3.0}})
    assert slow["render_vs_floor"]["value"] == 3.0 and fast["render_vs_floor"]["value"] == 1.5
    assert slow["moviepy_speedup"]["value"] == 6.0 and fast["moviepy_speedup"]["value"] == 2.0
    assert slow["render_vs_floor_cpu"]["value"] == 2.0
    assert fast["render_vs_floor_cpu"]["value"] == 1.0
    assert compute_ratios(summary, {}) == {}


@pytest.mark.integration
def test_the_references_render_the_same_job_at_the_same_size_and_length(bench):
    _, _, result, out = bench
    floor, movie = result["references"]["floor"], result["references"]["moviepy"]
    assert floor["frames"] == movie["frames"] == 120
    assert floor["ring_frames"] == 90 and floor["codec"] == result["codec"]
    assert floor["lipsync_fps"] > 0 and floor["compose_fps"] > 0 and floor["fps"] > 0
    with av.open(str(out / "work" / "reference" / "moviepy_reference.mp4")) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (360, 640)
        assert video.codec_context.name == "h264" and container.streams.audio
        assert sum(1 for _ in container.decode(video=0)) == 120
    with av.open(str(out / "work" / "reference" / "encode_floor.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 120


@pytest.mark.integration
def test_the_json_names_the_machine_the_libraries_and_the_encoder(bench):
    _, _, result, _ = bench
    env = result["environment"]
    assert env["cpu_count"] >= 1 and env["cpus_usable"] >= 1 and len(env["load_average"]) == 3
    assert env["libraries"]["moviepy"].startswith("2.") and env["libraries"]["numpy"]
    assert env["ffmpeg"]["path"] and "ffmpeg version" in env["ffmpeg"]["version"]
    assert result["codec"][:6] == ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20"]
    assert result["gpu"] is None or result["gpu"]["peak_allocated_mb"] >= 0


@pytest.mark.integration
def test_the_table_and_the_plot_are_written(bench):
    _, stdout, _, out = bench
    for word in [*STAGES, "realtime factor", "encode floor", "MoviePy", "render / encode floor"]:
        assert word in stdout, word
    with Image.open(out / "bench.png") as image:
        assert image.format == "PNG" and image.width > 600


def test_the_floor_follows_every_render_and_moviepy_runs_once_mid_way():
    assert schedule(BenchOptions(repeat=3)) == [["floor"], ["floor", "moviepy"], ["floor"]]
    assert schedule(BenchOptions(repeat=1, references=("moviepy",))) == [["moviepy"]]
    runs = [{"wall_s": 3.0, "peak_rss_mb": 10.0, "codec": ["x"]},
            {"wall_s": 1.0, "peak_rss_mb": 30.0, "codec": ["x"]},
            {"wall_s": 2.0, "peak_rss_mb": 20.0, "codec": ["x"]}]
    assert combine(runs) == {"wall_s": 2.0, "peak_rss_mb": 30.0, "codec": ["x"], "runs": 3}
    failure = {"error": {"code": "RENDER_FAILED"}}
    assert combine([*runs, failure]) == failure


def test_the_encode_floor_plays_its_ring_forward_and_back():
    assert ping_pong(7, 3) == [0, 1, 2, 1, 0, 1, 2]
    assert ping_pong(4, 1) == [0, 0, 0, 0]
    assert ping_pong(3, 5) == [0, 1, 2]


def test_a_child_reports_its_own_peak_not_the_parent_s_at_the_fork():
    ballast = np.ones(200 * 2**20 // 8)  # this process grows by 200 MiB before the fork
    with_ballast = own_peak_mb()
    code = "import numpy as np, time; a = np.ones(60 * 2**20 // 8); time.sleep(0.6)"
    with ChildPeaks(interval_s=0.02) as children:
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert 60 < children.peak_mb < 150 < with_ballast
    del ballast
    reset_own_peak()
    assert own_peak_mb() < with_ballast - 150  # after a reset the freed ballast no longer counts


def test_a_child_caught_between_fork_and_exec_is_not_counted_as_one():
    ballast = np.ones(200 * 2**20 // 8)
    with ChildPeaks(interval_s=0.001) as children:
        for _ in range(100):
            subprocess.run(["true"], check=True, timeout=10)
    del ballast
    assert all(peak < 50 for peak in children.by_name.values()), children.by_name


def test_measured_blocks_record_wall_cpu_and_peak():
    with measured() as record:
        block = np.ones(100 * 2**20 // 8)
        block.sum()
    assert record["wall_s"] > 0 and record["cpu_s"] > 0
    assert record["peak_rss_mb"] >= 100
    assert gpu_memory() is None or "device" in gpu_memory()


def test_the_qa_sub_stage_is_reported_as_time_added_to_the_rest_of_the_render():
    runs = [{"wall_s": w, "cpu_s": w, "peak_rss_mb": 100.0, "child_peak_rss_mb": 20.0,
             "frames": 90, "video_duration_s": 3.0,
             "stages": {s: {"wall_s": w / 8, "cpu_s": w / 8, "peak_rss_mb": 100.0,
                            **({"qa_wall_s": w / 11} if s == "complete" else {})}
                        for s in STAGES}}
            for w in (11.0, 22.0, 16.5)]
    summary = summarize(runs)
    assert summary["qa_wall_s"] == 1.5
    added = compute_ratios(summary, {})["qa_added"]
    assert added["value"] == pytest.approx(0.1)
    assert (added["numerator"]["value"], added["denominator"]["value"]) == (1.5, 15.0)
