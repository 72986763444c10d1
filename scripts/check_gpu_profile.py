#!/usr/bin/env python3
"""Render a draft on the GPU profile and report stage times (body: engine/bench/gpu_smoke.py).

    python scripts/check_gpu_profile.py                      # real-size random weights, CUDA
    python scripts/check_gpu_profile.py --tiny --device cpu --segments 2 --duration 3
                                                             # tiny weights: the CPU smoke run
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.bench.gpu_smoke import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
