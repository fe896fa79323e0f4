"""The analyses of one period: tables (gaps, overlaps, unreachable and contradictory rows),
rules (never fire, always-true conditions) and elementary conditions (always or never true).

A *finding* states something about every household, or gives a household as a witness:

* claims about every household ("never fires", "unreachable", "always true") are proved
  on a relaxation (opaque conditions free, derived amounts independent), so they hold;
* witnesses ("this case matches no row", "both rows match this case") are only reported as
  certain when they hold for every value of the opaque conditions and the variables they
  fix are independent inputs; otherwise they are reported as possibilities (F708).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from fanpin_rules import ast
from fanpin_rules.analysis.logic import Budget, Cube, Logic, Node, Var, merge_cubes
from fanpin_rules.analysis.translate import (
    BoolT,
    Const,
    Ite,
    Period,
    Pred,
    Term,
    Translator,
    Unsupported,
    VarT,
    iter_conditions,
)
from fanpin_rules.analysis.values import FiniteSet, OrderedSet, TextSet, ValueSet
from fanpin_rules.errors import Severity
from fanpin_rules.exprfmt import cell_text, conjuncts, to_text
from fanpin_rules.model import PolicyModel
from fanpin_rules.source import Span
from fanpin_rules.types import T
from fanpin_rules.values import ABSENT

__all__ = ["Analyzer", "Finding"]

MAX_GAPS = 5


@attrs.frozen
class Finding:
    """One result of the analysis, in both languages, with an optional witness.

    ``witness`` maps variable keys (``in:field.path`` for inputs) to a value; it describes
    one household of the case (used by tests to re-evaluate the case).
    """

    code: str
    severity: Severity
    span: Span | None
    zh: str
    en: str
    hint_zh: str = ""
    hint_en: str = ""
    witness: dict[str, Any] | None = attrs.field(default=None, eq=False, hash=False)
    subject: str = ""


def show_value(v: Any, lang: str) -> str:
    """A value as policy staff read it."""
    if v is ABSENT:
        return "缺失" if lang == "zh" else "absent"
    if isinstance(v, bool):
        return ("是" if v else "否") if lang == "zh" else ("true" if v else "false")
    if isinstance(v, Decimal):
        return format(v.normalize(), "f") if v != 0 else "0"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _cell_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return show_value(v, "en")


class Analyzer:
    """Runs every analysis for one period and collects :class:`Finding` s."""

    def __init__(
        self,
        model: PolicyModel,
        period: Period,
        type_of: Callable[[ast.Expr], T],
        hit_policies: dict[str, str],
        budget: int = 200_000,
    ) -> None:
        self.model = model
        self.period = period
        self.lg = Logic(budget)
        self.tr = Translator(model, period, self.lg, type_of, hit_policies)
        self.findings: list[Finding] = []
        self._reported: set[tuple[str, Span | None]] = set()

    # ------------------------------------------------------------ driver
    def run(self) -> list[Finding]:
        for table in self.model.tables.values():
            self._guarded(
                self.table,
                table,
                table.name_span,
                f"决策表「{table.name}」",
                f"table '{table.name}'",
            )
        for rule in self.model.rules.values():
            self._guarded(
                self.rule, rule, rule.name_span, f"规则 {rule.rule_id}", f"rule {rule.rule_id}"
            )
        for item in self.model.items():
            if isinstance(item, ast.LetDecl | ast.RuleDecl):
                expr = item.expr if isinstance(item, ast.LetDecl) else item.when
                for c in iter_conditions(expr):
                    self._guarded(
                        self.elementary,
                        c,
                        c.span,
                        f"条件「{to_text(c)}」",
                        f"condition '{to_text(c)}'",
                    )
        for item in self.model.items():
            for root in _division_roots(item):
                self.divisions(root, ())
        self.opaque_notes()
        return self.findings

    def _guarded(self, fn: Callable[[Any], None], item: Any, span: Span, zh: str, en: str) -> None:
        self.lg.steps = 0
        try:
            fn(item)
        except (Budget, Unsupported, RecursionError):
            self.add(
                "F709",
                "info",
                span,
                f"{zh}的情况太多或超出分析范围, 没有分析完",
                f"{en} has too many cases or is beyond the analysis; it was not fully analysed",
            )

    def add(
        self,
        code: str,
        severity: Severity,
        span: Span | None,
        zh: str,
        en: str,
        hint_zh: str = "",
        hint_en: str = "",
        witness: dict[str, Any] | None = None,
        subject: str = "",
    ) -> None:
        key = (code + zh, span)
        if key in self._reported:
            return
        self._reported.add(key)
        self.findings.append(
            Finding(code, severity, span, zh, en, hint_zh, hint_en, witness, subject)
        )

    # ------------------------------------------------------------ helpers
    def with_theory(self, n: Node) -> Node:
        """``n`` and what its quantifiers (any/all over a list) can jointly be."""
        return self.lg.and_(n, self.tr.theory(n))

    def sat(self, n: Node) -> Cube | None:
        return self.lg.sat(self.with_theory(n))

    def valid(self, n: Node) -> bool:
        return self.sat(self.lg.not_(n)) is None

    def uncertain(self, n: Node) -> list[Var]:
        """Variables whose values a witness must not rely on."""
        vs = sorted(n.vars, key=lambda v: v.uid)
        out = []
        for v in vs:
            if v.kind == "column":
                continue
            if v.kind == "opaque" or not v.exact:
                out.append(v)
                continue
            if any(w is not v and w.kind != "column" and (v.support & w.support) for w in vs):
                out.append(v)
        return out

    def opaque_labels(self, vs: Sequence[Var]) -> str:
        labels = list(dict.fromkeys(f"「{v.label}」" for v in vs))
        return "、".join(labels[:4]) + ("等" if len(labels) > 4 else "")

    def opaque_labels_en(self, vs: Sequence[Var]) -> str:
        labels = list(dict.fromkeys(f"'{v.label}'" for v in vs))
        return ", ".join(labels[:4]) + (", …" if len(labels) > 4 else "")

    def witness(self, cube: Cube) -> dict[str, Any]:
        return {v.key: v.representative(vals) for v, vals in cube.items()}

    # ------------------------------------------------------------ tables
    def table(self, table: ast.TableDecl) -> None:
        info = self.tr.table(table.name)
        lg = self.lg
        columns = _Columns(self, table, info.columns)
        hit = info.hit
        ids = [r.rule_id for r in table.rows]
        for k, cell_row in enumerate(table.rows):
            for c, col_expr, col in zip(cell_row.cells, table.inputs, info.columns, strict=False):
                if isinstance(c, ast.CellAny):
                    continue
                f = self.tr.cell(table, cell_row, c, col)
                if self.valid(f):
                    text = f"{to_text(col_expr)} : {cell_text(c)}"
                    self.add(
                        "F706",
                        "warning",
                        c.span,
                        f"{ids[k]} 这一格「{text}」对每一户都成立",
                        f"the cell '{text}' of row {ids[k]} holds for every household",
                        "这一格写 - 即可; 也许比较符号或数值写错了",
                        "write - in this cell; or check the operator and the value",
                    )
        live = []
        for i in range(len(table.rows)):
            if self.sat(info.matches[i]) is None:
                self.contradictory_row(table, info, i)
            else:
                live.append(i)
        if hit in ("first", "priority") and info.ranked:
            for i in live:
                if self.sat(info.selected[i]) is None:
                    rank = info.order.index(i)
                    before = [
                        ids[j]
                        for j in info.order[:rank]
                        if self.sat(lg.and_(info.matches[i], info.matches[j])) is not None
                    ]
                    shown = "、".join(before) or "前面的行"
                    self.add(
                        "F703",
                        "warning",
                        row_span(table.rows[i]),
                        f"{ids[i]} 这一行永远不会被选中 (hit {table.hit}): "
                        f"它能命中的户都先被 {shown} 选中",
                        f"row {ids[i]} can never be selected (hit {table.hit}): every household it "
                        f"matches is taken by {', '.join(before) or 'the rows above'} first",
                        "删除这一行, 或把它移到前面, 或收窄先选中它的那些行的条件",
                        "remove the row, move it up, or narrow the rows that take its households",
                    )
        if hit in ("unique", "any"):
            for a in live:
                for b in live:
                    if b > a:
                        self.overlap(table, info, columns, a, b)
        if hit in ("unique", "any", "first", "priority"):
            self.gaps(table, info, columns)
        for i in live:
            self.row_conclusion(table, info, i)

    def contradictory_row(self, table: ast.TableDecl, info: Any, i: int) -> None:
        row = table.rows[i]
        cells = [
            (c, e, col)
            for c, e, col in zip(row.cells, table.inputs, info.columns, strict=False)
            if not isinstance(c, ast.CellAny)
        ]
        parts = [self.tr.cell(table, row, c, col) for c, _e, col in cells]
        core = self.minimal_unsat(parts)
        texts = [f"「{to_text(cells[k][1])} : {cell_text(cells[k][0])}」" for k in core]
        en = [f"'{to_text(cells[k][1])} : {cell_text(cells[k][0])}'" for k in core]
        if len(texts) == 1:
            zh_reason, en_reason = f"{texts[0]}永远不成立", f"{en[0]} never holds"
        else:
            zh_reason = "、".join(texts) + "不能同时成立"
            en_reason = " and ".join(en) + " cannot hold together"
        self.add(
            "F704",
            "warning",
            row_span(row),
            f"{row.rule_id} 这一行永远不会命中: {zh_reason}",
            f"row {row.rule_id} never matches: {en_reason}",
            "检查这些格子的比较符号和数值; 也要看字段声明的取值范围 (如 >= 0)",
            "check the operators and values of these cells, and the declared range of the "
            "fields (such as >= 0)",
        )

    def row_conclusion(self, table: ast.TableDecl, info: Any, i: int) -> None:
        rid = table.rows[i].rule_id
        if not self.tr.overriders.get(rid) or self.sat(info.selected[i]) is None:
            return
        if self.sat(self.tr.conclusion(rid)) is None:
            self.overridden(rid, info.selected[i], row_span(table.rows[i]))

    def overlap(self, table: ast.TableDecl, info: Any, columns: _Columns, a: int, b: int) -> None:
        lg = self.lg
        ra, rb = table.rows[a], table.rows[b]
        both = lg.and_(info.matches[a], info.matches[b])
        if self.sat(both) is None:
            return
        differ: bool | None = True
        if info.hit == "any":
            differ = _outputs_differ(self.tr, ra, rb)
            if differ is False:
                return
        f = self.with_theory(lg.and_(columns.constraint, both))
        sure = lg.forall(f, self.uncertain(f))
        cube = self.sat(sure)
        what = "同时命中" if info.hit == "unique" else "同时命中而结论不同"
        what_en = "both match" if info.hit == "unique" else "both match with different outputs"
        if cube is not None and differ is True:
            case, case_en, _ = columns.describe(cube)
            self.add(
                "F702",
                "error",
                row_span(rb),
                f"决策表「{table.name}」(hit {table.hit}) 的 {ra.rule_id} 和 {rb.rule_id} 可以"
                f"{what}: 例如 {case}",
                f"rows {ra.rule_id} and {rb.rule_id} of table '{table.name}' (hit {table.hit}) "
                f"can {what_en}, e.g. {case_en}",
                "收窄其中一行的条件, 使两行不再重叠; 或改用 hit first (按顺序取第一个命中的行)",
                "narrow one of the rows so that they no longer overlap, or use hit first "
                "(the first matching row wins)",
                witness=self.witness(cube),
                subject=f"{ra.rule_id},{rb.rule_id}",
            )
            return
        cube = self.sat(f)
        assert cube is not None
        case, case_en, _ = columns.describe(cube)
        unsure = self.uncertain(f)
        self.add(
            "F708",
            "info",
            row_span(rb),
            f"决策表「{table.name}」的 {ra.rule_id} 和 {rb.rule_id} 可能{what} (例如 {case}); "
            f"这取决于超出分析范围的{self.opaque_labels(unsure) or '输出'}, 请人工确认",
            f"rows {ra.rule_id} and {rb.rule_id} of table '{table.name}' may {what_en} "
            f"(e.g. {case_en}); this depends on {self.opaque_labels_en(unsure) or 'the outputs'}, "
            "which the analysis cannot decide: please check by hand",
        )

    def gaps(self, table: ast.TableDecl, info: Any, columns: _Columns) -> None:
        lg = self.lg
        none = self.with_theory(lg.and_(columns.constraint, *(lg.not_(m) for m in info.matches)))
        if self.sat(none) is None:
            return
        unsure = self.uncertain(none)
        sure = lg.forall(none, unsure)
        found = lg.project(sure, columns.vars)
        cubes = merge_cubes([c for c, _w in found])
        cubes.sort(key=lambda c: columns.sort_key(c))
        for k, cube in enumerate(cubes[:MAX_GAPS]):
            found_w = self.sat(lg.assign(sure, cube))
            assert found_w is not None
            w = {**found_w, **cube}
            case, case_en, row = columns.describe(cube, example=w)
            more = len(cubes) - MAX_GAPS if k == MAX_GAPS - 1 else 0
            tail_zh = f" (另有 {more} 种情况未列出)" if more > 0 else ""
            tail_en = f" ({more} more cases not listed)" if more > 0 else ""
            self.add(
                "F701",
                "warning",
                table.name_span,
                f"决策表「{table.name}」(hit {table.hit}) 有缺口: {case} 的户没有匹配的行, "
                f"得不到结论{tail_zh}",
                f"table '{table.name}' (hit {table.hit}) has a gap: a household with {case_en} "
                f"matches no row and gets no decision{tail_en}",
                f"补一行 {row}, 或加一个条件格都写 - 的兜底行; 有意不给结论时, 在表名那一行上面写 "
                "# 已确认 F701: 理由",
                f"add a row {row}, or a catch-all row with - in every condition cell; if no "
                "decision is intended, write # ack F701: reason above the table line",
                witness=self.witness(w),
                subject=case_en,
            )
        maybe = self.sat(lg.and_(none, lg.not_(sure)))
        if maybe is not None:
            case, case_en, _ = columns.describe(maybe)
            self.add(
                "F708",
                "info",
                table.name_span,
                f"决策表「{table.name}」可能有缺口: 例如 {case} 时可能没有匹配的行; 这取决于"
                f"超出分析范围的{self.opaque_labels(unsure)}, 请人工确认",
                f"table '{table.name}' may have a gap: e.g. with {case_en} no row may match; this "
                f"depends on {self.opaque_labels_en(unsure)}, which the analysis cannot decide: "
                "please check by hand",
            )

    # ------------------------------------------------------------ rules
    def rule(self, rule: ast.RuleDecl) -> None:
        raw = self.tr.cond(rule.when)
        rid = rule.rule_id
        parts = conjuncts(rule.when)
        if self.sat(raw) is None:
            conds = [self.tr.cond(c) for c in parts]
            core = self.minimal_unsat(conds)
            texts = [f"「{to_text(parts[k])}」" for k in core]
            en = [f"'{to_text(parts[k])}'" for k in core]
            if len(core) == 1:
                zh_reason, en_reason = f"{texts[0]}永远不成立", f"{en[0]} never holds"
            else:
                zh_reason = "、".join(texts) + "不能同时成立"
                en_reason = " and ".join(en) + " cannot hold together"
            for k in core:
                self._reported.add(("F707", parts[k].span))
            self.add(
                "F705",
                "warning",
                rule.name_span,
                f"规则 {rid} 永远不会成立: {zh_reason}",
                f"rule {rid} can never fire: {en_reason}",
                "检查条件和它依赖的规则; 也要看字段声明的取值范围 (如 >= 0)",
                "check the conditions and the rules they depend on, and the declared range of "
                "the fields (such as >= 0)",
            )
            return
        if self.sat(self.tr.conclusion(rid)) is None:
            self.overridden(rid, raw, rule.name_span)
            return
        if len(parts) == 1:
            if self.valid(raw):
                self._reported.add(("F706", rule.when.span))
                self.add(
                    "F706",
                    "warning",
                    rule.name_span,
                    f"规则 {rid} 的条件「{to_text(rule.when)}」对每一户都成立",
                    f"the condition '{to_text(rule.when)}' of rule {rid} holds for every household",
                    "也许比较符号或数值写错了; 确实如此时写 # 已确认 F706: 理由",
                    "check the operator and the value; if intended, write # ack F706: reason",
                )
            return
        for c in parts:
            if self.valid(self.tr.cond(c)):
                self.always(c)

    def overridden(self, rid: str, raw: Node, span: Span) -> None:
        lg = self.lg
        by = [
            o
            for o in self.tr.overriders.get(rid, ())
            if self.sat(lg.and_(raw, self.tr.conclusion(o))) is not None
        ]
        shown = "、".join(by)
        self.add(
            "F705",
            "warning",
            span,
            f"{rid} 永远不会成立: 它的条件成立时, 优先于它的 {shown} 也成立",
            f"{rid} can never fire: whenever its condition holds, {', '.join(by)} (which "
            "overrides it) holds too",
            f"删除 {rid}, 或收窄 {shown} 的条件, 或去掉 overrides",
            f"remove {rid}, narrow {', '.join(by)}, or drop the overrides",
        )

    def always(self, c: ast.Expr) -> None:
        self.add(
            "F706",
            "warning",
            c.span,
            f"条件「{to_text(c)}」对每一户都成立",
            f"the condition '{to_text(c)}' holds for every household",
            "删除这个条件; 也许比较符号或数值写错了 (也要看字段声明的取值范围, 如 >= 0)",
            "remove it, or check the operator and the value (and the declared range of the "
            "field, such as >= 0)",
        )

    def elementary(self, c: ast.Expr) -> None:
        f = self.tr.cond(c)
        if self.sat(f) is None:
            if ("F707", c.span) in self._reported:
                return
            self.add(
                "F707",
                "warning",
                c.span,
                f"条件「{to_text(c)}」永远不成立",
                f"the condition '{to_text(c)}' never holds",
                "检查比较符号和数值; 也要看字段声明的取值范围 (如 >= 0) 和枚举的取值",
                "check the operator and the value, the declared range of the field (such as "
                ">= 0) and the values of the enum",
            )
        elif self.valid(f) and ("F706", c.span) not in self._reported:
            self.always(c)

    def divisions(self, e: ast.Expr, path: tuple[tuple[ast.Expr, bool], ...]) -> None:
        """F713 for every division whose divisor can be zero where it is computed.

        ``path`` holds the ``if`` conditions (and which branch) around ``e``: only those
        guard a division. ``and``/``or`` do not — the explanation of a rule reads every
        part of its condition, and the columnar engine computes every part of a row.
        Inside an aggregation the divisor is a member's value: beyond this check.
        """
        if isinstance(e, ast.If):
            self.divisions(e.cond, path)
            self.divisions(e.then, (*path, (e.cond, True)))
            self.divisions(e.else_, (*path, (e.cond, False)))
            return
        if isinstance(e, ast.Call) and (e.where is not None or e.body is not None):
            for a in e.args:
                self.divisions(a, path)
            return
        if isinstance(e, ast.BinOp) and e.op == "/":
            self.division(e, path)
        for c in ast.children(e):
            self.divisions(c, path)

    def division(self, e: ast.BinOp, path: tuple[tuple[ast.Expr, bool], ...]) -> None:
        tr, lg = self.tr, self.lg
        seen = set(tr.opaque_exprs)
        self.lg.steps = 0
        try:
            divisor = tr.term(e.right)
            if isinstance(divisor, Const):
                if divisor.value is ABSENT or divisor.value != 0:
                    return
                zero = lg.and_()
            else:
                zero = tr.compare("=", divisor, Const(Decimal(0)))
            guards = [tr.cond(c) if holds else lg.not_(tr.cond(c)) for c, holds in path]
            node = lg.and_(*guards, zero)
            # a claim about every household needs every variable seen into
            if self.uncertain(node) or self.sat(node) is None:
                return
        except (Budget, Unsupported, RecursionError):
            return  # beyond the analysis: no claim
        finally:
            for var in set(tr.opaque_exprs) - seen:  # no F709 notes for this check
                del tr.opaque_exprs[var]
        text = to_text(e.right)
        guarded = "在外面「如果 … 则 … 否则 …」的条件成立时" if path else ""
        guarded_en = " where the enclosing if conditions hold" if path else ""
        self.add(
            "F713",
            "warning",
            e.right.span,
            f"除数「{text}」{guarded}可能为零: "
            "那样的一户在计算或解释时会出错 (批量评估会在这一户停下)",
            f"the divisor '{text}' can be zero{guarded_en}: computing or explaining such a "
            "household fails (a batch stops at it)",
            f"给字段声明下界 (如 >= 1), 或写成 如果 {text} > 0 则 … 否则 …; "
            "确实不会为零时写 # 已确认 F713: 理由",
            f"declare a lower bound on the field (such as >= 1), or write if {text} > 0 then … "
            "else …; if it cannot be zero, write # ack F713: reason",
        )

    def opaque_notes(self) -> None:
        """Say where the analysis treated an expression as any value (F709)."""
        for var, e in self.tr.opaque_exprs.items():
            span = e.span
            if span is None or span.line <= 0:
                continue
            self.add(
                "F709",
                "info",
                span,
                f"「{var.label}」超出静态分析的范围, 分析时当作任意取值",
                f"'{var.label}' is beyond the static analysis; it is treated as any value",
            )

    def minimal_unsat(self, parts: Sequence[Node]) -> list[int]:
        """A minimal set of ``parts`` that cannot hold together (by deletion)."""
        keep = list(range(len(parts)))
        for k in list(keep):
            trial = [j for j in keep if j != k]
            if self.sat(self.lg.and_(*(parts[j] for j in trial))) is None:
                keep = trial
        return keep


# ---------------------------------------------------------------- columns


class _Columns:
    """A table's columns as variables: the input itself, or a new variable defined by the
    column's formula (so cases read as column values: 劳动技能=丧失劳动力, 发展意愿=是)."""

    def __init__(self, an: Analyzer, table: ast.TableDecl, terms: Sequence[Term]) -> None:
        lg = an.lg
        self.table = table
        self.vars: list[Var] = []
        self.column_of: dict[Var, int] = {}
        defs: list[Node] = []
        for k, (e, t) in enumerate(zip(table.inputs, terms, strict=False)):
            text = to_text(e)
            if isinstance(t, VarT):
                v = t.var
            else:
                leaves = _leaves(t)
                if leaves is None:
                    continue
                order = tuple(sorted(leaves, key=_leaf_order))
                v = lg.var(
                    f"col:{table.name}:{k}:{an.period.start}",
                    text,
                    FiniteSet(frozenset(leaves)),
                    "column",
                    order=order,
                )
                for value in leaves:
                    p = Pred("missing") if value is ABSENT else Pred("cmp", "=", value)
                    defs.append(lg.iff(lg.lit(v, FiniteSet(frozenset({value}))), an.tr.test(t, p)))
            if v not in self.column_of:
                self.vars.append(v)
                self.column_of[v] = k
        self.labels = {v: to_text(table.inputs[k]) for v, k in self.column_of.items()}
        self.constraint = lg.and_(*defs)

    def sort_key(self, cube: Cube) -> tuple[Any, ...]:
        key = []
        for v in self.vars:
            vals = cube.get(v)
            key.append("" if vals is None else repr(v.representative(vals)))
        return tuple(key)

    def describe(self, cube: Cube, example: Cube | None = None) -> tuple[str, str, str]:
        """The case in Chinese, in English, and as a table row to add."""
        zh: list[str] = []
        en: list[str] = []
        ex_zh: list[str] = []
        ex_en: list[str] = []
        cells = ["-"] * len(self.table.inputs)
        for v in self.vars:
            vals = cube.get(v)
            if vals is None:
                continue
            label = self.labels[v]
            zh.append(_describe(label, v, vals, "zh"))
            en.append(_describe(label, v, vals, "en"))
            rep = v.representative(vals)
            ex_zh.append(f"{label}={show_value(rep, 'zh')}")
            ex_en.append(f"{label}={show_value(rep, 'en')}")
            cells[self.column_of[v]] = _cell(v, vals)
        extra_zh = extra_en = ""
        if ex_zh != zh:
            extra_zh, extra_en = f" (例如 {', '.join(ex_zh)})", f" (e.g. {', '.join(ex_en)})"
        del example
        row = "| ? | " + " | ".join(cells) + " || … |"
        return (
            (", ".join(zh) or "任何情况") + extra_zh,
            (", ".join(en) or "any values") + extra_en,
            row,
        )


