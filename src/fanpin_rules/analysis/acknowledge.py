"""Acknowledgements: a comment in the policy text that accepts a known, intended finding.

Policy staff write ``# 已确认 F510: 理由`` (or ``# ack F510: reason``) at the end of the
line a diagnostic points to, or on a comment line directly above it (a block of such
comment lines may hold several acknowledgements).  Several codes may share one comment:
``# 已确认 F701, F703: 理由``.

An acknowledged warning or note is not dropped: it becomes a note (``info``) whose message
ends with the reason, so ``fanpin check`` passes while ``fanpin check -v`` and the JSON
output still show what was accepted and why.  Errors cannot be acknowledged (the policy
cannot run with them).  An acknowledgement without a reason (F711), one on an error (F712)
and one that matches no diagnostic (F710, a stale comment) are reported.

>>> from fanpin_rules.source import Span
>>> text = "param 甲: int { 2024-01-01: 1 }   # 已确认 F510: 留作下季度使用\\n"
>>> d = Diagnostic("F510", "warning", "参数「甲」没有被任何规则使用",
...                "parameter '甲' is unused", Span("a.policy", 1, 7, 1, 8))
>>> [(x.code, x.severity, x.message_zh) for x in acknowledge([d], {"a.policy": text})]
[('F510', 'info', '参数「甲」没有被任何规则使用 (已确认: 留作下季度使用)')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from fanpin_rules.errors import Diagnostic
from fanpin_rules.source import Span

__all__ = ["Acknowledgement", "acknowledge", "find_acknowledgements", "read_sources"]

_PRAGMA = re.compile(
    r"^#\s*(?P<word>已确认|ack)\s*(?P<codes>F\d{3}(?:\s*[,，、]\s*F\d{3})*)"
    r"\s*(?:[:：]\s*(?P<reason>.*?))?\s*$",
    re.IGNORECASE,
)
_CODE = re.compile(r"F\d{3}")


@attrs.frozen
class Acknowledgement:
    """One ``# 已确认 Fxxx: 理由`` comment: the codes it accepts, on which line, and why.

    ``target`` is the line whose diagnostics it accepts; ``span`` is where the comment is.
    """

    codes: tuple[str, ...]
    reason: str
    target: int
    span: Span


def _comment_start(line: str) -> int:
    """Index of the ``#`` that starts a comment, ignoring ``#`` inside "strings"; -1 if none.

    >>> _comment_start('rule A-1 when x then "第#1条"  # 注释')
    29
    """
    in_string = False
    escaped = False
    for i, ch in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#":
            return i
    return -1


def find_acknowledgements(path: str, text: str) -> list[Acknowledgement]:
    """Every acknowledgement comment of one file, with the line it applies to.

    A comment after code applies to its own line; a comment alone on its line applies to
    the next line that holds code (blank lines end the block).

    >>> src = "# 已确认 F510: 旧参数\\nparam a: int { 2024-01-01: 1 }\\nlet b = 1  # ack F512\\n"
    >>> [(a.codes, a.target, a.reason) for a in find_acknowledgements("p", src)]
    [(('F510',), 2, '旧参数'), (('F512',), 3, '')]
    """
    lines = text.splitlines()
    found: list[Acknowledgement] = []
    pending: list[tuple[int, int, re.Match[str], int]] = []  # comment-only lines above code
    for lineno, line in enumerate(lines, start=1):
        start = _comment_start(line)
        code_part = line[:start] if start >= 0 else line
        match = _PRAGMA.match(line[start:].strip()) if start >= 0 else None
        if not code_part.strip():
            if start < 0:
                pending.clear()  # a blank line ends a block of comments
            elif match is not None:
                pending.append((lineno, start, match, len(line)))
            continue
        for at, col, m, end in pending:
            found.append(_make(path, at, col, end, m, lineno))
        pending.clear()
        if match is not None:
            found.append(_make(path, lineno, start, len(line), match, lineno))
    return found


def _make(
    path: str, line: int, col: int, end: int, m: re.Match[str], target: int
) -> Acknowledgement:
    codes = tuple(c.upper() for c in _CODE.findall(m.group("codes").upper()))
    reason = (m.group("reason") or "").strip()
    return Acknowledgement(codes, reason, target, Span(path, line, col + 1, line, end + 1))


def read_sources(paths: Iterable[str]) -> dict[str, str]:
    """The texts of the files that exist among ``paths`` (others are skipped)."""
    texts: dict[str, str] = {}
    for p in paths:
        try:
            texts[p] = Path(p).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
    return texts


def acknowledge(diagnostics: Sequence[Diagnostic], texts: Mapping[str, str]) -> list[Diagnostic]:
    """Apply the acknowledgement comments of ``texts`` to ``diagnostics``.

    Returns the diagnostics with acknowledged warnings and notes turned into notes that
    carry the reason, plus F710/F711/F712 findings about the comments themselves.  Stale
    comments (F710) are only reported when there is no error: an error stops the later
    checks, whose findings the comment may be waiting for.
    """
    acks: dict[tuple[str, int], list[Acknowledgement]] = {}
    all_acks: list[Acknowledgement] = []
    for path, text in texts.items():
        for ack in find_acknowledgements(path, text):
            all_acks.append(ack)
            acks.setdefault((path, ack.target), []).append(ack)
    if not all_acks:
        return list(diagnostics)
    used: set[tuple[int, str]] = set()  # (id of the acknowledgement, code)
    out: list[Diagnostic] = []
    for d in diagnostics:
        span = d.span
        match = None
        if span is not None:
            for ack in acks.get((span.path, span.line), ()):
                if d.code in ack.codes:
                    match = ack
                    used.add((id(ack), d.code))
                    break
        if match is None or d.severity == "error":
            out.append(d)
            continue
        reason_zh = match.reason or "未写理由"
        reason_en = match.reason or "no reason given"
        out.append(
            attrs.evolve(
                d,
                severity="info",
                message_zh=f"{d.message_zh} (已确认: {reason_zh})",
                message_en=f"{d.message_en} (acknowledged: {reason_en})",
            )
        )
    has_error = any(d.severity == "error" for d in out)
    errors_at = {
        (d.span.path, d.span.line, d.code) for d in diagnostics if d.severity == "error" and d.span
    }
    for ack in all_acks:
        codes = "、".join(ack.codes)
        codes_en = ", ".join(ack.codes)
        if not ack.reason:
            out.append(
                Diagnostic(
                    "F711",
                    "warning",
                    f"确认注释没有写理由: {codes}",
                    f"the acknowledgement of {codes_en} gives no reason",
                    ack.span,
                    f"在代码后写冒号和理由, 例如 # 已确认 {ack.codes[0]}: 本季度不适用",
                    f"write a colon and the reason, e.g. # ack {ack.codes[0]}: not used this "
                    "quarter",
                )
            )
        for code in ack.codes:
            if (ack.span.path, ack.target, code) in errors_at:
                out.append(
                    Diagnostic(
                        "F712",
                        "warning",
                        f"错误 {code} 不能被确认, 必须改正",
                        f"error {code} cannot be acknowledged; it must be fixed",
                        ack.span,
                        "改正这一行的错误, 然后删除这条确认注释",
                        "fix the error on this line, then remove this comment",
                    )
                )
            elif (id(ack), code) not in used and not has_error:
                out.append(
                    Diagnostic(
                        "F710",
                        "warning",
                        f"确认注释的 {code} 没有对应的诊断 (第 {ack.target} 行没有 {code})",
                        f"nothing to acknowledge: line {ack.target} has no {code}",
                        ack.span,
                        "问题已经不存在时删除这条注释; "
                        "注释要写在诊断所指的那一行末尾或紧邻的上一行",
                        "remove the comment if the finding is gone; put it at the end of the "
                        "line the finding points to, or on the line just above it",
                    )
                )
    return out
