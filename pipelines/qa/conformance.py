"""The output contract (ARCHITECTURE.md, "Output video") measured on the delivered file.

    result = check_conformance(media, width=1080, height=1920, loudness=(-14.1, -2.7))

Codec, profile, pixel format, BT.709 tags, 30 fps, exact size, AAC-LC 48 kHz and faststart are
yes/no; the audio/video duration gap (limit one frame) and the loudness (-14 +-1 LUFS, true peak
at most -1 dBTP) are graded. `loudness` is ebur128's (integrated LUFS, true peak dBTP).
"""

from __future__ import annotations

from pipelines.contract import AUDIO_RATE, FPS, LOUDNESS_TARGET_LUFS, LOUDNESS_TOLERANCE_LU, \
    TRUE_PEAK_CEILING_DB
from pipelines.qa.media import Media
from pipelines.qa.result import CheckResult, graded, yes_no

BT709, LIMITED_RANGE = 1, 1  # FFmpeg's AVCOL_SPC_BT709 / AVCOL_PRI / AVCOL_TRC, AVCOL_RANGE_MPEG


def check_conformance(media: Media, *, width: int, height: int,
                      loudness: tuple[float, float]) -> CheckResult:
    v, a = media.video, media.audio or {}
    boxes = media.top_level_boxes
    faststart = "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat")
    gap = abs((v.get("duration_s") or 0.0) - (a.get("duration_s") or 0.0))
    integrated, peak = loudness
    criteria = {
        "codec": yes_no((v["codec"], v["profile"], v["pix_fmt"]) == ("h264", "High", "yuv420p")),
        "colour": yes_no((v["colorspace"], v["color_primaries"], v["color_trc"],
                          v["color_range"]) == (BT709, BT709, BT709, LIMITED_RANGE)),
        "fps": yes_no(v["avg_fps"] is not None and abs(v["avg_fps"] - FPS) < 0.01),
        "size": yes_no((v["width"], v["height"]) == (width, height)),
        "audio_codec": yes_no((a.get("codec"), a.get("profile"), a.get("sample_rate"))
                              == ("aac", "LC", AUDIO_RATE)),
        "faststart": yes_no(faststart),
        "duration_gap": graded(gap, limit=1 / FPS, span=1 / FPS, lower_is_better=True),
        "loudness": graded(abs(integrated - LOUDNESS_TARGET_LUFS), limit=LOUDNESS_TOLERANCE_LU,
                           span=1.0, lower_is_better=True),
        "true_peak": graded(peak, limit=TRUE_PEAK_CEILING_DB, span=1.0, lower_is_better=True),
    }
    figures = {"codec": v["codec"], "profile": v["profile"], "pix_fmt": v["pix_fmt"],
               "size": [v["width"], v["height"]], "expected_size": [width, height],
               "avg_fps": v["avg_fps"], "audio": a or None, "top_level_boxes": boxes[:6],
               "faststart": faststart, "duration_gap_s": round(gap, 4),
               "integrated_lufs": integrated, "true_peak_db": peak}
    return CheckResult.of("conformance", criteria, figures)
