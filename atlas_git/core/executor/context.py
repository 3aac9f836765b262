"""What the model sees: files chosen for a request, trimmed to a token budget.

Files come from the base commit (the edit is applied there, so SEARCH text
must match it): the named paths, or files found from the request's words
through ``git ls-tree`` and ``git grep``. ``.gitignore``/``.atlasignore`` are
honoured through ``git check-ignore`` (exact gitignore semantics), binary and
secret files are skipped, and every text is passed through the secrets
scanner before it can be sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from atlas_git.adapters import git
from atlas_git.config import Config
from atlas_git.errors import AtlasError, UsageError

CHARS_PER_TOKEN = 4  # a rough, conservative estimate for code
MAX_FILE_BYTES = 2_000_000
MAX_FOUND_FILES = 8
_WINDOW = 25  # lines kept around each relevant line when trimming

_STOPWORDS = frozenset([
    "a", "an", "the", "and", "or", "not", "but", "if", "then", "else", "when", "where", "what", "which",
    "who", "how", "why", "this", "that", "these", "those", "to", "of", "in", "on", "at", "by", "for",
    "from", "with", "without", "into", "onto", "over", "under", "as", "is", "are", "was", "were", "be",
    "been", "being", "it", "its", "it's", "do", "does", "did", "done", "make", "makes", "made", "add",
    "adds", "added", "use", "uses", "using", "used", "fix", "fixes", "fixed", "change", "changes",
    "changed", "please", "can", "could", "should", "would", "will", "shall", "may", "might", "must",
    "need", "needs", "so", "all", "any", "each", "every", "some", "more", "most", "less", "few", "new",
    "old", "my", "our", "your", "their", "them", "they", "we", "you", "i", "me", "file", "files",
    "code", "function", "functions", "method", "methods", "class", "classes", "line", "lines", "test",
    "tests", "error", "errors", "bug", "bugs", "value", "values", "return", "returns", "variable",
    "handle", "handles", "handling", "case", "cases", "also", "just", "only", "like", "than", "same",
    "other", "there", "here", "up", "down", "out", "get", "set", "put", "let", "var", "def", "end",
    "one", "two",
])
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_PATHLIKE = re.compile(r"[\w./-]*[\w-]\.[A-Za-z0-9]{1,8}\b|[\w.-]+/[\w./-]+")
_QUOTED = re.compile(r"`([^`]{3,120})`|\"([^\"]{3,120})\"|'([^']{3,120})'")


@dataclass
class ContextFile:
    """One file as sent to the model."""

    path: str
    text: str  # possibly trimmed, already redacted
    tokens: int
    trimmed: bool = False
    new: bool = False  # named but absent at the base: the model may create it


@dataclass
class Context:
    """Everything chosen for one request."""

    files: list[ContextFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    redactions: int = 0
    budget_tokens: int = 0

    @property
    def tokens(self) -> int:
        return sum(f.tokens for f in self.files)

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]


def estimate_tokens(text: str) -> int:
    """A cheap token estimate (no tokenizer on the hot path)."""
    return max(1, len(text) // CHARS_PER_TOKEN)


def guard_text(text: str, mode: str, *, what: str) -> tuple[str, int]:
    """Redact secrets in ``text``, or refuse when ``secrets.mode = "refuse"``."""
    from atlas_git.core.secrets import redact, scan_text

    if mode == "refuse":
        found = scan_text(text)
        if found:
            rules = ", ".join(sorted({m.rule for m in found}))
            raise AtlasError(
                f"refusing to send {what}: it contains a secret ({rules}, line {found[0].line})",
                hint="remove it, add the file to .atlasignore, or set secrets.mode = \"redact\"",
            )
        return text, 0
    clean, matches = redact(text)
    return clean, len(matches)


def tracked_files(root: Path, base: str) -> list[str]:
    """Files in the base commit (tracked only: untracked and ignored never appear)."""
    _, out, _ = git.run(["ls-tree", "-r", "-z", "--name-only", "--full-tree", base], cwd=root)
    return [p for p in out.split("\0") if p]


def ignored(root: Path, paths: Sequence[str]) -> set[str]:
    """Which ``paths`` ``.gitignore``/``.atlasignore`` exclude (gitignore semantics via git)."""
    if not paths:
        return set()
    args = ["check-ignore", "--no-index", "-z", "--stdin"]
    atlasignore = root / ".atlasignore"
    if atlasignore.is_file():
        args = ["-c", f"core.excludesFile={atlasignore}", *args]
    rc, out, _ = git.run(args, cwd=root, check=False, input="\0".join(paths) + "\0")
    if rc not in (0, 1):
        return set()
    return {p for p in out.split("\0") if p}


def request_terms(request: str) -> tuple[list[str], list[str], list[str]]:
    """(path-like tokens, identifiers, quoted phrases) from a request, best first."""
    paths = [m.group(0).strip("./") for m in _PATHLIKE.finditer(request)]
    quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(request)]
    idents: list[str] = []
    for m in _IDENT.finditer(request):
        word = m.group(0)
        for part in [word, *word.split(".")] if "." in word else [word]:
            if len(part) < 3 or part.lower() in _STOPWORDS or part in idents:
                continue
            idents.append(part)

    # Code-shaped words (snake_case, CamelCase, dotted) say more than English ones.
    def codeiness(word: str) -> int:
        return int("_" in word) + int(bool(re.search(r"[a-z][A-Z]", word))) + int("." in word)

    idents.sort(key=codeiness, reverse=True)
    return paths, idents[:12], quoted[:4]


def find_files(root: Path, base: str, request: str, candidates: Sequence[str],
               limit: int = MAX_FOUND_FILES) -> list[str]:
    """Rank tracked files by how many of the request's words they contain."""
    paths, idents, quoted = request_terms(request)
    scores: dict[str, float] = {}
    cset = set(candidates)
    for token in paths:
        for cand in candidates:
            if cand == token or cand.endswith("/" + token):
                scores[cand] = scores.get(cand, 0) + 10
    for term, weight in [*((q, 4.0) for q in quoted), *((i, 1.0) for i in idents)]:
        rc, out, _ = git.run(["grep", "-I", "-F", "-c", "-z", "-e", term, base, "--"], cwd=root,
                             check=False)
        if rc != 0:
            continue
        for line in out.splitlines():
            # "<base>:<path>\0<count>"
            name, _, count = line.partition("\0")
            path = name.split(":", 1)[1] if ":" in name else name
            if path in cset and count.strip().isdigit():
                # Diminishing returns: a file that mentions a word 50 times is not 50x better.
                scores[path] = scores.get(path, 0) + weight * (1 + min(int(count), 5) / 5)
        for cand in candidates:
            if term.lower() in Path(cand).stem.lower():
                scores[cand] = scores.get(cand, 0) + 2 * weight
    ranked = sorted(scores, key=lambda p: (-scores[p], p))
    return ranked[:limit]


