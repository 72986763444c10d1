"""Randomly initialised Coqui models written in the layout Coqui's own loaders read.

    write_random_vits(Path("models_data/vits-test"), size="tiny")   # config.json + model.pth
    write_random_xtts(Path("models_data/xtts"), size="full")         # XTTS-v2's files, random
    write_random_aligner(Path("models_data/mms-fa"))                  # MMS_FA's model.pt, narrow

For tests (tiny: seconds on a CPU) and for GPU timing runs (full: the released sizes; speed does
not depend on the weights' values). The audio of a random model is noise-like; its shapes,
durations and timings are what the tests check. Needs the `coqui` extra.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

VITS_SIZES = {
    # hidden, ffn, heads, text layers, flow layers, posterior layers, decoder channels
    "tiny": (32, 64, 2, 2, 1, 2, 32),
    "full": (192, 768, 2, 6, 4, 16, 512),  # the VITS defaults (LJSpeech recipe)
}
LETTERS = "abcdefghijklmnopqrstuvwxyz"
PUNCTUATION = "!'(),-.:;? "


def vits_config(size: str = "tiny"):
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.configs.vits_config import VitsConfig
    from TTS.tts.models.vits import VitsArgs

    hidden, ffn, heads, text_layers, flow_layers, post_layers, decoder = VITS_SIZES[size]
    args = VitsArgs(
        hidden_channels=hidden, hidden_channels_ffn_text_encoder=ffn,
        num_heads_text_encoder=heads, num_layers_text_encoder=text_layers,
        num_layers_flow=flow_layers, num_layers_posterior_encoder=post_layers,
        upsample_initial_channel_decoder=decoder, init_discriminator=False,
        **({} if size == "full" else {
            "resblock_type_decoder": "2", "resblock_kernel_sizes_decoder": [3],
            "resblock_dilation_sizes_decoder": [[1, 3]], "upsample_rates_decoder": [8, 8, 4],
            "upsample_kernel_sizes_decoder": [16, 16, 8]}))
    characters = CharactersConfig(
        characters_class="TTS.tts.models.vits.VitsCharacters", pad="_", eos="", bos="",
        blank=None, characters=LETTERS, punctuations=PUNCTUATION, phonemes=None)
    config = VitsConfig(model_args=args, use_phonemes=False, text_cleaner="basic_cleaners",
                        characters=characters, add_blank=True)
    config.audio.sample_rate = 22050
    return config


def write_random_vits(directory: Path, *, size: str = "tiny", seed: int = 0) -> Path:
    """config.json and model.pth (state under "model"), as Coqui's trainer saves them."""
    from TTS.tts.models.vits import Vits

    torch.manual_seed(seed)
    directory.mkdir(parents=True, exist_ok=True)
    config = vits_config(size)
    model = Vits(config)
    torch.save({"model": model.state_dict()}, directory / "model.pth")
    (directory / "config.json").write_text(json.dumps(config.to_dict(), indent=1))
    return directory


XTTS_SIZES = {
    # gpt layers, channels, heads, most audio tokens, text tokens (None: the vocab's size).
    # XTTS builds its HiFi-GAN decoder and speaker encoder at the release's size whatever the
    # config says (26M parameters), so only the GPT shrinks.
    "tiny": (1, 64, 2, 48, None),  # a random model never samples its stop token: ~2 s
    "full": (30, 1024, 16, 605, 6681),  # the XTTS-v2 release (vocab 6,681 BPE tokens)
}
# What the XTTS-v2 release's config.json sets apart from coqui-tts's XttsArgs/XttsConfig defaults.
XTTS_RELEASE_ARGS = {"gpt_num_audio_tokens": 1026, "gpt_start_audio_token": 1024,
                     "gpt_stop_audio_token": 1025, "gpt_use_perceiver_resampler": True}
XTTS_RELEASE_CONFIG = {"temperature": 0.75, "length_penalty": 1.0, "repetition_penalty": 5.0,
                       "top_k": 50, "top_p": 0.85, "gpt_cond_len": 30, "gpt_cond_chunk_len": 4,
                       "max_ref_len": 30, "sound_norm_refs": False,
                       "languages": ["en", "es", "fr", "de", "it", "pt", "pl", "tr", "ru", "nl",
                                     "cs", "ar", "zh-cn", "hu", "ko", "ja", "hi"]}


