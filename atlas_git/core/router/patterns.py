"""Keyword and regex rules: the router's last classifier before the default.

Each rule adds weight to one label; "negation" rules take weight away from
the label a misleading keyword suggests ("format the date as ISO 8601" is an
edit, "optimize imports" is formatting, "why does this crash" is debugging).
The label with the highest total wins; no match at all means abstain.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_I = re.IGNORECASE


def _rx(pattern: str, flags: int = _I) -> re.Pattern[str]:
    return re.compile(pattern, flags)


# (label, weight, pattern). Negative weights are the negations.
_INTENT_RULES: list[tuple[str, float, re.Pattern[str]]] = [
    # --- debug: errors, crashes, tracebacks, failing tests -------------------------------
    ("debug", 4.0, _rx(r"Traceback \(most recent call last\)|^\s*File \".*\", line \d+", _I | re.M)),
    ("debug", 3.0, _rx(r"\b[A-Z]\w*(Error|Exception|Fault)\b\s*:|\bpanic:|\bFATAL\b|"
                       r"segmentation fault|segfault|core dumped|\berror\[E\d+\]|\berror TS\d+|"
                       r"\bat [\w.$<>]+\([\w.]+:\d+\)|\bUncaught\b|\bnil pointer|null ?pointer|"
                       r"\bexit(ed)? (with )?(code|status) [1-9]|\bE\d{3,4}\b", 0)),
    ("debug", 2.5, _rx(r"\b(bug|bugs|crash\w*|broken|breaks|fail(s|ing|ed|ure)?|"
                       r"exception|stack ?trace|regression|deadlock\w*|hang(s|ing)?|freez\w+|"
                       r"flaky|off[- ]by[- ]one|doesn'?t work|does not work|not working|"
                       r"no longer works|stopped working|wrong (result|output|value|answer)s?|"
                       r"throws|throwing|raises an?|returns? (none|null|nil|undefined|nan)|"
                       r"infinite loop|memory leak|leaks?)\b")),
    ("debug", 1.5, _rx(r"\b(fix|fixing|debug|diagnose|troubleshoot|investigate|resolve)\b")),
    ("debug", 1.0, _rx(r"\b(error|errors|errno|warning: unused)\b")),
    # --- explain: questions about code, docs, comments --------------------------------------
    ("explain", 3.5, _rx(r"\b(explain|walk me through|what does\b.*\bdo|how does\b.*\bwork|"
                         r"what is the (purpose|point|difference)|difference between|"
                         r"summari[sz]e|describe|eli5|help me understand|what happens when)\b")),
    ("explain", 3.0, _rx(r"\b(docstrings?|jsdoc|javadoc|doc ?comments?|documentation|document(ing)?|"
                         r"readme|changelog entry|api docs|comments? (to|for|explaining)|"
                         r"add comments|usage examples? (in|for) the docs)\b")),
    ("explain", 1.5, _rx(r"^\s*(why|how|what|what's|whats|where|when|which|is it true)\b")),
    ("explain", 1.0, _rx(r"\?\s*$")),
    # --- review: assess without changing ----------------------------------------------------
    ("review", 3.5, _rx(r"\b(review|code ?review|audit|critique|sanity[- ]check|look over|"
                        r"second pair of eyes|double[- ]check|vet)\b")),
    ("review", 2.5, _rx(r"\b(any|spot|find|point out|flag|list)\b.{0,25}\b(issues|problems|bugs|"
                        r"smells?|mistakes|concerns|risks|vulnerabilit\w+)\b|"
                        r"\bis (this|it|my|the)\b.{0,40}\b(safe|correct|ok|okay|idiomatic|"
                        r"thread[- ]safe|secure|good enough|right)\b|"
                        r"\b(before (i|we) (merge|commit|ship|push))\b|\b(pr|pull request|diff|"
                        r"staged changes|my changes|this change|this commit)\b.{0,30}\b(ok|good|safe)")),
    ("review", 1.0, _rx(r"\b(pr|pull request|staged changes|this diff|the diff|feedback)\b")),
    # --- optimize: speed, memory, size -------------------------------------------------------
    ("optimize", 3.5, _rx(r"\b(optimi[sz]\w*|speed( it)? up|faster|performance|perf|latency|"
                          r"throughput|too slow|is slow|runs slow\w*|slow(er|ly)?|"
                          r"memory (usage|footprint|consumption)|reduce (memory|allocations|cpu|"
                          r"the (bundle|binary|image) size)|bundle size|binary size|"
                          r"vectori[sz]e|n\+1|o\(n\^?2\)|o\(n²\)|quadratic|hot (path|loop)|"
                          r"profil(e|ing|er)|benchmark\w*|cpu usage|efficien\w+|takes (too long|"
                          r"forever|\d+ ?(s|sec|seconds|minutes))|cold start|startup time)\b")),
    ("optimize", 1.5, _rx(r"\b(cache|caching|memoi[sz]e|batch(ing)? the|lazy[- ]load\w*|"
                          r"index(es)? (on|for)|parallel(ize|ise)?|less memory|cheaper)\b")),
    # --- format: style only ------------------------------------------------------------------
    ("format", 3.5, _rx(r"\b(reformat\w*|format(ting)? (the |this |my |all )?(code|file|files|"
                        r"module|project|repo|codebase|source)|black|prettier|gofmt|rustfmt|"
                        r"clang-format|isort|autopep8|yapf|ruff format|eslint --fix|stylelint|"
                        r"pep ?8|indent\w*|whitespace|tabs? (to|into|instead of) spaces|"
                        r"spaces (to|into|instead of) tabs|line length|long lines|"
                        r"(sort|organi[sz]e|optimi[sz]e|order) (the )?imports|unused imports|"
                        r"code style|style guide|lint(er|ing)? (errors|warnings|issues)|"
                        r"trailing (commas?|newlines?|spaces)|single quotes|double quotes|"
                        r"semicolons|brace style|import order)\b")),
    ("format", 1.5, _rx(r"\b(format|formatting|lint|linting|flake8|pylint|eslint|tidy( up)?|"
                        r"style|prettify|beautify|consistent (quotes|naming|spacing))\b")),
    # --- generate: new code ------------------------------------------------------------------
    ("generate", 3.0, _rx(r"\b(create|scaffold|bootstrap|generate|write|implement|build|set up|"
                          r"setup|spin up|make|add)\b.{0,30}\b(new|a|an|some)\b.{0,40}\b(file|module|"
                          r"script|class|function|endpoint|route|component|page|service|cli|"
                          r"command|tool|package|library|app|api|test|tests|suite|workflow|"
                          r"dockerfile|migration|handler|parser|plugin|hook|job|worker|feature|"
                          r"dashboard|form|model|schema|helper|utility|wrapper|client|server|bot|"
                          r"game|website|extension)s?\b")),
    ("generate", 2.5, _rx(r"\b(from scratch|boilerplate|scaffold\w*|new project|starter|"
                          r"write (unit |integration |e2e |property[- ]based )?tests? for|"
                          r"add (unit |integration |e2e )?tests? for|test cases? for|"
                          r"(a|an) (script|program|tool|cli|bot) (that|to|which))\b")),
    ("generate", 1.5, _rx(r"^\s*(create|write|implement|build|generate|scaffold|make)\b")),
    # --- edit: change existing code ----------------------------------------------------------
    ("edit", 3.0, _rx(r"\b(refactor\w*|renam\w+|extract\w*|inline|move .{1,40} (to|into)|split .{1,40} "
                      r"into|migrat\w+|port .{1,30} to|convert\w*|replace\w*|swap|switch (from|to)|"
                      r"deprecat\w+|upgrade|bump|make .{1,40} (configurable|optional|async|generic|"
                      r"required|private|public|immutable|a dataclass)|add (a |an )?(parameter|"
                      r"argument|option|flag|kwarg|field|column|timeout|retry|retries|"
                      r"error handling|logging|validation|type hints|type annotations|"
                      r"a check)|change .{1,40} to|instead of)\b")),
    ("edit", 1.5, _rx(r"\b(change|update|modify|adjust|tweak|remove|delete|drop|rewrite|"
                      r"restructure|reorganize|simplify|clean up|cleanup|decouple|consolidate|"
                      r"dedupe|deduplicate|support for|handle)\b")),
    # --- negations: misleading keywords ------------------------------------------------------
    # "format the date/price/output" is a behaviour change, not style.
    ("edit", 4.0, _rx(r"\bformat(s|ted|ting)?\b.{0,20}\b(date|time|timestamp|number|currency|price|"
                      r"amount|output|response|string|message|phone|address|duration|bytes|size|"
                      r"percent\w*|json|csv|xml|table|report|log lines|filename|name)s?\b|"
                      r"\b(as|in|to) (iso[- ]?8601|rfc ?\d+|utc|json|csv|yaml|markdown|hex|"
                      r"yyyy-mm-dd)\b|\b(date|time|number|output|log|string) format\b|"
                      r"f-strings?|format strings?")),
    ("format", -4.0, _rx(r"\bformat(s|ted|ting)?\b.{0,20}\b(date|time|timestamp|number|currency|price|"
                         r"amount|output|response|message|phone|duration|bytes|percent\w*)s?\b|"
                         r"\b(date|time|number|output|log) format\b|format strings?")),
    # "optimize imports" is isort, not performance.
    ("optimize", -5.0, _rx(r"\boptimi[sz]e (the )?imports\b")),
    # "add a review feature", "reviews table": building the feature, not reviewing code.
    ("review", -4.0, _rx(r"\breviews?\b.{0,15}\b(feature|model|table|endpoint|page|form|widget|"
                         r"component|section|system|api|star|rating)s?\b|\b(product|customer|user) "
                         r"reviews?\b")),
    # "add debug logging", "debug mode", "--debug flag": an edit.
    ("debug", -3.0, _rx(r"\bdebug (logging|log|logs|mode|flag|level|output|endpoint|toolbar|build)\b|"
                        r"--debug\b")),
    ("edit", 2.0, _rx(r"\b(add|enable|turn on) debug (logging|log|mode|flag|level|output)\b|--debug\b")),
    # "explain" as a product feature ("--explain flag", "an explain endpoint").
    ("explain", -3.0, _rx(r"\b(an? |the )?(--)?explain (flag|option|endpoint|command|button|mode)\b|"
                          r"\bexplain plan\b")),
    # "the tests are slow" is optimize; "error messages" and "error handling" are edits.
    ("debug", -2.0, _rx(r"\berror (handling|messages?|codes?|pages?|boundar(y|ies)|types?)\b")),
    # "why is this slow" is optimize, "why does this crash" is debug: the question word
    # only marks an explanation when nothing else does.
    ("explain", -2.0, _rx(r"^\s*(why|how)\b.{0,60}\b(slow|crash\w*|fail\w*|error|broken|hang\w*|"
                          r"leak\w*)\b")),
    # "how do I / how can I / how to" asks for a change, not a description.
    ("explain", -1.5, _rx(r"^\s*(how (do|can|should) (i|we)|how to)\b")),
]

_TIER_RULES: list[tuple[str, float, re.Pattern[str]]] = [
    ("silver", 3.0, _rx(r"\b(typos?|spelling|misspell\w*|trivial|one[- ]liner|tiny|minor|small|"
                        r"quick|simple|a comment|copyright (year|header)|bump (the )?version|"
                        r"hello world|print statement|trailing whitespace|unused imports?|"
                        r"sort imports|rename (a |the |this )?(variable|local|param\w*|field|"
                        r"constant|function|method)|docstring for|a single (line|function)|"
                        r"one (line|function|variable)|default value|off[- ]by[- ]one)\b")),
    ("silver", 1.5, _rx(r"\b(rename|indent\w*|whitespace|black|prettier|gofmt|isort|"
                        r"readme|log message|error message|constant|magic number)\b")),
    ("platinum", 3.0, _rx(r"\b(concurren\w+|race conditions?|thread[- ]?safe\w*|threads?|deadlock\w*|"
                          r"mutex|locking|async\w*|parallel\w*|multiprocessing|goroutines?|"
                          r"security|vulnerab\w+|injection|xss|csrf|ssrf|auth(entication|orization)?|"
                          r"oauth|jwt|crypto\w*|encrypt\w*|secrets?|sanitiz\w+|memory leak|"
                          r"algorithm\w*|dynamic programming|graph|dijkstra|b-?tree|trie|"
                          r"o\(n\^?2\)|o\(n log n\)|complexity|quadratic|performance|profil\w+|"
                          r"transaction\w*|consisten\w+|idempoten\w+|cache invalidation|"
                          r"distributed|rate limit\w*|backpressure|retry logic|"
                          r"(across|in|touching) (all|every|several|multiple|many|the whole|"
                          r"\d+) (files|modules|packages|services|components|endpoints)|"
                          r"multi[- ]file|codebase-wide|memory)\b")),
    ("diamond", 4.0, _rx(r"\b(architect\w*|re-?design|system design|design (a|an|the) (new )?"
                         r"(system|architecture|platform|protocol)|microservices?|monolith|"
                         r"subsystem|event sourcing|cqrs|sharding|multi[- ]region|"
                         r"zero[- ]downtime|consensus|raft|paxos|formal(ly)? verif\w+|prove|"
                         r"research|whole (codebase|system|backend|frontend|stack|platform|app)|"
                         r"entire (codebase|system|backend|frontend|stack|platform|app|repo|"
                         r"monorepo|data layer|orm)|plugin (system|architecture)|"
                         r"(migrate|move|port|rewrite) (the |our )?(entire|whole|monolith|"
                         r"backend|frontend|database layer|codebase|app|application|platform)|"
                         r"high[- ]stakes|mission[- ]critical|from (python 2|angularjs|"
                         r"javascript) to)\b")),
]

# Misleading-keyword rules that are decisive: when one fires, its label beats
# even a confident semantic vote (embeddings see "format" or "optimize" and
# are fooled; these phrases are unambiguous).
_DECISIVE: list[tuple[str, re.Pattern[str]]] = [
    ("edit", _rx(r"\bformat(s|ted|ting)?\s+(the\s+|all\s+|each\s+|every\s+)?([\w-]+\s+)?(date|time|"
                 r"timestamp|number|currency|price|amount|phone|duration|bytes|percent\w*|"
                 r"money|total|value)s?\b(?!.{0,20}\b(file|files|code)\b)|"
                 r"\b(as|in|to) (iso[- ]?8601|rfc ?3339|yyyy-mm-dd|dd/mm/yyyy)\b")),
    ("format", _rx(r"\b(optimi[sz]e|organi[sz]e|clean ?up|tidy( up)?|sort|reorder) (the |all |unused )?"
                   r"imports?\b(?!.{0,30}\b(slow|startup|time|faster|lazy)\b)")),
    ("edit", _rx(r"\b(add|enable|turn on|more|remove) (some )?debug (logging|logs?|mode|output|"
                 r"statements?|prints?)\b")),
]

_MIN_SCORE = 1.0


@dataclass(frozen=True)
class PatternResult:
    """Best label per axis with its score; None when nothing matched."""

    intent: str | None
    intent_score: float
    intent_margin: float
    tier: str | None
    tier_score: float
    decisive: bool = False  # a misleading-keyword rule fixed the intent


@functools.lru_cache(maxsize=8)
def _hits(text: str) -> tuple[bool, ...]:
    """Which rules fire (intent rules, then tier rules); cached because both the
    pattern vote and the semantic head's rule tokens ask for the same request."""
    return tuple(bool(pattern.search(text)) for _, _, pattern in (*_INTENT_RULES, *_TIER_RULES))


