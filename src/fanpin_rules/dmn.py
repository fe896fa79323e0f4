"""Import of DMN decision tables into a policy (``fanpin import-dmn FILE.dmn -o OUT.policy``).

A DMN 1.3 file (as saved by Camunda Modeler, Drools/KIE or Trisotech; DMN 1.1–1.5
namespaces are read the same way) becomes one complete ``.policy`` file:

* every input variable becomes a field of the input record ``dmn_input`` (JSON key = the
  DMN name), typed from its FEEL ``typeRef`` (string → text, number → number,
  boolean → bool, date → date; Camunda's integer/long → int, double → number); string
  ``inputValues`` and item definitions with ``allowedValues`` become enums, item
  definitions with components become records (``applicant.age``);
* every decision becomes a table named after it (a literal-expression decision, a
  definition), so each decision's output is in the result's ``values`` under its name;
  a decision that reads another decision's output refers to that table;
* every hit policy and aggregation is kept (UNIQUE, ANY, FIRST, PRIORITY, RULE ORDER,
  OUTPUT ORDER, COLLECT, COLLECT SUM/MIN/MAX/COUNT); ``outputValues`` give the enum
  whose order PRIORITY and OUTPUT ORDER use; rule annotations become row messages;
* cells hold simple FEEL unary tests: ``< 5``, ``>= 8300``, ``[1..10)``, ``]1..10]``,
  ``"a","b"``, ``not(...)``, ``-``, strings, numbers, booleans and ``date("…")``.

Anything else (FEEL functions, ``?``, boxed contexts, invocations, business knowledge
models, …) is refused with a :class:`DmnError` naming the element id and what is not
supported.  The generated policy is checked before it is returned; checker findings are
reported at the DMN element they came from.

>>> from pathlib import Path
>>> result = import_dmn(Path("tests/dmn/hit_unique.dmn"))
>>> [(d.name, d.table, d.hit) for d in result.decisions]
[('Dish', 'Dish', 'UNIQUE')]
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path

import attrs

from fanpin_rules import ast
from fanpin_rules.check import run_checks
from fanpin_rules.errors import (
    Diagnostic,
    FanpinError,
    PolicyCheckError,
    PolicyLoadError,
    PolicySyntaxError,
)
from fanpin_rules.exprfmt import quote, to_text
from fanpin_rules.model import build_model
from fanpin_rules.parser import grammar_text, parse
from fanpin_rules.render import display_width, render_issue
from fanpin_rules.source import Source
from fanpin_rules.spreadsheet import cell_text, column_stops, pipe_positions, row_line

__all__ = ["DMN_NAMESPACES", "DmnDecision", "DmnError", "DmnImport", "DmnIssue", "import_dmn"]

DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
FEEL_TYPES = {
    "string": "text",
    "number": "number",
    "boolean": "bool",
    "date": "date",
    "integer": "int",  # Camunda 7 (Java) types
    "long": "int",
    "double": "number",
}
UNSUPPORTED_TYPES = {
    "date and time",
    "time",
    "days and time duration",
    "years and months duration",
    "context",
    "list",
    "Any",
    "function",
}
HIT_POLICIES = {
    "UNIQUE": "unique",
    "ANY": "any",
    "FIRST": "first",
    "PRIORITY": "priority",
    "RULE ORDER": "rule_order",
    "OUTPUT ORDER": "output_order",
    "COLLECT": "collect",
}
AGGREGATIONS = {"SUM": "sum", "MIN": "min", "MAX": "max", "COUNT": "count"}
INPUT_RECORD = "dmn_input"

BUILTIN_NAMES = frozenset(
    {"it", "该项", "as_of", "评估日期", "message", "说明", "cite", "依据", "id", "编号"}
)


@functools.cache
def reserved_names() -> frozenset[str]:
    """Every keyword spelling of the grammar and the builtin and metadata names: a DMN
    name equal to one of them gets a trailing ``_``.

    >>> {"and", "且", "table", "message"} <= reserved_names()
    True
    """
    words: set[str] = set(BUILTIN_NAMES)
    for alternatives in re.findall(r"/\(\?:([^)]*)\)\(\?!\[\\w\]\)", grammar_text()):
        words.update(alternatives.split("|"))
    return frozenset(words)


_NAME = re.compile(r"(?!\d)\w+")
_CAPS = re.compile(r"[A-Z]{2,}|[A-Z][A-Z0-9]*-[0-9]+[a-z]?")


# ================================================================ errors


@attrs.frozen
class DmnIssue:
    """A problem with one DMN element: its tag, id, where it sits, and the fix.

    >>> print(DmnIssue("inputEntry", "UT_1", "决策「Dish」第 2 条规则", "decision 'Dish', rule 2",
    ...                "不支持 FEEL 函数 contains", "FEEL function contains is not supported")
    ...       .render("d.dmn", "en"))
    d.dmn: decision 'Dish', rule 2: inputEntry id="UT_1": FEEL function contains is not supported
    """

    element: str
    element_id: str
    where_zh: str
    where_en: str
    message_zh: str
    message_en: str
    hint_zh: str = ""
    hint_en: str = ""
    code: str = ""
    severity: str = "error"

    def render(self, file: str, lang: str = "zh") -> str:
        ident = f'{self.element} id="{self.element_id}"' if self.element_id else self.element
        en = lang == "en"
        where = self.where_en if en else self.where_zh
        return render_issue(
            f"{file}: {where}: {ident}" if where else f"{file}: {ident}",
            self.severity,
            self.code,
            self.message_en if en else self.message_zh,
            self.hint_en if en else self.hint_zh,
            lang,
        )


class DmnError(FanpinError):
    """The DMN file cannot be imported: every problem, each naming its element."""

    def __init__(self, file: str, issues: Sequence[DmnIssue]) -> None:
        self.file = file
        self.issues = tuple(issues)
        super().__init__(self.render("en"))

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.file, self.issues))

    def render(self, lang: str = "zh") -> str:
        parts = [i.render(self.file, lang) for i in self.issues]
        n = len(self.issues)
        parts.append(
            f"{n} problem(s); no policy written" if lang == "en" else f"{n} 个问题; 没有生成政策"
        )
        return "\n".join(parts)


class _Unsupported(Exception):
    def __init__(self, zh: str, en: str, hint_zh: str = "", hint_en: str = "") -> None:
        super().__init__(en)
        self.zh, self.en, self.hint_zh, self.hint_en = zh, en, hint_zh, hint_en


# ================================================================ FEEL


@attrs.frozen
class _Tok:
    kind: str  # number, string, op, name, end
    text: str
    start: int
    end: int


_FEEL_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<number>\d+(?:\.\d+)?|\.\d+)
      |(?P<string>"(?:[^"\\]|\\.)*")
      |(?P<op>\.\.|<=|>=|!=|\*\*|[<>=+\-*/(),\[\]{}:.?])
      |(?P<name>(?!\d)[\w']+)""",
    re.X,
)
FEEL_KEYWORDS = {
    "and",
    "or",
    "if",
    "then",
    "else",
    "true",
    "false",
    "null",
    "not",
    "for",
    "some",
    "every",
    "in",
    "return",
    "satisfies",
    "between",
    "instance",
    "function",
}


