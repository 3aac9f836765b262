"""Parse ``git diff`` into files, hunks and added line numbers (new side).

One git process gives both the exact file list (``--raw -z``: statuses, modes,
full blob ids, verbatim paths) and the hunks (``-p -U0``). Contents are read
by blob id through ``git cat-file --batch``, so a staged review reads the
index, never the working tree, and a range review reads the commits.

Handled on purpose: renames and copies, deletions, binary files, mode-only
changes, type changes (file <-> symlink: two patch sections for one entry),
submodules, an unborn HEAD (``git diff --cached`` compares with the empty
tree there), a detached HEAD, odd bytes in names and contents.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from atlas_git.adapters import git
from atlas_git.errors import UsageError

_HUNK = re.compile(r"^@@@* -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NULL_SHA = re.compile(r"^0+$")
SUBMODULE_MODE = "160000"
SYMLINK_MODE = "120000"


@dataclass(frozen=True)
class Selection:
    """What to review: the index against HEAD, or one commit range."""

    kind: str  # "staged" | "range"
    revs: tuple[str, ...] = ()  # arguments for `git diff` (range only)
    label: str = "staged changes"


@dataclass
class Hunk:
    """One ``@@`` hunk: its header numbers and its ``+``/``-`` lines (prefix kept)."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: list[str] = field(default_factory=list)


@dataclass
class FileDiff:
    """One changed path. ``path`` is the new path (the old one for deletions)."""

    path: str
    old_path: str
    status: str  # A M D R C T
    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)
    added: list[int] = field(default_factory=list)  # new-side line numbers, ascending
    added_text: dict[int, str] = field(default_factory=dict)  # line number -> added line

    @property
    def deleted(self) -> bool:
        return self.status == "D"

    @property
    def is_new(self) -> bool:
        return self.status in ("A", "C") or (self.status == "T" and not self.old_sha)

    @property
    def is_submodule(self) -> bool:
        return SUBMODULE_MODE in (self.new_mode, self.old_mode)

    @property
    def is_symlink(self) -> bool:
        return self.new_mode == SYMLINK_MODE

    @property
    def has_content(self) -> bool:
        """True when there is a regular new-side blob worth checking."""
        return (not self.deleted and not self.is_submodule and not self.is_symlink
                and bool(self.new_sha))


def empty_tree(cwd: str | os.PathLike[str] | None = None) -> str:
    """The empty tree's id in this repository's hash (SHA-1 or SHA-256)."""
    _, out, _ = git.run(["hash-object", "-t", "tree", "--stdin"], cwd=cwd, input=b"")
    return out.strip()


def select(*, staged: bool = False, base: str | None = None, rev_range: str | None = None,
           env: dict[str, str] | None = None) -> Selection:
    """Turn the command-line selector into a :class:`Selection`.

    ``--base REF`` reviews what HEAD adds since it forked from REF (``REF...HEAD``).
    ``A..B`` diffs A against B, ``A...B`` diffs their merge base against B; an empty
    side means HEAD. Under ``pre-commit run --hook-stage pre-push`` with no selector,
    ``PRE_COMMIT_FROM_REF``/``PRE_COMMIT_TO_REF`` select the pushed range.
    """
    chosen = [name for name, on in (("--staged", staged), ("--base", base is not None),
                                    ("RANGE", rev_range is not None)) if on]
    if len(chosen) > 1:
        raise UsageError(f"choose one of --staged, --base REF or RANGE (got {', '.join(chosen)})")
    environ = os.environ if env is None else env
    if not chosen and environ.get("PRE_COMMIT_FROM_REF") and environ.get("PRE_COMMIT_TO_REF"):
        rev_range = f"{environ['PRE_COMMIT_FROM_REF']}...{environ['PRE_COMMIT_TO_REF']}"
    if base is not None:
        if not base or base.startswith("-"):
            raise UsageError(f"invalid --base {base!r}")
        return Selection("range", (f"{base}...HEAD",), f"changes since {base}")
    if rev_range is not None:
        sep = "..." if "..." in rev_range else ".."
        left, _, right = rev_range.partition(sep)
        if sep not in rev_range or "-" in (left[:1], right[:1]):
            raise UsageError(f"invalid range {rev_range!r}", hint="use A..B or A...B")
        left, right = left or "HEAD", right or "HEAD"
        revs = (f"{left}...{right}",) if sep == "..." else (left, right)
        return Selection("range", revs, rev_range)
    return Selection("staged")


def _diff_args(selection: Selection) -> list[str]:
    # Machine-stable output whatever the user's config says (diff.noprefix,
    # diff.relative, external diff drivers, textconv, colour).
    args = ["diff", "--raw", "-z", "-p", "-U0", "-M", "--no-abbrev", "--full-index",
            "--no-color", "--no-ext-diff", "--no-textconv", "--no-relative", "--submodule=short"]
    if selection.kind == "staged":
        args.append("--cached")
    else:
        args += ["--end-of-options", *selection.revs] if selection.revs else []
    return args


