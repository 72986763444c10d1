import pytest

from engine.catalog import Catalog
from engine.errors import MusicNotFound, PersonaNotFound, TemplateNotFound, VoiceNotFound
from engine.settings import REPO_ROOT

CATALOG = Catalog(REPO_ROOT / "configs")


def test_bundled_personas_voices_and_templates_are_listed_with_existing_files():
    assert {p.id for p in CATALOG.personas()} == {"grace", "eileen"}
    assert all(p.image_path.is_file() for p in CATALOG.personas())
    assert CATALOG.voice("joe").model_path.is_file()
    assert {v.id for v in CATALOG.voices()} == {"ava", "joe", "ruth"}


def test_each_persona_speaks_with_a_voice_derived_for_her():
    for persona_id, voice_id in (("eileen", "ava"), ("grace", "ruth")):
        voice = CATALOG.voice(CATALOG.persona(persona_id).voice_id)
        assert voice.id == voice_id and voice.model_path == CATALOG.voice("joe").model_path
        assert dict(voice.transform)["method"] == "praat-change-gender"
        assert "Change gender" in voice.description
    assert CATALOG.voice("joe").transform == () and "man's voice" in CATALOG.voice("joe").description
    assert CATALOG.template("ugc-default").config["caption_style"] == "tiktok_karaoke"


def test_an_omitted_persona_is_chosen_stably_from_its_key():
    picks = {CATALOG.persona(None, key=f"{seed}:Espresso Cups").id for seed in range(20)}
    assert picks == {"grace", "eileen"}
    assert CATALOG.persona(None, key="7:Cups").id == "grace"  # sha256 of the key: the same in every process


@pytest.mark.parametrize(("lookup", "error"), [
    (lambda: CATALOG.persona("nobody"), PersonaNotFound),
    (lambda: CATALOG.voice("nobody"), VoiceNotFound),
    (lambda: CATALOG.template("nobody"), TemplateNotFound),
    (lambda: CATALOG.music_file("nobody"), MusicNotFound),
    (lambda: CATALOG.music_file("../voices/joe"), MusicNotFound),
])
def test_unknown_ids_raise_their_not_found_code(lookup, error):
    with pytest.raises(error):
        lookup()
