"""Decision tables to and from spreadsheets (``fanpin export-xlsx`` / ``import-xlsx``).

Policy staff edit decision tables in Excel or WPS.  :func:`export_xlsx` writes one sheet
per table, and :func:`import_xlsx` puts the edited tables back into the policy files:

* row 1 names the table (``决策表 | labour_class | 命中 | first | 文件 | rules.policy``);
  the table is found by the name in B1, so a sheet may be renamed freely;
* the header row starts with ``id`` (or ``编号``): the condition columns hold the input
  expressions, a column headed ``||`` separates them from the output columns
  (``labour_class``, ``结论: 回头看结论``), and the ``说明`` / ``依据`` (``message`` /
  ``cite``) columns hold each row's message and citation as plain text;
* every other row is one table row, in order; empty rows are skipped.

Cells hold policy syntax (the same as between the ``|`` of a ``.policy`` table):
``-``, ``"文字"``, ``8300``, ``>= 监测收入基准``, ``[1..10)``, ``"a", "b"``,
``not("a")``.  Import collects every problem of every sheet first and reports them
all at once, each with its sheet and cell (:class:`SpreadsheetError`); it then checks
the whole policy with the new tables and writes nothing unless it checks.  Only the
text of the tables that changed is replaced: every other byte of the policy files stays
as it was, and inside a changed table the rows that did not change keep their text
(and their comments).

The round trip gives the same tables:

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "t.policy").write_text(
...     'record r { x: int  y: bool }\\ninput r\\n'
...     'table 等级 hit first {\\n  | id  | x   | y    || 等级  |\\n'
...     '  | G-1 | > 5 | true || "高"  |\\n  | G-2 | -   | -    || "低"  |\\n}\\n', "utf-8")
>>> export_xlsx(folder / "t.policy", folder / "t.xlsx")
('等级',)
>>> report = import_xlsx(folder / "t.xlsx", folder / "t.policy")
>>> report.changes, report.unchanged
((), ('等级',))
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
from lark import Lark, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.exceptions import VisitError

from fanpin_rules import ast
from fanpin_rules.builder import BadString, Builder
from fanpin_rules.check import run_checks
from fanpin_rules.check.context import CheckContext
from fanpin_rules.check.declarations import AGGREGATIONS, HIT_POLICIES
from fanpin_rules.check.typecheck import Typer
from fanpin_rules.errors import (
    Diagnostic,
    FanpinError,
    PolicyCheckError,
    PolicyLoadError,
    PolicySyntaxError,
)
from fanpin_rules.exprfmt import to_text
from fanpin_rules.model import build_model
from fanpin_rules.parser import grammar_text, load_modules, parse
from fanpin_rules.render import display_width, render_diagnostics, render_issue
from fanpin_rules.source import Source
from fanpin_rules.suggest import did_you_mean
from fanpin_rules.types import T

__all__ = [
    "README_SHEET",
    "SEPARATOR",
    "SHEET_MARK",
    "CellIssue",
    "ImportReport",
    "SpreadsheetError",
    "TableChange",
    "cell_text",
    "column_stops",
    "export_xlsx",
    "import_xlsx",
    "pipe_positions",
    "row_line",
    "row_texts",
]

SHEET_MARK = "决策表"
"""A1 of every table sheet; B1 holds the table's name."""
HIT_MARK = "命中"
FILE_MARK = "文件"
README_SHEET = "说明"
SEPARATOR = "||"
SEPARATORS = {"||", "｜｜", "‖"}
ID_HEADERS = ("id", "编号")
META_COLUMNS = {"message": "message", "说明": "message", "cite": "cite", "依据": "cite"}
DEFAULT_META = (("message", "说明"), ("cite", "依据"))
HEADER_SEARCH_ROWS = 10
"""The header row is the first row (after row 1) whose first cell is ``id``/``编号``."""
EXTRA_TEXT_ROWS = 50
"""Empty rows below a table formatted as text, so rows typed there stay text."""
MAX_SHEET_NAME = 31

_RULE_ID = re.compile(r"(?:[A-Z][A-Z0-9]*-[0-9]+[a-z]?|[A-Z]{2,})")
_CURLY_QUOTES = str.maketrans({"“": '"', "”": '"', "＂": '"'})

# ================================================================ errors


@attrs.frozen
class CellIssue:
    """One problem with one cell of one sheet (``cell`` is ``C7``, or empty for a sheet).

    >>> print(CellIssue("等级", "C5", "格子是空的", "the cell is empty", "写 -", "write -")
    ...       .render("t.xlsx", "zh"))
    t.xlsx 工作表「等级」C5: 格子是空的
      = 提示: 写 -
    """

    sheet: str
    cell: str
    message_zh: str
    message_en: str
    hint_zh: str = ""
    hint_en: str = ""
    code: str = ""
    severity: str = "error"

    def render(self, workbook: str, lang: str = "zh") -> str:
        en = lang == "en"
        where = (
            f"{workbook} sheet '{self.sheet}'" + (f" {self.cell}" if self.cell else "")
            if en
            else f"{workbook} 工作表「{self.sheet}」" + (self.cell or "")
        )
        return render_issue(
            where,
            self.severity,
            self.code,
            self.message_en if en else self.message_zh,
            self.hint_en if en else self.hint_zh,
            lang,
        )


class SpreadsheetError(FanpinError):
    """The workbook cannot be imported: every cell-level problem, and the policy
    diagnostics that do not belong to a cell (rendered against the would-be text)."""

    def __init__(
        self,
        workbook: str,
        issues: Sequence[CellIssue],
        diagnostics: Sequence[Diagnostic] = (),
        texts: Mapping[str, str] | None = None,
    ) -> None:
        self.workbook = workbook
        self.issues = tuple(issues)
        self.diagnostics = tuple(diagnostics)
        self.texts = dict(texts or {})
        super().__init__(self.render("en"))

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.workbook, self.issues, self.diagnostics, self.texts))

    def render(self, lang: str = "zh") -> str:
        parts = [i.render(self.workbook, lang) for i in self.issues]
        if self.diagnostics:
            parts.append(render_diagnostics(self.diagnostics, self.texts, lang))
        n = len(self.issues) + sum(1 for d in self.diagnostics if d.severity == "error")
        if lang == "en":
            parts.append(f"{n} problem(s); nothing was written")
        else:
            parts.append(f"{n} 个问题; 政策文件没有改动")
        return "\n".join(parts)


def _missing_openpyxl() -> FanpinError:
    return PolicyLoadError(
        "读写 XLSX 文件需要 openpyxl: pip install 'fanpin_rules[xlsx]' / "
        "XLSX files need openpyxl: pip install 'fanpin_rules[xlsx]'"
    )


def _openpyxl() -> Any:
    try:
        return importlib.import_module("openpyxl")
    except ImportError:
        raise _missing_openpyxl() from None


# ================================================================ cells as text


def _sum_level(e: ast.Expr) -> str:
    """An expression where the grammar wants a ``sum_expr`` (a cell value)."""
    text = to_text(e)
    simple = (ast.Number, ast.Date, ast.String, ast.Bool, ast.SetLit, ast.Name, ast.RuleRef)
    if isinstance(e, (*simple, ast.Attr, ast.Call, ast.BinOp, ast.Neg)):
        return text
    return f"({text})"


def _test_text(t: ast.UnaryTest) -> str:
    if isinstance(t, ast.TestCompare):
        return f"{t.op} {_sum_level(t.value)}"
    if isinstance(t, ast.TestRange):
        low = "[" if t.low_closed else "("
        high = "]" if t.high_closed else ")"
        return f"{low}{_sum_level(t.low)}..{_sum_level(t.high)}{high}"
    return _sum_level(t.value)


def cell_text(cell: ast.Cell) -> str:
    """A condition cell as policy text.

    >>> from decimal import Decimal as D
    >>> cell_text(ast.CellTests((ast.TestRange(ast.Number(D(1)), ast.Number(D(10)), True,
    ...                                        False), ast.TestEqual(ast.String("a")))))
    '[1..10), "a"'
    >>> cell_text(ast.CellTests((ast.TestCompare("<", ast.Number(D(5))),), negated=True))
    'not(< 5)'
    """
    if isinstance(cell, ast.CellAny):
        return "-"
    tests = ", ".join(_test_text(t) for t in cell.tests)
    return f"not({tests})" if cell.negated else tests


