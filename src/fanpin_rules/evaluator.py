"""The reference interpreter: evaluates a checked policy for one household.

It is the ground truth for the faster engines.  Evaluation is lazy and memoised per
household (values are computed when first read), so declaration order never matters;
the checker has already ruled out cycles.  Nothing here prints or keeps global state.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, DivisionByZero, InvalidOperation
from typing import Any, cast

import attrs

from fanpin_rules import ast
from fanpin_rules.check import CheckResult
from fanpin_rules.check.declarations import HIT_POLICIES
from fanpin_rules.check.typecheck import (
    AGGREGATES,
    ELEMENT_NAMES,
    FUNCTION_ALIASES,
    PREDICATES,
    type_of_ref,
)
from fanpin_rules.errors import EvaluationError
from fanpin_rules.exprfmt import _PREC, _prec, cell_text, conjuncts, number_text, quote, to_text
from fanpin_rules.hitpolicy import table_outcome
from fanpin_rules.household import Household
from fanpin_rules.model import BUILTIN_NAMES, PolicyModel
from fanpin_rules.source import Span
from fanpin_rules.trace import (
    Combinator,
    Comparison,
    ConclusionTrace,
    ConditionTrace,
    ElementTrace,
    Observation,
    ParamUse,
    TableTrace,
    Term,
    TermKind,
    Trace,
    TruthValue,
    ValueTrace,
)
from fanpin_rules.types import T
from fanpin_rules.values import (
    ABSENT,
    RecordValue,
    Truth,
    Unknown,
    aggregate_value,
    and3,
    apply_function,
    arithmetic,
    is_number_text,
    months_between,
    not3,
    or3,
    table_json,
    to_json_value,
    truth,
    unknown_of,
)

__all__ = ["Evaluation", "ParamBinding", "Plan", "months_between"]


@attrs.frozen
class ParamBinding:
    name: str
    value: Any
    effective: dt.date | None
    source: str | None
    overridden: bool = False


@attrs.frozen
class RowInfo:
    table: ast.TableDecl
    row: ast.Row
    index: int


class Plan:
    """What evaluation needs, computed once per policy (immutable afterwards)."""

    def __init__(self, model: PolicyModel, checked: CheckResult) -> None:
        self.model = model
        self.types = checked.types
        self.table_columns = checked.table_columns
        self.fields: dict[str, dict[str, ast.Field]] = {}
        for rec in model.records.values():
            names: dict[str, ast.Field] = {}
            for f in rec.fields:
                names[f.key] = f
                if f.label:
                    names[f.label] = f
            self.fields[rec.name] = names
        self.root = model.root_record
        self.rows = {
            r.rule_id: RowInfo(t, r, i) for t in model.tables.values() for i, r in enumerate(t.rows)
        }
        self.overriders = model.overriders()
        self.conclusion_ids = model.conclusion_ids
        self.hit = {
            name: HIT_POLICIES.get(t.hit.lower(), t.hit) for name, t in model.tables.items()
        }
        self.enum_rank: dict[str, dict[str, int]] = {
            e.name: {m.value: i for i, m in enumerate(e.members)} for e in model.enums.values()
        }
        self.let_names = tuple(n for n, d in model.lets.items() if d.name == n)
        self.table_names = tuple(n for n, d in model.tables.items() if d.name == n)
        self.condition_texts: dict[int, str] = {}
        # Policy-only data of traces, computed once.  The caches below are filled on
        # first use with values that depend only on the policy (never replaced by
        # another value), keyed by ``id`` of AST nodes the model keeps alive; so a
        # Plan can be shared between threads without locks.
        self.span_paths = _SpanPaths(self)
        self.rule_conjuncts: dict[str, tuple[ast.Expr, ...]] = {
            rid: tuple(conjuncts(r.when)) for rid, r in model.rules.items()
        }
        self.element_records = _element_records(self)
        self.cell_texts: dict[int, str] = {}
        self.kinds: dict[int, tuple[ast.Expr, str | None]] = {}
        self.decomposed: dict[int, tuple[ast.Expr, _Decomposed]] = {}
        self.json_types: dict[int, tuple[ast.Expr, T | None]] = {}
        self.spellings: dict[str, tuple[str, ...]] = {}
        self.terms: dict[str, Term | None] = {}
        self.enum_terms: tuple[Term, ...] | None = None
        self.inlined: dict[str, ast.Expr] = {}
        self.templates: dict[int, tuple[ast.Expr, _Template]] = {}
        self.conditions: dict[int, tuple[ast.Expr, _ConditionStatic]] = {}
        self.leaf_statics: dict[int, tuple[ast.Expr, _LeafStatic]] = {}  # comparisons
        self.leaf_codes: dict[int, tuple[ast.Expr, int]] = {}  # formula leaves
        self.root_scalars: dict[str, ast.Field | None] = {}  # names read as fields
        self.rule_statics: dict[str, tuple[ast.RuleDecl, Span | None]] = {}
        self.row_statics: dict[str, tuple[str | None, str | None, str, Span | None]] = {}
        self.cell_statics: dict[str, list[list[_CellStatic]]] = {}  # per table, per row
        self.value_statics: dict[str, _ValueStatic] = {}
        self.table_statics: dict[str, _TableStatic] = {}
        # the glossary's texts of the values and tables, and the glossary per set of
        # texts (a pure function of the set; bounded in size)
        self.trace_texts: frozenset[str] | None = None
        self.glossaries: dict[frozenset[str], tuple[Term, ...]] = {}
        # the cache keys of the compiled engine's flat tuple (compiler._seed_flat)
        self.flat_keys: (
            tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], int, int, int] | None
        ) = None

    def text(self, e: ast.Expr) -> str:
        key = id(e)
        found = self.condition_texts.get(key)
        if found is None:
            found = self.condition_texts[key] = to_text(e)
        return found

    def cell_text(self, cell: ast.Cell) -> str:
        found = self.cell_texts.get(id(cell))
        if found is None:
            found = self.cell_texts[id(cell)] = cell_text(cell)
        return found

    def rel_span(self, span: Span | None) -> Span | None:
        return _rel_span(span, self.span_paths)

    def record_type(self, f: ast.Field) -> ast.RecordDecl | None:
        name = f.type.of if f.type.of is not None else f.type.name
        rec = self.model.records.get(name)
        return rec

    def wrap(self, owner: RecordValue, f: ast.Field, value: Any) -> Any:
        """A field's raw value seen through its record declaration (lists element-wise)."""
        rec = self.record_type(f)
        if rec is None:
            return value
        fields = self.fields[rec.name]
        path = owner.field_path(f.key)
        if f.type.of is not None and isinstance(value, tuple | list):
            return tuple(
                RecordValue(rec, v, f"{path}[{i}]", fields) if isinstance(v, Mapping) else v
                for i, v in enumerate(value)
            )
        if isinstance(value, Mapping):
            return RecordValue(rec, value, path, fields)
        return value


@attrs.define
class TableOutcome:
    value: Any
    truths: list[Truth]
    selected: list[int]
    status: dict[int, str]
    shadowed_by: dict[int, str]
    inputs: list[Any]


