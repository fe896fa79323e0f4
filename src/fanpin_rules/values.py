"""Runtime values: three-valued logic, absent inputs, records, JSON rendering."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import attrs

from fanpin_rules import ast
from fanpin_rules.types import T

__all__ = [
    "ABSENT",
    "RecordValue",
    "Unknown",
    "aggregate_value",
    "and3",
    "is_number_text",
    "money_text",
    "not3",
    "or3",
    "table_json",
    "to_json_value",
    "truth",
]

CENT = Decimal("0.01")


@attrs.frozen
class Unknown:
    """The value of a condition or quantity that depends on a missing required input."""

    missing: frozenset[str]

    def __or__(self, other: Unknown) -> Unknown:
        return Unknown(self.missing | other.missing)


class _Absent:
    """An optional input that was not given and has no default (SPEC §8)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __reduce__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()

Truth = bool | Unknown


def truth(v: object) -> Truth:
    """A value used as a condition: absent counts as false."""
    if isinstance(v, Unknown):
        return v
    if v is ABSENT or v is None:
        return False
    return bool(v)


def unknown_of(*values: object) -> Unknown | None:
    missing: frozenset[str] = frozenset()
    found = False
    for v in values:
        if isinstance(v, Unknown):
            missing |= v.missing
            found = True
    return Unknown(missing) if found else None


def and3(values: Iterable[Truth]) -> Truth:
    """Kleene conjunction: false wins, then unknown."""
    unknown: Unknown | None = None
    for v in values:
        if v is False:
            return False
        if isinstance(v, Unknown):
            unknown = v if unknown is None else unknown | v
    return unknown if unknown is not None else True


def or3(values: Iterable[Truth]) -> Truth:
    """Kleene disjunction: true wins, then unknown."""
    unknown: Unknown | None = None
    for v in values:
        if v is True:
            return True
        if isinstance(v, Unknown):
            unknown = v if unknown is None else unknown | v
    return unknown if unknown is not None else False


def not3(v: Truth) -> Truth:
    return v if isinstance(v, Unknown) else not v


class RecordValue:
    """A validated input record seen through its declaration (fields by key or label)."""

    __slots__ = ("_lists", "data", "decl", "fields", "path")

    def __init__(
        self,
        decl: ast.RecordDecl,
        data: Mapping[str, Any],
        path: str,
        fields: Mapping[str, ast.Field],
    ) -> None:
        self.decl = decl
        self.data = data
        self.path = path
        self.fields = fields
        self._lists: dict[str, Any] = {}

    def field_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, f: ast.Field, wrap: Any) -> Any:
        """The field's value; Unknown when a required field is missing, else ABSENT."""
        if f.key in self.data:
            value = self.data[f.key]
            if f.key in self._lists:
                return self._lists[f.key]
            wrapped = wrap(self, f, value)
            if wrapped is not value:
                self._lists[f.key] = wrapped
            return wrapped
        if f.required:
            return Unknown(frozenset([self.field_path(f.key)]))
        return ABSENT


def round_half_up(value: Decimal | int, places: int) -> Decimal:
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def aggregate_value(func: str, values: list[Any], unknown: Unknown | None) -> Any:
    """``sum`` / ``min`` / ``max`` over the values an aggregation kept: unknown when an
    element was, the sum of none is 0, the min or max of none is absent.

    >>> aggregate_value("sum", [], None), aggregate_value("max", [], None)
    (Decimal('0'), ABSENT)
    """
    if unknown is not None:
        return unknown
    if func == "sum":
        return sum(values, Decimal(0))
    if not values:
        return ABSENT
    return min(values) if func == "min" else max(values)


def table_json(value: Any, cols: Mapping[str, T], single: T | None) -> Any:
    """A decision table's value for the result JSON: a row's outputs by column, a list of
    them (collect), or one value of type ``single``."""
    if value.__class__ is str:
        return value
    if isinstance(value, dict):
        return {k: to_json_value(v, cols.get(k)) for k, v in value.items()}
    if isinstance(value, tuple):
        return [
            {k: to_json_value(x, cols.get(k)) for k, x in v.items()}
            if isinstance(v, dict)
            else to_json_value(v, next(iter(cols.values()), None))
            for v in value
        ]
    return to_json_value(value, single)


