"""Integration: the edit as a viewer gets it, measured on decoded frames of real draft renders.

Each layout is rendered twice with the same seed, with and without captions; the two videos
differ only where captions are drawn, so their difference is the caption's own pixels.
"""

from __future__ import annotations

import json

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from models.base import WordTiming
from pipelines.captions.font import font_path
from pipelines.captions.track import CaptionTrack, caption_style_for
from tests.conftest import JOBS, render

pytestmark = pytest.mark.integration

FPS = 30
JOB = {"segment_count": 2, "segment_duration": 5, "music_enabled": False, "seed": 7,
       "key_selling_points": ["keeps espresso hot", "dishwasher safe"],
       "cta_text": "Get your set today", "persona_id": "grace"}
LAYOUTS = {  # name: (fields, caption position)
    "portrait": ({"aspect_ratio": "9:16"}, "lower"),
    "portrait_middle": ({"aspect_ratio": "9:16"}, "middle"),
    "landscape": ({"aspect_ratio": "16:9", "interaction_mode": "display_static",
                   "persona_id": "eileen"}, "lower"),
    "square": ({"aspect_ratio": "1:1"}, "lower"),
}


def _decode(path):
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def renders(pipeline, tmp_path_factory):
    """name -> (script.json, captioned frames, caption-free frames, storyboard size), once."""
    out, plain = {}, {}
    for name, (fields, position) in LAYOUTS.items():
        key = json.dumps(fields, sort_keys=True)
        if key not in plain:
            folder = tmp_path_factory.mktemp(f"{name}-plain")
            render(pipeline, folder, **{**JOB, **fields}, captions_enabled=False)
            plain[key] = _decode(folder / "final.mp4")
        folder = tmp_path_factory.mktemp(name)
        render(pipeline, folder, **{**JOB, **fields},
               custom_caption_options={"position": position})
        doc = json.loads((folder / "script.json").read_text())
        board = Image.open(folder / "storyboard.png").size
        out[name] = (doc, _decode(folder / "final.mp4"), plain[key], board)
    return out


def _shot_at(doc, index):
    """The shot frame `index` belongs to (script.json's times are frame times, rounded)."""
    return next(s for s in doc["shots"]
                if round(s["start_s"] * FPS) <= index < round(s["end_s"] * FPS))


def _caption_mask(captioned, plain):
    diff = np.abs(captioned.astype(np.int16) - plain.astype(np.int16)).max(axis=2)
    return diff > 60


def _inside(mask, box):
    x, y, w, h = box
    return int(mask[max(0, y):y + h, max(0, x):x + w].sum())


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_captions_never_cover_the_product_or_the_mouth(renders, name):
    doc, captioned, plain, _ = renders[name]
    assert len(captioned) == len(plain)
    shown = covered = 0
    for index in range(0, len(captioned), 2):
        mask = _caption_mask(captioned[index], plain[index])
        shot = _shot_at(doc, index)
        boxes = [b for b in (shot["product_box"], shot["product_box_end"], shot["mouth_box"]) if b]
        shown += int(mask.sum())
        hit = sum(_inside(mask, box) for box in boxes)
        covered += hit
        assert hit <= 0.02 * max(1, mask.sum()), f"{name}: {shot['kind']} frame {index}: {hit} px"
    assert shown > 0 and covered <= 0.002 * shown


