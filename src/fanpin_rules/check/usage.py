"""Unused parameters, inputs and definitions; overrides that point nowhere."""

from __future__ import annotations

from fanpin_rules.ast import name_span
from fanpin_rules.check.context import CheckContext
from fanpin_rules.model import PolicyModel


def check_usage(model: PolicyModel, ctx: CheckContext) -> None:
    """Warn about parameters no rule reads; note inputs and definitions nobody reads."""
    for p in model.params.values():
        if p.name not in ctx.used_params:
            ctx.warn(
                "F510",
                name_span(p),
                f"参数「{p.name}」没有被任何规则使用",
                f"parameter '{p.name}' is not used by any rule",
                "删除它, 或在规则中引用它",
                "remove it or use it in a rule",
            )
    root = model.root_record
    if root is not None and model.input is not None:
        for f in root.fields:
            if (root.name, f.key) not in ctx.used_fields and f.key != model.input.key_field:
                ctx.report(
                    "F511",
                    "info",
                    name_span(f),
                    f"输入字段「{f.key}」没有被任何规则使用 (只作记录)",
                    f"input field '{f.key}' is not used by any rule (recorded only)",
                )
    for name, decl in model.lets.items():
        if name == decl.name and name not in ctx.used_lets:
            ctx.report(
                "F512",
                "info",
                name_span(decl),
                f"定义「{name}」没有被其他规则引用 (仍会出现在结果的 values 中)",
                f"definition '{name}' is not referenced (it is still reported in values)",
            )
