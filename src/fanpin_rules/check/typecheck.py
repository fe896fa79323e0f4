"""Name resolution and typing of every expression ("did you mean" included).

>>> from fanpin_rules.parser import parse
>>> from fanpin_rules.model import build_model
>>> from fanpin_rules.check.context import CheckContext
>>> model, _ = build_model([parse('let a = 1 + 2  let b = a > 2')])
>>> ctx = CheckContext(model)
>>> typecheck(model, ctx)
>>> ctx.types["b"].kind
'bool'
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import attrs

from fanpin_rules import ast
from fanpin_rules.ast import name_span
from fanpin_rules.check.context import CheckContext
from fanpin_rules.model import BUILTIN_NAMES, PolicyModel, field_lookup
from fanpin_rules.source import Span
from fanpin_rules.suggest import did_you_mean
from fanpin_rules.types import (
    ANY,
    BOOL,
    BUILTIN_TYPES,
    DATE,
    INT,
    INTLIT,
    NUMBER,
    STRLIT,
    T,
    arith,
    compatible,
    unify,
)

FUNCTION_ALIASES = {
    "计数": "count",
    "求和": "sum",
    "存在": "any",
    "全部": "all",
    "最小": "min",
    "最大": "max",
    "四舍五入": "round",
    "月数": "months",
    "绝对值": "abs",
    "缺少必填项": "missing_required",
}
FUNCTIONS = {
    "count",
    "sum",
    "any",
    "all",
    "min",
    "max",
    "round",
    "months",
    "abs",
    "missing_required",
}
AGGREGATES = {"count", "sum", "any", "all", "min", "max"}
PREDICATES = {
    "empty": "empty",
    "空": "empty",
    "missing": "missing",
    "缺失": "missing",
    "present": "present",
    "存在": "present",
}
FUNCTIONS_HINT_ZH = (
    "可用: count (计数)、sum (求和)、any (存在)、all (全部)、min (最小)、max (最大)、"
    "round (四舍五入)、months (月数)、abs (绝对值)、missing_required (缺少必填项)"
)
FUNCTIONS_HINT_EN = (
    "available: count (计数), sum (求和), any (存在), all (全部), min (最小), max (最大), "
    "round (四舍五入), months (月数), abs (绝对值), missing_required (缺少必填项)"
)
# How each function is called: {f} is the name as written.
SIGNATURES: dict[str, tuple[str, str]] = {
    "round": ("{f}(数值, 小数位数), 例如 {f}(家庭纯收入 / 家庭人口数, 2)", "{f}(number, decimals)"),
    "months": (
        "{f}(开始日期, 结束日期), 例如 {f}(识别日期, 评估日期)",
        "{f}(start date, end date)",
    ),
    "abs": ("{f}(数值)", "{f}(number)"),
    "missing_required": ("{f}() (括号里不写参数)", "{f}() (no arguments)"),
    "count": ("{f}(列表) 或 {f}(列表 where 条件)", "{f}(list) or {f}(list where condition)"),
    "sum": ("{f}(列表: 值)", "{f}(list: value)"),
    "any": ("{f}(列表: 条件)", "{f}(list: condition)"),
    "all": ("{f}(列表: 条件)", "{f}(list: condition)"),
    "min": ("{f}(列表: 值) 或 {f}(值1, 值2)", "{f}(list: value) or {f}(a, b)"),
    "max": ("{f}(列表: 值) 或 {f}(值1, 值2)", "{f}(list: value) or {f}(a, b)"),
}
KEYWORD_PREFIXES = ("当", "则", "且", "或", "非", "是", "否", "如果", "否则", "属于", "其中")
ELEMENT_NAMES = ("it", "该项")


def type_of_ref(model: PolicyModel, ref: ast.TypeRef) -> T | None:
    """The type a declared TypeRef names, or None when the name is unknown."""
    if ref.of is not None:
        if ref.name not in ("list", "列表"):
            return None
        inner = type_of_ref(model, ast.TypeRef(ref.of))
        return None if inner is None else T("list", elem=inner)
    if ref.name in BUILTIN_TYPES:
        return BUILTIN_TYPES[ref.name]
    if ref.name in model.enums:
        return T("enum", model.enums[ref.name].name)
    if ref.name in model.records:
        return T("record", model.records[ref.name].name)
    return None


@attrs.frozen
class Scope:
    """Names visible inside an aggregation: the element's fields, or ``it``."""

    record: ast.RecordDecl | None
    element: T | None