def _outcol_text(col: ast.OutCol) -> str:
    if col.type is None:
        return col.name
    t = col.type
    return f"{col.name}: {t.name} of {t.of}" if t.of else f"{col.name}: {t.name}"


def _hit_text(hit: str, aggregation: str | None) -> str:
    return f"{hit} {aggregation}" if aggregation else hit


def row_texts(
    table: ast.TableDecl,
) -> tuple[list[str], list[str], list[tuple[str, list[str], list[str], str | None, str | None]]]:
    """A table as texts: condition headers, output headers and each row's
    ``(id, condition cells, output cells, message, cite)``.

    >>> from fanpin_rules.parser import parse
    >>> t = parse('table t hit first { | id | a || b | message |\\n'
    ...           '  | T-1 | >= 1 || "x" | "m" | }').items[0]
    >>> row_texts(t)
    (['a'], ['b'], [('T-1', ['>= 1'], ['"x"'], 'm', None)])
    """
    ins = [to_text(e) for e in table.inputs]
    outs = [_outcol_text(c) for c in table.outputs]
    rows = [
        (
            r.rule_id,
            [cell_text(c) for c in r.cells],
            [to_text(o) for o in r.outputs],
            r.message,
            r.cite,
        )
        for r in table.rows
    ]
    return ins, outs, rows


# ================================================================ parsing cells


@functools.cache
def _cell_parser() -> Lark:
    # The grammar's own rules, entered at a cell, an expression or a header.
    return Lark(
        grammar_text(),
        parser="lalr",
        propagate_positions=True,
        strict=True,
        maybe_placeholders=False,
        start=["cell", "expr", "out_col", "table_header"],
    )


class _CellSyntax(Exception):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


CONDITION_HINT = (
    '条件格可以写: -、"文字"、8300、>= 8300、[1..10)、"a", "b"、not("a") (文字要加英文双引号)',
    'a condition cell holds -, "text", 8300, >= 8300, [1..10), "a", "b" or not("a") '
    "(text in double quotes)",
)
OUTPUT_HINT = (
    '结论格写一个值: "文字"、8300、true、{"a", "b"} 或一个名称 (文字要加英文双引号)',
    'an output cell holds one value: "text", 8300, true, {"a", "b"} or a name '
    "(text in double quotes)",
)
HEADER_HINT = (
    "条件列的表头是一个表达式, 如 人均纯收入、monitoring.eliminated、risk_types is not empty",
    "a condition header is an expression such as 人均纯收入, monitoring.eliminated or "
    "risk_types is not empty",
)
OUTCOL_HINT = (
    "结论列的表头是一个名称, 可以带类型: labour_class 或 结论: 回头看结论",
    "an output header is a name, optionally with a type: labour_class or 结论: 回头看结论",
)


def _parse_text(text: str, start: str) -> Any:
    """Parse one cell's text with the grammar rule ``start``; raise _CellSyntax."""
    try:
        tree = _cell_parser().parse(text, start=start)
        return Builder("<cell>").transform(tree)
    except UnexpectedCharacters as exc:
        pos = exc.pos_in_stream or 0
        ch = text[pos] if pos < len(text) else ""
        if ch == "'":
            raise _CellSyntax(
                "文字要用英文双引号 \" 括起来, 不能用单引号 '",
                "text is written in double quotes \", not single quotes '",
            ) from None
        if ch == '"':
            raise _CellSyntax("引号没有配对", "a quotation mark is not closed") from None
        if ch == "=":
            raise _CellSyntax(
                "条件格里「等于」直接写值, 不写 =", "for 'equals' write the value alone, without ="
            ) from None
        raise _CellSyntax(
            f"第 {exc.column} 个字符「{ch}」不能出现在这里",
            f"character {exc.column} '{ch}' cannot appear here",
        ) from None
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            raise _CellSyntax("写到一半就结束了", "it ends too early") from None
        if tok.type == "_DOTDOT" or (start == "cell" and ".." in text and "[" not in text):
            raise _CellSyntax(
                "区间要加括号: [1..10] 或 [1..10)",
                "a range needs brackets, as in [1..10] or [1..10)",
            ) from None
        if tok.type == "EQ":
            raise _CellSyntax(
                "条件格里「等于」直接写值, 不写 =", "for 'equals' write the value alone, without ="
            ) from None
        if tok.type in ("_PIPE", "DPIPE"):
            raise _CellSyntax(
                "格子里不能有竖线 |, 每个格子只写一个条件或结论",
                "a cell cannot contain |: each cell holds one condition or output",
            ) from None
        raise _CellSyntax(
            f"在「{tok}」处读不下去 (第 {tok.column} 个字符)",
            f"unexpected '{tok}' (character {tok.column})",
        ) from None
    except UnexpectedInput:
        raise _CellSyntax("读不懂", "cannot be read") from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, BadString):
            raise _CellSyntax(
                "引号里有不认识的反斜杠 \\ 转义",
                "the text has a backslash escape JSON does not allow",
            ) from None
        raise


def parse_cell(text: str) -> ast.Cell:
    r"""A condition cell's text as a cell (the grammar's ``cell`` rule).

    >>> parse_cell('>= 8300')
    CellTests(tests=(TestCompare(op='>=', value=Number(value=Decimal('8300'))),), negated=False)
    >>> parse_cell('= 5')
    Traceback (most recent call last):
    ...
    fanpin_rules.spreadsheet._CellSyntax: for 'equals' write the value alone, without =
    """
    return _parse_text(text, "cell")  # type: ignore[no-any-return]


# ================================================================ the policy's tables in text


def _code_chars(text: str, start: int, end: int) -> Iterator[int]:
    """Offsets in ``text[start:end]`` outside strings and comments."""
    i = start
    while i < end:
        c = text[i]
        if c == '"':
            i += 1
            while i < end and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
            i += 1
            continue
        if c == "#":
            while i < end and text[i] != "\n":
                i += 1
            continue
        yield i
        i += 1


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _line_end(text: str, pos: int) -> int:
    """The offset just after the newline of the line holding ``pos`` (or the end)."""
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl + 1


def _offset(line_starts: Sequence[int], line: int, col: int) -> int:
    return line_starts[line - 1] + col - 1


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(i + 1 for i, c in enumerate(text) if c == "\n")
    return starts


def _comment_after(text: str, start: int, end: int) -> str | None:
    """The comment in ``text[start:end]`` (the rest of a line), when there is only that."""
    rest = text[start:end].rstrip("\r\n")
    stripped = rest.strip()
    if not stripped:
        return ""
    if stripped.startswith("#"):
        return stripped
    return None


def pipe_positions(line: str) -> list[tuple[int, int]]:
    """``(offset, length)`` of every ``|`` / ``||`` of a table line (outside strings)."""
    found: list[tuple[int, int]] = []
    offsets = list(_code_chars(line, 0, len(line)))
    k = 0
    while k < len(offsets):
        i = offsets[k]
        if line[i] in "|｜":
            double = i + 1 < len(line) and line[i + 1] == line[i] and k + 1 < len(offsets)
            found.append((i, 2 if double else 1))
            k += 2 if double else 1
        else:
            k += 1
    return found


@attrs.frozen
class _RowText:
    rule_id: str
    lead: str  # the lines between the previous row (or header) and this one
    text: str  # the row's line(s), without its trailing comment and newline
    comment: str  # its trailing comment ("" if none)


@attrs.frozen
class _TableText:
    """Where a table sits in its file's text, and the layout facts import keeps."""

    path: str
    table: ast.TableDecl
    start: int
    end: int
    header_start: int  # the header's first |
    header_end: int  # end of the header's last line (after the newline)
    header_comment: str
    header_at_line_start: bool
    rows: tuple[_RowText, ...]
    tail_start: int  # after the last row's line: trailing lines and the closing }
    id_header: str
    meta: tuple[tuple[str, str], ...]  # (kind, column name) in header order
    out_order: tuple[str, ...]  # "out0", "message"… : the header's output columns in order
    indent: str
    by_line: bool  # one row per line, so rows can be kept or replaced one by one
    stops: tuple[int, ...] | None  # display columns of the header's pipes
    hit_start: int
    hit_end: int


