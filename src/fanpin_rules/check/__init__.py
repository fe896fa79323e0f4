"""The checker: passes listed once, diagnostics collected, raised once.

>>> from fanpin_rules.parser import parse
>>> from fanpin_rules.model import build_model
>>> model, _ = build_model([parse('let a = 人均收入 + 1')])
>>> try:
...     run_checks(model)
... except PolicyCheckError as e:
...     print(e.errors[0].code, e.errors[0].message_en)
F201 unknown name '人均收入'
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from fanpin_rules.analysis.acknowledge import acknowledge, read_sources
from fanpin_rules.analysis.checker import check_analysis
from fanpin_rules.check.context import CheckContext, CheckPass
from fanpin_rules.check.declarations import check_declarations
from fanpin_rules.check.examples import check_examples
from fanpin_rules.check.tables import check_tables
from fanpin_rules.check.typecheck import typecheck
from fanpin_rules.check.usage import check_usage
from fanpin_rules.errors import Diagnostic, PolicyCheckError
from fanpin_rules.model import PolicyModel
from fanpin_rules.types import T

__all__ = ["PASSES", "CheckResult", "run_checks"]

PASSES: tuple[CheckPass, ...] = (
    check_declarations,
    check_tables,
    typecheck,
    check_usage,
    check_examples,
    check_analysis,
)


@attrs.frozen
class CheckResult:
    """A policy that passed the checker: inferred types and the remaining findings."""

    types: dict[str, T]
    table_columns: dict[str, dict[str, T]]
    diagnostics: tuple[Diagnostic, ...]


def run_checks(
    model: PolicyModel,
    prior: list[Diagnostic] | None = None,
    *,
    texts: Mapping[str, str] | None = None,
) -> CheckResult:
    """Run every pass; raise PolicyCheckError once if any error was found.

    ``texts`` (path -> text) holds the acknowledgement comments (``# 已确认 F510: 理由``);
    without it they are read from the modules' files.
    """
    ctx = CheckContext(model, diagnostics=list(prior or []))
    for check in PASSES:
        check(model, ctx)
    if texts is None:
        texts = read_sources(m.path for m in model.modules)
    diags = sorted(acknowledge(ctx.diagnostics, texts), key=Diagnostic.sort_key)
    if any(d.severity == "error" for d in diags):
        raise PolicyCheckError(diags)
    return CheckResult(dict(ctx.types), dict(ctx.table_columns), tuple(diags))
