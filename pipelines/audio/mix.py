"""The audio stage: one voice track on the video timeline, a music bed, one normalised mix.

    bed = load_music_file(Path("configs/music/bed.mp3"), duration_s=16.0, sample_rate=48000)
    check_music_file(work / "music.mp3")   # MUSIC_INVALID unless it starts with decodable audio
    mix = mix_audio(voice, bed, music_volume=0.15, out_path=work / "audio.wav", work_dir=work)
    mix.integrated_lufs, mix.true_peak_db    # -14.0, -3.4 (by ebur128)

The mix is one ffmpeg filter graph (voice levelled, compressed and peak-limited, music levelled
and ducked under the voice by a sidechain compressor) over one input whose channels are the
voice and the music, so the same job mixes to the same samples on every run (two inputs reach a
two-input filter in a racy order); then `pipelines.audio.loudness`: one linear
gain to the target measured by ebur128, then a measurement: a result off the target gets a
gain-and-limiter correction instead of being shipped at the wrong level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.catalog import Catalog
from engine.errors import EncoderError, MusicInvalid, MusicNotFound
from engine.spec import JobSpec
from models.base import Speech
from models.registry import Registry
from pipelines.audio.loudness import MixOptions, exact_length, normalise_loudness
from pipelines.contract import AUDIO_RATE, LOUDNESS_TARGET_LUFS
from pipelines.encode.encoder import encode_audio
from pipelines.encode.ffmpeg import decode_audio, run_ffmpeg, write_wav
from pipelines.voice import VoiceTrack

MUSIC_CHECK_S = 2.0  # how much of a downloaded track is decoded before the render goes on
LOOP_CROSSFADE_S = 0.5  # a music file shorter than the video loops with this crossfade
MUSIC_FADE_OUT_S = 1.5
# Before mixing, speech (while speaking) and music are brought to these RMS levels, so that
# music_volume means the same for every voice and every music file: at 0.15 the music's
# loudness sits about 13 LU under the voice's, and ducking takes 9-12 dB more off while
# someone speaks (measured with the Piper voice and the synth beds).
VOICE_RMS_DB = -20.0
MUSIC_RMS_DB = -22.5
# Ducking: the voice (the key) is ~10 dB over this threshold while speaking.
DUCK_THRESHOLD = 0.02
DUCK_RATIO = 8
DUCK_ATTACK_MS = 20
DUCK_RELEASE_MS = 350
# Speech from a TTS model peaks ~19 dB over its loudness; -14 LUFS under a -1.5 dBTP ceiling
# leaves room for 12.5. A gentle compressor (its makeup restoring the loudness) and a fast
# limiter about 8 dB under the voice's peaks bring the voice alone to ~11, leaving the music
# untouched. A limiter on the whole mix takes what is left only when the linear gain to the
# target would still overshoot, so the normalisation stays a pure gain.
# The high-pass drops DC and rumble under the voice's lowest harmonics: a neural vocoder's
# offset otherwise reads as level to the compressor and limiter, and as peaks after AAC.
VOICE_CHAIN = ("highpass=f=50,"
               "acompressor=threshold=0.1:ratio=3:attack=5:release=120:knee=4:makeup=2,"
               "alimiter=limit=0.3:level=false:attack=2:release=40")


@dataclass(frozen=True)
class AudioMix:
    """The finished mix and what was measured on it (ffmpeg ebur128)."""

    out_path: Path  # stereo 16-bit WAV at sample_rate
    duration_s: float
    sample_rate: int
    integrated_lufs: float
    true_peak_db: float
    ducked: bool  # music present and ducked under the voice
    normalization: str  # how the level was reached: "linear" (one gain, dynamics kept)
    corrected: bool  # a final gain + limiter pass was needed to land on target


# --- music file ------------------------------------------------------------------------------

def load_music_file(path: Path, *, duration_s: float, sample_rate: int,
                    timeout_s: float = 120) -> np.ndarray:
    """A music file as an (n, 2) float32 bed of exactly `duration_s`.

    Shorter files loop with a LOOP_CROSSFADE_S equal-power crossfade; the tail fades out.
    """
    music = decode_audio(path, sample_rate=sample_rate, channels=2, timeout_s=timeout_s)
    if len(music) < sample_rate // 10:
        raise MusicNotFound(f"music file {path.name} holds no usable audio",
                            details={"file": path.name, "samples": len(music)})
    count = round(duration_s * sample_rate)
    bed = _loop(music, count, round(LOOP_CROSSFADE_S * sample_rate))[:count].copy()
    fade = min(round(MUSIC_FADE_OUT_S * sample_rate), count // 3)
    bed[count - fade:] *= (np.linspace(1.0, 0.0, fade) ** 2)[:, None]
    return bed.astype(np.float32)


def check_music_file(path: Path, *, sample_rate: int = AUDIO_RATE, timeout_s: float = 60) -> None:
    """MusicInvalid unless the file's first MUSIC_CHECK_S decode to at least 0.1 s of audio."""
    try:
        head = decode_audio(path, sample_rate=sample_rate, channels=2, timeout_s=timeout_s,
                            max_s=MUSIC_CHECK_S)
    except EncoderError as exc:
        raise MusicInvalid("the custom music track is not audio that can be decoded",
                           details={"file": path.name, "reason": exc.message[-300:]}) from None
    if len(head) < sample_rate // 10:
        raise MusicInvalid("the custom music track holds no usable audio",
                           details={"file": path.name, "samples": len(head)})


