"""The secrets scanner: real shapes are caught, look-alikes and placeholders are not."""

from __future__ import annotations

import pytest

from atlas_git.core.secrets import is_secret_path, redact, scan_text

# Built by concatenation so this file does not itself look like it holds secrets.
GH = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
AWS_ID = "AKIA" + "Z7Q2KX4M9PLR3TWB"
AWS_SK = "k9Zq4Xv2Lm8Np3Rt7Wy1Bc6Df0Gh5Jk" + "2Ls9Qa4Ez"
OPENAI = "sk-proj-" + "Q3x9Lr2Vb7Nm4Kp8Zt1Wy6Hc5Jd0Fg3Sa9"
ANTHROPIC = "sk-ant-api03-" + "Zx8Qw3Er6Ty1Ui4Op7As2Df5Gh9Jk0Lz3Xc6Vb8Nm1"
OPENROUTER = "sk-or-v1-" + "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
GOOGLE = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
STRIPE = "sk_live_" + "51H8zQ2eZvKYlo2C9x7Wq3Rt"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
       + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PEM = ("-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2BmlHNVhZk\n"
       "b2s9GxQ8Zk3yL1mN4pQ7rS0tU3vW6xY9zA2bC5dE8fG1hI4j\n-----END RSA " + "PRIVATE KEY-----")


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (f'token = "{GH}"', "github_token"),
        (f"GITHUB_TOKEN={'github_pat_' + '11ABCDEFG0' * 6}", "github_token"),
        (f"aws_access_key_id = {AWS_ID}", "aws_access_key_id"),
        (f'AWS_SECRET_ACCESS_KEY="{AWS_SK}"', "aws_secret_access_key"),
        (f'client = OpenAI(api_key="{OPENAI}")', "openai_key"),
        (f"key: {ANTHROPIC}", "anthropic_key"),
        (f"OPENROUTER_API_KEY={OPENROUTER}", "openrouter_key"),
        (f"slack = '{SLACK}'", "slack_token"),
        ("//registry.npmjs.org/:_authToken=npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "npm_token"),
        ("GITLAB=glpat-" + "x9Yz8W7v6U5t4S3r2Q1p", "gitlab_token"),
        ("hf = 'hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh'", "huggingface_token"),
        (f"const k = '{GOOGLE}';", "google_api_key"),
        (f"stripe.api_key = '{STRIPE}'", "stripe_key"),
        (f"Authorization: Bearer {JWT}", "jwt"),
        ("DATABASE_URL=postgres://app:" + "Xk93mQ2vLp@db.internal:5432/app", "url_credentials"),
        ('db_password = "Tr0ub' + '4dor&3horse"', "generic_credential"),
        ('"client_secret": "9f8e7d6c' + '5b4a39281706f5e4d3c2b1a0"', "generic_credential"),
        ("API_KEY=3f9a8b7c" + "6d5e4f3a2b1c0d9e", "generic_credential"),
        (PEM, "private_key"),
        ('key = "' + PEM.replace("\n", "\\n") + '"', "private_key"),
    ],
)
def test_true_positives(text: str, rule: str) -> None:
    matches = scan_text(text)
    assert [m.rule for m in matches] == [rule], matches


@pytest.mark.parametrize(
    "text",
    [
        'password = os.environ["DB_PASSWORD"]',
        "token = None",
        'password = ""',
        'password = "changeme"',
        'api_key = "<your-key>"',
        'api_key = "xxxxxxxxxxxxxxxx"',
        'secret = "${SECRET}"',
        "TOKEN=${GITHUB_TOKEN}",
        'password = getpass.getpass("Password: ")',
        "self.token = token",
        "max_tokens = 4096",
        'token_type = "bearer"',
        'api_key = "your_api_key_here"',
        "password: ${{ secrets.DB_PASSWORD }}",
        'password = "%(password)s"',
        "url = f'postgres://{user}:{password}@{host}/db'",
        "postgres://postgres:postgres@localhost:5432/test",
        "https://user:password@example.com/",
        "ssh://git@github.com/org/repo.git",
        "http://localhost:8080/path?a=b",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "pip install scikit-learn  # sk-learn-compatible-estimator-wrapper",
        "if line.startswith('-----BEGIN RSA " + "PRIVATE KEY-----'):",
        "secret_key = settings.SECRET_KEY",
        "token = request.headers.get('Authorization')",
        "tokenizer = load_tokenizer(path)",
        "access_key = accessKeyFromConfig",
        'passwordField.placeholder = "Enter password"',
        "",
    ],
)
def test_false_positives(text: str) -> None:
    assert scan_text(text) == []


