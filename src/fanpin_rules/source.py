"""Source text and spans: where every diagnostic and trace line points to."""

from __future__ import annotations

from pathlib import Path

import attrs

__all__ = ["Source", "Span"]


@attrs.frozen
class Source:
    """A policy file's text and the name it is reported under.

    >>> Source("a.policy", "x\\ny").line(2)
    'y'
    """

    path: str
    text: str

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        p = Path(path)
        return cls(str(p), p.read_text(encoding="utf-8-sig"))

    def line(self, lineno: int) -> str:
        lines = self.text.splitlines()
        if 1 <= lineno <= len(lines):
            return lines[lineno - 1]
        return ""


@attrs.frozen(order=True)
class Span:
    """A region of a source file: 1-based line and column, end exclusive.

    >>> Span("a.policy", 3, 5, 3, 9).where()
    'a.policy:3:5'
    """

    path: str
    line: int
    col: int
    end_line: int
    end_col: int

    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.path,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
        }


NOWHERE = Span("<builtin>", 0, 0, 0, 0)
