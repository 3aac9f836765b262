"""A local OpenAI-compatible server for token-free tests and benchmarks.

It speaks the real protocol on loopback (``POST /chat/completions``,
``GET /models``, ``GET /key`` like OpenRouter), replies from a script, reports
``usage`` including ``cost``, records every request, and injects faults.

    with FakeLLM() as server:
        server.push(Reply('{"intent": "debug", ...}'))
        server.push(Fault.rate_limit(retry_after=0))
        os.environ["ATLAS_BASE_URL"] = server.base_url

Replies are taken from the queue in order; when it is empty, ``handler``
(a function of the request body) or ``default`` answers.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """A scripted chat completion."""

    content: str = "ok"
    model: str | None = None  # model reported as served; default = the requested one
    prompt_tokens: int = 100
    completion_tokens: int = 50
    cost: float | None = 0.001  # None = omit usage.cost (non-OpenRouter servers)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (read-timeout tests)
    raw_body: bytes | None = None  # send these bytes verbatim (garbage, truncation)
    finish_reason: str = "stop"
    only_model: str | None = None  # answer only requests for this model (else skip)


class Fault:
    """Ready-made faults."""

    @staticmethod
    def rate_limit(retry_after: float | str | None = 1) -> Reply:
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        body = json.dumps({"error": {"message": "Rate limit exceeded", "code": 429}}).encode()
        return Reply(status=429, headers=headers, raw_body=body)

    @staticmethod
    def server_error(status: int = 500) -> Reply:
        body = json.dumps({"error": {"message": "Internal error", "code": status}}).encode()
        return Reply(status=status, raw_body=body)

    @staticmethod
    def status(status: int, message: str = "error") -> Reply:
        body = json.dumps({"error": {"message": message, "code": status}}).encode()
        return Reply(status=status, raw_body=body)

    @staticmethod
    def timeout(delay: float = 5.0) -> Reply:
        return Reply(delay=delay)

    @staticmethod
    def non_json() -> Reply:
        return Reply(raw_body=b"<html>502 Bad Gateway</html>")

    @staticmethod
    def truncated() -> Reply:
        return Reply(raw_body=b'{"id": "x", "choices": [{"message": {"content": "par')


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes


Handler = Callable[[dict[str, Any]], Reply]


class FakeLLM:
    """Threaded loopback server; use as a context manager or call start/stop."""

    def __init__(self, *, default: Reply | None = None, handler: Handler | None = None,
                 models: list[dict[str, Any]] | None = None,
                 key_info: dict[str, Any] | None = None) -> None:
        self.default = default or Reply()
        self.handler = handler
        self.queue: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self.models = models if models is not None else []
        self.key_info = key_info or {
            "label": "test", "limit": None, "limit_remaining": None, "usage": 0.0,
            "usage_daily": 0.0, "usage_weekly": 0.0, "usage_monthly": 0.0, "is_free_tier": False,
        }
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -------------------------------------------------------
    def push(self, *replies: Reply) -> None:
        with self._lock:
            self.queue.extend(replies)

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    def all_text_sent(self) -> str:
        """Everything sent in chat requests, for "this secret never left" checks."""
        return "\n".join(r.raw.decode("utf-8", "replace") for r in self.requests)

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            for i, reply in enumerate(self.queue):
                if reply.only_model is None or reply.only_model == body.get("model"):
                    del self.queue[i]
                    return reply
        if self.handler is not None:
            return self.handler(body)
        return self.default

    # -- lifecycle -------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/api/v1"

    def start(self) -> FakeLLM:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _record(self, raw: bytes) -> Any:
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                with fake._lock:
                    fake.requests.append(Recorded(self.command, self.path,
                                                  {k.lower(): v for k, v in self.headers.items()},
                                                  body, raw))
                return body

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def do_GET(self) -> None:
                self._record(b"")
                if self.path.endswith("/models"):
                    self._send(200, json.dumps({"data": fake.models}).encode())
                elif self.path.endswith("/key"):
                    self._send(200, json.dumps({"data": fake.key_info}).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = self._record(raw)
                if not self.path.endswith("/chat/completions") or not isinstance(body, dict):
                    status = 404 if isinstance(body, dict) else 400
                    self._send(status, b'{"error": {"message": "bad request"}}')
                    return
                reply = fake._next_reply(body)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.raw_body is not None:
                    self._send(reply.status, reply.raw_body, reply.headers)
                    return
                usage: dict[str, Any] = {
                    "prompt_tokens": reply.prompt_tokens,
                    "completion_tokens": reply.completion_tokens,
                    "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                }
                if reply.cost is not None:
                    usage["cost"] = reply.cost
                payload = {
                    "id": f"gen-{len(fake.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": reply.model or body.get("model", "unknown"),
                    "choices": [{
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "finish_reason": reply.finish_reason,
                    }],
                    "usage": usage,
                }
                self._send(reply.status, json.dumps(payload).encode(), reply.headers)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(port: int = 0) -> None:  # pragma: no cover - manual use
    """Run a server from the shell: ``python -m atlas_git.testing.fake_llm``."""
    with FakeLLM() as server:
        print(server.base_url, flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":  # pragma: no cover
    serve_forever()
