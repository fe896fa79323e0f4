"""Helpers called by the generated code of the compiled evaluator.

Each helper is the reference interpreter's rule for one construct (see
:mod:`fanpin_rules.evaluator`), written for values that were already computed: an absent
optional input (``ABSENT``) makes a comparison false and wins over an unknown one, and an
unknown value (:class:`~fanpin_rules.values.Unknown`) carries the missing inputs that
block it.  Where the generated code knows that neither can occur it uses plain Python
operators instead, so these are the slow path.

>>> from decimal import Decimal
>>> lt(Decimal("8299.99"), Decimal("8300")), lt(ABSENT, Unknown(frozenset({"x"})))
(True, False)
>>> add(Decimal(1), Unknown(frozenset({"x"})))
Unknown(missing=frozenset({'x'}))
>>> and2(Unknown(frozenset({"a"})), Unknown(frozenset({"b"}))).missing == {"a", "b"}
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from fanpin_rules import ast
from fanpin_rules.errors import EvaluationError
from fanpin_rules.evaluator import Plan
from fanpin_rules.hitpolicy import table_outcome
from fanpin_rules.source import Span
from fanpin_rules.types import T
from fanpin_rules.values import (
    ABSENT,
    RecordValue,
    Truth,
    Unknown,
    aggregate_value,
    and3,
    apply_function,
    money_text,
    not3,
    or3,
    round_half_up,
    to_json_value,
    truth,
    unknown_of,
)

__all__ = [
    "ABSENT",
    "Materializer",
    "Unknown",
    "add",
    "aggregate_value",
    "and2",
    "and3",
    "attr",
    "call",
    "cell_in",
    "div",
    "eq",
    "ge",
    "gt",
    "in_op",
    "inter",
    "is_empty",
    "is_missing",
    "is_present",
    "json_bool",
    "json_money",
    "le",
    "lt",
    "mul",
    "ne",
    "neg",
    "not3",
    "or2",
    "or3",
    "row_raw",
    "set_lit",
    "sub",
    "table_outcome",
    "truth",
    "union",
    "unknown_of",
]

_CENT = Decimal("0.01")

# ---------------------------------------------------------------- logic


def and2(a: Truth, b: Truth) -> Truth:
    """``and3((a, b))`` for an ``a`` that is already known not to be false."""
    if b is False:
        return False
    if a is True:
        return b
    if b is True:
        return a
    return a | b  # type: ignore[operator]


def or2(a: Truth, b: Truth) -> Truth:
    """``or3((a, b))`` for an ``a`` that is already known not to be true."""
    if b is True:
        return True
    if a is False:
        return b
    if b is False:
        return a
    return a | b  # type: ignore[operator]


# ---------------------------------------------------------------- comparisons


def eq(a: Any, b: Any) -> Truth:
    if a is ABSENT or b is ABSENT:
        return False
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return unknown_of(a, b)  # type: ignore[return-value]
    return bool(a == b)


def ne(a: Any, b: Any) -> Truth:
    if a is ABSENT or b is ABSENT:
        return False
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return unknown_of(a, b)  # type: ignore[return-value]
    return bool(a != b)


def lt(a: Any, b: Any) -> Truth:
    if a is ABSENT or b is ABSENT:
        return False
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return unknown_of(a, b)  # type: ignore[return-value]
    return bool(a < b)


def le(a: Any, b: Any) -> Truth:
    if a is ABSENT or b is ABSENT:
        return False
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return unknown_of(a, b)  # type: ignore[return-value]
    return bool(a <= b)


def gt(a: Any, b: Any) -> Truth:
    if a is ABSENT or b is ABSENT:
        return False
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return unknown_of(a, b)  # type: ignore[return-value]
    return bool(a > b)


def ge(a: Any, b: Any) -> Truth:
    if a is ABSENT or b is ABSENT:
        return False
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return unknown_of(a, b)  # type: ignore[return-value]
    return bool(a >= b)


COMPARE: dict[str, Callable[[Any, Any], Truth]] = {
    "=": eq,
    "!=": ne,
    "<": lt,
    "<=": le,
    ">": gt,
    ">=": ge,
}


def in_op(a: Any, b: Any, negated: bool) -> Truth:
    """Membership or inclusion, as ``Evaluation.in_op``."""
    if a is ABSENT or b is ABSENT:
        return False
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return unknown_of(a, b)  # type: ignore[return-value]
    result = frozenset(a) <= frozenset(b) if isinstance(a, tuple | frozenset) else a in b
    return (not result) if negated else result


def cell_in(v: Any, x: Any) -> Truth:
    """A cell's ``= x`` test: membership when ``x`` is a set, equality otherwise."""
    if isinstance(x, frozenset):
        return unknown_of(v) or (False if v is ABSENT else v in x)
    return eq(v, x)


