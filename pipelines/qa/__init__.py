"""QA of a finished render: the delivered file and its artifacts, checked as a viewer would.

    gate.py         run_qa, the score, the qai_mode threshold, qa.json, QA_FAILED
    media.py        one decode of final.mp4: streams, boxes, sampled frames, the sound
    plan.py         the shot plan from script.json (what each shot should show, and where)
    result.py       a check's result; a figure against its limit as a score in [0, 1]
    conformance.py  the output contract (codec, size, fps, faststart, durations, loudness)
    picture.py      black, frozen and corrupt stretches beyond what the plan holds still
    persona.py      the face in talking shots, one identity, the lips on the voice
    product.py      the product matched where the plan puts it
    captions.py     contrast, the spoken word lit, the safe rows
"""

from pipelines.qa.gate import (
    DEFAULT_QAI_MODE,
    QAI_THRESHOLDS,
    QaInputs,
    QaReport,
    qa_document,
    qa_failed,
    qa_summary,
    run_qa,
    threshold_for,
)

__all__ = ["DEFAULT_QAI_MODE", "QAI_THRESHOLDS", "QaInputs", "QaReport", "qa_document",
           "qa_failed", "qa_summary", "run_qa", "threshold_for"]