def xtts_config(vocab: Path, size: str = "tiny", languages: tuple[str, ...] = ("en",)):
    """The release's config (full) or a narrow copy of it (tiny, speaking `languages`), with
    `vocab`'s size."""
    from TTS.tts.configs.xtts_config import XttsConfig
    from TTS.tts.models.xtts import XttsArgs

    layers, channels, heads, audio_tokens, text_tokens = XTTS_SIZES[size]
    args = XttsArgs(gpt_layers=layers, gpt_n_model_channels=channels, gpt_n_heads=heads,
                    gpt_max_audio_tokens=audio_tokens, **XTTS_RELEASE_ARGS,
                    gpt_number_text_tokens=text_tokens or _vocab_size(vocab))
    if size == "tiny":
        args.decoder_input_dim = channels  # the HiFi-GAN decoder reads the GPT's latents
    config = XttsConfig(model_args=args, **XTTS_RELEASE_CONFIG)
    if size == "tiny":
        config.languages = list(languages)
    return config


def write_random_xtts(directory: Path, *, size: str = "tiny", seed: int = 0,
                      languages: tuple[str, ...] = ("en",)) -> Path:
    """config.json, model.pth and vocab.json in the XTTS-v2 release layout, random weights;
    a tiny model speaks `languages` (the full one the release's 17).

    `Xtts.load_checkpoint` reads exactly these (speakers_xtts.pth only when present; the
    release's dvae.pth and mel_stats.pth are for fine-tuning and are not loaded)."""
    from TTS.tts.models.xtts import Xtts

    torch.manual_seed(seed)
    directory.mkdir(parents=True, exist_ok=True)
    vocab = directory / "vocab.json"
    _write_character_vocab(vocab, languages)
    config = xtts_config(vocab, size, languages)
    model = Xtts(config)
    model.tokenizer = None  # the tokenizer is rebuilt from vocab.json at load time
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("tokenizer")}
    torch.save({"model": state}, directory / "model.pth")
    data = config.to_dict()
    data["model_args"]["tokenizer_file"] = ""  # the loader takes vocab.json beside the model
    (directory / "config.json").write_text(json.dumps(data, indent=1))
    return directory


def _write_character_vocab(path: Path, languages: tuple[str, ...] = ("en",)) -> None:
    """A character-level BPE vocabulary with XTTS's special tokens, one per language (the
    release has 6,681 BPE tokens; the model reads whatever size its config says)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    special = ["[STOP]", "[UNK]", "[SPACE]", "[START]", *(f"[{code}]" for code in languages)]
    tokens = special + list(LETTERS + PUNCTUATION.strip())
    vocab = {token: index for index, token in enumerate(tokens)}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens(special)
    tokenizer.save(str(path))


def _vocab_size(path: Path) -> int:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path)).get_vocab_size()


# The MMS forced aligner narrowed: the release's conv strides (20 ms frames) and 28 letters,
# 32 channels and 2 layers instead of 512/1024 and 24.
ALIGNER_TINY = {"extractor_mode": "layer_norm",
                "extractor_conv_layer_config": [(32, 10, 5)] + [(32, 3, 2)] * 4 + [(32, 2, 2)] * 2,
                "extractor_conv_bias": True, "encoder_embed_dim": 32,
                "encoder_projection_dropout": 0.0, "encoder_pos_conv_kernel": 16,
                "encoder_pos_conv_groups": 2, "encoder_num_layers": 2, "encoder_num_heads": 2,
                "encoder_attention_dropout": 0.0, "encoder_ff_interm_features": 64,
                "encoder_ff_interm_dropout": 0.0, "encoder_dropout": 0.0,
                "encoder_layer_norm_first": True, "encoder_layer_drop": 0.0, "aux_num_out": 28}


def write_random_aligner(directory: Path, *, size: str = "tiny", seed: int = 0) -> Path:
    """model.pt as the MMS_FA release stores it (its output layer with fairseq's 3 unused rows
    at 1-3), random: tiny, with the params.json that says how narrow, or full, the release's
    architecture and layout exactly (300 M parameters, for GPU timing runs)."""
    from torchaudio.models import wav2vec2_model

    from models.voice.coqui.ctc_align import PARAMS, WEIGHTS, release_params

    torch.manual_seed(seed)
    directory.mkdir(parents=True, exist_ok=True)
    params = ALIGNER_TINY if size == "tiny" else release_params()
    state = wav2vec2_model(**params).state_dict()
    for key in ("aux.weight", "aux.bias"):
        unused = torch.zeros((3, *state[key].shape[1:]))
        state[key] = torch.cat((state[key][:1], unused, state[key][1:]))
    torch.save(state, directory / WEIGHTS)
    if size == "tiny":
        (directory / PARAMS).write_text(json.dumps(ALIGNER_TINY, indent=1))
    return directory
