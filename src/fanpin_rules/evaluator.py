"""The reference interpreter: evaluates a checked policy for one household.

It is the ground truth for the faster engines.  Evaluation is lazy and memoised per
household (values are computed when first read), so declaration order never matters;
the checker has already ruled out cycles.  Nothing here prints or keeps global state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

import attrs

from fanpin_rules import ast
from fanpin_rules.check import CheckResult
from fanpin_rules.check.declarations import HIT_POLICIES
from fanpin_rules.check.typecheck import AGGREGATES, ELEMENT_NAMES, FUNCTION_ALIASES, PREDICATES
from fanpin_rules.errors import EvaluationError
from fanpin_rules.exprfmt import conjuncts, quote, to_text
from fanpin_rules.household import Household
from fanpin_rules.model import BUILTIN_NAMES, PolicyModel
from fanpin_rules.trace import (
    Comparison,
    ConclusionTrace,
    ConditionTrace,
    Observation,
    ParamUse,
    TableTrace,
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
    and3,
    not3,
    or3,
    round_half_up,
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


def months_between(a: dt.date, b: dt.date) -> int:
    """Whole calendar months from a to b (SPEC §8).

    >>> months_between(dt.date(2023, 9, 15), dt.date(2024, 5, 14))
    7
    >>> months_between(dt.date(2024, 1, 31), dt.date(2024, 2, 29))
    0
    """
    return 12 * (b.year - a.year) + (b.month - a.month) - (1 if b.day < a.day else 0)


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
        overriders: dict[str, list[str]] = {}
        for item in model.items():
            if isinstance(item, ast.RuleDecl):
                for target in item.overrides:
                    overriders.setdefault(target, []).append(item.rule_id)
            elif isinstance(item, ast.TableDecl):
                for target in item.overrides:
                    overriders.setdefault(target, []).extend(r.rule_id for r in item.rows)
        self.overriders = {k: tuple(v) for k, v in overriders.items()}
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

    def text(self, e: ast.Expr) -> str:
        key = id(e)
        found = self.condition_texts.get(key)
        if found is None:
            found = self.condition_texts[key] = to_text(e)
        return found

    def record_type(self, f: ast.Field) -> ast.RecordDecl | None:
        name = f.type.of if f.type.of is not None else f.type.name
        rec = self.model.records.get(name)
        return rec


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

    # ------------------------------------------------------------ records
    def _wrap(self, owner: RecordValue, f: ast.Field, value: Any) -> Any:
        rec = self.plan.record_type(f)
        if rec is None:
            return value
        fields = self.plan.fields[rec.name]
        path = owner.field_path(f.key)
        if f.type.of is not None and isinstance(value, tuple | list):
            return tuple(
                RecordValue(rec, v, f"{path}[{i}]", fields) if isinstance(v, Mapping) else v
                for i, v in enumerate(value)
            )
        if isinstance(value, Mapping):
            return RecordValue(rec, value, path, fields)
        return value

    def field(self, rv: RecordValue, f: ast.Field) -> Any:
        return rv.get(f, self._wrap)

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
        a = self.eval(e.left, frames)
        b = self.eval(e.right, frames)
        # SPEC §8: an absent optional input makes whatever needs it false, even when
        # the other side is unknown; so absence wins over unknown.
        if a is ABSENT or b is ABSENT:
            return ABSENT
        unk = unknown_of(a, b)
        if unk is not None:
            return unk
        op = e.op
        if op == "∩":
            return frozenset(a) & frozenset(b)
        if op == "∪":
            return frozenset(a) | frozenset(b)
        try:
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            return Decimal(a) / Decimal(b)
        except (DivisionByZero, InvalidOperation, ZeroDivisionError):
            raise EvaluationError(f"除数为零 / division by zero in {to_text(e)}", e.span) from None

    def in_op(self, e: ast.In, frames: tuple[Any, ...]) -> Truth:
        a = self.eval(e.left, frames)
        b = self.eval(e.right, frames)
        if a is ABSENT or b is ABSENT:
            return False
        unk = unknown_of(a, b)
        if unk is not None:
            return unk
        result = frozenset(a) <= frozenset(b) if isinstance(a, tuple | frozenset) else a in b
        return (not result) if e.negated else result

    def is_pred(self, e: ast.IsPred, frames: tuple[Any, ...]) -> Truth:
        v = self.eval(e.value, frames)
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
        args = [self.eval(a, frames) for a in e.args]
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
        if func == "any":
            return or3(truths)
        if func == "all":
            return and3(truths)
        if func == "count":
            unk = unknown_of(*truths)
            if unk is not None:
                return unk
            return sum(1 for t in truths if t is True)
        if unknown is not None:
            return unknown
        if func == "sum":
            return sum(values, Decimal(0))
        if not values:
            return ABSENT
        return min(values) if func == "min" else max(values)

    # ------------------------------------------------------------ tables
    def _run_table(self, table: ast.TableDecl) -> TableOutcome:
        hit = self.plan.hit[table.name]
        inputs = [self.eval(i, ()) for i in table.inputs]
        truths: list[Truth] = [
            and3(self.cell(c, v) for c, v in zip(row.cells, inputs, strict=False))
            for row in table.rows
        ]
        status: dict[int, str] = {}
        shadowed: dict[int, str] = {}
        selected: list[int] = []
        value: Any = ABSENT
        outputs = [o.name for o in table.outputs]

        def out(i: int) -> Any:
            vals = [self.eval(x, ()) for x in table.rows[i].outputs]
            if len(vals) == 1:
                return vals[0]
            return dict(zip(outputs, vals, strict=False))

        trues = [i for i, t in enumerate(truths) if t is True]
        unknowns = [i for i, t in enumerate(truths) if isinstance(t, Unknown)]
        undetermined_value: Unknown | None = None
        for i in unknowns:
            status[i] = "undetermined"
        for i, t in enumerate(truths):
            if t is False:
                status[i] = "not_fired"

        if hit == "first":
            first_true = trues[0] if trues else None
            blockers = [i for i in unknowns if first_true is None or i < first_true]
            if first_true is not None and not blockers:
                selected = [first_true]
                for i in trues[1:]:
                    status[i] = "shadowed"
                    shadowed[i] = table.rows[first_true].rule_id
            elif blockers:
                undetermined_value = unknown_of(*(truths[i] for i in blockers))
                for i in trues:
                    status[i] = "undetermined"
            else:
                pass
        elif hit in ("unique", "any"):
            if unknowns:
                undetermined_value = unknown_of(*(truths[i] for i in unknowns))
                for i in trues:
                    status[i] = "undetermined"
            elif len(trues) > 1 and hit == "unique":
                ids = ", ".join(table.rows[i].rule_id for i in trues)
                raise EvaluationError(
                    f"决策表「{table.name}」(unique) 同时命中多行: {ids} / "
                    f"table '{table.name}' (unique) matched several rows: {ids}",
                    table.span,
                )
            elif trues:
                if hit == "any":
                    outs = [out(i) for i in trues]
                    if any(o != outs[0] for o in outs[1:]):
                        ids = ", ".join(table.rows[i].rule_id for i in trues)
                        raise EvaluationError(
                            f"决策表「{table.name}」(any) 命中的行结论不同: {ids} / "
                            f"table '{table.name}' (any) matched rows with different outputs: "
                            f"{ids}",
                            table.span,
                        )
                    selected = trues
                else:
                    selected = trues
        elif hit == "priority":
            ranks = {i: self._rank(table, out(i)) for i in trues}
            best = min(trues, key=lambda i: (ranks[i], i)) if trues else None
            blockers = [
                i for i in unknowns if best is None or self._rank(table, out(i)) <= ranks[best]
            ]
            if blockers:
                undetermined_value = unknown_of(*(truths[i] for i in blockers))
                for i in trues:
                    status[i] = "undetermined"
            elif best is not None:
                selected = [best]
                for i in trues:
                    if i != best:
                        status[i] = "shadowed"
                        shadowed[i] = table.rows[best].rule_id
        else:  # rule_order, output_order, collect
            selected = list(trues)
            if hit == "output_order":
                selected.sort(key=lambda i: (self._rank(table, out(i)), i))
            if unknowns:
                undetermined_value = unknown_of(*(truths[i] for i in unknowns))

        for i in selected:
            status[i] = "fired"
        if undetermined_value is not None:
            value = undetermined_value
        elif hit in ("first", "priority", "unique", "any"):
            value = out(selected[0]) if selected else ABSENT
        else:
            collected = [out(i) for i in selected]
            agg = table.aggregation
            if hit == "collect" and agg in ("sum", "min", "max", "count"):
                if agg == "count":
                    value = len(collected)
                elif not collected:
                    value = Decimal(0) if agg == "sum" else ABSENT
                elif agg == "sum":
                    value = sum(collected, Decimal(0))
                else:
                    value = min(collected) if agg == "min" else max(collected)
            else:
                value = tuple(collected)
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
        value = self.table(name).value
        cols = self.plan.table_columns.get(name, {})
        if isinstance(value, dict):
            return {k: to_json_value(v, cols.get(k)) for k, v in value.items()}
        if isinstance(value, tuple):
            return [
                {k: to_json_value(x, cols.get(k)) for k, x in v.items()}
                if isinstance(v, dict)
                else to_json_value(v, next(iter(cols.values()), None))
                for v in value
            ]
        return to_json_value(
            value, self.type_of(name) if len(cols) != 1 else next(iter(cols.values()))
        )

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
        conclusions = [self._conclusion_trace(r) for r in self.plan.conclusion_ids]
        values = [self._value_trace(n) for n in self.plan.let_names]
        tables = [self._table_trace(n) for n in self.plan.table_names]
        return Trace(
            tuple(conclusions), tuple(values), tuple(tables), tuple(self.household.missing)
        )

    def _status(self, rule_id: str) -> str:
        t = self.conclusion(rule_id)
        if t is True:
            return "fired"
        if isinstance(t, Unknown):
            return "undetermined"
        if rule_id in self.overridden_by:
            return "overridden"
        return "not_fired"

    def _conclusion_trace(self, rule_id: str) -> ConclusionTrace:
        status = self._status(rule_id)
        t = self.conclusion(rule_id)
        missing = tuple(sorted(t.missing)) if isinstance(t, Unknown) else ()
        if rule_id in self.plan.model.rules:
            rule = self.plan.model.rules[rule_id]
            conds = tuple(self._condition(c, ()) for c in conjuncts(rule.when))
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
                overridden_by=self.overridden_by.get(rule_id),
                span=rule.span,
            )
        info = self.plan.rows[rule_id]
        outcome = self.table(info.table.name)
        row_status = outcome.status.get(info.index, "not_fired")
        if status == "not_fired" and row_status == "shadowed":
            status = "shadowed"
        conds_list = []
        for inp, cell, v in zip(info.table.inputs, info.row.cells, outcome.inputs, strict=False):
            if isinstance(cell, ast.CellAny):
                continue
            ct = self.cell(cell, v)
            conds_list.append(
                ConditionTrace(
                    f"{self.plan.text(inp)} : {_cell_text(cell)}",
                    _tv(ct),
                    tuple(sorted(ct.missing)) if isinstance(ct, Unknown) else (),
                    self._cell_comparisons(inp, cell, v),
                    (),
                    cell.span,
                )
            )
        return ConclusionTrace(
            rule_id,
            "row",
            None,
            info.row.cite or info.table.cite,
            info.row.message,
            None,
            status,  # type: ignore[arg-type]
            tuple(conds_list),
            missing,
            table=info.table.name,
            hit_policy=self.plan.hit[info.table.name],
            overridden_by=self.overridden_by.get(rule_id),
            shadowed_by=outcome.shadowed_by.get(info.index),
            span=info.row.span,
        )

    def _cell_comparisons(self, inp: ast.Expr, cell: ast.Cell, v: Any) -> tuple[Comparison, ...]:
        if not isinstance(cell, ast.CellTests):
            return ()
        out = []
        left = self.plan.text(inp)
        for test in cell.tests:
            if isinstance(test, ast.TestCompare):
                rv = self.eval(test.value, ())
                out.append(self._comparison(left, v, test.op, self.plan.text(test.value), rv))
            elif isinstance(test, ast.TestEqual):
                rv = self.eval(test.value, ())
                if not isinstance(rv, frozenset):
                    out.append(self._comparison(left, v, "=", self.plan.text(test.value), rv))
        return tuple(out)

    def _condition(self, c: ast.Expr, frames: tuple[Any, ...]) -> ConditionTrace:
        value = truth(self.eval(c, frames))
        comparisons: list[Comparison] = []
        observations: list[Observation] = []
        self._collect(c, comparisons, observations)
        return ConditionTrace(
            self.plan.text(c),
            _tv(value),
            tuple(sorted(value.missing)) if isinstance(value, Unknown) else (),
            tuple(comparisons),
            tuple(observations),
            c.span,
        )

    def _collect(
        self, e: ast.Expr, comparisons: list[Comparison], observations: list[Observation]
    ) -> None:
        """Comparisons and names read by a condition (not inside aggregations)."""
        if isinstance(e, ast.Compare):
            comparisons.append(
                self._comparison(
                    self.plan.text(e.left),
                    self.eval(e.left, ()),
                    e.op,
                    self.plan.text(e.right),
                    self.eval(e.right, ()),
                )
            )
            return
        if isinstance(e, ast.Between):
            v = self.eval(e.value, ())
            text = self.plan.text(e.value)
            comparisons.append(
                self._comparison(text, v, ">=", self.plan.text(e.low), self.eval(e.low, ()))
            )
            comparisons.append(
                self._comparison(text, v, "<=", self.plan.text(e.high), self.eval(e.high, ()))
            )
            return
        if isinstance(e, ast.Name | ast.Attr | ast.RuleRef | ast.Call):
            seen: Any
            if isinstance(e, ast.RuleRef):
                seen = _tv(self.conclusion(e.rule_id))
            else:
                seen = self._json(e, self.eval(e, ()))
            if not any(o.name == self.plan.text(e) for o in observations):
                observations.append(Observation(self.plan.text(e), seen))
            return
        if isinstance(e, ast.And | ast.Or):
            self._collect(e.left, comparisons, observations)
            self._collect(e.right, comparisons, observations)
        elif isinstance(e, ast.Not):
            self._collect(e.operand, comparisons, observations)
        elif isinstance(e, ast.In):
            self._collect(e.left, comparisons, observations)
            self._collect(e.right, comparisons, observations)
        elif isinstance(e, ast.IsPred):
            self._collect(e.value, comparisons, observations)

    def _json(self, e: ast.Expr, v: Any) -> Any:
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
        return to_json_value(v, t)

    def _comparison(self, left: str, lv: Any, op: str, right: str, rv: Any) -> Comparison:
        tv = _tv(compare(op, lv, rv))
        gap = None
        numbers = isinstance(lv, Decimal | int) and isinstance(rv, Decimal | int)
        if numbers and not isinstance(lv, bool) and not isinstance(rv, bool):
            gap = format(Decimal(lv) - Decimal(rv), "f")
        return Comparison(left, _plain(lv), op, right, _plain(rv), tv, gap)

    def _value_trace(self, name: str) -> ValueTrace:
        decl = self.plan.model.lets[name]
        value = self.let(name)
        t = self.type_of(name)

        def sub(x: ast.Expr) -> str | None:
            if isinstance(x, ast.Name | ast.Attr):
                shown = self._json(x, self.eval(x, ()))
                return (
                    quote(shown) if isinstance(shown, str) and not _numeric(shown) else _show(shown)
                )
            return None

        try:
            computed = to_text(decl.expr, sub)
        except (KeyError, AttributeError, TypeError):
            computed = self.plan.text(decl.expr)
        return ValueTrace(
            name,
            decl.label,
            to_json_value(value, t),
            self.plan.text(decl.expr),
            computed,
            decl.cite,
            tuple(sorted(value.missing)) if isinstance(value, Unknown) else (),
            decl.span,
        )

    def _table_trace(self, name: str) -> TableTrace:
        table = self.plan.model.tables[name]
        outcome = self.table(name)
        inputs = tuple(
            Observation(self.plan.text(i), self._json(i, v))
            for i, v in zip(table.inputs, outcome.inputs, strict=False)
        )
        return TableTrace(
            name,
            table.label,
            self.plan.hit[name],
            inputs,
            tuple(table.rows[i].rule_id for i, t in enumerate(outcome.truths) if t is True),
            tuple(table.rows[i].rule_id for i in outcome.selected),
            tuple(
                table.rows[i].rule_id
                for i, s in sorted(outcome.status.items())
                if s == "undetermined"
            ),
            self._table_json(name),
            table.cite,
            table.span,
        )


def _param_type(decl: ast.ParamDecl) -> T:
    return T("money") if decl.type.name in ("money", "金额") else T(decl.type.name)


def compare(op: str, a: Any, b: Any) -> Truth:
    """A comparison in three-valued logic: absent is false, unknown propagates."""
    if a is ABSENT or b is ABSENT:
        return False
    unk = unknown_of(a, b)
    if unk is not None:
        return unk
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


def _numeric(text: str) -> bool:
    try:
        Decimal(text)
    except (InvalidOperation, ValueError):
        return False
    return True


def _cell_text(cell: ast.Cell) -> str:
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
