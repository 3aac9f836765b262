"""Secrets scanner: find credentials in text and keep them from leaving the machine.

Used by ``review`` (added lines must not introduce a secret) and by the
executor's context builder (nothing is sent to a provider before
:func:`redact`). The rules aim to be precise enough to block a commit:
provider tokens are matched by their documented shapes, and the generic
``password = "..."`` rule only fires on a quoted literal (or an ``.env``
style bare value) that is not a placeholder and looks random enough.

Pure standard library, compiled once at import: this sits on the hook's hot
path.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RULES", "SecretMatch", "is_secret_path", "redact", "scan_text"]


@dataclass(frozen=True)
class SecretMatch:
    """One secret found in a text.

    ``line`` is 1-based (the line where the secret starts). ``start``/``end``
    are character offsets into the scanned text (end exclusive), covering only
    the secret itself (e.g. the value of ``password = "..."``, the password of a
    URL). ``column`` is ``start``'s 0-based column in its line. ``preview`` is
    that line with every secret on it replaced by ``[REDACTED:<rule>]``, safe
    to print or log.
    """

    rule: str
    line: int
    start: int
    end: int
    preview: str
    column: int = 0


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    # Literal substrings of which at least one must occur (cheap pre-filter).
    keywords: tuple[str, ...]
    group: int = 0  # the regex group that holds the secret
    accept: Callable[[re.Match[str]], bool] | None = None
    keywords_ci: bool = False


# Values that mark an example or a template rather than a credential.
_PLACEHOLDER_WORDS = (
    "example", "sample", "placeholder", "dummy", "fake", "changeme", "change_me", "change-me",
    "your", "redacted", "replace", "insert", "xxxx", "****", "...", "todo", "fixme", "mock",
    "test", "secret", "password", "passwd", "token", "apikey", "api_key", "api-key", "none",
    "null", "undefined", "notset", "not-set", "not_set", "default", "foobar", "<", ">",
)
_TEMPLATE = re.compile(r"^\$\{?[A-Za-z_][\w]*\}?$|\$\{|\{\{|\}\}|%\(|%s|^\$[A-Za-z_]|^<.*>$|^\*+$")


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _is_placeholder(value: str) -> bool:
    low = value.lower()
    if not low or _TEMPLATE.search(value):
        return True
    if len(set(low)) <= 2:  # "xxxxxxxx", "00000000", "abababab"
        return True
    return any(word in low for word in _PLACEHOLDER_WORDS)


def _looks_random(value: str, *, min_len: int, min_entropy: float) -> bool:
    if len(value) < min_len or _entropy(value) < min_entropy:
        return False
    has_alpha = any(c.isalpha() for c in value)
    has_digit = any(c.isdigit() for c in value)
    return has_alpha and has_digit


def _not_example(match: re.Match[str]) -> bool:
    return "EXAMPLE" not in match.group(0).upper()


def _random_token(match: re.Match[str]) -> bool:
    # sk-... shapes also appear in prose ("sk-learn-compatible-estimator"):
    # a real key has digits and is not one long dictionary word chain.
    tail = match.group(0).split("-", 1)[1]
    return _looks_random(tail, min_len=20, min_entropy=3.0) and not _is_placeholder(tail)


def _url_password(match: re.Match[str]) -> bool:
    user, password = match.group("user"), match.group("pw")
    if password == user or _is_placeholder(password):
        return False
    if password.isalpha() and len(password) <= 6:
        return False  # "user:pass@", "org:repo@", "root:admin@": documentation shapes
    # "scheme://user:{}@host".format / f-strings / shell vars are templates; a comma
    # means a multi-host URL ("host:123,other:456@"), not a password.
    return not any(ch in password for ch in "{}$%,")


_PASSWORD_KEY = re.compile(r"pass(?:wd|word)?|pwd", re.IGNORECASE)
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2})?")
_SNAKE_WORDS = re.compile(r"^[a-z]+(?:_[a-z]+)+$")
_CAMEL = re.compile(r"^[a-z]+(?:[A-Z][a-z0-9]*)+$")


def _generic_ok(key: str, value: str, quoted: bool) -> bool:
    """Decide whether ``key = value`` assigns a real credential."""
    if _is_placeholder(value) or " " in value or _UUID.match(value) or _ISO_DATE.match(value):
        return False  # UUIDs are request/idempotency ids, dates are "password_last_used"
    password_only = bool(_PASSWORD_KEY.search(key)) and not re.search(r"(?i)token|secret|key", key)
    if not quoted:
        # A bare value is code (`token = get_token()`, `password = os.environ[...]`,
        # `token = None`) unless it looks like an .env/ini value.
        if any(ch in value for ch in "()[].{}$<>:/\\") or _CAMEL.match(value):
            return False
        if value.isidentifier() and "_" in value:
            return False
        digits = sum(ch.isdigit() for ch in value)
        if password_only:
            return len(value) >= 8 and digits >= 1 and any(c.isalpha() for c in value)
        return digits >= 3 and _looks_random(value, min_len=16, min_entropy=3.3)
    if password_only:
        # Human passwords need not be random; length and a non-placeholder suffice,
        # but a snake_case word is an enum value ("not_supported"), not a password.
        return len(value) >= 8 and _entropy(value) >= 2.5 and not _SNAKE_WORDS.match(value)
    if _HEX.match(value) and len(value) < 20:
        return False  # short hex strings are ids and hashes far more often than keys
    if any(ch in value for ch in "[]()"):
        return False  # an expression ("Jobs[-1].JobId"), not a token
    return _looks_random(value, min_len=12, min_entropy=3.0)


_GENERIC_KEYWORDS = ("pass", "pwd", "secret", "token", "key", "credential", "auth")

RULES: tuple[_Rule, ...] = (
    _Rule(
        "private_key",
        re.compile(
            r"-----BEGIN[ A-Z0-9]{0,30}PRIVATE KEY(?: BLOCK)?-----"
            # optional PEM headers (Proc-Type:, DEK-Info:), literal or JSON-escaped newlines
            r"(?:(?:\\r|\\n|\s)+[A-Za-z-]+:[^\n\\]*)*(?:\\r|\\n|\s)+[A-Za-z0-9+/=]{16,}"
            r"[\s\S]*?(?:-----END[ A-Z0-9]{0,30}PRIVATE KEY(?: BLOCK)?-----|\Z)"
        ),
        ("PRIVATE KEY",),
    ),
    _Rule("aws_access_key_id",
          re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Z0-9])"),
          ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"), accept=_not_example),
    _Rule("aws_secret_access_key",
          re.compile(r"(?i)aws.{0,20}?secret.{0,20}?['\"]?\s*(?::|=>|=)\s*['\"]?"
                     r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"),
          ("secret",), group=1, keywords_ci=True, accept=lambda m: _not_example(m) and
          _looks_random(m.group(1), min_len=40, min_entropy=3.5)),
    _Rule("github_token",
          re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{50,255})\b"),
          ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    _Rule("anthropic_key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}"), ("sk-ant-",)),
    _Rule("openrouter_key", re.compile(r"\bsk-or-v1-[A-Za-z0-9]{32,}"), ("sk-or-v1-",)),
    _Rule("openai_key",
          re.compile(r"\bsk-(?!ant-|or-v1-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
          ("sk-",), accept=_random_token),
    _Rule("gitlab_token", re.compile(r"\bgl(?:pat|dt|rt|ptt)-[0-9A-Za-z_\-]{20,}"), ("gl",)),
    _Rule("npm_token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), ("npm_",)),
    _Rule("huggingface_token", re.compile(r"\bhf_[A-Za-z]{34,}\b"), ("hf_",)),
    _Rule("slack_token", re.compile(r"\bxox[baprs]-[0-9A-Za-z]{6,}(?:-[0-9A-Za-z]+)+"), ("xox",)),
    _Rule("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"), ("AIza",)),
    _Rule("stripe_key", re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{16,}"), ("_live_",)),
    _Rule("jwt",
          re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"),
          ("eyJ",)),
    _Rule("url_credentials",
          re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://(?P<user>[^\s:/@'\"`<>]{1,64})"
                     r":(?P<pw>[^\s/@'\"`<>]{1,128})@[A-Za-z0-9\[._\-]"),
          ("://",), group=2, accept=_url_password),
    # Matched by keyword first, then the assignment after it (see _generic_matches):
    # a leading lazy identifier pattern made this rule 25x slower than all others together.
    _Rule(
        "generic_credential",
        re.compile(r"passwd|password|pwd|secret|token|api[_\-]?key|access[_\-]?key|auth[_\-]?key|"
                   r"private[_\-]?key|client[_\-]?secret|credential", re.IGNORECASE),
        _GENERIC_KEYWORDS, keywords_ci=True,
    ),
)

_GENERIC_TAIL = re.compile(
    r"(?i)s?[A-Za-z0-9_\-]{0,20}['\"]?[ \t]*(?::=|=>|=(?!=)|:(?!:))[ \t]*"
    r"(?:(?P<q>['\"`])(?P<qval>[^'\"`\n\r]{0,200})(?P=q)|(?P<bare>[^\s'\"`,;#&]{1,200}))"
)
_KEYWORDS_LOWER = re.compile(r"passwd|password|pwd|secret|token|api[_\-]?key|access[_\-]?key|"
                             r"auth[_\-]?key|private[_\-]?key|client[_\-]?secret|credential")
_IDENT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")


def _generic_matches(text: str, rule: _Rule, lowered: str) -> list[tuple[int, int, _Rule]]:
    found: list[tuple[int, int, _Rule]] = []
    last_end = -1
    # Case-insensitive alternation is ~10x slower than searching a lower-cased copy; the
    # copy is only usable when lower-casing kept every offset (true for ASCII).
    keywords = _KEYWORDS_LOWER.finditer(lowered) if len(lowered) == len(text) \
        else rule.pattern.finditer(text)
    for kw in keywords:
        if kw.start() < last_end:
            continue
        tail = _GENERIC_TAIL.match(text, kw.end())
        if tail is None:
            continue
        start = kw.start()
        while start > 0 and kw.start() - start < 40 and text[start - 1] in _IDENT_CHARS:
            start -= 1
        if start > 0 and text[start - 1] == ":":
            continue  # a namespaced name ("AWS::ApiGateway::ApiKey"), not an assignment target
        key = text[start:tail.start("q") if tail.group("q") else tail.start("bare")]
        quoted = tail.group("q") is not None
        grp = "qval" if quoted else "bare"
        if _generic_ok(key, tail.group(grp) or "", quoted):
            found.append((tail.start(grp), tail.end(grp), rule))
            last_end = tail.end()
    return found


def _raw_matches(text: str) -> list[tuple[int, int, _Rule]]:
    lowered: str | None = None
    found: list[tuple[int, int, _Rule]] = []
    for rule in RULES:
        if rule.keywords_ci:
            if lowered is None:
                lowered = text.lower()
            if not any(k in lowered for k in rule.keywords):
                continue
        elif not any(k in text for k in rule.keywords):
            continue
        if rule.name == "generic_credential":
            found += _generic_matches(text, rule, lowered if lowered is not None else text.lower())
            continue
        for m in rule.pattern.finditer(text):
            if rule.accept is not None and not rule.accept(m):
                continue
            found.append((m.start(rule.group), m.end(rule.group), rule))
    return found


def _resolve_overlaps(found: list[tuple[int, int, _Rule]]) -> list[tuple[int, int, _Rule]]:
    # Specific rules come first in RULES; on overlap keep the earlier rule's match.
    order = {rule.name: i for i, rule in enumerate(RULES)}
    found.sort(key=lambda f: (order[f[2].name], f[0]))
    kept: list[tuple[int, int, _Rule]] = []
    for start, end, rule in found:
        if start >= end:
            continue
        if any(start < k_end and k_start < end for k_start, k_end, _ in kept):
            continue
        kept.append((start, end, rule))
    kept.sort(key=lambda f: f[0])
    return kept


def _spans(text: str) -> list[tuple[int, int, _Rule]]:
    return _resolve_overlaps(_raw_matches(text))


def scan_text(text: str) -> list[SecretMatch]:
    """Every secret in ``text``, in order of position."""
    spans = _spans(text)
    if not spans:
        return []
    results: list[SecretMatch] = []
    for start, end, rule in spans:
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        if line_end == -1:
            line_end = len(text)
        line_no = text.count("\n", 0, start) + 1
        preview = _mask(text, line_start, line_end, spans)
        results.append(SecretMatch(rule.name, line_no, start, end, preview, start - line_start))
    return results


def _mask(text: str, lo: int, hi: int, spans: list[tuple[int, int, _Rule]]) -> str:
    """The line ``text[lo:hi]`` with every secret overlapping it replaced."""
    parts: list[str] = []
    pos = lo
    for start, end, rule in spans:
        if end <= lo or start >= hi:
            continue
        s = max(start, lo)
        parts.append(text[pos:s])
        parts.append(f"[REDACTED:{rule.name}]")
        pos = min(end, hi)
    parts.append(text[pos:hi])
    line = "".join(parts).strip()
    return line if len(line) <= 160 else line[:157] + "..."


def redact(text: str) -> tuple[str, list[SecretMatch]]:
    """``text`` with each secret replaced by ``[REDACTED:<rule>]``, plus the matches."""
    matches = scan_text(text)
    if not matches:
        return text, []
    parts: list[str] = []
    pos = 0
    for m in matches:
        parts.append(text[pos:m.start])
        parts.append(f"[REDACTED:{m.rule}]")
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts), matches


# Basenames (lower-case) that hold credentials by convention.
_SECRET_NAMES = frozenset({
    ".env", ".npmrc", ".pypirc", ".netrc", "_netrc", ".git-credentials", ".htpasswd",
    "credentials", "credentials.json", "credentials.yml", "credentials.yaml", ".dockercfg",
    "secrets.yml", "secrets.yaml", "secrets.json", "secrets.toml", ".boto", ".s3cfg",
    "service-account.json", "service_account.json",
})
_SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".kdbx", ".ppk",
                    ".asc.key", ".tfvars")
_ENV_TEMPLATES = frozenset({"example", "sample", "template", "dist", "defaults", "schema"})
_SSH_KEY = re.compile(r"^id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?(?!.*\.pub$)")


def is_secret_path(path: str) -> bool:
    """True for files that hold credentials by convention (never send, never commit).

    ``.env`` and ``.env.*`` (but not ``.env.example``/``.sample``/``.template``),
    private keys and keystores, SSH keys (not ``.pub``), ``.npmrc``/``.pypirc``/
    ``.netrc``, cloud ``credentials`` files.
    """
    name = posixpath.basename(path.replace("\\", "/")).lower()
    if not name:
        return False
    if name.startswith(".env.") or (name.endswith(".env") and name != ".env"):
        parts = set(name.split("."))
        return not (parts & _ENV_TEMPLATES)
    if name in _SECRET_NAMES or _SSH_KEY.match(name):
        return True
    return name.endswith(_SECRET_SUFFIXES)
