"""Karaoke captions: words paged, placed in the safe zone, rasterised once, and the WebVTT sidecar.

    track.py   CaptionTrack (the caption layer of a scene), caption_track, write_vtt
    style.py   CaptionStyle: size, colours, position per frame shape
    fallback.py  the font chain (caption font, then Noto), grapheme clusters, a font per cluster
    font.py    font_path, word shaping across the chain (raqm), metrics, missing characters
    breaks.py  words written without spaces (CJK) cut where lines may break
    pages.py   words into pages and lines, each page placed
    raster.py  each word drawn once, pages composed from the word sprites
"""

from pipelines.captions.font import font_path
from pipelines.captions.style import CaptionStyle, caption_style_for
from pipelines.captions.track import CaptionTrack, caption_track, write_vtt

__all__ = ["CaptionStyle", "CaptionTrack", "caption_style_for", "caption_track", "font_path",
           "write_vtt"]
