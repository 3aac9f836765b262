"""A file's text as lines with their own terminators, so untouched lines stay byte-identical."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TextFile:
    """Lines (without terminators) and each line's terminator ("\\n", "\\r\\n" or "" at EOF)."""

    bodies: list[str]
    eols: list[str]

    @classmethod
    def parse(cls, content: str) -> TextFile:
        parts = content.split("\n")
        bodies: list[str] = []
        eols: list[str] = []
        for part in parts[:-1]:
            if part.endswith("\r"):
                bodies.append(part[:-1])
                eols.append("\r\n")
            else:
                bodies.append(part)
                eols.append("\n")
        if parts[-1]:
            bodies.append(parts[-1])
            eols.append("")
        return cls(bodies, eols)

    @property
    def newline(self) -> str:
        """The file's dominant line terminator."""
        crlf = sum(1 for e in self.eols if e == "\r\n")
        lf = sum(1 for e in self.eols if e == "\n")
        return "\r\n" if crlf > lf else "\n"

    @property
    def final_newline(self) -> bool:
        """Whether the file ends with a line terminator (an empty file counts as yes)."""
        return not self.eols or self.eols[-1] != ""

    def render(self) -> str:
        return "".join(b + e for b, e in zip(self.bodies, self.eols, strict=True))

    def restyle(self, new: str, *, keep_final_newline: bool) -> str:
        """``new`` (LF text) written with this file's newline and final-newline state."""
        if self.newline == "\r\n" and "\r\n" not in new:
            new = new.replace("\n", "\r\n")
        if keep_final_newline and self.bodies and new and not self.final_newline:
            new = new[:-2] if new.endswith("\r\n") else new[:-1] if new.endswith("\n") else new
        return new