class Typer:
    def __init__(self, model: PolicyModel, ctx: CheckContext) -> None:
        self.model = model
        self.ctx = ctx
        self.in_progress: list[str] = []
        self.current: str = ""
        # a whole table cell that is a bare name: unquoted text, most likely
        self.bare_cell: ast.Expr | None = None

    # ------------------------------------------------------------ declarations
    def let_type(self, name: str, at: Span | None) -> T:
        if name in self.ctx.types:
            return self.ctx.types[name]
        key = f"let:{name}"
        if key in self.in_progress:
            self._cycle(key, at)
            return ANY
        decl = self.model.lets[name]
        self.in_progress.append(key)
        saved, self.current = self.current, key
        self.ctx.deps.setdefault(key, set())
        t = self.infer(decl.expr, ())
        self.current = saved
        self.in_progress.pop()
        if decl.type is not None:
            declared = type_of_ref(self.model, decl.type)
            if declared is None:
                self._unknown_type(decl.type)
            elif unify(declared, t) is None:
                self.ctx.error(
                    "F309",
                    decl.expr.span,
                    f"「{name}」声明为{declared.show()}, 但算出来的是{t.show()}",
                    f"'{name}' is declared {declared.show('en')} but its expression is "
                    f"{t.show('en')}",
                    "改正声明的类型或表达式",
                    "fix the declared type or the expression",
                )
            else:
                t = declared
            if declared is not None and declared.collection and declared.elem is not None:
                self._check_literal_in_enum(declared.elem, decl.expr)
        self.ctx.types[name] = t
        return t

    def table_type(self, name: str, at: Span | None) -> T:
        if name in self.ctx.types:
            return self.ctx.types[name]
        key = f"table:{name}"
        if key in self.in_progress:
            self._cycle(key, at)
            return ANY
        table = self.model.tables[name]
        self.in_progress.append(key)
        saved, self.current = self.current, key
        self.ctx.deps.setdefault(key, set())
        in_types = [self.infer(e, ()) for e in table.inputs]
        for rid in table.overrides:
            self._rule_dep(rid, name_span(table), add=False)
        cols: dict[str, T] = {}
        for i, col in enumerate(table.outputs):
            declared = type_of_ref(self.model, col.type) if col.type else None
            if col.type is not None and declared is None:
                self._unknown_type(col.type)
            t: T | None = declared
            for row in table.rows:
                if i < len(row.outputs):
                    rt = self.infer_cell(row.outputs[i])
                    if declared is not None:
                        self._check_literal_in_enum(declared, row.outputs[i])
                        if unify(declared, rt) is None:
                            self._mismatch(row.outputs[i].span, declared, rt)
                    else:
                        u = rt if t is None else unify(t, rt)
                        if u is None:
                            self._mismatch(row.outputs[i].span, t or ANY, rt)
                        else:
                            t = u
            cols[col.name] = t or ANY
        for row in table.rows:
            for cell, it in zip(row.cells, in_types, strict=False):
                self.check_cell(cell, it)
        self.current = saved
        self.in_progress.pop()
        self.ctx.table_columns[name] = cols
        value = next(iter(cols.values())) if len(cols) == 1 else T("tablerow", name)
        if table.hit in ("collect", "rule_order", "output_order"):
            if table.aggregation in ("sum", "min", "max"):
                pass
            elif table.aggregation == "count":
                value = INT
            else:
                value = T("list", elem=value)
        self.ctx.types[name] = value
        return value

    def check_cell(self, cell: ast.Cell, column: T) -> None:
        if isinstance(cell, ast.CellAny):
            return
        for test in cell.tests:
            if isinstance(test, ast.TestRange):
                for e in (test.low, test.high):
                    t = self.infer(e, ())
                    if not (t.numeric or t.kind in ("date", "any")) or not compatible(t, column):
                        self._incomparable(e.span, column, t)
            elif isinstance(test, ast.TestCompare):
                t = self.infer(test.value, ())
                if not compatible(column, t) or (
                    test.op not in ("=", "!=") and not _ordered(column)
                ):
                    hint = _quoted_date(column, t, test.value, test.value)
                    self._incomparable(test.value.span, column, t, hint=hint)
            else:
                t = self.infer_cell(test.value)
                if t.collection and t.elem is not None and not column.collection:
                    # a set in a cell: the value is one of its members
                    t = t.elem
                bool_mismatch = column.kind == "bool" and t.kind not in ("bool", "any")
                if bool_mismatch or not compatible(column, t):
                    hint = _quoted_date(column, t, test.value, test.value)
                    self._incomparable(test.value.span, column, t, hint=hint)
                self._check_literal_in_enum(column, test.value)

    def infer_cell(self, e: ast.Expr) -> T:
        """The type of a whole table cell (a bare name there is reported as unquoted text)."""
        saved, self.bare_cell = self.bare_cell, e if isinstance(e, ast.Name) else None
        try:
            return self.infer(e, ())
        finally:
            self.bare_cell = saved

    def _rule_dep(self, rule_id: str, span: Span, add: bool = True) -> None:
        if not add:
            if rule_id not in self.model.rules and rule_id not in self.model.rows:
                self._rule_dep(rule_id, span)
            return
        if rule_id in self.model.rules:
            self.ctx.deps.setdefault(self.current, set()).add(f"rule:{rule_id}")
        elif rule_id in self.model.rows:
            table = self.model.rows[rule_id][0]
            self.ctx.deps.setdefault(self.current, set()).add(f"table:{table.name}")
        else:
            own = self._own_ids()
            hz, he = did_you_mean(rule_id, [i for i in self.model.conclusion_ids if i not in own])
            self.ctx.error(
                "F203",
                span,
                f"没有编号为 {rule_id} 的规则",
                f"no rule or table row has the id {rule_id}",
                hz,
                he,
            )

    def _own_ids(self) -> set[str]:
        """The ids of the rule or table being typed (never suggested to themselves)."""
        kind, _, name = self.current.partition(":")
        if kind == "rule":
            return {name}
        if kind == "table" and name in self.model.tables:
            return {r.rule_id for r in self.model.tables[name].rows}
        return set()

    # ------------------------------------------------------------ expressions
    def infer(self, e: ast.Expr, scopes: tuple[Scope, ...]) -> T:
        if isinstance(e, ast.Number):
            integral = e.value == e.value.to_integral_value() and e.value.as_tuple().exponent == 0
            return INTLIT if integral else NUMBER
        if isinstance(e, ast.Date):
            return DATE
        if isinstance(e, ast.String):
            return STRLIT
        if isinstance(e, ast.Bool):
            return BOOL
        if isinstance(e, ast.SetLit):
            t: T | None = ANY
            for item in e.items:
                it = self.infer(item, scopes)
                u = unify(t, it) if t is not None else None
                if u is None:
                    self.ctx.error(
                        "F311",
                        item.span,
                        f"集合里的值类型不一致: {it.show()}",
                        f"mixed types in a set: {it.show('en')}",
                        "集合里的值要同一种类型",
                        "all values of a set have one type",
                    )
                else:
                    t = u
            return T("set", elem=t)
        if isinstance(e, ast.Name):
            return self.name(e, scopes)
        if isinstance(e, ast.RuleRef):
            self._rule_dep(e.rule_id, e.span)
            return BOOL
        if isinstance(e, ast.Attr):
            return self.attr(e, scopes)
        if isinstance(e, ast.Call):
            return self.call(e, scopes)
        if isinstance(e, ast.BinOp):
            return self.binop(e, scopes)
        if isinstance(e, ast.Compare):
            lt = self.infer(e.left, scopes)
            rt = self.infer(e.right, scopes)
            if not compatible(lt, rt) or (
                e.op not in ("=", "!=") and not (_ordered(lt) and _ordered(rt))
            ):
                self._incomparable(e.span, lt, rt, e.op, _quoted_date(lt, rt, e.left, e.right))
            self._check_literal_in_enum(lt, e.right)
            self._check_literal_in_enum(rt, e.left)
            return BOOL
        if isinstance(e, ast.In):
            lt = self.infer(e.left, scopes)
            rt = self.infer(e.right, scopes)
            if rt.kind == "any":
                return BOOL
            if not rt.collection:
                self.ctx.error(
                    "F312",
                    e.right.span,
                    f"in 的右边要是集合或列表, 这里是{rt.show()}",
                    f"the right side of `in` must be a set or list, not {rt.show('en')}",
                    '例如 x in {"a", "b"}',
                    'e.g. x in {"a", "b"}',
                )
                return BOOL
            elem = lt.elem if lt.collection else lt
            if elem is not None and rt.elem is not None and not compatible(elem, rt.elem):
                self._incomparable(e.span, lt, rt, "in")
            if rt.elem is not None:
                self._check_literal_in_enum(rt.elem, e.left)
            if elem is not None:
                self._check_literal_in_enum(elem, e.right)
            return BOOL
        if isinstance(e, ast.Between):
            vt = self.infer(e.value, scopes)
            for bound in (e.low, e.high):
                bt = self.infer(bound, scopes)
                if not compatible(vt, bt) or not _ordered(vt):
                    self._incomparable(e.span, vt, bt, "between")
            return BOOL
        if isinstance(e, ast.IsPred):
            self.infer(e.value, scopes)
            if e.pred not in PREDICATES:
                hz, he = did_you_mean(e.pred, PREDICATES)
                self.ctx.error(
                    "F206",
                    e.span,
                    f"不认识的判断「is {e.pred}」",
                    f"unknown test 'is {e.pred}'",
                    hz or "可用: is empty、is missing、is present",
                    he or "use: is empty, is missing, is present",
                )
            return BOOL
        if isinstance(e, ast.And | ast.Or):
            for side in (e.left, e.right):
                self._want_bool(side, self.infer(side, scopes))
            return BOOL
        if isinstance(e, ast.Not):
            self._want_bool(e.operand, self.infer(e.operand, scopes))
            return BOOL
        if isinstance(e, ast.Neg):
            t = self.infer(e.operand, scopes)
            if not t.numeric and t.kind != "any":
                self._bad_operand(e.span, "-", t)
                return ANY
            return t
        if isinstance(e, ast.If):
            self._want_bool(e.cond, self.infer(e.cond, scopes))
            a = self.infer(e.then, scopes)
            b = self.infer(e.else_, scopes)
            u = unify(a, b)
            if u is None:
                self._mismatch(e.else_.span, a, b)
                return ANY
            return u
        raise AssertionError(f"unhandled expression {type(e).__name__}")

    def visible_names(self, scopes: tuple[Scope, ...]) -> Iterator[str]:
        for s in scopes:
            if s.record is not None:
                for f in s.record.fields:
                    yield f.key
                    if f.label:
                        yield f.label
        yield from self.model.aliases
        yield from BUILTIN_NAMES
        root = self.model.root_record
        if root is not None:
            for f in root.fields:
                yield f.key
                if f.label:
                    yield f.label

    def name(self, e: ast.Name, scopes: tuple[Scope, ...]) -> T:
        n = e.name
        for s in reversed(scopes):
            if s.record is not None:
                f = field_lookup(s.record, n)
                if f is not None:
                    self.ctx.used_fields.add((s.record.name, f.key))
                    return self.field_type(f)
            elif s.element is not None and n in ELEMENT_NAMES:
                return s.element
        if n in BUILTIN_NAMES:
            return DATE
        if n in self.model.aliases:
            kind, canonical = self.model.aliases[n]
            if kind == "param":
                self.ctx.used_params.add(canonical)
                self.ctx.deps.setdefault(self.current, set()).add(f"param:{canonical}")
                p = self.model.params[canonical]
                return type_of_ref(self.model, p.type) or ANY
            if kind == "let":
                self.ctx.used_lets.add(canonical)
                self.ctx.deps.setdefault(self.current, set()).add(f"let:{canonical}")
                return self.let_type(canonical, e.span)
            self.ctx.deps.setdefault(self.current, set()).add(f"table:{canonical}")
            return self.table_type(canonical, e.span)
        if n in self.model.rules or n in self.model.rows:
            self._rule_dep(n, e.span)
            return BOOL
        root = self.model.root_record
        if root is not None:
            f = field_lookup(root, n)
            if f is not None:
                self.ctx.used_fields.add((root.name, f.key))
                return self.field_type(f)
        hz, he = did_you_mean(n, self.visible_names(scopes))
        owner = next(
            (
                r
                for r in {id(r): r for r in self.model.records.values()}.values()
                if field_lookup(r, n) is not None
            ),
            None,
        )
        if owner is not None and self.model.input is None:
            hz = f"「{n}」是记录「{owner.name}」的字段; 先声明输入: input {owner.name} key …"
            he = (
                f"'{n}' is a field of record '{owner.name}'; declare the input first: "
                f"input {owner.name} key …"
            )
        elif owner is not None:
            lst = self._list_of(owner) or "列表"
            hz = (
                f"「{n}」是记录「{owner.name}」的字段, 只能在对这种记录的列表计算时使用, "
                f"例如 max({lst}: {n})"
            )
            he = (
                f"'{n}' is a field of record '{owner.name}': use it inside an aggregation over "
                f"a list of them, e.g. max({lst}: {n})"
            )
        elif e is self.bare_cell:
            hz, he = f'文字要加英文双引号: "{n}"', f'text needs double quotes: "{n}"'
        elif not hz:
            hz = f'如果「{n}」是一段文字, 要加英文双引号: "{n}"'
            he = f"if '{n}' is text, put it in double quotes: \"{n}\""
        for kw in KEYWORD_PREFIXES:
            rest = n[len(kw) :]
            if n.startswith(kw) and rest and rest in set(self.visible_names(scopes)):
                hz = f"关键字「{kw}」和名称「{rest}」之间要加空格"
                he = f"put a space between the keyword '{kw}' and the name '{rest}'"
        self.ctx.error("F201", e.span, f"未知名称「{n}」", f"unknown name '{n}'", hz, he)
        return ANY

    def _list_of(self, record: ast.RecordDecl) -> str | None:
        """The name of an input field holding a list of ``record``."""
        root = self.model.root_record
        for f in root.fields if root is not None else ():
            t = type_of_ref(self.model, f.type)
            if t is not None and t.elem is not None and t.elem.name == record.name:
                return f.label or f.key
        return None

    def field_type(self, f: ast.Field) -> T:
        t = type_of_ref(self.model, f.type)
        return ANY if t is None else t

    def attr(self, e: ast.Attr, scopes: tuple[Scope, ...]) -> T:
        ot = self.infer(e.obj, scopes)
        if ot.kind == "any":
            return ANY
        if ot.kind == "record" and ot.name is not None:
            rec = self.model.records[ot.name]
            f = field_lookup(rec, e.name)
            if f is None:
                hz, he = did_you_mean(
                    e.name, [x for g in rec.fields for x in (g.key, g.label) if x]
                )
                self.ctx.error(
                    "F204",
                    e.span,
                    f"记录「{rec.name}」没有字段「{e.name}」",
                    f"record '{rec.name}' has no field '{e.name}'",
                    hz,
                    he,
                )
                return ANY
            self.ctx.used_fields.add((rec.name, f.key))
            return self.field_type(f)
        if ot.kind == "tablerow" and ot.name is not None:
            cols = self.ctx.table_columns.get(ot.name, {})
            if e.name in cols:
                return cols[e.name]
            hz, he = did_you_mean(e.name, cols)
            self.ctx.error(
                "F205",
                e.span,
                f"决策表「{ot.name}」没有输出列「{e.name}」",
                f"table '{ot.name}' has no output column '{e.name}'",
                hz,
                he,
            )
            return ANY
        self.ctx.error(
            "F304",
            e.span,
            f"{ot.show()}没有字段, 不能用 .{e.name}",
            f"a {ot.show('en')} has no fields; `.{e.name}` is not allowed",
            f"只有记录类型的值才能用 . 取字段; 删掉「.{e.name}」",
            f"only values of a record type have fields; remove '.{e.name}'",
        )
        return ANY

    def call(self, e: ast.Call, scopes: tuple[Scope, ...]) -> T:
        func = FUNCTION_ALIASES.get(e.func, e.func)
        if func not in FUNCTIONS:
            hz, he = did_you_mean(e.func, [*FUNCTIONS, *FUNCTION_ALIASES])
            self.ctx.error(
                "F207",
                e.span,
                f"未知函数「{e.func}」",
                f"unknown function '{e.func}'",
                f"{hz} {FUNCTIONS_HINT_ZH}" if hz else FUNCTIONS_HINT_ZH,
                f"{he} {FUNCTIONS_HINT_EN}" if he else FUNCTIONS_HINT_EN,
            )
            for a in e.args:
                self.infer(a, scopes)
            return ANY
        args = e.args
        if func == "missing_required":
            self._arity(e, 0)
            return BOOL
        is_agg = func in AGGREGATES and len(args) == 1
        if not is_agg:
            if e.where is not None or e.body is not None:
                self.ctx.error(
                    "F313",
                    e.span,
                    f"{e.func} 不能带 where 或 :; "
                    "它们只能用在 count、sum、any、all、min、max 的唯一一个列表参数里",
                    f"{e.func}(…) cannot take `where` or `:`; they only go in count, sum, any, "
                    "all, min or max with a single list argument",
                    "例如 count(家庭成员 where 年龄 >= 60)、max(家庭成员: 年龄)",
                    "e.g. count(家庭成员 where 年龄 >= 60), max(家庭成员: 年龄)",
                )
            ts = [self.infer(a, scopes) for a in args]
            if func == "round":
                self._arity(e, 2)
                if ts and not ts[0].numeric and ts[0].kind != "any":
                    self._bad_operand(e.span, "round", ts[0])
                if len(args) == 2 and not isinstance(args[1], ast.Number):
                    self.ctx.error(
                        "F314",
                        args[1].span,
                        f"{e.func} 的小数位数要直接写数字, 不能用参数或算式",
                        f"the decimals of {e.func} must be written as a number, not a parameter "
                        "or a calculation",
                        f"例如 {e.func}(家庭纯收入 / 家庭人口数, 2)",
                        f"e.g. {e.func}(家庭纯收入 / 家庭人口数, 2)",
                    )
                return ts[0] if ts else ANY
            if func == "months":
                self._arity(e, 2)
                for a, t in zip(args, ts, strict=False):
                    if t.kind not in ("date", "any"):
                        self._bad_operand(a.span, "months", t)
                return INT
            if func == "abs":
                self._arity(e, 1)
                return ts[0] if ts else ANY
            if func in ("min", "max") and len(args) >= 2:
                t = ts[0]
                for a, other in zip(args[1:], ts[1:], strict=False):
                    u = unify(t, other)
                    if u is None or not _ordered(u):
                        self._incomparable(a.span, t, other, func)
                    else:
                        t = u
                return t
            self._arity(e, 1)
            return ANY
        # aggregation over a list
        lt = self.infer(args[0], scopes)
        if lt.kind == "any":
            return ANY
        if not lt.collection or lt.elem is None:
            self.ctx.error(
                "F315",
                args[0].span,
                f"{e.func} 要对一个列表计算, 这里是{lt.show()}",
                f"{e.func} works on a list, not on {lt.show('en')}",
                "括号里写一个列表, 例如 sum(家庭成员: 个人收入)、count(家庭成员 where 年龄 >= 60)",
                "put a list in the parentheses, e.g. sum(家庭成员: 个人收入), "
                "count(家庭成员 where 年龄 >= 60)",
            )
            return ANY
        elem = lt.elem
        if elem.kind == "record" and elem.name is not None:
            inner = (*scopes, Scope(self.model.records[elem.name], None))
        else:
            inner = (*scopes, Scope(None, elem))
        if e.where is not None:
            self._want_bool(e.where, self.infer(e.where, inner))
        body_t = self.infer(e.body, inner) if e.body is not None else None
        if func == "count":
            if body_t is not None:
                self._want_bool(e.body, body_t)  # type: ignore[arg-type]
            return INT
        if func in ("any", "all"):
            if body_t is not None:
                self._want_bool(e.body, body_t)  # type: ignore[arg-type]
            elif func == "all" and elem.kind not in ("bool", "any"):
                arg = args[0].name if isinstance(args[0], ast.Name) else "家庭成员"
                self.ctx.error(
                    "F316",
                    e.span,
                    f"{e.func} 需要写出条件",
                    f"{e.func} needs a condition",
                    f'在 : 后面写出每一项要满足的条件, 例如 {e.func}({arg}: 劳动能力 = "无劳动力")',
                    f"write the condition every item must meet after :, e.g. {e.func}({arg}: "
                    '劳动能力 = "无劳动力")',
                )
            return BOOL
        value_t = body_t if body_t is not None else elem
        if not (value_t.numeric or (func in ("min", "max") and value_t.kind == "date")):
            if value_t.kind != "any":
                self._bad_operand(e.span, func, value_t)
            return ANY
        return value_t

    def binop(self, e: ast.BinOp, scopes: tuple[Scope, ...]) -> T:
        lt = self.infer(e.left, scopes)
        rt = self.infer(e.right, scopes)
        if e.op in ("∩", "∪"):
            if lt.kind == "any" or rt.kind == "any":
                return ANY
            if not (lt.collection and rt.collection):
                self._bad_operand(e.span, e.op, lt if not lt.collection else rt)
                return ANY
            u = unify(lt, rt)
            if u is None:
                self._incomparable(e.span, lt, rt, e.op)
                return ANY
            if lt.elem is not None and rt.elem is not None:
                self._check_literal_in_enum(lt.elem, e.right)
                self._check_literal_in_enum(rt.elem, e.left)
            return T("set", elem=u.elem)
        r = arith(e.op, lt, rt)
        if r is None:
            self.ctx.error(
                "F303",
                e.span,
                f"不能对{lt.show()}和{rt.show()}做 {e.op} 运算",
                f"cannot apply {e.op} to {lt.show('en')} and {rt.show('en')}",
                "金额只能与金额相加减; 金额可以乘除以人数或比例",
                "money adds to money; money may be multiplied or divided by a count or rate",
            )
            return ANY
        return r

    # ------------------------------------------------------------ helpers
    def _check_literal_in_enum(self, t: T, e: ast.Expr) -> None:
        if t.kind != "enum" or t.name is None:
            return
        values = [m.value for m in self.model.enums[t.name].members]
        literals: list[ast.String] = []
        if isinstance(e, ast.String):
            literals = [e]
        elif isinstance(e, ast.SetLit):
            literals = [i for i in e.items if isinstance(i, ast.String)]
        for lit in literals:
            if lit.value not in values:
                hz, he = did_you_mean(lit.value, values)
                self.ctx.error(
                    "F308",
                    lit.span,
                    f"「{lit.value}」不是枚举「{t.name}」的取值",
                    f"'{lit.value}' is not a value of enum '{t.name}'",
                    hz or ("可用的取值: " + "、".join(values)),
                    he or ("allowed values: " + ", ".join(values)),
                )

    def _want_bool(self, e: ast.Expr, t: T) -> None:
        if t.kind not in ("bool", "any"):
            self.ctx.error(
                "F307",
                e.span,
                f"这里需要一个是/否条件, 但得到的是{t.show()}",
                f"a true/false condition is needed here, not {t.show('en')}",
                "写出比较, 例如 x > 0",
                "write a comparison, e.g. x > 0",
            )

    def _incomparable(
        self, span: Span, a: T, b: T, op: str = "", hint: tuple[str, str] | None = None
    ) -> None:
        hz, he = hint or (
            "比较两边的类型要一致: 金额比金额, 日期比日期, 枚举比它的取值",
            "compare like with like: money with money, dates with dates, an enum with its values",
        )
        self.ctx.error(
            "F305",
            span,
            f"不能比较{a.show()}和{b.show()}" + (f" ({op})" if op else ""),
            f"cannot compare {a.show('en')} with {b.show('en')}" + (f" ({op})" if op else ""),
            hz,
            he,
        )

    def _mismatch(self, span: Span, a: T, b: T) -> None:
        self.ctx.error(
            "F306",
            span,
            f"类型不一致: 前面是{a.show()}, 这里是{b.show()}",
            f"type mismatch: {a.show('en')} before, {b.show('en')} here",
            "同一列或同一表达式的各个取值要是同一种类型",
            "all values of one column or expression need the same type",
        )

    def _bad_operand(self, span: Span, op: str, t: T) -> None:
        self.ctx.error(
            "F303",
            span,
            f"{op} 不能用于{t.show()}",
            f"{op} cannot be applied to {t.show('en')}",
            "检查运算对象的类型",
            "check the type of the operand",
        )

    def _arity(self, e: ast.Call, n: int) -> None:
        if len(e.args) != n:
            sig_zh, sig_en = SIGNATURES.get(FUNCTION_ALIASES.get(e.func, e.func), ("", ""))
            self.ctx.error(
                "F317",
                e.span,
                f"{e.func} 需要 {n} 个参数, 这里给了 {len(e.args)} 个",
                f"{e.func} takes {n} argument(s), {len(e.args)} given",
                "写作 " + sig_zh.format(f=e.func) if sig_zh else "",
                "write " + sig_en.format(f=e.func) if sig_en else "",
            )

    def _unknown_type(self, ref: ast.TypeRef) -> None:
        names = [*BUILTIN_TYPES, *self.model.enums, *self.model.records]
        hz, he = did_you_mean(ref.name, names)
        self.ctx.error(
            "F208",
            ref.span,
            f"未知类型「{ref.name if ref.of is None else ref.name + ' of ' + ref.of}」",
            f"unknown type '{ref.name if ref.of is None else ref.name + ' of ' + ref.of}'",
            hz or "可用: money int number bool date text, 枚举名, 记录名, list of 记录名",
            he or "use money, int, number, bool, date, text, an enum or record name, list of X",
        )

    def _cycle(self, key: str, at: Span | None) -> None:
        start = self.in_progress.index(key)
        path = [k.split(":", 1)[1] for k in self.in_progress[start:]] + [key.split(":", 1)[1]]
        self.ctx.error(
            "F310",
            at,
            "循环依赖: " + " → ".join(path),
            "circular definition: " + " → ".join(path),
            "一个值不能直接或间接地依赖自己",
            "a value cannot depend on itself, directly or indirectly",
        )