class Evaluation:
    """One household under one policy at one date (not shared between threads)."""

    def __init__(
        self,
        plan: Plan,
        household: Household,
        as_of: dt.date,
        params: Mapping[str, ParamBinding],
    ) -> None:
        self.plan = plan
        self.household = household
        self.as_of = as_of
        self.params = params
        assert plan.root is not None
        self.root = RecordValue(plan.root, household.data, "", plan.fields[plan.root.name])
        self.cache: dict[str, Any] = {}
        self.rule_raw: dict[str, Truth] = {}
        self.final: dict[str, Truth] = {}
        self.overridden_by: dict[str, str] = {}
        self.tables: dict[str, TableOutcome] = {}
        self.used_params: set[str] = set()
        # while a trace is built: the element truths of top-level any/all/count (id → node,
        # items, truths), which the trace lists again
        self._agg_truths: dict[int, tuple[ast.Call, Any, list[Truth]]] | None = None

    # ------------------------------------------------------------ records
    def field(self, rv: RecordValue, f: ast.Field) -> Any:
        return rv.get(f, self.plan.wrap)

    # ------------------------------------------------------------ named values
    def let(self, name: str) -> Any:
        key = "let:" + name
        if key in self.cache:
            return self.cache[key]
        value = self.eval(self.plan.model.lets[name].expr, ())
        self.cache[key] = value
        return value

    def param(self, name: str) -> Any:
        self.used_params.add(name)
        return self.params[name].value

    def table(self, name: str) -> TableOutcome:
        found = self.tables.get(name)
        if found is None:
            found = self.tables[name] = self._run_table(self.plan.model.tables[name])
        return found

    def conclusion(self, rule_id: str) -> Truth:
        """Whether the rule or row holds, after hit policies and overrides."""
        if rule_id in self.final:
            return self.final[rule_id]
        if rule_id in self.plan.model.rules:
            raw = self.rule_raw.get(rule_id)
            if raw is None:
                raw = self.rule_raw[rule_id] = truth(
                    self.eval(self.plan.model.rules[rule_id].when, ())
                )
        else:
            info = self.plan.rows[rule_id]
            outcome = self.table(info.table.name)
            st = outcome.status[info.index]
            if st == "fired":
                raw = True
            elif st == "undetermined":
                t = outcome.truths[info.index]
                raw = (
                    t
                    if isinstance(t, Unknown)
                    else (unknown_of(outcome.value) or Unknown(frozenset()))
                )
            else:
                raw = False
        result = raw
        for other in self.plan.overriders.get(rule_id, ()):
            ot = self.conclusion(other)
            if ot is True and raw is not False:
                self.overridden_by[rule_id] = other
                result = False
                break
            if isinstance(ot, Unknown) and raw is not False:
                result = ot if not isinstance(result, Unknown) else result | ot
        self.final[rule_id] = result
        return result

    # ------------------------------------------------------------ expressions
    def eval(self, e: ast.Expr, frames: tuple[Any, ...]) -> Any:
        if isinstance(e, ast.Number | ast.Date | ast.String | ast.Bool):
            return e.value
        if isinstance(e, ast.Name):
            return self.name(e.name, frames)
        if isinstance(e, ast.And):
            left = truth(self.eval(e.left, frames))
            if left is False:
                return False
            return and3((left, truth(self.eval(e.right, frames))))
        if isinstance(e, ast.Or):
            left = truth(self.eval(e.left, frames))
            if left is True:
                return True
            return or3((left, truth(self.eval(e.right, frames))))
        if isinstance(e, ast.Not):
            return not3(truth(self.eval(e.operand, frames)))
        if isinstance(e, ast.Compare):
            return compare(e.op, self.eval(e.left, frames), self.eval(e.right, frames))
        if isinstance(e, ast.RuleRef):
            return self.conclusion(e.rule_id)
        if isinstance(e, ast.Attr):
            obj = self.eval(e.obj, frames)
            if isinstance(obj, Unknown) or obj is ABSENT:
                return obj
            if isinstance(obj, RecordValue):
                return self.field(obj, obj.fields[e.name])
            if isinstance(obj, dict):
                return obj.get(e.name, ABSENT)
            raise EvaluationError(f"cannot read .{e.name} of {obj!r}", e.span)
        if isinstance(e, ast.BinOp):
            return self.binop(e, frames)
        if isinstance(e, ast.In):
            return self.in_op(e, frames)
        if isinstance(e, ast.Between):
            v = self.eval(e.value, frames)
            return and3(
                (
                    compare(">=", v, self.eval(e.low, frames)),
                    compare("<=", v, self.eval(e.high, frames)),
                )
            )
        if isinstance(e, ast.IsPred):
            return self.is_pred(e, frames)
        if isinstance(e, ast.Call):
            return self.call(e, frames)
        if isinstance(e, ast.SetLit):
            items = [self.eval(i, frames) for i in e.items]
            unk = unknown_of(*items)
            if unk is not None:
                return unk
            return frozenset(i for i in items if i is not ABSENT)
        if isinstance(e, ast.Neg):
            v = self.eval(e.operand, frames)
            if isinstance(v, Unknown) or v is ABSENT:
                return v
            return -v
        if isinstance(e, ast.If):
            c = truth(self.eval(e.cond, frames))
            if isinstance(c, Unknown):
                return c
            return self.eval(e.then if c else e.else_, frames)
        raise AssertionError(type(e).__name__)

    def name(self, n: str, frames: tuple[Any, ...]) -> Any:
        for frame in reversed(frames):
            if isinstance(frame, RecordValue):
                f = frame.fields.get(n)
                if f is not None:
                    return self.field(frame, f)
            elif n in ELEMENT_NAMES:
                return frame[0]
        if n in BUILTIN_NAMES:
            return self.as_of
        alias = self.plan.model.aliases.get(n)
        if alias is not None:
            kind, canonical = alias
            if kind == "let":
                return self.let(canonical)
            if kind == "param":
                return self.param(canonical)
            return self.table(canonical).value
        if n in self.plan.model.rules or n in self.plan.rows:
            return self.conclusion(n)
        return self.field(self.root, self.root.fields[n])

    def binop(self, e: ast.BinOp, frames: tuple[Any, ...]) -> Any:
        return self._binop(e, self.eval(e.left, frames), self.eval(e.right, frames))

    @staticmethod
    def _binop(e: ast.BinOp, a: Any, b: Any) -> Any:
        # SPEC §8: an absent optional input makes whatever needs it false, even when
        # the other side is unknown; so absence wins over unknown.
        if a is ABSENT or b is ABSENT:
            return ABSENT
        unk = unknown_of(a, b)
        if unk is not None:
            return unk
        try:
            return arithmetic(e.op, a, b)
        except (DivisionByZero, InvalidOperation, ZeroDivisionError):
            raise EvaluationError(f"除数为零 / division by zero in {to_text(e)}", e.span) from None

    def in_op(self, e: ast.In, frames: tuple[Any, ...]) -> Truth:
        return self._in(e, self.eval(e.left, frames), self.eval(e.right, frames))

    @staticmethod
    def _in(e: ast.In, a: Any, b: Any) -> Truth:
        if a is ABSENT or b is ABSENT:
            return False
        unk = unknown_of(a, b)
        if unk is not None:
            return unk
        result = frozenset(a) <= frozenset(b) if isinstance(a, tuple | frozenset) else a in b
        return (not result) if e.negated else result

    def is_pred(self, e: ast.IsPred, frames: tuple[Any, ...]) -> Truth:
        return self._is(e, self.eval(e.value, frames))

    @staticmethod
    def _is(e: ast.IsPred, v: Any) -> Truth:
        pred = PREDICATES[e.pred]
        result: Truth
        if pred == "empty":
            if isinstance(v, Unknown):
                result = v
            elif v is ABSENT or v is None:
                result = True
            elif isinstance(v, str):
                result = v.strip() == ""
            else:
                result = len(v) == 0
        elif pred == "missing":
            result = v is ABSENT or isinstance(v, Unknown)
        else:
            result = not (v is ABSENT or isinstance(v, Unknown))
        return not3(result) if e.negated else result

    def call(self, e: ast.Call, frames: tuple[Any, ...]) -> Any:
        func = FUNCTION_ALIASES.get(e.func, e.func)
        if func == "missing_required":
            return bool(self.household.missing)
        if func in AGGREGATES and len(e.args) == 1:
            return self.aggregate(func, e, frames)
        return apply_function(func, [self.eval(a, frames) for a in e.args])

    def aggregate(self, func: str, e: ast.Call, frames: tuple[Any, ...]) -> Any:
        items = self.eval(e.args[0], frames)
        if isinstance(items, Unknown):
            return items
        if items is ABSENT:
            items = ()
        truths: list[Truth] = []
        values: list[Any] = []
        unknown: Unknown | None = None
        for item in items:
            frame = item if isinstance(item, RecordValue) else (item,)
            inner = (*frames, frame)
            w: Truth = True if e.where is None else truth(self.eval(e.where, inner))
            if func in ("count", "any", "all"):
                body: Truth
                if e.body is not None:
                    body = truth(self.eval(e.body, inner))
                elif func == "all" and e.where is None:
                    body = truth(item)
                else:
                    body = True
                if func == "all":
                    truths.append(or3((not3(w), body)))
                else:
                    truths.append(and3((w, body)))
                continue
            if w is False:
                continue
            if isinstance(w, Unknown):
                unknown = w if unknown is None else unknown | w
                continue
            v = self.eval(e.body, inner) if e.body is not None else item
            if isinstance(v, Unknown):
                unknown = v if unknown is None else unknown | v
            elif v is not ABSENT:
                values.append(v)
        if not frames and self._agg_truths is not None and truths:
            self._agg_truths[id(e)] = (e, items, truths)
        if func == "any":
            return or3(truths)
        if func == "all":
            return and3(truths)
        if func == "count":
            unk = unknown_of(*truths)
            if unk is not None:
                return unk
            return sum(1 for t in truths if t is True)
        return aggregate_value(func, values, unknown)

    # ------------------------------------------------------------ tables
    def _run_table(self, table: ast.TableDecl) -> TableOutcome:
        inputs = [self.eval(i, ()) for i in table.inputs]
        truths: list[Truth] = [
            and3(self.cell(c, v) for c, v in zip(row.cells, inputs, strict=False))
            for row in table.rows
        ]
        return self._table_outcome(table, inputs, truths)

    def _table_outcome(
        self, table: ast.TableDecl, inputs: list[Any], truths: list[Truth]
    ) -> TableOutcome:
        hit = self.plan.hit[table.name]
        outputs = [o.name for o in table.outputs]

        def out(i: int) -> Any:
            vals = [self.eval(x, ()) for x in table.rows[i].outputs]
            if len(vals) == 1:
                return vals[0]
            return dict(zip(outputs, vals, strict=False))

        value, selected, status, shadowed = table_outcome(
            table.name,
            hit,
            table.aggregation,
            [r.rule_id for r in table.rows],
            truths,
            out,
            lambda o: self._rank(table, o),
            table.span,
        )
        return TableOutcome(value, truths, selected, status, shadowed, inputs)

    def _rank(self, table: ast.TableDecl, output: Any) -> int:
        first = output if not isinstance(output, dict) else next(iter(output.values()))
        col = table.outputs[0].type
        if col is None or col.name not in self.plan.model.enums:
            return 0
        enum = self.plan.model.enums[col.name].name
        return self.plan.enum_rank[enum].get(first, 1 << 30)

    def cell(self, cell: ast.Cell, v: Any) -> Truth:
        if isinstance(cell, ast.CellAny):
            return True
        results: list[Truth] = []
        for test in cell.tests:
            if isinstance(test, ast.TestRange):
                lo = self.eval(test.low, ())
                hi = self.eval(test.high, ())
                results.append(
                    and3(
                        (
                            compare(">=" if test.low_closed else ">", v, lo),
                            compare("<=" if test.high_closed else "<", v, hi),
                        )
                    )
                )
            elif isinstance(test, ast.TestCompare):
                results.append(compare(test.op, v, self.eval(test.value, ())))
            else:
                x = self.eval(test.value, ())
                if isinstance(x, frozenset):
                    results.append(unknown_of(v) or (False if v is ABSENT else v in x))
                else:
                    results.append(compare("=", v, x))
        r = or3(results)
        return not3(r) if cell.negated else r

    # ------------------------------------------------------------ results
    def fired(self) -> tuple[str, ...]:
        return tuple(sorted(r for r in self.plan.conclusion_ids if self.conclusion(r) is True))

    def undetermined(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for r in self.plan.conclusion_ids:
            t = self.conclusion(r)
            if isinstance(t, Unknown):
                out[r] = tuple(sorted(t.missing))
        return dict(sorted(out.items()))

    def type_of(self, name: str) -> T | None:
        return self.plan.types.get(name)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.plan.let_names:
            out[name] = to_json_value(self.let(name), self.type_of(name))
        for name in self.plan.table_names:
            out[name] = self._table_json(name)
        return out

    def _table_json(self, name: str) -> Any:
        cols = self.plan.table_columns.get(name, {})
        single = self.type_of(name) if len(cols) != 1 else next(iter(cols.values()))
        return table_json(self.table(name).value, cols, single)

    def param_uses(self) -> tuple[ParamUse, ...]:
        uses = []
        for name in sorted(self.used_params):
            b = self.params[name]
            decl = self.plan.model.params[name]
            t = self.plan.types.get(name)
            uses.append(
                ParamUse(
                    name,
                    decl.label,
                    to_json_value(b.value, t or _param_type(decl)),
                    decl.unit,
                    b.effective.isoformat() if b.effective else None,
                    b.source,
                    b.overridden,
                )
            )
        return tuple(uses)

    # ------------------------------------------------------------ trace
    def trace(self) -> Trace:
        """The decision as data: every conclusion with its conditions (broken down
        where they decide the outcome), every derived value with its computation,
        every table with the rows it matched, and the terms the texts use."""
        root = self.plan.span_paths
        self._memo: dict[int, tuple[ast.Expr, Any]] = {}
        self._conditions: dict[tuple[int, int, bool], tuple[ast.Expr, ConditionTrace]] = {}
        self._collected: dict[int, tuple[ast.Expr, tuple[Comparison, ...]]] = {}
        self._observed: dict[int, tuple[ast.Expr, Observation]] = {}
        self._read: dict[int, tuple[ast.Expr, tuple[Comparison, ...], tuple[Observation, ...]]] = {}
        self._traced_tables: dict[str, tuple[TableOutcome, list[tuple[ConditionTrace, ...]]]] = {}
        self._names: dict[str, Any] = {}
        self._texts: set[str] = set()  # of the conditions: the glossary's names are in them
        self._agg_truths = {}
        conclusions = tuple(self._conclusion_trace(r, root) for r in self.plan.conclusion_ids)
        values = tuple(self._value_trace(n, root) for n in self.plan.let_names)
        tables = tuple(self._table_trace(n, root) for n in self.plan.table_names)
        return Trace(
            conclusions,
            values,
            tables,
            tuple(self.household.missing),
            self._terms(),
        )

    def _ev(self, e: ast.Expr, frames: tuple[Any, ...] = ()) -> Any:
        """Evaluate at the top level, memoised per node while the trace is built (the
        same condition is read by its parent, its comparisons and its parts)."""
        if frames:
            return self.eval(e, frames)
        cls = e.__class__
        if cls in _LITERALS:
            return e.value  # type: ignore[union-attr]
        if cls is ast.Name:  # a name reads the same value wherever it is written
            name = e.name  # type: ignore[union-attr]
            names = self._names
            if name in names:
                return names[name]
            f = self.plan.root_scalars.get(name, False)
            if f is False:
                f = self.plan.root_scalars[name] = self._root_scalar(name)
            if f is None:
                found = names[name] = self.name(name, ())
                return found
            # ``name`` reads a field of the household that is no record: as RecordValue.get
            data = self.root.data
            key = f.key  # type: ignore[union-attr]
            if key in data:
                found = data[key]
            elif f.required:  # type: ignore[union-attr]
                found = Unknown(frozenset([key]))
            else:
                found = ABSENT
            names[name] = found
            return found
        hit = self._memo.get(id(e))
        if hit is not None and hit[0] is e:  # the node is kept alive, so its id is its own
            return hit[1]
        # the same evaluation as ``eval`` (same operands read, same order, same
        # short-circuits), with the operands memoised: a condition's comparisons and
        # parts read them again
        ev = self._ev
        value: Any
        if cls is ast.Compare:
            assert isinstance(e, ast.Compare)
            value = compare(e.op, ev(e.left), ev(e.right))
        elif cls is ast.And:
            assert isinstance(e, ast.And)
            left = truth(ev(e.left))
            value = False if left is False else and3((left, truth(ev(e.right))))
        elif cls is ast.Or:
            assert isinstance(e, ast.Or)
            left = truth(ev(e.left))
            value = True if left is True else or3((left, truth(ev(e.right))))
        elif cls is ast.Not:
            assert isinstance(e, ast.Not)
            value = not3(truth(ev(e.operand)))
        elif cls is ast.Between:
            assert isinstance(e, ast.Between)
            v = ev(e.value)
            value = and3((compare(">=", v, ev(e.low)), compare("<=", v, ev(e.high))))
        elif cls is ast.BinOp:
            assert isinstance(e, ast.BinOp)
            value = self._binop(e, ev(e.left), ev(e.right))
        elif cls is ast.In:
            assert isinstance(e, ast.In)
            value = self._in(e, ev(e.left), ev(e.right))
        elif cls is ast.IsPred:
            assert isinstance(e, ast.IsPred)
            value = self._is(e, ev(e.value))
        elif cls is ast.Attr:
            assert isinstance(e, ast.Attr)
            obj = ev(e.obj)
            if isinstance(obj, Unknown) or obj is ABSENT:
                value = obj
            elif isinstance(obj, RecordValue):
                value = self.field(obj, obj.fields[e.name])
            else:
                value = self.eval(e, ())
        elif cls is ast.Neg:
            assert isinstance(e, ast.Neg)
            v = ev(e.operand)
            value = v if isinstance(v, Unknown) or v is ABSENT else -v
        elif cls is ast.If:
            assert isinstance(e, ast.If)
            c = truth(ev(e.cond))
            value = c if isinstance(c, Unknown) else ev(e.then if c else e.else_)
        elif cls is ast.RuleRef:
            assert isinstance(e, ast.RuleRef)
            value = self.conclusion(e.rule_id)
        elif cls is ast.Call:
            assert isinstance(e, ast.Call)
            func = FUNCTION_ALIASES.get(e.func, e.func)
            if func == "missing_required":
                value = bool(self.household.missing)
            elif func in AGGREGATES and len(e.args) == 1:
                value = self.aggregate(func, e, ())
            else:
                value = apply_function(func, [ev(a) for a in e.args])
        else:
            value = self.eval(e, ())
        self._memo[id(e)] = (e, value)
        return value

    def _root_scalar(self, n: str) -> ast.Field | None:
        """The field of the household (not a record or list of records) that ``name(n, ())``
        reads, if it reads one."""
        plan = self.plan
        if n in BUILTIN_NAMES or n in plan.model.aliases or n in plan.model.rules:
            return None
        if n in plan.rows or plan.root is None:
            return None
        f = plan.fields[plan.root.name].get(n)
        if f is None or plan.record_type(f) is not None:
            return None
        return f

    def _status(self, rule_id: str) -> str:
        t = self.conclusion(rule_id)
        if t is True:
            return "fired"
        if isinstance(t, Unknown):
            return "undetermined"
        if rule_id in self.overridden_by:
            return "overridden"
        return "not_fired"

    def _conclusion_trace(self, rule_id: str, root: _SpanPaths) -> ConclusionTrace:
        status = self._status(rule_id)
        t = self.conclusion(rule_id)
        missing = tuple(sorted(t.missing)) if isinstance(t, Unknown) else ()
        if rule_id in self.plan.model.rules:
            rs = self.plan.rule_statics.get(rule_id)
            if rs is None:
                rule = self.plan.model.rules[rule_id]
                rs = self.plan.rule_statics[rule_id] = (rule, self.plan.rel_span(rule.span))
            rule, span = rs
            # break down the conditions that decide the rule's own (pre-override) truth
            here: tuple[TruthValue, Combinator | None] = (_tv(self.rule_raw.get(rule_id, t)), "and")
            condition = self._condition
            conds = tuple([condition(c, root, 0, here) for c in self.plan.rule_conjuncts[rule_id]])
            return ConclusionTrace(
                rule_id,
                "rule",
                rule.title,
                rule.cite,
                rule.message,
                rule.severity,
                status,  # type: ignore[arg-type]
                conds,
                missing,
                None,
                None,
                self.overridden_by.get(rule_id),
                None,
                span,
            )
        info = self.plan.rows[rule_id]
        table = info.table
        outcome, cells = self._traced_table(table)
        row_status = outcome.status.get(info.index, "not_fired")
        if status == "not_fired" and row_status == "shadowed":
            status = "shadowed"
        static = self.plan.row_statics.get(rule_id)
        if static is None:
            static = self.plan.row_statics[rule_id] = self._row_static(info)
        title_cite, message, hit, span = static
        return ConclusionTrace(
            rule_id,
            "row",
            None,
            title_cite,
            message,
            None,
            status,  # type: ignore[arg-type]
            cells[info.index],
            missing,
            table.name,
            hit,
            self.overridden_by.get(rule_id),
            outcome.shadowed_by.get(info.index),
            span,
        )

    def _row_static(self, info: RowInfo) -> tuple[str | None, str | None, str, Span | None]:
        return (
            info.row.cite or info.table.cite,
            info.row.message,
            self.plan.hit[info.table.name],
            self.plan.rel_span(info.row.span),
        )

    def _traced_table(
        self, table: ast.TableDecl
    ) -> tuple[TableOutcome, list[tuple[ConditionTrace, ...]]]:
        """A table's outcome and the conditions (cells) of each row, made once per household.

        Each cell is tested once, for both: when the table has not been run yet (the
        compiled engine does not record table outcomes), its row truths are those of the
        cells, as :meth:`_run_table` computes them."""
        name = table.name
        found = self._traced_tables.get(name)
        if found is not None:
            return found
        statics = self.plan.cell_statics.get(name)
        if statics is None:
            statics = self.plan.cell_statics[name] = self._cell_statics(table)
        outcome = self.tables.get(name)
        inputs = outcome.inputs if outcome is not None else [self._ev(i) for i in table.inputs]
        rows: list[tuple[ConditionTrace, ...]] = []
        truths: list[Truth] = []
        for row_cells in statics:
            conds = []
            row_truth: Truth = True
            unknown: Unknown | None = None
            for cs in row_cells:
                cond, t = self._cell_condition(cs, inputs[cs[0]])
                conds.append(cond)
                if t is False:
                    row_truth = False
                elif isinstance(t, Unknown):
                    unknown = t if unknown is None else unknown | t
            rows.append(tuple(conds))
            # and3 of the row's cells (a "-" cell is true)
            truths.append(False if row_truth is False else unknown if unknown is not None else True)
        if outcome is None:
            outcome = self.tables[name] = self._table_outcome(table, list(inputs), truths)
        found = self._traced_tables[name] = (outcome, rows)
        return found

    def _cell_statics(self, table: ast.TableDecl) -> list[list[_CellStatic]]:
        out = []
        text = self.plan.text
        for row in table.rows:
            cells: list[_CellStatic] = []
            for i, (inp, cell) in enumerate(zip(table.inputs, row.cells, strict=False)):
                if not isinstance(cell, ast.CellTests):
                    continue
                tests: list[_TestStatic] = []
                for test in cell.tests:
                    if isinstance(test, ast.TestCompare):
                        tests.append((0, test.op, test.value, text(test.value), "", None, ""))
                    elif isinstance(test, ast.TestRange):
                        tests.append(
                            (
                                1,
                                ">=" if test.low_closed else ">",
                                test.low,
                                text(test.low),
                                "<=" if test.high_closed else "<",
                                test.high,
                                text(test.high),
                            )
                        )
                    else:
                        tests.append((2, "=", test.value, text(test.value), "", None, ""))
                column = text(inp)
                test_text = self.plan.cell_text(cell)
                texts = {f"{column} : {test_text}"}
                if tests:
                    texts.add(column)
                    texts.update(t[3] for t in tests)
                    texts.update(t[6] for t in tests if t[0] == 1)
                cells.append(
                    (
                        i,
                        inp,
                        cell.negated,
                        tuple(tests),
                        f"{column} : {test_text}",
                        column,
                        test_text,
                        self.plan.rel_span(cell.span),
                        self._decompose(inp)[1] is not None,
                        self._kind(inp),
                        frozenset(texts),
                    )
                )
            out.append(cells)
        return out

    def _cell_condition(self, cs: _CellStatic, v: Any) -> tuple[ConditionTrace, Truth]:
        """A table cell as a condition: ``Evaluation.cell`` and its comparisons, each test
        compared once."""
        _, _, negated, tests, text, column, _, _, _, kind, texts = cs
        ev = self._ev
        of = self._comparison_of
        if len(tests) == 1 and tests[0][0] == 0:  # the common case: one comparison
            _, op, node, right, _, _, _ = tests[0]
            rv = node.value if node.__class__ in _LITERALS else ev(node)  # type: ignore[union-attr]
            ct = compare(op, v, rv)  # or3 of the one result
            one = (of(column, v, op, right, rv, kind, ct),)
            self._texts.update(texts)
            if negated:
                ct = not3(ct)
            return self._cell_trace(cs, ct, one)
        comparisons = []
        results: list[Truth] = []
        every = True  # every test gave a comparison
        for code, op, node, right, op2, node2, right2 in tests:
            rv = node.value if node.__class__ in _LITERALS else ev(node)  # type: ignore[union-attr]
            if code == 0:
                t = compare(op, v, rv)
                results.append(t)
                comparisons.append(self._comparison_of(column, v, op, right, rv, kind, t))
            elif code == 1:
                assert node2 is not None
                rv2 = ev(node2)
                t1 = compare(op, v, rv)
                t2 = compare(op2, v, rv2)
                results.append(and3((t1, t2)))
                comparisons.append(self._comparison_of(column, v, op, right, rv, kind, t1))
                comparisons.append(self._comparison_of(column, v, op2, right2, rv2, kind, t2))
            elif isinstance(rv, frozenset):
                results.append(unknown_of(v) or (False if v is ABSENT else v in rv))
                every = False
            else:
                t = compare("=", v, rv)
                results.append(t)
                comparisons.append(self._comparison_of(column, v, "=", right, rv, kind, t))
        if every:
            self._texts.update(texts)
        else:
            self._texts.add(text)
            for c in comparisons:
                self._texts.update((c.left, c.right))
        ct = or3(results)
        if negated:
            ct = not3(ct)
        return self._cell_trace(cs, ct, tuple(comparisons))

    def _cell_trace(
        self, cs: _CellStatic, ct: Truth, comparisons: tuple[Comparison, ...]
    ) -> tuple[ConditionTrace, Truth]:
        _, inp, _, _, text, column, test_text, span, decomposable, _, _ = cs
        tv: TruthValue = "true" if ct is True else "false" if ct is False else "unknown"
        parts: tuple[ConditionTrace, ...] = ()
        if tv != "true" and decomposable:
            # why the column (a yes/no derived value) has the value that fails the cell
            parts = (self._condition(inp, self.plan.span_paths, 1, None),)
        return (
            ConditionTrace(
                text,
                tv,
                tuple(sorted(ct.missing)) if isinstance(ct, Unknown) else (),
                comparisons,
                (),
                span,
                parts,
                None,
                None,
                column,
                test_text,
            ),
            ct,
        )

    def _decompose(self, e: ast.Expr) -> _Decomposed:
        """:meth:`_decompose_static`, computed once per node and policy."""
        hit = self.plan.decomposed.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        found = self._decompose_static(e)
        self.plan.decomposed[id(e)] = (e, found)
        return found

    def _decompose_static(self, e: ast.Expr) -> _Decomposed:
        """How a condition breaks down: ``(combinator, derived value it names, parts)``.

        ``a and b`` → ``("and", None, [a, b])``; ``not a`` → ``("not", None, [a])``; the
        name of a yes/no derived value → its definition's parts, or the definition
        itself as the single part (combinator None).
        """
        if isinstance(e, ast.And):
            return "and", None, tuple(conjuncts(e))
        if isinstance(e, ast.Or):
            return "or", None, tuple(_disjuncts(e))
        if isinstance(e, ast.Not):
            return "not", None, (e.operand,)
        if isinstance(e, ast.Name):
            alias = self.plan.model.aliases.get(e.name)
            if alias is not None and alias[0] == "let":
                t = self.type_of(alias[1])
                if t is not None and t.kind == "bool":
                    inner = self.plan.model.lets[alias[1]].expr
                    if isinstance(inner, ast.And | ast.Or | ast.Not):
                        combinator, _, parts = self._decompose(inner)
                        return combinator, alias[1], parts
                    return None, alias[1], (inner,)
        return None, None, ()

    def _condition(
        self,
        c: ast.Expr,
        root: _SpanPaths,
        depth: int,
        parent: tuple[TruthValue, Combinator | None] | None,
    ) -> ConditionTrace:
        """One condition with its actual values.  Its parts are broken down when this
        condition decides its parent's outcome (same truth, or under ``not``), up to
        ``_MAX_DEPTH`` levels."""
        value = self._ev(c)
        if value.__class__ is not bool:
            value = truth(value)
        tv: TruthValue = "true" if value is True else "false" if value is False else "unknown"
        decisive = parent is None or parent[1] == "not" or parent[0] == tv
        # the same node at the same depth and decisiveness gives the same record (a
        # derived condition read by several rules is broken down once per household)
        key = (id(c), depth, decisive)
        hit = self._conditions.get(key)
        if hit is not None and hit[0] is c:
            return hit[1]
        static = self.plan.conditions.get(id(c))
        if static is None or static[0] is not c:
            static = (c, self._condition_static(c))
            self.plan.conditions[id(c)] = static
        text, span, combinator, ref, subs, (cmp_leaves, obs_leaves), is_call, texts = static[1]
        self._texts.update(texts)
        # comparisons and names read by the condition (not inside aggregations), each name
        # once: the leaves listed once per policy, their records made once per household
        read = self._read.get(id(c))
        if read is None or read[0] is not c:
            comparisons: tuple[Comparison, ...] = ()
            if cmp_leaves:
                leaf = self._leaf_comparisons
                if len(cmp_leaves) == 1:
                    comparisons = leaf(cmp_leaves[0])
                else:
                    for x in cmp_leaves:
                        comparisons += leaf(x)
            observations: tuple[Observation, ...] = ()
            if obs_leaves:
                observations = tuple(map(self._observation, obs_leaves))
            read = self._read[id(c)] = (c, comparisons, observations)
        _, comparisons, observations = read
        parts: tuple[ConditionTrace, ...] = ()
        if subs and decisive and depth < _MAX_DEPTH:
            here = (tv, combinator)
            parts = tuple([self._condition(x, root, depth + 1, here) for x in subs])
        elements: tuple[ElementTrace, ...] = ()
        if is_call and decisive:
            assert isinstance(c, ast.Call)
            elements = self._elements(c)
        found = ConditionTrace(
            text,
            tv,
            tuple(sorted(value.missing)) if tv == "unknown" else (),
            comparisons,
            observations,
            span,
            parts,
            combinator if parts else None,
            ref,
            None,
            None,
            elements,
        )
        self._conditions[key] = (c, found)
        return found

    def _condition_static(self, c: ast.Expr) -> _ConditionStatic:
        combinator, ref, subs = self._decompose(c)
        text = self.plan.text
        spec = _collect_spec(c, text)
        texts = {text(c)}
        for x in spec[0]:
            if isinstance(x, ast.Compare):
                texts.update((text(x.left), text(x.right)))
            elif isinstance(x, ast.Between):
                texts.update((text(x.value), text(x.low), text(x.high)))
        texts.update(text(o) for o in spec[1])
        return (
            text(c),
            self.plan.rel_span(c.span),
            combinator,
            ref,
            subs,
            spec,
            isinstance(c, ast.Call),
            frozenset(texts),
        )

    def _elements(self, e: ast.Call) -> tuple[ElementTrace, ...]:
        """For ``any``/``all``/``count`` over records: whether each element qualified."""
        func = FUNCTION_ALIASES.get(e.func, e.func)
        if func not in ("any", "all", "count") or len(e.args) != 1:
            return ()
        if e.where is None and e.body is None:
            return ()
        items = self._ev(e.args[0], ())
        if not isinstance(items, tuple):
            return ()
        assert self._agg_truths is not None
        seen = self._agg_truths.get(id(e))
        if seen is not None and seen[0] is e and seen[1] is items:
            # the truths the aggregate computed for these items (same where, same body)
            if not all(isinstance(item, RecordValue) for item in items):
                return ()
            return tuple(
                [ElementTrace(item.path, _tv(t)) for item, t in zip(items, seen[2], strict=True)]
            )
        out = []
        for item in items:
            if not isinstance(item, RecordValue):
                return ()
            w: Truth = True if e.where is None else truth(self.eval(e.where, (item,)))
            b: Truth = True if e.body is None else truth(self.eval(e.body, (item,)))
            t = or3((not3(w), b)) if func == "all" else and3((w, b))
            out.append(ElementTrace(item.path, _tv(t)))
        return tuple(out)

    def _leaf_comparisons(self, e: ast.Expr) -> tuple[Comparison, ...]:
        """The comparisons of a ``Compare`` or ``Between`` (memoised per household)."""
        hit = self._collected.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        static = self.plan.leaf_statics.get(id(e))
        if static is None or static[0] is not e:
            static = (e, self._leaf_static(e))
            self.plan.leaf_statics[id(e)] = static
        ev = self._ev
        of = self._comparison_of
        found: tuple[Comparison, ...]
        left, left_text, kind, sides = static[1]
        lv = ev(left)
        if len(sides) == 1:
            op, right, right_text, movable = sides[0]
            rv = ev(right)
            found = (of(left_text, lv, op, right_text, rv, kind, compare(op, lv, rv), movable),)
        else:
            found = tuple(
                [
                    of(left_text, lv, op, right_text, rv, kind, compare(op, lv, rv), movable)
                    for op, right, right_text, movable in sides
                    for rv in (ev(right),)
                ]
            )
        self._collected[id(e)] = (e, found)
        return found

    def _leaf_static(self, e: ast.Expr) -> _LeafStatic:
        text = self.plan.text
        if isinstance(e, ast.Compare):
            return (
                e.left,
                text(e.left),
                self._kind(e.left) or self._kind(e.right),
                ((e.op, e.right, text(e.right), not _constant(e.left)),),
            )
        assert isinstance(e, ast.Between)
        return (
            e.value,
            text(e.value),
            self._kind(e.value),
            ((">=", e.low, text(e.low), True), ("<=", e.high, text(e.high), True)),
        )

    def _observation(self, e: ast.Expr) -> Observation:
        """A name, path, rule or aggregate read by a condition, with its value."""
        hit = self._observed.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        seen: Any
        if isinstance(e, ast.RuleRef):
            seen = _tv(self.conclusion(e.rule_id))
        else:
            seen = self._json(e, self._ev(e, ()))
        found = Observation(self.plan.text(e), seen)
        self._observed[id(e)] = (e, found)
        return found

    def _json(self, e: ast.Expr, v: Any) -> Any:
        hit = self.plan.json_types.get(id(e))
        if hit is None or hit[0] is not e:
            hit = (e, self._json_type(e))
            self.plan.json_types[id(e)] = hit
        return to_json_value(v, hit[1])

    def _json_type(self, e: ast.Expr) -> T | None:
        t: T | None = None
        if isinstance(e, ast.Name):
            alias = self.plan.model.aliases.get(e.name)
            if alias is not None:
                t = self.plan.types.get(alias[1])
                if alias[0] == "param":
                    t = _param_type(self.plan.model.params[alias[1]])
            elif self.plan.root is not None:
                f = self.plan.fields[self.plan.root.name].get(e.name)
                if f is not None and f.type.name in ("money", "金额"):
                    t = T("money")
        return t

    def _comparison(
        self,
        left: str,
        lv: Any,
        op: str,
        right: str,
        rv: Any,
        kind: str | None = None,
        *,
        movable: bool = True,
    ) -> Comparison:
        return self._comparison_of(left, lv, op, right, rv, kind, compare(op, lv, rv), movable)

    @staticmethod
    def _comparison_of(
        left: str,
        lv: Any,
        op: str,
        right: str,
        rv: Any,
        kind: str | None,
        t: Truth,
        movable: bool = True,
    ) -> Comparison:
        tv: TruthValue = "true" if t is True else "false" if t is False else "unknown"
        gap = None
        lc, rc = lv.__class__, rv.__class__
        if lc is bool and rc is bool:  # no gap, shown as they are, never "would fire at"
            return Comparison(left, lv, op, right, rv, tv, None, kind, None)
        if lc in _NUMBERS and rc in _NUMBERS:  # the common case, without isinstance
            gap = format(Decimal(lv) - Decimal(rv), "f")
            pl = format(lv, "f") if lc is Decimal else lv
            pr = format(rv, "f") if rc is Decimal else rv
        else:
            numbers = isinstance(lv, Decimal | int) and isinstance(rv, Decimal | int)
            if numbers and not isinstance(lv, bool) and not isinstance(rv, bool):
                gap = format(Decimal(lv) - Decimal(rv), "f")
            elif isinstance(lv, dt.date) and isinstance(rv, dt.date):
                gap = str((lv - rv).days)
            pl, pr = _plain(lv), _plain(rv)
        would = _would_fire_at(op, lv, rv, kind) if tv == "false" and movable else None
        return Comparison(left, pl, op, right, pr, tv, gap, kind, would)

    def _kind(self, e: ast.Expr) -> str | None:
        """The value type of an expression, for showing its value (money, date, …)."""
        hit = self.plan.kinds.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        found = self._kind_static(e)
        self.plan.kinds[id(e)] = (e, found)
        return found

    def _kind_static(self, e: ast.Expr) -> str | None:
        if isinstance(e, ast.Date):
            return "date"
        if isinstance(e, ast.String):
            return "text"
        if isinstance(e, ast.Bool):
            return "bool"
        if isinstance(e, ast.Name):
            if e.name in BUILTIN_NAMES:
                return "date"
            alias = self.plan.model.aliases.get(e.name)
            if alias is not None:
                if alias[0] == "param":
                    pt = type_of_ref(self.plan.model, self.plan.model.params[alias[1]].type)
                    return pt.kind if pt is not None else None
                t = self.plan.types.get(alias[1])
                if t is not None and alias[0] == "table":
                    cols = self.plan.table_columns.get(alias[1], {})
                    if len(cols) == 1:
                        t = next(iter(cols.values()))
                return t.kind if t is not None else None
            if self.plan.root is not None:
                return self._field_kind(self.plan.fields[self.plan.root.name].get(e.name))
            return None
        if isinstance(e, ast.Attr):
            return self._field_kind(self._attr_field(e))
        if isinstance(e, ast.BinOp):
            if e.op in ("∩", "∪"):
                return "set"
            kinds = {self._kind(e.left), self._kind(e.right)}
            if "money" in kinds:
                return "money"
            if kinds <= {"int", None} and e.op != "/":
                return "int" if "int" in kinds else None
            return "number"
        if isinstance(e, ast.Neg):
            return self._kind(e.operand)
        if isinstance(e, ast.If):
            return self._kind(e.then) or self._kind(e.else_)
        if isinstance(e, ast.Call):
            func = FUNCTION_ALIASES.get(e.func, e.func)
            if func in ("count", "months"):
                return "int"
            if func in ("any", "all", "missing_required"):
                return "bool"
            if func in ("round", "abs", "min", "max") and e.body is None:
                return next((k for k in map(self._kind, e.args) if k is not None), None)
        return None

    def _field_kind(self, f: ast.Field | None) -> str | None:
        if f is None:
            return None
        t = type_of_ref(self.plan.model, f.type)
        return t.kind if t is not None else None

    def _attr_field(self, e: ast.Attr) -> ast.Field | None:
        """The declared field an ``a.b`` path reads (None inside aggregations)."""
        if isinstance(e.obj, ast.Name):
            if self.plan.root is None or e.obj.name in self.plan.model.aliases:
                return None
            owner = self.plan.fields[self.plan.root.name].get(e.obj.name)
        elif isinstance(e.obj, ast.Attr):
            owner = self._attr_field(e.obj)
        else:
            return None
        if owner is None:
            return None
        rec = self.plan.record_type(owner)
        return None if rec is None else self.plan.fields[rec.name].get(e.name)

    def _leaf_text(self, x: ast.Expr) -> str | None:
        """A name or path of a formula replaced by its value (inputs as given); an
        aggregation over a list (``any(members where …)``) by its result."""
        hit = self.plan.leaf_codes.get(id(x))
        if hit is None or hit[0] is not x:
            hit = (x, self._leaf_code(x))
            self.plan.leaf_codes[id(x)] = hit
        code = hit[1]
        if code == 0:
            return None
        v = self._ev(x, ())
        if code == 2:  # an input as given: the common plain values first
            cls = v.__class__
            if cls is Decimal:
                return format(v, "f")  # _value_text(_plain(v)): a number's text
            if cls is int:
                return str(v)
            if cls is bool:
                return "true" if v else "false"
        if code == 1:
            return _value_text(to_json_value(v, None))
        if isinstance(v, RecordValue) or (
            isinstance(v, tuple) and any(isinstance(i, RecordValue) for i in v)
        ):
            return None  # a record or list of records: keep its name
        return _value_text(_plain(v) if code == 2 else self._json(x, v))

    def _leaf_code(self, x: ast.Expr) -> int:
        """How :meth:`_leaf_text` shows a node: 0 not at all, 1 an aggregation's result,
        2 an input as given, 3 a named value as the result shows it."""
        if isinstance(x, ast.Call):
            func = FUNCTION_ALIASES.get(x.func, x.func)
            if func in AGGREGATES and (x.where is not None or x.body is not None):
                return 1
            if func in AGGREGATES and len(x.args) == 1:
                return 1
            return 0
        if not isinstance(x, ast.Name | ast.Attr):
            return 0
        is_input = isinstance(x, ast.Attr) or (
            x.name not in self.plan.model.aliases and x.name not in BUILTIN_NAMES
        )
        return 2 if is_input else 3

    def _value_trace(self, name: str, root: _SpanPaths) -> ValueTrace:
        static = self.plan.value_statics.get(name)
        if static is None:
            static = self.plan.value_statics[name] = self._value_static(name)
        decl, t, formula, span, kind, inlined = static
        value = self.let(name)
        try:
            computed = self._substituted(decl.expr)
        except (KeyError, AttributeError, TypeError):
            computed = formula
        expanded = None
        if inlined is not None:
            try:
                expanded = self._substituted(inlined)
            except (KeyError, AttributeError, TypeError):
                expanded = None
        return ValueTrace(
            name,
            decl.label,
            to_json_value(value, t),
            formula,
            computed,
            decl.cite,
            tuple(sorted(value.missing)) if isinstance(value, Unknown) else (),
            span,
            kind,
            expanded,
        )

    def _value_static(self, name: str) -> _ValueStatic:
        """A derived value's declaration, type, formula, relative span, kind, and its
        formula with the sums it names inlined (None when there are none)."""
        decl = self.plan.model.lets[name]
        t = self.type_of(name)
        inlined: ast.Expr | None = None
        if t is not None and t.numeric:
            inlined = self.plan.inlined.get(name)
            if inlined is None:
                inlined = self.plan.inlined.setdefault(name, self._inline(decl.expr))
            if inlined is decl.expr:
                inlined = None
        return (
            decl,
            t,
            self.plan.text(decl.expr),
            self.plan.rel_span(decl.span),
            t.kind if t is not None else None,
            inlined,
        )

    def _substituted(self, e: ast.Expr) -> str:
        """``to_text(e, self._leaf_text)``, from a template made once per policy: the
        fixed text between the nodes that ``_leaf_text`` may replace."""
        hit = self.plan.templates.get(id(e))
        if hit is None or hit[0] is not e:
            hit = (e, _template(e))
            self.plan.templates[id(e)] = hit
        sub = self._leaf_text
        out = []
        for piece in hit[1]:
            if isinstance(piece, str):
                out.append(piece)
            else:
                node, leaf = piece
                shown = sub(node) if leaf else None
                out.append(shown if shown is not None else to_text(node, sub))
        return "".join(out)

    def _inline(self, e: ast.Expr) -> ast.Expr:
        """``e`` with every derived sum or difference it names replaced by its own
        formula, down to the inputs (the same object when nothing was replaced)."""
        if isinstance(e, ast.Name):
            alias = self.plan.model.aliases.get(e.name)
            if alias is not None and alias[0] == "let":
                inner = self.plan.model.lets[alias[1]].expr
                if self._additive(inner):
                    return self._inline(inner)
            return e
        if isinstance(e, ast.BinOp):
            left, right = self._inline(e.left), self._inline(e.right)
            if left is e.left and right is e.right:
                return e
            return attrs.evolve(e, left=left, right=right)
        if isinstance(e, ast.Neg):
            operand = self._inline(e.operand)
            return e if operand is e.operand else attrs.evolve(e, operand=operand)
        if isinstance(e, ast.Call) and e.where is None and e.body is None:
            if FUNCTION_ALIASES.get(e.func, e.func) not in ("round", "abs", "min", "max"):
                return e
            args = tuple(self._inline(a) for a in e.args)
            if all(a is b for a, b in zip(args, e.args, strict=True)):
                return e
            return attrs.evolve(e, args=args)
        return e

    def _additive(self, e: ast.Expr) -> bool:
        """A sum or difference of inputs, numbers and other such sums."""
        if isinstance(e, ast.BinOp):
            return (
                e.op in ("+", "-")
                and self._additive_leaf(e.left)
                and (self._additive_leaf(e.right))
            )
        return False

    def _additive_leaf(self, e: ast.Expr) -> bool:
        if isinstance(e, ast.Number | ast.Attr):
            return True
        if isinstance(e, ast.BinOp):
            return self._additive(e)
        if isinstance(e, ast.Name):
            alias = self.plan.model.aliases.get(e.name)
            if alias is None:
                return e.name not in BUILTIN_NAMES
            if alias[0] == "let":
                return self._additive(self.plan.model.lets[alias[1]].expr)
            return alias[0] == "param"
        return False

    def _table_trace(self, name: str, root: _SpanPaths) -> TableTrace:
        static = self.plan.table_statics.get(name)
        if static is None:
            static = self.plan.table_statics[name] = self._table_static(name)
        table, inputs_static, ids, span = static
        outcome = self.table(name)
        truths = outcome.truths
        return TableTrace(
            name,
            table.label,
            self.plan.hit[name],
            tuple(
                [
                    Observation(text, to_json_value(v, t))
                    for (text, t), v in zip(inputs_static, outcome.inputs, strict=False)
                ]
            ),
            tuple([ids[i] for i, t in enumerate(truths) if t is True]),
            tuple([ids[i] for i in outcome.selected]),
            tuple([ids[i] for i, s in sorted(outcome.status.items()) if s == "undetermined"]),
            self._table_json(name),
            table.cite,
            span,
        )

    def _table_static(self, name: str) -> _TableStatic:
        """A table's declaration, its inputs' texts and JSON types, row ids, relative span."""
        table = self.plan.model.tables[name]
        return (
            table,
            tuple((self.plan.text(i), self._json_type(i)) for i in table.inputs),
            tuple(r.rule_id for r in table.rows),
            self.plan.rel_span(table.span),
        )

    # ------------------------------------------------------------ trace terms
    def _terms(self) -> tuple[Term, ...]:
        """The glossary of the names the trace's texts use: Chinese and English labels,
        value type, and whether the policy declares the field personal data.

        The texts are those of the conditions (gathered as they are made: their texts,
        the two sides of their comparisons, the names they observe) and the policy-only
        ones of the values (name, formula) and tables (name, inputs); the glossary depends
        on nothing else, so it is made once per set of texts and policy."""
        plan = self.plan
        base = plan.trace_texts
        if base is None:
            fixed: set[str] = set()
            for name in plan.let_names:
                fixed.update((name, plan.text(plan.model.lets[name].expr)))
            for name in plan.table_names:
                fixed.add(name)
                fixed.update(plan.text(i) for i in plan.model.tables[name].inputs)
            base = plan.trace_texts = frozenset(fixed)
        key = base.union(self._texts)
        found = plan.glossaries.get(key)
        if found is None:
            found = self._glossary(key)
            if len(plan.glossaries) < 4096:
                plan.glossaries[key] = found
        return found

    def _glossary(self, texts: frozenset[str]) -> tuple[Term, ...]:
        plan = self.plan
        known = plan.spellings
        spellings: set[str] = set()
        for text in texts:
            found = known.get(text)
            if found is None:
                names = set(_NAMES.findall(text))
                names.discard("")
                found = known[text] = tuple(names)
            spellings.update(found)
        cached = plan.terms
        terms = []
        for spelling in sorted(spellings):
            if spelling in cached:
                term = cached[spelling]
            else:
                term = cached[spelling] = self._term(spelling, plan.element_records)
            if term is not None:
                terms.append(term)
        enum_terms = plan.enum_terms
        if enum_terms is None:
            enum_terms = plan.enum_terms = tuple(self._enum_terms())
        terms.extend(enum_terms)
        return tuple(terms)

    def _term(self, spelling: str, elements: list[ast.RecordDecl]) -> Term | None:
        model = self.plan.model
        alias = model.aliases.get(spelling)
        if alias is not None:
            kind, canonical = alias
            decl: ast.LetDecl | ast.ParamDecl | ast.TableDecl
            if kind == "let":
                decl = model.lets[canonical]
                t = self.type_of(canonical)
            elif kind == "param":
                decl = model.params[canonical]
                t = type_of_ref(model, decl.type)
            else:
                decl = model.tables[canonical]
                t = None
            zh, en = _zh_en(decl.name, decl.label)
            return Term(spelling, zh, en, cast(TermKind, kind), t.kind if t is not None else None)
        if self.plan.root is None:
            return None
        root_fields = self.plan.fields[self.plan.root.name]
        if "." in spelling:
            head, *rest = spelling.split(".")
            f = root_fields.get(head)
            zh_parts, en_parts = [], []
            while f is not None:
                zh, en = _zh_en(f.key, f.label)
                zh_parts.append(zh)
                en_parts.append(en)
                if not rest:
                    return Term(
                        spelling,
                        "·".join(zh_parts),
                        ".".join(en_parts),
                        "field",
                        self._field_kind(f),
                        f.pii,
                    )
                rec = self.plan.record_type(f)
                f = None if rec is None else self.plan.fields[rec.name].get(rest.pop(0))
            return None
        f = root_fields.get(spelling)
        if f is None:
            # a field of a list element (inside any/all/count/sum … where …)
            for rec in elements:
                f = self.plan.fields[rec.name].get(spelling)
                if f is not None:
                    break
        if f is None:
            return None
        zh, en = _zh_en(f.key, f.label)
        return Term(spelling, zh, en, "field", self._field_kind(f), f.pii)

    def _enum_terms(self) -> list[Term]:
        """Enum values with a Chinese label that no other enum gives another label."""
        labels: dict[str, set[str]] = {}
        for enum in {id(e): e for e in self.plan.model.enums.values()}.values():
            for m in enum.members:
                if m.label is not None and m.label != m.value:
                    labels.setdefault(m.value, set()).add(m.label)
        return [
            Term(quote(value), next(iter(found)), value, "enum_value", "enum")
            for value, found in sorted(labels.items())
            if len(found) == 1
        ]


# fixed text, or a node to print with the substitution (``True``: a name, path or
# aggregate that the substitution itself may replace)
_Template = tuple[str | tuple[ast.Expr, bool], ...]


def _leaf_call(x: ast.Call) -> bool:
    """A call that ``Evaluation._leaf_text`` may replace by its value."""
    func = FUNCTION_ALIASES.get(x.func, x.func)
    return func in AGGREGATES and (x.where is not None or x.body is not None or len(x.args) == 1)


def _template(e: ast.Expr) -> _Template:
    """``e`` as :func:`exprfmt.to_text` prints it, split into fixed text and the nodes a
    substitution may replace (the substitution returns None for every other node)."""
    out: list[str | tuple[ast.Expr, bool]] = []

    def p(x: ast.Expr, min_prec: int) -> None:
        if _prec(x) < min_prec:
            out.append("(")
            t(x)
            out.append(")")
        else:
            t(x)

    def t(x: ast.Expr) -> None:
        if isinstance(x, ast.Name | ast.Attr) or (isinstance(x, ast.Call) and _leaf_call(x)):
            out.append((x, True))
        elif isinstance(x, ast.Number):
            out.append(number_text(x.value))
        elif isinstance(x, ast.Date):
            out.append(x.value.isoformat())
        elif isinstance(x, ast.String):
            out.append(quote(x.value))
        elif isinstance(x, ast.Bool):
            out.append("true" if x.value else "false")
        elif isinstance(x, ast.Call):
            out.append(f"{x.func}(")
            for i, a in enumerate(x.args):
                if i:
                    out.append(", ")
                t(a)
            if x.where is not None:
                out.append(" where ")
                t(x.where)
            if x.body is not None:
                out.append(": ")
                t(x.body)
            out.append(")")
        elif isinstance(x, ast.BinOp):
            pr = _PREC[x.op]
            p(x.left, pr)
            out.append(f" {x.op} ")
            p(x.right, pr + 1)
        elif isinstance(x, ast.Neg):
            out.append("-")
            p(x.operand, 7)
        elif isinstance(x, ast.RuleRef):
            out.append(x.rule_id)
        elif isinstance(x, ast.SetLit):
            out.append("{")
            for i, item in enumerate(x.items):
                if i:
                    out.append(", ")
                t(item)
            out.append("}")
        elif isinstance(x, ast.Compare):
            p(x.left, 5)
            out.append(f" {x.op} ")
            p(x.right, 5)
        elif isinstance(x, ast.In):
            p(x.left, 5)
            out.append(" not in " if x.negated else " in ")
            p(x.right, 5)
        elif isinstance(x, ast.Between):
            p(x.value, 5)
            out.append(" between ")
            p(x.low, 5)
            out.append(" and ")
            p(x.high, 5)
        elif isinstance(x, ast.IsPred):
            p(x.value, 5)
            out.append(f" is {'not ' if x.negated else ''}{x.pred}")
        elif isinstance(x, ast.And):
            p(x.left, 2)
            out.append(" and ")
            p(x.right, 3)
        elif isinstance(x, ast.Or):
            p(x.left, 1)
            out.append(" or ")
            p(x.right, 2)
        elif isinstance(x, ast.Not):
            out.append("not ")
            p(x.operand, 3)
        elif isinstance(x, ast.If):
            out.append("if ")
            t(x.cond)
            out.append(" then ")
            t(x.then)
            out.append(" else ")
            p(x.else_, 0)
        else:  # printed whole, with the substitution, at each use
            out.append((x, False))

    t(e)
    merged: list[str | tuple[ast.Expr, bool]] = []
    for piece in out:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    return tuple(merged)


# what a condition reads outside aggregations: its comparisons (``Compare`` and ``Between``
# nodes, in order) and the names, paths, rules and aggregates it observes (each text once)
_CollectSpec = tuple[tuple[ast.Expr, ...], tuple[ast.Expr, ...]]
# a condition's text, relative span, breakdown (combinator, derived value, parts), what it
# reads, whether it is a call (an aggregate that may list its elements), and the texts it
# adds to the glossary
_ConditionStatic = tuple[
    str,
    Span | None,
    Combinator | None,
    str | None,
    tuple[ast.Expr, ...],
    _CollectSpec,
    bool,
    frozenset[str],
]


# a comparison leaf: left side, its text and kind, and per comparison (op, right side, its
# text, whether the left side may move)
_LeafStatic = tuple[ast.Expr, str, str | None, tuple[tuple[str, ast.Expr, str, bool], ...]]
# a table: declaration, (text, JSON type) of each input, row ids, relative span
_TableStatic = tuple[ast.TableDecl, tuple[tuple[str, T | None], ...], tuple[str, ...], Span | None]
# a derived value: declaration, type, formula, relative span, kind, inlined formula
_ValueStatic = tuple[ast.LetDecl, T | None, str, Span | None, str | None, ast.Expr | None]
# a table test: (0 compare | 1 range | 2 equal, op, value, its text, upper op, upper
# bound, its text)
_TestStatic = tuple[int, str, ast.Expr, str, str, ast.Expr | None, str]
# a table cell: (input column index, input, negated, tests, condition text, column text,
# cell text, relative span, whether the column breaks down, the column's value kind, the
# texts it adds to the glossary when every test gives a comparison)
_CellStatic = tuple[
    int,
    ast.Expr,
    bool,
    tuple[_TestStatic, ...],
    str,
    str,
    str,
    Span | None,
    bool,
    str | None,
    frozenset[str],
]


def _collect_spec(e: ast.Expr, text: Callable[[ast.Expr], str]) -> _CollectSpec:
    """The comparisons and observed names of a condition, in the order the trace lists
    them: those of ``a`` then those of ``b`` for ``a and b``, a name written on both sides
    once (where ``a`` has it)."""
    if isinstance(e, ast.Compare | ast.Between):
        return (e,), ()
    if isinstance(e, ast.Name | ast.Attr | ast.RuleRef | ast.Call):
        return (), (e,)
    if isinstance(e, ast.And | ast.Or | ast.In):
        a = _collect_spec(e.left, text)
        b = _collect_spec(e.right, text)
        if not b[1]:
            obs = a[1]
        elif not a[1]:
            obs = b[1]
        else:
            names = {text(o) for o in a[1]}
            obs = a[1] + tuple(o for o in b[1] if text(o) not in names)
        return a[0] + b[0], obs
    if isinstance(e, ast.Not):
        return _collect_spec(e.operand, text)
    if isinstance(e, ast.IsPred):
        return _collect_spec(e.value, text)
    return (), ()


def _param_type(decl: ast.ParamDecl) -> T:
    return T("money") if decl.type.name in ("money", "金额") else T(decl.type.name)


def compare(op: str, a: Any, b: Any) -> Truth:
    """A comparison in three-valued logic: absent is false, unknown propagates."""
    if a is ABSENT or b is ABSENT:
        return False
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return cast(Unknown, unknown_of(a, b))
    if op == "=":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _tv(t: Truth) -> TruthValue:
    if isinstance(t, Unknown):
        return "unknown"
    return "true" if t else "false"


def _plain(v: Any) -> Any:
    if isinstance(v, Unknown) or v is ABSENT:
        return None
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, frozenset):
        return sorted(str(x) for x in v)
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if isinstance(v, RecordValue):
        return v.path
    return v


