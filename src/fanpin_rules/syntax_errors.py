"""The words of syntax errors: named by example broken inputs, or by recognised mistakes.

``SYNTAX_ERRORS``: each entry has a diagnostic code, the Chinese and English message and
hint, and small malformed snippets that fail the same way (the parser state of each
example names errors in the same state, like lark's ``match_examples``).

``SYNTAX_VARIANTS``: messages for mistakes the parser recognises from the tokens around
the error (a unit after a number, a keyword glued to a name, a row missing ``||`` ...).
Their texts are ``str.format`` templates; their examples must produce their code too.

Every code has a golden case under ``tests/cases/syntax/``.
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


@attrs.frozen
class SyntaxVariant:
    """A recognised mistake; message and hint are templates filled by the parser."""

    code: str
    message_zh: str
    message_en: str
    hint_zh: str
    hint_en: str
    examples: tuple[str, ...] = ()

    def texts(self, **kw: str) -> tuple[str, str, str, str]:
        return (
            self.message_zh.format(**kw),
            self.message_en.format(**kw),
            self.hint_zh.format(**kw),
            self.hint_en.format(**kw),
        )


_RULE_HINT_ZH = 'rule 写作: rule ID-1 when 条件 then "结论说明"'
_RULE_HINT_EN = 'write a rule as: rule ID-1 when <condition> then "<message>"'

SYNTAX_ERRORS: tuple[SyntaxLabel, ...] = (
    SyntaxLabel(
        "F001",
        "条件后面缺少 then (则)",
        "missing `then` after the condition",
        _RULE_HINT_ZH,
        _RULE_HINT_EN,
        (
            'rule A-1 when x > 1 "m"',
            'rule A-1 when x "m"',
            'rule A-1 when x and y "m"',
            "rule A-1 when x > 1 let",
            "rule A-1 when x rule",
            'rule A-1 t when x > 1 "m"',
            'rule A-1 "t" cite "c" when x "m"',
        ),
    ),
    SyntaxLabel(
        "F002",
        "规则缺少 when (当) 条件",
        "the rule has no `when` condition",
        _RULE_HINT_ZH,
        _RULE_HINT_EN,
        (
            'rule A-1 then "m"',
            'rule A-1 cite "x" then "m"',
            'rule A-1 x > 1 then "m"',
            'rule A-1 t x > 1 then "m"',
        ),
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
        (
            "rule A-1 when x then 建议",
            "rule A-1 when x then x > 1",
            "rule A-1 when x then 1",
            "rule A-1 t when x then 建议",
            'rule A-1 "t" when x then 建议',
            'rule A-1 cite "c" when x then 建议',
            'rule A-1 t cite "c" when x then 建议',
            "rule A-1 t severity warning when x then 建议",
        ),
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
        "每一行第一格写规则编号, 例如 | LC-1 | ...",
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
            "let a = 1 -",
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
        "这个 ( 没有对应的 ); 在它的表达式末尾补上 )",
        "this `(` has no matching `)`; add `)` where its expression ends",
        ("let a = (1 + 2", "let a = f(1, 2", "let a = (1 + 2 let", "let a = f(x where y"),
    ),
    SyntaxLabel(
        "F010",
        "这里应当是一个声明",
        "a declaration is expected here",
        "每一项以关键字开头: policy、include、enum、record、input、param、let、rule、"
        "table、example; 计算式前面要写 let",
        "every item starts with a keyword: policy, include, enum, record, input, param, "
        "let, rule, table, example; a calculation starts with let",
        (
            "foo",
            "x = 1",
            "let a = 1 b",
            'rule A-1 when x then "m" y',
            '"text"',
            "1",
            'rule A-1 t when x then "m"\ny = 1',
            "let a = round(x, 2)\ny = 1",
        ),
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
        (
            "param p: money { 8300 }",
            "param p: money { 2024-01-01 8300 }",
            "param p: money { }",
            'param p: money unit "元" { 8300 }',
            "param p 基准: money { 8300 }",
        ),
    ),
)

_BY_CODE = {s.code: s for s in SYNTAX_ERRORS}


def label(code: str) -> SyntaxLabel:
    return _BY_CODE[code]


SYNTAX_VARIANTS: dict[str, SyntaxVariant] = {
    "eof": SyntaxVariant(
        "F000",
        "文件在这里意外结束",
        "unexpected end of file",
        "这里应当是: {expected}",
        "expected one of: {expected}",
    ),
    "unexpected": SyntaxVariant(
        "F000",
        "这里不应出现「{found}」",
        "unexpected '{found}'",
        "这里应当是: {expected}",
        "expected one of: {expected}",
    ),
    "incomplete_line": SyntaxVariant(
        "F000",
        "这一行没有写完: 「{last}」后面还缺少内容",
        "this line is incomplete: something is missing after '{last}'",
        "下一行开头的「{word}」被当成了这一行的一部分; 先把这一行写完整",
        "'{word}' at the start of the next line was read as part of this line; complete this "
        "line first",
        ("input household key\nlet a = 1", "let a = x.\nlet b = 1"),
    ),
    "unclosed_before_item": SyntaxVariant(
        "F005",
        "上面的 {{ 还没有闭合, 这里就开始了下一项「{word}」",
        "the `{{` above is not closed before the next item '{word}'",
        "在「{word}」前面补上 }}",
        "add `}}` before '{word}'",
        ("record r {\n  a: int\ninput r", "enum e { a, b\nlet x = 1"),
    ),
    "extra_brace": SyntaxVariant(
        "F005",
        "多了一个 }}",
        "an extra `}}`",
        "删掉这个 }}, 或在前面补上和它对应的 {{",
        "remove this `}}`, or add the `{{` it closes",
        ("let a = 1 }", 'rule A-1 when x then "m" }'),
    ),
    "header_no_dpipe": SyntaxVariant(
        "F006",
        "决策表的表头缺少条件与结论之间的 ||",
        "the table header has no `||` between its condition and output columns",
        "表头写作 | id | 条件列1 | 条件列2 || 结论列 |",
        "write the header as | id | condition1 | condition2 || output |",
        ("table t hit first {\n | id | a | o |\n | T-1 | 1 || 2 |\n}",),
    ),
    "row_no_dpipe": SyntaxVariant(
        "F006",
        "决策表这一行缺少条件与结论之间的 ||",
        "this table row has no `||` between its conditions and its outputs",
        "每一行写作 | 编号 | 条件1 | 条件2 || 结论 |",
        "write each row as | id | cond1 | cond2 || output |",
        ("table t hit first {\n | id | a || o |\n | T-1 | 1 | 2 |\n | T-2 | 3 || 4 |\n}",),
    ),
    "row_no_closing_bar": SyntaxVariant(
        "F006",
        "决策表这一行末尾缺少 |",
        "this table row does not end with `|`",
        "每一行以 | 结尾: | 编号 | 条件 || 结论 |",
        "end every row with `|`: | id | condition || output |",
        ("table t hit first {\n | id | a || o |\n | T-1 | 1 || 2\n | T-2 | 3 || 4 |\n}",),
    ),
    "missing_bar": SyntaxVariant(
        "F006",
        "决策表这一格里有两个值",
        "two values in one cell of the table",
        "两个格子之间要写 |: {a} | {b}; 同一格里的几个值用逗号分开: {a}, {b}",
        "separate cells with |: {a} | {b}; several values of one cell take commas: {a}, {b}",
        ("table t hit first {\n | id | a | b || o |\n | T-1 | 1  2 || 3 |\n}",),
    ),
    "after_operator": SyntaxVariant(
        "F008",
        "表达式不完整: 「{op}」后面缺少值",
        "the expression is incomplete: nothing after '{op}'",
        "运算符两边都要有值, 例如 a + b、x >= 10",
        "an operator needs a value on both sides, e.g. a + b, x >= 10",
        (
            'let a = 1 -\nrule A-1 when x then "m"',
            'rule A-1 when x and then "m"',
            "let a = b +\nlet c = 1",
        ),
    ),
    "unclosed_paren": SyntaxVariant(
        "F009",
        "括号没有闭合",
        "a parenthesis is not closed",
        "这个 ( 没有对应的 ); 在它的表达式末尾补上 )",
        "this `(` has no matching `)`; add `)` where its expression ends",
        ('let a = round(x / y, 2\nrule A-1 when a > 1 then "m"',),
    ),
    "extra_paren": SyntaxVariant(
        "F009",
        "多了一个 )",
        "an extra `)`",
        "删掉这个 ), 或在前面补上和它对应的 (",
        "remove this `)`, or add the `(` it closes",
        ("let a = round(x, 2))", "let a = x)"),
    ),
    "missing_equals": SyntaxVariant(
        "F011",
        "定义缺少 =",
        "the definition is missing `=`",
        "在「{before}」和「{after}」之间加 =: {head} = {after} …",
        "put `=` between '{before}' and '{after}': {head} = {after} …",
        ("let a b / c",),
    ),
    "double_equals": SyntaxVariant(
        "F013",
        "比较相等只写一个 =",
        "equality is written with a single `=`",
        '把 {wrong} 改成 =, 例如 registry_kind = "rural"',
        'change {wrong} to =, e.g. registry_kind = "rural"',
    ),
    "reversed_comparison": SyntaxVariant(
        "F013",
        "{meaning}写作 {right} 或 {sign}",
        "{meaning_en} is written {right} or {sign}",
        "把 {wrong} 改成 {right}",
        "change {wrong} to {right}",
        ('rule A-1 when x =< 1 then "m"', 'rule A-1 when x => 1 then "m"'),
    ),
    "spaced_comparison": SyntaxVariant(
        "F013",
        "{right} 的两个符号之间不能有空格",
        "no space inside {right}",
        "把 {wrong} 改成 {right}",
        "change '{wrong}' to {right}",
        ('rule A-1 when x < = 1 then "m"',),
    ),
    "param_value": SyntaxVariant(
        "F014",
        "参数的每个取值写作 生效日期: 值",
        "each parameter value is written effective-date: value",
        "例如 2024-01-01: 8300",
        "e.g. 2024-01-01: 8300",
    ),
    "missing_comma": SyntaxVariant(
        "F015",
        "{what}之间缺少逗号",
        "missing comma between {what_en}",
        "在「{a}」和「{b}」之间加逗号: {a}, {b}",
        "put a comma between '{a}' and '{b}': {a}, {b}",
        (
            "enum e { a b c }",
            'let s = {"a" "b"}',
            'example "e" { input { "a": 1 "b": 2 } }',
            "let a = max(x y)",
        ),
    ),
    "unit_after_number": SyntaxVariant(
        "F016",
        "数字后面不要写单位",
        "no unit after a number",
        '只写 {number}; 单位写在 param 的 unit 里, 例如 unit "元/人/年"',
        'write just {number}; a unit belongs in the unit of a param, e.g. unit "元/人/年"',
        ('rule A-1 when x <= 8300元 then "m"', "let a = 3户 + 1"),
    ),
    "thousands_separator": SyntaxVariant(
        "F017",
        "数字里不要写千位分隔符",
        "no thousands separator in a number",
        "写作 {number}",
        "write {number}",
        ('rule A-1 when x <= 8,300 then "m"', "let a = 12，000 + 1"),
    ),
    "glued_keyword": SyntaxVariant(
        "F018",
        "关键字「{kw}」和「{rest}」连在一起了",
        "the keyword '{kw}' is glued to '{rest}'",
        "「{kw}」和「{rest}」之间要加空格",
        "put a space between '{kw}' and '{rest}'",
        (
            'rule A-1 t 当x > 1 则 "m"',
            'rule A-1 t when x > 1 且有风险 then "m"',
            'rule A-1 当x > 1 则 "m"',
        ),
    ),
    "colon_after_rule_id": SyntaxVariant(
        "F019",
        "规则编号后面不要加冒号",
        "no colon after the rule id",
        "删掉 {rule_id} 后面的冒号",
        "remove the colon after {rule_id}",
        ('rule A-1: t when x then "m"', 'rule A-1：t when x then "m"'),
    ),
    "range_without_brackets": SyntaxVariant(
        "F024",
        "区间要加方括号",
        "a range needs brackets",
        "区间写作 [{low}..{high}], 包含两端",
        "write the range as [{low}..{high}], both ends included",
        ("table t hit first {\n | id | a || o |\n | T-1 | 1..3 || 2 |\n}",),
    ),
    "clause_in_call": SyntaxVariant(
        "F313",
        "{func} 不能带 where 或 :; "
        "它们只能用在 count、sum、any、all、min、max 的唯一一个列表参数里",
        "{func}(…) cannot take `where` or `:`; they only go in count, sum, any, all, min or "
        "max with a single list argument",
        "例如 {example}",
        "e.g. {example}",
        ("let a = round(xs: y, 2)", "let a = months(xs where y, d)"),
    ),
}
"""Recognised mistakes by key (several keys may share a code)."""


def variant(key: str) -> SyntaxVariant:
    return SYNTAX_VARIANTS[key]


# Lexical errors (the character cannot start any token) and the builder's F023.
LEXICAL: dict[str, SyntaxVariant] = {
    "chinese_quote": SyntaxVariant(
        "F020",
        "这里用了中文引号 {ch}",
        "Chinese quotation mark {ch} used here",
        '文字要用英文双引号 "…" 括起来',
        'quote text with ASCII double quotes "…"',
    ),
    "single_quote": SyntaxVariant(
        "F020",
        "文字要用英文双引号, 不能用单引号 {ch}",
        "quote text with double quotes, not the single quote {ch}",
        '写作 "…"',
        'write "…"',
    ),
    "unclosed_quote": SyntaxVariant(
        "F021",
        "引号没有闭合",
        "the quoted text is not closed",
        '在同一行末尾补上 "',
        'add the closing " on the same line',
    ),
    "full_width_space": SyntaxVariant(
        "F022",
        "这里有一个全角空格",
        "a full-width space here",
        "换成普通空格",
        "replace it with an ordinary space",
    ),
    "full_width": SyntaxVariant(
        "F022",
        "这里用了全角字符「{text}」",
        "full-width character '{text}'",
        "把 {text} 改成 {half}",
        "change {text} to {half}",
    ),
    "percent": SyntaxVariant(
        "F022",
        "数字后面不要写 {ch}",
        "no {ch} after a number",
        "百分数写成小数, 例如 50% 写作 0.5",
        "write a percentage as a fraction, e.g. 0.5 for 50%",
    ),
    "punctuation": SyntaxVariant(
        "F022",
        "这里不需要「{ch}」",
        "'{ch}' is not needed here",
        "删掉「{ch}」; 每一项写完换行即可, 不用标点结尾",
        "remove '{ch}'; items end at the end of the line, without punctuation",
    ),
    "unexpected_character": SyntaxVariant(
        "F022",
        "无法识别的字符「{ch}」",
        "unexpected character '{ch}'",
        "删除这个字符, 或检查是否误用了全角符号",
        "remove the character, or check for a full-width symbol typed by mistake",
    ),
    "bad_escape": SyntaxVariant(
        "F023",
        "引号里的反斜杠 \\ 写法不对",
        "invalid backslash escape in quoted text",
        '反斜杠只能写成 \\\\、\\" 或 \\n; 不需要时删掉它',
        'a backslash may only be \\\\, \\" or \\n; remove it otherwise',
    ),
    "bad_escape_path": SyntaxVariant(
        "F023",
        "引号里的反斜杠 \\ 写法不对",
        "invalid backslash escape in quoted text",
        '路径用 / 分隔: include "{fixed}"',
        'separate folders with /: include "{fixed}"',
    ),
}


# How terminals are named to a policy writer (every terminal of grammar/policy.lark).
TERMINAL_NAMES_ZH: dict[str, str] = {
    "NAME": "名称",
    "RULE_ID": "规则编号 (如 ID-1)",
    "STRING": '带英文双引号的文字 "…"',
    "NUMBER": "数字",
    "DATE": "日期 (如 2024-06-05)",
    "POLICY": "policy (政策)",
    "INCLUDE": "include (引用)",
    "ENUM": "enum (枚举)",
    "RECORD": "record (记录)",
    "INPUT": "input (输入)",
    "KEY": "key (主键)",
    "OF": "of",
    "REQUIRED": "required (必填)",
    "PII": "pii (敏感)",
    "PARAM": "param (参数)",
    "UNIT": "unit (单位)",
    "LET": "let (定义)",
    "RULE": "rule (规则)",
    "WHEN": "when (当)",
    "THEN": "then (则)",
    "CITE": "cite (依据)",
    "SEVERITY": "severity (级别)",
    "OVERRIDES": "overrides (优先于)",
    "TABLE": "table (决策表)",
    "HIT": "hit (命中)",
    "EXAMPLE": "example (示例)",
    "LIKE": "like (基于)",
    "EXPECT": "expect (预期)",
    "IF": "if (如果)",
    "ELSE": "else (否则)",
    "AND": "and (且)",
    "OR": "or (或)",
    "NOT": "not (非)",
    "IN": "in (属于)",
    "NOTIN": "∉",
    "SUBSET": "⊆",
    "BETWEEN": "between (介于)",
    "IS": "is",
    "WHERE": "where (其中)",
    "TRUE": "true (是)",
    "FALSE": "false (否)",
    "NULL": "null",
    "EMPTY_SET": "空集 ∅",
    "COMP_OP": "比较符号 (< <= > >= !=)",
    "EQ": "=",
    "ADD_OP": "+",
    "MINUS": "-",
    "MUL_OP": "* 或 /",
    "SET_OP": "∩ 或 ∪",
    "_DOTDOT": "..",
    "_DOT": ".",
    "_COMMA": "逗号 ,",
    "_COLON": "冒号 :",
    "LPAR": "(",
    "RPAR": ")",
    "_LBRACE": "{",
    "_RBRACE": "}",
    "LSQB": "[",
    "RSQB": "]",
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
    "POLICY": "policy",
    "INCLUDE": "include",
    "ENUM": "enum",
    "RECORD": "record",
    "INPUT": "input",
    "KEY": "key",
    "OF": "of",
    "REQUIRED": "required",
    "PII": "pii",
    "PARAM": "param",
    "UNIT": "unit",
    "LET": "let",
    "RULE": "rule",
    "WHEN": "when",
    "THEN": "then",
    "CITE": "cite",
    "SEVERITY": "severity",
    "OVERRIDES": "overrides",
    "TABLE": "table",
    "HIT": "hit",
    "EXAMPLE": "example",
    "LIKE": "like",
    "EXPECT": "expect",
    "IF": "if",
    "ELSE": "else",
    "AND": "and",
    "OR": "or",
    "NOT": "not",
    "IN": "in",
    "NOTIN": "∉",
    "SUBSET": "⊆",
    "BETWEEN": "between",
    "IS": "is",
    "WHERE": "where",
    "TRUE": "true",
    "FALSE": "false",
    "NULL": "null",
    "EMPTY_SET": "the empty set ∅",
    "COMP_OP": "a comparison (< <= > >= !=)",
    "EQ": "=",
    "ADD_OP": "+",
    "MINUS": "-",
    "MUL_OP": "* or /",
    "SET_OP": "∩ or ∪",
    "_DOTDOT": "..",
    "_DOT": ".",
    "_COMMA": "a comma ,",
    "_COLON": "a colon :",
    "LPAR": "(",
    "RPAR": ")",
    "_LBRACE": "{",
    "_RBRACE": "}",
    "LSQB": "[",
    "RSQB": "]",
    "_PIPE": "|",
    "DPIPE": "||",
    "$END": "end of file",
}
