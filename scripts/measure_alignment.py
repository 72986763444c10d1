#!/usr/bin/env python3
"""The CTC forced aligner's word-boundary error against Piper's exact timings (body:
engine/bench/alignment.py). Run in the Coqui environment with the real weights:

    python scripts/fetch_models.py --aligner
    .venv-coqui/bin/python scripts/measure_alignment.py --device cuda
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.bench.alignment import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
