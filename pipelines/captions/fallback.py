"""The caption font chain: which font draws each character cluster of a word.

    chain = font_chain(Path("configs/fonts/Montserrat-ExtraBold.ttf"))
    font_runs("Ça marche😍", chain)   # (Run("Ça marche", Montserrat), Run("😍", Noto Color Emoji))
    missing_clusters("a\U000F0000", chain)   # ("\U000F0000",): no font in the chain draws it

The caption font comes first; the Noto fonts (SIL Open Font License 1.1, installed by
`make sysdeps` from Debian's fonts-noto-core, fonts-noto-cjk and fonts-noto-color-emoji)
follow, so Greek, Cyrillic, Arabic, Hebrew, Indic scripts, Thai, CJK, symbols and colour emoji
are drawn. Each grapheme cluster (a base character with its combining marks, an emoji with its
modifiers and joiners, a flag) goes to the first font whose character map holds every
character of it; emoji clusters try the colour emoji font first. Punctuation, digits and
spaces stay in the font of the run before them when it has them, so a run is shaped whole.
"""

from __future__ import annotations

import functools
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont

# Debian's Noto packages install here; UGEN_FONT_DIRS (os.pathsep-separated) is searched first.
SYSTEM_FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))
FALLBACK_FONTS = (
    "NotoSans-Bold.ttf",  # Latin, Greek, Cyrillic
    "NotoSansArabic-Bold.ttf", "NotoSansHebrew-Bold.ttf", "NotoSansDevanagari-Bold.ttf",
    "NotoSansBengali-Bold.ttf", "NotoSansTamil-Bold.ttf", "NotoSansThai-Bold.ttf",
    "NotoSansArmenian-Bold.ttf", "NotoSansGeorgian-Bold.ttf", "NotoSansEthiopic-Bold.ttf",
    "NotoSansCJK-Bold.ttc",  # Han, kana and Hangul; face 0 has the Japanese glyph forms
    "NotoSansSymbols-Bold.ttf", "NotoSansSymbols2-Regular.ttf", "NotoSansMath-Regular.ttf",
    "NotoColorEmoji.ttf",
)
EMOJI_FONT = "NotoColorEmoji.ttf"
# Characters that join or select inside a cluster; a font need not map them itself.
_SELECTORS = {0x200C, 0x200D, 0xFE0E, 0xFE0F, 0x20E3}
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_TAGS = range(0xE0020, 0xE0080)
_REGIONAL = range(0x1F1E6, 0x1F200)
# Blocks whose characters are drawn as emoji by default (pictographs, transport, symbols).
_EMOJI_BLOCKS = (range(0x1F000, 0x1FB00), range(0x2600, 0x27C0), range(0x2B00, 0x2C00),
                 range(0x2300, 0x2400))
_RTL_CLASSES = ("R", "AL")
_STRONG_CLASSES = ("L", "R", "AL")


@dataclass(frozen=True)
class Face:
    """One font file of the chain (face `index` of a collection)."""

    path: Path
    index: int = 0

    @property
    def is_colour(self) -> bool:
        return self.path.name == EMOJI_FONT


@dataclass(frozen=True)
class Run:
    """Consecutive clusters drawn with one face, in logical (reading) order."""

    text: str
    face: Face

    @property
    def rtl(self) -> bool:
        return any(unicodedata.bidirectional(c) in _RTL_CLASSES for c in self.text)


def font_dirs() -> tuple[Path, ...]:
    extra = [Path(p) for p in os.environ.get("UGEN_FONT_DIRS", "").split(os.pathsep) if p]
    return (*extra, *SYSTEM_FONT_DIRS)


@functools.lru_cache(maxsize=8)
def font_chain(primary: Path, dirs: tuple[Path, ...] | None = None) -> tuple[Face, ...]:
    """The caption font, then every fallback font found in `dirs` (default: font_dirs())."""
    faces = [Face(Path(primary))]
    for name in FALLBACK_FONTS:
        found = next((d / name for d in (dirs or font_dirs()) if (d / name).is_file()), None)
        if found is not None:
            faces.append(Face(found))
    return tuple(faces)


@functools.lru_cache(maxsize=32)
def coverage(face: Face) -> frozenset[int]:
    """Code points the face maps to a glyph of its own."""
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    return frozenset(font.getBestCmap())


