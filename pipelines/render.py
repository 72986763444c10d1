"""The orchestrator: one U-Gen job in, a finished ad and its artifacts out.

    pipeline = RenderPipeline(registry=registry, catalog=catalog, settings=settings)
    result = pipeline.run(spec, out_dir=Path("out/demo"), allow_local_files=True,
                          on_progress=lambda stage, percent: print(stage, percent))

What each of U-Gen's stage keys covers here:

    prepare     resolve persona and voice, fetch the product image, cut it out;    product.png
                download the job's uploaded music track, when the API sent a link
    agents      write the script, sized to segment_count x segment_duration        script.json
    init        speak it (word timings), prepare the persona, lay out the scene,
                rasterise captions and the end card; the music bed and the mix
                start in the background                                             voice.wav
    generation  animate, compose and encode every frame (one continuous stream)     video.mp4
    concat      join the video stream with the mixed audio, moov first              final.mp4
    audio       check the final mix: -14 LUFS integrated, true peak <= -1 dBTP
    captions    write the WebVTT sidecar                                            captions.vtt
    complete    QA of the delivered file (pipelines/qa/: conformance, picture,
                persona, product, captions), then thumbnail, storyboard (failing
                shots marked), report                                              qa.json
                                                                                    report.json

QA (docs/qa.md) runs inside `complete`, on final.mp4 and script.json as they will be
delivered; report.json times it as the sub-stage stages.complete.qa_wall_s. Under the job's
`qai_mode` threshold the render runs again with a new seed, up to `max_retries_video` times
(from agents on: prepare's voice, cut-out and music are kept; `on_notice` hears why, and the
percent holds, never going back), then the job fails with QA_FAILED. `qai_enabled: false`
still measures and reports the score, and never fails.

With the generative tier (a profile naming `keyframe` and `motion`, e.g. gpu-generative.yaml)
two stages cover more, as U-Gen's do (pipelines/generative/):

    init        ... and, instead of laying out the portrait: the anchor keyframe (persona
                portrait + product cut-out + the job's scene) and one keyframe per talking
                shot that references it
    generation  per shot: motion from its keyframe (image-to-video), resampled to 30 fps,
                lip-synced on talking shots; then compose (captions, end card) and encode

`stop_at_stage` stops after the named stage and publishes what exists by then. The work dir
is always removed. Layering: this package uses engine's leaf modules (errors, spec, settings,
catalog, fetch, progress); engine's runtime (worker, storage, reporting) calls this package.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.catalog import Catalog, PersonaEntry, VoiceEntry
from engine.errors import LanguageUnsupported, MusicNotFound, PersonaInvalid, RenderFailed
from engine.measure import own_peak_mb
from engine.music_fetch import fetch_music
from engine.progress import ProgressCallback, StageTracker
from engine.settings import Settings
from engine.spec import JobSpec
from models.base import Cutout, Script, VoiceBackend
from models.registry import Registry
from pipelines import artifacts
from pipelines.audio.mix import check_music_file, mix_track
from pipelines.captions.track import write_vtt
from pipelines.compose.compositor import Scene
from pipelines.contract import (
    CONTRACT_FILES,
    FPS,
    LOUDNESS_TARGET_LUFS,
    LOUDNESS_TOLERANCE_LU,
    TRUE_PEAK_CEILING_DB,
)
from pipelines.encode.codecs import codec_for_profile
from pipelines.encode.encoder import VideoCodec, mux
from pipelines.encode.ffmpeg import measure_loudness, write_wav
from pipelines.generate import generate_video
from pipelines.generative import GenerativeBackends, GenerativeRecord, build_generative_scene
from pipelines.compose.product_use import product_rgba
from pipelines.product import load_product
from pipelines.qa import QaInputs, QaReport, qa_document, qa_failed, qa_summary, run_qa
from pipelines.scene import build_scene_for_job
from pipelines.script import write_script
from pipelines.voice import VoiceTrack, speak


@dataclass(frozen=True)
class RenderResult:
    job_id: str
    artifacts: dict[str, Path]
    stopped_at: str | None  # the stage a stop_at_stage ended on; None when complete
    report: dict[str, Any]


@dataclass
class _Job:
    """The state of one render, filled in stage by stage."""

    spec: JobSpec
    work: Path
    persona: PersonaEntry | None = None
    voice: VoiceBackend | None = None
    voice_entry: VoiceEntry | None = None
    cutout: Cutout | None = None
    script: Script | None = None
    track: VoiceTrack | None = None
    scene: Scene | None = None
    patches: Any = None
    captions: Any = None
    boxes: dict[str, list[int]] = field(default_factory=dict)
    audio: Future | None = None
    music: Path | None = None  # the job's custom track, downloaded into the work dir
    stills: dict[float, np.ndarray] = field(default_factory=dict)
    encoder_peak_rss_mb: float | None = None
    loudness: tuple[float, float] | None = None
    generative: GenerativeRecord | None = None
    files: dict[str, Path] = field(default_factory=dict)
    shots: list[dict[str, Any]] = field(default_factory=list)  # the edit, as script.json has it
    qa: QaReport | None = None
    qa_document: dict[str, Any] | None = None


class RenderPipeline:
    def __init__(self, *, registry: Registry, catalog: Catalog, settings: Settings,
                 codec: VideoCodec | None = None) -> None:
        self.registry, self.catalog, self.settings = registry, catalog, settings
        # The profile's encoder (NVENC is probed here, once per process); UGEN_ENCODER overrides.
        self.codec = codec or codec_for_profile(registry.profile.get("encoder", "libx264"))
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ugen-audio")

    def run(self, spec: JobSpec, *, out_dir: Path, allow_local_files: bool = False,
            on_progress: ProgressCallback | None = None,
            on_notice: Callable[[str], None] | None = None) -> RenderResult:
        """`on_notice(message)` hears what the percent cannot say: a QA retry and its reason."""
        persona, voice_entry = self.check(spec)
        tracker = StageTracker(on_progress)
        started = time.perf_counter()
        tries: list[QaReport] = []
        work = Path(tempfile.mkdtemp(prefix="ugen-job-", dir=self.settings.work_root))
        prepared: _Job | None = None
        try:
            for retry in range(spec.max_retries_video + 1):
                job = _Job(retry_spec(spec, retry), work, persona=persona, voice_entry=voice_entry)
                if prepared is not None:  # a retry keeps the voice, the cut-out and the music
                    job.voice, job.cutout, job.music = prepared.voice, prepared.cutout, prepared.music
                    job.files["product.png"] = prepared.files["product.png"]
                try:
                    stopped_at = self._stages(job, tracker, allow_local_files,
                                              first="prepare" if prepared is None else "agents")
                    prepared = job
                    if stopped_at is None and not self._gate(job, tries, retry):
                        if on_notice is not None:  # render again with the next seed
                            on_notice(retry_notice(job.qa, retry + 1, spec.max_retries_video))
                        continue
                    return self._finish(job, tracker, out_dir, stopped_at,
                                        time.perf_counter() - started)
                finally:
                    if job.audio is not None and not job.audio.cancel():
                        job.audio.exception()  # wait for a running mix: it writes into the work dir
        finally:
            shutil.rmtree(work, ignore_errors=True)
        raise AssertionError("unreachable: the last try returns or raises")

    def _stages(self, job: _Job, tracker: StageTracker, allow_local_files: bool, *,
                first: str = "prepare") -> str | None:
        """Run the stages in order from `first`; the stage a stop_at_stage ended on, or None."""
        steps = self._steps(allow_local_files)
        start = [stage for stage, _ in steps].index(first)
        for stage, step in steps[start:]:
            with tracker.stage(stage) as report:
                step(job, report)
            if job.spec.stop_at_stage == stage and stage != "complete":
                return stage
        return None

    def _gate(self, job: _Job, tries: list[QaReport], retry: int) -> bool:
        """True: deliver this try. False: render again. Raises QA_FAILED with no retry left."""
        spec = job.spec
        tries.append(job.qa)
        if spec.qai_enabled and not job.qa.passed and retry < spec.max_retries_video:
            return False
        job.qa_document = qa_document(tries, enabled=spec.qai_enabled,
                                      max_retries=spec.max_retries_video)
        job.files["qa.json"] = job.work / "qa.json"
        artifacts.write_json(job.files["qa.json"], job.qa_document)
        if spec.qai_enabled and not job.qa.passed:
            raise qa_failed(job.qa, retries_used=retry)
        return True

    def check(self, spec: JobSpec) -> tuple[PersonaEntry, VoiceEntry]:
        """Catalog references resolve before any work starts (raise their *_NOT_FOUND), and the
        voice speaks the job's language (else LANGUAGE_UNSUPPORTED, listing what it speaks);
        returns the job's persona and voice: the job's voice_id, else the persona's own voice."""
        persona = self.catalog.persona(spec.persona_id, key=f"{spec.seed}:{spec.product_name}")
        voice = self.catalog.voice(spec.voice_settings.voice_id or persona.voice_id)
        spoken = self.registry.spoken_languages(voice.language)
        if spec.voice_settings.primary_language not in spoken:
            raise LanguageUnsupported(
                f"voice {voice.id!r} cannot speak {spec.voice_settings.language!r} with this "
                f"profile; it speaks: {', '.join(spoken)}",
                details={"language": spec.voice_settings.language, "voice_id": voice.id,
                         "supported": list(spoken)})
        if spec.music_enabled and spec.custom_music_id and not (spec.delivery and spec.delivery.music):
            self.catalog.music_file(spec.custom_music_id)
        return persona, voice

    def _steps(self, allow_local_files: bool) -> list[tuple[str, Callable[[_Job, Callable], None]]]:
        return [
            ("prepare", lambda job, report: self._prepare(job, allow_local_files)),
            ("agents", self._write_script),
            ("init", self._init),
            ("generation", self._generate),
            ("concat", self._concat),
            ("audio", self._check_audio),
            ("captions", self._write_captions),
            ("complete", self._complete),
        ]

    # 1. prepare
    def _prepare(self, job: _Job, allow_local_files: bool) -> None:
        spec = job.spec
        entry = job.voice_entry
        job.voice = self.registry.voice(entry.model_path, voice_id=entry.id, transform=entry.transform,
                                        language=spec.voice_settings.language)
        job.cutout = load_product(spec.product_image_url, limits=self.settings.fetch,
                                  allow_local_files=allow_local_files, cutout=self.registry.cutout())
        job.files["product.png"] = artifacts.save_rgba(job.cutout.rgba, job.work / "product.png")
        job.music = self._fetch_music(spec, job.work)

    def _fetch_music(self, spec: JobSpec, work: Path) -> Path | None:
        """The uploaded track the delivery links to, checked to decode; None when the job names
        no link, or names a track installed beside the catalog (configs/music), which wins."""
        link = spec.delivery.music if spec.delivery else None
        if link is None or not spec.music_enabled or not spec.custom_music_id:
            return None
        try:
            self.catalog.music_file(spec.custom_music_id)
            return None
        except MusicNotFound:
            pass
        path = fetch_music(link, callback_url=spec.delivery.callback_url, dest=work / "music",
                           timeout_s=self.settings.fetch.music_timeout_s)
        check_music_file(path)
        return path

    # 2. agents
    def _write_script(self, job: _Job, report: Callable) -> None:
        job.script = write_script(job.spec, writer=self.registry.script_writer())
        job.files["script.json"] = job.work / "script.json"
        artifacts.write_json(job.files["script.json"], artifacts.script_document(job.script, None))

    # 3. init
    def _init(self, job: _Job, report: Callable) -> None:
        spec = job.spec
        job.track = speak(job.script, job.voice, speed=spec.voice_settings.speed,
                          segment_duration_s=spec.segment_duration, fps=FPS)
        report(0.5)
        artifacts.write_json(job.files["script.json"], artifacts.script_document(job.script, job.track))
        job.files["voice.wav"] = job.work / "voice.wav"
        write_wav(job.files["voice.wav"], job.track.speech.samples,
                  sample_rate=job.track.speech.sample_rate)
        job.audio = self._background.submit(mix_track, job.spec, job.track, self.catalog,
                                            self.registry, job.work, music_path=job.music)
        try:
            built = self._build_scene(job, report)
        except ValueError as exc:
            raise PersonaInvalid(f"persona {job.persona.id!r} cannot be animated: {exc}",
                                 details={"persona_id": job.persona.id}) from None
        job.scene, job.patches, job.captions, job.boxes = (built.edit or built.scene, built.patches,
                                                           built.captions, built.boxes)
        job.shots = ([shot.as_dict() for shot in built.edit.shots] if built.edit else
                     job.generative.shots if job.generative else [])
        artifacts.write_json(job.files["script.json"],
                             artifacts.script_document(job.script, job.track, shots=job.shots))

    def _build_scene(self, job: _Job, report: Callable) -> Any:
        spec = job.spec
        if not self.registry.generative:
            return build_scene_for_job(spec, job.track, job.cutout, persona=job.persona,
                                       animator=self.registry.animator(), configs=self.catalog.root,
                                       script=job.script)
        backends = GenerativeBackends(self.registry.keyframes(), self.registry.motion(),
                                      self.registry.animator())
        template = self.catalog.template(spec.template_id) if spec.template_id else None
        built, job.generative = build_generative_scene(
            spec, job.track, job.cutout, persona=job.persona, script=job.script,
            backends=backends, configs=self.catalog.root, template=template,
            on_fraction=lambda f: report(0.5 + 0.5 * f))
        return built

    # 4. generation
    def _generate(self, job: _Job, report: Callable) -> None:
        width, height = job.spec.frame_size
        job.files["video.mp4"] = job.work / "video.mp4"
        burst = self.registry.animator().burst_frames
        video = generate_video(
            job.scene, job.patches, out_path=job.files["video.mp4"], width=width, height=height,
            fps=FPS, frame_count=job.track.frame_count, on_fraction=report,
            # A batched animator (lip-sync) hands over whole batches: the queue holds one, and
            # the next batch is computed while this one is composed and encoded.
            codec=self.codec.with_burst(burst), lookahead_frames=burst if burst > 1 else 0,
            still_times_s=artifacts.still_times(job.track, job.shots),
            timeout_s=self.settings.ffmpeg_timeout_s)
        job.stills, job.encoder_peak_rss_mb = video.stills, video.encoder_peak_rss_mb

    # 5. concat
    def _concat(self, job: _Job, report: Callable) -> None:
        job.files["audio.m4a"] = job.audio.result()
        job.files["final.mp4"] = job.work / "final.mp4"
        mux(job.files["video.mp4"], job.files["audio.m4a"], job.files["final.mp4"],
            timeout_s=self.settings.ffmpeg_timeout_s)

    # 6. audio
    def _check_audio(self, job: _Job, report: Callable) -> None:
        integrated, peak = measure_loudness(job.files["final.mp4"])
        job.loudness = (integrated, peak)
        if abs(integrated - LOUDNESS_TARGET_LUFS) > LOUDNESS_TOLERANCE_LU or peak > TRUE_PEAK_CEILING_DB:
            raise RenderFailed(f"final mix measured {integrated:.1f} LUFS / {peak:.1f} dBTP, "
                               f"outside -14 +-1 LUFS and -1 dBTP",
                               details={"integrated_lufs": integrated, "true_peak_db": peak})

    # 7. captions
    def _write_captions(self, job: _Job, report: Callable) -> None:
        job.files["captions.vtt"] = job.work / "captions.vtt"
        # captions_enabled: false switches captions off for the job, sidecar included: the file
        # stays (every render publishes the same set) but holds no cues.
        write_vtt(job.captions.pages if job.spec.captions_enabled else [], job.files["captions.vtt"])

    # 8. complete
    def _complete(self, job: _Job, report: Callable) -> None:
        spec = job.spec
        job.qa = run_qa(QaInputs(
            video=job.files["final.mp4"], script=job.files["script.json"],
            cutout_rgba=product_rgba(job.cutout), spec=spec, configs=self.catalog.root,
            captions=job.captions if spec.captions_enabled else None, loudness=job.loudness))
        report(0.8)
        failing = {i for c in job.qa.checks if c.score < job.qa.threshold for i in c.failing_shots}
        job.files.update(artifacts.write_pictures(job.stills, job.script, job.track, job.work,
                                                    configs=self.catalog.root, shots=job.shots,
                                                    failing_shots=failing))

    def _finish(self, job: _Job, tracker: StageTracker, out_dir: Path, stopped_at: str | None,
                wall_s: float) -> RenderResult:
        report = build_report(job, tracker, wall_s, stopped_at, self.registry.profile)
        if job.qa_document is not None:
            report["qa"] = qa_summary(job.qa_document)
            report["stages"]["complete"]["qa_wall_s"] = round(job.qa.wall_s, 3)
        job.files["report.json"] = job.work / "report.json"
        artifacts.write_json(job.files["report.json"], report)
        keep = job.files if stopped_at else {k: v for k, v in job.files.items() if k in CONTRACT_FILES}
        return RenderResult(job.spec.job_id, artifacts.publish(keep, out_dir), stopped_at, report)


