"""Captions: pagination, placement inside the safe zone, karaoke highlight, caching, WebVTT."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from engine.errors import CaptionGlyphMissing
from models.base import WordTiming
from pipelines.captions import raster
from pipelines.captions.font import shape_word
from pipelines.captions.pages import HOLD_S, KARAOKE_WORDS, wrap_words
from pipelines.captions.track import (
    DEFAULT_FONT_PATH,
    CaptionTrack,
    caption_style_for,
    paginate,
    write_vtt,
)

SCRIPT = ("Okay, this serum literally changed my skin in two weeks. I was so skeptical at first, "
          "but look at this glow! No filter, no makeup, just the Glow Serum. Get yours today "
          "before it sells out!")
FRAMES = {"9:16": (1080, 1920), "16:9": (1920, 1080), "1:1": (1080, 1080)}


def timed(text: str, *, start_s: float = 0.5, gap_s: float = 0.05) -> list[WordTiming]:
    """Words at a natural pace: longer words take longer, sentences end with a breath."""
    words, t = [], start_s
    for token in text.split():
        duration = 0.12 + 0.05 * len(token)
        words.append(WordTiming(token, round(t, 3), round(t + duration, 3)))
        t += duration + (0.6 if token.endswith((".", "!", "?")) else gap_s)
    return words


def style_for(size: tuple[int, int], *, karaoke: bool = True, **options):
    return caption_style_for(*size, font_path=DEFAULT_FONT_PATH, karaoke=karaoke, **options)


def ink_bbox(rgba: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the pixels with any alpha, layer coordinates, exclusive end."""
    ys, xs = np.nonzero(rgba[..., 3])
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