def clusters(text: str) -> list[str]:
    """`text` (NFC) cut into grapheme clusters, close to UAX #29's extended clusters:
    combining marks, joiners, variation selectors, skin tones and tags stay with their base;
    regional indicators pair into flags."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        code = ord(char)
        joins = out and (code in _SELECTORS or code in _SKIN_TONES or code in _TAGS
                         or unicodedata.category(char) in ("Mn", "Mc", "Me")
                         or ord(out[-1][-1]) == 0x200D
                         or (code in _REGIONAL and _lone_regional(out[-1])))
        if joins:
            out[-1] += char
        else:
            out.append(char)
    return out


def _lone_regional(cluster: str) -> bool:
    return len(cluster) == 1 and ord(cluster) in _REGIONAL


def is_emoji(cluster: str) -> bool:
    codes = [ord(c) for c in cluster]
    if 0xFE0E in codes:
        return False  # text presentation asked for
    return (0xFE0F in codes or 0x20E3 in codes or 0x200D in codes
            or any(c in block for c in codes for block in _EMOJI_BLOCKS))


def is_invisible(cluster: str) -> bool:
    """Format and control characters (zero-width space, bidi marks): nothing to draw."""
    return all(unicodedata.category(c) in ("Cc", "Cf") for c in cluster)


def _needs(cluster: str) -> list[int]:
    return [ord(c) for c in cluster if ord(c) not in _SELECTORS and ord(c) not in _TAGS]


def face_for(cluster: str, chain: tuple[Face, ...]) -> Face | None:
    """The first face that maps every character of `cluster`; None when none does."""
    order = chain
    if is_emoji(cluster):
        order = tuple(f for f in chain if f.is_colour) + tuple(f for f in chain if not f.is_colour)
    needed = _needs(cluster)
    return next((f for f in order if all(c in coverage(f) for c in needed)), None)



def missing_clusters(text: str, chain: tuple[Face, ...]) -> tuple[str, ...]:
    """Clusters of `text` that no face in the chain can draw (whitespace and format
    characters excepted), in order of first appearance."""
    missing: list[str] = []
    for cluster in clusters(text):
        if cluster.isspace() or is_invisible(cluster) or cluster in missing:
            continue
        if face_for(cluster, chain) is None:
            missing.append(cluster)
    return tuple(missing)


def font_runs(text: str, chain: tuple[Face, ...]) -> tuple[Run, ...]:
    """`text` cut into runs of one face each, in reading order.

    Clusters of one script (digits and punctuation join the script around them) take the
    first face that draws all of them, so a Greek word is not split between a Latin font's
    few Greek letters and Noto Sans. Invisible clusters are left out, and so are undrawable
    ones: callers check `missing_clusters` first and fail the job on those.
    """
    runs: list[Run] = []
    for group in _script_groups([c for c in clusters(text) if not is_invisible(c)]):
        face = _face_for_all(group, chain)
        for cluster in group:
            drawn_by = face or face_for(cluster, chain)
            if drawn_by is None:
                continue
            if runs and runs[-1].face == drawn_by:
                runs[-1] = Run(runs[-1].text + cluster, drawn_by)
            else:
                runs.append(Run(cluster, drawn_by))
    return tuple(runs)


def _face_for_all(group: list[str], chain: tuple[Face, ...]) -> Face | None:
    order = chain
    if is_emoji(group[0]):
        order = tuple(f for f in chain if f.is_colour) + tuple(f for f in chain if not f.is_colour)
    needed = {c for cluster in group for c in _needs(cluster)}
    return next((f for f in order if needed <= coverage(f)), None)


def _script_groups(cluster_list: list[str]) -> list[list[str]]:
    groups: list[list[str]] = []
    scripts: list[str | None] = []
    for cluster in cluster_list:
        script = _script(cluster)
        if groups and (script is None or script == scripts[-1] or scripts[-1] is None):
            groups[-1].append(cluster)
            scripts[-1] = scripts[-1] or script
        else:
            groups.append([cluster])
            scripts.append(script)
    return groups


_HAN_LIKE = {"CJK", "HIRAGANA", "KATAKANA", "IDEOGRAPHIC", "HANGUL", "HALFWIDTH", "FULLWIDTH",
             "BOPOMOFO"}


def _script(cluster: str) -> str | None:
    """A script name for grouping: emoji, the Unicode name's first word for letters, CJK for
    Han, kana and Hangul, None for digits, punctuation and symbols (they take their
    neighbours' script)."""
    if is_emoji(cluster):
        return "EMOJI"
    base = cluster[0]
    if unicodedata.bidirectional(base) not in _STRONG_CLASSES:
        return None
    word = unicodedata.name(base, "UNKNOWN").split()[0]
    return "CJK" if word in _HAN_LIKE else word


def is_rtl(text: str) -> bool:
    """Whether `text` reads right to left: its first strong character is (UAX #9, P2)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in _STRONG_CLASSES:
            return kind in _RTL_CLASSES
    return False