def retry_notice(qa: QaReport, retry: int, max_retries: int) -> str:
    """What a QA retry's progress event says."""
    return (f"QA scored {qa.score:.2f}, under the {qa.mode} threshold {qa.threshold:.2f} "
            f"({', '.join(qa.failing_checks())}); rendering again with seed {qa.seed + 1} "
            f"(retry {retry} of {max_retries})")


def retry_spec(spec: JobSpec, retry: int) -> JobSpec:
    """The job for try `retry` (0 is the first): a new seed for each retry."""
    return spec if retry == 0 else spec.model_copy(update={"seed": spec.seed + retry})


def build_report(job: _Job, tracker: StageTracker, wall_s: float, stopped_at: str | None,
                 profile: dict[str, str]) -> dict[str, Any]:
    own = own_peak_mb()
    duration = job.track.duration_s if job.track else None
    stages = {name: {"wall_s": round(t.wall_s, 3), "cpu_s": round(t.cpu_s, 3),
                     "peak_rss_mb": round(t.peak_rss_mb, 1)} for name, t in tracker.timings.items()}
    gen = tracker.timings.get("generation")
    return {
        "job_id": job.spec.job_id, "stopped_at": stopped_at, "profile": profile,
        "persona_id": job.persona.id if job.persona else None,
        "voice_id": job.voice_entry.id if job.voice_entry else None,
        "script_writer": job.script.writer if job.script else None,
        "cutout_method": job.cutout.method if job.cutout else None,
        "width": job.spec.frame_size[0], "height": job.spec.frame_size[1], "fps": FPS,
        "frames": job.track.frame_count if job.track else None,
        "video_duration_s": duration, "stages": stages, "total_wall_s": round(wall_s, 3),
        "realtime_factor": round(wall_s / duration, 3) if duration else None,
        "generation_fps": round(job.track.frame_count / gen.wall_s, 1) if gen and job.track else None,
        "peak_rss_mb": round(own, 1),
        "encoder_peak_rss_mb": round(job.encoder_peak_rss_mb, 1) if job.encoder_peak_rss_mb else None,
        "frame_boxes": job.boxes,
        "loudness": {"integrated_lufs": job.loudness[0], "true_peak_db": job.loudness[1]}
        if job.loudness else None,
        # the generative tier's keyframes, clips and lip-sync (None on the other profiles)
        "generative": job.generative.summary() if job.generative else None,
    }
