"""Declarations: header, types of fields, parameter values, rule options, hit policies."""

from __future__ import annotations

import datetime as dt
import re

from fanpin_rules import ast
from fanpin_rules.ast import name_span
from fanpin_rules.check.context import CheckContext
from fanpin_rules.check.typecheck import type_of_ref
from fanpin_rules.model import PolicyModel, field_lookup
from fanpin_rules.suggest import did_you_mean
from fanpin_rules.types import BUILTIN_TYPES, T

META_KEYS = {
    "version": "version",
    "版本": "version",
    "source": "source",
    "来源": "source",
    "jurisdiction": "jurisdiction",
    "地区": "jurisdiction",
    "as_of": "as_of",
    "评估日期": "as_of",
}
SEVERITIES = {"error", "warning", "info", "high", "错误", "警告", "提示", "严重"}
HIT_POLICIES = {
    "unique": "unique",
    "唯一": "unique",
    "any": "any",
    "任一": "any",
    "first": "first",
    "首个": "first",
    "priority": "priority",
    "优先": "priority",
    "rule_order": "rule_order",
    "规则顺序": "rule_order",
    "output_order": "output_order",
    "输出顺序": "output_order",
    "collect": "collect",
    "汇总": "collect",
}
AGGREGATIONS = {"sum", "min", "max", "count", "list"}
SEVERITY_HINT_ZH = "可用: error (错误)、warning (警告)、info (提示)、high (严重)"
SEVERITY_HINT_EN = "use error (错误), warning (警告), info (提示) or high (严重)"
HIT_HINT_ZH = (
    "可用: first (首个)、unique (唯一)、any (任一)、priority (优先)、rule_order (规则顺序)、"
    "output_order (输出顺序)、collect (汇总)"
)
HIT_HINT_EN = (
    "use first (首个), unique (唯一), any (任一), priority (优先), rule_order (规则顺序), "
    "output_order (输出顺序) or collect (汇总)"
)


def default_as_of(model: PolicyModel) -> dt.date | None:
    value = model.meta("as_of") or model.meta("评估日期")
    return value.value if isinstance(value, ast.Date) else None


