"""A policy's own reference page, generated from its text (``fanpin doc``).

Policy staff and auditors read the rules, parameters and input contract of a policy
without opening the ``.policy`` files; the page is regenerated whenever the policy
changes, so it cannot drift.

>>> from fanpin_rules import load_policy
>>> page = policy_markdown(load_policy("examples/language_tour.policy"))
>>> page.splitlines()[0]
'# 语言导览 (1.0)'
"""

from __future__ import annotations

from collections.abc import Iterable

from fanpin_rules import ast
from fanpin_rules.exprfmt import cell_text, number_text, quote, to_text
from fanpin_rules.policy import Policy

__all__ = ["policy_markdown"]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    head = list(header)
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return out


def _literal(lit: ast.Literal_) -> str:
    if isinstance(lit, ast.Number):
        return number_text(lit.value)
    if isinstance(lit, ast.Date):
        return lit.value.isoformat()
    if isinstance(lit, ast.Bool):
        return "是" if lit.value else "否"
    return lit.value


def _type(t: ast.TypeRef | None) -> str:
    if t is None:
        return ""
    return f"{t.name} of {t.of}" if t.of else t.name


def _where(node: object) -> str:
    span = ast.name_span(node)
    return f"{span.path.split('/')[-1]}:{span.line}" if span.line else ""


def policy_markdown(policy: Policy) -> str:
    """The reference page of a policy in Markdown (Chinese headings)."""
    m = policy.model
    out: list[str] = [f"# {policy.name} ({policy.version or '—'})", ""]
    for key, label in (
        ("source", "依据文件"),
        ("jurisdiction", "适用地区"),
        ("as_of", "默认评估日期"),
    ):
        value = m.meta(key)
        if value is not None:
            out.append(f"- {label}: {_literal(value)}")
    out += [
        f"- 内容哈希 (content hash): `{policy.content_hash}`",
        f"- 结论编号 {len(policy.rule_ids)} 个: " + ", ".join(policy.rule_ids),
        "",
        "本页由 `fanpin doc` 从政策文本生成, 请勿手工修改。",
        "Generated from the policy text by `fanpin doc`; do not edit by hand.",
        "",
        "## 参数 / Parameters",
        "",
    ]
    rows = []
    for p in m.params.values():
        values = "; ".join(
            f"{v.effective.isoformat()} 起: {_literal(v.value)}"
            + (f" 〔{v.cite}〕" if v.cite else "")
            for v in p.values
        )
        rows.append([p.name, p.label or "", _type(p.type), p.unit or "", values, p.cite or ""])
    out += _table(["名称", "别名", "类型", "单位", "取值 (生效日期)", "来源"], rows)
    out += ["", "## 输入 / Input contract", ""]
    if m.input is not None:
        out.append(f"输入记录: `{m.input.record}`, 户编号字段: `{m.input.key_field}`")
        out.append("")
    seen: set[int] = set()
    for rec in m.records.values():
        if id(rec) in seen:
            continue
        seen.add(id(rec))
        out += [f"### {rec.name}" + (f" ({rec.label})" if rec.label else ""), ""]
        frows = []
        for f in rec.fields:
            bounds = " ".join(f"{b.op} {number_text(b.value)}" for b in f.bounds)
            default = "" if isinstance(f.default, ast._NoDefault) else _json(f.default)
            frows.append(
                [
                    f"`{f.key}`",
                    f.label or "",
                    _type(f.type),
                    "必填" if f.required else "",
                    default,
                    bounds,
                    "敏感" if f.pii else "",
                ]
            )
        out += _table(["键", "中文名", "类型", "必填", "默认值", "范围", "个人信息"], frows)
        out.append("")
    out += ["## 枚举 / Enums", ""]
    seen.clear()
    erows = []
    for enum in m.enums.values():
        if id(enum) in seen:
            continue
        seen.add(id(enum))
        erows.append([enum.name, enum.label or "", "、".join(mem.value for mem in enum.members)])
    out += _table(["名称", "别名", "取值"], erows)
    out += ["", "## 计算值 / Derived values", ""]
    lrows = [
        [f"`{n}`", d.label or "", to_text(d.expr), d.cite or "", _where(d)]
        for n, d in m.lets.items()
        if n == d.name
    ]
    out += _table(["名称", "中文名", "计算方法", "依据", "位置"], lrows)
    out += ["", "## 规则 / Rules", ""]
    for item in m.items():
        if isinstance(item, ast.RuleDecl):
            title = f" {item.title}" if item.title else ""
            out += [f"### {item.rule_id}{title}", ""]
            if item.cite:
                out.append(f"- 依据: {item.cite}")
            if item.severity:
                out.append(f"- 级别: {item.severity}")
            if item.overrides:
                out.append(f"- 优先于 (成立时覆盖): {', '.join(item.overrides)}")
            out.append(f"- 结论说明: {item.message}")
            out.append(f"- 位置: {_where(item)}")
            out += ["", "```", "when " + to_text(item.when), "```", ""]
        elif isinstance(item, ast.TableDecl):
            agg = f" {item.aggregation}" if item.aggregation else ""
            title = f" ({item.label})" if item.label else ""
            out += [f"### 决策表 {item.name}{title} — hit {item.hit}{agg}", ""]
            if item.cite:
                out.append(f"- 依据: {item.cite}")
            out.append(f"- 位置: {_where(item)}")
            out.append("")
            header = ["编号", *(to_text(i) for i in item.inputs), *(o.name for o in item.outputs)]
            header += ["说明", "依据"]
            trows = []
            for row in item.rows:
                trows.append(
                    [
                        row.rule_id,
                        *(cell_text(c) for c in row.cells),
                        *(to_text(o) for o in row.outputs),
                        row.message or "",
                        row.cite or "",
                    ]
                )
            out += _table(header, trows)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _json(value: ast.JSON) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list):
        return "[" + ", ".join(_json(v) for v in value) + "]"
    if value is None:
        return "null"
    return str(value)
