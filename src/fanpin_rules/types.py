"""Value types of the policy language and how they combine."""

from __future__ import annotations

import attrs

__all__ = ["BUILTIN_TYPES", "T"]

_ZH = {
    "money": "金额",
    "int": "整数",
    "number": "数值",
    "bool": "是/否",
    "date": "日期",
    "text": "文字",
    "strlit": "文字",
    "intlit": "整数",
    "any": "任意",
}


@attrs.frozen
class T:
    """A type: ``T("money")``, ``T("enum", "健康状况")``, ``T("list", elem=T(...))``.

    >>> T("list", elem=T("enum", "风险类型")).show("en")
    'list of enum 风险类型'
    """

    kind: str
    name: str | None = None
    elem: T | None = None

    def show(self, lang: str = "zh") -> str:
        if self.kind in ("list", "set") and self.elem is not None:
            inner = self.elem.show(lang)
            if lang == "en":
                return f"{self.kind} of {inner}"
            return f"{inner}的{'列表' if self.kind == 'list' else '集合'}"
        if self.kind == "enum":
            return f"enum {self.name}" if lang == "en" else f"枚举 {self.name}"
        if self.kind == "record":
            return f"record {self.name}" if lang == "en" else f"记录 {self.name}"
        if lang == "en":
            return {"strlit": "text", "intlit": "int"}.get(self.kind, self.kind)
        return _ZH.get(self.kind, self.kind)

    @property
    def numeric(self) -> bool:
        return self.kind in ("money", "int", "number", "intlit")

    @property
    def collection(self) -> bool:
        return self.kind in ("list", "set")

    @property
    def textual(self) -> bool:
        return self.kind in ("text", "strlit", "enum")


MONEY = T("money")
INT = T("int")
NUMBER = T("number")
BOOL = T("bool")
DATE = T("date")
TEXT = T("text")
STRLIT = T("strlit")
# a whole number written in the policy: a count next to counts, money next to money
INTLIT = T("intlit")
ANY = T("any")

BUILTIN_TYPES: dict[str, T] = {
    "money": MONEY,
    "金额": MONEY,
    "int": INT,
    "整数": INT,
    "number": NUMBER,
    "数值": NUMBER,
    "bool": BOOL,
    "是否": BOOL,
    "date": DATE,
    "日期": DATE,
    "text": TEXT,
    "文字": TEXT,
}


def compatible(a: T, b: T) -> bool:
    """Whether values of the two types can be compared with each other."""
    if a.kind == "any" or b.kind == "any":
        return True
    if a.numeric and b.numeric:
        # money compares with money or a plain number, not with a count
        return {a.kind, b.kind} != {"money", "int"}
    if a.textual and b.textual:
        if a.kind == "enum" and b.kind == "enum":
            return a.name == b.name
        return not ("text" in (a.kind, b.kind) and "enum" in (a.kind, b.kind))
    if a.collection and b.collection:
        return a.elem is None or b.elem is None or compatible(a.elem, b.elem)
    return a.kind == b.kind and a.name == b.name


def _settle(a: T, b: T) -> tuple[T, T]:
    """A written whole number takes the kind of the other side (int or money)."""
    if a.kind == "intlit" and b.kind == "intlit":
        return INT, INT
    if a.kind == "intlit":
        return (b if b.kind in ("int", "money") else NUMBER), b
    if b.kind == "intlit":
        return a, (a if a.kind in ("int", "money") else NUMBER)
    return a, b


def arith(op: str, a: T, b: T) -> T | None:
    """Result type of ``a op b`` for + - * /, or None when not allowed.

    >>> arith("-", T("int"), INTLIT).kind, arith("*", MONEY, INTLIT).kind
    ('int', 'money')
    """
    if a.kind == "any" or b.kind == "any":
        return ANY
    if a.kind == "intlit" and b.kind == "intlit" and op in "+-*":
        return INTLIT
    if op == "*" and "intlit" in (a.kind, b.kind):
        # scaling by a written whole number: 2 × money is money, 2 × count is a count
        other = b if a.kind == "intlit" else a
        return other if other.numeric else None
    a, b = _settle(a, b)
    if not (a.numeric and b.numeric):
        return None
    kinds = {a.kind, b.kind}
    if op in "+-":
        if kinds == {"money", "int"}:
            return None
        if "money" in kinds:
            return MONEY
        if kinds == {"int"}:
            return INT
        return NUMBER
    if op == "*":
        if kinds == {"money"}:
            return None
        if "money" in kinds:
            return MONEY
        return INT if kinds == {"int"} else NUMBER
    # division
    if a.kind == "money" and b.kind != "money":
        return MONEY
    return NUMBER


def unify(a: T, b: T) -> T | None:
    """The common type of two branches / set members, or None."""
    if a == b:
        return a
    if a.kind == "any":
        return b
    if b.kind == "any":
        return a
    if "intlit" in (a.kind, b.kind) and a.numeric and b.numeric:
        a, b = _settle(a, b)
        if a == b:
            return a
    if a.numeric and b.numeric and compatible(a, b):
        if "money" in (a.kind, b.kind):
            return MONEY
        return NUMBER
    if a.kind == "strlit" and b.textual:
        return b
    if b.kind == "strlit" and a.textual:
        return a
    if a.collection and b.collection and a.elem is not None and b.elem is not None:
        e = unify(a.elem, b.elem)
        return None if e is None else T("set", elem=e)
    return None
