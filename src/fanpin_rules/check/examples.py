"""Examples refer to things that exist: a base example, rule ids, values, parameters."""

from __future__ import annotations

from fanpin_rules import ast
from fanpin_rules.check.context import CheckContext
from fanpin_rules.model import PolicyModel
from fanpin_rules.suggest import did_you_mean

EXPECT_KINDS = {
    "fired": "fired",
    "触发": "fired",
    "undetermined": "undetermined",
    "待定": "undetermined",
}
FLAG_KINDS = {"rejected": "rejected", "拒收": "rejected"}
EXPECT_HINT_ZH = (
    "可用: expect fired (预期 触发)、expect not fired (预期 非 触发)、"
    "expect undetermined (预期 待定)"
)
EXPECT_HINT_EN = (
    "use expect fired (预期 触发), expect not fired (预期 非 触发) or expect undetermined "
    "(预期 待定)"
)


def check_examples(model: PolicyModel, ctx: CheckContext) -> None:
    """Check every example's references, with suggestions."""
    titles = {e.title for e in model.examples}
    ids = set(model.conclusion_ids)
    names = set(model.aliases) | set(model.tables)
    for ex in model.examples:
        if ex.like is not None and ex.like not in titles:
            hz, he = did_you_mean(ex.like, titles)
            ctx.error(
                "F601",
                ex.like_span if ex.like_span.line > 0 else ex.span,
                f"找不到示例「{ex.like}」",
                f"no example titled '{ex.like}'",
                hz,
                he,
            )
        if ex.like is None and ex.input is None:
            ctx.error(
                "F605",
                ex.span,
                f"示例「{ex.title}」没有输入",
                f"example '{ex.title}' has no input",
                '写 input { ... } 或 like "另一个示例"',
                'write input { ... } or like "another example"',
            )
        for i, (name, _) in enumerate(ex.params):
            if name not in model.aliases or model.aliases[name][0] != "param":
                hz, he = did_you_mean(
                    name, [n for n, k in model.aliases.items() if k[0] == "param"]
                )
                at = ex.param_spans[i] if i < len(ex.param_spans) else ex.span
                ctx.error("F604", at, f"未知参数「{name}」", f"unknown parameter '{name}'", hz, he)
        for exp in ex.expects:
            if isinstance(exp, ast.ExpectRules):
                if exp.kind not in EXPECT_KINDS:
                    hz, he = did_you_mean(exp.kind, EXPECT_KINDS)
                    ctx.error(
                        "F606",
                        exp.span,
                        f"不认识的预期「{exp.kind}」",
                        f"unknown expectation '{exp.kind}'",
                        f"{hz} {EXPECT_HINT_ZH}" if hz else EXPECT_HINT_ZH,
                        f"{he} {EXPECT_HINT_EN}" if he else EXPECT_HINT_EN,
                    )
                for rid in exp.rule_ids:
                    if rid not in ids:
                        hz, he = did_you_mean(rid, ids)
                        ctx.error(
                            "F602",
                            exp.span,
                            f"没有编号为 {rid} 的规则",
                            f"no rule or table row has the id {rid}",
                            hz,
                            he,
                        )
            elif isinstance(exp, ast.ExpectValue):
                if exp.name not in names:
                    hz, he = did_you_mean(exp.name, names)
                    ctx.error(
                        "F603",
                        exp.span,
                        f"没有名为「{exp.name}」的值",
                        f"no value named '{exp.name}'",
                        hz,
                        he,
                    )
            elif exp.kind not in FLAG_KINDS:
                hz, he = did_you_mean(exp.kind, [*FLAG_KINDS, *EXPECT_KINDS])
                ctx.error(
                    "F606",
                    exp.span,
                    f"不认识的预期「{exp.kind}」",
                    f"unknown expectation '{exp.kind}'",
                    hz or '可用: expect rejected "字段" (预期 拒收 "字段")',
                    he or 'use expect rejected "field" (预期 拒收 "字段")',
                )
