"""Music: the built-in catalog of beds and the custom tracks an account uploads.

    catalog(mood="chill")                       # the synth's beds, as U-Gen's catalog entries
    fmt = sniff(data)                           # "mp3" | "wav" | "ogg" | "aac" | "m4a", else None
    track = active_track(db, account_id, music_id)   # what `custom_music_id` names, or None

Uploads follow U-Gen's Music API: MP3, WAV, OGG, AAC or M4A, at most 20 MB. The format is read
from the file's first bytes, never trusted from its name or Content-Type. The catalog is the
procedural beds of models/music/synth.py, one per mood; a job picks one with `music_mood`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.tables import MusicTrack

MAX_BYTES = 20 * 1024 * 1024
FORMATS = ("mp3", "wav", "ogg", "aac", "m4a")


@dataclass(frozen=True)
class CatalogTrack:
    id: str
    title: str
    mood: str
    tempo: str
    energy_level: str
    bpm: int
    has_vocals: bool
    artist: str
    tags: tuple[str, ...]

    def as_dict(self) -> dict:
        return {**asdict(self), "tags": list(self.tags)}


# The synth's moods and tempi (models/music/synth.py; tests/api/test_music.py keeps them equal).
CATALOG = (
    CatalogTrack("synth-upbeat", "Upbeat bed", "upbeat", "fast", "high", 112, False, "ugen-engine synth",
                 ("pop", "drums", "bright")),
    CatalogTrack("synth-inspiring", "Inspiring bed", "inspiring", "medium", "medium", 96, False,
                 "ugen-engine synth", ("keys", "pad", "uplifting")),
    CatalogTrack("synth-chill", "Chill bed", "chill", "slow", "low", 84, False, "ugen-engine synth",
                 ("lofi", "pad", "calm")),
)


def catalog(*, mood: str | None = None, tempo: str | None = None) -> list[CatalogTrack]:
    return [t for t in CATALOG if mood in (None, t.mood) and tempo in (None, t.tempo)]


def _adts(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0


def _mpeg_audio(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] & 0x06) != 0


def sniff(data: bytes) -> str | None:
    """The audio container `data` starts with, or None when it is none of FORMATS."""
    if data[:3] == b"ID3" or (not _adts(data) and _mpeg_audio(data)):
        return "mp3"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if _adts(data):
        return "aac"
    if data[4:8] == b"ftyp":
        return "m4a"
    return None


def active_track(db: Session, account_id: str, music_id: str) -> MusicTrack | None:
    return db.scalar(select(MusicTrack).where(MusicTrack.id == music_id, MusicTrack.account_id == account_id,
                                              MusicTrack.is_active.is_(True)))
