"""The same ad written with MoviePy 2, the way its documentation composes and writes a video.

    python -m engine.bench.moviepy_render BUNDLE OUT.json

What a user of a MoviePy-based generator would run for our composition: the persona panel as
the background ImageClip, the speaking persona as a VideoClip fed by the same animator, the
product as an ImageClip whose position function makes the same bob, karaoke captions as
TextClips (each word in white for its page, and again in the highlight colour while spoken,
same font file, size, colours and outline), the end card as an ImageClip with CrossFadeIn, and
the same mixed audio through AudioFileClip; then `CompositeVideoClip(...).write_videofile` with
the pipeline's codec, preset and CRF, 30 fps, AAC at 48 kHz.

Where it is simpler than the pipeline (each choice makes MoviePy faster, so the speed-up the
benchmark reports is, if anything, understated): the product does not sway (a per-frame
rotation would cost MoviePy more), captions have no drop shadow, and the background is used as
MoviePy's `use_bgclip` so the composite carries no mask and goes out as RGB, not RGBA. In
`display_static` mode the product stands in the card's box without the white card.
Building the clips (TextClip rasterisation included) and writing are timed separately.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from engine.bench.reference_scene import ReferenceJob, load, rebuild, write_result
from engine.measure import measured
from pipelines.captions.pages import place_page
from pipelines.captions.track import CaptionTrack
from pipelines.compose.layout import layout_for
from pipelines.contract import AUDIO_RATE
from pipelines.product import product_sprite_rgba
from pipelines.scene import BuiltScene


class _PatchFeed:
    """Serves persona patches by time from the animator's iterator, which runs forward only.

    MoviePy asks for frames in order while writing; a repeat of the last time gets the same
    patch, and where the animator gives none (a cutaway, the end card) the last one stays.
    """

    def __init__(self, patches: Iterator[np.ndarray | None], fps: int, still: np.ndarray) -> None:
        self.patches, self.fps, self.index = patches, fps, -1
        self.patch = still  # until the first patch, and where the edit shows no persona

    def __call__(self, t: float) -> np.ndarray:
        wanted = int(round(t * self.fps))
        while self.index < wanted:
            patch = next(self.patches, None)
            self.patch = self.patch if patch is None else patch
            self.index += 1
        return self.patch


def _persona_clip(built: BuiltScene, job: ReferenceJob, duration_s: float) -> Any:
    from moviepy import VideoClip

    roi = built.scene.persona_roi
    still = built.scene.base[roi.y:roi.y + roi.h, roi.x:roi.x + roi.w]
    clip = VideoClip(_PatchFeed(built.patches, job.fps, still), duration=duration_s)
    return clip.with_position((roi.x, roi.y))


def _product_clip(built: BuiltScene, job: ReferenceJob, duration_s: float) -> Any:
    """The product image, placed where the pipeline's product layer puts it at each time."""
    from moviepy import ImageClip

    layout = layout_for(*job.spec.frame_size)
    box = layout.card if job.spec.interaction_mode == "display_static" else layout.product
    rgba, _ = product_sprite_rgba(job.cutout, box)
    layer = built.scene.layers[0]

    def position(t: float) -> tuple[int, int]:
        placed = layer(t)
        return (placed.x, placed.y)

    return ImageClip(rgba, duration=duration_s).with_position(position)


def _word_clip(text: str, rgb: tuple[int, int, int], track: CaptionTrack, start_s: float,
               end_s: float, x: int, y: int) -> Any:
    from moviepy import TextClip

    style = track.style
    clip = TextClip(font=str(style.font_path), text=text, font_size=style.font_px, color=rgb,
                    stroke_color=style.stroke_rgb, stroke_width=style.stroke_px)
    return clip.with_start(start_s).with_end(end_s).with_position((x, y))


def _caption_clips(track: CaptionTrack) -> list[Any]:
    """Per page: every word in the text colour, and the spoken one again highlighted."""
    clips = []
    for page in track.pages:
        placement = place_page(page, track.style)
        drawn = sorted(i for line in page.lines for i in line)
        for order, i in enumerate(drawn):
            word, box = page.words[i], placement.word_boxes[i]
            clips.append(_word_clip(word.text, track.style.text_rgb, track, page.start_s,
                                    page.end_s, box.x, box.y))
            if track.style.karaoke:
                last = order + 1 == len(drawn)
                until = page.end_s if last else page.words[drawn[order + 1]].start_s
                clips.append(_word_clip(word.text, track.style.highlight_rgb, track,
                                        word.start_s, until, box.x, box.y))
    return clips


def compose(job: ReferenceJob, built: BuiltScene) -> Any:
    """The whole ad as one MoviePy CompositeVideoClip with its audio."""
    from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, vfx

    duration = job.track.duration_s
    card = built.scene.end_card
    covered = card.start_s + card.fade_s if card is not None else duration  # card fully shown
    clips = [ImageClip(built.scene.base, duration=duration),
             _persona_clip(built, job, covered), _product_clip(built, job, covered)]
    if card is not None:
        clips.append(ImageClip(card.image).with_start(card.start_s).with_end(duration)
                     .with_effects([vfx.CrossFadeIn(card.fade_s)]))
    if job.spec.captions_enabled:
        clips += _caption_clips(built.captions)
    video = CompositeVideoClip(clips, size=job.spec.frame_size, use_bgclip=True)
    return video.with_duration(duration).with_audio(AudioFileClip(str(job.audio_path)))


def write(job: ReferenceJob, video: Any, out: Path) -> None:
    video.write_videofile(
        str(out), fps=job.fps, codec=job.codec.name, preset=job.codec.preset,
        ffmpeg_params=["-crf", str(job.codec.crf), "-profile:v", "high"],
        pixel_format="yuv420p", audio_codec="aac", audio_fps=AUDIO_RATE, audio_bitrate="192k",
        temp_audiofile_path=str(job.work), logger=None)


def run(bundle: Path) -> dict[str, Any]:
    job = load(bundle)
    built = rebuild(job)
    out = job.work / "moviepy_reference.mp4"
    with measured() as record:
        started, cpu0 = time.perf_counter(), time.process_time()
        video = compose(job, built)
        build = {"build_wall_s": time.perf_counter() - started,
                 "build_cpu_s": time.process_time() - cpu0}
        write(job, video, out)
    video.close()
    return {**record, **build, **_facts(record, build, job.track.frame_count, out),
            "clips": len(video.clips) + 1}


def _facts(record: dict[str, Any], build: dict[str, float], frames: int,
           out: Path) -> dict[str, Any]:
    import moviepy.config

    write_s = record["wall_s"] - build["build_wall_s"]
    return {"write_wall_s": write_s, "write_cpu_s": record["cpu_s"] - build["build_cpu_s"],
            "frames": frames, "fps": frames / record["wall_s"], "write_fps": frames / write_s,
            "size_bytes": out.stat().st_size, "moviepy_version": version("moviepy"),
            "ffmpeg": str(moviepy.config.FFMPEG_BINARY)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="MoviePy 2 render of a captured job.")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    write_result(args.out, run(args.bundle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
