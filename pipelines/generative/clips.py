"""The `generation` stage of the generative tier: each shot's frames at the output's size and rate.

    frames = shot_frames(shot, keyframes, job=clip_job, record=record)
    for frame in frames: ...            # (height, width, 3) uint8, one per output frame

A generated shot is animated from its keyframe by the motion model for the shot's duration,
capped at `max_motion_s` (longer shots play the clip forward, then backward). The model's frame
rate (24 or 16 fps) becomes the output's 30 fps by taking the nearest source frame. A talking
shot is then lip-synced by the persona animator's idle-video path (MuseTalk), with the voice of
that shot only; a clip in which no face can be found is shown without lip-sync, and the record
says so. A cutaway shows the product cut-out full frame, the end card's shot the anchor
keyframe, both with a slow push-in and no lip-sync.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from engine.spec import JobSpec
from models.base import MotionBackend, MotionClip, MotionRequest, PersonaAnimator, Speech, WordTiming
from pipelines.generative.keyframes import Keyframes
from pipelines.generative.prompts import motion_prompt
from pipelines.generative.record import GenerativeRecord
from pipelines.generative.shots import Shot

PUSH_IN = 0.06  # held shots zoom in by this share over their duration


@dataclass(frozen=True)
class ClipJob:
    """What every shot of one render shares."""

    spec: JobSpec
    motion: MotionBackend
    animator: PersonaAnimator
    speech: Speech  # the whole voice track
    size: tuple[int, int]  # output (width, height)
    motion_size: tuple[int, int]  # generation (width, height)
    fps: int
    max_motion_s: float
    cutaway: np.ndarray  # a product cutaway's frame (output size): the cut-out full frame


def frame_span(shot: Shot, fps: int) -> range:
    return range(round(shot.start_s * fps), round(shot.end_s * fps))


def shot_frames(shot: Shot, keyframes: Keyframes, *, job: ClipJob,
                record: GenerativeRecord) -> Iterator[np.ndarray]:
    count = len(frame_span(shot, job.fps))
    if shot.kind == "cutaway":
        return held_frames(job.cutaway, count, size=job.size)
    if not shot.generated:
        return held_frames(keyframes.for_shot(shot), count, size=job.size)
    clip = _animate(shot, keyframes.for_shot(shot), job, record)
    if shot.talking and hasattr(job.animator, "prepare_video"):
        synced = _lip_synced(shot, clip, count, job, record)
        if synced is not None:
            return synced
    return (fit_frame(clip.frames[source_index(i, clip.fps, job.fps, len(clip.frames))], job.size)
            for i in range(count))


def source_index(frame: int, source_fps: float, fps: int, count: int) -> int:
    """The clip frame shown at output `frame`: nearest in time, forward then backward."""
    if count == 1:
        return 0
    step = int(frame * source_fps / fps) % (2 * count - 2)
    return step if step < count else 2 * count - 2 - step


def held_frames(image: np.ndarray, count: int, *, size: tuple[int, int]) -> Iterator[np.ndarray]:
    base = fit_frame(image, size)
    width, height = size
    for i in range(count):
        zoom = 1.0 + PUSH_IN * i / max(1, count - 1)
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 0.0, zoom)
        yield cv2.warpAffine(base, matrix, (width, height), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT)


def slice_speech(speech: Speech, start_s: float, end_s: float) -> Speech:
    """The voice between two times, its words re-timed from `start_s`."""
    rate = speech.sample_rate
    samples = speech.samples[round(start_s * rate):round(end_s * rate)]
    words = tuple(WordTiming(w.text, w.start_s - start_s, w.end_s - start_s)
                  for w in speech.words if w.end_s > start_s and w.start_s < end_s)
    return Speech(samples, rate, words, backend=speech.backend)


def _animate(shot: Shot, keyframe: np.ndarray, job: ClipJob,
             record: GenerativeRecord) -> MotionClip:
    width, height = job.motion_size
    duration = min(shot.duration_s, job.max_motion_s)
    started = time.perf_counter()
    clip = job.motion.animate(MotionRequest(keyframe, motion_prompt(job.spec, shot), width=width,
                                            height=height, duration_s=duration,
                                            seed=job.spec.seed + shot.index))
    record.clips.append({"shot": shot.index, "frames": int(len(clip.frames)), "fps": clip.fps,
                         "width": int(clip.frames.shape[2]), "height": int(clip.frames.shape[1]),
                         "wall_s": round(time.perf_counter() - started, 3)})
    return clip


def _lip_synced(shot: Shot, clip: MotionClip, count: int, job: ClipJob,
                record: GenerativeRecord) -> Iterator[np.ndarray] | None:
    width, height = job.size
    persona_id = f"{job.spec.job_id}-shot{shot.index}"
    try:
        prepared = job.animator.prepare_video(persona_id, list(clip.frames), fps=clip.fps,
                                              panel_w=width, panel_h=height)
    except ValueError as exc:  # no face in the generated clip
        record.lipsync.append({"shot": shot.index, "synced": False, "reason": str(exc)})
        return None
    record.lipsync.append({"shot": shot.index, "synced": True})
    voice = slice_speech(job.speech, shot.start_s, shot.end_s)
    return job.animator.animate(prepared, voice, fps=job.fps, frame_count=count,
                                seed=job.spec.seed + shot.index)


def fit_frame(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` scaled to cover `size` and centre-cropped (never distorted)."""
    width, height = size
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    scale = max(width / w, height / h)
    resized = cv2.resize(image, (max(width, round(w * scale)), max(height, round(h * scale))),
                         interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    y0, x0 = (resized.shape[0] - height) // 2, (resized.shape[1] - width) // 2
    return resized[y0:y0 + height, x0:x0 + width]