def highlight_columns(rgba: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    """x coordinates of opaque pixels within a few levels of the highlight colour."""
    close = np.abs(rgba[..., :3].astype(int) - rgb).max(axis=2) <= 12
    return np.nonzero((close & (rgba[..., 3] > 200)).any(axis=0))[0]


def midpoint(word: WordTiming) -> float:
    return (word.start_s + word.end_s) / 2


def test_the_caption_box_keeps_clear_of_the_9x16_platform_buttons():
    style = style_for(FRAMES["9:16"])
    box = style.box
    assert 60 <= style.font_px <= 80
    assert box.x >= 80 and box.x + box.w <= 910  # right column of buttons stays clear
    assert box.y >= 1100 and box.y + box.h <= 1460  # above the description and nav bar
    middle = style_for(FRAMES["9:16"], position="middle").box
    assert abs(middle.y + middle.h / 2 - 960) < 60


@pytest.mark.parametrize("aspect", list(FRAMES))
def test_every_caption_state_is_drawn_inside_the_safe_box(aspect):
    style = style_for(FRAMES[aspect])
    track = CaptionTrack(timed(SCRIPT + " Crème brûlée, señor!"), style)
    box = style.box
    for page in track.pages:
        for word in page.words:
            layer = track.layer_at(midpoint(word))
            x0, y0, x1, y1 = ink_bbox(layer.rgba)
            assert box.x <= layer.x + x0 and layer.x + x1 <= box.x + box.w, page.text
            assert box.y <= layer.y + y0 and layer.y + y1 <= box.y + box.h, page.text


def test_a_doubled_font_scale_grows_the_box_instead_of_overflowing_it():
    style = style_for(FRAMES["9:16"], font_scale=2.0)
    track = CaptionTrack(timed("Honestly the most wonderful moisturiser imaginable."), style)
    assert style.box.y + style.box.h <= 1460
    for page in track.pages:
        layer = track.layer_at(page.start_s)
        x0, y0, x1, y1 = ink_bbox(layer.rgba)
        assert style.box.y <= layer.y + y0 and layer.y + y1 <= style.box.y + style.box.h


def test_the_highlighted_word_at_each_words_midpoint_is_that_word():
    style = style_for(FRAMES["9:16"])
    words = timed(SCRIPT)
    track = CaptionTrack(words, style)
    for word in words:
        layer = track.layer_at(midpoint(word))
        assert layer.words[layer.active] is word
        box = layer.word_boxes[layer.active]
        columns = highlight_columns(layer.rgba, style.highlight_rgb) + layer.x
        assert columns.size > 0, word.text
        assert box.x <= columns.min() and columns.max() < box.x + box.w, word.text


def test_nothing_is_shown_before_the_first_word_or_after_the_last_page():
    words = timed(SCRIPT, start_s=1.0)
    track = CaptionTrack(words, style_for(FRAMES["9:16"]))
    assert track.layer_at(0.0) is None
    assert track.layer_at(0.999) is None
    assert track.layer_at(1.0) is not None
    assert track.layer_at(words[-1].end_s + HOLD_S + 0.01) is None
    assert track.layer_at(1e6) is None


def test_a_short_gap_between_words_keeps_the_previous_word_highlighted():
    words = [WordTiming("Glow", 0.0, 0.4), WordTiming("serum", 0.6, 1.0),
             WordTiming("wins", 1.1, 1.5)]
    track = CaptionTrack(words, style_for(FRAMES["9:16"]))
    assert track.layer_at(0.5).active == 0
    assert track.layer_at(0.6).active == 1
    assert track.layer_at(1.7).active == 2  # held after the last word
    assert track.layer_at(0.5) is track.layer_at(0.45)  # same state, same cached layer


def test_subtitle_style_shows_the_page_without_a_highlight():
    style = style_for(FRAMES["9:16"], karaoke=False)
    words = timed(SCRIPT)
    track = CaptionTrack(words, style)
    layer = track.layer_at(midpoint(words[2]))
    assert layer.active is None
    assert highlight_columns(layer.rgba, style.highlight_rgb).size == 0
    assert {track.layer_at(midpoint(w)).key for w in layer.words} == {layer.key}


def test_each_word_is_rasterised_once_however_many_frames_ask(monkeypatch):
    calls = []
    real = raster.render_word

    def counting(shape, style):
        calls.append(shape.text)
        return real(shape, style)

    monkeypatch.setattr(raster, "render_word", counting)
    words = timed(SCRIPT + " Glow glow GLOW serum serum.")
    track = CaptionTrack(words, style_for(FRAMES["9:16"]))
    for frame in range(int(words[-1].end_s * 30) + 30):
        track.layer_at(frame / 30)
    assert sorted(calls) == sorted({w.text for w in words})


def test_the_vtt_sidecar_round_trips_cue_times_and_escaped_text(tmp_path):
    words = timed("Tom & Jerry <3 this serum. Only 19,99 € 😀 today!")
    pages = paginate(words, style_for(FRAMES["9:16"]))
    path = tmp_path / "captions.vtt"
    write_vtt(pages, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("WEBVTT\n\n")
    stamp = r"(\d{2}):(\d{2}):(\d{2})\.(\d{3})"
    cues = re.findall(stamp + " --> " + stamp + r"\n(.+)\n", text)
    assert len(cues) == len(pages)
    for cue, page in zip(cues, pages):
        h0, m0, s0, ms0, h1, m1, s1, ms1, body = cue
        start = int(h0) * 3600 + int(m0) * 60 + int(s0) + int(ms0) / 1000
        end = int(h1) * 3600 + int(m1) * 60 + int(s1) + int(ms1) / 1000
        assert start == pytest.approx(page.start_s, abs=0.0006)
        assert end == pytest.approx(page.end_s, abs=0.0006)
        unescaped = body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        assert unescaped == page.text and "<" not in body
    assert "Tom &amp; Jerry" in text and "&lt;3 this" in text and "😀" in text


def test_pages_break_at_sentence_ends_and_long_pauses_and_hold_briefly():
    words = timed("Wow. This serum is the best thing I have ever tried on my face")
    words.insert(3, WordTiming("paused", words[2].end_s + 0.8, words[2].end_s + 1.1))
    words[4:] = [WordTiming(w.text, w.start_s + 1.2, w.end_s + 1.2) for w in words[4:]]
    pages = paginate(words, style_for(FRAMES["9:16"]))
    assert pages[0].text == "Wow."
    assert any(page.words[0].text == "paused" for page in pages)
    assert all(len(page.words) <= KARAOKE_WORDS[1] for page in pages)
    for page, following in zip(pages, pages[1:]):
        assert page.end_s == pytest.approx(min(page.words[-1].end_s + HOLD_S, following.start_s))
        assert page.start_s == page.words[0].start_s


def test_a_long_sentence_wraps_onto_two_lines_that_fit_the_box():
    style = style_for(FRAMES["9:16"], karaoke=False)
    words = timed("This serum leaves my skin glowing")
    pages = paginate(words, style)
    assert len(pages) == 1 and len(pages[0].lines) == 2
    shapes = [shape_word(w.text, style) for w in words]
    assert wrap_words(shapes, 0, len(words), style) == [list(line) for line in pages[0].lines]
    layer = CaptionTrack(words, style).layer_at(words[0].start_s)
    x0, _, x1, _ = ink_bbox(layer.rgba)
    assert style.box.x <= layer.x + x0 and layer.x + x1 <= style.box.x + style.box.w


def test_a_word_wider_than_the_box_shrinks_instead_of_overflowing():
    style = style_for(FRAMES["9:16"])
    word = "Supercalifragilisticexpialidocious-moisturiser"
    shape = shape_word(word, style)
    assert shape.text == word and shape.px < style.font_px and shape.width <= style.box.w
    layer = CaptionTrack([WordTiming(word, 0.0, 1.0)], style).layer_at(0.5)
    x0, _, x1, _ = ink_bbox(layer.rgba)
    assert style.box.x <= layer.x + x0 and layer.x + x1 <= style.box.x + style.box.w


def test_accented_letters_quotes_and_euro_are_drawn():
    style = style_for(FRAMES["9:16"])
    words = timed("Crème brûlée señor Straße “quoted” 19,99 €")
    track = CaptionTrack(words, style)
    for word in words:
        assert shape_word(word.text, style).text == word.text  # nothing left out
        layer = track.layer_at(midpoint(word))
        box = layer.word_boxes[layer.active]
        top, left = box.y - layer.y, box.x - layer.x
        ink = layer.rgba[top:top + box.h, left:left + box.w]
        assert (ink[..., 3] == 255).sum() > 50, word.text


def test_emoji_and_other_scripts_are_drawn_and_keep_their_place():
    style = style_for(FRAMES["9:16"])
    words = timed("Love it 😀 это 中文 👍🏽 ok")
    track = CaptionTrack(words, style)
    emoji = words[2]
    layer = track.layer_at(midpoint(emoji))
    assert layer.active == 2 and all(box is not None for box in layer.word_boxes)
    assert track.pages[0].text.startswith("Love it 😀")


def test_a_character_no_font_draws_fails_the_track_with_its_code_point():
    style = style_for(FRAMES["9:16"])
    with pytest.raises(CaptionGlyphMissing) as caught:
        CaptionTrack(timed("Try \U000f0000 today"), style)
    assert caught.value.code == "CAPTION_GLYPH_MISSING"
    assert caught.value.details["code_points"] == ["U+F0000"]
    assert caught.value.details["words"] == ["\U000f0000"]


def test_a_japanese_sentence_breaks_into_lines_without_spaces_and_the_vtt_keeps_it(tmp_path):
    style = style_for(FRAMES["9:16"])
    sentence = "このセラムを使い始めてから肌の調子が本当に良くなりました。"
    track = CaptionTrack([WordTiming(sentence, 0.5, 4.5)], style)
    lines = [line for page in track.pages for line in page.lines]
    assert len(lines) >= 2  # too wide for one line at full size: it wraps instead of shrinking
    for page in track.pages:
        for word in page.words:
            assert shape_word(word.text, style).px == style.font_px
    assert "".join(page.text for page in track.pages) == sentence
    write_vtt(track.pages, tmp_path / "captions.vtt")
    cues = (tmp_path / "captions.vtt").read_text(encoding="utf-8").split("\n\n")[1:]
    assert "".join(cue.splitlines()[2] for cue in cues if cue.strip()) == sentence


def test_an_arabic_line_is_laid_out_right_to_left():
    style = style_for(FRAMES["9:16"])
    words = timed("جربه اليوم")
    layer = CaptionTrack(words, style).layer_at(midpoint(words[0]))
    first, second = layer.word_boxes
    assert first.x > second.x + second.w // 2  # the first word read is the rightmost


def test_words_out_of_order_are_refused():
    with pytest.raises(ValueError, match="word 1"):
        paginate([WordTiming("a", 1.0, 1.2), WordTiming("b", 0.5, 0.7)], style_for(FRAMES["1:1"]))


def test_a_24_second_track_builds_quickly_and_frames_cost_a_lookup():
    shape_word.cache_clear()
    words = timed(" ".join([SCRIPT] * 3))[:60]
    start = time.perf_counter()
    track = CaptionTrack(words, style_for(FRAMES["9:16"]))
    built_s = time.perf_counter() - start
    start = time.perf_counter()
    for frame in range(int(words[-1].end_s * 30)):
        track.layer_at(frame / 30)
    per_frame_s = (time.perf_counter() - start) / int(words[-1].end_s * 30)
    assert words[-1].end_s > 20
    assert built_s < 1.5  # about 0.2 s measured; generous for loaded CI machines
    assert per_frame_s < 0.002
