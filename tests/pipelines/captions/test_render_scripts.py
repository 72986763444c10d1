"""Integration: a real draft render whose script mixes emoji, French, Greek, Japanese and
Arabic; every caption word is found on the decoded frames as its expected raster."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from engine.errors import CaptionGlyphMissing, LanguageUnsupported
from engine.spec import parse_job
from models.base import WordTiming
from pipelines.captions import CaptionTrack, caption_style_for, font_path
from pipelines.contract import FPS
from tests.conftest import JOBS, render

pytestmark = pytest.mark.integration

LINES = ("Love it 😍👍🏽!", "Ça sent très bon, l'été arrive.", "Δοκίμασέ το σήμερα.",
         "最高のカップです。", "جربه اليوم!")
SCRIPT = " ".join(LINES)
# Mean difference (0-255) between the expected raster and the frame over the raster's opaque
# pixels. Measured: 3-9 where the word is drawn (H.264 at 360x640, 4:2:0 chroma), 60+ where
# it is not; the bound sits between.
MATCH = 25.0


@pytest.fixture(scope="module")
def scripts(pipeline, tmp_path_factory):
    out = tmp_path_factory.mktemp("scripts")
    render(pipeline, out, custom_script=SCRIPT, segment_count=len(LINES), segment_duration=3,
           music_enabled=False, persona_id="eileen", seed=5)
    doc = json.loads((out / "script.json").read_text())
    words = [WordTiming(w["text"], w["start_s"], w["end_s"]) for w in doc["words"]]
    with av.open(str(out / "final.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    style = caption_style_for(*frames[0].shape[1::-1], font_path=font_path(JOBS.parent),
                              karaoke=True)
    return out, words, frames, CaptionTrack(words, style), doc["shots"]


def caption_shift(shots: list[dict], index: int) -> tuple[int, int]:
    """How far the delivered edit moved the captions at frame `index` (script.json's shots;
    their times are frame times, rounded)."""
    shot = next(s for s in shots if round(s["start_s"] * FPS) <= index < round(s["end_s"] * FPS))
    return tuple(shot["caption_shift"])


def raster_difference(frame: np.ndarray, layer, index: int, shift: tuple[int, int]) -> float:
    """Mean |frame - expected| over the opaque pixels of word `index`'s raster in `layer`,
    drawn `shift` (dx, dy) away from where the caption style put it."""
    box = layer.word_boxes[index]
    top, left = box.y - layer.y, box.x - layer.x
    expected = layer.rgba[top:top + box.h, left:left + box.w]
    opaque = expected[..., 3] == 255
    x, y = box.x + shift[0], box.y + shift[1]
    seen = frame[y:y + box.h, x:x + box.w].astype(np.float32)
    assert seen.shape[:2] == expected.shape[:2], "the word is drawn partly off the frame"
    return float(np.abs(seen - expected[..., :3])[opaque].mean())


def shown_states(track: CaptionTrack):
    """(frame index, layer) once per caption state the video shows."""
    seen = {}
    for page in track.pages:
        for word in page.words:
            index = round((word.start_s + word.end_s) / 2 * FPS)
            layer = track.layer_at(index / FPS)
            if layer is not None and layer.key not in seen:
                seen[layer.key] = (index, layer)
    return list(seen.values())


def test_every_caption_word_of_every_script_is_drawn_on_the_frames(scripts):
    _, words, frames, track, shots = scripts
    assert " ".join(w.text for w in words) == SCRIPT
    checked = set()
    for index, layer in shown_states(track):
        for i, word in enumerate(layer.words):
            difference = raster_difference(frames[index], layer, i, caption_shift(shots, index))
            assert difference < MATCH, f"{word.text!r} at frame {index}: {difference:.1f}"
            checked.add(word)
    pieces = [w for page in track.pages for w in page.words]
    assert checked == set(pieces)  # every word of every page, emoji and all scripts
    japanese = "".join(w.text for w in pieces if w.start_s >= words[-3].start_s - 1e-9
                       and w.end_s <= words[-3].end_s + 1e-9)
    assert japanese.replace("\u200b", "") == LINES[3] and "\u200b" in japanese  # cut, glued


def test_the_check_tells_a_missing_word_from_a_drawn_one(scripts):
    _, _, frames, track, shots = scripts
    index, layer = shown_states(track)[0]
    blank = round(track.pages[0].start_s * FPS) - 3  # before the first caption appears
    assert track.layer_at(blank / FPS) is None
    shift = caption_shift(shots, index)
    assert caption_shift(shots, blank) == shift  # the same shot: only the caption differs
    assert raster_difference(frames[blank], layer, 0, shift) > 2 * MATCH
    assert raster_difference(frames[index], layer, 0, shift) < MATCH


def test_emoji_are_in_colour_and_arabic_reads_right_to_left_on_the_frames(scripts):
    _, words, frames, track, shots = scripts
    emoji = next(w for w in words if w.text.startswith("😍"))
    index = round((emoji.start_s + emoji.end_s) / 2 * FPS)
    layer = track.layer_at(index / FPS)
    box = layer.word_boxes[layer.words.index(emoji)]
    dx, dy = caption_shift(shots, index)
    patch = frames[index][box.y + dy:box.y + dy + box.h, box.x + dx:box.x + dx + box.w].astype(int)
    chroma = patch.max(axis=2) - patch.min(axis=2)
    assert (chroma > 120).sum() > 40  # saturated yellows and reds, not white text
    first = next(w for w in words if w.text == "جربه")
    layer = track.layer_at(round((first.start_s + first.end_s) / 2 * FPS) / FPS)
    boxes = dict(zip((w.text for w in layer.words), layer.word_boxes))
    assert boxes["جربه"].x > boxes["اليوم!"].x  # the first word read is on the right


def test_the_vtt_sidecar_keeps_the_exact_text(scripts):
    out, words, _, _, _ = scripts
    cues = (out / "captions.vtt").read_text(encoding="utf-8").split("\n\n")[1:]
    texts = [cue.splitlines()[2] for cue in cues if cue.strip()]
    # Cues end where pages end; a page may end inside the Japanese sentence, nowhere else.
    assert "".join(texts).replace(" ", "") == SCRIPT.replace(" ", "")
    cue_words = [token for text in texts for token in text.split()]
    assert [w.text for w in words if w.text != LINES[3]] == \
        [t for t in cue_words if not any("\u3040" <= c <= "\u9fff" for c in t)]


def test_a_character_outside_every_font_fails_the_job_before_rendering(pipeline, tmp_path):
    with pytest.raises(CaptionGlyphMissing) as caught:
        render(pipeline, tmp_path, custom_script="Try it \U000f0000 today, you will love it.",
               segment_count=1, segment_duration=3, music_enabled=False)
    assert caught.value.details["code_points"] == ["U+F0000"]
    assert not (tmp_path / "final.mp4").exists()


def test_a_job_in_a_language_the_cpu_profile_cannot_speak_fails_at_validation(pipeline, tmp_path):
    with pytest.raises(LanguageUnsupported) as caught:
        render(pipeline, tmp_path, custom_script="Ça sent très bon.", segment_count=1,
               persona_id="eileen", voice_settings={"language": "fr"})
    assert caught.value.code == "LANGUAGE_UNSUPPORTED"
    assert caught.value.details == {"language": "fr", "voice_id": "ava", "supported": ["en"]}
    assert not any(tmp_path.iterdir())


def test_the_demo_speaks_with_its_personas_voice(pipeline):
    demo = parse_job(json.loads((JOBS / "demo.json").read_text()))
    persona, voice = pipeline.check(demo)
    assert (persona.id, voice.id) == ("grace", "ruth") and dict(voice.transform)["pitch_median_hz"] == 185