def test_line_offsets_and_preview_hide_the_secret() -> None:
    text = f"a = 1\nb = 2\ntoken = '{GH}'\n"
    (m,) = scan_text(text)
    assert m.line == 3
    assert text[m.start:m.end] == GH
    assert m.column == text.splitlines()[2].index(GH)
    assert GH not in m.preview
    assert m.preview == "token = '[REDACTED:github_token]'"


def test_redact_replaces_every_secret_and_keeps_the_rest() -> None:
    text = (f"x = '{GH}'\npassword = 'Xk93m" + "Q2vLp77'\nurl = 'redis://u:Qz8w" + "X2pL9m@h:6379'\n"
            "plain = 1\n")
    out, matches = redact(text)
    assert [m.rule for m in matches] == ["github_token", "generic_credential", "url_credentials"]
    assert GH not in out and "Xk93mQ2vLp77" not in out and "Qz8wX2pL9m" not in out
    assert "x = '[REDACTED:github_token]'" in out
    assert "url = 'redis://u:[REDACTED:url_credentials]@h:6379'" in out
    assert out.endswith("plain = 1\n")
    assert redact("nothing here") == ("nothing here", [])


def test_private_key_block_is_one_match_spanning_lines() -> None:
    text = "header\n" + PEM + "\nfooter\n"
    out, matches = redact(text)
    assert len(matches) == 1 and matches[0].line == 2
    assert out == "header\n[REDACTED:private_key]\nfooter\n"


def test_overlapping_rules_report_once() -> None:
    # A GitHub token in a generic assignment is reported once, by the specific rule.
    assert [m.rule for m in scan_text(f'api_token = "{GH}"')] == ["github_token"]


def test_huge_and_odd_text_is_fast_and_safe() -> None:
    blob = ("x = 1\n" * 200_000) + "\udcff\x00" + f"k='{GH}'"
    assert [m.rule for m in scan_text(blob)] == ["github_token"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".env", True), ("app/.env", True), (".env.local", True), (".env.production", True),
        ("prod.env", True), (".env.example", False), (".env.sample", False),
        ("config/.env.template", False), ("server.pem", True), ("tls/private.key", True),
        ("id_rsa", True), ("home/.ssh/id_ed25519", True), ("id_rsa.pub", False),
        ("cert.p12", True), (".npmrc", True), (".pypirc", True), (".aws/credentials", True),
        ("credentials.json", True), ("src/env.py", False), ("environment.yml", False),
        ("README.md", False), ("keys.py", False), ("", False),
    ],
)
def test_is_secret_path(path: str, expected: bool) -> None:
    assert is_secret_path(path) is expected


def test_offsets_stay_right_when_lower_casing_changes_length() -> None:
    text = "name = 'İstanbul İzmir'\npassword = 'Xk93m" + "Q2vLp77'\n"
    (m,) = scan_text(text)
    assert m.rule == "generic_credential" and text[m.start:m.end] == "Xk93m" + "Q2vLp77" and m.line == 2


@pytest.mark.parametrize("text", [
    '"AWS::ApiGateway::ApiKey": "48205d4ffd7feba3c91e",',  # a resource type name, not a key
    'api_key = "48205d4ffd7feba3"',  # short hex: an id or a hash
    '"ClientRequestToken": "a8ca07e4-61ec-4399-99f4-19853801bcd5",',  # an idempotency UUID
    'verify_token="eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",',  # truncated in docs
    'password_last_used = "not_supported"',  # an enum value
    "db = 'postgres://user:pass@localhost:5432/app'",
    "'github://org:repo@sha/catalog.yml'",
    "MultiHostUrl('https://foo.com:123,foo:bar@bar.com/path')",
    '"PasswordLastUsed": "2016-09-08T21:47:36Z",',
    '"output_token": "StreamDescription.Shards[-1].ShardId",',
])
def test_more_false_positives(text: str) -> None:
    assert scan_text(text) == []