def _locate(path: str, text: str, table: ast.TableDecl, starts: Sequence[int]) -> _TableText:
    start = _offset(starts, table.span.line, table.span.col)
    end = _offset(starts, table.span.end_line, table.span.end_col)
    first_row = _offset(starts, table.rows[0].span.line, table.rows[0].span.col)
    lbrace = next(i for i in _code_chars(text, start, end) if text[i] in "{｛")
    header_start = next(i for i in _code_chars(text, lbrace + 1, end) if text[i] in "|｜")
    header = _cell_parser().parse(text[header_start:first_row], start="table_header")
    built: Any = Builder(path).transform(header)
    meta = tuple((META_COLUMNS[c.name], c.name) for c in built.outputs if c.name in META_COLUMNS)
    out_order: list[str] = []
    for c in built.outputs:
        kind = META_COLUMNS.get(c.name)
        out_order.append(kind if kind else f"out{sum(o.startswith('out') for o in out_order)}")
    id_match = re.match(r"[|｜]\s*(\w+)", text[header_start:first_row])
    id_header = id_match.group(1) if id_match else "id"
    header_line = _line_start(text, header_start)
    header_at_line_start = not text[header_line:header_start].strip()
    # the header ends at the last | before the first row
    code = [i for i in _code_chars(text, header_start, first_row) if not text[i].isspace()]
    header_last = code[-1] + 1
    header_end = _line_end(text, header_last)
    header_comment = _comment_after(text, header_last, header_end)
    if header_comment is None:  # the first row (or more) follows on the header's line
        header_end = header_last
    by_line = header_comment is not None and first_row >= header_end
    rows: list[_RowText] = []
    prev_end = header_end
    for row in table.rows:
        r_start = _offset(starts, row.span.line, row.span.col)
        r_end = _offset(starts, row.span.end_line, row.span.end_col)
        line_start = _line_start(text, r_start)
        line_end = _line_end(text, r_end)
        comment = _comment_after(text, r_end, line_end)
        if comment is None:  # another row or the closing } follows on this line
            line_end = r_end
        if text[line_start:r_start].strip() or comment is None or line_start < prev_end:
            by_line = False
            comment = comment or ""
            line_start = max(line_start, prev_end)
        rows.append(
            _RowText(
                row.rule_id,
                text[prev_end:line_start],
                text[line_start:r_end],
                comment,
            )
        )
        prev_end = line_end
    first_line_start = _line_start(text, first_row)
    indent = text[first_line_start:first_row] if by_line else "  "
    stops: tuple[int, ...] | None = None
    if by_line and header_at_line_start and "\n" not in text[header_start:header_last]:
        line = text[header_line:header_last]
        stops = (*(display_width(line[:i]) for i, _ in pipe_positions(line)), display_width(line))
    hit_start = _offset(starts, table.hit_span.line, table.hit_span.col)
    agg = table.aggregation_span if table.aggregation else table.hit_span
    hit_end = _offset(starts, agg.end_line, agg.end_col)
    return _TableText(
        path,
        table,
        start,
        end,
        header_start,
        header_end,
        header_comment or "",
        header_at_line_start,
        tuple(rows),
        prev_end,
        id_header,
        meta,
        tuple(out_order),
        indent,
        by_line,
        stops,
        hit_start,
        hit_end,
    )


@attrs.frozen
class _PolicyFiles:
    """The raw text of every file of a policy (BOM and line ends as they are)."""

    root: Path
    texts: dict[str, str]
    boms: dict[str, bool]
    modules: tuple[ast.Module, ...]
    tables: dict[str, _TableText]

    def shown(self, path: str) -> str:
        try:
            return Path(path).resolve().relative_to(self.root.resolve().parent).as_posix()
        except ValueError:
            return Path(path).as_posix()


def _read_raw(path: str) -> tuple[str, bool]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyLoadError(f"cannot read policy file {path}: {exc.strerror}") from None
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8-sig"), bom
    except UnicodeDecodeError:
        raise PolicyLoadError(
            f"{path}: 文件不是 UTF-8 编码 / the file is not UTF-8 text; save it as UTF-8"
        ) from None


def _read_policy(path: str | Path) -> _PolicyFiles:
    """Every file of the policy, parsed from its raw text (spans match the bytes)."""
    modules, _ = load_modules(path)
    texts: dict[str, str] = {}
    boms: dict[str, bool] = {}
    parsed: list[ast.Module] = []
    tables: dict[str, _TableText] = {}
    for m in modules:
        text, bom = _read_raw(m.path)
        texts[m.path], boms[m.path] = text, bom
        module = parse(Source(m.path, text))
        parsed.append(module)
        starts = _line_starts(text)
        for item in module.items:
            if isinstance(item, ast.TableDecl) and item.name not in tables:
                tables[item.name] = _locate(m.path, text, item, starts)
    return _PolicyFiles(Path(path), texts, boms, tuple(parsed), tables)


# ================================================================ export


def _column_letter(n: int) -> str:
    """1 -> A, 27 -> AA.

    >>> _column_letter(1), _column_letter(26), _column_letter(28)
    ('A', 'Z', 'AB')
    """
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _sheet_names(names: Iterable[str]) -> dict[str, str]:
    """A valid, unique sheet name (at most 31 characters) per table."""
    used = {README_SHEET.casefold()}
    out: dict[str, str] = {}
    for name in names:
        candidate = name[:MAX_SHEET_NAME]
        n = 2
        while candidate.casefold() in used:
            suffix = f"~{n}"
            candidate = name[: MAX_SHEET_NAME - len(suffix)] + suffix
            n += 1
        used.add(candidate.casefold())
        out[name] = candidate
    return out


README_LINES_ZH = (
    "决策表的电子表格: 每个工作表是政策里的一张决策表",
    "",
    "第 1 行: B1 是决策表的名字 (导入时按它找表, 请不要改; 工作表本身可以改名), D1 是命中策略 "
    "(first、unique、any、priority、rule_order、output_order、collect、collect sum …)。",
    "表头行 (第一格是 id 或 编号): 左边是条件列, 表头是条件的表达式; 深色的 || 列把条件和结论分开; "
    "右边是结论列; 「说明」「依据」两列是每一行的说明文字和原文出处。",
    "下面每一行是决策表的一行, 从上到下的顺序就是表里的顺序 "
    "(first、rule_order 等命中策略与顺序有关)。",
    "",
    "怎样修改:",
    "  · 改一个格子: 直接改。条件格和结论格的写法与 .policy 文件里 | 和 | 之间的写法相同。",
    "  · 加一行: 在表里插入一行, 第一格写一个新的、不重复的规则编号 (大写字母-数字, 如 LC-4)。",
    "  · 删一行: 删掉整行 (空行会被跳过)。",
    "  · 加一个条件列: 在 || 列左边插入一列, 表头写条件的表达式, 每一行都要填。",
    "",
    "条件格的写法:",
    "  -                 不限 (任何值都可以)",
    '  "LC-1"            等于这段文字 (文字要加英文双引号 "; 中文引号 “” 也会被认出)',
    "  8300  true  2024-01-01   等于这个数、是/否、日期",
    "  >= 8300   < 监测收入基准   比较 (< <= > >= !=), 右边可以是参数或定义的名字",
    "  [1..10]  [1..10)  (0..5]   区间: 方括号含端点, 圆括号不含",
    '  "LC-2", "LC-3"    几个值中的任一个 (用逗号分隔)',
    '  not("LC-1")       都不是这些值',
    '结论格: 一个值, 如 "LC-1"、500、true、{"就业帮扶"} 或一个定义的名字。',
    "说明、依据两列: 直接写文字, 不加引号。",
    "",
    "改好后保存为 .xlsx, 然后运行:",
    "  fanpin import-xlsx 文件.xlsx --into 政策.policy",
    "导入时会一次列出所有问题 (工作表、格子、原因和改法), 并重新检查整份政策; "
    "有错误时不会改动政策文件。没有改动的表和行保持原样。",
)
README_LINES_EN = (
    "",
    "English summary",
    "Each sheet is one decision table of the policy. B1 names the table (import finds the "
    "table by it); D1 is the hit policy. In the header row (first cell id/编号), condition "
    "columns hold input expressions, the dark || column separates them from the outputs, "
    "and 说明/依据 hold each row's message and citation as plain text.",
    'Cells use the policy syntax: -, "text", 8300, >= 8300, [1..10), "a", "b", not("a"). '
    "Rows are in table order; add a row with a new unique id, delete a row by deleting it.",
    "Import with: fanpin import-xlsx FILE.xlsx --into POLICY.policy. Every problem is listed "
    "with its sheet and cell; the policy is re-checked and nothing is written unless it checks.",
)


