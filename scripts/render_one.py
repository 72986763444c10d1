#!/usr/bin/env python3
"""Render one job locally: `ugen-render` (pipelines/render_cli.py) from a checkout.

    python scripts/render_one.py configs/jobs/demo.json --out out/demo [--profile cpu]
                                 [--stop-at STAGE] [--resolution draft]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.render_cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
