"""Music: the built-in catalog of beds and the custom tracks an account uploads.

    catalog(mood="chill")                       # the synth's beds, as U-Gen's catalog entries
    fmt = sniff(data)                           # "mp3" | "wav" | "ogg" | "aac" | "m4a", else None
    track = active_track(db, account_id, music_id)   # what `custom_music_id` names, or None
    link = music_link(callback_url, job_secret, job_id, music_id, now_s=time.time())  # delivery.music
    link_refusal(job_secret, job_id, music_id, expires, signature, now_s=time.time())  # None: serve it

Uploads follow U-Gen's Music API: MP3, WAV, OGG, AAC or M4A, at most 20 MB. The format is read
from the file's first bytes, never trusted from its name or Content-Type. The catalog is the
procedural beds of models/music/synth.py, one per mood; a job picks one with `music_mood`.

The worker downloads a job's upload from GET /internal/music/{music_id} (api/routes/internal.py)
over a link signed with the job's callback secret (HMAC-SHA256 over job, track and expiry),
valid for LINK_TTL_S; the link sits beside the callback URL, the API address the worker uses.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict, dataclass
from urllib.parse import quote, urlencode, urljoin

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.tables import MusicTrack
from engine.reporting import sign

MAX_BYTES = 20 * 1024 * 1024
FORMATS = ("mp3", "wav", "ogg", "aac", "m4a")
CONTENT_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "aac": "audio/aac", "m4a": "audio/mp4"}
# A message re-sent by the sweeper or a retry carries a fresh link; this covers a long queue.
LINK_TTL_S = 24 * 3600


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


def link_signature(job_secret: str, job_id: str, music_id: str, expires: int) -> str:
    """The events' own HMAC-SHA256 (engine/reporting.py), over the expiry and what the link names."""
    return sign(job_secret, str(expires), f"music:{job_id}:{music_id}".encode())


def music_link(callback_url: str, job_secret: str, job_id: str, music_id: str, *, now_s: float,
               ttl_s: float = LINK_TTL_S) -> dict:
    """The delivery block's `music`: a link beside the callback URL (`.../internal/music/<id>`)."""
    expires = int(now_s + ttl_s)
    query = urlencode({"job_id": job_id, "expires": expires,
                       "signature": link_signature(job_secret, job_id, music_id, expires)})
    return {"url": urljoin(callback_url, f"../music/{quote(music_id, safe='')}?{query}"), "max_bytes": MAX_BYTES}


def link_refusal(job_secret: str, job_id: str, music_id: str, expires: str, signature: str, *,
                 now_s: float) -> str | None:
    """Why a download link is refused ("bad_signature", "link_expired"), or None when it is good."""
    if not expires.isdigit() or not hmac.compare_digest(
            link_signature(job_secret, job_id, music_id, int(expires)), signature):
        return "bad_signature"
    return "link_expired" if int(expires) < now_s else None
