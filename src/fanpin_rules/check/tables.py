"""Decision-table hygiene: shape of rows, hit-policy requirements.

(Gaps, overlaps and unreachable rows are the static analysis of ``fanpin check``.)
"""

from __future__ import annotations

from fanpin_rules import ast
from fanpin_rules.ast import name_span
from fanpin_rules.check.context import CheckContext
from fanpin_rules.check.declarations import HIT_POLICIES
from fanpin_rules.model import PolicyModel
from fanpin_rules.source import Span

ID_HEADERS = {"id", "编号"}


def check_tables(model: PolicyModel, ctx: CheckContext) -> None:
    """Every row has one cell per input and one value per output; hit-policy needs."""
    for table in model.tables.values():
        n_in, n_out = len(table.inputs), len(table.outputs)
        for row in table.rows:
            n_cells = len(row.cells)
            if n_cells > n_in:
                extra = n_cells - n_in
                ctx.error(
                    "F403",
                    _cover(row.cells[n_in].span, row.cells[-1].span, row.span),
                    f"{row.rule_id} 这一行有 {n_cells} 个条件格, 表头有 {n_in} 个条件列",
                    f"row {row.rule_id} has {n_cells} condition cells; the header has "
                    f"{n_in} condition columns",
                    f"删掉多出的 {extra} 格 (插入符标出的部分), 或在表头补上条件列",
                    f"remove the {extra} extra cell(s) under the caret, or add condition "
                    "columns to the header",
                )
            elif n_cells < n_in:
                ctx.error(
                    "F403",
                    _point(row.split_span, row.span),
                    f"{row.rule_id} 这一行有 {n_cells} 个条件格, 表头有 {n_in} 个条件列",
                    f"row {row.rule_id} has {n_cells} condition cells; the header has "
                    f"{n_in} condition columns",
                    f"在 || 前面补上 {n_in - n_cells} 格; 不限条件的格子写 -",
                    f"add {n_in - n_cells} cell(s) before ||; write - for a cell that accepts "
                    "anything",
                )
            n_outs = len(row.outputs)
            if n_outs > n_out:
                ctx.error(
                    "F404",
                    _cover(row.outputs[n_out].span, row.outputs[-1].span, row.span),
                    f"{row.rule_id} 这一行有 {n_outs} 个结论格, 表头有 {n_out} 个结论列",
                    f"row {row.rule_id} has {n_outs} output cells; the header has "
                    f"{n_out} output columns",
                    "删掉多出的结论格 (插入符标出的部分), 或在表头补上结论列",
                    "remove the extra output cells under the caret, or add output columns to "
                    "the header",
                )
            elif n_outs < n_out:
                ctx.error(
                    "F404",
                    _end_of(row.span),
                    f"{row.rule_id} 这一行有 {n_outs} 个结论格, 表头有 {n_out} 个结论列",
                    f"row {row.rule_id} has {n_outs} output cells; the header has "
                    f"{n_out} output columns",
                    f"在行末补上 {n_out - n_outs} 个结论格; 每个结论列都要填写",
                    f"add {n_out - n_outs} output cell(s) at the end of the row; fill in every "
                    "output column",
                )
        hit = HIT_POLICIES.get(table.hit.lower())
        if hit in ("priority", "output_order"):
            if not table.outputs or table.outputs[0].type is None:
                column = table.outputs[0].name if table.outputs else "结论"
                enum = f"{table.label or table.name}{column}"
                values = _first_column_values(table)
                ctx.error(
                    "F405",
                    table.hit_span if table.hit_span.line > 0 else name_span(table),
                    f"{table.hit} 命中策略按结论的枚举顺序定优先级, 第一个结论列要声明枚举类型",
                    f"hit policy {table.hit} ranks rows by the order of an enum: declare the first "
                    "output column with an enum type",
                    f"先声明 enum {enum} {{ {values} }} (按优先级从高到低), "
                    f"再写 || {column}: {enum} |",
                    f"first declare enum {enum} {{ {values} }} (highest priority first), then "
                    f"write || {column}: {enum} |",
                )
            elif table.outputs[0].type.name not in model.enums:
                ctx.error(
                    "F405",
                    table.outputs[0].span,
                    f"{table.hit} 命中策略的第一个结论列要是枚举类型",
                    f"hit policy {table.hit} needs an enum type on the first output column",
                    "声明一个 enum, 按优先级从高到低列出取值",
                    "declare an enum listing the values from highest to lowest priority",
                )
        if hit == "collect" and table.aggregation in ("sum", "min", "max") and n_out != 1:
            agg = table.aggregation
            ctx.error(
                "F406",
                table.aggregation_span if table.aggregation_span.line > 0 else name_span(table),
                f"collect {agg} 只能有一个结论列",
                f"collect {agg} needs exactly one output column",
                f"collect {agg} 把命中各行的唯一一个结论合起来; 删掉多余的结论列, "
                f"或去掉 {agg} (写 hit collect, 得到每行结论的列表)",
                f"collect {agg} combines the one output of the matching rows; remove the other "
                f"output columns, or drop {agg} (hit collect gives the list of rows)",
            )
        _check_id_header(table, ctx)


def _cover(first: Span, last: Span, fallback: Span) -> Span:
    if first.line <= 0 or last.line <= 0:
        return fallback
    return Span(first.path, first.line, first.col, last.end_line, last.end_col)


def _point(at: Span, fallback: Span) -> Span:
    return at if at.line > 0 else fallback


def _end_of(span: Span) -> Span:
    """The last column of a span (the closing ``|`` of a row)."""
    if span.line <= 0 or span.end_col <= 1:
        return span
    return Span(span.path, span.end_line, span.end_col - 1, span.end_line, span.end_col)


def _first_column_values(table: ast.TableDecl) -> str:
    seen: list[str] = []
    for row in table.rows:
        first = row.outputs[0] if row.outputs else None
        if isinstance(first, ast.String) and first.value not in seen:
            seen.append(first.value)
    return ", ".join(seen) or "…"


def _check_id_header(table: ast.TableDecl, ctx: CheckContext) -> None:
    del table, ctx  # the grammar fixes the id column; kept as the place for future checks
