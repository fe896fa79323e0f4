"""The declarations of a policy (all its files), indexed by name."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs

from fanpin_rules import ast
from fanpin_rules.errors import Diagnostic

__all__ = ["PolicyModel", "build_model"]

BUILTIN_NAMES = {"as_of": "as_of", "评估日期": "as_of"}


@attrs.frozen
class PolicyModel:
    """Everything the checker and the evaluators need, by canonical name.

    ``aliases`` maps every name a policy may use (declared name or Chinese label)
    to ``(kind, canonical name)``.
    """

    modules: tuple[ast.Module, ...]
    header: ast.PolicyHeader | None
    enums: dict[str, ast.EnumDecl]
    records: dict[str, ast.RecordDecl]
    input: ast.InputDecl | None
    params: dict[str, ast.ParamDecl]
    lets: dict[str, ast.LetDecl]
    rules: dict[str, ast.RuleDecl]
    tables: dict[str, ast.TableDecl]
    rows: dict[str, tuple[ast.TableDecl, ast.Row]]
    examples: tuple[ast.ExampleDecl, ...]
    aliases: dict[str, tuple[str, str]]

    @property
    def root_record(self) -> ast.RecordDecl | None:
        if self.input is None:
            return None
        return self.records.get(self.input.record)

    def meta(self, key: str) -> ast.Literal_ | None:
        if self.header is None:
            return None
        for m in self.header.meta:
            if m.key == key:
                return m.value
        return None

    @property
    def conclusion_ids(self) -> tuple[str, ...]:
        """Rule ids and table row ids, in source order."""
        ids: list[str] = []
        for item in self.items():
            if isinstance(item, ast.RuleDecl):
                ids.append(item.rule_id)
            elif isinstance(item, ast.TableDecl):
                ids.extend(r.rule_id for r in item.rows)
        return tuple(ids)

    def overriders(self) -> dict[str, tuple[str, ...]]:
        """For each rule or row id, the ids that override it (``overrides`` on a rule, or
        on a table: every row of that table)."""
        out: dict[str, list[str]] = {}
        for item in self.items():
            if isinstance(item, ast.RuleDecl):
                for target in item.overrides:
                    out.setdefault(target, []).append(item.rule_id)
            elif isinstance(item, ast.TableDecl):
                for target in item.overrides:
                    out.setdefault(target, []).extend(r.rule_id for r in item.rows)
        return {k: tuple(v) for k, v in out.items()}

    def items(self) -> Iterator[ast.Item]:
        for m in self.modules:
            yield from m.items


def field_lookup(record: ast.RecordDecl, name: str) -> ast.Field | None:
    for f in record.fields:
        if f.key == name or f.label == name:
            return f
    return None


def build_model(modules: Sequence[ast.Module]) -> tuple[PolicyModel, list[Diagnostic]]:
    """Index the declarations; report duplicates (F120) and a missing header/input."""
    diags: list[Diagnostic] = []
    header: ast.PolicyHeader | None = None
    enums: dict[str, ast.EnumDecl] = {}
    records: dict[str, ast.RecordDecl] = {}
    input_decl: ast.InputDecl | None = None
    params: dict[str, ast.ParamDecl] = {}
    lets: dict[str, ast.LetDecl] = {}
    rules: dict[str, ast.RuleDecl] = {}
    tables: dict[str, ast.TableDecl] = {}
    rows: dict[str, tuple[ast.TableDecl, ast.Row]] = {}
    examples: list[ast.ExampleDecl] = []
    aliases: dict[str, tuple[str, str]] = {}
    ids: dict[str, ast.RuleDecl | ast.Row] = {}
    types: dict[str, ast.EnumDecl | ast.RecordDecl] = {}

    def dup(what_zh: str, what_en: str, name: str, node: object, first: object) -> None:
        span = ast.name_span(node)
        first_span = getattr(first, "span", None)
        if first_span is None:
            where_zh, where_en = "第一次在 ?", "first at ?"
        elif first_span.path == span.path:
            where_zh = f"第一次在第 {first_span.line} 行"
            where_en = f"first on line {first_span.line}"
        else:
            where_zh = f"第一次在 {first_span.where()}"
            where_en = f"first at {first_span.where()}"
        diags.append(
            Diagnostic(
                "F120",
                "error",
                f"{what_zh}「{name}」重复定义 ({where_zh})",
                f"{what_en} '{name}' is defined twice ({where_en})",
                span,
                "改名或删除其中一个",
                "rename or remove one of them",
            )
        )

    def alias(name: str | None, kind: str, canonical: str, node: object) -> None:
        if name is None:
            return
        if name in aliases and aliases[name] != (kind, canonical):
            prev_kind, prev = aliases[name]
            first = {
                "param": params.get(prev),
                "let": lets.get(prev),
                "table": tables.get(prev),
            }.get(prev_kind)
            dup("名称", "name", name, node, first)
            return
        aliases[name] = (kind, canonical)

    for module in modules:
        for item in module.items:
            if isinstance(item, ast.PolicyHeader):
                if header is not None:
                    dup("政策标题", "policy header", item.title, item, header)
                else:
                    header = item
            elif isinstance(item, ast.EnumDecl | ast.RecordDecl):
                for n in (item.name, item.label):
                    if n is None:
                        continue
                    if n in types:
                        dup("类型", "type", n, item, types[n])
                    types[n] = item
                if isinstance(item, ast.EnumDecl):
                    enums[item.name] = item
                    if item.label:
                        enums[item.label] = item
                else:
                    records[item.name] = item
                    if item.label:
                        records[item.label] = item
            elif isinstance(item, ast.InputDecl):
                if input_decl is not None:
                    dup("输入声明", "input declaration", item.record, item, input_decl)
                input_decl = item
            elif isinstance(item, ast.ParamDecl):
                if item.name in params:
                    dup("参数", "parameter", item.name, item, params[item.name])
                params[item.name] = item
                alias(item.name, "param", item.name, item)
                alias(item.label, "param", item.name, item)
            elif isinstance(item, ast.LetDecl):
                if item.name in lets:
                    dup("定义", "definition", item.name, item, lets[item.name])
                lets[item.name] = item
                alias(item.name, "let", item.name, item)
                alias(item.label, "let", item.name, item)
            elif isinstance(item, ast.RuleDecl):
                if item.rule_id in ids:
                    dup("规则编号", "rule id", item.rule_id, item, ids[item.rule_id])
                ids[item.rule_id] = item
                rules[item.rule_id] = item
            elif isinstance(item, ast.TableDecl):
                if item.name in tables:
                    dup("决策表", "table", item.name, item, tables[item.name])
                tables[item.name] = item
                alias(item.name, "table", item.name, item)
                alias(item.label, "table", item.name, item)
                for row in item.rows:
                    if row.rule_id in ids:
                        dup("规则编号", "rule id", row.rule_id, row, ids[row.rule_id])
                    ids[row.rule_id] = row
                    rows[row.rule_id] = (item, row)
            elif isinstance(item, ast.ExampleDecl):
                examples.append(item)
    titles: dict[str, ast.ExampleDecl] = {}
    for ex in examples:
        if ex.title in titles:
            dup("示例", "example", ex.title, ex, titles[ex.title])
        titles[ex.title] = ex
    model = PolicyModel(
        tuple(modules),
        header,
        enums,
        records,
        input_decl,
        params,
        lets,
        rules,
        tables,
        rows,
        tuple(examples),
        aliases,
    )
    return model, diags
