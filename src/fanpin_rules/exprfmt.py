"""Print expressions back as policy text (canonical spacing, minimal parentheses).

Used by traces (the text of a condition), by the formatter and by "computed as"
lines where names are replaced by their values.

>>> from fanpin_rules.parser import parse
>>> e = parse("let a = (x + y) * 2 > 3 and not b").items[0].expr
>>> to_text(e)
'(x + y) * 2 > 3 and not b'
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

from fanpin_rules import ast

# binding strength: higher binds tighter
_PREC = {
    "if": 0,
    "or": 1,
    "and": 2,
    "not": 3,
    "cmp": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "∩": 6,
    "∪": 6,
    "neg": 7,
    "atom": 8,
}

Substitute = Callable[[ast.Expr], str | None]


def quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def number_text(d: Decimal) -> str:
    return format(d, "f")


def _prec(e: ast.Expr) -> int:
    if isinstance(e, ast.If):
        return _PREC["if"]
    if isinstance(e, ast.Or):
        return _PREC["or"]
    if isinstance(e, ast.And):
        return _PREC["and"]
    if isinstance(e, ast.Not):
        return _PREC["not"]
    if isinstance(e, ast.Compare | ast.In | ast.Between | ast.IsPred):
        return _PREC["cmp"]
    if isinstance(e, ast.BinOp):
        return _PREC[e.op]
    if isinstance(e, ast.Neg):
        return _PREC["neg"]
    if isinstance(e, ast.Number) and e.value < 0:
        return _PREC["neg"]
    return _PREC["atom"]


def to_text(e: ast.Expr, sub: Substitute | None = None) -> str:
    """Canonical text of an expression; ``sub`` may replace any node by a text."""

    def p(x: ast.Expr, min_prec: int) -> str:
        s = t(x)
        return f"({s})" if _prec(x) < min_prec else s

    def t(x: ast.Expr) -> str:
        if sub is not None:
            replaced = sub(x)
            if replaced is not None:
                return replaced
        if isinstance(x, ast.Number):
            return number_text(x.value)
        if isinstance(x, ast.Date):
            return x.value.isoformat()
        if isinstance(x, ast.String):
            return quote(x.value)
        if isinstance(x, ast.Bool):
            return "true" if x.value else "false"
        if isinstance(x, ast.SetLit):
            return "{" + ", ".join(t(i) for i in x.items) + "}"
        if isinstance(x, ast.Name):
            return x.name
        if isinstance(x, ast.RuleRef):
            return x.rule_id
        if isinstance(x, ast.Attr):
            return f"{p(x.obj, _PREC['atom'])}.{x.name}"
        if isinstance(x, ast.Call):
            args = ", ".join(t(a) for a in x.args)
            if x.where is not None:
                args += f" where {t(x.where)}"
            if x.body is not None:
                args += f": {t(x.body)}"
            return f"{x.func}({args})"
        if isinstance(x, ast.BinOp):
            pr = _PREC[x.op]
            return f"{p(x.left, pr)} {x.op} {p(x.right, pr + 1)}"
        if isinstance(x, ast.Compare):
            return f"{p(x.left, 5)} {x.op} {p(x.right, 5)}"
        if isinstance(x, ast.In):
            op = "not in" if x.negated else "in"
            return f"{p(x.left, 5)} {op} {p(x.right, 5)}"
        if isinstance(x, ast.Between):
            return f"{p(x.value, 5)} between {p(x.low, 5)} and {p(x.high, 5)}"
        if isinstance(x, ast.IsPred):
            return f"{p(x.value, 5)} is {'not ' if x.negated else ''}{x.pred}"
        if isinstance(x, ast.And):
            return f"{p(x.left, 2)} and {p(x.right, 3)}"
        if isinstance(x, ast.Or):
            return f"{p(x.left, 1)} or {p(x.right, 2)}"
        if isinstance(x, ast.Not):
            return f"not {p(x.operand, 3)}"
        if isinstance(x, ast.Neg):
            return f"-{p(x.operand, 7)}"
        if isinstance(x, ast.If):
            return f"if {t(x.cond)} then {t(x.then)} else {p(x.else_, 0)}"
        raise AssertionError(type(x).__name__)

    return t(e)


def conjuncts(e: ast.Expr) -> list[ast.Expr]:
    """The top-level ``and`` chain of a condition, left to right."""
    if isinstance(e, ast.And):
        return conjuncts(e.left) + conjuncts(e.right)
    return [e]


def cell_text(cell: ast.Cell) -> str:
    """A decision-table cell as written: ``-``, ``>= 10``, ``[1..5)``, ``not("a", "b")``.

    >>> from fanpin_rules.parser import parse
    >>> t = parse('table t hit first { | id | x || o | | T-1 | [1..5), 7 || 1 | }').items[0]
    >>> cell_text(t.rows[0].cells[0])
    '[1..5), 7'
    """
    if isinstance(cell, ast.CellAny):
        return "-"
    parts = []
    for t in cell.tests:
        if isinstance(t, ast.TestCompare):
            parts.append(f"{t.op} {to_text(t.value)}")
        elif isinstance(t, ast.TestRange):
            lo = "[" if t.low_closed else "("
            hi = "]" if t.high_closed else ")"
            parts.append(f"{lo}{to_text(t.low)}..{to_text(t.high)}{hi}")
        else:
            parts.append(to_text(t.value))
    text = ", ".join(parts)
    return f"not({text})" if cell.negated else text