def diff_files(selection: Selection, paths: Sequence[str] = (), *,
               cwd: str | os.PathLike[str] | None = None) -> list[FileDiff]:
    """Run ``git diff`` for ``selection`` (limited to ``paths``) and parse it."""
    args = _diff_args(selection)
    args += ["--", *paths] if paths else []
    rc, out, err = git.run(args, cwd=cwd, check=False)
    if rc != 0:
        detail = (err.strip().splitlines() or ["git diff failed"])[0]
        if selection.kind == "range":
            raise UsageError(f"cannot review {selection.label}: {detail}",
                             hint="check the revisions exist (git log --oneline)")
        raise git.GitError(args, rc, out, err)
    return parse(out)


def parse(out: str) -> list[FileDiff]:
    """Parse the output of ``git diff --raw -z -p`` (see :func:`diff_files`)."""
    tokens = out.split("\0")
    files: list[FileDiff] = []
    i = 0
    while i < len(tokens) and tokens[i].startswith(":"):
        meta = tokens[i][1:].split(" ")
        status = meta[4][:1] if len(meta) > 4 else "M"
        two = status in ("R", "C")
        old_path = tokens[i + 1] if i + 1 < len(tokens) else ""
        new_path = tokens[i + 2] if two and i + 2 < len(tokens) else old_path
        i += 3 if two else 2
        if status == "U":  # unmerged: no patch section, nothing to review yet
            continue
        old_sha = "" if _NULL_SHA.match(meta[2]) else meta[2]
        new_sha = "" if _NULL_SHA.match(meta[3]) else meta[3]
        files.append(FileDiff(new_path, old_path, status, meta[0], meta[1], old_sha, new_sha))
    patch = "\0".join(tokens[i:]).lstrip("\0")
    _attach_patch(files, patch)
    return files


def _attach_patch(files: list[FileDiff], patch: str) -> None:
    """One pass over the patch; section k belongs to the k-th file of the raw list.

    A type change is printed as a deletion then a creation: its second section
    holds the new side, so a ``T`` entry consumes two sections.
    """
    index = -1
    pending_second = False
    f: FileDiff | None = None
    hunk: Hunk | None = None
    added: list[int] = []
    added_text: dict[int, str] = {}
    new_no = 0
    for line in patch.split("\n"):
        first = line[:1]
        if hunk is not None:
            if first == "+":
                hunk.lines.append(line)
                added.append(new_no)
                added_text[new_no] = line[1:]
                new_no += 1
                continue
            if first == "-":
                hunk.lines.append(line)
                continue
            if first == " ":
                hunk.lines.append(line)
                new_no += 1
                continue
            if first == "\\":  # "\ No newline at end of file"
                continue
        if line.startswith("diff --git ") or line.startswith("diff --cc "):
            hunk = None
            if pending_second:
                pending_second = False
                if f is not None:
                    f.binary, f.hunks, f.added, f.added_text = False, [], [], {}
                    added, added_text = f.added, f.added_text
                continue
            index += 1
            f = files[index] if index < len(files) else None
            pending_second = f is not None and f.status == "T"
            if f is not None:
                added, added_text = f.added, f.added_text
            continue
        if f is None:
            continue
        if first == "@":
            m = _HUNK.match(line)
            if m:
                hunk = Hunk(int(m.group(1)), int(m.group(2) or 1), int(m.group(3)), int(m.group(4) or 1))
                f.hunks.append(hunk)
                new_no = hunk.new_start
        elif hunk is None and (line.startswith("Binary files ") or line == "GIT binary patch"):
            f.binary = True


def blob_sizes(shas: Iterable[str], *, cwd: str | os.PathLike[str] | None = None) -> dict[str, int]:
    """Object sizes in bytes for ``shas`` (missing objects are left out)."""
    wanted = sorted(set(s for s in shas if s))
    if not wanted:
        return {}
    _, out, _ = git.run(["cat-file", "--batch-check"], cwd=cwd, input="\n".join(wanted) + "\n")
    sizes: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].isdigit():
            sizes[parts[0]] = int(parts[2])
    return sizes


def read_blobs(shas: Iterable[str], *, cwd: str | os.PathLike[str] | None = None) -> dict[str, bytes]:
    """Contents of ``shas`` through one ``git cat-file --batch`` process."""
    wanted = sorted(set(s for s in shas if s))
    if not wanted:
        return {}
    _, out, _ = git.run_bytes(["cat-file", "--batch"], cwd=cwd,
                              input=("\n".join(wanted) + "\n").encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    while pos < len(out):
        nl = out.find(b"\n", pos)
        if nl == -1:
            break
        header = out[pos:nl].split()
        pos = nl + 1
        if len(header) != 3 or not header[2].isdigit():
            continue  # "<sha> missing"
        size = int(header[2])
        blobs[header[0].decode()] = out[pos:pos + size]
        pos += size + 1
    return blobs
