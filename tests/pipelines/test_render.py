"""Integration: real short renders with the default CPU backends, checked as a viewer would."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from engine.errors import MusicInvalid, MusicUrlForbidden, ProductImageUnreachable
from engine.spec import STAGES, parse_job
from models.base import WordTiming
from pipelines.captions.font import font_path
from pipelines.captions.track import CaptionTrack, caption_style_for
from pipelines.compose.layout import layout_for
from pipelines.encode.ffmpeg import decode_audio, measure_loudness
from tests.conftest import JOBS, ffprobe, render
from tests.support.servers import StaticFiles

pytestmark = pytest.mark.integration

# Two short segments; the first ends early, so the persona is silent for about a second.
SCRIPT = "This cup keeps my espresso hot. I reach for it every single morning."


@pytest.fixture(scope="module")
def vertical(pipeline, tmp_path_factory):
    out = tmp_path_factory.mktemp("vertical")
    result, events = render(pipeline, out, custom_script=SCRIPT, video_resolution="hd",
                            music_mood="chill", persona_id="eileen", seed=3)
    return result, events, out


@pytest.fixture(scope="module")
def frames(vertical):
    """Every decoded frame of the vertical render, RGB (720x1280, ~8 s: about 0.6 GB)."""
    _, _, out = vertical
    with av.open(str(out / "final.mp4")) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _words(out):
    doc = json.loads((out / "script.json").read_text())
    return [WordTiming(w["text"], w["start_s"], w["end_s"]) for w in doc["words"]]


def _top_level_boxes(path):
    boxes, offset, data = [], 0, path.read_bytes()
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8:offset + 16])[0]
        boxes.append(kind.decode("latin-1"))
        if size < 8:
            break
        offset += size
    return boxes


def test_the_video_meets_the_output_contract(vertical, ffprobe_available):
    _, _, out = vertical
    probe = ffprobe(out / "final.mp4")
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    audio = next(s for s in probe["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (video["width"], video["height"]) == (720, 1280)
    assert video["r_frame_rate"] == video["avg_frame_rate"] == "30/1"
    assert (video["color_space"], video["color_primaries"], video["color_transfer"],
            video["color_range"]) == ("bt709", "bt709", "bt709", "tv")
    assert (audio["codec_name"], audio["profile"], audio["sample_rate"], audio["channels"]) == (
        "aac", "LC", "48000", 2)
    assert abs(float(video["duration"]) - float(audio["duration"])) <= 1 / 30
    boxes = _top_level_boxes(out / "final.mp4")
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart


def test_the_mix_is_at_minus_14_lufs_with_headroom(vertical):
    _, _, out = vertical
    integrated, peak = measure_loudness(out / "final.mp4")
    assert abs(integrated + 14.0) <= 1.0
    assert peak <= -1.0


def test_every_artifact_is_published_and_readable(vertical):
    result, _, out = vertical
    assert set(result.artifacts) == {"final.mp4", "thumbnail.jpg", "captions.vtt", "script.json",
                                     "report.json", "storyboard.png", "qa.json"}
    assert Image.open(out / "thumbnail.jpg").format == "JPEG"
    assert Image.open(out / "storyboard.png").size[0] > 2 * Image.open(out / "storyboard.png").size[1] // 3
    assert (out / "captions.vtt").read_text().startswith("WEBVTT")
    report = json.loads((out / "report.json").read_text())
    assert set(report["stages"]) == set(STAGES)
    assert report["realtime_factor"] > 0 and report["peak_rss_mb"] > 0
    spoken = " ".join(w.text for w in _words(out))
    assert spoken == SCRIPT


def test_progress_uses_ugen_stage_keys_in_order_and_never_decreases(vertical):
    _, events, _ = vertical
    stages = [stage for stage, _ in events]
    order = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
    assert order == list(STAGES)
    percents = [p for _, p in events]
    assert percents == sorted(percents) and percents[-1] == 100.0


def _shots(out):
    return json.loads((out / "script.json").read_text())["shots"]


def _shot_at(shots, index):
    return next(s for s in shots if round(s["start_s"] * 30) <= index < round(s["end_s"] * 30))


def _mouth_activity(frames, shots):
    """Per frame, how much the mouth region of its shot changed since the frame before (0 at
    cuts, where the whole picture changes)."""
    activity = np.zeros(len(frames))
    for i in range(1, len(frames)):
        shot = _shot_at(shots, i)
        if shot["mouth_box"] is None or _shot_at(shots, i - 1) is not shot:
            continue
        x, y, w, h = shot["mouth_box"]
        region = slice(max(0, y - h // 2), y + h + h // 2), slice(max(0, x), x + w)
        activity[i] = np.abs(frames[i][region].astype(np.int16) - frames[i - 1][region]).mean()
    return activity


def test_the_mouth_moves_with_the_voice_and_rests_in_the_silence(vertical, frames):
    result, _, out = vertical
    words = _words(out)
    shots = _shots(out)
    gap_start = max(w.end_s for w in words if w.text.endswith("hot."))
    gap_end = min(w.start_s for w in words if w.text == "I")
    assert gap_end - gap_start > 0.8
    activity = _mouth_activity(frames, shots)
    speaking = np.zeros(len(frames), bool)
    for w in words:
        speaking[int(w.start_s * 30) + 2:int(w.end_s * 30)] = True
    index = np.arange(len(frames))
    silent = (index > (gap_start + 0.25) * 30) & (index < (gap_end - 0.2) * 30)
    talking = speaking & np.array([_shot_at(shots, i)["talking"] for i in index]) & (activity > 0)
    assert talking.sum() > 30 and silent.sum() > 10
    assert activity[talking].mean() > 2 * max(activity[silent].mean(), 0.3)


def _highlight_mask(frame):
    r, g, b = (frame[..., i].astype(np.int16) for i in range(3))
    return (r > 200) & (g > 160) & (b < 110)


def test_the_highlighted_caption_word_is_the_word_being_spoken(vertical, frames):
    _, _, out = vertical
    words = _words(out)
    style = caption_style_for(720, 1280, font_path=font_path(JOBS.parent), karaoke=True)
    track = CaptionTrack(words, style)
    checked = 0
    for index, word in enumerate(words):
        if word.end_s - word.start_s < 0.15:
            continue
        t = (word.start_s + word.end_s) / 2
        layer = track.layer_at(t)
        assert layer is not None and layer.words[layer.active] == word
        mask = _highlight_mask(frames[int(round(t * 30))])
        dx, dy = _shot_at(_shots(out), int(round(t * 30)))["caption_shift"]
        drawn = layer.word_boxes[layer.active]
        drawn = type(drawn)(drawn.x + dx, drawn.y + dy, drawn.w, drawn.h)
        others = [type(b)(b.x + dx, b.y + dy, b.w, b.h) for i, b in enumerate(layer.word_boxes)
                  if b is not None and i != layer.active]
        ys, xs = np.nonzero(mask[drawn.y:drawn.y + drawn.h, drawn.x:drawn.x + drawn.w])
        assert len(xs) > 20, f"no highlight on {word.text!r} at {t:.2f}s"
        for other in others:
            inside = mask[other.y:other.y + other.h, other.x:other.x + other.w]
            assert inside.sum() < 0.2 * len(xs), f"{word.text!r}: another word lit at {t:.2f}s"
        checked += 1
    assert checked >= 8


def _product_match(frame, product_rgba, box, *, stretch=1.0):
    """Best masked correlation of the product, scaled into `box` (optionally stretched); the
    part of the product inside the frame is matched when it reaches past an edge."""
    h, w = product_rgba.shape[:2]
    scale = min(box[2] / w, box[3] / h)
    size = (max(1, round(w * scale * stretch)), max(1, round(h * scale)))
    template = cv2.resize(product_rgba, size, interpolation=cv2.INTER_AREA)
    x, y, bw, bh = box
    fh, fw = frame.shape[:2]
    template = template[max(0, -y):fh - y, max(0, -x):fw - x]
    x, y = max(0, x), max(0, y)
    bw, bh = template.shape[1], template.shape[0]
    pad = max(bw, bh) // 4
    search = frame[max(0, y - pad):y + bh + pad, max(0, x - pad):x + bw + pad]
    mask = (template[..., 3] > 200).astype(np.uint8)
    scores = cv2.matchTemplate(search, template[..., :3], cv2.TM_CCOEFF_NORMED, mask=mask)
    return float(np.nanmax(scores))


def test_the_held_product_is_visible_and_undistorted_where_the_shot_puts_it(vertical, frames):
    _, _, out = vertical
    product = np.asarray(Image.open(JOBS / "espresso_cup.png").convert("RGBA"))
    shot = _shot_at(_shots(out), 30)
    assert shot["kind"] in ("closeup", "medium") and shot["product_rest_box"]
    box = shot["product_rest_box"]
    frame = frames[30]
    true_shape = _product_match(frame, product, box)
    assert true_shape > 0.8
    assert true_shape > _product_match(frame, product, box, stretch=1.25) + 0.05


def test_a_busy_photo_stands_as_a_card_in_front_of_the_persona_on_16_9(pipeline, tmp_path):
    result, _ = render(pipeline, tmp_path, aspect_ratio="16:9", interaction_mode="display_static",
                       product_image_url=str(JOBS / "coffee.png"), music_enabled=False,
                       persona_id="grace")
    assert result.report["cutout_method"] == "none"
    whole = [s for s in _shots(tmp_path) if s["talking"] and s["product_rest_box"]
             and s["product_rest_box"][1] + 0.7 * s["product_rest_box"][3] <= 360]
    assert whole, "no talking shot shows most of the standing product"
    shot = whole[0]
    with av.open(str(tmp_path / "final.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (640, 360)
        wanted = round((shot["start_s"] + shot["end_s"]) / 2 * 30)
        frame = next(f for i, f in enumerate(container.decode(video=0)) if i == wanted)
        frame = frame.to_ndarray(format="rgb24")
    photo = np.asarray(Image.open(JOBS / "coffee.png").convert("RGBA"))
    x, y, w, h = shot["product_rest_box"]
    border = round(0.035 * min(photo.shape[:2]))  # the card's white frame (as_photo_card)
    scale = w / (photo.shape[1] + 2 * border)
    inset = round(border * scale)
    assert y >= 360 // 2  # standing in the lower part of the frame
    assert _product_match(frame, photo, [x + inset, y + inset, w - 2 * inset, h - 2 * inset]) > 0.8


def test_a_square_render_has_the_square_size(pipeline, tmp_path):
    render(pipeline, tmp_path, aspect_ratio="1:1", segment_count=1, segment_duration=3,
           captions_enabled=False)
    with av.open(str(tmp_path / "final.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (360, 360)


def test_stop_at_stage_keeps_that_stages_artifacts_and_no_video(pipeline, tmp_path):
    result, events = render(pipeline, tmp_path, stop_at_stage="agents")
    assert result.stopped_at == "agents"
    assert {"script.json", "product.png", "report.json"} <= set(result.artifacts)
    assert not (tmp_path / "final.mp4").exists()
    assert events[-1][0] == "agents"


def test_the_work_dir_is_removed_after_success_and_failure(pipeline, settings, tmp_path):
    render(pipeline, tmp_path / "ok", segment_count=1, segment_duration=3, stop_at_stage="init")
    with pytest.raises(ProductImageUnreachable):
        render(pipeline, tmp_path / "bad", product_image_url=str(tmp_path / "missing.png"))
    assert list(settings.work_root.iterdir()) == []


def test_render_one_fails_with_the_error_object_and_leaves_no_video(tmp_path):
    spec = tmp_path / "job.json"
    spec.write_text(json.dumps({"product_name": "X", "segment_count": 1,
                                "product_image_url": "http://169.254.169.254/latest/meta-data"}))
    out = tmp_path / "out"
    out.mkdir()
    (out / "final.mp4").write_bytes(b"stale video from an earlier run")
    done = subprocess.run([".venv/bin/python", "scripts/render_one.py", str(spec), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=JOBS.parents[1])
    assert done.returncode == 1
    error = json.loads(done.stderr.strip().splitlines()[-1])["error"]
    assert error["code"] == "PRODUCT_IMAGE_URL_FORBIDDEN"
    assert not (out / "final.mp4").exists()


def test_render_one_reports_an_invalid_spec_with_the_422_detail(tmp_path):
    spec = tmp_path / "job.json"
    spec.write_text(json.dumps({"product_name": "X", "segment_count": 40}))
    done = subprocess.run([".venv/bin/python", "scripts/render_one.py", str(spec), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=120,
                          cwd=JOBS.parents[1])
    assert done.returncode == 1
    error = json.loads(done.stderr.strip().splitlines()[-1])["error"]
    assert error["code"] == "INVALID_JOB_SPEC"
    locs = [d["loc"] for d in error["details"]["detail"]]
    assert ["body", "segment_count"] in locs and ["body", "product_image_url"] in locs


SHORT_SCRIPT = "These cups keep it hot. I use them every single day."


def _last_frame(path):
    with av.open(str(path)) as container:
        *_, last = container.decode(video=0)
        return last.to_ndarray(format="rgb24").astype(np.int16)


def _cta_region(frame):
    box = layout_for(frame.shape[1], frame.shape[0]).end_text
    return frame[box.y:box.y + box.h, box.x:box.x + box.w]


def test_a_custom_script_keeps_the_jobs_cta_text_off_the_end_card(pipeline, tmp_path):
    # One persona for the three: left out, each job id would pick its own, and the card's
    # backdrop (the persona's blurred scene) would differ between them.
    job = {"segment_count": 2, "segment_duration": 3, "music_enabled": False, "seed": 2,
           "persona_id": "grace"}
    render(pipeline, tmp_path / "ignored", custom_script=SHORT_SCRIPT, cta_text="Use code ZEBRA", **job)
    render(pipeline, tmp_path / "none", custom_script=SHORT_SCRIPT, **job)
    render(pipeline, tmp_path / "shown", cta_text="Use code ZEBRA", **job)
    ignored, none, shown = (_cta_region(_last_frame(tmp_path / name / "final.mp4"))
                            for name in ("ignored", "none", "shown"))
    # The same card as a job with no cta_text (the default CTA); the ZEBRA pill looks different.
    assert np.abs(ignored - none).mean() < 1.0
    assert np.abs(shown - none).mean() > 5.0


def test_captions_disabled_leave_a_sidecar_with_no_cues(pipeline, tmp_path):
    result, _ = render(pipeline, tmp_path, segment_count=1, segment_duration=3,
                       captions_enabled=False, music_enabled=False)
    vtt = (tmp_path / "captions.vtt").read_text()
    assert "captions.vtt" in result.artifacts
    assert vtt.strip() == "WEBVTT" and "-->" not in vtt


def test_the_same_job_rendered_side_by_side_has_bit_identical_audio(tmp_path):
    spec = tmp_path / "job.json"
    spec.write_text(json.dumps({
        "product_name": "Espresso Cups", "product_image_url": str(JOBS / "espresso_cup.png"),
        "segment_count": 2, "segment_duration": 3, "video_resolution": "draft",
        "music_mood": "upbeat", "custom_script": SHORT_SCRIPT, "seed": 5}))
    outs = [tmp_path / f"out{i}" for i in range(4)]
    renders = [subprocess.Popen([sys.executable, "scripts/render_one.py", str(spec), "--out", str(out)],
                                cwd=JOBS.parents[1], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for out in outs]
    for process in renders:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr.decode()[-2000:]
    audio = [decode_audio(out / "final.mp4", sample_rate=48000, channels=2) for out in outs]
    assert np.abs(audio[0][-4800:]).max() > 0  # the music's fade still sounds in the last 0.1 s
    assert all(a.shape == audio[0].shape and np.array_equal(a, audio[0]) for a in audio[1:])


def test_a_linked_music_track_is_fetched_in_prepare_and_a_bad_one_fails_there_with_its_code(pipeline, tmp_path):
    api = StaticFiles({"/internal/music/upload-1?sig=s": b"ID3" + bytes(range(256)) * 64}).start()
    try:
        delivery = {"callback_url": api.url("/internal/jobs/events"),
                    "music": {"url": api.url("/internal/music/upload-1?sig=s")}}
        events: list = []
        with pytest.raises(MusicInvalid):  # fetched (an upload id is no catalog file), then refused
            pipeline.run(parse_job({"product_image_url": str(JOBS / "espresso_cup.png"), "product_name": "Cups",
                                    "video_resolution": "draft", "segment_count": 1, "segment_duration": 3,
                                    "custom_music_id": "upload-1", "delivery": delivery}),
                         out_dir=tmp_path / "a", allow_local_files=True, on_progress=lambda *e: events.append(e))
        assert {stage for stage, _ in events} == {"prepare"}
        elsewhere = {**delivery, "callback_url": "http://127.0.0.1:1/internal/jobs/events"}
        with pytest.raises(MusicUrlForbidden):
            render(pipeline, tmp_path / "b", custom_music_id="upload-1", delivery=elsewhere, segment_count=1,
                   segment_duration=3)
    finally:
        api.stop()
