#!/usr/bin/env python3
"""Send one job to the render queue: `ugen-enqueue` (engine/worker/enqueue.py) from a checkout.

    python scripts/enqueue_job.py configs/jobs/demo.json [--broker redis://127.0.0.1:6379/0] ...
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.worker.enqueue import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
