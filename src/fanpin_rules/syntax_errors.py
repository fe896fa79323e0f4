"""Syntax errors named through example broken inputs (lark's ``match_examples``).

Each entry: a diagnostic code, the Chinese and English message and hint, and small
malformed snippets that fail the same way.  Every code has a golden case under
``tests/cases/syntax/``.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class SyntaxLabel:
    code: str
    message_zh: str
    message_en: str
    hint_zh: str
    hint_en: str
    examples: tuple[str, ...]


SYNTAX_ERRORS: tuple[SyntaxLabel, ...] = (
    SyntaxLabel(
        "F001",
        "条件后面缺少 then (则)",
        "missing `then` after the condition",
        'rule 写作: rule ID-1 when 条件 then "结论说明"',
        'write a rule as: rule ID-1 when <condition> then "<message>"',
        (
            'rule A-1 when x > 1 "m"',
            'rule A-1 when x "m"',
            'rule A-1 when x and y "m"',
            "rule A-1 when x > 1 let",
            "rule A-1 when x rule",
        ),
    ),
    SyntaxLabel(
        "F002",
        "规则缺少 when (当) 条件",
        "the rule has no `when` condition",
        'rule 写作: rule ID-1 when 条件 then "结论说明"',
        'write a rule as: rule ID-1 when <condition> then "<message>"',
        ('rule A-1 then "m"', 'rule A-1 cite "x" then "m"', 'rule A-1 x > 1 then "m"'),
    ),
    SyntaxLabel(
        "F003",
        "规则缺少编号",
        "the rule has no id",
        "规则编号写在 rule 后面, 大写字母-数字, 例如 ID-1、KG-7b",
        "put the rule id right after `rule`: capital letters, a dash and a number, e.g. ID-1",
        ('rule when x then "m"', 'rule 识别 when x then "m"', 'rule id1 when x then "m"'),
    ),
    SyntaxLabel(
        "F004",
        "then 后面的结论说明要加英文双引号",
        "the message after `then` must be in double quotes",
        '例如 then "建议识别为脱贫不稳定户"',
        'e.g. then "candidate for monitoring"',
        ("rule A-1 when x then 建议", "rule A-1 when x then x > 1", "rule A-1 when x then 1"),
    ),
    SyntaxLabel(
        "F005",
        "文件在 { 还没有闭合时就结束了",
        "the file ends before the `{` is closed",
        "检查每个 { 都有对应的 }",
        "check that every `{` has a matching `}`",
        (
            "record r { a: int",
            "enum e { a, b",
            "policy p { version 1",
            "param p: money { 2024-01-01: 1",
            "table t hit first { | id || o | | T-1 || 1 |",
            'example "e" { as_of 2024-01-01',
        ),
    ),
    SyntaxLabel(
        "F006",
        "决策表这一行缺少条件与结论之间的 ||",
        "this table row has no `||` between its conditions and its outputs",
        "每一行写作 | 编号 | 条件1 | 条件2 || 结论 |",
        "write each row as | id | cond1 | cond2 || output |",
        (
            "table t hit first { | id | a || o | | T-1 | 1 | 2 | }",
            "table t hit first { | id | a || o | | T-1 | 1 }",
            "table t hit first { | id | a | o | }",
        ),
    ),
    SyntaxLabel(
        "F007",
        "决策表这一行缺少编号",
        "this table row has no id",
        "每一行第一格写规则编号, 例如 | LC-1 | ... ",
        "the first cell of every row is its id, e.g. | LC-1 | ...",
        (
            "table t hit first { | id | a || o | | 1 || 2 | }",
            "table t hit first { | id | a || o | | - || 2 | }",
            "table t hit first { | id | a || o | | x || 2 | }",
        ),
    ),
    SyntaxLabel(
        "F008",
        "表达式不完整",
        "the expression is incomplete",
        "运算符两边都要有值, 例如 a + b、x >= 10",
        "an operator needs a value on both sides, e.g. a + b, x >= 10",
        (
            "let a = 1 +",
            "let a = x and",
            "let a = x >=",
            "let a =",
            "let a = x *",
            "let a = not",
        ),
    ),
    SyntaxLabel(
        "F009",
        "括号没有闭合",
        "a parenthesis is not closed",
        "检查每个 ( 都有对应的 )",
        "check that every `(` has a matching `)`",
        ("let a = (1 + 2", "let a = f(1, 2", "let a = (1 + 2 let", "let a = f(x where y"),
    ),
    SyntaxLabel(
        "F010",
        "这里应当是一个声明",
        "a declaration is expected here",
        "每一项以关键字开头: policy、include、enum、record、input、param、let、rule、"
        "table、example",
        "every item starts with a keyword: policy, include, enum, record, input, param, "
        "let, rule, table, example",
        ("foo", "x = 1", "let a = 1 b", 'rule A-1 when x then "m" y', '"text"', "1"),
    ),
    SyntaxLabel(
        "F011",
        "定义缺少 =",
        "the definition is missing `=`",
        "写作 let 名称 = 表达式",
        "write let <name> = <expression>",
        ("let a 1", "let a b c", "let a: money 1"),
    ),
    SyntaxLabel(
        "F012",
        "字段缺少冒号和类型",
        "the field is missing `:` and its type",
        "字段写作 键名 中文名: 类型, 例如 age 年龄: int required",
        "write a field as key label: type, e.g. age 年龄: int required",
        ("record r { a int }", "record r { a b c }", "record r { a }", "record r { a: }"),
    ),
    SyntaxLabel(
        "F013",
        "比较相等只写一个 =",
        "equality is written with a single `=`",
        '例如 registry_kind = "rural"',
        'e.g. registry_kind = "rural"',
        ("let a = x == 1", "let a = x = = 1"),
    ),
    SyntaxLabel(
        "F014",
        "参数的每个取值写作 生效日期: 值",
        "each parameter value is written effective-date: value",
        "例如 2024-01-01: 8300",
        "e.g. 2024-01-01: 8300",
        ("param p: money { 8300 }", "param p: money { 2024-01-01 8300 }", "param p: money { }"),
    ),
)

_BY_CODE = {s.code: s for s in SYNTAX_ERRORS}


def label(code: str) -> SyntaxLabel:
    return _BY_CODE[code]


# How terminals are named to a policy writer.
TERMINAL_NAMES_ZH: dict[str, str] = {
    "NAME": "名称",
    "RULE_ID": "规则编号 (如 ID-1)",
    "STRING": '带英文双引号的文字 "…"',
    "NUMBER": "数字",
    "DATE": "日期 (如 2024-06-05)",
    "WHEN": "when (当)",
    "THEN": "then (则)",
    "EQ": "=",
    "_COLON": ":",
    "_COMMA": ",",
    "_LBRACE": "{",
    "_RBRACE": "}",
    "LPAR": "(",
    "RPAR": ")",
    "_PIPE": "|",
    "DPIPE": "||",
    "$END": "文件结尾",
}
TERMINAL_NAMES_EN: dict[str, str] = {
    "NAME": "a name",
    "RULE_ID": "a rule id (like ID-1)",
    "STRING": 'quoted text "…"',
    "NUMBER": "a number",
    "DATE": "a date (like 2024-06-05)",
    "$END": "the end of the file",
}
