"""What a person at a terminal sees of a render's progress."""

from __future__ import annotations

import io

from engine.terminal import ProgressPrinter


def test_plain_lines_come_once_per_stage_and_decile_and_a_notice_gets_its_own_line():
    out = io.StringIO()
    printer = ProgressPrinter(out)
    for stage, percent in (("prepare", 0.0), ("prepare", 2.0), ("generation", 15.0),
                           ("generation", 16.0), ("generation", 21.0)):
        printer.update(stage, percent)
    printer.notice("QA scored 0.41, under the standard threshold 0.70 (persona); rendering again")
    printer.update("agents", 21.0)
    printer.close()
    assert out.getvalue().splitlines() == [
        "prepare       0.0%", "generation   15.0%", "generation   21.0%",
        "QA scored 0.41, under the standard threshold 0.70 (persona); rendering again",
        "agents       21.0%"]
