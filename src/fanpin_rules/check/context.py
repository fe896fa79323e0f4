"""State shared by the checker passes: the model, the diagnostics, inferred types."""

from __future__ import annotations

from typing import Protocol

import attrs

from fanpin_rules.errors import Diagnostic, Severity
from fanpin_rules.model import PolicyModel
from fanpin_rules.source import Span
from fanpin_rules.types import T


@attrs.define
class CheckContext:
    model: PolicyModel
    diagnostics: list[Diagnostic] = attrs.Factory(list)
    # canonical name of a let / table / param -> its type
    types: dict[str, T] = attrs.Factory(dict)
    # table name -> types of its output columns
    table_columns: dict[str, dict[str, T]] = attrs.Factory(dict)
    # node key ("let:x", "table:t", "rule:ID-1") -> keys it reads
    deps: dict[str, set[str]] = attrs.Factory(dict)
    used_params: set[str] = attrs.Factory(set)
    used_fields: set[tuple[str, str]] = attrs.Factory(set)
    used_lets: set[str] = attrs.Factory(set)

    def report(
        self,
        code: str,
        severity: Severity,
        span: Span | None,
        zh: str,
        en: str,
        hint_zh: str = "",
        hint_en: str = "",
    ) -> None:
        self.diagnostics.append(Diagnostic(code, severity, zh, en, span, hint_zh, hint_en))

    def error(
        self, code: str, span: Span | None, zh: str, en: str, hz: str = "", he: str = ""
    ) -> None:
        self.report(code, "error", span, zh, en, hz, he)

    def warn(
        self, code: str, span: Span | None, zh: str, en: str, hz: str = "", he: str = ""
    ) -> None:
        self.report(code, "warning", span, zh, en, hz, he)


class CheckPass(Protocol):
    def __call__(self, model: PolicyModel, ctx: CheckContext) -> None: ...
