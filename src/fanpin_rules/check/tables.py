"""Decision-table hygiene: shape of rows, hit-policy requirements.

(Gaps, overlaps and unreachable rows are the static analysis of ``fanpin check``.)
"""

from __future__ import annotations

from fanpin_rules import ast
from fanpin_rules.ast import name_span
from fanpin_rules.check.context import CheckContext
from fanpin_rules.check.declarations import HIT_POLICIES
from fanpin_rules.model import PolicyModel

ID_HEADERS = {"id", "编号"}


def check_tables(model: PolicyModel, ctx: CheckContext) -> None:
    """Every row has one cell per input and one value per output; hit-policy needs."""
    for table in model.tables.values():
        n_in, n_out = len(table.inputs), len(table.outputs)
        for row in table.rows:
            if len(row.cells) != n_in:
                ctx.error(
                    "F403",
                    row.span,
                    f"{row.rule_id} 这一行有 {len(row.cells)} 个条件格, 表头有 {n_in} 个条件列",
                    f"row {row.rule_id} has {len(row.cells)} condition cells; the header has "
                    f"{n_in} condition columns",
                    "补齐或删除格子; 不限条件的格子写 -",
                    "add or remove cells; write - for a cell that accepts anything",
                )
            if len(row.outputs) != n_out:
                ctx.error(
                    "F404",
                    row.span,
                    f"{row.rule_id} 这一行有 {len(row.outputs)} 个结论格, 表头有 {n_out} 个结论列",
                    f"row {row.rule_id} has {len(row.outputs)} output cells; the header has "
                    f"{n_out} output columns",
                    "每个结论列都要填写",
                    "fill in every output column",
                )
        hit = HIT_POLICIES.get(table.hit.lower())
        if hit in ("priority", "output_order"):
            if not table.outputs or table.outputs[0].type is None:
                ctx.error(
                    "F405",
                    name_span(table),
                    f"{table.hit} 命中策略按结论的枚举顺序定优先级, 第一个结论列要声明枚举类型",
                    f"hit policy {table.hit} ranks rows by the order of an enum: declare the first "
                    "output column with an enum type",
                    "例如 || 结论: 回头看结论 |",
                    "e.g. || outcome: 回头看结论 |",
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
            ctx.error(
                "F406",
                name_span(table),
                f"collect {table.aggregation} 只能有一个结论列",
                f"collect {table.aggregation} needs exactly one output column",
            )
        _check_id_header(table, ctx)


def _check_id_header(table: ast.TableDecl, ctx: CheckContext) -> None:
    del table, ctx  # the grammar fixes the id column; kept as the place for future checks
