"""Lark tree -> AST: one method per grammar rule, with the same name."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, cast

import attrs
from lark import Token, Transformer, v_args
from lark.tree import Meta as LarkMeta

from fanpin_rules import ast
from fanpin_rules.errors import Diagnostic
from fanpin_rules.source import NOWHERE, Span

OP_NORMAL = {
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "＝": "=",
    "−": "-",
    "×": "*",
    "÷": "/",
    "&": "∩",
}
METADATA_COLUMNS = {"cite": "cite", "依据": "cite", "message": "message", "说明": "message"}
PUNCT = {"LPAR", "RPAR", "LSQB", "RSQB", "EQ"}


class BadString(Exception):
    """A quoted text with an escape JSON does not allow (reported as F023)."""

    def __init__(self, token: Token) -> None:
        super().__init__(str(token))
        self.token = token


def _unquote(tok: str) -> str:
    try:
        return cast(str, json.loads(tok))
    except json.JSONDecodeError:
        raise BadString(tok if isinstance(tok, Token) else Token("STRING", tok)) from None


def _keep(items: list[Any]) -> list[Any]:
    return [i for i in items if not (isinstance(i, Token) and i.type in PUNCT)]


class Builder(Transformer[Token, ast.Module]):
    """Builds frozen AST nodes; collects problems it can see locally (bad dates...)."""

    def __init__(self, path: str) -> None:
        super().__init__(visit_tokens=False)
        self.path = path
        self.diagnostics: list[Diagnostic] = []

    # -------------------------------------------------------------- helpers
    def _span(self, meta: LarkMeta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.path, 0, 0, 0, 0)
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tspan(self, tok: Token) -> Span:
        return Span(
            self.path,
            tok.line or 0,
            tok.column or 0,
            tok.end_line or tok.line or 0,
            tok.end_column or tok.column or 0,
        )

    def _date(self, tok: Token) -> dt.date:
        try:
            return dt.date.fromisoformat(str(tok))
        except ValueError:
            self.diagnostics.append(
                Diagnostic(
                    "F102",
                    "error",
                    f"日期 {tok} 不存在",
                    f"date {tok} does not exist",
                    self._tspan(tok),
                    "日期写作 年-月-日, 例如 2024-06-05, 月份 01–12, 日子要在该月之内",
                    "write dates as YYYY-MM-DD, e.g. 2024-06-05, with a real month and day",
                )
            )
            return dt.date(1, 1, 1)

    # -------------------------------------------------------------- top
    @v_args(meta=True)
    def start(self, meta: LarkMeta, items: list[ast.Item]) -> ast.Module:
        return ast.Module(self.path, tuple(items), span=self._span(meta))

    @v_args(meta=True)
    def policy_header(self, meta: LarkMeta, items: list[Any]) -> ast.PolicyHeader:
        title = items[1]
        return ast.PolicyHeader(_title(title), tuple(items[2:]), span=self._span(meta))

    @v_args(meta=True)
    def meta(self, meta: LarkMeta, items: list[Any]) -> ast.Meta:
        return ast.Meta(str(items[0]), items[-1], span=self._span(meta))

    @v_args(meta=True)
    def include(self, meta: LarkMeta, items: list[Any]) -> ast.Include:
        return ast.Include(_unquote(items[1]), span=self._span(meta))

    @v_args(meta=True)
    def label(self, meta: LarkMeta, items: list[Token]) -> str:
        return str(items[0])

    # -------------------------------------------------------------- schema
    @v_args(meta=True)
    def enum_decl(self, meta: LarkMeta, items: list[Any]) -> ast.EnumDecl:
        name = str(items[1])
        rest = items[2:]
        label = rest.pop(0) if rest and _is_label(rest[0]) else None
        return ast.EnumDecl(
            name, label, tuple(rest), span=self._span(meta), name_span=self._tspan(items[1])
        )

    @v_args(meta=True)
    def enum_member(self, meta: LarkMeta, items: list[Token]) -> ast.EnumMember:
        first = items[0]
        value = _unquote(first) if first.type == "STRING" else str(first)
        label = _unquote(items[1]) if len(items) > 1 else None
        return ast.EnumMember(value, label, span=self._span(meta))

    @v_args(meta=True)
    def record_decl(self, meta: LarkMeta, items: list[Any]) -> ast.RecordDecl:
        name = str(items[1])
        rest = items[2:]
        label = rest.pop(0) if rest and _is_label(rest[0]) else None
        return ast.RecordDecl(
            name, label, tuple(rest), span=self._span(meta), name_span=self._tspan(items[1])
        )

    @v_args(meta=True)
    def field(self, meta: LarkMeta, items: list[Any]) -> ast.Field:
        key_tok = items[0]
        key = _unquote(key_tok) if key_tok.type == "STRING" else str(key_tok)
        i = 1
        label = None
        if _is_label(items[i]):
            label = items[i]
            i += 1
        typ = items[i]
        opts: dict[str, Any] = {"bounds": []}
        for opt in items[i + 1 :]:
            kind, value = opt[0], opt[1]
            if kind == "bounds":
                opts["bounds"].append(value)
            else:
                opts[kind] = value
            if kind == "default":
                opts["default_span"] = opt[2]
        opts["bounds"] = tuple(opts["bounds"])
        return ast.Field(
            key, label, typ, span=self._span(meta), name_span=self._tspan(key_tok), **opts
        )

    @v_args(meta=True)
    def type_ref(self, meta: LarkMeta, items: list[Token]) -> ast.TypeRef:
        if len(items) == 3:
            return ast.TypeRef(str(items[0]), str(items[2]), span=self._span(meta))
        return ast.TypeRef(str(items[0]), None, span=self._span(meta))

    def opt_required(self, items: list[Any]) -> tuple[str, Any]:
        return ("required", True)

    @v_args(meta=True)
    def opt_default(self, meta: LarkMeta, items: list[Any]) -> tuple[str, Any, Span]:
        return ("default", _keep(items)[0], self._span(meta))

    @v_args(meta=True)
    def opt_bound(self, meta: LarkMeta, items: list[Any]) -> tuple[str, Any]:
        op = OP_NORMAL.get(str(items[0]), str(items[0]))
        return ("bounds", ast.Bound(op, items[1], span=self._span(meta)))

    def opt_pii(self, items: list[Any]) -> tuple[str, Any]:
        return ("pii", True)

    def opt_cite(self, items: list[Any]) -> tuple[str, Any]:
        return ("cite", items[0])

    def opt_unit(self, items: list[Any]) -> tuple[str, Any]:
        return ("unit", _unquote(items[1]))

    def opt_severity(self, items: list[Any]) -> tuple[str, Any, Span]:
        return ("severity", str(items[1]), self._tspan(items[1]))

    def opt_overrides(self, items: list[Any]) -> tuple[str, Any]:
        return ("overrides", tuple(str(t) for t in items[1:]))

    def cite(self, items: list[Token]) -> str:
        return _unquote(items[1])

    def signed_number(self, items: list[Token]) -> Decimal:
        value = Decimal(str(items[-1]))
        return -value if len(items) == 2 else value

    @v_args(meta=True)
    def input_decl(self, meta: LarkMeta, items: list[Token]) -> ast.InputDecl:
        key = str(items[3]) if len(items) == 4 else None
        return ast.InputDecl(str(items[1]), key, span=self._span(meta))

    # -------------------------------------------------------------- parameters
    @v_args(meta=True)
    def param_decl(self, meta: LarkMeta, items: list[Any]) -> ast.ParamDecl:
        name = str(items[1])
        rest = items[2:]
        label = None
        if _is_label(rest[0]):
            label = rest.pop(0)
        typ = rest.pop(0)
        opts: dict[str, Any] = {"unit": None, "cite": None}
        values = []
        for r in rest:
            if isinstance(r, tuple):
                opts[r[0]] = r[1]
            else:
                values.append(r)
        return ast.ParamDecl(
            name,
            label,
            typ,
            opts["unit"],
            opts["cite"],
            tuple(values),
            name_span=self._tspan(items[1]),
            span=self._span(meta),
        )

    @v_args(meta=True)
    def param_value(self, meta: LarkMeta, items: list[Any]) -> ast.ParamValue:
        cite = items[2] if len(items) > 2 else None
        return ast.ParamValue(self._date(items[0]), items[1], cite, span=self._span(meta))

    # -------------------------------------------------------------- derived values / rules
    @v_args(meta=True)
    def let_decl(self, meta: LarkMeta, items: list[Any]) -> ast.LetDecl:
        items = _keep(items)
        name = str(items[1])
        rest = items[2:]
        label = None
        typ = None
        cite = None
        if _is_label(rest[0]):
            label = rest.pop(0)
        if isinstance(rest[0], ast.TypeRef):
            typ = rest.pop(0)
        expr = rest.pop(0)
        if rest:
            cite = rest.pop(0)
        return ast.LetDecl(
            name, label, typ, expr, cite, name_span=self._tspan(items[1]), span=self._span(meta)
        )

    @v_args(meta=True)
    def rule_decl(self, meta: LarkMeta, items: list[Any]) -> ast.RuleDecl:
        rule_id = str(items[1])
        i = 2
        title = None
        if isinstance(items[i], Token) and items[i].type in ("NAME", "STRING"):
            title = _title(items[i])
            i += 1
        opts: dict[str, Any] = {"cite": None, "severity": None, "overrides": ()}
        spans: dict[str, Span] = {}
        while isinstance(items[i], tuple):
            opts[items[i][0]] = items[i][1]
            if len(items[i]) > 2:
                spans[f"{items[i][0]}_span"] = items[i][2]
            i += 1
        when = items[i + 1]
        message = _unquote(items[i + 3])
        return ast.RuleDecl(
            rule_id,
            title,
            opts["cite"],
            opts["severity"],
            opts["overrides"],
            when,
            message,
            name_span=self._tspan(items[1]),
            span=self._span(meta),
            **spans,
        )

    # -------------------------------------------------------------- tables
    @v_args(meta=True)
    def table_decl(self, meta: LarkMeta, items: list[Any]) -> ast.TableDecl:
        name = str(items[1])
        rest = items[2:]
        label = None
        if _is_label(rest[0]):
            label = rest.pop(0)
        rest.pop(0)  # HIT
        hit_name = rest.pop(0)
        hit = hit_name.value
        aggregation = None
        aggregation_span = hit_name.span
        if isinstance(rest[0], _HitName):
            aggregation_name = rest.pop(0)
            aggregation, aggregation_span = aggregation_name.value, aggregation_name.span
        opts: dict[str, Any] = {"cite": None, "overrides": ()}
        while isinstance(rest[0], tuple):
            opts[rest[0][0]] = rest[0][1]
            rest.pop(0)
        header: _Header = rest.pop(0)
        inputs, outcols = header.inputs, header.outputs
        meta_idx = {
            i: METADATA_COLUMNS[c.name] for i, c in enumerate(outcols) if c.name in METADATA_COLUMNS
        }
        rows = []
        for raw in rest:
            row_id, cells, outs, span, split_span = raw
            extra: dict[str, str | None] = {"cite": None, "message": None}
            values = []
            for i, o in enumerate(outs):
                if i in meta_idx:
                    extra[meta_idx[i]] = o.value if isinstance(o, ast.String) else None
                else:
                    values.append(o)
            rows.append(
                ast.Row(
                    row_id,
                    tuple(cells),
                    tuple(values),
                    extra["cite"],
                    extra["message"],
                    span=span,
                    split_span=split_span,
                )
            )
        return ast.TableDecl(
            name,
            label,
            hit,
            aggregation,
            opts["cite"],
            opts["overrides"],
            tuple(inputs),
            tuple(c for i, c in enumerate(outcols) if i not in meta_idx),
            tuple(rows),
            name_span=self._tspan(items[1]),
            span=self._span(meta),
            hit_span=hit_name.span,
            aggregation_span=aggregation_span,
        )

    def hit_name(self, items: list[Token]) -> _HitName:
        # DMN writes hit policies in capitals (FIRST, COLLECT SUM); we accept both
        return _HitName(str(items[0]).lower(), self._tspan(items[0]))

    def table_header(self, items: list[Any]) -> _Header:
        split = next(i for i, t in enumerate(items) if isinstance(t, Token) and t.type == "DPIPE")
        return _Header(items[1:split], items[split + 1 :])

    @v_args(meta=True)
    def out_col(self, meta: LarkMeta, items: list[Any]) -> ast.OutCol:
        typ = items[1] if len(items) > 1 else None
        return ast.OutCol(str(items[0]), typ, span=self._span(meta))

    @v_args(meta=True)
    def table_row(
        self, meta: LarkMeta, items: list[Any]
    ) -> tuple[str, list[ast.Cell], list[ast.Expr], Span, Span]:
        split = next(i for i, t in enumerate(items) if isinstance(t, Token) and t.type == "DPIPE")
        return (
            str(items[0]),
            items[1:split],
            items[split + 1 :],
            self._span(meta),
            self._tspan(items[split]),
        )

    @v_args(meta=True)
    def cell_any(self, meta: LarkMeta, items: list[Any]) -> ast.CellAny:
        return ast.CellAny(span=self._span(meta))

    @v_args(meta=True)
    def unary_tests(self, meta: LarkMeta, items: list[Any]) -> ast.CellTests:
        return ast.CellTests(tuple(items), span=self._span(meta))

    @v_args(meta=True)
    def cell_not(self, meta: LarkMeta, items: list[Any]) -> ast.CellTests:
        inner = _keep(items)[1]
        return ast.CellTests(inner.tests, True, span=self._span(meta))

    @v_args(meta=True)
    def test_compare(self, meta: LarkMeta, items: list[Any]) -> ast.TestCompare:
        op = OP_NORMAL.get(str(items[0]), str(items[0]))
        return ast.TestCompare(op, items[1], span=self._span(meta))

    @v_args(meta=True)
    def test_range(self, meta: LarkMeta, items: list[Any]) -> ast.TestRange:
        return ast.TestRange(
            items[1],
            items[2],
            str(items[0]) == "[",
            str(items[3]) == "]",
            span=self._span(meta),
        )

    @v_args(meta=True)
    def test_equal(self, meta: LarkMeta, items: list[Any]) -> ast.TestEqual:
        return ast.TestEqual(items[0], span=self._span(meta))

    # -------------------------------------------------------------- examples
    @v_args(meta=True)
    def example_decl(self, meta: LarkMeta, items: list[Any]) -> ast.ExampleDecl:
        title = _title(items[1])
        rest = items[2:]
        like = None
        like_span = NOWHERE
        if rest and isinstance(rest[0], Token) and rest[0].type == "LIKE":
            like = _unquote(rest[1])
            like_span = self._tspan(rest[1])
            rest = rest[2:]
        as_of = None
        data: dict[str, ast.JSON] | None = None
        params: list[tuple[str, ast.Literal_]] = []
        param_spans: list[Span] = []
        expects: list[ast.Expect] = []
        for entry in rest:
            kind, value = entry[0], entry[1]
            if kind == "input":
                data = value
            elif kind == "as_of":
                as_of = value
            elif kind == "param":
                params.append(value)
                param_spans.append(entry[2])
            else:
                expects.append(value)
        return ast.ExampleDecl(
            title,
            like,
            as_of,
            data,
            tuple(params),
            tuple(expects),
            name_span=self._tspan(items[1]),
            span=self._span(meta),
            like_span=like_span,
            param_spans=tuple(param_spans),
        )

    def ex_input(self, items: list[Any]) -> tuple[str, Any]:
        return ("input", items[1])

    @v_args(meta=True)
    def ex_as_of(self, meta: LarkMeta, items: list[Any]) -> tuple[str, Any]:
        if str(items[0]) not in ("as_of", "评估日期"):
            self.diagnostics.append(
                Diagnostic(
                    "F103",
                    "error",
                    f"示例里不认识「{items[0]}」, 这里只能写 as_of (评估日期)",
                    f"unknown example setting '{items[0]}'; only as_of is allowed here",
                    self._tspan(items[0]),
                    "写作 as_of 2024-06-05",
                    "write as_of 2024-06-05",
                )
            )
        return ("as_of", self._date(items[-1]))

    @v_args(meta=True)
    def ex_param(self, meta: LarkMeta, items: list[Any]) -> tuple[str, Any, Span]:
        items = _keep(items)
        return ("param", (str(items[1]), items[2]), self._span(meta))

    @v_args(meta=True)
    def ex_expect_rules(self, meta: LarkMeta, items: list[Any]) -> tuple[str, Any]:
        rest = items[1:]
        negated = False
        if isinstance(rest[0], Token) and rest[0].type == "NOT":
            negated = True
            rest = rest[1:]
        return (
            "expect",
            ast.ExpectRules(
                str(rest[0]), negated, tuple(str(t) for t in rest[1:]), span=self._span(meta)
            ),
        )

    @v_args(meta=True)
    def ex_expect_value(self, meta: LarkMeta, items: list[Any]) -> tuple[str, Any]:
        items = _keep(items)
        return ("expect", ast.ExpectValue(str(items[1]), items[2], span=self._span(meta)))

    @v_args(meta=True)
    def ex_expect_flag(self, meta: LarkMeta, items: list[Any]) -> tuple[str, Any]:
        arg = _unquote(items[2]) if len(items) > 2 else None
        return ("expect", ast.ExpectFlag(str(items[1]), arg, span=self._span(meta)))

    def json_value(self, items: list[Any]) -> ast.JSON:
        v = items[0]
        if isinstance(v, Token):
            if v.type == "STRING":
                return _unquote(v)
            if v.type == "TRUE":
                return True
            if v.type == "FALSE":
                return False
            return None
        return cast(ast.JSON, v)

    def json_object(self, items: list[Any]) -> dict[str, ast.JSON]:
        return dict(items)

    def json_pair(self, items: list[Any]) -> tuple[str, ast.JSON]:
        return (_unquote(items[0]), items[1])

    def json_array(self, items: list[Any]) -> list[ast.JSON]:
        return list(_keep(items))

    # -------------------------------------------------------------- expressions
    @v_args(meta=True)
    def if_expr(self, meta: LarkMeta, items: list[Any]) -> ast.If:
        return ast.If(items[1], items[3], items[5], span=self._span(meta))

    @v_args(meta=True)
    def or_op(self, meta: LarkMeta, items: list[Any]) -> ast.Or:
        return ast.Or(items[0], items[2], span=self._span(meta))

    @v_args(meta=True)
    def and_op(self, meta: LarkMeta, items: list[Any]) -> ast.And:
        return ast.And(items[0], items[2], span=self._span(meta))

    @v_args(meta=True)
    def not_op(self, meta: LarkMeta, items: list[Any]) -> ast.Not:
        return ast.Not(items[1], span=self._span(meta))

    @v_args(meta=True)
    def compare(self, meta: LarkMeta, items: list[Any]) -> ast.Compare:
        op = OP_NORMAL.get(str(items[1]), str(items[1]))
        return ast.Compare(op, items[0], items[2], span=self._span(meta))

    @v_args(meta=True)
    def in_op(self, meta: LarkMeta, items: list[Any]) -> ast.In:
        return ast.In(items[0], items[2], False, span=self._span(meta))

    @v_args(meta=True)
    def not_in_op(self, meta: LarkMeta, items: list[Any]) -> ast.In:
        return ast.In(items[0], items[-1], True, span=self._span(meta))

    @v_args(meta=True)
    def between(self, meta: LarkMeta, items: list[Any]) -> ast.Between:
        return ast.Between(items[0], items[2], items[4], span=self._span(meta))

    @v_args(meta=True)
    def is_pred(self, meta: LarkMeta, items: list[Any]) -> ast.IsPred:
        negated = len(items) == 4
        return ast.IsPred(items[0], str(items[-1]), negated, span=self._span(meta))

    @v_args(meta=True)
    def arith(self, meta: LarkMeta, items: list[Any]) -> ast.BinOp:
        op = OP_NORMAL.get(str(items[1]), str(items[1]))
        return ast.BinOp(op, items[0], items[2], span=self._span(meta))

    @v_args(meta=True)
    def neg(self, meta: LarkMeta, items: list[Any]) -> ast.Expr:
        operand = items[1]
        if isinstance(operand, ast.Number):
            return ast.Number(-operand.value, span=self._span(meta))
        return ast.Neg(operand, span=self._span(meta))

    @v_args(meta=True)
    def attr(self, meta: LarkMeta, items: list[Any]) -> ast.Attr:
        return ast.Attr(items[0], str(items[1]), span=self._span(meta))

    @v_args(meta=True)
    def name(self, meta: LarkMeta, items: list[Token]) -> ast.Name:
        return ast.Name(str(items[0]), span=self._span(meta))

    @v_args(meta=True)
    def rule_ref(self, meta: LarkMeta, items: list[Token]) -> ast.RuleRef:
        return ast.RuleRef(str(items[0]), span=self._span(meta))

    @v_args(meta=True)
    def call(self, meta: LarkMeta, items: list[Any]) -> ast.Call:
        items = _keep(items)
        func = str(items[0])
        args: tuple[ast.Expr, ...] = ()
        where = body = None
        if len(items) > 1:
            args, where, body = items[1]
        return ast.Call(func, args, where, body, span=self._span(meta))

    def call_args(self, items: list[Any]) -> tuple[tuple[ast.Expr, ...], Any, Any]:
        args: list[ast.Expr] = []
        where = body = None
        for it in items:
            if isinstance(it, tuple) and it[0] == "where":
                where = it[1]
            elif isinstance(it, tuple) and it[0] == "body":
                body = it[1]
            else:
                args.append(it)
        return tuple(args), where, body

    def call_where(self, items: list[Any]) -> tuple[str, ast.Expr]:
        return ("where", items[1])

    def call_body(self, items: list[Any]) -> tuple[str, ast.Expr]:
        return ("body", items[0])

    def paren(self, items: list[Any]) -> ast.Expr:
        return cast(ast.Expr, _keep(items)[0])

    @v_args(meta=True)
    def set_lit(self, meta: LarkMeta, items: list[Any]) -> ast.SetLit:
        return ast.SetLit(
            tuple(i for i in items if not isinstance(i, Token)), span=self._span(meta)
        )

    @v_args(meta=True)
    def number(self, meta: LarkMeta, items: list[Token]) -> ast.Number:
        return ast.Number(Decimal(str(items[0])), span=self._span(meta))

    @v_args(meta=True)
    def date(self, meta: LarkMeta, items: list[Token]) -> ast.Date:
        return ast.Date(self._date(items[0]), span=self._span(meta))

    @v_args(meta=True)
    def string(self, meta: LarkMeta, items: list[Token]) -> ast.String:
        return ast.String(_unquote(items[0]), span=self._span(meta))

    @v_args(meta=True)
    def true(self, meta: LarkMeta, items: list[Token]) -> ast.Bool:
        return ast.Bool(True, span=self._span(meta))

    @v_args(meta=True)
    def false(self, meta: LarkMeta, items: list[Token]) -> ast.Bool:
        return ast.Bool(False, span=self._span(meta))


def _title(tok: Any) -> str:
    if isinstance(tok, Token) and tok.type == "STRING":
        return _unquote(tok)
    return str(tok)


@attrs.frozen
class _HitName:
    value: str
    span: Span


@attrs.define
class _Header:
    inputs: list[ast.Expr]
    outputs: list[ast.OutCol]


def _is_label(x: Any) -> bool:
    return isinstance(x, str) and not isinstance(x, Token)
