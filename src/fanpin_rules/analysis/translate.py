"""From policy expressions to formulas, for one period of parameter values.

Values are *terms*: constants, variables, booleans given by a formula, ``if`` choices,
sets (membership of each element as a formula) and records (with a presence formula).
Conditions are formulas over variables.  The translation follows the reference
evaluator's two-valued semantics exactly: a missing optional input is ``ABSENT`` (every
comparison with it is false, ``is empty`` is true), ``and``/``or``/``not`` read ``ABSENT``
as false, a table's value is the output of its selected row or ``ABSENT``, a conclusion
holds when its condition holds and no conclusion that overrides it holds.  Missing
*required* inputs (undetermined conclusions) are outside the analysis.

``any``/``all`` over a list of records whose condition reads only the element's fields are
variables related by an exact joint *theory* (:meth:`Translator.theory`).  Whatever else the
analysis cannot see into (``count``/``sum``/``min``/``max`` over members, ``months``, products
of two inputs, text compared with text, …) becomes an *opaque* variable: a condition or amount
that may take any value of its type.  Conclusions drawn for every value of an opaque variable
are sound; witnesses that need a particular value of one are only possibilities.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

import attrs

from fanpin_rules import ast
from fanpin_rules.analysis.logic import Logic, Node, Var
from fanpin_rules.analysis.values import (
    FiniteSet,
    OrderedSet,
    TextSet,
    ValueSet,
    to_day,
)
from fanpin_rules.exprfmt import to_text
from fanpin_rules.model import BUILTIN_NAMES, PolicyModel
from fanpin_rules.types import T
from fanpin_rules.values import ABSENT, arithmetic, round_half_up

__all__ = ["Period", "Pred", "Translator", "Unsupported"]

CENT = Decimal("0.01")
ONE = Decimal(1)


class Unsupported(Exception):
    """An expression the analysis does not reason about."""


@attrs.frozen
class Period:
    """Dates over which every parameter keeps one value (``end`` None: open-ended)."""

    start: dt.date | None
    end: dt.date | None
    values: dict[str, Any] = attrs.field(eq=False, hash=False)

    def label(self, lang: str) -> str:
        if self.start is None:
            return "所有日期" if lang == "zh" else "all dates"
        if self.end is None:
            return f"{self.start} 起" if lang == "zh" else f"from {self.start}"
        return f"{self.start} 至 {self.end}" if lang == "zh" else f"{self.start} to {self.end}"


# ---------------------------------------------------------------- terms


@attrs.frozen(eq=False)
class Const:
    value: Any


@attrs.frozen(eq=False)
class VarT:
    var: Var


@attrs.frozen(eq=False)
class BoolT:
    node: Node


@attrs.frozen(eq=False)
class Ite:
    cond: Node
    then: Term
    else_: Term


@attrs.frozen(eq=False)
class SetT:
    """A list or set: element -> formula for "is a member"; ``other``: holds some element
    not listed (lists of text); ``absent``: the list is ABSENT."""

    members: dict[Any, Node]
    other: Node | None
    absent: Node


@attrs.frozen(eq=False)
class Rec:
    path: str
    label: str
    decl: ast.RecordDecl
    present: Node


@attrs.frozen(eq=False)
class Opaq:
    """A value the analysis cannot describe (a list of records, an unknown column)."""


@attrs.frozen(eq=False)
class RowT:
    """The outputs of one selected row of a multi-column table."""

    table: ast.TableDecl
    index: int


Term = Const | VarT | BoolT | Ite | SetT | Rec | RowT | Opaq


# ---------------------------------------------------------------- predicates


@attrs.frozen
class Pred:
    """A test of one value: ``cmp`` (op, value), ``member`` (values), ``truthy``,
    ``empty``, ``present``, ``missing`` — with the evaluator's semantics.

    >>> Pred("cmp", "<=", Decimal(8300)).holds(ABSENT)
    False
    >>> Pred("empty").holds("  ")
    True
    """

    kind: str
    op: str = ""
    value: Any = None

    def holds(self, v: Any) -> bool:
        if self.kind == "empty":
            if v is ABSENT or v is None:
                return True
            return v.strip() == "" if isinstance(v, str) else len(v) == 0
        if self.kind == "missing":
            return v is ABSENT
        if self.kind == "present":
            return v is not ABSENT
        if self.kind == "truthy":
            return v is not ABSENT and bool(v)
        if v is ABSENT or self.value is ABSENT:
            return False
        if self.kind == "member":
            return bool(v in self.value)
        return _compare(self.op, v, self.value)

    def values(self, universe: ValueSet) -> ValueSet:
        """The values of ``universe`` that pass the test."""
        if isinstance(universe, FiniteSet):
            return FiniteSet(frozenset(v for v in universe.values if self.holds(v)))
        if isinstance(universe, OrderedSet):
            return self._ordered(universe)
        return self._text()

    def _ordered(self, u: OrderedSet) -> OrderedSet:
        nothing = OrderedSet.make((), u.step, False, u.date)
        if self.kind in ("empty", "missing"):
            return OrderedSet.make((), u.step, True, u.date)
        if self.kind == "present":
            return OrderedSet.universe(u.step, date=u.date)
        if self.kind == "member":
            out = nothing
            for x in self.value:
                out = out | OrderedSet.compare("=", _num(x, u), u.step, u.date)
            return out
        if self.kind == "truthy":
            if u.date:
                return OrderedSet.universe(u.step, date=True)
            return OrderedSet.compare("!=", Decimal(0), u.step)
        return OrderedSet.compare(self.op, _num(self.value, u), u.step, u.date)

    def _text(self) -> TextSet:
        if self.kind == "empty":
            return TextSet.blank()
        if self.kind == "missing":
            return TextSet(absent=True)
        if self.kind == "present":
            return TextSet.anything()
        if self.kind == "member":
            return TextSet.constant(*(x for x in self.value if isinstance(x, str)))
        if self.kind == "cmp" and self.op == "=" and isinstance(self.value, str):
            return TextSet.constant(self.value)
        if self.kind == "cmp" and self.op == "!=" and isinstance(self.value, str):
            return TextSet.anything() - TextSet.constant(self.value)
        raise Unsupported


def _num(x: Any, u: OrderedSet) -> Decimal:
    if u.date:
        if not isinstance(x, dt.date):
            raise Unsupported
        return to_day(x)
    if isinstance(x, bool) or not isinstance(x, int | Decimal):
        raise Unsupported
    return Decimal(x)


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "=":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    try:
        if op == "<":
            return bool(a < b)
        if op == "<=":
            return bool(a <= b)
        if op == ">":
            return bool(a > b)
        return bool(a >= b)
    except TypeError:
        raise Unsupported from None


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}

# ---------------------------------------------------------------- derived amounts


@attrs.frozen
class Lin:
    """The expression tree of a derived amount: ``var`` leaf, ``const`` leaf or an operation."""

    op: str
    args: tuple[Any, ...]

    def key(self) -> str:
        if self.op == "var":
            return str(self.args[0].key)
        if self.op == "const":
            return format(self.args[0], "f")
        inner = ", ".join(a.key() if isinstance(a, Lin) else str(a) for a in self.args)
        return f"{self.op}({inner})"

    def text(self) -> str:
        if self.op == "var":
            return str(self.args[0].label)
        if self.op == "const":
            v = self.args[0]
            return v.isoformat() if isinstance(v, dt.date) else format(v, "f")
        if self.op in ("round", "abs", "min", "max", "days"):
            inner = ", ".join(a.text() if isinstance(a, Lin) else str(a) for a in self.args)
            return f"{self.op}({inner})"
        a, b = self.args
        return f"({a.text()} {self.op} {b.text()})"

    def leaves(self) -> list[Var]:
        if self.op == "var":
            return [self.args[0]]
        return [v for a in self.args if isinstance(a, Lin) for v in a.leaves()]


# ---------------------------------------------------------------- the translator


class Translator:
    """Translates one policy's rules, tables and definitions for one period.

    ``typer`` gives the type of any top-level expression (for opaque variables).
    """

    def __init__(
        self,
        model: PolicyModel,
        period: Period,
        logic: Logic,
        type_of: Callable[[ast.Expr], T],
        hit_policies: dict[str, str],
    ) -> None:
        self.model = model
        self.period = period
        self.lg = logic
        self.type_of = type_of
        self.hit = hit_policies
        self.lets: dict[str, Term] = {}
        self.conclusions: dict[str, Node] = {}
        self.tables: dict[str, TableInfo] = {}
        self.derived: dict[Var, Lin] = {}
        self.opaque_exprs: dict[Var, ast.Expr] = {}
        self._busy: set[str] = set()
        self.scope: Rec | None = None  # the list element inside any(...) / all(...)
        self.quantifiers: dict[Var, Quantifier] = {}
        self._theories: dict[frozenset[Var], Node] = {}
        self.strings = _string_literals(model)
        self.overriders = model.overriders()
        root = model.root_record
        self.root = Rec("", "", root, logic.true) if root is not None else None

    # ------------------------------------------------------------ conditions
    def cond(self, e: ast.Expr) -> Node:
        """The formula for "e holds" (ABSENT reads as false)."""
        return self.test(self.term(e), Pred("truthy"))

    def conclusion(self, rule_id: str) -> Node:
        """A rule or table row holds, after hit policies and ``overrides``."""
        found = self.conclusions.get(rule_id)
        if found is not None:
            return found
        key = "rule:" + rule_id
        if key in self._busy:
            raise Unsupported
        self._busy.add(key)
        saved, self.scope = self.scope, None
        try:
            if rule_id in self.model.rules:
                raw = self.cond(self.model.rules[rule_id].when)
            else:
                table, row = self.model.rows[rule_id]
                info = self.table(table.name)
                raw = info.selected[table.rows.index(row)]
            others = [self.lg.not_(self.conclusion(o)) for o in self.overriders.get(rule_id, ())]
            out = self.lg.and_(raw, *others)
        finally:
            self._busy.discard(key)
            self.scope = saved
        self.conclusions[rule_id] = out
        return out

    # ------------------------------------------------------------ terms
    def term(self, e: ast.Expr) -> Term:
        try:
            return self._term(e)
        except Unsupported:
            return self.opaque(e)

    def _term(self, e: ast.Expr) -> Term:
        lg = self.lg
        if isinstance(e, ast.Number | ast.Date | ast.String | ast.Bool):
            return Const(e.value)
        if isinstance(e, ast.Name):
            return self.name(e)
        if isinstance(e, ast.RuleRef):
            return BoolT(self.conclusion(e.rule_id))
        if isinstance(e, ast.And):
            return BoolT(lg.and_(self.cond(e.left), self.cond(e.right)))
        if isinstance(e, ast.Or):
            return BoolT(lg.or_(self.cond(e.left), self.cond(e.right)))
        if isinstance(e, ast.Not):
            return BoolT(lg.not_(self.cond(e.operand)))
        if isinstance(e, ast.Compare):
            return BoolT(self.compare(e.op, self.term(e.left), self.term(e.right)))
        if isinstance(e, ast.Between):
            v = self.term(e.value)
            return BoolT(
                lg.and_(
                    self.compare(">=", v, self.term(e.low)),
                    self.compare("<=", v, self.term(e.high)),
                )
            )
        if isinstance(e, ast.In):
            return BoolT(self.membership(self.term(e.left), self.term(e.right), e.negated))
        if isinstance(e, ast.IsPred):
            return BoolT(self.is_pred(self.term(e.value), e.pred, e.negated))
        if isinstance(e, ast.If):
            return Ite(self.cond(e.cond), self.term(e.then), self.term(e.else_))
        if isinstance(e, ast.SetLit):
            items = [self._term(i) for i in e.items]
            if all(isinstance(i, Const) for i in items):
                return Const(frozenset(i.value for i in items if i.value is not ABSENT))  # type: ignore[union-attr]
            raise Unsupported
        if isinstance(e, ast.Attr):
            return self.attr(self._term(e.obj), e.name)
        if isinstance(e, ast.BinOp):
            left, right = self._term(e.left), self._term(e.right)
            if e.op in ("∩", "∪", "&"):
                return self.set_op(e.op, left, right)
            return self.arith(e.op, left, right)
        if isinstance(e, ast.Neg):
            return self.arith("-", Const(Decimal(0)), self._term(e.operand))
        if isinstance(e, ast.Call):
            return self.call(e)
        raise Unsupported

    def opaque(self, e: ast.Expr) -> Term:
        """A variable standing for an expression the analysis does not see into."""
        t = self.type_of(e)
        text = to_text(e)
        absent = not (
            isinstance(e, ast.Call | ast.Compare | ast.And | ast.Or | ast.Not | ast.In | ast.IsPred)
        )
        universe: ValueSet
        if t.kind == "bool":
            universe = FiniteSet(frozenset({True, False} | ({ABSENT} if absent else set())))
        elif t.kind == "enum" and t.name in self.model.enums:
            vals = [m.value for m in self.model.enums[t.name].members]
            universe = FiniteSet(frozenset(vals) | ({ABSENT} if absent else set()))
        elif t.kind in ("int", "money", "number", "date"):
            counted = isinstance(e, ast.Call) and e.func in ("count", "计数")
            total = isinstance(e, ast.Call) and e.func in ("count", "计数", "sum", "求和")
            universe = OrderedSet.universe(
                _step(t.kind),
                low=Decimal(0) if counted else None,
                absent=not total,
                date=t.kind == "date",
            )
        elif t.kind in ("text", "strlit"):
            universe = TextSet.anything(absent=True)
        else:
            raise Unsupported
        var = self.lg.var("?" + text, text, universe, "opaque", exact=False)
        self.opaque_exprs.setdefault(var, e)
        return VarT(var)

    def name(self, e: ast.Name) -> Term:
        n = e.name
        if self.scope is not None:
            f = next((f for f in self.scope.decl.fields if n in (f.key, f.label)), None)
            if f is not None:
                return self.field(self.scope, f)
        if n in BUILTIN_NAMES:
            return VarT(self.as_of_var())
        alias = self.model.aliases.get(n)
        if alias is not None:
            kind, canonical = alias
            if kind == "let":
                return self.let(canonical)
            if kind == "param":
                if canonical not in self.period.values:
                    raise Unsupported
                return Const(self.period.values[canonical])
            value = self.table(canonical).value
            return self.opaque(e) if value is None else value
        if n in self.model.rules or n in self.model.rows:
            return BoolT(self.conclusion(n))
        if self.root is None:
            raise Unsupported
        return self.attr(self.root, n)

    def as_of_var(self) -> Var:
        p = self.period
        u = OrderedSet.universe(
            ONE,
            low=to_day(p.start) if p.start else None,
            high=to_day(p.end) if p.end else None,
            date=True,
        )
        return self.lg.var("as_of", "as_of", u, "as_of")

    def let(self, name: str) -> Term:
        found = self.lets.get(name)
        if found is not None:
            return found
        key = "let:" + name
        if key in self._busy:
            raise Unsupported
        self._busy.add(key)
        saved, self.scope = self.scope, None
        try:
            out = self.term(self.model.lets[name].expr)
        finally:
            self._busy.discard(key)
            self.scope = saved
        self.lets[name] = out
        return out

    # ------------------------------------------------------------ records and fields
    def attr(self, obj: Term, name: str) -> Term:
        if isinstance(obj, Const) and obj.value is ABSENT:
            return obj
        if isinstance(obj, Ite):
            return Ite(obj.cond, self.attr(obj.then, name), self.attr(obj.else_, name))
        if isinstance(obj, RowT):
            for col, out in zip(obj.table.outputs, obj.table.rows[obj.index].outputs, strict=False):
                if col.name == name:
                    return self.term(out)
            raise Unsupported
        if not isinstance(obj, Rec):
            raise Unsupported
        f = next((f for f in obj.decl.fields if name in (f.key, f.label)), None)
        if f is None:
            raise Unsupported
        return self.field(obj, f)

    def field(self, owner: Rec, f: ast.Field) -> Term:
        lg = self.lg
        path = f"{owner.path}.{f.key}" if owner.path else f.key
        label = f"{owner.label}.{f.label or f.key}" if owner.path else f.label or f.key
        optional = not f.required and (f.default is ast.NO_DEFAULT or f.default is None)
        tname = f.type.of if f.type.of is not None else f.type.name
        if f.type.of is not None:  # a list
            if tname in self.model.records:
                raise Unsupported
            absent = lg.not_(owner.present)
            if optional:
                pv = lg.var(f"in:{path}?", f"{label} 存在", FiniteSet(frozenset({True, False})))
                absent = lg.or_(absent, lg.lit(pv, FiniteSet(frozenset({False}))))
            if tname in self.model.enums:
                elems = [m.value for m in self.model.enums[tname].members]
                other = None
            elif tname in ("text", "文字"):
                elems = sorted(self.strings)
                other = self._elem(path, label, "…")
            else:
                raise Unsupported
            members = {v: self._elem(path, label, v) for v in elems}
            return SetT(members, other, absent)
        if tname in self.model.records:
            rec = self.model.records[tname]
            present = owner.present
            if not f.required:
                pv = lg.var(f"in:{path}?", f"{label} 存在", FiniteSet(frozenset({True, False})))
                present = lg.and_(present, lg.lit(pv, FiniteSet(frozenset({True}))))
            return Rec(path, label, rec, present)
        universe, order = self._field_universe(f, tname, optional)
        var = lg.var("in:" + path, label, universe, "input", order=order)
        if owner.present is lg.true:
            return VarT(var)
        return Ite(owner.present, VarT(var), Const(ABSENT))

    def _elem(self, path: str, label: str, value: str) -> Node:
        shown = "其他" if value == "…" else value
        v = self.lg.var(
            f"in:{path}∋{value}",
            f"{label} 含 {shown}",
            FiniteSet(frozenset({True, False})),
            support=[f"{path}∋{value}"],
            order=(True, False),
        )
        return self.lg.lit(v, FiniteSet(frozenset({True})))

    def _field_universe(
        self, f: ast.Field, tname: str, optional: bool
    ) -> tuple[ValueSet, tuple[Any, ...]]:
        extra = {ABSENT} if optional else set()
        if tname in ("bool", "是否"):
            return FiniteSet(frozenset({True, False} | extra)), (False, True)
        if tname in self.model.enums:
            vals = tuple(m.value for m in self.model.enums[tname].members)
            return FiniteSet(frozenset(vals) | extra), vals
        if tname in ("text", "文字"):
            return TextSet.anything(absent=optional), ()
        kind = {
            "money": "money",
            "金额": "money",
            "int": "int",
            "整数": "int",
            "number": "number",
            "数值": "number",
            "date": "date",
            "日期": "date",
        }.get(tname)
        if kind is None:
            raise Unsupported
        u = OrderedSet.universe(_step(kind), absent=optional, date=kind == "date")
        for b in f.bounds:
            if kind == "date":
                continue
            u = u & OrderedSet.compare(b.op, b.value, u.step)
            if optional:
                u = OrderedSet.make(u.intervals, u.step, True, u.date)
        return u, ()

    # ------------------------------------------------------------ tests
    def test(self, t: Term, p: Pred) -> Node:
        """The formula for "p holds of the value of t"."""
        lg = self.lg
        if isinstance(t, Const):
            if isinstance(t.value, frozenset) and p.kind not in ("empty", "present", "missing"):
                raise Unsupported
            return lg.true if p.holds(t.value) else lg.false
        if isinstance(t, VarT):
            return lg.lit(t.var, p.values(t.var.universe))
        if isinstance(t, BoolT):
            yes, no = p.holds(True), p.holds(False)
            if yes and no:
                return lg.true
            if yes:
                return t.node
            return lg.not_(t.node) if no else lg.false
        if isinstance(t, Ite):
            return lg.or_(
                lg.and_(t.cond, self.test(t.then, p)),
                lg.and_(lg.not_(t.cond), self.test(t.else_, p)),
            )
        if isinstance(t, SetT):
            if p.kind == "empty":
                return lg.or_(t.absent, lg.not_(self._nonempty(t)))
            if p.kind in ("missing", "present"):
                return t.absent if p.kind == "missing" else lg.not_(t.absent)
            if p.kind == "truthy":  # a list is true when present and not empty
                return lg.and_(lg.not_(t.absent), self._nonempty(t))
            raise Unsupported
        if isinstance(t, Rec):
            if p.kind == "missing":
                return lg.not_(t.present)
            if p.kind in ("present", "truthy"):
                return t.present
            raise Unsupported
        raise Unsupported

    def _nonempty(self, s: SetT) -> Node:
        kids = list(s.members.values()) + ([s.other] if s.other is not None else [])
        return self.lg.or_(*kids)

    def compare(self, op: str, a: Term, b: Term) -> Node:
        lg = self.lg
        if any(isinstance(t, Const) and t.value is ABSENT for t in (a, b)):
            return lg.false
        if isinstance(b, Const):
            return self.test(a, Pred("cmp", op, b.value))
        if isinstance(a, Const):
            return self.test(b, Pred("cmp", _FLIP[op], a.value))
        if isinstance(a, BoolT):
            a = Ite(a.node, Const(True), Const(False))
        if isinstance(b, BoolT):
            b = Ite(b.node, Const(True), Const(False))
        if isinstance(a, Ite):
            return lg.or_(
                lg.and_(a.cond, self.compare(op, a.then, b)),
                lg.and_(lg.not_(a.cond), self.compare(op, a.else_, b)),
            )
        if isinstance(b, Ite):
            return lg.or_(
                lg.and_(b.cond, self.compare(op, a, b.then)),
                lg.and_(lg.not_(b.cond), self.compare(op, a, b.else_)),
            )
        if isinstance(a, VarT) and isinstance(b, VarT):
            ua, ub = a.var.universe, b.var.universe
            if isinstance(ua, FiniteSet) and isinstance(ub, FiniteSet) and op in ("=", "!="):
                common = (ua.values & ub.values) - {ABSENT}
                same = lg.or_(
                    *(
                        lg.and_(
                            lg.lit(a.var, FiniteSet(frozenset({v}))),
                            lg.lit(b.var, FiniteSet(frozenset({v}))),
                        )
                        for v in sorted(common, key=repr)
                    )
                )
                if op == "=":
                    return same
                present = lg.and_(self.test(a, Pred("present")), self.test(b, Pred("present")))
                return lg.and_(present, lg.not_(same))
            if isinstance(ua, OrderedSet) and isinstance(ub, OrderedSet):
                diff = self.arith("-", a, b, dates_to_days=True)
                return self.test(diff, Pred("cmp", op, Decimal(0)))
        raise Unsupported

    def is_pred(self, t: Term, pred: str, negated: bool) -> Node:
        from fanpin_rules.check.typecheck import PREDICATES

        p = Pred(PREDICATES.get(pred, pred))
        if p.kind not in ("empty", "missing", "present"):
            raise Unsupported
        n = self.test(t, p)
        return self.lg.not_(n) if negated else n

    # ------------------------------------------------------------ sets
    def as_set(self, t: Term) -> SetT:
        if isinstance(t, SetT):
            return t
        if isinstance(t, Const) and isinstance(t.value, frozenset):
            return SetT({v: self.lg.true for v in t.value}, None, self.lg.false)
        if isinstance(t, Const) and t.value is ABSENT:
            return SetT({}, None, self.lg.true)
        raise Unsupported

    def set_op(self, op: str, a: Term, b: Term) -> Term:
        if isinstance(a, Const) and isinstance(b, Const):
            if a.value is ABSENT or b.value is ABSENT:
                return Const(ABSENT)
            x, y = frozenset(a.value), frozenset(b.value)
            return Const(x | y if op == "∪" else x & y)
        sa, sb = self.as_set(a), self.as_set(b)
        lg = self.lg
        keys = list(dict.fromkeys([*sa.members, *sb.members]))
        f = lg.or_ if op == "∪" else lg.and_
        members = {k: f(sa.members.get(k, lg.false), sb.members.get(k, lg.false)) for k in keys}
        other = f(sa.other or lg.false, sb.other or lg.false)
        if other is not lg.false and op != "∪":
            raise Unsupported  # two lists of text may share texts the analysis cannot name
        return SetT(members, None if other is lg.false else other, lg.or_(sa.absent, sb.absent))

    def membership(self, a: Term, b: Term, negated: bool) -> Node:
        """``a in b`` (element or subset), false when either side is ABSENT."""
        lg = self.lg
        if (
            isinstance(b, Const)
            and isinstance(b.value, frozenset)
            and not (
                isinstance(a, SetT) or (isinstance(a, Const) and isinstance(a.value, frozenset))
            )
        ):
            yes = self.test(a, Pred("member", value=b.value))
            present = self.test(a, Pred("present"))
            return lg.and_(present, lg.not_(yes)) if negated else yes
        sb = self.as_set(b)
        if isinstance(a, SetT) or (isinstance(a, Const) and isinstance(a.value, frozenset)):
            sa = self.as_set(a)
            if sa.other is not None:
                if sb.other is not None:
                    raise Unsupported
                other_out = sa.other
            else:
                other_out = lg.false
            keys = list(dict.fromkeys([*sa.members, *sb.members]))
            core = lg.and_(
                lg.not_(other_out),
                *(
                    lg.implies(sa.members.get(k, lg.false), sb.members.get(k, lg.false))
                    for k in keys
                ),
            )
            absent = lg.or_(sa.absent, sb.absent)
        elif isinstance(a, Const):
            if a.value is ABSENT:
                return lg.false
            core = sb.members.get(a.value, lg.false)
            absent = sb.absent
        elif isinstance(a, VarT) and isinstance(a.var.universe, FiniteSet) and sb.other is None:
            core = lg.or_(
                *(
                    lg.and_(lg.lit(a.var, FiniteSet(frozenset({k}))), m)
                    for k, m in sb.members.items()
                )
            )
            absent = lg.or_(sb.absent, self.test(a, Pred("missing")))
        else:
            raise Unsupported
        return lg.and_(lg.not_(absent), lg.not_(core) if negated else core)

    # ------------------------------------------------------------ arithmetic
    def arith(self, op: str, a: Term, b: Term, dates_to_days: bool = False) -> Term:
        if isinstance(a, Const) and isinstance(b, Const):
            return Const(_fold(op, a.value, b.value))
        if any(isinstance(t, Const) and t.value is ABSENT for t in (a, b)):
            return Const(ABSENT)
        if isinstance(a, Ite):
            return Ite(
                a.cond,
                self.arith(op, a.then, b, dates_to_days),
                self.arith(op, a.else_, b, dates_to_days),
            )
        if isinstance(b, Ite):
            return Ite(
                b.cond,
                self.arith(op, a, b.then, dates_to_days),
                self.arith(op, a, b.else_, dates_to_days),
            )
        return self.derive(Lin(op, (self._lin(a, dates_to_days), self._lin(b, dates_to_days))))

    def _lin(self, t: Term, days: bool) -> Lin:
        if isinstance(t, Const):
            v = t.value
            if isinstance(v, dt.date) and days:
                return Lin("const", (to_day(v),))
            if v is ABSENT or isinstance(v, bool) or not isinstance(v, int | Decimal):
                raise Unsupported
            return Lin("const", (Decimal(v),))
        if isinstance(t, VarT):
            u = t.var.universe
            if not isinstance(u, OrderedSet) or (u.date and not days):
                raise Unsupported
            return self.derived.get(t.var) or Lin("var", (t.var,))
        raise Unsupported

    def derive(self, lin: Lin) -> Term:
        """A variable for a derived amount (its range by interval arithmetic)."""
        leaves = lin.leaves()
        if not leaves:
            raise Unsupported
        lo, hi, exact = _range(lin)
        step = _lin_step(lin)
        absent = any(v.universe.has_absent for v in leaves)
        supports = [v.support for v in leaves]
        independent = len(leaves) == len(set(leaves)) and all(
            not (supports[i] & supports[j])
            for i in range(len(supports))
            for j in range(i + 1, len(supports))
        )
        exact = exact and independent and all(v.exact for v in leaves)
        u = OrderedSet.universe(step, low=lo, high=hi, absent=absent)
        text = lin.text()
        var = self.lg.var(
            "=" + lin.key(),
            text,
            u,
            "derived",
            support=frozenset().union(*supports),
            exact=exact,
        )
        self.derived[var] = lin
        return VarT(var)

    # ------------------------------------------------------------ calls
    def call(self, e: ast.Call) -> Term:
        from fanpin_rules.check.typecheck import AGGREGATES, FUNCTION_ALIASES

        func = FUNCTION_ALIASES.get(e.func, e.func)
        if func in ("any", "all") and len(e.args) == 1:
            return BoolT(self.quantifier(func, e))
        if func == "missing_required" or (func in AGGREGATES and len(e.args) == 1):
            raise Unsupported
        args = [self._term(a) for a in e.args]
        if func == "round" and len(args) == 2 and isinstance(args[1], Const):
            places = int(args[1].value)
            if isinstance(args[0], Const):
                v = args[0].value
                return Const(v if v is ABSENT else round_half_up(v, places))
            return self.derive(Lin("round", (self._lin(args[0], False), places)))
        if func == "abs" and len(args) == 1:
            if isinstance(args[0], Const):
                v = args[0].value
                return Const(v if v is ABSENT else abs(v))
            return self.derive(Lin("abs", (self._lin(args[0], False),)))
        if func in ("min", "max") and len(args) >= 2:
            if all(isinstance(a, Const) for a in args):
                vals = [a.value for a in args]  # type: ignore[union-attr]
                if any(v is ABSENT for v in vals):
                    return Const(ABSENT)
                return Const(min(vals) if func == "min" else max(vals))
            return self.derive(Lin(func, tuple(self._lin(a, False) for a in args)))
        raise Unsupported

    # ------------------------------------------------------------ quantifiers
    def quantifier(self, func: str, e: ast.Call) -> Node:
        """``any``/``all`` over a list of records: a variable whose possible values, jointly
        with the other quantifiers over the same list, are given by :meth:`theory`.

        The condition about one element must read only the element's fields and constants.
        """
        lg = self.lg
        if self.scope is not None or not isinstance(e.args[0], ast.Name) or self.root is None:
            raise Unsupported
        f = next((f for f in self.root.decl.fields if e.args[0].name in (f.key, f.label)), None)
        if f is None or f.type.of is None or f.type.of not in self.model.records or not f.required:
            raise Unsupported
        decl = self.model.records[f.type.of]
        lengths = {b.op: b.value for b in f.bounds}
        if any(op in lengths for op in ("<", "<=", "=")):
            raise Unsupported  # a longest list would make the joint check inexact
        shortest = lengths.get(">=", lengths.get(">", Decimal(-1)) + 1)
        element = Rec(f"{f.key}[]", f"{f.label or f.key}[]", decl, lg.true)
        saved, self.scope = self.scope, element
        try:
            where = self.cond(e.where) if e.where is not None else lg.true
            body = self.cond(e.body) if e.body is not None else lg.true
        finally:
            self.scope = saved
        pred = lg.and_(where, body) if func == "any" else lg.or_(lg.not_(where), body)
        if any(not v.key.startswith(f"in:{f.key}[].") for v in pred.vars):
            raise Unsupported  # reads something outside the element
        text = to_text(e)
        var = lg.var(
            f"∀{func}:{f.key}:{pred.uid}",
            text,
            FiniteSet(frozenset({True, False})),
            "quantifier",
            support=[f"∀{text}"],
            order=(True, False),
        )
        self.quantifiers.setdefault(var, Quantifier(f.key, func == "any", pred, int(shortest), e))
        return lg.lit(var, FiniteSet(frozenset({True})))

    def theory(self, n: Node) -> Node:
        """What the quantifiers of ``n`` can jointly be (TRUE when there are none).

        ``any(L where P) = t`` and ``all(L: Q) = u`` are possible together exactly when some
        list satisfies them: every element satisfies the conditions forced on all elements
        (``not P`` for an ``any`` that is false, ``Q`` for an ``all`` that is true), and each
        ``any`` that is true / ``all`` that is false has an element of its own.
        """
        lg = self.lg
        qs = sorted((v for v in n.vars if v in self.quantifiers), key=lambda v: v.uid)
        if not qs:
            return lg.true
        groups: dict[str, list[Var]] = {}
        for v in qs:
            groups.setdefault(self.quantifiers[v].list_key, []).append(v)
        parts = []
        for vs in groups.values():
            key = frozenset(vs)
            found = self._theories.get(key)
            if found is None:
                found = self._theories[key] = self._joint(vs)
            parts.append(found)
        return lg.and_(*parts)

    def _joint(self, vs: list[Var]) -> Node:
        lg = self.lg
        if len(vs) > 10:
            raise Unsupported
        yes, no = FiniteSet(frozenset({True})), FiniteSet(frozenset({False}))
        options = []
        for bits in range(1 << len(vs)):
            values = [bool(bits >> i & 1) for i in range(len(vs))]
            if self._possible([self.quantifiers[v] for v in vs], values):
                options.append(
                    lg.and_(*(lg.lit(v, yes if t else no) for v, t in zip(vs, values, strict=True)))
                )
        return lg.or_(*options)

    def _possible(self, qs: list[Quantifier], values: list[bool]) -> bool:
        lg = self.lg
        everyone = [
            (lg.not_(q.pred) if q.exists else q.pred)
            for q, t in zip(qs, values, strict=True)
            if q.exists != t
        ]
        needs = [
            (q.pred if q.exists else lg.not_(q.pred))
            for q, t in zip(qs, values, strict=True)
            if q.exists == t
        ]
        common = lg.and_(*everyone)
        if not needs and qs[0].shortest <= 0:
            return True  # the empty list
        if lg.sat(common) is None:
            return False
        return all(lg.sat(lg.and_(common, need)) is not None for need in needs)

    # ------------------------------------------------------------ tables
    def table(self, name: str) -> TableInfo:
        found = self.tables.get(name)
        if found is not None:
            return found
        key = "table:" + name
        if key in self._busy:
            raise Unsupported
        self._busy.add(key)
        saved, self.scope = self.scope, None
        try:
            found = self._table(self.model.tables[name])
        finally:
            self._busy.discard(key)
            self.scope = saved
        self.tables[name] = found
        return found

    def _table(self, table: ast.TableDecl) -> TableInfo:
        lg = self.lg
        hit = self.hit.get(table.name, "first")
        columns = [self._column(i) for i in table.inputs]
        matches = [
            lg.and_(
                *(self.cell(table, row, c, col) for c, col in zip(row.cells, columns, strict=False))
            )
            for row in table.rows
        ]
        n = len(table.rows)
        order = list(range(n))
        ranked = True
        if hit == "priority":
            ranks = [self._rank(table, i) for i in range(n)]
            ranked = all(r is not None for r in ranks)
            if ranked:
                order.sort(key=lambda i: (ranks[i], i))
        selected: list[Node] = list(matches)
        if hit in ("first", "priority"):
            if not ranked:
                selected = [
                    lg.and_(m, lg.lit(self._selected_var(table, i), FiniteSet(frozenset({True}))))
                    for i, m in enumerate(matches)
                ]
            else:
                before: list[Node] = []
                for i in order:
                    selected[i] = lg.and_(matches[i], *(lg.not_(m) for m in before))
                    before.append(matches[i])
        value: Term | None
        if hit in ("first", "priority", "unique", "any") and ranked:
            value = Const(ABSENT)
            for i in reversed(order):
                row = table.rows[i]
                out = self.term(row.outputs[0]) if len(table.outputs) == 1 else RowT(table, i)
                value = Ite(matches[i], out, value)
        else:
            value = None
        return TableInfo(table, hit, columns, matches, selected, value, ranked, order)

    def _column(self, e: ast.Expr) -> Term:
        try:
            return self.term(e)
        except Unsupported:
            return Opaq()

    def _selected_var(self, table: ast.TableDecl, i: int) -> Var:
        rid = table.rows[i].rule_id
        return self.lg.var(
            f"?selected:{rid}",
            f"{rid} 被选中",
            FiniteSet(frozenset({True, False})),
            "opaque",
            exact=False,
        )

    def _rank(self, table: ast.TableDecl, i: int) -> int | None:
        out = table.rows[i].outputs[0] if table.rows[i].outputs else None
        col = table.outputs[0].type if table.outputs else None
        if not isinstance(out, ast.String) or col is None or col.name not in self.model.enums:
            return None
        values = [m.value for m in self.model.enums[col.name].members]
        return values.index(out.value) if out.value in values else 1 << 30

    def cell(self, table: ast.TableDecl, row: ast.Row, cell: ast.Cell, column: Term) -> Node:
        """The formula for "the cell accepts the column's value"."""
        if isinstance(cell, ast.CellAny):
            return self.lg.true
        try:
            return self._cell(cell, column)
        except Unsupported:
            var = self.lg.var(
                f"?cell:{row.rule_id}:{cell.span.line}:{cell.span.col}",
                f"{row.rule_id} 的条件格",
                FiniteSet(frozenset({True, False})),
                "opaque",
                exact=False,
            )
            return self.lg.lit(var, FiniteSet(frozenset({True})))

    def _cell(self, cell: ast.CellTests, v: Term) -> Node:
        lg = self.lg
        parts: list[Node] = []
        for test in cell.tests:
            if isinstance(test, ast.TestRange):
                parts.append(
                    lg.and_(
                        self.compare(">=" if test.low_closed else ">", v, self._term(test.low)),
                        self.compare("<=" if test.high_closed else "<", v, self._term(test.high)),
                    )
                )
            elif isinstance(test, ast.TestCompare):
                parts.append(self.compare(test.op, v, self._term(test.value)))
            else:
                x = self._term(test.value)
                if isinstance(x, Const) and isinstance(x.value, frozenset):
                    parts.append(self.test(v, Pred("member", value=x.value)))
                elif isinstance(x, SetT):
                    raise Unsupported
                else:
                    parts.append(self.compare("=", v, x))
        r = lg.or_(*parts)
        return lg.not_(r) if cell.negated else r


@attrs.frozen(eq=False)
class Quantifier:
    """``any`` (``exists``) or ``all`` over the list ``list_key``; ``pred`` is the condition on
    one element; ``shortest`` the least length the list is declared to have."""

    list_key: str
    exists: bool
    pred: Node
    shortest: int
    expr: ast.Call


@attrs.frozen(eq=False)
class TableInfo:
    """A table translated: column values, "row matches" and "row is selected" formulas."""

    table: ast.TableDecl
    hit: str
    columns: list[Term]
    matches: list[Node]
    selected: list[Node]
    value: Term | None
    ranked: bool
    order: list[int]


# ---------------------------------------------------------------- helpers


def _step(kind: str) -> Decimal | None:
    return {"money": CENT, "int": ONE, "date": ONE}.get(kind)


def _fold(op: str, a: Any, b: Any) -> Any:
    if a is ABSENT or b is ABSENT:
        return ABSENT
    if op in ("∩", "∪", "&"):
        raise Unsupported
    try:
        return arithmetic(op, a, b)
    except (DivisionByZero, InvalidOperation, ZeroDivisionError, TypeError):
        raise Unsupported from None


Bound = tuple[Decimal | None, Decimal | None, bool]


def _range(lin: Lin) -> Bound:
    """Interval arithmetic: (low, high, exact) with None for unbounded."""
    if lin.op == "var":
        u = lin.args[0].universe
        if not u.intervals:
            return (Decimal(0), Decimal(0), False)
        return (u.intervals[0].lo, u.intervals[-1].hi, len(u.intervals) == 1)
    if lin.op == "const":
        return (lin.args[0], lin.args[0], True)
    if lin.op == "round":
        lo, hi, ex = _range(lin.args[0])
        places = lin.args[1]
        return (
            None if lo is None else round_half_up(lo, places),
            None if hi is None else round_half_up(hi, places),
            ex,
        )
    if lin.op == "abs":
        lo, hi, ex = _range(lin.args[0])
        if lo is not None and lo >= 0:
            return (lo, hi, ex)
        if hi is not None and hi <= 0:
            return (-hi, None if lo is None else -lo, ex)
        top = None if lo is None or hi is None else max(-lo, hi)
        return (Decimal(0), top, ex)
    if lin.op in ("min", "max"):
        rs = [_range(a) for a in lin.args]
        los = [r[0] for r in rs]
        his = [r[1] for r in rs]
        ex = all(r[2] for r in rs)
        pick = min if lin.op == "min" else max
        lo = (
            None
            if (lin.op == "min" and None in los)
            else pick(x for x in los if x is not None)
            if any(x is not None for x in los)
            else None
        )
        hi = (
            None
            if (lin.op == "max" and None in his)
            else pick(x for x in his if x is not None)
            if any(x is not None for x in his)
            else None
        )
        return (lo, hi, ex)
    a, b = lin.args
    la, ha, ea = _range(a)
    lb, hb, eb = _range(b)
    ex = ea and eb
    if lin.op == "+":
        return (_add(la, lb), _add(ha, hb), ex)
    if lin.op == "-":
        return (_add(la, _neg(hb)), _add(ha, _neg(lb)), ex)
    if lin.op == "*":
        if b.op == "const" or a.op == "const":
            c = b.args[0] if b.op == "const" else a.args[0]
            lo, hi = (la, ha) if b.op == "const" else (lb, hb)
            if c >= 0:
                return (None if lo is None else lo * c, None if hi is None else hi * c, ex)
            return (None if hi is None else hi * c, None if lo is None else lo * c, ex)
        if la is not None and lb is not None and la >= 0 and lb >= 0:
            return (la * lb, None if ha is None or hb is None else ha * hb, False)
        return (None, None, False)
    # division
    if b.op == "const":
        c = b.args[0]
        if c == 0:
            raise Unsupported
        lo = None if la is None else la / c
        hi = None if ha is None else ha / c
        return (lo, hi, ex) if c > 0 else (hi, lo, ex)
    if lb is not None and lb >= 1:
        lo = None if la is None else min(la, Decimal(0))
        hi = None if ha is None else max(ha, Decimal(0))
        contains_zero = (la is None or la <= 0) and (ha is None or ha >= 0)
        return (lo, hi, ex and contains_zero)
    return (None, None, False)


def _add(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else a + b


def _neg(a: Decimal | None) -> Decimal | None:
    return None if a is None else -a


def _lin_step(lin: Lin) -> Decimal | None:
    if lin.op == "var":
        step: Decimal | None = lin.args[0].universe.step
        return step
    if lin.op == "const":
        v = lin.args[0]
        return abs(v) if v != 0 else None
    if lin.op == "round":
        return Decimal(1).scaleb(-lin.args[1])
    if lin.op == "abs":
        return _lin_step(lin.args[0])
    if lin.op in ("min", "max", "+", "-"):
        steps = [_lin_step(a) for a in lin.args if not (a.op == "const" and a.args[0] == 0)]
        if any(s is None for s in steps) or not steps:
            return None
        small = min(s for s in steps if s is not None)
        return small if all(s % small == 0 for s in steps if s is not None) else None
    if lin.op == "*":
        a, b = lin.args
        if b.op == "const" and b.args[0] == b.args[0].to_integral_value():
            s = _lin_step(a)
            return None if s is None or b.args[0] == 0 else s * abs(b.args[0])
        if a.op == "const" and a.args[0] == a.args[0].to_integral_value():
            s = _lin_step(b)
            return None if s is None or a.args[0] == 0 else s * abs(a.args[0])
    return None


def _string_literals(model: PolicyModel) -> set[str]:
    """Every text literal of the policy (the elements a list of text is compared with)."""
    found: set[str] = set()

    def walk(x: Any) -> None:
        if isinstance(x, ast.String):
            found.add(x.value)
        elif attrs.has(type(x)):
            for a in attrs.fields(type(x)):
                walk(getattr(x, a.name))
        elif isinstance(x, tuple | list):
            for y in x:
                walk(y)

    for item in model.items():
        if isinstance(item, ast.LetDecl | ast.RuleDecl | ast.TableDecl):
            walk(item)
    return found


def iter_conditions(e: ast.Expr) -> Iterable[ast.Expr]:
    """The elementary conditions inside an expression (outside aggregations)."""
    if isinstance(e, ast.And | ast.Or):
        yield from iter_conditions(e.left)
        yield from iter_conditions(e.right)
    elif isinstance(e, ast.Not):
        yield from iter_conditions(e.operand)
    elif isinstance(e, ast.If):
        yield from iter_conditions(e.cond)
    elif isinstance(e, ast.Compare | ast.Between | ast.In | ast.IsPred):
        yield e
