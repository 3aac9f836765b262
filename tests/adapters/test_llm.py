from __future__ import annotations

import time

import pytest

from atlas_git.adapters.llm import CallRecord, ProviderClient, ProviderError, parse_json_reply
from atlas_git.config import load_config
from atlas_git.provider_settings import resolve
from atlas_git.testing.fake_llm import FakeLLM, Fault, Reply
from tests.conftest import TEST_API_KEY


def client(**over: float) -> ProviderClient:
    cfg = load_config(None, overrides={"provider": {"backoff_base": 0.01, "backoff_max": 0.05,
                                                    "read_timeout": 2.0, **over}})
    return ProviderClient(resolve(cfg))


def test_chat_returns_usage_cost_and_served_model(fake_llm: FakeLLM) -> None:
    fake_llm.push(Reply("hello", model="served/model", prompt_tokens=12, completion_tokens=3, cost=0.0042))
    seen: list[CallRecord] = []
    result = client().chat([{"role": "user", "content": "hi"}], models=["want/model"], max_tokens=10,
                           after_call=seen.append)
    assert result.content == "hello"
    assert (result.model_served, result.tokens_in, result.tokens_out) == ("served/model", 12, 3)
    assert result.cost == pytest.approx(0.0042)
    assert len(seen) == 1 and seen[0].success
    req = fake_llm.requests[-1]
    assert req.headers["authorization"] == f"Bearer {TEST_API_KEY}"
    assert req.body["model"] == "want/model" and req.body["max_tokens"] == 10


def test_retries_429_honouring_retry_after_then_succeeds(fake_llm: FakeLLM) -> None:
    fake_llm.push(Fault.rate_limit(retry_after=0.3), Fault.server_error(503), Reply("done"))
    seen: list[CallRecord] = []
    started = time.monotonic()
    result = client().chat([{"role": "user", "content": "x"}], models=["m"], max_tokens=5,
                           after_call=seen.append)
    assert result.content == "done"
    assert time.monotonic() - started >= 0.3  # waited as the server asked
    assert [r.error_class for r in seen] == ["rate_limit", "server", None]


def test_long_retry_after_fails_fast(fake_llm: FakeLLM) -> None:
    fake_llm.push(Fault.rate_limit(retry_after=3600))
    with pytest.raises(ProviderError, match="wait 3600s"):
        client().chat([{"role": "user", "content": "x"}], models=["m"], max_tokens=5)


def test_fallback_model_used_after_404_and_gate_sees_each(fake_llm: FakeLLM) -> None:
    fake_llm.push(Reply(status=404, raw_body=b'{"error": {"message": "no such model"}}', only_model="a"))
    fake_llm.push(Reply("from b", only_model="b"))
    gated: list[str] = []
    result = client().chat([{"role": "user", "content": "x"}], models=["a", "b"], max_tokens=5,
                           before_call=gated.append)
    assert gated == ["a", "b"]
    assert result.content == "from b" and result.model_requested == "b"


@pytest.mark.parametrize(("fault", "kind"), [
    (Fault.status(401, "bad key"), "auth"),
    (Fault.status(403), "auth"),
    (Fault.non_json(), "bad_response"),
    (Fault.truncated(), "bad_response"),
])
def test_faults_become_one_line_errors(fake_llm: FakeLLM, fault: Reply, kind: str) -> None:
    fake_llm.push(fault)
    with pytest.raises(ProviderError) as info:
        client(max_retries=0).chat([{"role": "user", "content": "x"}], models=["m"], max_tokens=5)
    assert info.value.kind == kind
    assert "\n" not in str(info.value)
    assert TEST_API_KEY not in str(info.value)


def test_read_timeout(fake_llm: FakeLLM) -> None:
    fake_llm.push(Fault.timeout(1.5))
    with pytest.raises(ProviderError) as info:
        client(read_timeout=0.3, max_retries=0).chat([{"role": "user", "content": "x"}], models=["m"],
                                                     max_tokens=5)
    assert info.value.kind == "timeout"


def test_connection_refused_is_fast() -> None:
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        client(max_retries=0).chat([{"role": "user", "content": "x"}], models=["m"], max_tokens=5)
    assert info.value.kind == "connect"
    assert time.monotonic() - started < 2


def test_json_schema_request_and_fenced_reply(fake_llm: FakeLLM) -> None:
    fake_llm.push(Reply('Sure:\n```json\n{"a": 1}\n```'))
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    result = client().chat([{"role": "user", "content": "x"}], models=["m"], max_tokens=5,
                           response_schema=schema)
    assert parse_json_reply(result.content) == {"a": 1}
    rf = fake_llm.requests[-1].body["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["schema"] == schema
    with pytest.raises(ProviderError):
        parse_json_reply("not json at all")
