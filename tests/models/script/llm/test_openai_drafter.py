"""The OpenAI-compatible backend against a local HTTP server that speaks the chat protocol."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from models.base import ScriptBrief
from models.script.llm.guarded import GuardedScriptWriter
from models.script.llm.openai_drafter import OpenAIChatDrafter
from models.script.llm.prompt import LLMError, ScriptRejected

BRIEF = ScriptBrief(product_name="Morning Ritual Espresso Cups", segment_count=3,
                    segment_duration_s=8, selling_points=("dishwasher safe",),
                    cta_text="Get your set today", seed=11)
GOOD = ("1: Okay, Morning Ritual Espresso Cups just changed my mornings.\n"
        "2: They keep my espresso hot, and they're dishwasher safe.\n"
        "3: I use them every day. Get your set today.")


class ChatServer:
    """A /v1/chat/completions endpoint answering each request with the next planned response:
    ("ok", text), (status, headers), or ("sleep", seconds) before answering GOOD."""

    def __init__(self):
        self.plan: list[tuple] = []
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body,
                                        "auth": self.headers.get("Authorization")})
                kind, value = server.plan.pop(0) if server.plan else ("ok", GOOD)
                if kind == "sleep":
                    time.sleep(value)
                    kind, value = "ok", GOOD
                if kind == "ok":
                    message = {"role": "assistant", "content": value}
                    self._send(200, {"choices": [{"message": message, "finish_reason": "stop"}],
                                     "usage": {"completion_tokens": 42}})
                elif kind == "raw":
                    self._send(200, value)
                else:
                    self._send(kind, {"error": {"message": "planned failure"}}, value)

            def _send(self, status, payload, headers=None):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for key, val in (headers or {}).items():
                    self.send_header(key, val)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()


@pytest.fixture
def server():
    chat = ChatServer()
    yield chat
    chat.httpd.shutdown()
    chat.httpd.server_close()


def writer_for(server, **options):
    return OpenAIChatDrafter(server.url, "test-model", backoff_s=0.01, **options)


def test_a_reply_becomes_a_script_and_the_request_follows_the_protocol(server, monkeypatch):
    monkeypatch.setenv("TEST_LLM_KEY", "sekret")
    writer = writer_for(server, api_key_env="TEST_LLM_KEY", temperature=0.6)
    script = writer.write(BRIEF)
    assert script.writer == "openai:test-model"
    assert script.segments[1].text == "They keep my espresso hot, and they're dishwasher safe."
    (request,) = server.requests
    body = request["body"]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sekret"
    assert (body["model"], body["seed"], body["temperature"], body["stop"], body["n"]) == (
        "test-model", 11, 0.6, ["\n4:"], 1)
    assert 0 < body["max_tokens"] <= 400
    assert body["messages"][0]["role"] == "system"
    assert body["messages"][-1]["role"] == "user"  # a chat endpoint is asked, not continued
    assert "Morning Ritual Espresso Cups" in body["messages"][-1]["content"]


def test_the_completion_reports_tokens_and_time(server):
    reply = writer_for(server).complete([{"role": "user", "content": "hi"}], seed=1,
                                        temperature=0.5, max_new_tokens=10, stop="")
    assert reply.text == GOOD and reply.new_tokens == 42 and reply.seconds > 0
    assert "stop" not in server.requests[0]["body"]


@pytest.mark.parametrize("failure", [(503, {}), (502, {}), (429, {"Retry-After": "0"})])
def test_overload_and_server_errors_are_retried(server, failure):
    server.plan = [failure, failure]
    script = writer_for(server, max_retries=2).write(BRIEF)
    assert len(server.requests) == 3 and script.writer == "openai:test-model"


def test_retries_are_bounded(server):
    server.plan = [(503, {})] * 5
    with pytest.raises(LLMError, match=r"HTTP 503.*after 3 attempts"):
        writer_for(server, max_retries=2).write(BRIEF)
    assert len(server.requests) == 3


def test_a_client_error_is_not_retried(server):
    server.plan = [(400, {})]
    with pytest.raises(LLMError, match="HTTP 400"):
        writer_for(server).write(BRIEF)
    assert len(server.requests) == 1


def test_a_slow_server_times_out_and_is_retried(server):
    server.plan = [("sleep", 1.0), ("sleep", 1.0)]
    started = time.monotonic()
    with pytest.raises(LLMError, match="after 2 attempts"):
        writer_for(server, timeout_s=0.2, max_retries=1).write(BRIEF)
    assert time.monotonic() - started < 1.5


def test_a_refused_connection_is_retried_then_reported():
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    writer = OpenAIChatDrafter(f"http://127.0.0.1:{port}/v1", "m", backoff_s=0.01,
                                    max_retries=1)
    with pytest.raises(LLMError, match="connection failed.*after 2 attempts"):
        writer.write(BRIEF)


@pytest.mark.parametrize(("payload", "match"), [(b"<html>oops</html>", "not JSON"),
                                                ({"choices": []}, "no choices")])
def test_a_malformed_response_is_an_error(server, payload, match):
    server.plan = [("raw", payload if isinstance(payload, bytes) else json.dumps(payload).encode())]
    with pytest.raises(LLMError, match=match):
        writer_for(server).write(BRIEF)


def test_a_degenerate_reply_is_rejected_with_reasons(server):
    server.plan = [("ok", "1: **Morning** Morning Morning Morning\n2: #coffee")]
    with pytest.raises(ScriptRejected, match="wrong segment count"):
        writer_for(server).write(BRIEF)


def test_the_guarded_writer_falls_back_when_the_server_keeps_failing(server):
    server.plan = [(500, {})] * 2 + [("ok", "1: Buy now!!!")] * 2
    script = GuardedScriptWriter(writer_for(server, max_retries=1)).write(BRIEF)
    assert script.writer == "copywriter"
    assert script.notes[0].startswith("llm fallback: model unavailable: ")
    assert len(server.requests) == 2  # an unreachable model gets no second draft


def test_the_guarded_writer_retries_a_bad_draft_on_the_server(server):
    server.plan = [("ok", "1: Buy now!!!"), ("ok", GOOD), ("ok", "1: dolly")]
    script = GuardedScriptWriter(writer_for(server)).write(BRIEF)
    assert script.writer == "openai:test-model"
    retried, shots_note = script.notes
    assert retried == "llm retry: wrong segment count: lines 1 for 3 segments"
    assert shots_note.startswith("shot plan fallback: shot plan: sentence 1 has unknown kind")
    first, retry, plan = (r["body"] for r in server.requests)
    assert "Sentences:" in plan["messages"][-1]["content"]
    assert first["seed"] == 11 and retry["seed"] != 11
    assert retry["temperature"] < first["temperature"]
