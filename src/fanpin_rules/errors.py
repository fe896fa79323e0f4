"""One error root for everything a policy writer, an integrator or a batch can meet.

Every error that points into a policy carries :class:`Diagnostic` records with a
:class:`~fanpin_rules.source.Span`; rendering them (caret snippets, JSON) lives in
:mod:`fanpin_rules.render`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import attrs

from fanpin_rules.source import Span

__all__ = [
    "Diagnostic",
    "EvaluationError",
    "FanpinError",
    "HouseholdInputError",
    "InputIssue",
    "MessageError",
    "PolicyCheckError",
    "PolicyLoadError",
    "PolicySyntaxError",
    "Severity",
]

Severity = Literal["error", "warning", "info"]


@attrs.frozen
class Diagnostic:
    """A finding about policy text: code, bilingual message, where, and how to fix it.

    >>> d = Diagnostic("F201", "error", "未知名称", "unknown name", None)
    >>> d.message("en")
    'unknown name'
    """

    code: str
    severity: Severity
    message_zh: str
    message_en: str
    span: Span | None
    hint_zh: str = ""
    hint_en: str = ""
    law_ref: str = ""

    def message(self, lang: str = "zh") -> str:
        return self.message_en if lang == "en" else self.message_zh

    def hint(self, lang: str = "zh") -> str:
        return self.hint_en if lang == "en" else self.hint_zh

    def sort_key(self) -> tuple[str, int, int, str]:
        s = self.span
        if s is None:
            return ("", 0, 0, self.code)
        return (s.path, s.line, s.col, self.code)

    def to_json(self, lang: str = "zh") -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message(lang),
            "hint": self.hint(lang),
            "span": self.span.to_json() if self.span else None,
        }


class FanpinError(Exception):
    """Root of every error the library raises on purpose."""


class MessageError(FanpinError):
    """An error that is one bilingual message (``.message``); pickles with it.

    The base of the errors that carry nothing else: subclass it and write a docstring.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message,))


class PolicyLoadError(MessageError):
    """A policy or an included file could not be found or read."""


class _DiagnosticsError(FanpinError):
    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(
            sorted(diagnostics, key=Diagnostic.sort_key)
        )
        # lead with the first error; notes and warnings only when there is no error
        errors = [d for d in self.diagnostics if d.severity == "error"]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        text = "" if first is None else f"{first.code} {first.message_en}"
        if first is not None and first.span is not None:
            text = f"{first.span.where()}: {text}"
        if len(self.diagnostics) > 1:
            text += f" (and {len(self.diagnostics) - 1} more)"
        super().__init__(text)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.diagnostics,))

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")


class PolicySyntaxError(_DiagnosticsError):
    """The policy text does not follow the grammar."""


class PolicyCheckError(_DiagnosticsError):
    """The policy parsed but the checker found errors (names, types, tables, ...)."""


@attrs.frozen
class InputIssue:
    """One problem with one field of one input record.

    ``path`` names the field as ``members[2].labor_skill``; ``row`` is the 1-based
    line or row of the record in its file, when it came from a file.
    """

    path: str
    reason_zh: str
    reason_en: str
    hint_zh: str = ""
    hint_en: str = ""

    def reason(self, lang: str = "zh") -> str:
        return self.reason_en if lang == "en" else self.reason_zh

    def to_json(self, lang: str = "zh") -> dict[str, str]:
        hint = self.hint_en if lang == "en" else self.hint_zh
        return {"field": self.path, "reason": self.reason(lang), "hint": hint}


class HouseholdInputError(FanpinError):
    """A household record breaks the declared input schema; the record is rejected."""

    def __init__(
        self,
        issues: Sequence[InputIssue],
        household_id: str | None = None,
        source: str | None = None,
        row: int | None = None,
    ) -> None:
        self.issues = tuple(issues)
        self.household_id = household_id
        self.source = source
        self.row = row
        where = ""
        if source is not None:
            where = f"{source}:{row}: " if row is not None else f"{source}: "
        first = self.issues[0] if self.issues else None
        text = where + ("" if first is None else f"{first.path}: {first.reason_en}")
        if len(self.issues) > 1:
            text += f" (and {len(self.issues) - 1} more)"
        super().__init__(text)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.issues, self.household_id, self.source, self.row))

    def to_json(self, lang: str = "zh") -> dict[str, object]:
        return {
            "household_id": self.household_id,
            "source": self.source,
            "row": self.row,
            "issues": [i.to_json(lang) for i in self.issues],
        }


class EvaluationError(FanpinError):
    """Evaluation failed for a reason the checker could not foresee (a bug or bad data)."""

    def __init__(self, message: str, span: Span | None = None) -> None:
        self.message = message
        self.span = span
        super().__init__(f"{span.where()}: {message}" if span else message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.span))
