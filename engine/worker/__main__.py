"""python -m engine.worker: the same as ugen-worker."""

import sys

from engine.worker.app import main

sys.exit(main())
