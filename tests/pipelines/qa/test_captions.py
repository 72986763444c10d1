"""The captions check on a real 1080p file: the contrast is read at full resolution, since a
frame scaled down to the analysis size blends a thin outline into what lies behind it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.settings import REPO_ROOT
from models.base import WordTiming
from pipelines.captions.font import font_path
from pipelines.captions.style import caption_style_for
from pipelines.captions.track import CaptionTrack
from pipelines.encode.ffmpeg import run_ffmpeg
from pipelines.qa.captions import MIN_CONTRAST, caption_crops, check_captions
from pipelines.qa.media import read_media
from pipelines.qa.plan import ShotPlan

WIDTH, HEIGHT, FPS = 1920, 1080, 30
WORDS = [WordTiming("Morning", 0.1, 0.5), WordTiming("Ritual", 0.5, 0.9),
         WordTiming("Espresso", 0.9, 1.4), WordTiming("Cups.", 1.4, 1.9)]
LIGHT_GREY = (205, 200, 196)  # the studio wall behind the 16:9 captions


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """2 s of white karaoke captions with their dark outline on a light wall, at 1080p."""
    folder = tmp_path_factory.mktemp("captions")
    style = caption_style_for(WIDTH, HEIGHT, font_path=font_path(REPO_ROOT / "configs"),
                              karaoke=True)
    track = CaptionTrack(WORDS, style)
    frames = []
    for i in range(2 * FPS):
        frame = np.empty((HEIGHT, WIDTH, 3), np.float32)
        frame[:] = LIGHT_GREY
        layer = track.layer_at(i / FPS)
        if layer is not None:
            h, w = layer.rgba.shape[:2]
            alpha = layer.rgba[:, :, 3:] / 255.0
            area = frame[layer.y:layer.y + h, layer.x:layer.x + w]
            area[:] = area * (1 - alpha) + layer.rgba[:, :, :3] * alpha
        frames.append(frame.astype(np.uint8))
    raw = folder / "frames.rgb"
    raw.write_bytes(b"".join(f.tobytes() for f in frames))
    video = folder / "captions.mp4"
    run_ffmpeg(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS),
                "-i", str(raw), "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p",
                "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
                str(video)], timeout_s=120)
    script = folder / "script.json"
    script.write_text(json.dumps({
        "words": [{"text": w.text, "start_s": w.start_s, "end_s": w.end_s} for w in WORDS],
        "shots": [{"index": 0, "kind": "medium", "start_s": 0.0}]}))
    return video, ShotPlan.read(script), track


def _check(media, plan, track):
    plan = plan.fitted(scale=media.scale, duration_s=media.frame_count / FPS)
    return check_captions(media, plan, track, width=WIDTH, height=HEIGHT)


def test_outlined_captions_on_a_light_wall_pass_when_read_at_full_resolution(clip):
    video, plan, track = clip
    crops = caption_crops(plan, track)
    assert len(crops) == len(WORDS)  # one frame per word, each with its caption's box
    media = read_media(video, crops=crops)
    assert set(media.crops) == set(crops)
    result = _check(media, plan, track)
    assert result.figures["contrast_p10"] >= MIN_CONTRAST and result.score == 1.0
    assert result.figures["highlight_share"] == 1.0  # the spoken word lit, as drawn


def test_read_off_the_scaled_down_frame_the_same_captions_would_fail(clip):
    """Why the crops exist: at a third of the size the outline blends into the wall."""
    video, plan, track = clip
    result = _check(read_media(video), plan, track)
    assert result.figures["contrast_p10"] < MIN_CONTRAST, result.figures