def _feel_tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _FEEL_TOKEN.match(text, pos)
        if m is None:
            raise _Unsupported(
                f"FEEL 文本里有不认识的字符「{text[pos]}」 (第 {pos + 1} 个字符)",
                f"unexpected character '{text[pos]}' in FEEL text (character {pos + 1})",
            )
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(_Tok(kind, m.group(), m.start(), m.end()))
        pos = m.end()
    out.append(_Tok("end", "", len(text), len(text)))
    return out


def _feel_string(token: str) -> str:
    r"""A FEEL string literal's value.

    >>> _feel_string(r'"a\"b\u4e2d"')
    'a"b中'
    """
    body = token[1:-1]
    out = ""
    i = 0
    escapes = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'"}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
                out += chr(int(body[i + 2 : i + 6], 16))
                i += 6
                continue
            out += escapes.get(nxt, nxt)
            i += 2
            continue
        out += c
        i += 1
    return out


Resolver = Callable[[list[str]], ast.Expr]


class _Feel:
    """A recursive-descent reader of the FEEL used in decision tables.

    Names are resolved as they are read (``resolve`` turns a qualified name into a
    policy expression); names with spaces are read when they are ``known``.
    """

    def __init__(self, text: str, resolve: Resolver, known: Iterable[str]) -> None:
        self.text = text
        self.toks = _feel_tokens(text)
        self.i = 0
        self.resolve = resolve
        self.known = sorted(
            {" ".join(k.split()) for k in known if " " in k.strip()}, key=len, reverse=True
        )

    # -------------------------------------------------------------- helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "name") and self.tok.text in texts

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, text: str) -> None:
        if not self.at(text):
            raise self.unexpected(f"「{text}」", f"'{text}'")
        self.take()

    def unexpected(self, want_zh: str = "", want_en: str = "") -> _Unsupported:
        t = self.tok
        if t.kind == "end":
            zh, en = "写到一半就结束了", "it ends too early"
        else:
            zh = f"在「{t.text}」处读不下去 (第 {t.start + 1} 个字符)"
            en = f"unexpected '{t.text}' (character {t.start + 1})"
        if want_zh:
            zh += f", 这里应是{want_zh}"
            en += f"; expected {want_en}"
        return _Unsupported(zh, en)

    def done(self) -> None:
        if self.tok.kind != "end":
            raise self.unexpected()

    # -------------------------------------------------------------- unary tests
    def unary_tests(self) -> ast.Cell:
        if self.tok.kind == "end" or (self.at("-") and self.toks[self.i + 1].kind == "end"):
            return ast.CellAny()
        if self.at("not") and self.toks[self.i + 1].text == "(":
            self.take()
            self.take()
            tests = self.tests()
            self.expect(")")
            self.done()
            return ast.CellTests(tests, negated=True)
        tests = self.tests()
        self.done()
        return ast.CellTests(tests)

    def tests(self) -> tuple[ast.UnaryTest, ...]:
        found = [self.test()]
        while self.at(","):
            self.take()
            found.append(self.test())
        return tuple(found)

    def test(self) -> ast.UnaryTest:
        if self.at("<", "<=", ">", ">=", "!="):
            op = self.take().text
            return ast.TestCompare(op, self.endpoint())
        if self.at("="):
            self.take()
            return ast.TestEqual(self.endpoint())
        if self.at("[", "(", "]"):
            opener = self.take().text
            low = self.endpoint()
            self.expect("..")
            high = self.endpoint()
            if not self.at("]", ")", "["):
                raise self.unexpected("「]」或「)」", "']' or ')'")
            closer = self.take().text
            return ast.TestRange(low, high, opener == "[", closer == "]")
        if self.at("?"):
            raise _Unsupported(
                "不支持用 ? 的条件 (DMN 1.3 的广义一元测试)",
                "tests with ? (DMN 1.3 generalised unary tests) are not supported",
                '改写为简单条件: < 5、[1..10]、"a","b"、not(...)',
                'write a simple test instead: < 5, [1..10], "a","b", not(...)',
            )
        return ast.TestEqual(self.endpoint())

    def endpoint(self) -> ast.Expr:
        return self.additive()

    # -------------------------------------------------------------- expressions
    def expression(self) -> ast.Expr:
        e = self.expr()
        self.done()
        return e

    def expr(self) -> ast.Expr:
        if self.at("if"):
            self.take()
            cond = self.expr()
            self.expect("then")
            then = self.expr()
            self.expect("else")
            return ast.If(cond, then, self.expr())
        for word, what_zh in (
            ("for", "for 循环"),
            ("some", "some 量词"),
            ("every", "every 量词"),
            ("function", "函数定义"),
        ):
            if self.at(word):
                raise _Unsupported(
                    f"不支持 FEEL 的 {what_zh}", f"FEEL '{word}' expressions are not supported"
                )
        return self.disjunction()

    def disjunction(self) -> ast.Expr:
        e = self.conjunction()
        while self.at("or"):
            self.take()
            e = ast.Or(e, self.conjunction())
        return e

    def conjunction(self) -> ast.Expr:
        e = self.comparison()
        while self.at("and"):
            self.take()
            e = ast.And(e, self.comparison())
        return e

    def comparison(self) -> ast.Expr:
        e = self.additive()
        if self.at("<", "<=", ">", ">=", "=", "!="):
            op = self.take().text
            return ast.Compare(op, e, self.additive())
        for word in ("between", "in", "instance"):
            if self.at(word):
                raise _Unsupported(
                    f"不支持 FEEL 的 {word} 表达式", f"FEEL '{word}' expressions are not supported"
                )
        return e

    def additive(self) -> ast.Expr:
        e = self.multiplicative()
        while self.at("+", "-"):
            op = self.take().text
            e = ast.BinOp(op, e, self.multiplicative())
        return e

    def multiplicative(self) -> ast.Expr:
        e = self.unary()
        while self.at("*", "/", "**"):
            op = self.take().text
            if op == "**":
                raise _Unsupported("不支持乘方 **", "exponentiation ** is not supported")
            e = ast.BinOp(op, e, self.unary())
        return e

    def unary(self) -> ast.Expr:
        if self.at("-"):
            self.take()
            operand = self.unary()
            if isinstance(operand, ast.Number):
                return ast.Number(-operand.value)
            return ast.Neg(operand)
        return self.primary()

    def primary(self) -> ast.Expr:
        t = self.tok
        if t.kind == "number":
            self.take()
            text = "0" + t.text if t.text.startswith(".") else t.text
            return ast.Number(Decimal(text))
        if t.kind == "string":
            self.take()
            return ast.String(_feel_string(t.text))
        if self.at("("):
            self.take()
            e = self.expr()
            self.expect(")")
            return e
        if self.at("true", "false"):
            self.take()
            return ast.Bool(t.text == "true")
        if self.at("null"):
            raise _Unsupported(
                "不支持 null (政策里用 is missing / is present 判断有无)",
                "null is not supported (policies test presence with is missing / is present)",
            )
        if self.at("{"):
            raise _Unsupported("不支持 FEEL 上下文 {…}", "FEEL contexts {…} are not supported")
        if self.at("["):
            raise _Unsupported("不支持 FEEL 列表 […]", "FEEL lists […] are not supported")
        if self.at("?"):
            raise _Unsupported(
                "不支持用 ? 的条件 (DMN 1.3 的广义一元测试)",
                "tests with ? (DMN 1.3 generalised unary tests) are not supported",
            )
        if t.kind == "name" and (t.text not in FEEL_KEYWORDS or t.text == "not"):
            return self.name_or_call()
        raise self.unexpected("一个值", "a value")

    def name_or_call(self) -> ast.Expr:
        first = self.long_name()
        if self.at("("):
            if first == "date":
                self.take()
                arg = self.tok
                if arg.kind != "string":
                    raise _Unsupported(
                        'date(…) 里要写一个日期文字, 如 date("2024-01-01")',
                        'date(…) takes a date text, as in date("2024-01-01")',
                    )
                self.take()
                self.expect(")")
                try:
                    return ast.Date(dt.date.fromisoformat(_feel_string(arg.text)))
                except ValueError:
                    raise _Unsupported(
                        f"{arg.text} 不是日期 (写作 YYYY-MM-DD)",
                        f"{arg.text} is not a date (write YYYY-MM-DD)",
                    ) from None
            if first == "not":
                self.take()
                e = self.expr()
                self.expect(")")
                return ast.Not(e)
            raise _Unsupported(
                f"不支持 FEEL 函数 {first}(…)",
                f"FEEL function {first}(…) is not supported",
                '只支持 date("…") 和 not(…); 把计算放进上游决策或输入数据',
                'only date("…") and not(…) are supported; compute the value in an upstream '
                "decision or in the input data",
            )
        if first == "not":
            raise self.unexpected("「(」", "'('")
        parts = [first]
        while self.at("."):
            self.take()
            if self.tok.kind != "name":
                raise self.unexpected("一个名称", "a name")
            parts.append(self.long_name())
        return self.resolve(parts)

    def long_name(self) -> str:
        """A name, with spaces when a known multi-word name starts here."""
        t = self.tok
        rest = self.text[t.start :]
        for name in self.known:
            words = name.split(" ")
            m = re.match(r"\s+".join(re.escape(w) for w in words) + r"(?![\w'])", rest)
            if m is not None:
                end = t.start + m.end()
                while self.tok.kind != "end" and self.tok.start < end:
                    self.take()
                return name
        self.take()
        return t.text


