"""The policy AST: frozen data with spans and no behaviour.

Spans do not take part in equality, so two texts that differ only in layout or
comments give equal trees (the property ``parse(format(p)) == parse(p)``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Union

import attrs

from fanpin_rules.source import NOWHERE, Span

JSON = Union[None, bool, str, Decimal, list["JSON"], dict[str, "JSON"]]


def _span() -> Span:
    return attrs.field(default=NOWHERE, eq=False, repr=False, kw_only=True)


def _spans() -> tuple[Span, ...]:
    return attrs.field(default=(), eq=False, repr=False, kw_only=True)


# ------------------------------------------------------------------ expressions


@attrs.frozen
class Number:
    value: Decimal
    span: Span = _span()


@attrs.frozen
class Date:
    value: dt.date
    span: Span = _span()


@attrs.frozen
class String:
    value: str
    span: Span = _span()


@attrs.frozen
class Bool:
    value: bool
    span: Span = _span()


@attrs.frozen
class SetLit:
    items: tuple[Expr, ...]
    span: Span = _span()


@attrs.frozen
class Name:
    name: str
    span: Span = _span()


@attrs.frozen
class RuleRef:
    """A rule id used as a condition: true when that conclusion holds."""

    rule_id: str
    span: Span = _span()


@attrs.frozen
class Attr:
    obj: Expr
    name: str
    span: Span = _span()


@attrs.frozen
class Call:
    """``f(a, b)`` or an aggregation ``sum(members where cond: expr)``."""

    func: str
    args: tuple[Expr, ...]
    where: Expr | None = None
    body: Expr | None = None
    span: Span = _span()


@attrs.frozen
class BinOp:
    """Arithmetic ``+ - * /`` and set operations ``∩ ∪``."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Compare:
    """``< <= > >= = !=``."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class In:
    """Membership (element ∈ set) or inclusion (set ⊆ set); ``negated`` for ∉ / ⊄."""

    left: Expr
    right: Expr
    negated: bool = False
    span: Span = _span()


@attrs.frozen
class Between:
    """``x between a and b``: both ends included."""

    value: Expr
    low: Expr
    high: Expr
    span: Span = _span()


@attrs.frozen
class IsPred:
    """``x is empty`` / ``x is missing`` / ``x is present`` (optionally negated)."""

    value: Expr
    pred: str
    negated: bool = False
    span: Span = _span()


@attrs.frozen
class And:
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Or:
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Not:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class Neg:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class If:
    cond: Expr
    then: Expr
    else_: Expr
    span: Span = _span()


Expr = Union[
    Number,
    Date,
    String,
    Bool,
    SetLit,
    Name,
    RuleRef,
    Attr,
    Call,
    BinOp,
    Compare,
    In,
    Between,
    IsPred,
    And,
    Or,
    Not,
    Neg,
    If,
]
Literal_ = Union[Number, Date, String, Bool]

# ------------------------------------------------------------------ declarations


@attrs.frozen
class Meta:
    key: str
    value: Literal_
    span: Span = _span()


@attrs.frozen
class PolicyHeader:
    title: str
    meta: tuple[Meta, ...]
    span: Span = _span()


@attrs.frozen
class Include:
    path: str
    span: Span = _span()


@attrs.frozen
class EnumMember:
    value: str
    label: str | None = None
    span: Span = _span()


@attrs.frozen
class EnumDecl:
    name: str
    label: str | None
    members: tuple[EnumMember, ...]
    span: Span = _span()
    name_span: Span = _span()


@attrs.frozen
class TypeRef:
    """``money``, ``int``, an enum or record name, or ``list of X``."""

    name: str
    of: str | None = None
    span: Span = _span()


@attrs.frozen
class Bound:
    op: str
    value: Decimal
    span: Span = _span()


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _NoDefault)

    def __hash__(self) -> int:
        return 0


NO_DEFAULT = _NoDefault()


@attrs.frozen
class Field:
    key: str
    label: str | None
    type: TypeRef
    required: bool = False
    default: JSON | _NoDefault = NO_DEFAULT
    bounds: tuple[Bound, ...] = ()
    pii: bool = False
    cite: str | None = None
    span: Span = _span()
    name_span: Span = _span()
    default_span: Span = _span()


@attrs.frozen
class RecordDecl:
    name: str
    label: str | None
    fields: tuple[Field, ...]
    span: Span = _span()
    name_span: Span = _span()


@attrs.frozen
class InputDecl:
    record: str
    key_field: str | None
    span: Span = _span()


@attrs.frozen
class ParamValue:
    effective: dt.date
    value: Literal_
    cite: str | None = None
    span: Span = _span()


@attrs.frozen
class ParamDecl:
    name: str
    label: str | None
    type: TypeRef
    unit: str | None
    cite: str | None
    values: tuple[ParamValue, ...]
    span: Span = _span()
    name_span: Span = _span()


@attrs.frozen
class LetDecl:
    name: str
    label: str | None
    type: TypeRef | None
    expr: Expr
    cite: str | None = None
    span: Span = _span()
    name_span: Span = _span()


@attrs.frozen
class RuleDecl:
    rule_id: str
    title: str | None
    cite: str | None
    severity: str | None
    overrides: tuple[str, ...]
    when: Expr
    message: str
    span: Span = _span()
    name_span: Span = _span()
    severity_span: Span = _span()


@attrs.frozen
class CellAny:
    span: Span = _span()


@attrs.frozen
class TestCompare:
    op: str
    value: Expr
    span: Span = _span()


@attrs.frozen
class TestRange:
    low: Expr
    high: Expr
    low_closed: bool
    high_closed: bool
    span: Span = _span()


@attrs.frozen
class TestEqual:
    value: Expr
    span: Span = _span()


UnaryTest = Union[TestCompare, TestRange, TestEqual]


@attrs.frozen
class CellTests:
    """A cell of unary tests, true when any test holds (or none, when ``negated``)."""

    tests: tuple[UnaryTest, ...]
    negated: bool = False
    span: Span = _span()


Cell = Union[CellAny, CellTests]


@attrs.frozen
class OutCol:
    name: str
    type: TypeRef | None = None
    span: Span = _span()


@attrs.frozen
class Row:
    rule_id: str
    cells: tuple[Cell, ...]
    outputs: tuple[Expr, ...]
    cite: str | None = None
    message: str | None = None
    span: Span = _span()
    split_span: Span = _span()  # the `||` between conditions and outputs


@attrs.frozen
class TableDecl:
    name: str
    label: str | None
    hit: str
    aggregation: str | None
    cite: str | None
    overrides: tuple[str, ...]
    inputs: tuple[Expr, ...]
    outputs: tuple[OutCol, ...]
    rows: tuple[Row, ...]
    span: Span = _span()
    name_span: Span = _span()
    hit_span: Span = _span()
    aggregation_span: Span = _span()


@attrs.frozen
class ExpectRules:
    """``expect fired A, B`` / ``expect not fired A`` / ``expect undetermined A``."""

    kind: str
    negated: bool
    rule_ids: tuple[str, ...]
    span: Span = _span()


@attrs.frozen
class ExpectValue:
    name: str
    value: JSON
    span: Span = _span()


@attrs.frozen
class ExpectFlag:
    """``expect rejected "field"`` (or ``expect rejected``)."""

    kind: str
    arg: str | None
    span: Span = _span()


Expect = Union[ExpectRules, ExpectValue, ExpectFlag]


@attrs.frozen
class ExampleDecl:
    title: str
    like: str | None
    as_of: dt.date | None
    input: dict[str, JSON] | None
    params: tuple[tuple[str, Literal_], ...]
    expects: tuple[Expect, ...]
    span: Span = _span()
    name_span: Span = _span()
    like_span: Span = _span()
    param_spans: tuple[Span, ...] = _spans()  # one per entry of ``params``


Item = Union[
    PolicyHeader,
    Include,
    EnumDecl,
    RecordDecl,
    InputDecl,
    ParamDecl,
    LetDecl,
    RuleDecl,
    TableDecl,
    ExampleDecl,
]


@attrs.frozen
class Module:
    """One parsed file: its items in source order."""

    path: str
    items: tuple[Item, ...]
    span: Span = _span()


def name_span(node: object) -> Span:
    """Where a declaration's name is written (its whole span if unknown)."""
    ns = getattr(node, "name_span", NOWHERE)
    if ns is not NOWHERE and ns.line > 0:
        return ns
    return getattr(node, "span", NOWHERE)


