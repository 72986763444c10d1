"""JSON log lines: one object a line, the job's fields on every line, text stays the default."""

from __future__ import annotations

import io
import json
import logging

import pytest

from engine.log_format import JsonFormatter, log_format_from_env, use_json_logs


def _logger(stream: io.StringIO, fields=None) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    use_json_logs([handler], **({"fields": fields} if fields else {}))
    logger = logging.getLogger(f"test.json.{id(stream)}")
    logger.handlers, logger.propagate, logger.level = [handler], False, logging.INFO
    return logger


def test_text_is_the_default_and_json_is_chosen_by_ugen_log_format():
    assert log_format_from_env({}) == "text"
    assert log_format_from_env({"UGEN_LOG_FORMAT": "JSON"}) == "json"
    with pytest.raises(ValueError, match="UGEN_LOG_FORMAT"):
        log_format_from_env({"UGEN_LOG_FORMAT": "xml"})


def test_each_record_is_one_json_line_with_the_jobs_fields():
    stream = io.StringIO()
    log = _logger(stream, fields=lambda: {"job_id": "j-7", "attempt": 2, "stage": "generation"})
    log.info("encoded %d frames\nof %s", 90, "video")
    log.warning("outside", extra={"job_id": "j-8", "stage": None})
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "encoded 90 frames\nof video" and first["level"] == "INFO"
    assert (first["job_id"], first["attempt"], first["stage"]) == ("j-7", 2, "generation")
    assert (second["job_id"], second["attempt"], second["stage"]) == ("j-8", 2, None)
    assert first["time"].endswith("Z") and first["logger"] == log.name


def test_lines_outside_a_job_have_null_job_fields_and_a_traceback_stays_on_its_line():
    stream = io.StringIO()
    log = _logger(stream)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert (line["job_id"], line["attempt"], line["stage"]) == (None, None, None)
    assert "RuntimeError: boom" in line["exc"]


def test_values_json_cannot_hold_are_written_as_their_repr():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.job_id = object()
    assert json.loads(JsonFormatter().format(record))["job_id"].startswith("<object")
