"""One error tree for everything a job can meet.

    UGenError                      code, message, details; never a traceback as the message
    ├── PermanentError             the job cannot succeed as given: fail now, no retry
    │   ├── InvalidJobSpec         INVALID_JOB_SPEC (422-style `detail` list in details)
    │   ├── PersonaNotFound        PERSONA_NOT_FOUND
    │   ├── VoiceNotFound          VOICE_NOT_FOUND
    │   ├── MusicNotFound          MUSIC_NOT_FOUND (no such track; the API answered 4xx for its link)
    │   ├── MusicUrlForbidden      MUSIC_URL_FORBIDDEN (the link is not on the API's own origin)
    │   ├── MusicTooLarge          MUSIC_TOO_LARGE (more bytes than the API's upload cap)
    │   ├── MusicInvalid           MUSIC_INVALID (not decodable audio)
    │   ├── TemplateNotFound       TEMPLATE_NOT_FOUND
    │   ├── ProductImageForbidden  PRODUCT_IMAGE_URL_FORBIDDEN (scheme, credentials, private address)
    │   ├── ProductImageUnreachable PRODUCT_IMAGE_UNREACHABLE (4xx, DNS failure, refused, redirects)
    │   ├── ProductImageInvalid    PRODUCT_IMAGE_INVALID (not an image, truncated, unsupported format)
    │   ├── ProductImageTooLarge   PRODUCT_IMAGE_TOO_LARGE (bytes or pixels over the cap)
    │   ├── ScriptTooLong          SCRIPT_TOO_LONG
    │   ├── PersonaInvalid         PERSONA_INVALID (no face found in the portrait)
    │   ├── LanguageUnsupported    LANGUAGE_UNSUPPORTED (the profile's voice cannot speak it)
    │   ├── CaptionGlyphMissing    CAPTION_GLYPH_MISSING (a character no caption font draws)
    │   ├── BackendUnavailable     BACKEND_UNAVAILABLE (a profile names a missing extra/model)
    │   ├── QaFailed               QA_FAILED (the video scored under the job's qai_mode threshold
    │   │                          after its retries; details: the failing checks and figures)
    │   └── JobCancelledError      JOB_CANCELLED (the API cancelled it; the worker let go)
    └── TransientError             may succeed later: retry with backoff
        ├── ProductImageTimeout    PRODUCT_IMAGE_TIMEOUT (slow server, 5xx, 429, dropped connection)
        ├── MusicFetchFailed       MUSIC_FETCH_FAILED (the API did not serve the track in time, 5xx, dropped)
        ├── StorageError           STORAGE_UNAVAILABLE
        ├── OutOfMemory            OUT_OF_MEMORY
        └── EncoderError           ENCODER_FAILED (ffmpeg exited non-zero or timed out)

`RenderFailed` (RENDER_FAILED) wraps anything unexpected at the outermost boundary so a
job always ends with a code; it is transient because an unknown fault may be the machine's.
`RenderTimedOut` (RENDER_TIMED_OUT) is a render over its time limit: retried once, since a
second try at full length rarely does better.

What the job's owner sees is `public()`: errors about the job's own input (the spec, the
product image, the persona) as they are; errors of our own side (storage, encoder, memory,
anything unexpected) as their code and a fixed sentence, because their messages and details
name internal hosts, buckets, paths and ffmpeg's stderr. The worker logs those in full.
"""

from __future__ import annotations

from typing import Any


class UGenError(Exception):
    """Root of the tree. `code` is stable; `message` is for people; `details` is JSON-safe."""

    code = "UGEN_ERROR"
    retryable = False
    internal = False  # True: message and details speak of our systems, not of the job's input
    public_message = "the render failed on our side"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The seed's application-error shape: {"error": {code, message, details}}."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}

    def public(self) -> dict[str, Any]:
        """{code, message, details} as the job's owner may see them."""
        if self.internal:
            return {"code": self.code, "message": self.public_message, "details": {}}
        return self.to_dict()["error"]


class PermanentError(UGenError):
    retryable = False


class TransientError(UGenError):
    retryable = True


class InvalidJobSpec(PermanentError):
    code = "INVALID_JOB_SPEC"


class PersonaNotFound(PermanentError):
    code = "PERSONA_NOT_FOUND"


class VoiceNotFound(PermanentError):
    code = "VOICE_NOT_FOUND"


class MusicNotFound(PermanentError):
    code = "MUSIC_NOT_FOUND"


class MusicUrlForbidden(PermanentError):
    code = "MUSIC_URL_FORBIDDEN"


class MusicTooLarge(PermanentError):
    code = "MUSIC_TOO_LARGE"


class MusicInvalid(PermanentError):
    code = "MUSIC_INVALID"


class TemplateNotFound(PermanentError):
    code = "TEMPLATE_NOT_FOUND"


class ProductImageForbidden(PermanentError):
    code = "PRODUCT_IMAGE_URL_FORBIDDEN"


class ProductImageUnreachable(PermanentError):
    code = "PRODUCT_IMAGE_UNREACHABLE"


class ProductImageInvalid(PermanentError):
    code = "PRODUCT_IMAGE_INVALID"


class ProductImageTooLarge(PermanentError):
    code = "PRODUCT_IMAGE_TOO_LARGE"


class ScriptTooLong(PermanentError):
    code = "SCRIPT_TOO_LONG"


class PersonaInvalid(PermanentError):
    code = "PERSONA_INVALID"


class LanguageUnsupported(PermanentError):
    """details: language, voice_id, supported (the languages the voice speaks here)."""

    code = "LANGUAGE_UNSUPPORTED"


class CaptionGlyphMissing(PermanentError):
    """details: characters (each as written), code_points ("U+XXXX" lists), words."""

    code = "CAPTION_GLYPH_MISSING"


class BackendUnavailable(PermanentError):
    code = "BACKEND_UNAVAILABLE"
    internal = True
    public_message = "this worker cannot run the models the job needs"


class QaFailed(PermanentError):
    """details: score, mode, threshold, retries_used, failing_checks {name: score, failing,
    figures, failing_shots}. Permanent: the render already retried with new seeds."""

    code = "QA_FAILED"


class JobCancelledError(PermanentError):
    code = "JOB_CANCELLED"


class ProductImageTimeout(TransientError):
    code = "PRODUCT_IMAGE_TIMEOUT"


class MusicFetchFailed(TransientError):
    code = "MUSIC_FETCH_FAILED"


class StorageError(TransientError):
    code = "STORAGE_UNAVAILABLE"
    internal = True
    public_message = "the finished video could not be stored"


class OutOfMemory(TransientError):
    code = "OUT_OF_MEMORY"
    internal = True
    public_message = "the render ran out of memory"


class EncoderError(TransientError):
    code = "ENCODER_FAILED"
    internal = True
    public_message = "the video could not be encoded"


class RenderFailed(TransientError):
    code = "RENDER_FAILED"
    internal = True


class RenderTimedOut(RenderFailed):
    code = "RENDER_TIMED_OUT"
    public_message = "the render took longer than its time limit"

    def __init__(self, message: str, *, hits: int = 1, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={**(details or {}), "time_limits_hit": hits})
        self.retryable = hits < 2  # once more, not at full length every time