def export_xlsx(
    policy: str | Path, output: str | Path, tables: Sequence[str] | None = None
) -> tuple[str, ...]:
    """Write the policy's decision tables (or the named ones) to an XLSX workbook.

    Returns the names of the tables written, in policy order.  Raises
    :class:`~fanpin_rules.errors.PolicyLoadError` for an unknown table name or a policy
    without tables, and the usual syntax errors when the policy does not parse.
    """
    files = _read_policy(policy)
    chosen = list(files.tables)
    if tables:
        for name in tables:
            if name not in files.tables:
                hz, he = did_you_mean(name, files.tables)
                raise PolicyLoadError(
                    f"政策里没有决策表「{name}」{hz} / "
                    f"the policy has no table '{name}' {he}".strip()
                )
        chosen = [n for n in chosen if n in tables]
    if not chosen:
        raise PolicyLoadError(f"{policy}: 政策里没有决策表 / the policy has no decision tables")
    openpyxl = _openpyxl()
    styles = importlib.import_module("openpyxl.styles")
    wb = openpyxl.Workbook()
    readme = wb.active
    readme.title = README_SHEET
    for i, line in enumerate((*README_LINES_ZH, *README_LINES_EN), start=1):
        readme.cell(row=i, column=1, value=line)
    readme.column_dimensions["A"].width = 120
    readme["A1"].font = styles.Font(bold=True, size=14)
    names = _sheet_names(chosen)
    hints = _column_hints(files)
    for name in chosen:
        _write_sheet(wb.create_sheet(names[name]), files.tables[name], files, styles, hints[name])
    out = Path(output)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        wb.save(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PolicyLoadError(f"cannot write {out}: {exc.strerror}") from None
    return tuple(chosen)


MAX_HINT_VALUES = 6


def _type_hint(t: T, enums: Mapping[str, ast.EnumDecl]) -> str:
    """What a column holds, for the grey hint row: 金额, 是/否 (true/false), 枚举 (a, b…).

    >>> _type_hint(T("bool"), {})
    '是/否 (true/false)'
    """
    if t.kind == "bool":
        return "是/否 (true/false)"
    if t.kind == "enum" and t.name is not None and t.name in enums:
        values = [m.value for m in enums[t.name].members]
        more = ", …" if len(values) > MAX_HINT_VALUES else ""
        return f"枚举 ({', '.join(values[:MAX_HINT_VALUES])}{more})"
    return "" if t.kind == "any" else t.show()


def _column_hints(files: _PolicyFiles) -> dict[str, tuple[list[str], list[str]]]:
    """The type of every condition and output column of every table, as hint texts."""
    model, _ = build_model(files.modules)
    typer = Typer(model, CheckContext(model))
    hints: dict[str, tuple[list[str], list[str]]] = {}
    for name, table in model.tables.items():
        ins = [_type_hint(typer.infer(e, ()), model.enums) for e in table.inputs]
        typer.table_type(name, table.span)
        cols = typer.ctx.table_columns.get(name, {})
        outs = [
            _type_hint(cols[c.name], model.enums) if c.name in cols else "" for c in table.outputs
        ]
        hints[name] = (ins, outs)
    return hints


_FILL = {
    "mark": "D9D9D9",
    "id": "F2F2F2",
    "in": "DDEBF7",
    "sep": "404040",
    "out": "E2EFDA",
    "meta": "FFF2CC",
}


def _write_sheet(
    ws: Any,
    where: _TableText,
    files: _PolicyFiles,
    styles: Any,
    hints: tuple[list[str], list[str]],
) -> None:
    table = where.table
    ins, outs, rows = row_texts(table)
    meta_names = dict(where.meta) if where.meta else {}
    meta = [(kind, meta_names.get(kind, default)) for kind, default in DEFAULT_META]
    fill = {k: styles.PatternFill("solid", fgColor=v) for k, v in _FILL.items()}
    bold = styles.Font(bold=True)

    def put(r: int, c: int, value: str | None, kind: str | None = None, text: bool = True) -> Any:
        cell = ws.cell(row=r, column=c)
        cell.value = value
        if value is not None:
            cell.data_type = "s"  # never a formula, even when it starts with =
        if text:
            cell.number_format = "@"
        if kind is not None:
            cell.fill = fill[kind]
        return cell

    put(1, 1, SHEET_MARK, "mark").font = bold
    put(1, 2, table.name).font = bold
    put(1, 3, HIT_MARK, "mark").font = bold
    put(1, 4, _hit_text(table.hit, table.aggregation))
    put(1, 5, FILE_MARK, "mark").font = bold
    put(1, 6, files.shown(where.path))
    in_hints, out_hints = hints
    hint_row = [
        "规则编号",
        *(f"条件 · {h}" if h else "条件" for h in in_hints),
        "",
        *(f"结论 · {h}" if h else "结论" for h in out_hints),
        "说明文字 (不加引号)",
        "原文出处 (不加引号)",
    ]
    header = [where.id_header, *ins, SEPARATOR, *outs, *(n for _, n in meta)]
    kinds = ["id", *["in" for _ in ins], "sep", *["out" for _ in outs], "meta", "meta"]
    for c, (hint, head, kind) in enumerate(zip(hint_row, header, kinds, strict=True), start=1):
        put(2, c, hint or None).font = styles.Font(italic=True, color="808080")
        h = put(3, c, head, kind)
        h.font = styles.Font(bold=True, color="FFFFFF") if kind == "sep" else bold
    sep_col = len(ins) + 2
    widths = [display_width(h) for h in header]
    for r, (rid, cells, values, message, cite) in enumerate(rows, start=4):
        line = [rid, *cells, None, *values, message, cite]
        for c, value in enumerate(line, start=1):
            put(r, c, value, "sep" if c == sep_col else None)
            if value is not None:
                widths[c - 1] = max(widths[c - 1], display_width(value))
    last = 4 + len(rows)
    for r in range(last, last + EXTRA_TEXT_ROWS):
        for c in range(1, len(header) + 1):
            put(r, c, None, "sep" if c == sep_col else None)
    for c, w in enumerate(widths, start=1):
        letter = _column_letter(c)
        ws.column_dimensions[letter].width = 3 if c == sep_col else min(60, max(8, w + 2))
    ws.freeze_panes = "B4"


# ================================================================ import: reading sheets


def _cell_value(v: object) -> str | None:
    """A cell's value as text (numbers, booleans and dates as the policy writes them)."""
    if v is None:
        return None
    if isinstance(v, bool):
        text = "true" if v else "false"
    elif isinstance(v, int):
        text = str(v)
    elif isinstance(v, float):
        d = Decimal(repr(v))
        text = str(int(d)) if d == d.to_integral_value() else format(d.normalize(), "f")
    elif isinstance(v, dt.datetime):
        text = v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    elif isinstance(v, dt.date):
        text = v.isoformat()
    else:
        text = str(v)
    text = text.strip()
    return text or None


def _policy_text(text: str) -> str:
    """A condition or output cell: one line; curly quotes from an input method as ``"``."""
    text = " ".join(text.split())
    return text if '"' in text else text.translate(_CURLY_QUOTES)


@attrs.frozen
class _SheetRow:
    excel_row: int
    rule_id: str
    cells: tuple[ast.Cell, ...]
    outputs: tuple[ast.Expr, ...]
    message: str | None
    cite: str | None


@attrs.frozen
class _Sheet:
    """One sheet, read and checked cell by cell (problems in ``issues``)."""

    title: str
    table_name: str
    hit: tuple[str, str | None] | None  # None: keep the policy's
    hit_cell: str
    header_row: int
    inputs: tuple[ast.Expr, ...]
    outputs: tuple[ast.OutCol, ...]
    meta: tuple[tuple[str, str], ...]  # (kind, header text) in column order
    id_header: str
    rows: tuple[_SheetRow, ...]
    letters: dict[str, str]  # "id", "in0", "out0", "message", "cite" -> column letter


class _Reader:
    """Turns sheets into tables; every problem becomes a CellIssue."""

    def __init__(self, tables: Mapping[str, _TableText]) -> None:
        self.tables = tables
        self.issues: list[CellIssue] = []
        self.claimed: dict[str, str] = {}  # table name -> sheet title
        self.sheets: list[str] = []  # titles in workbook order

    def order(self, issue: CellIssue) -> tuple[int, int, int, str]:
        """Sheet by sheet, then row by row, then left to right."""
        m = re.fullmatch(r"([A-Z]+)(\d+)", issue.cell)
        letters, row = (m.group(1), int(m.group(2))) if m else ("", 0)
        return (self.sheets.index(issue.sheet), row, len(letters), letters)

    def issue(self, sheet: str, cell: str, zh: str, en: str, hz: str = "", he: str = "") -> None:
        self.issues.append(CellIssue(sheet, cell, zh, en, hz, he))

    def sheet(self, title: str, grid: list[list[str | None]]) -> _Sheet | None:
        def at(r: int, c: int) -> str | None:
            if r - 1 < len(grid) and c - 1 < len(grid[r - 1]):
                return grid[r - 1][c - 1]
            return None

        if at(1, 1) not in (SHEET_MARK, "table"):
            return None
        name = at(1, 2)
        if name is None:
            self.issue(
                title,
                "B1",
                "B1 是空的, 这里应是决策表的名字",
                "B1 is empty; it should hold the name of the table",
                f"写上决策表的名字, 可用: {'、'.join(self.tables)}",
                f"write the table's name; tables: {', '.join(self.tables)}",
            )
            return None
        if name not in self.tables:
            hz, he = did_you_mean(name, self.tables)
            self.issue(
                title,
                "B1",
                f"政策里已经没有决策表「{name}」",
                f"the policy has no table '{name}' any more",
                hz or "删掉这个工作表, 或先在政策里加上这张决策表, 或把 B1 改成现有的表名",
                he
                or "delete this sheet, add the table to the policy first, or put an "
                "existing table's name in B1",
            )
            return None
        if name in self.claimed:
            self.issue(
                title,
                "B1",
                f"决策表「{name}」已经在工作表「{self.claimed[name]}」里了",
                f"table '{name}' is already on sheet '{self.claimed[name]}'",
                "一张决策表只能有一个工作表; 删掉其中一个",
                "a table can have only one sheet; delete one of them",
            )
            return None
        self.claimed[name] = title
        before = len(self.issues)
        hit, hit_cell = self.hit(title, grid[0])
        header_row = next(
            (r for r in range(2, HEADER_SEARCH_ROWS + 1) if at(r, 1) in ID_HEADERS), None
        )
        if header_row is None:
            self.issue(
                title,
                "A3",
                "找不到表头行: 表头行的第一格要写 id 或 编号",
                "no header row: the header row's first cell must be id or 编号",
                "从导出的文件里把表头行复制回来",
                "copy the header row back from the exported file",
            )
            return None
        width = max((len(r) for r in grid), default=0)
        heads = [at(header_row, c) for c in range(1, width + 1)]
        seps = [c for c, h in enumerate(heads, start=1) if h in SEPARATORS]
        hcell = f"{_column_letter(1)}{header_row}"
        if not seps:
            self.issue(
                title,
                hcell.replace("A", "B", 1),
                "表头行里没有 || 列 (条件列和结论列之间的分隔列)",
                "the header row has no || column (between the conditions and the outputs)",
                "在条件列和结论列之间插入一列, 表头写 ||",
                "insert a column headed || between the conditions and the outputs",
            )
            return None
        sep = seps[0]
        for extra in seps[1:]:
            self.issue(
                title,
                f"{_column_letter(extra)}{header_row}",
                "表头行里有两个 || 列",
                "the header row has a second || column",
                "只保留一个 || 列",
                "keep one || column",
            )
        letters: dict[str, str] = {"id": "A"}
        inputs: list[ast.Expr] = []
        for c in range(2, sep):
            letter = _column_letter(c)
            text = heads[c - 1]
            letters[f"in{len(inputs)}"] = letter
            if text is None:
                self.issue(
                    title,
                    f"{letter}{header_row}",
                    "条件列没有表头",
                    "a condition column has no header",
                    HEADER_HINT[0] + "; 不要的列请整列删除",
                    HEADER_HINT[1] + "; delete a column you do not need",
                )
                inputs.append(ast.Name("?"))
                continue
            try:
                inputs.append(_parse_text(_policy_text(text), "expr"))
            except _CellSyntax as exc:
                self.issue(
                    title,
                    f"{letter}{header_row}",
                    f"条件列的表头「{text}」不是合法的表达式: {exc.zh}",
                    f"condition header '{text}' is not a valid expression: {exc.en}",
                    *HEADER_HINT,
                )
                inputs.append(ast.Name("?"))
        outputs: list[ast.OutCol] = []
        meta: list[tuple[str, str]] = []
        last = max((c for c, h in enumerate(heads, start=1) if h is not None), default=sep)
        seen_out: dict[str, str] = {}
        for c in range(sep + 1, last + 1):
            letter = _column_letter(c)
            text = heads[c - 1]
            where = f"{letter}{header_row}"
            if text is None:
                self.issue(
                    title,
                    where,
                    "结论列没有表头",
                    "an output column has no header",
                    OUTCOL_HINT[0] + "; 不要的列请整列删除",
                    OUTCOL_HINT[1] + "; delete a column you do not need",
                )
                continue
            if text in META_COLUMNS:
                kind = META_COLUMNS[text]
                if kind in letters:
                    self.issue(
                        title,
                        where,
                        f"「{text}」列重复了",
                        f"column '{text}' appears twice",
                        "只保留一列",
                        "keep one of them",
                    )
                    continue
                letters[kind] = letter
                meta.append((kind, text))
                continue
            try:
                col: ast.OutCol = _parse_text(_policy_text(text), "out_col")
            except _CellSyntax as exc:
                self.issue(
                    title,
                    where,
                    f"结论列的表头「{text}」不对: {exc.zh}",
                    f"output header '{text}' is not valid: {exc.en}",
                    *OUTCOL_HINT,
                )
                continue
            if col.name in seen_out:
                self.issue(
                    title,
                    where,
                    f"结论列「{col.name}」重复了 (第一次在 {seen_out[col.name]})",
                    f"output column '{col.name}' appears twice (first in {seen_out[col.name]})",
                    "给结论列起不同的名字",
                    "give the output columns different names",
                )
                continue
            seen_out[col.name] = where
            letters[f"out{len(outputs)}"] = letter
            outputs.append(col)
        if not outputs:
            self.issue(
                title,
                f"{_column_letter(sep + 1)}{header_row}",
                "|| 右边没有结论列",
                "there is no output column right of ||",
                "在 || 右边至少留一个结论列",
                "keep at least one output column right of ||",
            )
        rows = self.rows(title, grid, header_row, sep, last, letters, len(inputs), len(outputs))
        if len(self.issues) > before:
            return None
        return _Sheet(
            title,
            name,
            hit,
            hit_cell,
            header_row,
            tuple(inputs),
            tuple(outputs),
            tuple(meta),
            str(at(header_row, 1)),
            tuple(rows),
            letters,
        )

    def hit(
        self, title: str, first_row: Sequence[str | None]
    ) -> tuple[tuple[str, str | None] | None, str]:
        """The hit policy right of the 命中 label of row 1 (None: keep the policy's)."""
        label = next((c for c, v in enumerate(first_row) if v in (HIT_MARK, "hit")), None)
        if label is None:
            return None, ""
        where = f"{_column_letter(label + 2)}1"
        text = first_row[label + 1] if label + 1 < len(first_row) else None
        words = (text or "").lower().replace("rule order", "rule_order")
        parts = words.replace("output order", "output_order").split()
        ok = 1 <= len(parts) <= 2 and parts[0] in HIT_POLICIES
        if ok and len(parts) == 2:
            ok = HIT_POLICIES[parts[0]] == "collect" and parts[1] in AGGREGATIONS
        if not ok:
            self.issue(
                title,
                where,
                f"命中策略「{text or ''}」不对",
                f"hit policy '{text or ''}' is not valid",
                "可用: first、unique、any、priority、rule_order、output_order、collect, "
                "以及 collect sum / min / max / count",
                "use first, unique, any, priority, rule_order, output_order, collect, or "
                "collect sum / min / max / count",
            )
            return None, where
        return (parts[0], parts[1] if len(parts) == 2 else None), where

    def rows(
        self,
        title: str,
        grid: list[list[str | None]],
        header_row: int,
        sep: int,
        last: int,
        letters: Mapping[str, str],
        n_in: int,
        n_out: int,
    ) -> list[_SheetRow]:
        rows: list[_SheetRow] = []
        ids: dict[str, str] = {}
        cols_in = [_column_letter(c) for c in range(2, sep)]
        cols_out = [letters[f"out{j}"] for j in range(n_out)]
        index = {letter: c for c in range(1, last + 1) for letter in [_column_letter(c)]}
        for r in range(header_row + 1, len(grid) + 1):
            line = grid[r - 1]
            if all(v is None for v in line):
                continue

            def at(letter: str, line: list[str | None] = line) -> str | None:
                c = index[letter]
                return line[c - 1] if c - 1 < len(line) else None

            for c in range(last + 1, len(line) + 1):
                if line[c - 1] is not None:
                    self.issue(
                        title,
                        f"{_column_letter(c)}{r}",
                        "这个格子所在的列没有表头",
                        "this cell's column has no header",
                        "把内容移到有表头的列里, 或删掉它",
                        "move it to a column with a header, or delete it",
                    )
            if sep - 1 < len(line) and line[sep - 1] is not None:
                self.issue(
                    title,
                    f"{_column_letter(sep)}{r}",
                    "|| 列是分隔列, 应当是空的",
                    "the || column separates conditions from outputs and must stay empty",
                    "把内容移到左边的条件列或右边的结论列",
                    "move it to a condition column on the left or an output column on the right",
                )
            rid = at("A")
            if rid is None:
                self.issue(
                    title,
                    f"A{r}",
                    "这一行没有规则编号",
                    "this row has no rule id",
                    "在第一格写一个不重复的规则编号, 如 LC-4",
                    "write a unique rule id in the first cell, e.g. LC-4",
                )
            elif not _RULE_ID.fullmatch(rid):
                self.issue(
                    title,
                    f"A{r}",
                    f"「{rid}」不是规则编号",
                    f"'{rid}' is not a rule id",
                    "规则编号是大写字母加连字符和数字, 如 LC-4、AS-1c",
                    "a rule id is capitals, a hyphen and a number, e.g. LC-4 or AS-1c",
                )
            elif rid in ids:
                self.issue(
                    title,
                    f"A{r}",
                    f"规则编号 {rid} 重复了 (第一次在 {ids[rid]})",
                    f"rule id {rid} is used twice (first in {ids[rid]})",
                    "每一行的规则编号都要不同; 改成一个新的编号",
                    "every row needs its own id; give this row a new one",
                )
            else:
                ids[rid] = f"A{r}"
            cells: list[ast.Cell] = []
            for letter in cols_in:
                cell = self.value(title, letter, r, at(letter), "cell")
                if cell is not None:
                    cells.append(cell)
            outs: list[ast.Expr] = []
            for letter in cols_out:
                value = self.value(title, letter, r, at(letter), "expr")
                if value is not None:
                    outs.append(value)
            message = at(letters["message"]) if "message" in letters else None
            cite = at(letters["cite"]) if "cite" in letters else None
            if rid is not None and len(cells) == n_in and len(outs) == n_out:
                rows.append(_SheetRow(r, rid, tuple(cells), tuple(outs), message, cite))
        if not rows and not self.issues:
            self.issue(
                title,
                f"A{header_row + 1}",
                "表里一行也没有",
                "the table has no rows",
                "决策表至少要有一行",
                "a decision table needs at least one row",
            )
        return rows

    def value(self, title: str, letter: str, r: int, text: str | None, kind: str) -> Any:
        where = f"{letter}{r}"
        condition = kind == "cell"
        if text is None:
            self.issue(
                title,
                where,
                "条件格是空的" if condition else "结论格是空的",
                "the condition cell is empty" if condition else "the output cell is empty",
                "不限条件时写 -" if condition else "每个结论格都要填写",
                "write - for a cell that accepts any value"
                if condition
                else "fill in every output cell",
            )
            return None
        try:
            return _parse_text(_policy_text(text), kind)
        except _CellSyntax as exc:
            hz, he = CONDITION_HINT if condition else OUTPUT_HINT
            self.issue(
                title,
                where,
                f"「{text}」不是合法的{'条件' if condition else '结论'}: {exc.zh}",
                f"'{text}' is not a valid {'condition' if condition else 'output'}: {exc.en}",
                hz,
                he,
            )
            return None


def _read_workbook(path: Path) -> list[tuple[str, list[list[str | None]]]]:
    openpyxl = _openpyxl()
    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except FileNotFoundError:
        raise PolicyLoadError(f"找不到文件 / file not found: {path}") from None
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException...
        raise PolicyLoadError(
            f"{path}: 不是能读取的 .xlsx 文件 ({type(exc).__name__}); 请在 Excel/WPS 里"
            "另存为「Excel 工作簿 (*.xlsx)」 / not a readable .xlsx workbook; save it as "
            "'Excel Workbook (*.xlsx)'"
        ) from None
    sheets = []
    for ws in wb.worksheets:
        grid = [[_cell_value(v) for v in row] for row in ws.iter_rows(values_only=True)]
        while grid and all(v is None for v in grid[-1]):
            grid.pop()
        sheets.append((str(ws.title), grid))
    return sheets


# ================================================================ import: writing tables


@attrs.frozen
class TableChange:
    """What an import changed in one table."""

    table: str
    file: str
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    reordered: bool = False
    header: bool = False
    hit: bool = False

    def describe(self, lang: str = "zh") -> str:
        zh = lang != "en"
        parts = []
        if self.hit:
            parts.append("命中策略" if zh else "hit policy")
        if self.header:
            parts.append("表头" if zh else "header")
        for ids, z, e in (
            (self.changed, "修改", "changed"),
            (self.added, "新增", "added"),
            (self.removed, "删除", "removed"),
        ):
            if ids:
                parts.append(f"{z} {', '.join(ids)}" if zh else f"{e} {', '.join(ids)}")
        if self.reordered:
            parts.append("行的顺序" if zh else "row order")
        return f"{self.table} ({self.file}): {'; '.join(parts)}"


@attrs.frozen
class ImportReport:
    """The outcome of :func:`import_xlsx`."""

    changes: tuple[TableChange, ...]
    unchanged: tuple[str, ...]
    not_in_workbook: tuple[str, ...]
    skipped_sheets: tuple[str, ...]
    written: tuple[str, ...]
    warnings: tuple[CellIssue, ...] = ()
    policy_warnings: tuple[Diagnostic, ...] = ()
    texts: dict[str, str] = attrs.field(factory=dict, eq=False, repr=False)

    def render(self, workbook: str, lang: str = "zh") -> str:
        """What changed, and the new warnings, for the terminal."""
        zh = lang != "en"
        lines = [w.render(workbook, lang) for w in self.warnings]
        if self.policy_warnings:
            lines.append(render_diagnostics(self.policy_warnings, self.texts, lang))
        for c in self.changes:
            lines.append(("已更新 " if zh else "updated ") + c.describe(lang))
        if self.unchanged:
            lines.append(("没有改动: " if zh else "unchanged: ") + ", ".join(self.unchanged))
        if self.not_in_workbook:
            lines.append(
                ("不在工作簿里 (保持原样): " if zh else "not in the workbook (left as is): ")
                + ", ".join(self.not_in_workbook)
            )
        if self.skipped_sheets:
            lines.append(
                ("跳过的工作表 (不是决策表): " if zh else "sheets skipped (not tables): ")
                + ", ".join(self.skipped_sheets)
            )
        if self.written:
            lines.append(("已写入: " if zh else "written: ") + ", ".join(self.written))
        elif self.changes:
            lines.append("(试运行, 没有写入)" if zh else "(dry run: nothing written)")
        else:
            lines.append("政策文件没有改动" if zh else "no policy file changed")
        return "\n".join(lines)


@attrs.frozen
class _LineMap:
    """A table line of the new text and the sheet cells its cells came from."""

    sheet: str
    excel_row: int
    letters: tuple[str, ...]  # the sheet column of each cell of the line, in line order

    def cell_at(self, line: str, col: int) -> str:
        """The sheet cell under column ``col`` (1-based) of ``line``."""
        k = sum(1 for at, width in pipe_positions(line) if at + width <= col - 1) - 1
        k = min(max(k, 0), len(self.letters) - 1)
        return f"{self.letters[k] or 'A'}{self.excel_row}"


def row_line(cells: Sequence[str], split: int, stops: Sequence[int] | None, lead: int) -> str:
    """``| a | b || c |``, each pipe at its display column in ``stops`` when it fits.

    >>> row_line(["T-1", ">= 1", '"x"'], 2, (2, 8, 15, 21), 2)
    '| T-1 | >= 1 || "x" |'
    >>> row_line(["T-1", "1", '"x"'], 2, (2, 8, 15, 21), 2)
    '| T-1 | 1    || "x" |'
    """
    out = ""
    width = lead
    for k, cell in enumerate(cells):
        if stops is not None and k < len(stops) and width < stops[k]:
            out += " " * (stops[k] - width)
            width = stops[k]
        piece = f"{'||' if k == split else '|'} {cell} "
        out += piece
        width += display_width(piece)
    if stops is not None and len(stops) > len(cells) and width < stops[len(cells)]:
        out += " " * (stops[len(cells)] - width)
    return out + "|"


def column_stops(rows: Sequence[Sequence[str]], split: int, lead: int) -> tuple[int, ...]:
    """Pipe columns that align every row (the layout ``fanpin fmt`` gives a table)."""
    widths = [max(display_width(r[k]) for r in rows) for k in range(len(rows[0]))]
    stops = [lead]
    for k, w in enumerate(widths):
        stops.append(stops[-1] + (2 if k == split else 1) + 1 + w + 1)
    return tuple(stops)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@attrs.frozen
class _Edit:
    """Replace ``[start, end)`` of a file's text; ``lines`` maps the new lines to cells."""

    start: int
    end: int
    text: str
    lines: dict[int, _LineMap] = attrs.field(factory=dict)
    hit_cell: tuple[str, str] | None = None  # (sheet, cell) of the hit policy
    # the table's name: (sheet, lines from the name up to ``start``, name col, end col)
    name: tuple[str, int, int, int] | None = None


def _new_table(where: _TableText, sheet: _Sheet) -> ast.TableDecl:
    """The table the sheet describes (name, label, cite and overrides stay the policy's)."""
    old = where.table
    kinds = {k for k, _ in sheet.meta}
    # an empty message/cite cell is "" where the policy's table had the column, else none
    message_col = "message" in kinds and any(r.message is not None for r in old.rows)
    cite_col = "cite" in kinds and any(r.cite is not None for r in old.rows)
    rows = tuple(
        ast.Row(
            r.rule_id,
            r.cells,
            r.outputs,
            r.cite if r.cite is not None else ("" if cite_col else None),
            r.message if r.message is not None else ("" if message_col else None),
        )
        for r in sheet.rows
    )
    hit, aggregation = sheet.hit if sheet.hit is not None else (old.hit, old.aggregation)
    return attrs.evolve(
        old,
        hit=hit,
        aggregation=aggregation,
        inputs=sheet.inputs,
        outputs=sheet.outputs,
        rows=rows,
    )


def _table_edits(
    where: _TableText, sheet: _Sheet, new: ast.TableDecl, text: str, rewrite_all: bool
) -> list[_Edit]:
    """The edits that turn the table's text into ``new``'s.

    With the same header, rows that did not change keep their text and comments, and
    new or changed rows are aligned to the header's columns; otherwise the whole table
    is laid out again (rows keep their comments).
    """
    old = where.table
    has = {
        "message": any(r.message is not None for r in new.rows),
        "cite": any(r.cite is not None for r in new.rows),
    }
    meta_cols = [(k, n) for k, n in sheet.meta if has[k]]
    for kind, default in DEFAULT_META:  # a column the sheet lost but the rows still need
        if has[kind] and kind not in {k for k, _ in meta_cols}:
            meta_cols.append((kind, dict(where.meta).get(kind, default)))
    same_header = (
        new.inputs == old.inputs
        and new.outputs == old.outputs
        and {k for k, _ in meta_cols} == {k for k, _ in where.meta}
    )
    keep_rows = where.by_line and same_header and not rewrite_all
    if keep_rows:
        out_order = list(where.out_order)
    else:
        out_order = [f"out{j}" for j in range(len(new.outputs))] + [k for k, _ in meta_cols]
    order = ["id", *(f"in{i}" for i in range(len(new.inputs))), *out_order]
    letters = tuple(sheet.letters.get(k, "") for k in order)

    def cells_of(row: ast.Row) -> list[str]:
        cells = [row.rule_id, *(cell_text(c) for c in row.cells)]
        for k in out_order:
            if k == "message":
                cells.append(_quote(row.message or ""))
            elif k == "cite":
                cells.append(_quote(row.cite or ""))
            else:
                cells.append(to_text(row.outputs[int(k[3:])]))
        return cells

    newline = "\r\n" if "\r\n" in text[where.start : where.end] else "\n"
    old_rows = {r.rule_id: (r, t) for r, t in zip(old.rows, where.rows, strict=True)}
    split = 1 + len(new.inputs)
    lead = display_width(where.indent)
    lines: dict[int, _LineMap] = {}
    body = ""
    if keep_rows:
        stops = where.stops
        start = where.header_end
    else:
        header = [
            sheet.id_header,
            *(to_text(e) for e in new.inputs),
            *(_outcol_text(c) for c in new.outputs),
            *(n for _, n in meta_cols),
        ]
        stops = column_stops([header, *(cells_of(r) for r in new.rows)], split, lead)
        body = row_line(header, split, stops if where.header_at_line_start else None, lead)
        if where.header_comment:
            body += f"  {where.header_comment}"
        body += newline
        lines[0] = _LineMap(sheet.title, sheet.header_row, letters)
        start = where.header_start
    for sheet_row, row in zip(sheet.rows, new.rows, strict=True):
        kept = old_rows.get(row.rule_id)
        lead_text = kept[1].lead if kept and where.by_line else ""
        if keep_rows and kept and kept[0] == row:
            line = kept[1].text
        else:
            line = where.indent + row_line(cells_of(row), split, stops, lead)
        comment = kept[1].comment if kept else ""
        body += lead_text
        lines[body.count("\n")] = _LineMap(sheet.title, sheet_row.excel_row, letters)
        body += line + (f"  {comment}" if comment else "") + newline
    if where.tail_start > 0 and text[where.tail_start - 1] != "\n":
        body = body[: -len(newline)]  # the closing } follows on the last row's line
    name_span = old.name_span
    back = text.count("\n", where.start, start) - (name_span.line - old.span.line)
    name = (sheet.title, back, name_span.col, name_span.end_col)
    edits = [_Edit(start, where.tail_start, body, lines, name=name)]
    if (new.hit, new.aggregation) != (old.hit, old.aggregation):
        edits.append(
            _Edit(
                where.hit_start,
                where.hit_end,
                _hit_text(new.hit, new.aggregation),
                hit_cell=(sheet.title, sheet.hit_cell),
            )
        )
    return edits


def _change(where: _TableText, new: ast.TableDecl, shown: str) -> TableChange:
    old = where.table
    before = {r.rule_id: r for r in old.rows}
    after = {r.rule_id: r for r in new.rows}
    kept_old = [i for i in before if i in after]
    kept_new = [i for i in after if i in before]
    return TableChange(
        old.name,
        shown,
        changed=tuple(i for i in kept_new if before[i] != after[i]),
        added=tuple(i for i in after if i not in before),
        removed=tuple(i for i in before if i not in after),
        reordered=kept_old != kept_new,
        header=(new.inputs, new.outputs) != (old.inputs, old.outputs),
        hit=(new.hit, new.aggregation) != (old.hit, old.aggregation),
    )


@attrs.frozen
class _Located:
    """Where the new text came from: line maps and hit-policy cells, per file."""

    lines: dict[tuple[str, int], _LineMap]
    # (path, line) -> [(col, end col, (sheet, cell))]: a table's name and hit policy
    hits: dict[tuple[str, int], list[tuple[int, int, tuple[str, str]]]]

    def cell_of(self, d: Diagnostic, texts: Mapping[str, str]) -> tuple[str, str] | None:
        s = d.span
        if s is None or s.line <= 0:
            return None
        for col, end, cell in self.hits.get((s.path, s.line), ()):
            if col <= s.col < end:
                return cell
        found = self.lines.get((s.path, s.line))
        if found is None:
            return None
        line = texts[s.path].split("\n")[s.line - 1]
        return found.sheet, found.cell_at(line, s.col)


def _apply(
    texts: Mapping[str, str], edits: Mapping[str, list[_Edit]]
) -> tuple[dict[str, str], _Located]:
    new_texts = dict(texts)
    lines: dict[tuple[str, int], _LineMap] = {}
    hits: dict[tuple[str, int], list[tuple[int, int, tuple[str, str]]]] = {}
    for path, file_edits in edits.items():
        text = texts[path]
        out = ""
        pos = 0
        for e in sorted(file_edits, key=lambda e: e.start):
            out += text[pos : e.start]
            first_line = out.count("\n") + 1
            col = len(out) - (out.rfind("\n") + 1) + 1
            for offset, m in e.lines.items():
                lines[(path, first_line + offset)] = m
            if e.name is not None:
                sheet, back, col, end = e.name
                hits.setdefault((path, first_line - back), []).append((col, end, (sheet, "B1")))
            if e.hit_cell is not None:
                hits.setdefault((path, first_line), []).append((col, col + len(e.text), e.hit_cell))
            out += e.text
            pos = e.end
        new_texts[path] = out + text[pos:]
    return new_texts, _Located(lines, hits)


def _check(files: _PolicyFiles, texts: Mapping[str, str]) -> tuple[list[Diagnostic], bool]:
    """Every diagnostic of the policy made of ``texts``; whether it loads."""
    modules: list[ast.Module] = []
    try:
        for m in files.modules:
            modules.append(parse(Source(m.path, texts[m.path])))
    except PolicySyntaxError as exc:
        return list(exc.diagnostics), False
    model, prior = build_model(modules)
    plain = {p: t.replace("\r\n", "\n") for p, t in texts.items()}
    try:
        checked = run_checks(model, prior, texts=plain)
    except PolicyCheckError as exc:
        return list(exc.diagnostics), False
    return list(checked.diagnostics), True


def _key(d: Diagnostic) -> tuple[str, str]:
    return d.code, d.message_en


def import_xlsx(
    workbook: str | Path,
    policy: str | Path,
    *,
    write: bool = True,
    rewrite_all: bool = False,
) -> ImportReport:
    """Write the tables of an edited workbook back into the policy's files.

    Every sheet whose A1 is ``决策表`` is read; the table named in its B1 is replaced
    by the sheet's header and rows.  All problems of all sheets are collected and
    raised together as a :class:`SpreadsheetError` naming sheet and cell; then the
    policy with the new tables is checked, and its errors are raised the same way
    (those inside a table name the sheet cell they came from).  Nothing is written
    unless the new policy checks; ``write=False`` only reports what would change.
    ``rewrite_all`` lays out every table of the workbook again, changed or not.
    """
    shown_wb = Path(workbook).name
    files = _read_policy(policy)
    reader = _Reader(files.tables)
    sheets: list[_Sheet] = []
    skipped: list[str] = []
    for title, grid in _read_workbook(Path(workbook)):
        first = grid[0][0] if grid and grid[0] else None
        if first not in (SHEET_MARK, "table"):
            if title != README_SHEET:
                skipped.append(title)
            continue
        reader.sheets.append(title)
        sheet = reader.sheet(title, grid)
        if sheet is not None:
            sheets.append(sheet)
    _check_ids(files, sheets, reader)
    if reader.issues:
        raise SpreadsheetError(shown_wb, sorted(reader.issues, key=reader.order))
    edits: dict[str, list[_Edit]] = {}
    changes: list[TableChange] = []
    unchanged: list[str] = []
    for sheet in sheets:
        where = files.tables[sheet.table_name]
        new = _new_table(where, sheet)
        if new == where.table and not rewrite_all:
            unchanged.append(new.name)
            continue
        text = files.texts[where.path]
        edits.setdefault(where.path, []).extend(_table_edits(where, sheet, new, text, rewrite_all))
        change = _change(where, new, files.shown(where.path))
        if (
            change.changed
            or change.added
            or change.removed
            or change.reordered
            or (change.header or change.hit)
        ):
            changes.append(change)
        else:
            unchanged.append(new.name)
    in_workbook = {s.table_name for s in sheets}
    missing = tuple(n for n in files.tables if n not in in_workbook)
    if not edits:
        return ImportReport((), tuple(unchanged), missing, tuple(skipped), ())
    new_texts, located = _apply(files.texts, edits)
    before, _ = _check(files, files.texts)
    after, ok = _check(files, new_texts)
    known = {_key(d) for d in before}
    if ok:  # the warnings the new tables brought
        relevant = [d for d in after if d.severity == "warning" and _key(d) not in known]
    else:
        relevant = [d for d in after if d.severity == "error"]
    issues: list[CellIssue] = []
    loose: list[Diagnostic] = []
    for d in relevant:
        cell = located.cell_of(d, new_texts)
        if cell is None:
            loose.append(d)
        else:
            issues.append(
                CellIssue(
                    cell[0],
                    cell[1],
                    d.message_zh,
                    d.message_en,
                    d.hint_zh,
                    d.hint_en,
                    d.code,
                    d.severity,
                )
            )
    if not ok:
        raise SpreadsheetError(shown_wb, issues, loose, new_texts)
    written: list[str] = []
    if write:
        _write_files({p: new_texts[p] for p in edits}, files.boms)
        written = [files.shown(p) for p in edits]
    return ImportReport(
        tuple(changes),
        tuple(unchanged),
        missing,
        tuple(skipped),
        tuple(written),
        tuple(issues),
        tuple(loose),
        new_texts,
    )


def _check_ids(files: _PolicyFiles, sheets: Sequence[_Sheet], reader: _Reader) -> None:
    """A row id must not be used by a rule, a table left out, or another sheet's row."""
    taken: dict[str, tuple[str, str]] = {}
    in_workbook = {s.table_name for s in sheets}
    for module in files.modules:
        where = files.shown(module.path)
        for item in module.items:
            if isinstance(item, ast.RuleDecl):
                at = f"{where}:{item.span.line}"
                taken[item.rule_id] = (f"规则 {item.rule_id} ({at})", f"rule {item.rule_id} ({at})")
            elif isinstance(item, ast.TableDecl) and item.name not in in_workbook:
                for row in item.rows:
                    at = f"{where}:{row.span.line}"
                    taken[row.rule_id] = (
                        f"决策表「{item.name}」的一行 ({at})",
                        f"a row of table '{item.name}' ({at})",
                    )
    for sheet in sheets:
        for sheet_row in sheet.rows:
            first = taken.get(sheet_row.rule_id)
            if first is not None:
                reader.issue(
                    sheet.title,
                    f"A{sheet_row.excel_row}",
                    f"规则编号 {sheet_row.rule_id} 已经用在{first[0]}",
                    f"rule id {sheet_row.rule_id} is already used by {first[1]}",
                    "每个规则编号在整份政策里只能用一次; 改成一个新的编号",
                    "a rule id is used once in the whole policy; give this row a new one",
                )
        for sheet_row in sheet.rows:
            taken.setdefault(
                sheet_row.rule_id,
                (
                    f"工作表「{sheet.title}」A{sheet_row.excel_row}",
                    f"sheet '{sheet.title}' A{sheet_row.excel_row}",
                ),
            )


def _write_files(texts: Mapping[str, str], boms: Mapping[str, bool]) -> None:
    """Write every file next to itself first, then move them all into place."""
    staged: list[tuple[str, str]] = []
    try:
        for path, text in texts.items():
            fd, tmp = tempfile.mkstemp(prefix=".import-", suffix=".policy", dir=Path(path).parent)
            with os.fdopen(
                fd, "w", encoding="utf-8-sig" if boms[path] else "utf-8", newline=""
            ) as handle:
                handle.write(text)
            staged.append((tmp, path))
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise PolicyLoadError(f"cannot write the policy files: {exc.strerror}") from None
