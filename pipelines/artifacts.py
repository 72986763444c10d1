"""What a render leaves behind: thumbnail, storyboard, script.json, and the move to the out dir.

    write_thumbnail(frame, work / "thumbnail.jpg")
    write_storyboard([(frame, "Honestly, I was skeptical..."), ...], work / "storyboard.png", font)
    publish({"final.mp4": work / "final.mp4", ...}, out_dir)

`publish` copies each file under a temporary name and renames it into place, the video last,
so a reader never sees a half-written artifact and `final.mp4` appears only when all is there.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from models.base import Script
from pipelines.captions.font import font_path
from pipelines.voice import VoiceTrack

THUMB_LONG_SIDE = 1280
BOARD_TILE_W = 360
BOARD_COLUMNS = 5
QA_MARK_RGB = (230, 40, 40)


def write_thumbnail(frame: np.ndarray, path: Path) -> None:
    image = Image.fromarray(frame)
    image.thumbnail((THUMB_LONG_SIDE, THUMB_LONG_SIDE), Image.Resampling.LANCZOS)
    image.save(path, "JPEG", quality=88)


def _caption_block(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and draw.textlength(trial, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def write_storyboard(tiles: Sequence[tuple[np.ndarray, str]], path: Path, font_path: Path,
                     *, marked: frozenset[int] = frozenset()) -> None:
    """One tile per shot (or segment): the frame, then its line underneath, BOARD_COLUMNS a row;
    a tile whose index is in `marked` (a shot that failed QA) gets a red frame and "QA"."""
    font = ImageFont.truetype(str(font_path), 17)
    scaled = [Image.fromarray(f).resize((BOARD_TILE_W, round(BOARD_TILE_W * f.shape[0] / f.shape[1])),
                                        Image.Resampling.LANCZOS) for f, _ in tiles]
    blocks = [_caption_block(text, font, BOARD_TILE_W - 16) for _, text in tiles]
    text_h = 24 * max(len(b) for b in blocks) + 16
    pad = 12
    columns = min(len(tiles), BOARD_COLUMNS)
    row_h = max(i.height for i in scaled) + text_h + pad
    rows = -(-len(tiles) // columns)
    board = Image.new("RGB", (pad + columns * (BOARD_TILE_W + pad), pad + rows * row_h),
                      (24, 24, 28))
    draw = ImageDraw.Draw(board)
    for index, (tile, block) in enumerate(zip(scaled, blocks, strict=True)):
        x = pad + index % columns * (BOARD_TILE_W + pad)
        y = pad + index // columns * row_h
        board.paste(tile, (x, y))
        if index in marked:
            draw.rectangle((x - 4, y - 4, x + tile.width + 3, y + tile.height + 3),
                           outline=QA_MARK_RGB, width=4)
            draw.text((x + 8, y + 6), "QA", font=font, fill=QA_MARK_RGB)
        for row, line in enumerate(block):
            draw.text((x + 8, y + tile.height + 8 + 24 * row), line, font=font, fill=(235, 235, 235))
    board.save(path, "PNG", compress_level=3)  # review image: speed over size


def script_document(script: Script, track: VoiceTrack | None,
                    shots: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    segments = []
    for index, segment in enumerate(script.segments):
        entry: dict[str, Any] = {"index": index, "phase": segment.phase, "text": segment.text}
        if track is not None:
            start, end = track.segment_spans[index]
            entry.update(start_s=round(start, 3), end_s=round(end, 3))
        segments.append(entry)
    doc: dict[str, Any] = {"structure": script.structure, "tone": script.tone,
                           "writer": script.writer, "notes": list(script.notes), "segments": segments}
    if track is not None:
        doc["words"] = [{"text": w.text, "start_s": round(w.start_s, 3), "end_s": round(w.end_s, 3)}
                        for w in track.speech.words]
        doc["voice_backend"] = track.speech.backend
    doc["shot_plan"] = [{"segment": s.segment, "kind": s.kind, "first_word": s.first_word,
                         "last_word": s.last_word, "title": s.title} for s in script.shots]
    if shots:
        doc["shots"] = list(shots)
    return doc


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def publish(files: dict[str, Path], out_dir: Path) -> dict[str, Path]:
    """Copy artifacts into `out_dir` atomically, `final.mp4` last; returns their new paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    order = sorted(files, key=lambda name: name == "final.mp4")
    placed = {}
    for name in order:
        target = out_dir / name
        partial = out_dir / f".{name}.partial"
        shutil.copyfile(files[name], partial)
        os.replace(partial, target)
        placed[name] = target
    return placed


def save_rgba(rgba: np.ndarray, path: Path) -> Path:
    Image.fromarray(rgba, "RGBA").save(path, "PNG")
    return path


def still_times(track: VoiceTrack, shots: Sequence[dict[str, Any]] = ()) -> list[float]:
    """Thumbnail (1.2 s in, the hook with the product in view) and one still per storyboard tile."""
    return [min(1.2, track.duration_s / 2), *board_still_times(track, shots)]


def board_still_times(track: VoiceTrack, shots: Sequence[dict[str, Any]] = ()) -> list[float]:
    """One time per shot (its middle) when there is a shot plan, else one per segment."""
    if shots:
        return [(shot["start_s"] + shot["end_s"]) / 2 for shot in shots]
    return [(start + end) / 2 for start, end in track.segment_spans]


def write_pictures(stills: dict[float, np.ndarray], script: Script, track: VoiceTrack,
                   work: Path, *, configs: Path, shots: Sequence[dict[str, Any]] = (),
                   failing_shots: set[int] = frozenset()) -> dict[str, Path]:
    thumb = work / "thumbnail.jpg"
    write_thumbnail(stills[still_times(track, shots)[0]], thumb)
    board = work / "storyboard.png"
    lines = [f"{shot['kind']}: {shot['line']}" for shot in shots] if shots else \
        [seg.text for seg in script.segments]
    tiles = [(stills[t], line) for t, line in zip(board_still_times(track, shots), lines,
                                                  strict=True)]
    marked = frozenset(i for i, shot in enumerate(shots) if shot["index"] in failing_shots)
    write_storyboard(tiles, board, font_path(configs), marked=marked)
    return {"thumbnail.jpg": thumb, "storyboard.png": board}