def _show(v: Any) -> str:
    if v is None:
        return "(缺失)"
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "{" + ", ".join(_show(x) for x in v) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_show(x)}" for k, x in v.items()) + "}"
    return str(v)


_MAX_DEPTH = 4
_LITERALS = frozenset({ast.Number, ast.Date, ast.String, ast.Bool})
_NUMBERS = frozenset({Decimal, int})  # exact classes (not bool)
# how a condition breaks down: (combinator, derived value it names, parts)
_Decomposed = tuple[Combinator | None, str | None, tuple[ast.Expr, ...]]


class _SpanPaths:
    """Trace spans name files relative to the folder of the policy's main file, so a
    saved trace reads the same on every machine (``ewenki_2024q2/rules.policy``)."""

    def __init__(self, plan: Plan) -> None:
        modules = plan.model.modules
        self.root = os.path.dirname(os.path.abspath(modules[0].path)) if modules else ""
        self.paths: dict[str, str] = {}
        self.spans: dict[int, tuple[Span, Span]] = {}

    def rel(self, path: str) -> str:
        found = self.paths.get(path)
        if found is None:
            try:
                found = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
            except ValueError:  # another drive (Windows)
                found = path
            self.paths[path] = found
        return found


def _rel_span(span: Span | None, root: _SpanPaths) -> Span | None:
    if span is None:
        return span
    hit = root.spans.get(id(span))
    if hit is not None and hit[0] is span:
        return hit[1]
    if span.line == 0 or not root.root:
        found = span
    else:
        found = Span(root.rel(span.path), span.line, span.col, span.end_line, span.end_col)
    root.spans[id(span)] = (span, found)  # keeps the span alive, so its id stays its own
    return found


