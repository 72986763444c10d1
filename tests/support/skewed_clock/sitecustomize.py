"""A wall clock that reads UGEN_TEST_CLOCK_OFFSET_S seconds off, for a test's worker process.

    env = {**env, "PYTHONPATH": f"{SKEWED_CLOCK_DIR}:{env['PYTHONPATH']}", "UGEN_TEST_CLOCK_OFFSET_S": "-400"}

Python imports `sitecustomize` at start-up from its path, so every Python process started with
this folder first on PYTHONPATH (Dramatiq's worker processes too) reads `time.time()` and
`time.time_ns()` shifted by the offset, as on a host whose NTP is broken. Monotonic clocks are
left alone, as NTP leaves them alone.
"""

import os
import time

_offset_s = float(os.environ.get("UGEN_TEST_CLOCK_OFFSET_S") or 0)
if _offset_s:
    _true_time, _true_time_ns = time.time, time.time_ns
    time.time = lambda: _true_time() + _offset_s
    time.time_ns = lambda: _true_time_ns() + int(_offset_s * 1e9)