def trim(text: str, terms: Iterable[str], max_tokens: int) -> tuple[str, bool]:
    """Keep the regions around lines that mention ``terms``; mark what was cut."""
    if estimate_tokens(text) <= max_tokens:
        return text, False
    lines = text.splitlines(keepends=True)
    lowered = [t.lower() for t in terms if t]
    hits = [i for i, line in enumerate(lines) if any(t in line.lower() for t in lowered)]
    if not hits:
        hits = [0]
    keep: set[int] = set()
    budget_chars = max_tokens * CHARS_PER_TOKEN
    used = 0
    for hit in hits:
        for i in range(max(0, hit - _WINDOW), min(len(lines), hit + _WINDOW + 1)):
            if i not in keep and used + len(lines[i]) <= budget_chars:
                keep.add(i)
                used += len(lines[i])
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i in keep:
            out.append(lines[i])
            i += 1
            continue
        start = i
        while i < len(lines) and i not in keep:
            i += 1
        out.append(f"... [atlas: lines {start + 1}-{i} omitted; do not edit them] ...\n")
    return "".join(out), True


def _expand(path: str, candidates: Sequence[str]) -> list[str]:
    prefix = path.rstrip("/") + "/"
    return [c for c in candidates if c.startswith(prefix)]


def build_context(root: Path, base: str, request: str, named: Sequence[str], *, config: Config,
                  tier: str, allow_new: bool = True) -> Context:
    """Choose, read, trim and redact the files for ``request`` at ``base``."""
    from atlas_git.core.executor.worktree import read_blob
    from atlas_git.core.secrets import is_secret_path

    budget = int(config.get(f"tiers.{tier}.context_tokens", 24000) or 24000)
    mode = str(config.get("secrets.mode", "redact"))
    ctx = Context(budget_tokens=budget)
    candidates = tracked_files(root, base)
    cset = set(candidates)
    chosen: list[str] = []
    new_files: list[str] = []
    for raw in named:
        rel = raw.strip()
        rel = (rel[2:] if rel.startswith("./") else rel).rstrip("/")
        if rel in cset:
            chosen.append(rel)
        elif _expand(rel, candidates):
            chosen.extend(_expand(rel, candidates))
        elif allow_new:
            new_files.append(rel)
        else:
            raise UsageError(f"{raw}: not a tracked file at the base commit")
    if not named:
        # Ranked beyond the cap: ignored, secret or binary hits must not crowd out usable files.
        chosen = find_files(root, base, request, candidates, limit=MAX_FOUND_FILES * 3)
    dropped = ignored(root, chosen)
    terms = [*request_terms(request)[1], *request_terms(request)[2]]
    files_budget = int(budget * 0.85)  # the rest is prompt, request and feedback
    wanted = len(chosen) if named else min(len(chosen), MAX_FOUND_FILES)
    per_file = max(500, files_budget // max(1, wanted))
    for rel in dict.fromkeys(chosen):
        if not named and len(ctx.files) >= MAX_FOUND_FILES:
            break
        if is_secret_path(rel):
            ctx.skipped.append((rel, "secret file (never sent)"))
            continue
        if rel in dropped:
            ctx.skipped.append((rel, "ignored (.gitignore/.atlasignore)"))
            continue
        try:
            text = read_blob(root, base, rel)
        except AtlasError:
            ctx.skipped.append((rel, "binary or not UTF-8"))
            continue
        if text is None:
            continue
        if len(text) > MAX_FILE_BYTES:
            ctx.skipped.append((rel, "too large"))
            continue
        remaining = files_budget - ctx.tokens
        if remaining < 200:
            ctx.skipped.append((rel, "over the token budget"))
            continue
        text, trimmed = trim(text, terms, min(remaining, max(per_file, remaining // 2)))
        text, hits = guard_text(text, mode, what=rel)
        ctx.redactions += hits
        ctx.files.append(ContextFile(rel, text, estimate_tokens(text), trimmed))
    for rel in new_files:
        if is_secret_path(rel):
            raise UsageError(f"{rel} looks like a secrets file; atlas never writes or sends those")
        ctx.files.append(ContextFile(rel, "", 1, new=True))
    return ctx


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    return "`" * max(3, longest + 1)


def render(ctx: Context) -> str:
    """The context as Markdown sections, one fenced block per file."""
    parts = []
    for f in ctx.files:
        if f.new:
            parts.append(f"### {f.path}\n(does not exist yet: create it)\n")
            continue
        fence = _fence(f.text)
        note = " (trimmed: only the relevant regions are shown)" if f.trimmed else ""
        body = f.text if f.text.endswith("\n") or not f.text else f.text + "\n"
        parts.append(f"### {f.path}{note}\n{fence}\n{body}{fence}\n")
    return "\n".join(parts)