def _scores(text: str, tiers: bool) -> dict[str, float]:
    hits = _hits(text)
    rules = _TIER_RULES if tiers else _INTENT_RULES
    offset = len(_INTENT_RULES) if tiers else 0
    totals: dict[str, float] = {}
    for i, (label, weight, _) in enumerate(rules):
        if hits[offset + i]:
            totals[label] = totals.get(label, 0.0) + weight
    return totals


def classify(text: str) -> PatternResult:
    """Score ``text`` against the rules; abstain on an axis when nothing fires."""
    intents = _scores(text, tiers=False)
    ranked = sorted(intents.items(), key=lambda kv: kv[1], reverse=True)
    intent: str | None = None
    score = margin = 0.0
    if ranked and ranked[0][1] >= _MIN_SCORE:
        intent, score = ranked[0]
        margin = score - (ranked[1][1] if len(ranked) > 1 else 0.0)
    decisive = False
    for label, pattern in _DECISIVE:
        if pattern.search(text):
            intent, decisive = label, True
            score, margin = max(score, 5.0), max(margin, 5.0)
            break
    tiers = _scores(text, tiers=True)
    tier: str | None = None
    tier_score = 0.0
    if tiers:
        # Higher stakes win ties: under-routing a hard task costs more than over-routing.
        order = {"silver": 0, "gold": 1, "platinum": 2, "diamond": 3}
        tier, tier_score = max(tiers.items(), key=lambda kv: (kv[1], order[kv[0]]))
        if tier_score < _MIN_SCORE:
            tier, tier_score = None, 0.0
    return PatternResult(intent, score, margin, tier, tier_score, decisive)


def signature() -> str:
    """The rules' text and weights in order (a fitted head depends on them)."""
    return "\n".join(f"{label} {weight} {pattern.flags} {pattern.pattern}"
                     for label, weight, pattern in (*_INTENT_RULES, *_TIER_RULES))


def features(text: str) -> list[float]:
    """One 0/1 per rule (intent rules, then tier rules): inputs for a fitted head."""
    return [1.0 if hit else 0.0 for hit in _hits(text)]