def check_declarations(model: PolicyModel, ctx: CheckContext) -> None:
    """Header keys, declared types, defaults, parameters, rule and table options."""
    if model.header is not None:
        for m in model.header.meta:
            if m.key not in META_KEYS:
                hz, he = did_you_mean(m.key, META_KEYS)
                ctx.error(
                    "F130",
                    m.span,
                    f"政策标题里不认识「{m.key}」",
                    f"unknown policy header setting '{m.key}'",
                    hz or "可用: version、source、jurisdiction、as_of",
                    he or "use version, source, jurisdiction, as_of",
                )
            elif META_KEYS[m.key] == "as_of" and not isinstance(m.value, ast.Date):
                ctx.error(
                    "F131",
                    m.value.span,
                    "as_of 要写一个日期",
                    "as_of must be a date",
                    "例如 as_of 2024-06-05",
                    "e.g. as_of 2024-06-05",
                )
    has_logic = bool(model.lets or model.rules or model.tables)
    if model.input is None:
        if has_logic and model.header is not None:
            ctx.error(
                "F132",
                model.header.span,
                "政策没有声明输入 (input)",
                "the policy declares no input record",
                "加一行 input household key household_id",
                "add a line: input household key household_id",
            )
    else:
        if model.input.record not in model.records:
            hz, he = did_you_mean(model.input.record, model.records)
            ctx.error(
                "F208",
                model.input.span,
                f"未知记录「{model.input.record}」",
                f"unknown record '{model.input.record}'",
                hz,
                he,
            )
        elif model.input.key_field is not None:
            rec = model.records[model.input.record]
            if field_lookup(rec, model.input.key_field) is None:
                hz, he = did_you_mean(model.input.key_field, [f.key for f in rec.fields])
                ctx.error(
                    "F204",
                    model.input.span,
                    f"记录「{rec.name}」没有字段「{model.input.key_field}」",
                    f"record '{rec.name}' has no field '{model.input.key_field}'",
                    hz,
                    he,
                )
    for enum in {id(e): e for e in model.enums.values()}.values():
        seen: set[str] = set()
        for member in enum.members:
            if member.value in seen:
                ctx.error(
                    "F121",
                    member.span,
                    f"枚举「{enum.name}」的取值「{member.value}」重复",
                    f"value '{member.value}' appears twice in enum '{enum.name}'",
                    "删除重复的取值",
                    "remove the duplicate",
                )
            seen.add(member.value)
    for rec in {id(r): r for r in model.records.values()}.values():
        keys: set[str] = set()
        for f in rec.fields:
            if f.key in keys:
                ctx.error(
                    "F120",
                    name_span(f),
                    f"记录「{rec.name}」的字段「{f.key}」重复",
                    f"field '{f.key}' appears twice in record '{rec.name}'",
                    "删除或改名",
                    "remove or rename it",
                )
            keys.add(f.key)
            t = type_of_ref(model, f.type)
            if t is None:
                _unknown_type(model, ctx, f.type)
            elif not isinstance(f.default, ast._NoDefault) and not _json_fits(model, t, f.default):
                hz, he = _default_hint(model, t)
                ctx.error(
                    "F301",
                    f.default_span if f.default_span.line > 0 else name_span(f),
                    f"字段「{f.key}」的默认值与类型「{t.show()}」不符",
                    f"the default of field '{f.key}' does not fit its type '{t.show('en')}'",
                    hz,
                    he,
                )
            if f.required and not isinstance(f.default, ast._NoDefault):
                ctx.warn(
                    "F133",
                    name_span(f),
                    f"字段「{f.key}」既是必填又有默认值, 默认值不会用到",
                    f"field '{f.key}' is required and has a default; the default is never used",
                    "删除 required 或默认值",
                    "remove `required` or the default",
                )
    _record_cycles(model, ctx)
    as_of = default_as_of(model)
    for p in model.params.values():
        t = type_of_ref(model, p.type)
        if t is None:
            _unknown_type(model, ctx, p.type)
            continue
        dates = [v.effective for v in p.values]
        bad = next((i for i in range(1, len(dates)) if dates[i] <= dates[i - 1]), None)
        if bad is not None:
            earlier = "等于" if dates[bad] == dates[bad - 1] else "早于"
            ctx.error(
                "F502",
                p.values[bad].span,
                f"参数「{p.name}」的生效日期要从早到晚排列, 且不能重复",
                f"the effective dates of parameter '{p.name}' must be increasing and distinct",
                f"{dates[bad]} {earlier}上一行的 {dates[bad - 1]}; 按日期先后排列各个取值",
                f"{dates[bad]} is not after {dates[bad - 1]} on the line above; list the "
                "values in date order",
            )
        for v in p.values:
            if not _literal_fits(t, v.value):
                hz, he = _param_value_hint(t, v)
                ctx.error(
                    "F302",
                    v.value.span,
                    f"参数「{p.name}」的取值与类型「{t.show()}」不符",
                    f"a value of parameter '{p.name}' does not fit its type '{t.show('en')}'",
                    hz,
                    he,
                )
        if as_of is not None and not any(d <= as_of for d in dates):
            ctx.error(
                "F501",
                name_span(p),
                f"参数「{p.name}」在默认评估日期 {as_of} 还没有生效的取值",
                f"parameter '{p.name}' has no value in force on the default date {as_of}",
                f"加一个不晚于 {as_of} 生效的取值",
                f"add a value effective on or before {as_of}",
            )
    for rule in model.rules.values():
        if rule.severity is not None and rule.severity not in SEVERITIES:
            hz, he = did_you_mean(rule.severity, SEVERITIES)
            ctx.error(
                "F140",
                rule.severity_span if rule.severity_span.line > 0 else name_span(rule),
                f"不认识的级别「{rule.severity}」",
                f"unknown severity '{rule.severity}'",
                f"{hz} {SEVERITY_HINT_ZH}" if hz else SEVERITY_HINT_ZH,
                f"{he} {SEVERITY_HINT_EN}" if he else SEVERITY_HINT_EN,
            )
    for table in model.tables.values():
        if table.hit not in HIT_POLICIES:
            hz, he = did_you_mean(table.hit, HIT_POLICIES)
            ctx.error(
                "F401",
                table.hit_span if table.hit_span.line > 0 else name_span(table),
                f"不认识的命中策略「{table.hit}」",
                f"unknown hit policy '{table.hit}'",
                f"{hz} {HIT_HINT_ZH}" if hz else HIT_HINT_ZH,
                f"{he} {HIT_HINT_EN}" if he else HIT_HINT_EN,
            )
        hit = HIT_POLICIES.get(table.hit.lower())
        if table.aggregation is not None and (
            hit != "collect" or table.aggregation not in AGGREGATIONS
        ):
            ctx.error(
                "F402",
                table.aggregation_span if table.aggregation_span.line > 0 else name_span(table),
                f"聚合「{table.aggregation}」只能用在 collect 后面 (sum、min、max、count、list)",
                f"aggregation '{table.aggregation}' only follows collect (sum, min, max, count, "
                "list)",
                "例如 hit collect sum",
                "e.g. hit collect sum",
            )