def is_empty(v: Any) -> Truth:
    if isinstance(v, Unknown):
        return v
    if v is ABSENT or v is None:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    return len(v) == 0


def is_missing(v: Any) -> bool:
    return v is ABSENT or isinstance(v, Unknown)


def is_present(v: Any) -> bool:
    return not (v is ABSENT or isinstance(v, Unknown))


# ---------------------------------------------------------------- arithmetic


def _operands(a: Any, b: Any) -> Any:
    """ABSENT, an Unknown, or None when both operands are values."""
    if a is ABSENT or b is ABSENT:
        return ABSENT
    return unknown_of(a, b)


def add(a: Any, b: Any) -> Any:
    blocked = _operands(a, b)
    return a + b if blocked is None else blocked


def sub(a: Any, b: Any) -> Any:
    blocked = _operands(a, b)
    return a - b if blocked is None else blocked


def mul(a: Any, b: Any) -> Any:
    blocked = _operands(a, b)
    return a * b if blocked is None else blocked


def div(a: Any, b: Any) -> Any:
    blocked = _operands(a, b)
    return Decimal(a) / Decimal(b) if blocked is None else blocked


def inter(a: Any, b: Any) -> Any:
    blocked = _operands(a, b)
    return frozenset(a) & frozenset(b) if blocked is None else blocked


def union(a: Any, b: Any) -> Any:
    blocked = _operands(a, b)
    return frozenset(a) | frozenset(b) if blocked is None else blocked


def neg(v: Any) -> Any:
    if isinstance(v, Unknown) or v is ABSENT:
        return v
    return -v


def set_lit(items: Sequence[Any]) -> Any:
    unk = unknown_of(*items)
    if unk is not None:
        return unk
    return frozenset(i for i in items if i is not ABSENT)


def call(func: str, args: Sequence[Any]) -> Any:
    """round / months / abs / min / max of already evaluated arguments."""
    return apply_function(func, list(args))


# ---------------------------------------------------------------- records


class Materializer:
    """Input records as the interpreter sees them (:class:`RecordValue`), built on demand.

    The generated code reads fields straight from the validated dicts; it builds record
    values only where one is used as a value (a let holding a record, an equality of
    records, a trace observation), with the interpreter's caching so that the same record
    is the same object.
    """

    __slots__ = ("_root", "data", "plan")

    def __init__(self, plan: Plan, data: Mapping[str, Any]) -> None:
        self.plan = plan
        self.data = data
        self._root: RecordValue | None = None

    @property
    def root(self) -> RecordValue:
        if self._root is None:
            assert self.plan.root is not None
            self._root = RecordValue(
                self.plan.root, self.data, "", self.plan.fields[self.plan.root.name]
            )
        return self._root

    def field(self, rv: RecordValue, f: ast.Field) -> Any:
        return rv.get(f, self.plan.wrap)

    def path(self, steps: Sequence[ast.Field | int]) -> Any:
        """The value at ``steps`` from the root: fields and list positions."""
        value: Any = self.root
        for step in steps:
            if isinstance(value, Unknown) or value is ABSENT:
                return value
            value = value[step] if isinstance(step, int) else self.field(value, step)
        return value

    def attr(self, obj: Any, name: str, span: Span) -> Any:
        """``obj.name`` for a record value that did not come straight from the input."""
        if isinstance(obj, Unknown) or obj is ABSENT:
            return obj
        if isinstance(obj, RecordValue):
            return self.field(obj, obj.fields[name])
        if isinstance(obj, dict):
            return obj.get(name, ABSENT)
        raise EvaluationError(f"cannot read .{name} of {obj!r}", span)


def attr(m: Materializer, obj: Any, name: str, span: Span) -> Any:
    return m.attr(obj, name, span)


# ---------------------------------------------------------------- tables


def row_raw(status: dict[int, str], truths: list[Truth], value: Any, index: int) -> Truth:
    """A table row's conclusion before overrides, as ``Evaluation.conclusion``."""
    st = status[index]
    if st == "fired":
        return True
    if st == "undetermined":
        t = truths[index]
        return t if isinstance(t, Unknown) else (unknown_of(value) or Unknown(frozenset()))
    return False


# ---------------------------------------------------------------- JSON


def json_money(v: Any) -> Any:
    """``to_json_value(v, money)``, with the common case inline."""
    if v.__class__ is Decimal:
        return money_text(v)
    return to_json_value(v, _MONEY)


def json_bool(v: Any) -> Any:
    if v.__class__ is bool:
        return v
    return to_json_value(v, _BOOL)


_MONEY = T("money")
_BOOL = T("bool")


def date_iso(v: dt.date) -> str:
    return v.isoformat()


# re-exported for the generated code (one namespace)
__all__ += ["COMPARE", "and3", "not3", "or3", "round_half_up", "to_json_value"]
