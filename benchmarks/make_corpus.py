"""Build a git repository of real code changes for ``apply_bench.py``.

Downloads successive source releases of a few pure-Python packages from PyPI
(``pip download --no-binary :all:``) and commits, release after release, each
changed file as its own commit: real diffs of real code, of modest size.

    python benchmarks/make_corpus.py /tmp/atlas-corpus
    python benchmarks/apply_bench.py /tmp/atlas-corpus
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

DEFAULT = {
    "click": ["7.0", "7.1", "7.1.1", "7.1.2", "8.0.0", "8.0.1", "8.0.2", "8.0.3", "8.0.4",
              "8.1.0", "8.1.2", "8.1.3", "8.1.4", "8.1.5", "8.1.6", "8.1.7"],
    "attrs": ["21.2.0", "21.3.0", "21.4.0", "22.1.0", "22.2.0", "23.1.0", "23.2.0"],
}
_TEXT_SUFFIXES = {".py", ".rst", ".txt", ".md", ".cfg", ".toml", ".ini", ".in", ".yml", ".yaml", ".pyi"}
_MAX_BYTES = 200_000


def _git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "corpus", "GIT_AUTHOR_EMAIL": "corpus@example.com",
           "GIT_COMMITTER_NAME": "corpus", "GIT_COMMITTER_EMAIL": "corpus@example.com",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, check=True)
    return proc.stdout


def _find(package: str, version: str, cache: Path) -> list[Path]:
    # sdist names vary in case and separator (Click-7.0.tar.gz, attrs-23.2.0.tar.gz).
    stem = f"{package}-{version}".lower().replace("_", "-")
    return [p for p in cache.iterdir()
            if p.name.lower().replace("_", "-") in (stem + ".tar.gz", stem + ".zip")]


def _download(package: str, version: str, cache: Path) -> Path:
    found = _find(package, version, cache)
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             f"{package}=={version}", "-d", str(cache)],
            check=True,
        )
        found = _find(package, version, cache)
    if not found:
        raise SystemExit(f"no sdist for {package}=={version}")
    return found[0]


def _files(root: Path) -> dict[str, bytes]:
    out = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if (path.is_file() and not path.is_symlink() and path.suffix in _TEXT_SUFFIXES
                and ".egg-info" not in rel and path.name != "PKG-INFO"):
            data = path.read_bytes()
            if len(data) <= _MAX_BYTES and b"\0" not in data:
                out[rel] = data
    return out


def build(out: Path, packages: dict[str, list[str]], cache: Path) -> int:
    """Create the corpus repository at ``out``; return the number of commits made."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    _git(out, "init", "-q", "-b", "main")
    commits = 0
    for package, versions in packages.items():
        current: dict[str, bytes] = {}
        for version in versions:
            archive = _download(package, version, cache)
            with tempfile.TemporaryDirectory() as tmp:
                if archive.name.endswith(".zip"):
                    with zipfile.ZipFile(archive) as zf:
                        zf.extractall(tmp)
                else:
                    with tarfile.open(archive) as tar:
                        tar.extractall(tmp, filter="data")
                top = next(Path(tmp).iterdir())
                new = _files(top)
            for rel in sorted(set(current) | set(new)):
                if current.get(rel) == new.get(rel):
                    continue
                target = out / package / rel
                if rel in new:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(new[rel])
                else:
                    target.unlink()
                _git(out, "add", "-A", "--", f"{package}/{rel}")
                _git(out, "commit", "-q", "-m", f"{package} {version}: {rel}")
                commits += 1
            current = new
    return commits


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "atlas-sdists")
    parser.add_argument("--package", action="append", default=[], metavar="NAME=V1,V2,...",
                        help="use these releases instead of the defaults (repeatable)")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    packages = DEFAULT
    if args.package:
        packages = {}
        for spec in args.package:
            name, _, versions = spec.partition("=")
            packages[name.strip()] = [v.strip() for v in versions.split(",") if v.strip()]
    n = build(args.out, packages, args.cache)
    print(f"{args.out}: {n} commits")


if __name__ == "__main__":
    main()
