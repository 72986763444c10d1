"""One job's scene, handed to the benchmark's reference renders in their own processes.

    bundle = capture(pipeline, spec, work=Path("bench/work"), allow_local_files=True)
    floor = run_reference("engine.bench.encode_floor", bundle, timeout_s=900)
    # and in that process:
    job = load(bundle); built = rebuild(job)     # built.scene, built.patches, built.captions

The parent runs the stages before `generation` once more with the pipeline's own (already
loaded) backends and pickles what they made: the spec, the voice track, the product cut-out and
the mixed audio. A reference process rebuilds the scene from it with `pipelines.scene.build_scene_for_job`, so it
composes the same persona animation, product, captions and end card as the measured renders.
References run in their own processes so their memory and CPU never mix with the pipeline's.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.catalog import Catalog
from engine.errors import RenderFailed
from engine.settings import REPO_ROOT
from engine.spec import JobSpec
from models.base import Cutout, Script
from models.registry import Registry
from pipelines.audio.mix import mix_track
from pipelines.contract import FPS
from pipelines.encode.encoder import VideoCodec
from pipelines.product import load_product
from pipelines.render import RenderPipeline
from pipelines.scene import BuiltScene, build_scene_for_job
from pipelines.script import write_script
from pipelines.voice import VoiceTrack, speak


@dataclass(frozen=True)
class ReferenceJob:
    """Everything a reference render needs; pickled between our own processes only."""

    spec: JobSpec
    track: VoiceTrack
    cutout: Cutout
    persona_id: str
    audio_path: Path  # the mixed, normalised audio (WAV) the pipeline encodes and muxes
    profile: dict[str, Any]  # the registry's profile: role -> backend (and options)
    configs_dir: Path
    cache_dir: Path
    codec: VideoCodec
    work: Path  # where a reference writes its video
    fps: int = FPS
    script: Script | None = None  # with its shot plan, so the encode floor gets the edit's frames


def capture(pipeline: RenderPipeline, spec: JobSpec, *, work: Path,
            allow_local_files: bool) -> Path:
    """Run the pre-generation stages with the pipeline's backends; returns the bundle path."""
    catalog, registry = pipeline.catalog, pipeline.registry
    persona, voice_entry = pipeline.check(spec)
    voice = registry.voice(voice_entry.model_path, voice_id=voice_entry.id,
                           transform=voice_entry.transform)
    cutout = load_product(spec.product_image_url, limits=pipeline.settings.fetch,
                          allow_local_files=allow_local_files, cutout=registry.cutout())
    script = write_script(spec, writer=registry.script_writer())
    track = speak(script, voice, speed=spec.voice_settings.speed,
                  segment_duration_s=spec.segment_duration, fps=FPS)
    work.mkdir(parents=True, exist_ok=True)
    encoded = mix_track(spec, track, catalog, registry, work)
    # MoviePy gets the uncompressed mix beside the encoded one, as a MoviePy generator would
    # have it, and encodes AAC itself inside write_videofile (the pipeline does so during
    # generation, so both sides pay for one AAC encode).
    wav = encoded.with_suffix(".wav")
    audio = wav if wav.is_file() else encoded
    job = ReferenceJob(spec, track, cutout, persona.id, audio, dict(registry.profile),
                       catalog.root, registry.cache_dir, pipeline.codec, work, script=script)
    path = work / "reference_job.pkl"
    path.write_bytes(pickle.dumps(job))
    return path


def load(path: Path) -> ReferenceJob:
    job = pickle.loads(Path(path).read_bytes())  # written by capture() in the parent process
    if not isinstance(job, ReferenceJob):
        raise TypeError(f"{path} does not hold a ReferenceJob")
    return job


def rebuild(job: ReferenceJob) -> BuiltScene:
    """The job's scene, persona patches and captions, built as the `init` stage builds them."""
    registry = Registry(profile=job.profile, cache_dir=job.cache_dir)
    persona = Catalog(job.configs_dir).persona(job.persona_id)
    return build_scene_for_job(job.spec, job.track, job.cutout, persona=persona,
                               animator=registry.animator(), configs=job.configs_dir,
                               script=job.script)


def run_reference(module: str, bundle: Path, *, timeout_s: float,
                  extra_args: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run `python -m module BUNDLE OUT.json` with a deadline; returns its JSON result."""
    out = bundle.with_name(f"{module.rsplit('.', 1)[-1]}.json")
    out.unlink(missing_ok=True)
    argv = [sys.executable, "-m", module, str(bundle), str(out), *extra_args]
    try:
        done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise RenderFailed(f"reference {module} took longer than {timeout_s:.0f} s") from None
    if done.returncode != 0 or not out.is_file():
        tail = (done.stderr or "").strip().splitlines()[-5:]
        raise RenderFailed(f"reference {module} failed with code {done.returncode}",
                           details={"stderr_tail": "\n".join(tail)})
    return json.loads(out.read_text(encoding="utf-8"))


def write_result(path: Path, result: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(result, indent=2), encoding="utf-8")