def _division_roots(item: object) -> list[ast.Expr]:
    """The expressions of a declaration that are computed for a household."""
    if isinstance(item, ast.LetDecl):
        return [item.expr]
    if isinstance(item, ast.RuleDecl):
        return [item.when]
    if isinstance(item, ast.TableDecl):
        return ast.table_exprs(item)
    return []


def _leaves(t: Term) -> set[Any] | None:
    if isinstance(t, Const):
        return {t.value}
    if isinstance(t, BoolT):
        return {True, False}
    if isinstance(t, Ite):
        a, b = _leaves(t.then), _leaves(t.else_)
        return None if a is None or b is None else a | b
    return None


def _leaf_order(v: Any) -> tuple[int, str]:
    if v is ABSENT:
        return (2, "")
    if isinstance(v, bool):
        return (0, "1" if v else "0")
    return (1, repr(v))


def _describe(label: str, v: Var, vals: ValueSet, lang: str) -> str:
    if isinstance(vals, FiniteSet):
        order = [x for x in v.order if x in vals.values] + sorted(
            (x for x in vals.values if x not in v.order), key=_leaf_order
        )
        joined = ("或" if lang == "zh" else " or ").join(show_value(x, lang) for x in order)
        return f"{label}={joined}"
    if isinstance(vals, OrderedSet):
        absent = "缺失" if lang == "zh" else "absent"
        if len(vals.intervals) + vals.absent == 1 and vals.intervals:
            iv = vals.intervals[0]
            shown = OrderedSet((iv,), vals.step, False, vals.date).show()
            if iv.lo is not None and iv.lo == iv.hi:
                return f"{label}={shown}"
            if iv.lo is None or iv.hi is None:
                return f"{label} {shown}"
            return f"{label} {'在' if lang == 'zh' else 'in'} {shown}"
        parts = [OrderedSet((i,), vals.step, False, vals.date).show() for i in vals.intervals]
        parts += [absent] if vals.absent else []
        if lang == "zh":
            return f"{label}为 " + " 或 ".join(parts)
        return f"{label} is " + " or ".join(parts)
    assert isinstance(vals, TextSet)
    parts = [f"「{m}」" if lang == "zh" else f"'{m}'" for m in sorted(vals.members)]
    if vals.other_text:
        parts.append("其他文字" if lang == "zh" else "other text")
    if vals.other_blank:
        parts.append("空" if lang == "zh" else "blank")
    if vals.absent:
        parts.append("缺失" if lang == "zh" else "absent")
    return f"{label}={('或' if lang == 'zh' else ' or ').join(parts)}"


def _cell(v: Var, vals: ValueSet) -> str:
    if isinstance(vals, FiniteSet):
        shown = [_cell_value(x) for x in v.order if x in vals.values and x is not ABSENT]
        shown += [
            _cell_value(x)
            for x in sorted(vals.values - set(v.order), key=_leaf_order)
            if x is not ABSENT
        ]
        return ", ".join(shown) or "-"
    if isinstance(vals, OrderedSet):
        return OrderedSet.make(vals.intervals, vals.step, False, vals.date).show() or "-"
    return ", ".join(f'"{m}"' for m in sorted(vals.members)) or "-"


def _outputs_differ(tr: Translator, a: ast.Row, b: ast.Row) -> bool | None:
    """Whether two rows' outputs differ: True, False, or None (cannot tell)."""
    if a.outputs == b.outputs:
        return False
    ta = [tr.term(x) for x in a.outputs]
    tb = [tr.term(x) for x in b.outputs]
    if all(isinstance(x, Const) for x in ta + tb):
        return [x.value for x in ta] != [x.value for x in tb]  # type: ignore[union-attr]
    return None


def row_span(row: ast.Row) -> Span:
    """Where a row is written."""
    return row.span