def _highlight(frame):
    r, g, b = (frame[..., i].astype(np.int16) for i in range(3))
    return (r > 200) & (g > 160) & (b < 110)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_every_spoken_word_is_captioned_the_call_to_action_too(renders, name):
    doc, captioned, plain, _ = renders[name]
    words = [WordTiming(w["text"], w["start_s"], w["end_s"]) for w in doc["words"]]
    h, w = captioned[0].shape[:2]
    style = caption_style_for(w, h, font_path=font_path(JOBS.parent), karaoke=True,
                              position=LAYOUTS[name][1])
    track = CaptionTrack(words, style)
    checked = 0
    for word in words:
        frames = [i for i in range(int(word.start_s * FPS), int(word.end_s * FPS) + 2)
                  if word.start_s <= i / FPS < word.end_s and i < len(captioned)]
        if not frames:
            continue  # shorter than a frame: never on screen alone
        index = frames[len(frames) // 2]
        t = index / FPS
        layer = track.layer_at(t)
        assert layer is not None, f"{name}: no caption page for {word.text!r}"
        assert layer.words[layer.active] == word
        checked += 1
        dx, dy = _shot_at(doc, index)["caption_shift"]
        drawn = layer.word_boxes[layer.active]
        lit = _highlight(captioned[index]) & _caption_mask(captioned[index], plain[index])
        found = _inside(lit, (drawn.x + dx, drawn.y + dy, drawn.w, drawn.h))
        assert found > 8, f"{name}: {word.text!r} not lit at {t:.2f} s"
    assert checked >= len(words) - 2
    cta = doc["words"][-1]
    assert _shot_at(doc, round(cta["start_s"] * FPS))["kind"] in {"endcard", "closeup", "medium",
                                                                 "punch_in", "split"}


@pytest.mark.parametrize("name", ["portrait", "landscape", "square"])
def test_the_picture_cuts_within_a_frame_of_each_planned_cut(renders, name):
    doc, _, plain, _ = renders[name]
    change = [0.0] + [float(np.abs(plain[i].astype(np.int16) - plain[i - 1]).mean())
                      for i in range(1, len(plain))]
    cuts = [round(s["start_s"] * FPS) for s in doc["shots"][1:]]
    assert len(cuts) >= 3
    for cut in cuts:
        near = max(change[cut - 1:cut + 2])
        calm = change[max(1, cut - 12):cut - 1]  # the shot before, settled
        assert near > 4 * max(np.median(calm), 0.3), f"{name}: no cut at frame {cut}"


def _cutout():
    rgba = np.asarray(Image.open(JOBS / "espresso_cup.png").convert("RGBA"))
    ys, xs = np.nonzero(rgba[..., 3])
    return rgba[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def _match(frame, product, box):
    """(score, dx, dy): the product scaled to `box`, searched around it."""
    x, y, w, h = box
    template = cv2.resize(product, (w, h), interpolation=cv2.INTER_AREA)
    pad = max(4, w // 10)
    x0, y0 = max(0, x - pad), max(0, y - pad)
    search = frame[y0:y + h + pad, x0:x + w + pad]
    mask = (template[..., 3] > 200).astype(np.uint8)
    scores = cv2.matchTemplate(search, template[..., :3], cv2.TM_CCOEFF_NORMED, mask=mask)
    scores = np.nan_to_num(scores, nan=-1.0)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    return best, x0 + bx - x, y0 + by - y


@pytest.mark.parametrize("name", ["portrait", "landscape", "square"])
def test_a_cutaway_shows_the_product_filling_its_planned_box(renders, name):
    doc, _, plain, _ = renders[name]
    cutaways = [s for s in doc["shots"] if s["kind"] == "cutaway"]
    assert cutaways, f"{name}: the plan has no cutaway"
    product = _cutout()
    for shot in cutaways:
        first = round(shot["start_s"] * FPS) + 1
        start, end = np.array(shot["product_box"]), np.array(shot["product_box_end"])
        span = (shot["end_s"] - shot["start_s"]) * FPS
        for index in (first, round(shot["end_s"] * FPS) - 2):
            share = (index - shot["start_s"] * FPS) / span
            box = np.round(start + (end - start) * share).astype(int)
            score, dx, dy = _match(plain[index], product, box)
            assert score > 0.85 and abs(dx) <= 3 and abs(dy) <= 3, (name, index, score, dx, dy)
            too_small = np.round(box * [1, 1, 0.8, 0.8] + [box[2] * 0.1, box[3] * 0.1, 0, 0])
            assert score > _match(plain[index], product, too_small.astype(int))[0]
        assert shot["product_box"][2] >= 0.4 * plain[first].shape[1]  # the product is the hero


@pytest.mark.parametrize("name", ["portrait", "square"])
def test_the_storyboard_has_a_tile_per_shot(renders, name):
    from pipelines.artifacts import BOARD_COLUMNS, BOARD_TILE_W

    doc, captioned, _, (width, height) = renders[name]
    shots = len(doc["shots"])
    assert width == 12 + min(shots, BOARD_COLUMNS) * (BOARD_TILE_W + 12)
    rows = -(-shots // BOARD_COLUMNS)
    tile_h = round(BOARD_TILE_W * captioned[0].shape[0] / captioned[0].shape[1])
    assert rows * tile_h < height < rows * (tile_h + 24 * 6 + 40) + 12
    assert all(shot["line"] or shot["kind"] == "endcard" for shot in doc["shots"])