def _record_cycles(model: PolicyModel, ctx: CheckContext) -> None:
    """F134: an input record that contains itself, directly or through other records."""
    root = model.root_record
    if root is None:
        return
    reported: set[frozenset[str]] = set()

    def nested(f: ast.Field) -> str | None:
        t = type_of_ref(model, f.type)
        if t is not None and t.kind == "list":
            t = t.elem
        if t is not None and t.kind == "record" and t.name in model.records:
            return model.records[t.name].name
        return None

    def walk(name: str, stack: tuple[str, ...]) -> None:
        for f in model.records[name].fields:
            child = nested(f)
            if child is None:
                continue
            if child in stack or child == name:
                cycle = (*stack[stack.index(child) :], name) if child in stack else (name,)
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    _report_cycle(ctx, f, (*cycle, child))
                continue
            walk(child, (*stack, name))

    walk(root.name, ())


def _report_cycle(ctx: CheckContext, f: ast.Field, path: tuple[str, ...]) -> None:
    shown = " → ".join(path)
    ctx.error(
        "F134",
        f.type.span if f.type.span.line > 0 else name_span(f),
        f"记录「{path[0]}」直接或间接包含了它自己: {shown}",
        f"record '{path[0]}' contains itself: {shown}",
        f"输入记录不能递归嵌套; 改用编号引用, 例如 {f.key}_id {f.label or f.key}编号: text",
        f"input records cannot nest recursively; refer by id instead, e.g. {f.key}_id: text",
    )


def _default_hint(model: PolicyModel, t: T) -> tuple[str, str]:
    if t.kind == "bool":
        return "写 = false 或 = 否 (不加引号)", "write = false or = true (no quotes)"
    if t.numeric:
        return "写数字, 不加引号和单位, 例如 = 0", "write a number without quotes, e.g. = 0"
    if t.kind == "list":
        return "列表的默认值写 = []", "a list default is written = []"
    if t.kind == "enum" and t.name is not None:
        first = model.enums[t.name].members[0].value if model.enums[t.name].members else "…"
        return (
            f'写枚举「{t.name}」的一个取值, 加英文双引号, 例如 = "{first}"',
            f'write a value of enum {t.name} in double quotes, e.g. = "{first}"',
        )
    return '加英文双引号, 例如 = "…"', 'write it in double quotes, e.g. = "…"'


def _param_value_hint(t: T, v: ast.ParamValue) -> tuple[str, str]:
    if t.numeric:
        digits = ""
        if isinstance(v.value, ast.String):
            m = re.search(r"\d+(?:\.\d+)?", v.value.value.replace(",", ""))
            digits = m.group(0) if m else ""
        shown = f"{v.effective}: {digits or 8300}"
        return (
            f"写数字, 不加引号和单位: {shown}",
            f"write a number without quotes or unit: {shown}",
        )
    if t.kind == "date":
        return "日期不加引号, 例如 2024-01-01: 2024-07-01", "write a date without quotes"
    if t.kind == "bool":
        return "写 true/false 或 是/否, 不加引号", "write true or false, without quotes"
    return '文字要加英文双引号, 例如 "…"', 'write text in double quotes, e.g. "…"'


def _unknown_type(model: PolicyModel, ctx: CheckContext, ref: ast.TypeRef) -> None:
    names = [*BUILTIN_TYPES, *model.enums, *model.records]
    hz, he = did_you_mean(ref.of or ref.name, names)
    shown = ref.name if ref.of is None else f"{ref.name} of {ref.of}"
    ctx.error(
        "F208",
        ref.span,
        f"未知类型「{shown}」",
        f"unknown type '{shown}'",
        hz or "可用: money int number bool date text, 枚举名, 记录名, list of 记录名",
        he or "use money, int, number, bool, date, text, an enum or record name, list of X",
    )


def _literal_fits(t: T, lit: ast.Literal_) -> bool:
    if t.numeric:
        return isinstance(lit, ast.Number)
    if t.kind == "date":
        return isinstance(lit, ast.Date)
    if t.kind == "bool":
        return isinstance(lit, ast.Bool)
    return isinstance(lit, ast.String)


def _json_fits(model: PolicyModel, t: T, value: ast.JSON) -> bool:
    if value is None:
        return True
    if t.kind == "list":
        return isinstance(value, list) and all(
            t.elem is None or _json_fits(model, t.elem, v) for v in value
        )
    if t.kind == "bool":
        return isinstance(value, bool)
    if t.numeric:
        from decimal import Decimal

        return isinstance(value, Decimal) and (t.kind != "int" or value == int(value))
    if t.kind == "enum" and t.name is not None:
        return isinstance(value, str) and value in [m.value for m in model.enums[t.name].members]
    if t.kind in ("text", "date"):
        return isinstance(value, str)
    return False