def _quoted_date(lt: T, rt: T, left: ast.Expr, right: ast.Expr) -> tuple[str, str] | None:
    """The hint for a date compared with a date written in quotes."""
    for t, other in ((lt, right), (rt, left)):
        if (
            t.kind == "date"
            and isinstance(other, ast.String)
            and re.fullmatch(r"\d{4}-\d{2}-\d{2}", other.value)
        ):
            return (
                f"日期不要加引号: {other.value}",
                f"write the date without quotes: {other.value}",
            )
    return None


def _ordered(t: T) -> bool:
    return t.numeric or t.kind in ("date", "any")


def typecheck(model: PolicyModel, ctx: CheckContext) -> None:
    """Type every let, table and rule; record their types and dependencies."""
    typer = Typer(model, ctx)
    for name, decl in model.lets.items():
        if decl.name == name:
            typer.let_type(name, decl.span)
    for name in model.tables:
        typer.table_type(name, model.tables[name].span)
    for rule in model.rules.values():
        key = f"rule:{rule.rule_id}"
        typer.current = key
        ctx.deps.setdefault(key, set())
        typer._want_bool(rule.when, typer.infer(rule.when, ()))
        for rid in rule.overrides:
            typer._rule_dep(rid, name_span(rule), add=False)
    # every rule's status also depends on the rules that override it
    for rule in model.rules.values():
        for rid in rule.overrides:
            if rid in model.rules:
                ctx.deps.setdefault(f"rule:{rid}", set()).add(f"rule:{rule.rule_id}")
    _rule_cycles(model, ctx)


def _rule_cycles(model: PolicyModel, ctx: CheckContext) -> None:
    """Cycles through rules (lets and tables are caught while typing)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(ctx.deps.get(node, ())):
            if state.get(nxt) == 1:
                if any(k.startswith("rule:") for k in stack[stack.index(nxt) :]):
                    cyc = [k.split(":", 1)[1] for k in stack[stack.index(nxt) :]]
                    span = name_span(model.rules[node[5:]]) if node.startswith("rule:") else None
                    ctx.error(
                        "F310",
                        span,
                        "循环依赖: " + " → ".join([*cyc, cyc[0]]),
                        "circular definition: " + " → ".join([*cyc, cyc[0]]),
                        "一个规则不能直接或间接地依赖自己",
                        "a rule cannot depend on itself, directly or indirectly",
                    )
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(ctx.deps):
        if node.startswith("rule:") and node not in state:
            visit(node)