def _element_records(plan: Plan) -> list[ast.RecordDecl]:
    """Records used as list elements (their fields are names inside aggregations)."""
    out: dict[str, ast.RecordDecl] = {}
    for rec in plan.model.records.values():
        for f in rec.fields:
            if f.type.of is not None and f.type.of in plan.model.records:
                elem = plan.model.records[f.type.of]
                out[elem.name] = elem
    return list(out.values())


_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def _zh_en(name: str, label: str | None) -> tuple[str, str]:
    """The Chinese and the English spelling of a declared name and its label.

    >>> _zh_en("pcni", "人均纯收入"), _zh_en("监测收入基准", "income_line")
    (('人均纯收入', 'pcni'), ('监测收入基准', 'income_line'))
    """
    names = [name] if label is None else [name, label]
    zh = next((n for n in names if _has_cjk(n)), name)
    en = next((n for n in names if not _has_cjk(n)), name)
    return zh, en


def _disjuncts(e: ast.Expr) -> list[ast.Expr]:
    if isinstance(e, ast.Or):
        return _disjuncts(e.left) + _disjuncts(e.right)
    return [e]


def _constant(e: ast.Expr) -> bool:
    return isinstance(e, ast.Number | ast.Date | ast.String | ast.Bool)


def _would_fire_at(op: str, lv: Any, rv: Any, kind: str | None) -> str | None:
    """The nearest left-hand value at which ``left op right`` would hold.

    >>> _would_fire_at(">", Decimal("6850"), Decimal("10000"), "money")
    '10000.01'
    >>> _would_fire_at("<", 5, Decimal("8300.005"), "money"), _would_fire_at("<=", 9, 6, "int")
    ('8300.00', '6')
    >>> _would_fire_at(">", dt.date(2024, 6, 3), dt.date(2024, 6, 10), "date")
    '2024-06-11'
    """
    if op == "!=" or isinstance(lv, bool) or isinstance(rv, bool):
        return None
    return _would_fire_at_step(op, lv, rv, kind)