# ================================================================ the DMN model


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ns(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


@attrs.frozen
class DmnDecision:
    """One imported decision: its DMN name and id, and what it became in the policy."""

    name: str
    element_id: str
    table: str  # the table (or definition) name: the key of its output in ``values``
    hit: str | None  # the DMN hit policy (with its aggregation), None for a literal expression


@attrs.frozen
class DmnImport:
    """The generated policy text, its decisions and inputs, and the checker's warnings."""

    text: str
    decisions: tuple[DmnDecision, ...]
    inputs: tuple[tuple[str, str], ...]  # (JSON path, policy type) of every input field
    warnings: tuple[DmnIssue, ...] = ()


@attrs.define
class _Record:
    name: str
    fields: dict[str, _Field] = attrs.field(factory=dict)  # by DMN name


@attrs.define
class _Field:
    key: str  # the JSON key: the DMN name
    name: str  # the name the policy text uses
    type: str  # a builtin type, an enum or a record name
    origin: tuple[str, str]  # (tag, id) of the element the type came from
    record: _Record | None = None


@attrs.frozen
class _Enum:
    name: str
    values: tuple[str, ...]
    origin: tuple[str, str]


@attrs.frozen
class _Where:
    """What a generated line came from: a place, and the element of each cell (or one)."""

    zh: str
    en: str
    elements: tuple[tuple[str, str], ...]  # (tag, id)

    def element_at(self, line: str, col: int) -> tuple[str, str]:
        if len(self.elements) == 1:
            return self.elements[0]
        k = sum(1 for at, width in pipe_positions(line) if at + width <= col - 1) - 1
        return self.elements[min(max(k, 0), len(self.elements) - 1)]


@attrs.define
class _Block:
    """The text of one decision, with what each of its lines came from."""

    lines: list[str] = attrs.field(factory=list)
    where: dict[int, _Where] = attrs.field(factory=dict)

    def add(self, line: str, where: _Where | None = None) -> None:
        if where is not None:
            self.where[len(self.lines)] = where
        self.lines.append(line)


_SKIPPED_DECISION_CHILDREN = {
    "variable",
    "informationRequirement",
    "knowledgeRequirement",
    "authorityRequirement",
    "description",
    "extensionElements",
    "question",
    "allowedAnswers",
}


class _Importer:
    """Reads a DMN ``definitions`` element into policy text; problems go to ``issues``."""

    def __init__(self, root: ET.Element) -> None:
        self.root = root
        self.ns = _ns(root.tag)
        self.issues: list[DmnIssue] = []
        self.warnings: list[DmnIssue] = []
        self.used: set[str] = {INPUT_RECORD}
        self.enums: dict[str, _Enum] = {}
        self.records: dict[str, _Record] = {}
        self.root_record = _Record(INPUT_RECORD)
        self.by_id = {el.get("id", ""): el for el in root.iter() if el.get("id")}
        self.decisions = self.named("decision")
        self.inputs = self.named("inputData")
        self.items = self.named("itemDefinition")
        self.item_types: dict[str, str] = {}
        self.decision_names: dict[str, str] = {}  # DMN name -> policy name
        self.decision_cols: dict[str, dict[str, str]] = {}  # DMN name -> output -> column
        self.prefixes: set[str] = set()
        self.shown_hits: dict[str, str] = {}  # DMN name -> "COLLECT SUM"
        self.renamed: list[tuple[str, str, str]] = []  # (what, DMN name, policy name)
        self.known: list[str] = [*self.decisions, *self.inputs]

    # -------------------------------------------------------------- XML helpers
    def named(self, tag: str) -> dict[str, ET.Element]:
        return {el.get("name", ""): el for el in self.root if _local(el.tag) == tag}

    def q(self, tag: str) -> str:
        return f"{{{self.ns}}}{tag}" if self.ns else tag

    def child(self, el: ET.Element, tag: str) -> ET.Element | None:
        return el.find(self.q(tag))

    def children(self, el: ET.Element, tag: str) -> list[ET.Element]:
        return el.findall(self.q(tag))

    def text_of(self, el: ET.Element | None) -> str:
        if el is None:
            return ""
        t = self.child(el, "text")
        return (t.text or "").strip() if t is not None else ""

    def issue(
        self,
        el: ET.Element | None,
        where: tuple[str, str],
        zh: str,
        en: str,
        hint_zh: str = "",
        hint_en: str = "",
    ) -> None:
        tag = _local(el.tag) if el is not None else "definitions"
        ident = el.get("id", "") if el is not None else ""
        self.issues.append(DmnIssue(tag, ident, where[0], where[1], zh, en, hint_zh, hint_en))

    def fail(self, el: ET.Element | None, where: tuple[str, str], exc: _Unsupported) -> None:
        self.issue(el, where, exc.zh, exc.en, exc.hint_zh, exc.hint_en)

    @staticmethod
    def ident(el: ET.Element) -> tuple[str, str]:
        return _local(el.tag), el.get("id", "")

    # -------------------------------------------------------------- names
    def policy_name(self, name: str, taken: set[str] | None = None, what: str = "") -> str:
        """A policy name for a DMN name, unique among ``taken`` (default: the global names).

        Spaces and punctuation become ``_``; names of keywords and names that would
        read as rule ids (``AGE``) get a trailing ``_``.
        """
        pool = self.used if taken is None else taken
        base = re.sub(r"\W+", "_", name.strip()).strip("_") or "x"
        if base[0].isdigit():
            base = "_" + base
        if base in reserved_names() or _CAPS.fullmatch(base):
            base += "_"
        candidate, n = base, 2
        while candidate in pool:
            candidate, n = f"{base}_{n}", n + 1
        pool.add(candidate)
        if what and candidate != name:
            self.renamed.append((what, name, candidate))
        return candidate

    def rule_prefix(self, name: str, index: int) -> str:
        letters = "".join(c for c in name.upper() if "A" <= c <= "Z" or c.isdigit())
        base = letters[:4] if letters[:1].isalpha() else f"D{index}"
        candidate, n = base, 2
        while candidate in self.prefixes:
            candidate, n = f"{base}{n}", n + 1
        self.prefixes.add(candidate)
        return candidate

    # -------------------------------------------------------------- types
    def enum_for(self, name: str, text: str, el: ET.Element, where: tuple[str, str]) -> str:
        """An enum for string values ``"a","b"`` (text when they are not plain strings)."""
        try:
            cell = _Feel(text, self.no_names, ()).unary_tests()
        except _Unsupported as exc:
            self.fail(el, where, exc)
            return "text"
        if not isinstance(cell, ast.CellTests) or cell.negated:
            return "text"
        values = [
            t.value.value
            for t in cell.tests
            if isinstance(t, ast.TestEqual) and isinstance(t.value, ast.String)
        ]
        if len(values) != len(cell.tests):
            return "text"
        enum = self.policy_name(f"{name}_values")
        self.enums[enum] = _Enum(enum, tuple(dict.fromkeys(values)), self.ident(el))
        return enum

    def no_names(self, parts: list[str]) -> ast.Expr:
        raise _Unsupported(
            f"这里只能写值, 不能写名称「{'.'.join(parts)}」",
            f"only values are allowed here, not the name '{'.'.join(parts)}'",
        )

    def type_of(
        self,
        type_ref: str | None,
        el: ET.Element,
        where: tuple[str, str],
        name: str,
        values: ET.Element | None = None,
    ) -> str | None:
        """The policy type of a FEEL typeRef (None when there is none)."""
        if not type_ref or not type_ref.strip():
            return None
        ref = type_ref.strip()
        ref = ref.split(":", 1)[1] if ref.startswith(("feel:", "FEEL:")) else ref
        if ref in self.items:
            return self.item_type(ref, where)
        if ref in FEEL_TYPES:
            kind = FEEL_TYPES[ref]
            if kind == "text" and values is not None and self.text_of(values):
                return self.enum_for(name, self.text_of(values), values, where)
            return kind
        if ref in UNSUPPORTED_TYPES:
            self.issue(
                el,
                where,
                f"不支持 FEEL 类型「{ref}」",
                f"FEEL type '{ref}' is not supported",
                "可用: string、number、boolean、date (及 Camunda 的 integer、long、double)",
                "use string, number, boolean or date (or Camunda's integer, long, double)",
            )
        else:
            self.issue(
                el,
                where,
                f"不认识的类型「{type_ref}」",
                f"unknown type '{type_ref}'",
                "类型写 string、number、boolean、date, 或者一个 itemDefinition 的名字",
                "use string, number, boolean, date or the name of an itemDefinition",
            )
        return "text"

    def item_type(self, ref: str, where: tuple[str, str]) -> str:
        """An itemDefinition as a type: a record (components), an enum or a simple type."""
        if ref in self.item_types:
            return self.item_types[ref]
        item = self.items[ref]
        self.item_types[ref] = "text"  # a definition that refers to itself stays text
        if item.get("isCollection") == "true":
            self.issue(
                item,
                where,
                "不支持列表类型 (isCollection)",
                "collection types (isCollection) are not supported",
            )
            return "text"
        components = self.children(item, "itemComponent")
        if components:
            rec = _Record(self.policy_name(ref))
            self.records[rec.name] = rec
            self.item_types[ref] = rec.name
            for comp in components:
                cname = comp.get("name", "")
                self.known.append(cname)
                t_el = self.child(comp, "typeRef")
                ctype = self.type_of(
                    t_el.text if t_el is not None else None,
                    comp,
                    where,
                    cname,
                    self.child(comp, "allowedValues"),
                )
                if ctype is None:
                    self.issue(
                        comp,
                        where,
                        f"「{cname}」没有 typeRef",
                        f"'{cname}' has no typeRef",
                        "写上 typeRef",
                        "add a typeRef",
                    )
                    ctype = "text"
                taken = {f.name for f in rec.fields.values()}
                rec.fields[cname] = _Field(
                    cname,
                    self.policy_name(cname, taken),
                    ctype,
                    self.ident(comp),
                    self.records.get(ctype),
                )
            return rec.name
        t_el = self.child(item, "typeRef")
        base = t_el.text.strip() if t_el is not None and t_el.text else "string"
        allowed = self.child(item, "allowedValues")
        if FEEL_TYPES.get(base) == "text" and allowed is not None and self.text_of(allowed):
            found = self.enum_for(ref, self.text_of(allowed), allowed, where)
        else:
            found = self.type_of(base, item, where, ref) or "text"
        self.item_types[ref] = found
        return found

    # -------------------------------------------------------------- fields and references
    def field(
        self, parts: Sequence[str], type_: str | None, el: ET.Element, where: tuple[str, str]
    ) -> ast.Expr:
        """The input field at ``parts`` (a DMN name and path), declared on first use."""
        record = self.root_record
        expr: ast.Expr | None = None
        path = ".".join(parts)
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            f = record.fields.get(part)
            if f is None:
                t = (type_ if last else None) or self.input_data_type(part, record, where)
                if t is None and not last:
                    sub = _Record(self.policy_name(f"{part}_record"))
                    self.records[sub.name] = sub
                    t = sub.name
                if t is None:
                    raise _Unsupported(
                        f"不知道输入「{path}」的类型",
                        f"the type of input '{path}' is not known",
                        "给这个输入写上 typeRef (在 inputExpression 或 inputData 的 variable 上)",
                        "give the input a typeRef (on its inputExpression or on the variable "
                        "of its inputData)",
                    )
                taken = (
                    None if record is self.root_record else {g.name for g in record.fields.values()}
                )
                what = "输入 input" if record is self.root_record else ""
                f = _Field(
                    part,
                    self.policy_name(part, taken, what),
                    t,
                    self.ident(el),
                    self.records.get(t),
                )
                record.fields[part] = f
            elif last and type_ is not None and f.type != type_:
                same_enum = f.type in self.enums and type_ in self.enums
                if not same_enum and not (f.type in self.enums and type_ == "text"):
                    raise _Unsupported(
                        f"输入「{path}」的类型前后不一致: {f.type} 和 {type_}",
                        f"input '{path}' has two types: {f.type} and {type_}",
                        f"让用到它的地方都写同一个 typeRef (第一次在 {f.origin[0]} "
                        f'id="{f.origin[1]}")',
                        f"give it the same typeRef everywhere (first at {f.origin[0]} "
                        f'id="{f.origin[1]}")',
                    )
            expr = ast.Name(f.name) if expr is None else ast.Attr(expr, f.name)
            if not last:
                if f.record is None:
                    raise _Unsupported(
                        f"「{part}」不是结构, 不能写「{path}」",
                        f"'{part}' is not a structure: '{path}' cannot be read",
                    )
                record = f.record
        assert expr is not None
        return expr

    def input_data_type(self, name: str, record: _Record, where: tuple[str, str]) -> str | None:
        """The typeRef of the inputData called ``name`` (top-level names only)."""
        if record is not self.root_record or name not in self.inputs:
            return None
        data = self.inputs[name]
        var = self.child(data, "variable")
        type_ref = var.get("typeRef") if var is not None else None
        return self.type_of(type_ref, var if var is not None else data, where, name)

    def resolver(
        self, el: ET.Element, where: tuple[str, str], type_: str | None = None
    ) -> Resolver:
        """Resolves a qualified FEEL name to a decision's table (column) or an input field."""

        def resolve(parts: list[str]) -> ast.Expr:
            head = parts[0]
            if head in self.decision_names:
                expr: ast.Expr = ast.Name(self.decision_names[head])
                cols = self.decision_cols.get(head, {})
                for part in parts[1:]:
                    if part not in cols:
                        shown = "、".join(cols) or "(只有一个输出, 直接写决策名)"
                        shown_en = ", ".join(cols) or "(one output: use the decision's name)"
                        raise _Unsupported(
                            f"决策「{head}」没有输出「{part}」",
                            f"decision '{head}' has no output '{part}'",
                            f"可用: {shown}",
                            f"outputs: {shown_en}",
                        )
                    expr = ast.Attr(expr, cols[part])
                return expr
            return self.field(parts, type_, el, where)

        return resolve

    def feel(
        self, text: str, el: ET.Element, where: tuple[str, str], type_: str | None = None
    ) -> _Feel:
        return _Feel(text, self.resolver(el, where, type_), self.known)

    # -------------------------------------------------------------- the whole model
    def run(self) -> list[_Block]:
        for el in self.root:
            tag = _local(el.tag)
            if tag in ("businessKnowledgeModel", "decisionService"):
                kind_zh = "业务知识模型" if tag == "businessKnowledgeModel" else "决策服务"
                self.issue(
                    el,
                    ("", ""),
                    f"不支持{kind_zh} {tag} (「{el.get('name', '')}」)",
                    f"{tag} '{el.get('name', '')}' is not supported",
                    "只导入决策表和简单的字面表达式决策; 把它的逻辑写成决策表",
                    "only decision tables and simple literal-expression decisions are "
                    "imported; write its logic as a decision table",
                )
        for name, el in self.decisions.items():
            self.decision_names[name] = self.policy_name(name, what="决策 decision")
            table = self.child(el, "decisionTable")
            if table is not None:
                taken = set(reserved_names())
                self.decision_cols[name] = {
                    (out.get("name") or name): self.policy_name(out.get("name") or name, taken)
                    for out in self.children(table, "output")
                }
                for ie in table.iter(self.q("inputExpression")):
                    text = self.text_of(ie)
                    words = set(re.split(r"[\s.]+", text))
                    if re.fullmatch(r"[\w' .]+", text) and not words & FEEL_KEYWORDS:
                        self.known.extend(p.strip() for p in text.split("."))
        blocks: list[_Block] = []
        for index, (name, el) in enumerate(self.decisions.items(), start=1):
            where = (f"决策「{name}」", f"decision '{name}'")
            self.requirements(el, where)
            table = self.child(el, "decisionTable")
            literal = self.child(el, "literalExpression")
            if table is not None:
                blocks.append(self.decision_table(name, el, table, where, index))
            elif literal is not None:
                blocks.append(self.literal(name, el, literal, where))
            else:
                logic = [c for c in el if _local(c.tag) not in _SKIPPED_DECISION_CHILDREN]
                what = _local(logic[0].tag) if logic else ""
                self.issue(
                    logic[0] if logic else el,
                    where,
                    f"不支持的决策逻辑 {what}" if what else "决策没有逻辑",
                    f"decision logic {what} is not supported" if what else "the decision is empty",
                    "决策要用决策表 (decisionTable) 或简单的字面表达式 (literalExpression); "
                    "boxed context、invocation、relation、list、function 都不支持",
                    "a decision must be a decision table or a simple literal expression; boxed "
                    "contexts, invocations, relations, lists and functions are not supported",
                )
        return blocks

    def requirements(self, el: ET.Element, where: tuple[str, str]) -> None:
        expected = {"requiredDecision": "decision", "requiredInput": "inputData"}
        for req in el:
            tag = _local(req.tag)
            if tag == "knowledgeRequirement":
                self.issue(
                    req,
                    where,
                    "不支持业务知识模型 (knowledgeRequirement)",
                    "business knowledge models (knowledgeRequirement) are not supported",
                    "把业务知识模型的逻辑写进这个决策的决策表",
                    "write the logic of the business knowledge model into this decision's table",
                )
            if tag != "informationRequirement":
                continue
            for ref in req:
                kind = _local(ref.tag)
                href = (ref.get("href") or "").split("#")[-1]
                target = self.by_id.get(href)
                if target is None or _local(target.tag) != expected.get(kind, ""):
                    self.issue(
                        req,
                        where,
                        f"{kind} 指向的 #{href} 不存在",
                        f"{kind} points to #{href}, which does not exist",
                        "在建模工具里重新连上这条依赖",
                        "reconnect the requirement in the modeler",
                    )

    # -------------------------------------------------------------- a decision table
    def hit_of(self, table: ET.Element, where: tuple[str, str]) -> tuple[str, str | None, str]:
        hit_attr = (table.get("hitPolicy") or "UNIQUE").strip().upper()
        agg_attr = (table.get("aggregation") or "").strip().upper() or None
        shown = hit_attr + (f" {agg_attr}" if agg_attr else "")
        if hit_attr not in HIT_POLICIES:
            self.issue(
                table, where, f"不认识的命中策略「{hit_attr}」", f"unknown hit policy '{hit_attr}'"
            )
            return "unique", None, shown
        if agg_attr is not None and (hit_attr != "COLLECT" or agg_attr not in AGGREGATIONS):
            self.issue(
                table,
                where,
                f"汇总方式「{agg_attr}」只能用在 COLLECT 上, 且只能是 SUM、MIN、MAX、COUNT",
                f"aggregation '{agg_attr}' needs COLLECT and one of SUM, MIN, MAX, COUNT",
            )
            return HIT_POLICIES[hit_attr], None, shown
        return HIT_POLICIES[hit_attr], AGGREGATIONS.get(agg_attr or ""), shown

    def decision_table(
        self, name: str, el: ET.Element, table: ET.Element, where: tuple[str, str], index: int
    ) -> _Block:
        hit, aggregation, shown_hit = self.hit_of(table, where)
        self.shown_hits[name] = shown_hit
        if (table.get("preferredOrientation") or "Rule-as-Row") == "CrossTable":
            self.issue(
                table,
                where,
                "不支持交叉表 (CrossTable)",
                "cross tables (CrossTable) are not supported",
            )
        headers: list[ast.Expr] = []
        header_ids: list[tuple[str, str]] = []
        for inp in self.children(table, "input"):
            ie = self.child(inp, "inputExpression")
            if ie is None:
                self.issue(
                    inp, where, "输入没有 inputExpression", "the input has no inputExpression"
                )
                continue
            text = self.text_of(ie)
            header_ids.append(self.ident(ie))
            simple = re.fullmatch(r"[\w' .]+", text) is not None
            last = text.split(".")[-1].strip() if simple else inp.get("label") or "input"
            type_ = self.type_of(ie.get("typeRef"), ie, where, last, self.child(inp, "inputValues"))
            try:
                if not text:
                    raise _Unsupported("输入表达式是空的", "the input expression is empty")
                headers.append(self.feel(text, ie, where, type_ if simple else None).expression())
            except _Unsupported as exc:
                self.fail(ie, where, exc)
                headers.append(ast.Name("_"))
        outputs = self.children(table, "output")
        cols = self.decision_cols[name]
        out_cols: list[ast.OutCol] = []
        for k, out in enumerate(outputs):
            oname = out.get("name") or name
            type_ = self.type_of(
                out.get("typeRef"), out, where, f"{name}_{oname}", self.child(out, "outputValues")
            )
            if self.child(out, "defaultOutputEntry") is not None:
                self.issue(
                    out,
                    where,
                    "不支持默认输出 (defaultOutputEntry)",
                    "default outputs (defaultOutputEntry) are not supported",
                    "在表的最后加一条输入都写 - 的规则, 并改用 FIRST 或 PRIORITY",
                    "add a last rule with - in every input, and use FIRST or PRIORITY",
                )
            if hit in ("priority", "output_order"):
                if k == 0 and type_ not in self.enums:
                    self.issue(
                        out,
                        where,
                        f"{shown_hit} 要按输出的取值排序, 但输出「{oname}」没有 outputValues "
                        "(或不是 string)",
                        f"{shown_hit} ranks by the output's values, but output '{oname}' has "
                        "no outputValues (or is not a string)",
                        '给这个输出写上 outputValues, 如 "高","中","低" (优先的写在前面)',
                        'give the output outputValues such as "high","medium","low" (highest '
                        "priority first)",
                    )
                elif k > 0 and self.child(out, "outputValues") is not None:
                    self.warnings.append(
                        DmnIssue(
                            "output",
                            out.get("id", ""),
                            where[0],
                            where[1],
                            f"{shown_hit} 只按第一个输出的取值排序; 输出「{oname}」的 outputValues "
                            "不参与排序",
                            f"{shown_hit} ranks by the first output only; the outputValues of "
                            f"output '{oname}' are not used for ranking",
                            severity="warning",
                        )
                    )
            out_cols.append(
                ast.OutCol(cols[oname], ast.TypeRef(type_) if type_ is not None else None)
            )
        if aggregation in ("sum", "min", "max") and len(outputs) != 1:
            self.issue(
                table, where, f"{shown_hit} 只能有一个输出", f"{shown_hit} needs exactly one output"
            )
        if not outputs:
            self.issue(table, where, "决策表没有输出", "the decision table has no output")
        prefix = self.rule_prefix(name, index)
        rows: list[ast.Row] = []
        row_elements: list[list[tuple[str, str]]] = []
        rule_ids: list[str] = []
        for k, rule in enumerate(self.children(table, "rule"), start=1):
            rwhere = (f"决策「{name}」第 {k} 条规则", f"decision '{name}', rule {k}")
            entries = self.children(rule, "inputEntry")
            outs = self.children(rule, "outputEntry")
            if len(entries) != len(headers) or len(outs) != len(out_cols):
                self.issue(
                    rule,
                    rwhere,
                    f"这条规则有 {len(entries)} 个输入格、{len(outs)} 个输出格, 表有 "
                    f"{len(headers)} 个输入、{len(out_cols)} 个输出",
                    f"the rule has {len(entries)} input and {len(outs)} output entries; the "
                    f"table has {len(headers)} inputs and {len(out_cols)} outputs",
                )
                continue
            cells: list[ast.Cell] = []
            for entry in entries:
                try:
                    cells.append(self.feel(self.text_of(entry), entry, rwhere).unary_tests())
                except _Unsupported as exc:
                    self.fail(entry, rwhere, exc)
                    cells.append(ast.CellAny())
            values: list[ast.Expr] = []
            for entry in outs:
                text = self.text_of(entry)
                try:
                    if not text:
                        raise _Unsupported(
                            "输出格是空的 (DMN 里是 null)",
                            "the output entry is empty (null in DMN)",
                            "写上输出的值",
                            "write the output's value",
                        )
                    values.append(self.feel(text, entry, rwhere).expression())
                except _Unsupported as exc:
                    self.fail(entry, rwhere, exc)
                    values.append(ast.Number(Decimal(0)))
            notes = [self.text_of_plain(self.child(rule, "description"))]
            notes += [self.text_of(a) for a in self.children(rule, "annotationEntry")]
            message = "; ".join(n for n in notes if n) or None
            rid = f"{prefix}-{k}"
            rows.append(ast.Row(rid, tuple(cells), tuple(values), None, message))
            rule_ids.append(rule.get("id", ""))
            elements = [self.ident(rule), *map(self.ident, entries), *map(self.ident, outs)]
            row_elements.append([*elements, self.ident(rule)] if message else elements)
        if not rows:
            self.issue(table, where, "决策表没有规则", "the decision table has no rules")
        return self.table_block(
            name,
            el,
            table,
            hit,
            aggregation,
            shown_hit,
            headers,
            header_ids,
            out_cols,
            outputs,
            rows,
            row_elements,
            rule_ids,
        )

    @staticmethod
    def text_of_plain(el: ET.Element | None) -> str:
        return " ".join((el.text or "").split()) if el is not None else ""

    def table_block(
        self,
        name: str,
        el: ET.Element,
        table: ET.Element,
        hit: str,
        aggregation: str | None,
        shown_hit: str,
        headers: list[ast.Expr],
        header_ids: list[tuple[str, str]],
        out_cols: list[ast.OutCol],
        outputs: list[ET.Element],
        rows: list[ast.Row],
        row_elements: list[list[tuple[str, str]]],
        rule_ids: list[str],
    ) -> _Block:
        block = _Block()
        where_zh, where_en = f"决策「{name}」", f"decision '{name}'"
        block.add(f"# 决策「{name}」(id {el.get('id', '')}), 命中策略 {shown_hit}")
        policy = self.decision_names[name]
        hit_text = f"{hit} {aggregation}" if aggregation else hit
        block.add(
            f"table {policy} hit {hit_text} {{", _Where(where_zh, where_en, (self.ident(table),))
        )
        has_message = any(r.message is not None for r in rows)
        header = [
            "id",
            *(to_text(h) for h in headers),
            *(f"{c.name}: {c.type.name}" if c.type is not None else c.name for c in out_cols),
            *(["message"] if has_message else []),
        ]
        texts = [header]
        for r in rows:
            line = [r.rule_id, *(cell_text(c) for c in r.cells), *(to_text(o) for o in r.outputs)]
            if has_message:
                line.append(quote(r.message or ""))
            texts.append(line)
        split = 1 + len(headers)
        if len(header) < 2 or not rows:
            block.add("}")
            return block
        stops = column_stops(texts, split, 2)
        header_elements = [self.ident(table), *header_ids, *map(self.ident, outputs)]
        if has_message:
            header_elements.append(self.ident(table))
        block.add(
            "  " + row_line(header, split, stops, 2),
            _Where(where_zh, where_en, tuple(header_elements)),
        )
        for k, (line, elements, rule_id) in enumerate(
            zip(texts[1:], row_elements, rule_ids, strict=True), start=1
        ):
            rwhere = _Where(f"{where_zh}第 {k} 条规则", f"{where_en}, rule {k}", tuple(elements))
            comment = f"  # rule {rule_id}" if rule_id else ""
            block.add("  " + row_line(line, split, stops, 2) + comment, rwhere)
        block.add("}")
        return block

    # -------------------------------------------------------------- a literal expression
    def literal(
        self, name: str, el: ET.Element, literal: ET.Element, where: tuple[str, str]
    ) -> _Block:
        block = _Block()
        language = literal.get("expressionLanguage") or self.root.get("expressionLanguage")
        if language and "feel" not in language.lower():
            self.issue(
                literal,
                where,
                f"不支持表达式语言 {language}",
                f"expression language {language} is not supported",
            )
            return block
        text = self.text_of(literal)
        try:
            if not text:
                raise _Unsupported("字面表达式是空的", "the literal expression is empty")
            expr = self.feel(text, literal, where).expression()
        except _Unsupported as exc:
            exc.hint_zh = (
                exc.hint_zh
                or "字面表达式只支持名称、数值、文字、日期、算术、比较、and/or/not 和 if-then-else"
            )
            exc.hint_en = exc.hint_en or (
                "literal expressions may use names, numbers, text, dates, arithmetic, "
                "comparisons, and/or/not and if-then-else"
            )
            self.fail(literal, where, exc)
            return block
        var = self.child(el, "variable")
        type_ = self.type_of(
            var.get("typeRef") if var is not None else None,
            var if var is not None else el,
            where,
            name,
        )
        declared = f": {type_}" if type_ in ("number", "int", "bool", "date", "text") else ""
        block.add(f"# 决策「{name}」(id {el.get('id', '')}), 字面表达式 · literal expression")
        block.add(
            f"let {self.decision_names[name]}{declared} = {to_text(expr)}",
            _Where(f"决策「{name}」", f"decision '{name}'", (self.ident(literal),)),
        )
        return block

    # -------------------------------------------------------------- the policy text
    def render(self, blocks: Sequence[_Block], source: str) -> tuple[str, dict[int, _Where]]:
        """The whole policy, and what each of its lines (0-based) came from."""
        out = _Block()
        version = DMN_NAMESPACES.get(self.ns, "?")
        exporter = " ".join(
            v for v in (self.root.get("exporter"), self.root.get("exporterVersion")) if v
        )
        made = f"DMN {version}" + (f", {exporter}" if exporter else "")
        out.add("# 由 fanpin import-dmn 生成 / generated by fanpin import-dmn")
        out.add(f"#   来源 source: {source} ({made})")
        out.add("# 每个决策是一张同名的决策表 (或一个定义), 结果的 values 里按决策名给出它的输出。")
        out.add("# Each decision is a table (or a definition) of the same name; its output is in")
        out.add("# the result's values under that name.")
        if self.renamed:
            out.add("# 改写的名称 (DMN 名称 → 政策里的名称) / renamed (DMN name → policy name):")
            for what, dmn_name, policy_name in self.renamed:
                out.add(f"#   {what}: {dmn_name} → {policy_name}")
        title = self.root.get("name") or Path(source).stem
        out.add(f"policy {quote(title)} {{")
        out.add(f"  source {quote(source)}")
        out.add("}")
        for enum in self.enums.values():
            values = ", ".join(
                v
                if _NAME.fullmatch(v) and v not in reserved_names() and not _CAPS.fullmatch(v)
                else quote(v)
                for v in enum.values
            )
            out.add("")
            out.add(f"enum {enum.name} {{ {values} }}", _Where("", "", (enum.origin,)))
        for rec in [*self.records.values(), self.root_record]:
            out.add("")
            out.add(f"record {rec.name} {{")
            keys = [
                f.key if f.key == f.name else f"{quote(f.key)} {f.name}"
                for f in rec.fields.values()
            ]
            width = max((display_width(k) for k in keys), default=0)
            for key, f in zip(keys, rec.fields.values(), strict=True):
                pad = " " * (width - display_width(key))
                out.add(f"  {key}:{pad} {f.type}", _Where("", "", (f.origin,)))
            out.add("}")
        out.add(f"input {INPUT_RECORD}")
        for block in blocks:
            out.add("")
            base = len(out.lines)
            out.lines.extend(block.lines)
            out.where.update({base + k: w for k, w in block.where.items()})
        return "\n".join(out.lines) + "\n", out.where

    def inputs_of(self) -> tuple[tuple[str, str], ...]:
        found: list[tuple[str, str]] = []

        def walk(rec: _Record, prefix: str) -> None:
            for f in rec.fields.values():
                path = f"{prefix}{f.key}"
                if f.record is not None:
                    walk(f.record, path + ".")
                else:
                    found.append((path, f.type))

        walk(self.root_record, "")
        return tuple(found)


def _check(text: str, path: str) -> tuple[list[Diagnostic], bool]:
    try:
        module = parse(Source(path, text))
    except PolicySyntaxError as exc:
        return list(exc.diagnostics), False
    model, prior = build_model([module])
    try:
        checked = run_checks(model, prior, texts={path: text})
    except PolicyCheckError as exc:
        return list(exc.diagnostics), False
    return list(checked.diagnostics), True


def _read(path: Path) -> ET.Element:
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyLoadError(f"cannot read {path}: {exc.strerror}") from None
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise DmnError(
            name,
            [
                DmnIssue(
                    "definitions",
                    "",
                    "",
                    "",
                    "DMN 文件里不能有 DOCTYPE 或 ENTITY 声明 (为安全起见不读取)",
                    "a DMN file must not contain a DOCTYPE or ENTITY declaration (refused for "
                    "safety)",
                    "用建模工具重新导出这个文件",
                    "export the file again from the modeler",
                )
            ],
        )
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, col = exc.position
        reason = re.sub(r": line \d+, column \d+$", "", str(exc))
        raise DmnError(
            name,
            [
                DmnIssue(
                    "definitions",
                    "",
                    f"第 {line} 行第 {col + 1} 列",
                    f"line {line}, column {col + 1}",
                    f"不是合法的 XML: {reason}",
                    f"not well-formed XML: {reason}",
                    "用建模工具重新导出这个文件",
                    "export the file again from the modeler",
                )
            ],
        ) from None
    ns = _ns(root.tag)
    if _local(root.tag) != "definitions" or ns not in DMN_NAMESPACES:
        raise DmnError(
            name,
            [
                DmnIssue(
                    _local(root.tag),
                    root.get("id", ""),
                    "",
                    "",
                    f"不是 DMN 文件: 根元素是 {{{ns}}}{_local(root.tag)}",
                    f"not a DMN file: the root element is {{{ns}}}{_local(root.tag)}",
                    "需要 DMN 1.1–1.5 的 definitions (如 DMN 1.3: "
                    "https://www.omg.org/spec/DMN/20191111/MODEL/)",
                    "a DMN 1.1–1.5 definitions element is needed (DMN 1.3: "
                    "https://www.omg.org/spec/DMN/20191111/MODEL/)",
                )
            ],
        )
    return root


def import_dmn(path: str | Path, policy_path: str | Path | None = None) -> DmnImport:
    """Translate a DMN file into policy text, checked like any policy.

    ``policy_path`` is the name the text is checked (and its findings reported) under;
    by default the DMN file's name with ``.policy``.  Raises :class:`DmnError` listing
    every unsupported construct or checker error, each with the DMN element it concerns.
    """
    source = Path(path)
    root = _read(source)
    importer = _Importer(root)
    blocks = importer.run()
    if importer.issues:
        raise DmnError(source.name, importer.issues)
    target = str(policy_path or source.with_suffix(".policy").name)
    text, where = importer.render(blocks, source.name)
    diagnostics, ok = _check(text, target)
    lines = text.split("\n")
    found: list[DmnIssue] = []
    for d in diagnostics:
        if d.severity == "info" or (not ok and d.severity != "error"):
            continue
        span = d.span
        w = where.get(span.line - 1) if span is not None and span.line > 0 else None
        if w is not None and span is not None:
            tag, ident = w.element_at(lines[span.line - 1], span.col)
            found.append(
                DmnIssue(
                    tag,
                    ident,
                    w.zh,
                    w.en,
                    d.message_zh,
                    d.message_en,
                    d.hint_zh,
                    d.hint_en,
                    d.code,
                    d.severity,
                )
            )
        else:
            line = span.line if span is not None else 0
            found.append(
                DmnIssue(
                    "policy",
                    "",
                    f"生成的政策第 {line} 行",
                    f"line {line} of the generated policy",
                    d.message_zh,
                    d.message_en,
                    d.hint_zh,
                    d.hint_en,
                    d.code,
                    d.severity,
                )
            )
    if not ok:
        raise DmnError(source.name, found)
    decisions = tuple(
        DmnDecision(
            name, el.get("id", ""), importer.decision_names[name], importer.shown_hits.get(name)
        )
        for name, el in importer.decisions.items()
    )
    return DmnImport(text, decisions, importer.inputs_of(), (*importer.warnings, *found))
