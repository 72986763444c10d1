#!/usr/bin/env python3
"""Lip-sync throughput of the MuseTalk backend (body: engine/bench/lipsync.py).

    python scripts/bench_lipsync.py --device cuda --fp16 --compile --batch-sizes 8,16,32,64
    python scripts/bench_lipsync.py --tiny --device cpu --batch-sizes 2,4    # CPU smoke run
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.bench.lipsync import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