def _would_fire_at_step(op: str, lv: Any, rv: Any, kind: str | None) -> str | None:
    if isinstance(lv, dt.date) and isinstance(rv, dt.date):
        day = dt.timedelta(days=1)
        return (rv - day if op == "<" else rv + day if op == ">" else rv).isoformat()
    if not (isinstance(lv, Decimal | int) and isinstance(rv, Decimal | int)):
        return None
    r = Decimal(rv)
    if kind == "money":
        step = Decimal("0.01")
    elif kind == "int":
        step = Decimal(1)
    else:
        exponent = min(Decimal(lv).as_tuple().exponent, r.as_tuple().exponent, 0)
        step = Decimal(1).scaleb(int(exponent))
    down, up = r.quantize(step, ROUND_FLOOR), r.quantize(step, ROUND_CEILING)
    if op == "<=":
        target = down
    elif op == "<":
        target = up - step
    elif op == ">":
        target = down + step
    elif op == ">=":
        target = up
    elif down == r:
        target = r
    else:
        return None
    return format(target.quantize(step), "f")


def _value_text(v: Any) -> str:
    """A JSON-ready value as it appears in a "computed as" line (``?`` when missing)."""
    if v is None:
        return "?"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v if is_number_text(v) or _ISO_DATE.fullmatch(v) else quote(v)
    if isinstance(v, list):
        return "{" + ", ".join(_show(x) for x in v) + "}"
    return _show(v)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# the names in a trace text (quoted strings are skipped: they match the empty group)
_NAMES = re.compile(r'(?:"(?:[^"\\\n]|\\.)*")|([^\W\d][\w]*(?:\.[^\W][\w]*)*)')