def children(e: Expr) -> tuple[Expr, ...]:
    """The expressions directly inside ``e`` (aggregation conditions and bodies included)."""
    if isinstance(e, SetLit):
        return e.items
    if isinstance(e, Attr):
        return (e.obj,)
    if isinstance(e, Call):
        extra = tuple(x for x in (e.where, e.body) if x is not None)
        return (*e.args, *extra)
    if isinstance(e, BinOp | Compare | And | Or):
        return (e.left, e.right)
    if isinstance(e, In):
        return (e.left, e.right)
    if isinstance(e, Between):
        return (e.value, e.low, e.high)
    if isinstance(e, IsPred):
        return (e.value,)
    if isinstance(e, Not | Neg):
        return (e.operand,)
    if isinstance(e, If):
        return (e.cond, e.then, e.else_)
    return ()


def cell_exprs(cell: Cell) -> list[Expr]:
    """The expressions of a table cell's tests."""
    if isinstance(cell, CellAny):
        return []
    out: list[Expr] = []
    for t in cell.tests:
        if isinstance(t, TestRange):
            out.extend((t.low, t.high))
        else:
            out.append(t.value)
    return out


def table_exprs(table: TableDecl) -> list[Expr]:
    """Every expression of a table: inputs, cell tests, outputs."""
    out: list[Expr] = list(table.inputs)
    for row in table.rows:
        for cell in row.cells:
            out.extend(cell_exprs(cell))
        out.extend(row.outputs)
    return out
