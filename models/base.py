"""The small protocols a render asks backends for, and the data they exchange.

One protocol per role. A backend module imports its own library and this file, nothing from
`pipelines/` or `engine/`. Images are numpy uint8 arrays in RGB (or RGBA) order, audio is mono
float32 in [-1, 1], times are seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Box:
    """Axis-aligned rectangle in pixels."""

    x: int
    y: int
    w: int
    h: int

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def scaled(self, factor: float, *, dx: float = 0.0, dy: float = 0.0) -> Box:
        return Box(round(self.x * factor + dx), round(self.y * factor + dy),
                   round(self.w * factor), round(self.h * factor))


# --- script -------------------------------------------------------------------------------

DEFAULT_CTA = "Tap the link to get yours"  # spoken and shown when a job gives no cta_text

@dataclass(frozen=True)
class ScriptBrief:
    """What a script writer is given. Durations in seconds, rate in words per second."""

    product_name: str
    segment_count: int
    segment_duration_s: float
    structure: str = "standard_5phase"
    tone: str = "conversational"
    selling_points: tuple[str, ...] = ()
    cta_text: str | None = None
    environment: str | None = None
    custom_script: str | None = None
    words_per_second: float = 2.5
    seed: int = 0
    language: str = "en"  # BCP 47: the language the lines are spoken in


@dataclass(frozen=True)
class ScriptSegment:
    phase: str  # e.g. "hook", "problem", "solution", "proof", "cta"
    text: str


@dataclass(frozen=True)
class Script:
    segments: tuple[ScriptSegment, ...]
    structure: str
    tone: str
    writer: str  # the backend that produced it
    notes: tuple[str, ...] = ()  # e.g. why a fallback writer was used
    # The shot plan: models.script.shots.PlannedShot per shot, in order (empty: not planned).
    shots: tuple = ()


class ScriptTooLongError(ValueError):
    """A custom script that cannot be spoken in the video's duration."""

    def __init__(self, message: str, *, words: int, budget: int) -> None:
        super().__init__(message)
        self.words, self.budget = words, budget


class ScriptTooShortError(ValueError):
    """A custom script with fewer words than segments: no split gives every segment a word."""

    def __init__(self, message: str, *, words: int, segments: int) -> None:
        super().__init__(message)
        self.words, self.segments = words, segments


class ScriptWriter(Protocol):
    name: str

    def write(self, brief: ScriptBrief) -> Script: ...


# --- voice --------------------------------------------------------------------------------

@dataclass(frozen=True)
class WordTiming:
    text: str  # the word as written in the script, punctuation kept
    start_s: float
    end_s: float


@dataclass(frozen=True)
class PhonemeTiming:
    phoneme: str  # IPA symbol as the voice produced it
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Speech:
    """Mono speech and its timings, all relative to the first sample.

    The same type carries one synthesized utterance and the whole voice track of a video.
    """

    samples: np.ndarray  # float32, shape (n,), in [-1, 1]
    sample_rate: int
    words: tuple[WordTiming, ...]
    phonemes: tuple[PhonemeTiming, ...] = ()
    backend: str = ""

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def primary_language(tag: str) -> str:
    """The language subtag of a BCP 47 tag or a locale name: 'fr' for 'fr-CA' and 'en_US'."""
    return tag.replace("_", "-").split("-")[0].lower()


class VoiceBackend(Protocol):
    name: str

    def synthesize(self, text: str, *, speed: float = 1.0) -> Speech:
        """Speak `text`; speed 1.0 is the voice's natural rate, 1.2 is 20 % faster."""
        ...


# --- persona ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PersonaImage:
    persona_id: str
    image: np.ndarray  # (h, w, 3) uint8 RGB portrait
    source: Path | None = None


@dataclass(frozen=True)
class Framing:
    """How a persona shot is framed. `zoom` 1.0 is the talking close-up; 1.1-1.2 a punch-in
    about the eyes; below 1 a wider (medium) shot."""

    zoom: float = 1.0

    def __post_init__(self) -> None:
        if not 0.5 <= self.zoom <= 2.0:
            raise ValueError(f"framing zoom must be within 0.5-2.0, got {self.zoom}")


@dataclass(frozen=True)
class PreparedPersona:
    """A persona laid out at output size once, plus where per-frame motion happens.

    `panel` is drawn once; `animate()` redraws only `roi` (panel coordinates) per frame.
    """

    persona_id: str
    panel: np.ndarray  # (panel_h, panel_w, 3) uint8 RGB
    roi: Box
    face: Box
    mouth: Box
    extras: dict = field(default_factory=dict)  # backend-specific prepared state


class PersonaAnimator(Protocol):
    name: str
    # Frames the backend computes at once (a lip-sync batch; 1 for per-frame methods). The
    # generation stage runs such a backend a batch ahead and sizes the encoder queue to it.
    burst_frames: int

    def prepare(self, persona: PersonaImage, *, panel_w: int, panel_h: int,
                framing: Framing = Framing()) -> PreparedPersona:
        """Frame the portrait for a panel (the shot's `framing`); locate face and mouth once
        per persona."""
        ...

    def animate(
        self, prepared: PreparedPersona, voice: Speech, *, fps: int, frame_count: int, seed: int,
        first_frame: int = 0,
    ) -> Iterator[np.ndarray]:
        """Yield `frame_count` RGB patches of `prepared.roi`'s size for the video frames from
        `first_frame` on (a shot that starts later), one per video frame."""
        ...


# --- product ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cutout:
    rgba: np.ndarray  # (h, w, 4) uint8, cropped to the product
    method: str  # "alpha", "plain-background", "none" (kept as a card), or a model name


class CutoutBackend(Protocol):
    name: str

    def cut_out(self, image: np.ndarray) -> Cutout:
        """Separate the product from its background; `image` is RGB or RGBA uint8."""
        ...


# --- music --------------------------------------------------------------------------------

class MusicBackend(Protocol):
    name: str

    def compose(self, *, mood: str, duration_s: float, sample_rate: int, seed: int) -> np.ndarray:
        """A music bed of exactly `duration_s`: float32 stereo, shape (n, 2), peak <= 1."""
        ...


# --- keyframes ----------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyframeRequest:
    """One still to generate. `references` are RGB uint8 images whose content the keyframe
    keeps (the persona's portrait and the product for the anchor; the anchor for the rest)."""

    prompt: str
    references: tuple[np.ndarray, ...]
    width: int
    height: int
    seed: int


class KeyframeBackend(Protocol):
    name: str

    def generate(self, request: KeyframeRequest) -> np.ndarray:
        """An (height, width, 3) uint8 RGB image."""
        ...


# --- motion -------------------------------------------------------------------------------

@dataclass(frozen=True)
class MotionRequest:
    """One clip to animate from its first frame `keyframe` (RGB uint8), at least `duration_s`."""

    keyframe: np.ndarray
    prompt: str
    width: int
    height: int
    duration_s: float
    seed: int


@dataclass(frozen=True)
class MotionClip:
    frames: np.ndarray  # (n, h, w, 3) uint8 RGB
    fps: float  # the model's own frame rate; the render resamples to the output's

    @property
    def duration_s(self) -> float:
        return len(self.frames) / self.fps


class MotionBackend(Protocol):
    name: str

    def animate(self, request: MotionRequest) -> MotionClip: ...
