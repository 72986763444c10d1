import pytest

from engine.errors import InvalidJobSpec
from engine.spec import parse_job

MINIMAL = {"product_name": "Glow Serum", "product_image_url": "https://example.com/a.png",
           "segment_count": 3}


def test_a_minimal_job_gets_ugen_defaults():
    spec = parse_job(MINIMAL)
    assert spec.segment_duration == 8
    assert spec.aspect_ratio == "9:16"
    assert spec.video_resolution == "standard"
    assert spec.interaction_mode == "holdable"
    assert spec.script_structure == "standard_5phase"
    assert spec.script_tone == "conversational"
    assert spec.caption_style == "tiktok_karaoke"
    assert spec.music_volume == 0.15
    assert spec.job_id  # generated when omitted


@pytest.mark.parametrize(("aspect", "resolution", "size"), [
    ("9:16", "standard", (1080, 1920)), ("16:9", "standard", (1920, 1080)),
    ("1:1", "standard", (1080, 1080)), ("9:16", "draft", (360, 640)), ("16:9", "hd", (1280, 720)),
])
def test_frame_size_follows_aspect_ratio_and_resolution(aspect, resolution, size):
    spec = parse_job({**MINIMAL, "aspect_ratio": aspect, "video_resolution": resolution})
    assert spec.frame_size == size


def test_a_missing_required_field_is_reported_in_the_seed_422_shape():
    with pytest.raises(InvalidJobSpec) as caught:
        parse_job({"product_name": "Glow Serum", "segment_count": 3})
    error = caught.value.to_dict()["error"]
    assert error["code"] == "INVALID_JOB_SPEC"
    assert error["details"]["detail"] == [
        {"type": "missing", "loc": ["body", "product_image_url"], "msg": "Field required",
         "input": {"product_name": "Glow Serum", "segment_count": 3}}]
    assert "product_image_url" in error["message"]


def test_a_missing_field_echoes_the_body_without_the_workers_delivery_block():
    secret = {"attempt": 1, "callback_url": "https://api.example/events", "callback_secret": "s3cr3t"}
    with pytest.raises(InvalidJobSpec) as caught:
        parse_job({"product_name": "test", "segment_count": 1, "delivery": secret})
    detail = caught.value.details["detail"]
    assert detail == [{"type": "missing", "loc": ["body", "product_image_url"],
                       "msg": "Field required", "input": {"product_name": "test", "segment_count": 1}}]
    assert "s3cr3t" not in str(caught.value.to_dict())


def test_an_invalid_delivery_block_is_reported_without_echoing_its_value():
    with pytest.raises(InvalidJobSpec) as caught:
        parse_job({**MINIMAL, "delivery": {"callback_secret": ["s3cr3t"]}})
    detail = caught.value.details["detail"]
    assert detail[0]["loc"] == ["body", "delivery", "callback_secret"] and "input" not in detail[0]
    assert "s3cr3t" not in str(caught.value.to_dict())


@pytest.mark.parametrize(("field", "value"), [
    ("segment_count", 0), ("segment_count", 11), ("segment_duration", 2), ("segment_duration", 11),
    ("aspect_ratio", "4:3"), ("music_volume", 1.5), ("interaction_mode", "juggle"),
    ("stop_at_stage", "render"), ("product_name", "   "), ("key_selling_points", [""]),
])
def test_out_of_range_values_name_the_field_and_echo_the_input(field, value):
    with pytest.raises(InvalidJobSpec) as caught:
        parse_job({**MINIMAL, field: value})
    detail = caught.value.details["detail"]
    assert detail[0]["loc"][:2] == ["body", field]
    assert "msg" in detail[0] and "type" in detail[0]


def test_unknown_fields_are_refused_so_typos_do_not_render_silently():
    with pytest.raises(InvalidJobSpec) as caught:
        parse_job({**MINIMAL, "segmnt_count": 4})
    assert caught.value.details["detail"][0]["type"] == "extra_forbidden"


def test_hosted_only_ugen_fields_are_accepted():
    spec = parse_job({**MINIMAL, "video_model": "kling3_std", "qai_mode": "strict"})
    assert spec.video_model == "kling3_std"


@pytest.mark.parametrize(("field", "value"), [
    ("max_retries_keyframe", 0), ("max_retries_keyframe", 5), ("human_review_max_rejections", 0),
    ("human_review_max_rejections", 3), ("human_review_budget", "accept_best"),
])
def test_accepted_and_ignored_ugen_fields_take_their_documented_values(field, value):
    assert getattr(parse_job({**MINIMAL, field: value}), field) == value


@pytest.mark.parametrize(("field", "value", "kind"), [
    ("max_retries_keyframe", -1, "greater_than_equal"), ("max_retries_keyframe", 6, "less_than_equal"),
    ("max_retries_keyframe", "two", "int_parsing"),
    ("human_review_max_rejections", -1, "greater_than_equal"),
    ("human_review_budget", "", "string_too_short"), ("human_review_budget", "Accept Best!", "string_pattern_mismatch"),
])
def test_accepted_and_ignored_ugen_fields_are_still_checked_against_their_ranges(field, value, kind):
    with pytest.raises(InvalidJobSpec) as caught:
        parse_job({**MINIMAL, field: value})
    detail = caught.value.details["detail"]
    assert [(d["type"], d["loc"], d["input"]) for d in detail] == [(kind, ["body", field], value)]


def test_a_template_fills_only_what_the_job_leaves_out():
    spec = parse_job({**MINIMAL, "music_mood": "chill"},
                     template={"music_mood": "upbeat", "interaction_mode": "display_static"})
    assert spec.music_mood == "chill"
    assert spec.interaction_mode == "display_static"


def test_a_non_object_body_is_invalid():
    with pytest.raises(InvalidJobSpec):
        parse_job(["not", "an", "object"])


def test_caption_colours_must_be_hex():
    with pytest.raises(InvalidJobSpec):
        parse_job({**MINIMAL, "custom_caption_options": {"highlight_colour": "yellow"}})


def test_the_spoken_language_defaults_to_english_and_takes_bcp47_tags():
    assert parse_job(MINIMAL).voice_settings.language == "en"
    spec = parse_job({**MINIMAL, "voice_settings": {"language": "fr-CA"}})
    assert spec.voice_settings.language == "fr-CA" and spec.voice_settings.primary_language == "fr"


@pytest.mark.parametrize("tag", ["French", "f", "fr_CA", "fr-", ""])
def test_a_language_that_is_no_bcp47_tag_is_invalid(tag):
    with pytest.raises(InvalidJobSpec) as caught:
        parse_job({**MINIMAL, "voice_settings": {"language": tag}})
    assert caught.value.details["detail"][0]["loc"] == ["body", "voice_settings", "language"]