def is_number_text(text: str) -> bool:
    """Whether ``text`` reads as a decimal number.

    >>> is_number_text("8300.00"), is_number_text("-1e3"), is_number_text("八千")
    (True, True, False)
    """
    try:
        Decimal(text)
    except (InvalidOperation, ValueError):
        return False
    return True


def money_text(v: Decimal | int) -> str:
    """An amount as shown everywhere (results, explanations): half up to cents, two
    decimals; an amount that rounds to zero is ``0.00``, never ``-0.00``.

    >>> money_text(Decimal("8299.995")), money_text(-Decimal("0.004")), money_text(12)
    ('8300.00', '0.00', '12.00')
    """
    text = f"{Decimal(v).quantize(CENT, rounding=ROUND_HALF_UP):.2f}"
    return "0.00" if text == "-0.00" else text


def to_json_value(v: object, t: T | None = None) -> Any:
    """Render a runtime value for the result JSON (money as 2-decimal strings)."""
    if isinstance(v, Unknown) or v is ABSENT or v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, Decimal):
        if t is not None and t.kind == "money":
            return money_text(v)
        if v == v.to_integral_value() and t is not None and t.kind in ("int", "intlit"):
            return int(v)
        text = format(v.normalize(), "f") if v != 0 else "0"
        return text
    if isinstance(v, int):
        return v
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return v
    if isinstance(v, frozenset):
        elem = t.elem if t is not None else None
        return sorted((to_json_value(x, elem) for x in v), key=lambda x: (str(type(x)), x))
    if isinstance(v, tuple | list):
        elem = t.elem if t is not None else None
        return [to_json_value(x, elem) for x in v]
    if isinstance(v, RecordValue):
        return {k: to_json_value(x) for k, x in v.data.items()}
    if isinstance(v, dict):
        return {k: to_json_value(x) for k, x in v.items()}
    return str(v)


def months_between(a: dt.date, b: dt.date) -> int:
    """Whole calendar months from a to b (SPEC §8).

    >>> months_between(dt.date(2023, 9, 15), dt.date(2024, 5, 14))
    7
    >>> months_between(dt.date(2024, 1, 31), dt.date(2024, 2, 29))
    0
    """
    return 12 * (b.year - a.year) + (b.month - a.month) - (1 if b.day < a.day else 0)


def apply_function(func: str, args: list[Any]) -> Any:
    """round / months / abs / min / max of evaluated arguments: absent wins, then unknown.

    The one definition both the interpreter and the compiled code call.

    >>> apply_function("round", [Decimal("8300.005"), 2])
    Decimal('8300.01')
    >>> apply_function("max", [ABSENT, Decimal(1)]) is ABSENT
    True
    """
    if any(a is ABSENT for a in args):
        return ABSENT
    unk = unknown_of(*args)
    if unk is not None:
        return unk
    if func == "round":
        return round_half_up(args[0], int(args[1]))
    if func == "months":
        return months_between(args[0], args[1])
    if func == "abs":
        return abs(args[0])
    if func == "min":
        return min(args)
    if func == "max":
        return max(args)
    raise AssertionError(func)


def arithmetic(op: str, a: Any, b: Any) -> Any:
    """``a op b`` on present values: exact decimals for + - * /, sets for ∩ ∪.

    Raises the decimal module's errors (division by zero); callers decide what that means.

    >>> arithmetic("/", Decimal(1), 4), arithmetic("∩", {"a", "b"}, {"b"})
    (Decimal('0.25'), frozenset({'b'}))
    """
    if op == "∩":
        return frozenset(a) & frozenset(b)
    if op == "∪":
        return frozenset(a) | frozenset(b)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return Decimal(a) / Decimal(b)
