"""The checker pass of the static analysis (F701–F709), repeated for every period.

A *period* is a stretch of dates in which no parameter changes value: the boundaries are
the parameters' effective dates, from the first date on which every parameter has a value.
The analysis runs once per period; a finding names the periods in which it holds.

This module is imported by :mod:`fanpin_rules.check`; it imports the checker's modules
only when it runs, so that either package can be imported first.

>>> from fanpin_rules.parser import parse
>>> from fanpin_rules.model import build_model
>>> text = '''
... record household { household_id: text required  size: int required >= 1 }
... input household key household_id
... param 大户人数: int { 2023-01-01: 5  2024-01-01: 6 }
... table 户型 hit unique {
...   | id  | size       || 户型 |
...   | H-1 | <= 大户人数 || "小户" |
...   | H-2 | >= 大户人数 || "大户" |
... }'''
>>> model, _ = build_model([parse(text)])
>>> for d in analyse(model, {}, {}):
...     print(d.code, d.message_en.split("e.g. ")[1])
F702 size=5 [period: 2023-01-01 to 2023-12-31]
F702 size=6 [period: from 2024-01-01]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fanpin_rules import ast
from fanpin_rules.errors import Diagnostic
from fanpin_rules.model import PolicyModel
from fanpin_rules.types import T

if TYPE_CHECKING:
    from fanpin_rules.analysis.findings import Finding
    from fanpin_rules.analysis.translate import Period
    from fanpin_rules.check.context import CheckContext

__all__ = ["analyse", "check_analysis", "periods"]


def check_analysis(model: PolicyModel, ctx: CheckContext) -> None:
    """Gaps, overlaps, unreachable rows, dead rules, constant conditions (skipped after errors)."""
    if any(d.severity == "error" for d in ctx.diagnostics):
        return
    try:
        found = analyse(model, ctx.types, ctx.table_columns)
    except Exception as exc:  # a defect of the analysis must not stop a policy from loading
        ctx.report(
            "F709",
            "info",
            None,
            f"静态分析出错, 没有完成 ({type(exc).__name__}); 请报告这个问题",
            f"the static analysis failed ({type(exc).__name__}: {exc}); please report it",
        )
        return
    ctx.diagnostics.extend(found)


def periods(model: PolicyModel) -> list[Period]:
    """The periods in which every parameter keeps one value (one period without parameters).

    >>> from fanpin_rules.parser import parse
    >>> from fanpin_rules.model import build_model
    >>> m, _ = build_model([parse('param L: money { 2023-01-01: 7000  2024-01-01: 8300 }')])
    >>> [(p.label("en"), p.values["L"]) for p in periods(m)]
    [('2023-01-01 to 2023-12-31', Decimal('7000')), ('from 2024-01-01', Decimal('8300'))]
    """
    from fanpin_rules.analysis.translate import Period

    params = [p for p in model.params.values() if p.values]
    if not params:
        return [Period(None, None, {})]
    start = max(min(v.effective for v in p.values) for p in params)
    bounds = sorted({v.effective for p in params for v in p.values if v.effective > start})
    starts = [start, *bounds]
    out = []
    for k, day in enumerate(starts):
        end = starts[k + 1] - dt.timedelta(days=1) if k + 1 < len(starts) else None
        values: dict[str, Any] = {}
        for p in params:
            chosen = None
            for v in p.values:
                if v.effective <= day:
                    chosen = v
            if chosen is not None:
                values[p.name] = chosen.value.value
        out.append(Period(day, end, values))
    return out


def analyse(
    model: PolicyModel,
    types: Mapping[str, T],
    table_columns: Mapping[str, Mapping[str, T]],
    budget: int = 200_000,
) -> list[Diagnostic]:
    """Every finding of every period, as diagnostics naming their periods."""
    return [d for d, _ in analyse_findings(model, types, table_columns, budget)]


def analyse_findings(
    model: PolicyModel,
    types: Mapping[str, T],
    table_columns: Mapping[str, Mapping[str, T]],
    budget: int = 200_000,
) -> list[tuple[Diagnostic, list[tuple[Period, Finding]]]]:
    """Diagnostics with the findings they report, each with its period."""
    from fanpin_rules.analysis.findings import Analyzer
    from fanpin_rules.check.context import CheckContext
    from fanpin_rules.check.declarations import HIT_POLICIES
    from fanpin_rules.check.typecheck import Typer

    scratch = CheckContext(
        model, types=dict(types), table_columns={k: dict(v) for k, v in table_columns.items()}
    )
    typer = Typer(model, scratch)

    def type_of(e: ast.Expr) -> T:
        return typer.infer(e, ())

    hit = {name: HIT_POLICIES.get(t.hit.lower(), t.hit) for name, t in model.tables.items()}
    all_periods = periods(model)
    merged: dict[tuple[Any, ...], list[tuple[Period, Finding]]] = {}
    for period in all_periods:
        for f in Analyzer(model, period, type_of, hit, budget).run():
            key = (f.code, f.severity, f.span, f.zh, f.en, f.hint_zh, f.hint_en)
            merged.setdefault(key, []).append((period, f))
    out = []
    named = all_periods[0].start is not None
    for (code, severity, span, zh, en, hz, he), found in merged.items():
        if named:
            zh += " 〔时期: " + "、".join(p.label("zh") for p, _ in found) + "〕"
            en += " [period: " + ", ".join(p.label("en") for p, _ in found) + "]"
        out.append((Diagnostic(code, severity, zh, en, span, hz, he), found))
    return out
