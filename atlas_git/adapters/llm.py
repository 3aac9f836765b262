"""OpenAI-compatible chat-completions client (OpenRouter, OpenAI, Ollama, vLLM...).

One protocol: ``POST {base_url}/chat/completions``. Connect and read timeouts
are always set. 429/5xx/connection faults are retried with exponential backoff
that honours ``retry-after``. ``models`` are tried in order (client-side, so a
budget gate can veto each fallback before it is called). Every HTTP attempt is
reported to ``after_call`` with what the ledger records.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from atlas_git.adapters.jsonreply import extract_json
from atlas_git.errors import AtlasError
from atlas_git.provider_settings import ProviderSettings

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class ProviderError(AtlasError):
    """A provider call failed. ``kind`` is a stable error class for the ledger."""

    def __init__(self, message: str, *, kind: str, status: int | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.kind = kind
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.kind in ("rate_limit", "server", "timeout", "connect")


@dataclass
class CallRecord:
    """One HTTP attempt, as the budget ledger records it."""

    model_requested: str
    model_served: str | None
    tokens_in: int
    tokens_out: int
    cost: float | None  # the provider's usage.cost; None = compute from prices
    duration: float
    success: bool
    error_class: str | None = None
    status: int | None = None


@dataclass
class ChatResult:
    content: str
    model_requested: str
    model_served: str
    tokens_in: int
    tokens_out: int
    cost: float | None
    duration: float
    attempts: list[CallRecord] = field(default_factory=list)
    finish_reason: str | None = None

    @property
    def success(self) -> bool:
        return True


BeforeCall = Callable[[str], None]  # may raise to veto a model (budget)
AfterCall = Callable[[CallRecord], None]


def _redact(text: str, key: str | None) -> str:
    if key:
        text = text.replace(key, "[REDACTED]")
    return re.sub(r"(sk-[A-Za-z0-9_\-]{6})[A-Za-z0-9_\-]+", r"\1…", text)


def _retry_after(headers: Any) -> float | None:
    value = headers.get("retry-after") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def parse_json_reply(content: str) -> Any:
    """Parse a JSON reply that may be wrapped in markdown fences or prose."""
    data = extract_json(content)
    if data is None:
        raise ProviderError("the model's reply is not valid JSON", kind="bad_response")
    return data


class ProviderClient:
    """A small, typed client for OpenAI-compatible chat completions."""

    def __init__(self, settings: ProviderSettings, *, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self._session = session or requests.Session()
        self._sleep = sleep

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": "atlas-git"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        if self.settings.is_openrouter:
            headers["HTTP-Referer"] = "https://github.com/atlas-git/atlas-git"
            headers["X-Title"] = "atlas-git"
        return headers

    def _check_key(self) -> None:
        if self.settings.is_openrouter and not self.settings.api_key:
            raise ProviderError(
                "no API key for OpenRouter",
                kind="auth",
                hint="export OPENROUTER_API_KEY=..., or set ATLAS_BASE_URL for a local server",
            )

    def chat(
        self,
        messages: Sequence[dict[str, str]],
        *,
        models: Sequence[str],
        max_tokens: int,
        temperature: float = 0.0,
        response_schema: dict[str, Any] | None = None,
        schema_name: str = "reply",
        read_timeout: float | None = None,
        before_call: BeforeCall | None = None,
        after_call: AfterCall | None = None,
    ) -> ChatResult:
        """Send one chat request, trying ``models`` in order until one answers.

        Auth errors (401/403) and bad requests stop at once: another model
        would fail the same way. 404/unknown-model and exhausted retries move
        on to the next model.
        """
        if not models:
            raise ProviderError("no model to call", kind="config")
        self._check_key()
        attempts: list[CallRecord] = []
        last: ProviderError | None = None
        for model in models:
            if before_call is not None:
                before_call(model)
            try:
                return self._call_with_retries(
                    messages, model, max_tokens, temperature, response_schema, schema_name,
                    read_timeout, attempts, after_call,
                )
            except ProviderError as exc:
                last = exc
                if exc.kind in ("auth", "bad_request", "payment"):
                    raise
        assert last is not None
        raise last

    def _call_with_retries(
        self,
        messages: Sequence[dict[str, str]],
        model: str,
        max_tokens: int,
        temperature: float,
        response_schema: dict[str, Any] | None,
        schema_name: str,
        read_timeout: float | None,
        attempts: list[CallRecord],
        after_call: AfterCall | None,
    ) -> ChatResult:
        body: dict[str, Any] = {
            "model": model,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if response_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "strict": True, "schema": response_schema},
            }
        if self.settings.is_openrouter:
            body["usage"] = {"include": True}  # OpenRouter then reports usage.cost
        s = self.settings
        for attempt in range(s.max_retries + 1):
            started = time.monotonic()
            try:
                result = self._post_once(body, model, read_timeout)
            except ProviderError as exc:
                record = CallRecord(model, None, 0, 0, None, time.monotonic() - started, False,
                                    exc.kind, exc.status)
                attempts.append(record)
                if after_call:
                    after_call(record)
                wait = getattr(exc, "retry_after", None)
                if not exc.retryable or attempt == s.max_retries:
                    raise
                if wait is not None and wait > s.max_retry_after:
                    raise ProviderError(
                        f"provider asked to wait {wait:.0f}s before retrying (rate limited)",
                        kind="rate_limit", status=exc.status,
                        hint="try again later or raise provider.max_retry_after",
                    ) from exc
                if wait is None:
                    wait = min(s.backoff_max, s.backoff_base * (2**attempt))
                    wait *= 0.5 + random.random() / 2  # jitter: spread concurrent retries
                self._sleep(wait)
                continue
            result.attempts = attempts
            record = CallRecord(model, result.model_served, result.tokens_in, result.tokens_out,
                                result.cost, result.duration, True, None, 200)
            attempts.append(record)
            if after_call:
                after_call(record)
            return result
        raise AssertionError("unreachable")

    def _post_once(self, body: dict[str, Any], model: str, read_timeout: float | None) -> ChatResult:
        s = self.settings
        url = f"{s.base_url}/chat/completions"
        started = time.monotonic()
        try:
            resp = self._session.post(
                url, data=json.dumps(body), headers=self._headers(),
                timeout=(s.connect_timeout, read_timeout or s.read_timeout),
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise ProviderError(f"cannot reach the provider at {s.base_url} (connect timeout)",
                                kind="connect") from exc
        except requests.exceptions.ConnectionError as exc:
            if isinstance(exc.__context__, requests.exceptions.ReadTimeout) or "Read timed out" in str(exc):
                raise ProviderError("the provider did not answer in time", kind="timeout") from exc
            raise ProviderError(f"cannot reach the provider at {s.base_url}", kind="connect",
                                hint="check the network, or ATLAS_BASE_URL") from exc
        except requests.exceptions.Timeout as exc:
            raise ProviderError("the provider did not answer in time (read timeout)",
                                kind="timeout") from exc
        except requests.exceptions.RequestException as exc:
            raise ProviderError(_redact(f"provider request failed: {exc}", s.api_key),
                                kind="connect") from exc
        duration = time.monotonic() - started
        if resp.status_code != 200:
            raise self._status_error(resp, model)
        try:
            payload = resp.json()
        except ValueError as exc:
            raise ProviderError("the provider's reply is not JSON (truncated or garbled)",
                                kind="bad_response", status=200) from exc
        return self._parse(payload, model, duration)

    def _status_error(self, resp: requests.Response, model: str) -> ProviderError:
        s = self.settings
        status = resp.status_code
        detail = ""
        try:
            data = resp.json()
            err = data.get("error") if isinstance(data, dict) else None
            detail = str(err.get("message", "")) if isinstance(err, dict) else str(err or "")
        except ValueError:
            detail = resp.text[:200]
        detail = _redact(" ".join(detail.split())[:200], s.api_key)
        suffix = f": {detail}" if detail else ""
        if status == 401:
            return ProviderError(f"the provider rejected the API key (401){suffix}", kind="auth",
                                 status=status,
                                 hint="check OPENROUTER_API_KEY / ATLAS_API_KEY; "
                                 "`git atlas doctor` shows which is used")
        if status == 402:
            return ProviderError(f"the provider account has no credit (402){suffix}", kind="payment",
                                 status=status, hint="add credit or choose a free model")
        if status == 403:
            return ProviderError(f"the provider refused the request (403){suffix}", kind="auth",
                                 status=status,
                                 hint="the key may lack access to this model or have hit its limit")
        if status == 404:
            return ProviderError(f"model {model!r} not found at {s.base_url} (404){suffix}",
                                 kind="not_found", status=status,
                                 hint="check the model id with `git atlas models`, or the base URL")
        if status in RETRY_STATUSES or status >= 500:
            kind = "rate_limit" if status == 429 else "server"
            err = ProviderError(f"provider error {status}{suffix}", kind=kind, status=status)
            err.retry_after = _retry_after(resp.headers)  # type: ignore[attr-defined]
            return err
        return ProviderError(f"the provider rejected the request ({status}){suffix}",
                             kind="bad_request", status=status)

    def _parse(self, payload: Any, model: str, duration: float) -> ChatResult:
        if not isinstance(payload, dict):
            raise ProviderError("the provider's reply has an unexpected shape", kind="bad_response")
        if "error" in payload and not payload.get("choices"):
            err = payload["error"]
            msg = err.get("message", "") if isinstance(err, dict) else str(err)
            code = err.get("code") if isinstance(err, dict) else None
            kind = "rate_limit" if code == 429 else "server"
            raise ProviderError(_redact(f"provider error: {msg}"[:200], self.settings.api_key),
                                kind=kind)
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ProviderError("the provider's reply has no choices", kind="bad_response")
        message = choices[0].get("message") or {}
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            content = ""
        raw_usage = payload.get("usage")
        usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
        cost = usage.get("cost")

        def _int(value: Any) -> int:
            return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0

        return ChatResult(
            content=content,
            model_requested=model,
            model_served=str(payload.get("model") or model),
            tokens_in=_int(usage.get("prompt_tokens")),
            tokens_out=_int(usage.get("completion_tokens")),
            cost=float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None,
            duration=duration,
            finish_reason=choices[0].get("finish_reason"),
        )

    def get_json(self, path: str, *, auth: bool = True) -> Any:
        """GET ``{base_url}/{path}`` (OpenRouter ``models``/``key``)."""
        s = self.settings
        headers = self._headers() if auth else {"User-Agent": "atlas-git"}
        try:
            resp = self._session.get(f"{s.base_url}/{path.lstrip('/')}", headers=headers,
                                     timeout=(s.connect_timeout, s.read_timeout))
        except requests.exceptions.RequestException as exc:
            raise ProviderError(f"cannot reach the provider at {s.base_url}", kind="connect") from exc
        if resp.status_code != 200:
            raise self._status_error(resp, path)
        try:
            return resp.json()
        except ValueError as exc:
            raise ProviderError("the provider's reply is not JSON", kind="bad_response") from exc
