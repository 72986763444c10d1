"""The engine: the leaves every layer uses, and above them the worker runtime and the benchmark.

Leaves (this folder's modules; they import the standard library, pydantic, yaml and each other only):
    spec.py          JobSpec, the U-Gen job and its validation; STAGES
    errors.py        the error tree: permanent and transient failures with stable codes
    settings.py      Settings from the environment; numeric readers
    catalog.py       personas, voices, templates, music from configs/
    spec_file.py     a job spec read from a JSON file
    fetch.py         safe fetching of untrusted URLs (public addresses only, caps, deadlines)
    image_decode.py  product images decoded under pixel caps
    progress.py      StageTracker: stage wall times, percent that never decreases
    measure.py       the only reader of /proc memory, CPU time and torch's GPU peaks
    gpu_memory.py    a torch out-of-memory error mapped to OUT_OF_MEMORY
    reporting.py     progress events: shape and signature
    terminal.py      the local render's progress lines and timing table

Above the leaves:
    worker/          the Dramatiq runtime: actor, runner, leases, outbox, storage, middleware/
    bench/           the stage benchmark and every reference render (encode floor, MoviePy), GPU checks

Rules that keep it tidy (tests/test_layers.py checks the first):
- Imports run one way: scripts/ and api/ -> engine.worker, engine.bench -> pipelines -> models
  and the engine leaves. A leaf imports no pipelines, models, worker or bench module.
- Three modules that share a prefix become a folder; no module is named utils, helpers, misc,
  setup or glue.
- A module's tests live at the mirrored path under tests/ (tests/engine/test_spec.py).
"""
