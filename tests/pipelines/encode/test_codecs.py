"""NVENC selection and fallback, on a machine without a GPU: the real probe fails, a forced
NVENC encode falls back to libx264 within the video, and the output still meets the contract."""

from __future__ import annotations

import logging
import os
import struct
import subprocess

import numpy as np
import pytest

from engine.errors import EncoderError
from pipelines.encode import codecs
from pipelines.encode.codecs import LIBX264, NVENC, VideoCodec, codec_for_profile, probe_nvenc
from pipelines.encode.encoder import FrameEncoder
from pipelines.encode.ffmpeg import ffmpeg_exe
from pipelines.render import RenderPipeline
from tests.conftest import ffprobe, render

CONTRACT = {"codec_name": "h264", "profile": "High", "pix_fmt": "yuv420p", "color_space": "bt709",
            "color_primaries": "bt709", "color_transfer": "bt709", "color_range": "tv",
            "r_frame_rate": "30/1", "avg_frame_rate": "30/1"}


@pytest.fixture
def no_gpu():
    probe = probe_nvenc()
    if probe.ok:
        pytest.skip("this machine has a working NVENC: the fallback cannot be observed here")
    return probe


@pytest.fixture(autouse=True)
def fresh_failures():
    codecs.forget_failures()
    yield
    codecs.forget_failures()


def _warnings(caplog, text):
    return [r for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


def _video_stream(path):
    return next(s for s in ffprobe(path)["streams"] if s["codec_type"] == "video")


def _encoded_by_x264(path):
    return b"x264 - core" in path.read_bytes()  # libx264's own SEI message in the stream


def _moov_before_mdat(path):
    data, offset, kinds = path.read_bytes(), 0, []
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        kinds.append(kind)
        if size < 8:
            break
        offset += size
    return kinds.index(b"moov") < kinds.index(b"mdat")


def test_the_nvenc_probe_really_runs_ffmpeg_and_reports_why_it_failed(no_gpu):
    assert not no_gpu.ok
    assert no_gpu.reason and "Conversion failed" not in no_gpu.reason  # the cause, not the echo
    assert probe_nvenc() is no_gpu  # once per process


def test_a_profile_asking_for_nvenc_gets_libx264_and_one_log_line_saying_why(no_gpu, caplog):
    with caplog.at_level(logging.INFO, logger="pipelines.encode.codecs"):
        codec = codec_for_profile("nvenc", override="")
    assert codec == LIBX264
    lines = _warnings(caplog, "h264_nvenc is not available here")
    assert len(lines) == 1 and no_gpu.reason in lines[0].getMessage()


def test_ugen_encoder_overrides_the_profile(monkeypatch):
    assert codec_for_profile("nvenc", override="libx264") == LIBX264
    assert codec_for_profile("libx264", override="nvenc") == NVENC  # forced: no probe
    monkeypatch.setenv("UGEN_ENCODER", "libx264")
    assert codec_for_profile({"backend": "nvenc"}) == LIBX264
    with pytest.raises(ValueError, match="UGEN_ENCODER"):
        codec_for_profile("libx264", override="hevc")
    with pytest.raises(ValueError, match="unknown encoder"):
        codec_for_profile("x265", override="")


def test_every_nvenc_option_is_one_the_bundled_ffmpeg_accepts():
    help_text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-h", "encoder=h264_nvenc"],
                               capture_output=True, text=True, timeout=30, check=True).stdout
    argv = NVENC.argv()
    options = {argv[i]: argv[i + 1] for i in range(0, len(argv), 2)}
    private = {k: v for k, v in options.items() if k not in ("-c:v", "-profile:v", "-pix_fmt", "-b:v")}
    for option, value in private.items():
        assert f"\n  {option} " in help_text, option
        if not value.lstrip("-").isdigit():
            assert f"\n     {value} " in help_text, (option, value)  # a named constant
    assert "yuv420p" in help_text.split("Supported pixel formats:")[1].splitlines()[0]


def test_a_forced_nvenc_encode_falls_back_within_the_video_and_meets_the_contract(
        no_gpu, tmp_path, caplog):
    out = tmp_path / "video.mp4"
    enc = FrameEncoder(out, width=360, height=640, fps=30, codec=NVENC)
    with caplog.at_level(logging.WARNING, logger="pipelines.encode.encoder"), enc:
        for index in range(45):
            enc.write(np.full((640, 360, 3), index * 5, np.uint8))
    assert enc.codec == LIBX264 and enc.fallback_reason == no_gpu.reason
    assert len(_warnings(caplog, "h264_nvenc could not start")) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video.mp4"]  # no partial file left
    stream = _video_stream(out)
    assert {k: stream.get(k) for k in CONTRACT} == CONTRACT
    assert (stream["width"], stream["height"], stream["nb_frames"]) == (360, 640, "45")
    assert float(stream["duration"]) == pytest.approx(1.5, abs=1 / 30)
    assert _encoded_by_x264(out)


def test_an_encoder_that_dies_mid_video_leaves_no_file_and_this_process_stops_using_it(
        tmp_path, caplog):
    # Stands in for NVENC failing after it opened (a GPU fault): a codec with a fallback whose
    # ffmpeg is killed mid-video. Its frames are gone, so the video fails (a transient
    # ENCODER_FAILED: the job is retried) and the retry encodes with the fallback.
    flaky = VideoCodec(preset="ultrafast", fallback=LIBX264)
    out = tmp_path / "video.mp4"
    enc = FrameEncoder(out, width=64, height=64, fps=30, codec=flaky, timeout_s=60)
    with caplog.at_level(logging.WARNING), pytest.raises(EncoderError) as caught, enc:
        for index in range(300):
            enc.write(np.full((64, 64, 3), index % 250, np.uint8))
            if index == 20:
                assert enc._session.started.wait(30)
                os.kill(enc._proc.pid, 9)
    assert caught.value.retryable and caught.value.details["codec"] == "libx264"
    assert list(tmp_path.iterdir()) == []
    assert len(_warnings(caplog, "failed mid-video")) == 1
    with FrameEncoder(out, width=64, height=64, fps=30, codec=flaky) as retry:
        for _ in range(3):
            retry.write(np.zeros((64, 64, 3), np.uint8))
    assert retry.codec == LIBX264 and out.is_file()


@pytest.mark.integration
def test_a_forced_nvenc_render_falls_back_and_the_final_video_meets_the_contract(
        no_gpu, pipeline, tmp_path, monkeypatch, caplog, ffprobe_available):
    monkeypatch.setenv("UGEN_ENCODER", "nvenc")
    forced = RenderPipeline(registry=pipeline.registry, catalog=pipeline.catalog,
                            settings=pipeline.settings)
    assert forced.codec == NVENC
    with caplog.at_level(logging.WARNING):
        result, _ = render(forced, tmp_path, segment_count=1, segment_duration=3,
                           custom_script="This cup keeps my espresso hot.")
    assert len(_warnings(caplog, "h264_nvenc could not start")) == 1
    final = result.artifacts["final.mp4"]
    probe = ffprobe(final)
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    audio = next(s for s in probe["streams"] if s["codec_type"] == "audio")
    assert {k: video.get(k) for k in CONTRACT} == CONTRACT
    assert (video["width"], video["height"]) == (360, 640)  # draft 9:16
    assert (audio["codec_name"], audio["profile"], audio["sample_rate"]) == ("aac", "LC", "48000")
    assert abs(float(video["duration"]) - float(audio["duration"])) <= 1 / 30
    assert float(probe["format"]["duration"]) >= 3.0
    assert _moov_before_mdat(final) and _encoded_by_x264(final)
