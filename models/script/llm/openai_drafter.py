"""A script writer on a model served behind an OpenAI-compatible chat endpoint (vLLM, TGI).

    writer = OpenAIChatDrafter("http://llm:8000/v1", "Qwen/Qwen2.5-7B-Instruct",
                                    api_key_env="UGEN_LLM_API_KEY", timeout_s=60, max_retries=2)
    script = writer.write(brief)      # unguarded: raises ScriptRejected or LLMError

One server can feed many render workers, which is how script writing scales past one GPU.
Requests go to `{base_url}/chat/completions` with the brief's seed, so a server that honours
seeds (vLLM does) writes the same script twice. Every request has a socket timeout
(`timeout_s`, per connect and per read); 429, 5xx, refused or dropped connections and timeouts
are retried `max_retries` times with exponential backoff (a server's Retry-After is honoured,
capped); any other error fails at once. Failures raise `LLMError`, never a traceback.
Standard library only: nothing to install.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from models.script.llm.prompt import DrafterBase, LLMError, Reply

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 30.0


@dataclass(frozen=True)
class EndpointOptions:
    base_url: str  # e.g. "http://llm:8000/v1"
    model: str
    api_key_env: str | None = None  # environment variable holding the bearer token
    timeout_s: float = 60.0
    max_retries: int = 2
    backoff_s: float = 1.0  # first retry delay; doubles each time
    max_new_tokens: int = 400
    temperature: float = 0.7
    top_p: float = 0.95

    def __post_init__(self) -> None:
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ValueError(f"base_url must be http(s), not {self.base_url!r}")
        if self.timeout_s <= 0 or self.max_retries < 0 or self.backoff_s < 0:
            raise ValueError(f"bad timeout or retry options: {self}")


class _Retryable(LLMError):
    """A failure worth another try; `retry_after_s` is the server's hint, if any."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class OpenAIChatDrafter(DrafterBase):
    """Writes scripts through `POST {base_url}/chat/completions`."""

    continues_reply = False  # the chat API answers a conversation; it does not continue a reply

    def __init__(self, base_url: str, model: str, *, name: str | None = None,
                 api_key_env: str | None = None, timeout_s: float = 60.0, max_retries: int = 2,
                 backoff_s: float = 1.0, max_new_tokens: int = 400, temperature: float = 0.7,
                 top_p: float = 0.95) -> None:
        self.options = EndpointOptions(base_url.rstrip("/"), model, api_key_env, timeout_s,
                                       max_retries, backoff_s, max_new_tokens, temperature, top_p)
        self.name = name or f"openai:{model}"
        # The endpoint is a service next to the workers: never route it through a proxy.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def complete(self, messages: list[dict[str, str]], *, seed: int, temperature: float,
                 max_new_tokens: int, stop: str) -> Reply:
        body = {"model": self.options.model, "messages": messages, "seed": seed,
                "temperature": temperature, "top_p": self.options.top_p,
                "max_tokens": max_new_tokens, "n": 1, "stream": False}
        if stop:
            body["stop"] = [stop]
        started = time.perf_counter()
        data = self._post_with_retries(json.dumps(body).encode())
        text, tokens = _read_choice(data)
        return Reply(text, tokens, time.perf_counter() - started)

    def _post_with_retries(self, payload: bytes) -> dict[str, Any]:
        for attempt in range(self.options.max_retries):
            try:
                return self._post(payload)
            except _Retryable as exc:
                delay = self._delay(attempt, exc.retry_after_s)
                log.warning("%s: %s; retrying in %.1f s", self._url(), exc, delay)
                time.sleep(delay)
        try:
            return self._post(payload)
        except _Retryable as exc:
            attempts = self.options.max_retries + 1
            raise LLMError(f"{self._url()}: {exc} (after {attempts} attempts)") from None

    def _post(self, payload: bytes) -> dict[str, Any]:
        request = urllib.request.Request(self._url(), data=payload, method="POST",
                                         headers=self._headers())
        try:
            with self._opener.open(request, timeout=self.options.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(exc) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError,
                http.client.HTTPException) as exc:
            raise _Retryable(f"connection failed: {getattr(exc, 'reason', exc)}") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise LLMError(f"{self._url()}: response is not JSON: {raw[:200]!r}") from None

    def _url(self) -> str:
        return f"{self.options.base_url}/chat/completions"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.options.api_key_env) if self.options.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _delay(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return min(retry_after_s, MAX_RETRY_AFTER_S)
        return self.options.backoff_s * 2**attempt


def _http_error(exc: urllib.error.HTTPError) -> Exception:
    detail = exc.read()[:200].decode("utf-8", "replace") if exc.fp else ""
    message = f"HTTP {exc.code}: {detail}".strip()
    if exc.code in RETRY_STATUSES:
        return _Retryable(message, _retry_after(exc.headers.get("Retry-After")))
    return LLMError(f"{exc.url}: {message}")


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _read_choice(data: dict[str, Any]) -> tuple[str, int]:
    """(text, completion tokens) of the first choice; LLMError when the shape is wrong."""
    try:
        text = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LLMError(f"response has no choices[0].message.content: {str(data)[:200]}") from None
    if not isinstance(text, str):
        raise LLMError(f"choices[0].message.content is not text: {text!r}")
    usage = data.get("usage") or {}
    return text, int(usage.get("completion_tokens") or 0)
