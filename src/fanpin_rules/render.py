"""Rendering of diagnostics and decisions for people (kept apart from the data).

>>> from fanpin_rules.source import Span
>>> d = Diagnostic("F201", "error", "未知名称「人均收入」", "unknown name",
...                Span("a.policy", 1, 9, 1, 13), "是不是「人均纯收入」?", "did you mean?")
>>> print(render_diagnostic(d, {"a.policy": "let a = 人均收入 + 1"}))
a.policy:1:9: 错误 F201: 未知名称「人均收入」
  1 | let a = 人均收入 + 1
    |         ^^^^^^^^
    = 提示: 是不是「人均纯收入」?
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fanpin_rules.errors import Diagnostic, HouseholdInputError

# "info" is 说明 in Chinese: 提示 is the label of the hint line.
SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "说明"}
SEVERITY_EN = {"error": "error", "warning": "warning", "info": "note"}


def render_issue(
    where: str,
    severity: str,
    code: str,
    message: str,
    hint: str,
    lang: str,
) -> str:
    """One problem of an imported file (a sheet's cell, a DMN element) in ``lang``:
    ``where: [severity: ][code: ]message`` and the hint on a line of its own; errors carry
    no severity word.

    >>> print(render_issue("t.xlsx 工作表「等级」C5", "warning", "", "格子是空的", "写 -", "zh"))
    t.xlsx 工作表「等级」C5: 警告: 格子是空的
      = 提示: 写 -
    """
    code = f"{code}: " if code else ""
    if lang == "en":
        sev = "" if severity == "error" else f"{severity}: "
        label = "hint"
    else:
        sev = {"warning": "警告: ", "info": "说明: "}.get(severity, "")
        label = "提示"
    out = [f"{where}: {sev}{code}{message}"]
    if hint:
        out.append(f"  = {label}: {hint}")
    return "\n".join(out)


def display_width(text: str) -> int:
    """Terminal columns: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _line_of(path: str, lineno: int, sources: Mapping[str, str] | None) -> str | None:
    text = None
    if sources is not None and path in sources:
        text = sources[path]
    else:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return None
    lines = text.splitlines()
    if 1 <= lineno <= len(lines):
        return lines[lineno - 1]
    if lineno == len(lines) + 1:
        return ""
    return None


def render_diagnostic(
    d: Diagnostic, sources: Mapping[str, str] | None = None, lang: str = "zh"
) -> str:
    """``file:line:col: severity code: message``, the line, a caret, the hint."""
    sev = (SEVERITY_EN if lang == "en" else SEVERITY_ZH).get(d.severity, d.severity)
    where = d.span.where() if d.span is not None and d.span.line > 0 else "<policy>"
    out = [f"{where}: {sev} {d.code}: {d.message(lang)}"]
    if d.span is not None and d.span.line > 0:
        line = _line_of(d.span.path, d.span.line, sources)
        if line is not None:
            num = str(d.span.line)
            pad = " " * len(num)
            line = line.replace("\t", "    ")
            start = max(0, d.span.col - 1)
            if d.span.end_line == d.span.line:
                end = max(start + 1, d.span.end_col - 1)
            else:
                end = max(start + 1, len(line))
            prefix_w = display_width(line[:start])
            caret_w = max(1, display_width(line[start:end]))
            out.append(f"  {num} | {line}")
            out.append(f"  {pad} | {' ' * prefix_w}{'^' * caret_w}")
    hint = d.hint(lang)
    if hint:
        label = "hint" if lang == "en" else "提示"
        pad = " " * (len(str(d.span.line)) if d.span is not None and d.span.line > 0 else 1)
        out.append(f"  {pad} = {label}: {hint}")
    return "\n".join(out)


def render_diagnostics(
    diags: Iterable[Diagnostic], sources: Mapping[str, str] | None = None, lang: str = "zh"
) -> str:
    return "\n\n".join(render_diagnostic(d, sources, lang) for d in diags)


def render_input_error(err: HouseholdInputError, lang: str = "zh") -> str:
    """A rejected record: where it came from, and one line per bad field."""
    where = ""
    if err.source is not None:
        where = f"{err.source}:{err.row}" if err.row is not None else err.source
    who = err.household_id or ("?" if lang == "en" else "未知户编号")
    head = (
        f"{where}: rejected household {who}" if lang == "en" else f"{where}: 户 {who} 的记录被拒收"
    )
    lines = [head.lstrip(": ")]
    for issue in err.issues:
        hint = issue.hint_en if lang == "en" else issue.hint_zh
        field = issue.path or ("(record)" if lang == "en" else "(整条记录)")
        line = f"  - {field}: {issue.reason(lang)}"
        if hint:
            line += f" ({hint})"
        lines.append(line)
    return "\n".join(lines)


STATUS_ZH = {
    "fired": "成立",
    "not_fired": "不成立",
    "undetermined": "待定",
    "overridden": "被覆盖",
    "shadowed": "被优先行取代",
}
TRUTH_ZH = {"true": "是", "false": "否", "unknown": "未知"}


def render_result_text(
    result: Any, lang: str = "zh", only: str | None = None, *, show_pii: bool = False
) -> str:
    """A readable decision: conclusions, derived values, why-not, parameters.

    ``result`` is a :class:`fanpin_rules.policy.Result` with a trace; ``only`` shows one
    rule in full.  Kept here for compatibility: the renderers live in
    :mod:`fanpin_rules.explain` (Markdown, HTML and JSON too).  Personal data is masked
    unless ``show_pii``.
    """
    from fanpin_rules.explain import explain_document, render_text

    return render_text(explain_document(result, show_pii=show_pii), lang, only)


def show_value(v: Any, zh: bool = True) -> str:
    """A JSON-ready value as a person reads it."""
    if v is None:
        return "缺失" if zh else "missing"
    if isinstance(v, bool):
        return ("是" if v else "否") if zh else ("true" if v else "false")
    if isinstance(v, list):
        return "{" + ", ".join(show_value(x, zh) for x in v) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {show_value(x, zh)}" for k, x in v.items()) + "}"
    return str(v)