def _loop(music: np.ndarray, count: int, crossfade: int) -> np.ndarray:
    """Repeat `music` until it is at least `count` long; each seam is a crossfade."""
    if len(music) >= count:
        return music
    crossfade = min(crossfade, len(music) // 4)
    if crossfade == 0:
        return np.tile(music, (math.ceil(count / len(music)), 1))
    ramp = np.linspace(0.0, np.pi / 2, crossfade)[:, None]
    seam = music[-crossfade:] * np.cos(ramp) + music[:crossfade] * np.sin(ramp)
    unit = np.concatenate([seam, music[crossfade:-crossfade]])  # what each repeat adds
    repeats = math.ceil((count - (len(music) - crossfade)) / len(unit))
    return np.concatenate([music[:-crossfade], np.tile(unit, (repeats, 1))])


# --- the mix ---------------------------------------------------------------------------------

def mix_audio(voice: Speech, music: np.ndarray | None, *, music_volume: float, out_path: Path,
              work_dir: Path, sample_rate: int = AUDIO_RATE, target_lufs: float = LOUDNESS_TARGET_LUFS,
              true_peak_db: float = -1.5, timeout_s: float = 120) -> AudioMix:
    """Mix the voice track with a music bed into a loudness-normalised WAV.

    `music` is (n, 2) at `sample_rate` (any length: it is trimmed or padded); None, or a
    `music_volume` (0-1) of 0, mixes the voice alone. The output is stereo 16-bit at
    `sample_rate`, exactly as long as the voice track. Raises EncoderError if the level
    cannot be brought on target.
    """
    if not 0.0 <= music_volume <= 1.0:
        raise ValueError(f"music_volume must be within 0-1, got {music_volume}")
    if len(voice.samples) == 0 or not np.any(voice.samples):
        raise ValueError("the voice track is empty or silent")
    if music is not None and (music.ndim != 2 or music.shape[1] != 2):
        raise ValueError(f"music must be stereo, shape (n, 2); got {music.shape}")
    opts = MixOptions(round(voice.duration_s * sample_rate), sample_rate, target_lufs,
                       true_peak_db, timeout_s)
    premix = work_dir / "premix.wav"
    ducked = _premix(voice, music, music_volume=music_volume, out_path=premix, work_dir=work_dir,
                     opts=opts)
    level = normalise_loudness(premix, out_path, work_dir=work_dir, opts=opts)
    return AudioMix(out_path, opts.count / sample_rate, sample_rate, level.integrated_lufs,
                    level.true_peak_db, ducked, level.normalization, level.corrected)


def _premix(voice: Speech, music: np.ndarray | None, *, music_volume: float, out_path: Path,
            work_dir: Path, opts: MixOptions) -> bool:
    """Voice (and ducked music) summed into a float WAV of exactly `opts.count` samples.

    Returns whether music was mixed (and so ducked). The voice is levelled on its own first;
    then voice and music travel as the channels of one file: the ducking compressor ends with
    whichever of its inputs ends first, and two files decoded in threads of their own reach it
    in an order that changes from run to run (the music's tail was lost in about one mix in
    six). One input reaches every filter in the same frames, every time.
    """
    voice_wav, levelled = work_dir / "voice.wav", work_dir / "voice-levelled.f32"
    write_wav(voice_wav, _levelled(voice.samples, voice.sample_rate, VOICE_RMS_DB, gated=True),
              sample_rate=voice.sample_rate)
    run_ffmpeg(["-i", str(voice_wav), "-af", f"aresample={opts.sample_rate},{VOICE_CHAIN}",
                "-ac", "1", "-f", "f32le", str(levelled)], timeout_s=opts.timeout_s)
    channels = [_fit(np.fromfile(levelled, "<f4")[:, None], opts.count)]
    graph = "[0:a]pan=stereo|c0=c0|c1=c0,aformat=sample_fmts=fltp:channel_layouts=stereo"
    with_music = music is not None and music_volume > 0.0
    if with_music:
        channels.append(_fit(_levelled(music, opts.sample_rate, MUSIC_RMS_DB, gated=False),
                             opts.count))
        graph = ("[0:a]asplit=2[v][m];"
                 f"[v]pan=stereo|c0=c0|c1=c0,aformat=sample_fmts=fltp:channel_layouts=stereo,"
                 f"asplit=2[voice][key];"
                 f"[m]pan=stereo|c0=c1|c1=c2,aformat=sample_fmts=fltp:channel_layouts=stereo,"
                 f"volume={music_volume:.4f}[bed];"
                 f"[bed][key]sidechaincompress=threshold={DUCK_THRESHOLD}:ratio={DUCK_RATIO}:"
                 f"attack={DUCK_ATTACK_MS}:release={DUCK_RELEASE_MS}[ducked];"
                 f"[voice][ducked]amix=inputs=2:duration=first:dropout_transition=0:normalize=0")
    joined = work_dir / "premix-in.f32"
    np.concatenate(channels, axis=1).astype("<f4").tofile(joined)
    run_ffmpeg(["-f", "f32le", "-ar", str(opts.sample_rate), "-ac", str(1 + 2 * with_music),
                "-i", str(joined), "-filter_complex", f"{graph},{exact_length(opts)}[out]",
                "-map", "[out]", "-c:a", "pcm_f32le", str(out_path)], timeout_s=opts.timeout_s)
    return with_music


def _fit(music: np.ndarray, count: int) -> np.ndarray:
    """Exactly `count` frames: trimmed, or padded with silence."""
    if len(music) >= count:
        return music[:count]
    return np.concatenate([music, np.zeros((count - len(music), music.shape[1]), music.dtype)])


def _levelled(samples: np.ndarray, sample_rate: int, rms_db: float, *, gated: bool) -> np.ndarray:
    """`samples` scaled to an RMS of `rms_db` dBFS, never past a peak of 0.99.

    Gated: the RMS counts only 50 ms frames within 30 dB of the loudest (speech, not pauses).
    """
    frame = max(1, sample_rate // 20)
    usable = len(samples) // frame * frame
    if usable == 0:
        return samples
    squares = np.asarray(samples[:usable], np.float64) ** 2
    power = squares.reshape(usable // frame, -1).mean(axis=1)
    if power.max() <= 0:
        return samples
    active = power[power >= power.max() * 1e-3] if gated else power
    gain = 10 ** (rms_db / 20) / math.sqrt(active.mean())
    gain = min(gain, 0.99 / float(np.abs(samples).max()))
    return (samples * gain).astype(np.float32)


DEFAULT_MOOD = "upbeat"


def mix_track(spec: JobSpec, track: VoiceTrack, catalog: Catalog, registry: Registry,
              work: Path, *, music_path: Path | None = None) -> Path:
    """Music bed (custom file or composed per mood) ducked under the voice, normalised, as AAC.
    `music_path`: the job's custom track as fetched; else `custom_music_id` names a catalog file."""
    music = None
    if spec.music_enabled and spec.custom_music_id:
        music = load_music_file(music_path or catalog.music_file(spec.custom_music_id),
                                duration_s=track.duration_s, sample_rate=AUDIO_RATE)
    elif spec.music_enabled:
        music = registry.music().compose(mood=spec.music_mood or DEFAULT_MOOD,
                                         duration_s=track.duration_s, sample_rate=AUDIO_RATE,
                                         seed=spec.seed)
    (work / "mix").mkdir(exist_ok=True)
    mixed = mix_audio(track.speech, music, music_volume=spec.music_volume,
                      out_path=work / "audio.wav", work_dir=work / "mix", sample_rate=AUDIO_RATE)
    return encode_audio(mixed.out_path, work / "audio.m4a", timeout_s=120)
