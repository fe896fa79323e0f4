"""Parse policy text into the AST, and load a policy with its includes."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
from lark import (
    Lark,
    Token,
    Tree,
    UnexpectedCharacters,
    UnexpectedInput,
    UnexpectedToken,
)
from lark.exceptions import VisitError

from fanpin_rules import ast
from fanpin_rules.builder import BadString, Builder
from fanpin_rules.errors import Diagnostic, PolicyLoadError, PolicySyntaxError
from fanpin_rules.source import Source, Span
from fanpin_rules.syntax_errors import (
    LEXICAL,
    SYNTAX_ERRORS,
    TERMINAL_NAMES_EN,
    TERMINAL_NAMES_ZH,
    label,
    variant,
)

__all__ = ["grammar_text", "parse", "parse_file"]


def grammar_text() -> str:
    """The grammar shipped in the package (or, in a source checkout, ``grammar/``)."""
    try:
        return (resources.files("fanpin_rules") / "grammar" / "policy.lark").read_text("utf-8")
    except (FileNotFoundError, NotADirectoryError):
        here = Path(__file__).resolve().parents[2] / "grammar" / "policy.lark"
        return here.read_text("utf-8")


LARK_OPTIONS: dict[str, object] = {
    "parser": "lalr",
    "propagate_positions": True,
    "maybe_placeholders": False,
}


@functools.cache
def _lark() -> Lark:
    """The parser, built once per process (a LALR parser keeps no state between parses).

    Building the tables takes about two seconds, so lark caches them in the temporary
    folder, keyed by a hash of the grammar and the options.  ``strict=True`` (no
    ambiguity, no terminal collisions) is proven by a test instead of on every start.
    """
    return Lark(grammar_text(), cache=True, **LARK_OPTIONS)


def parse(source: Source | str, path: str = "<string>") -> ast.Module:
    """Parse one file's text (includes are not followed).

    >>> m = parse('let a = 1 + 2')
    >>> type(m.items[0]).__name__, m.items[0].name
    ('LetDecl', 'a')
    """
    src = source if isinstance(source, Source) else Source(path, source)
    try:
        tree = _lark().parse(src.text)
    except UnexpectedInput as exc:
        raise PolicySyntaxError([_syntax_diagnostic(src, exc)]) from None
    builder = Builder(src.path)
    try:
        module = builder.transform(tree)
    except VisitError as exc:
        if not isinstance(exc.orig_exc, BadString):
            raise
        raise PolicySyntaxError([_bad_escape(src, exc, exc.orig_exc.token)]) from None
    if builder.diagnostics:
        raise PolicySyntaxError(builder.diagnostics)
    return module


def parse_file(path: str | Path) -> ast.Module:
    try:
        src = Source.from_path(path)
    except OSError as exc:
        raise PolicyLoadError(f"cannot read policy file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PolicyLoadError(
            f"{path}: 文件不是 UTF-8 编码 / the file is not UTF-8 text; save it as UTF-8"
        ) from None
    return parse(src)


@functools.cache
def _example_states() -> tuple[tuple[str, int, frozenset[str], str], ...]:
    """(code, parser state, acceptable tokens, token type) of every example error."""
    found = []
    for lab in SYNTAX_ERRORS:
        for text in lab.examples:
            try:
                _lark().parse(text)
            except UnexpectedToken as ut:
                if ut.state is not None:
                    accepts = frozenset(ut.accepts or ut.expected)
                    found.append((lab.code, ut.state.position, accepts, ut.token.type))
            except UnexpectedInput:
                continue
    return tuple(found)


def _match_example(exc: UnexpectedInput) -> str | None:
    """The label of the example error that failed in the same parser state.

    Like lark's ``match_examples`` but comparing the LALR state only (not the depth
    of the stack), so ``rule A-1 when x "m"`` also names errors in longer rules.
    """
    if not isinstance(exc, UnexpectedToken) or exc.state is None:
        return None
    accepts = frozenset(exc.accepts or exc.expected)
    candidate = None
    for code, position, ex_accepts, token_type in _example_states():
        if position != exc.state.position or ex_accepts != accepts:
            continue
        if token_type == exc.token.type:
            return code
        if token_type == "$END":
            continue  # "the file ends …" says nothing about a token in the middle
        candidate = candidate or code
    return candidate


# ---------------------------------------------------------------- tokens around an error

_DECL_KEYWORDS = frozenset(
    {"POLICY", "INCLUDE", "ENUM", "RECORD", "INPUT", "PARAM", "LET", "RULE", "TABLE", "EXAMPLE"}
)
# Spellings of the declaration keywords: read as a name where a keyword cannot stand.
_DECL_SPELLINGS = frozenset(
    {
        *("policy", "include", "enum", "record", "input", "param", "let", "rule", "table"),
        *("example", "政策", "引用", "枚举", "记录", "输入", "参数", "定义", "规则", "决策表"),
        "示例",
    }
)
# Tokens after which a value must follow.
_OPERATORS = frozenset(
    {
        "ADD_OP",
        "MINUS",
        "MUL_OP",
        "SET_OP",
        "COMP_OP",
        "EQ",
        "AND",
        "OR",
        "NOT",
        "IN",
        "NOTIN",
        "SUBSET",
        "BETWEEN",
        "IF",
        "THEN",
        "ELSE",
        "WHERE",
    }
)
_VALUE_TOKENS = frozenset({"NAME", "STRING", "NUMBER", "DATE", "RULE_ID", "TRUE", "FALSE"})
_OPENERS = frozenset({"_LBRACE", "LPAR", "LSQB"})
# Chinese keywords a writer may glue to the next name (longest first).
_GLUE_KEYWORDS = ("否则", "如果", "属于", "其中", "且", "或", "非", "当", "则", "是", "否")
_UNIT_WORDS = frozenset(
    {"元", "万元", "人", "户", "岁", "个", "口", "年", "月", "日", "天", "亩", "次", "名", "平方米"}
)
_AGGREGATES = frozenset(
    {"count", "sum", "any", "all", "min", "max", "计数", "求和", "存在", "全部", "最小", "最大"}
)
_FULL_WIDTH_EXTRA = {"≦": "<=", "≧": ">=", "＝＝": "="}


@attrs.frozen
class _Ctx:
    """An UnexpectedToken with what the parser had read before it."""

    src: Source
    tok: Token
    accepts: frozenset[str]
    stack: tuple[Any, ...]
    leaves: tuple[Token, ...]

    @classmethod
    def of(cls, src: Source, exc: UnexpectedToken) -> _Ctx:
        stack: tuple[Any, ...] = ()
        if exc.state is not None:
            stack = tuple(getattr(exc.state, "value_stack", ()) or ())
        leaves: list[Token] = []
        for v in stack:
            leaves.extend(_tokens_of(v))
        accepts = frozenset(exc.accepts or exc.expected or ())
        return cls(src, exc.token, accepts, stack, tuple(leaves))

    @property
    def prev(self) -> Token | None:
        return self.leaves[-1] if self.leaves else None

    @property
    def eof(self) -> bool:
        return self.tok.type == "$END"

    def raw(self) -> list[Token]:
        """Tokens read but not yet part of a finished phrase, in order."""
        return [v for v in self.stack if isinstance(v, Token)]

    def decl(self) -> Token | None:
        """The keyword of the declaration being read."""
        return next((t for t in self.raw() if t.type in _DECL_KEYWORDS), None)

    def span(self, tok: Token) -> Span:
        return _token_span(self.src.path, tok)

    def diag(self, key: str, span: Span, **kw: str) -> Diagnostic:
        v = variant(key)
        zh, en, hz, he = v.texts(**kw)
        return Diagnostic(v.code, "error", zh, en, span, hz, he)

    def label(self, code: str, span: Span) -> Diagnostic:
        lab = label(code)
        return Diagnostic(
            code, "error", lab.message_zh, lab.message_en, span, lab.hint_zh, lab.hint_en
        )


def _tokens_of(v: Any) -> list[Token]:
    if isinstance(v, Token):
        return [v]
    if isinstance(v, Tree):
        out: list[Token] = []
        for c in v.children:
            out.extend(_tokens_of(c))
        return out
    return []


def _token_span(path: str, tok: Token) -> Span:
    line, col = tok.line or 1, tok.column or 1
    end_line = tok.end_line or line
    end_col = tok.end_column if tok.end_column and end_line == line else col + len(str(tok))
    return Span(path, line, col, line, max(end_col, col + 1))


def _after(path: str, tok: Token) -> Span:
    """One column just after a token."""
    s = _token_span(path, tok)
    return Span(path, s.line, s.end_col, s.line, s.end_col + 1)


def _adjacent(a: Token, b: Token) -> bool:
    return a.end_pos is not None and a.end_pos == b.start_pos


def _same_line(a: Token, b: Token) -> bool:
    return a.line == b.line


def _at_line_start(src: Source, tok: Token) -> bool:
    return src.line(tok.line or 0)[: (tok.column or 1) - 1].strip() == ""


def _error_pos(text: str, exc: UnexpectedInput) -> int:
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        return len(text)
    return exc.pos_in_stream or 0


def _parses_further(src: Source, tok: Token, insert_at: int) -> bool:
    """Does inserting a space at ``insert_at`` move the first error past ``tok``?"""
    text = src.text[:insert_at] + " " + src.text[insert_at:]
    try:
        _lark().parse(text)
    except UnexpectedInput as again:
        return _error_pos(text, again) > (tok.end_pos or 0) + 1
    return True


# ---------------------------------------------------------------- recognised mistakes


def _glued_keyword(ctx: _Ctx) -> Diagnostic | None:
    for t in (ctx.tok, ctx.prev):
        if t is None or t.type != "NAME" or t.start_pos is None:
            continue
        word = str(t)
        kw = next((k for k in _GLUE_KEYWORDS if word.startswith(k) and len(word) > len(k)), None)
        if kw is not None and _parses_further(ctx.src, ctx.tok, t.start_pos + len(kw)):
            return ctx.diag("glued_keyword", ctx.span(t), kw=kw, rest=word[len(kw) :])
    return None


def _comparison(ctx: _Ctx) -> Diagnostic | None:
    prev, tok = ctx.prev, ctx.tok
    if prev is None:
        return None
    span = Span(ctx.src.path, prev.line or 1, prev.column or 1, *_end(ctx.span(tok)))
    if prev.type == "EQ" and tok.type == "EQ":
        wrong = ctx.src.text[prev.start_pos : tok.end_pos]
        return ctx.diag("double_equals", span, wrong=wrong)
    pair = f"{prev}{tok}"
    reversed_ops = {
        "=<": ("<=", "≤", "小于等于", "less than or equal"),
        "=>": (">=", "≥", "大于等于", "greater than or equal"),
        "<>": ("!=", "≠", "不等于", "not equal"),
    }
    if pair in reversed_ops and _adjacent(prev, tok):
        right, sign, zh, en = reversed_ops[pair]
        return ctx.diag(
            "reversed_comparison",
            span,
            wrong=pair,
            right=right,
            sign=sign,
            meaning=zh,
            meaning_en=en,
        )
    if prev.type == "COMP_OP" and str(prev) in "<>!" and tok.type == "EQ":
        wrong = ctx.src.text[prev.start_pos : tok.end_pos]
        return ctx.diag("spaced_comparison", span, wrong=wrong, right=f"{prev}=")
    return None


def _end(span: Span) -> tuple[int, int]:
    return span.end_line, span.end_col


def _number_mistakes(ctx: _Ctx) -> Diagnostic | None:
    prev, tok = ctx.prev, ctx.tok
    if prev is None or prev.type != "NUMBER" or not _same_line(prev, tok):
        return None
    if tok.type == "NAME" and (_adjacent(prev, tok) or str(tok) in _UNIT_WORDS):
        return ctx.diag("unit_after_number", ctx.span(tok), number=str(prev))
    if tok.type == "_COMMA" and _adjacent(prev, tok) and tok.start_pos is not None:
        groups = re.match(r"(?:[,，]\d{3}(?![\d]))+", ctx.src.text[tok.start_pos :])
        if groups:
            number = str(prev) + re.sub(r"[,，]", "", groups.group(0))
            end = tok.start_pos + len(groups.group(0))
            width = end - tok.start_pos
            col = tok.column or 1
            span = Span(ctx.src.path, tok.line or 1, col, tok.line or 1, col + width)
            return ctx.diag("thousands_separator", span, number=number)
    return None


def _colon_after_rule_id(ctx: _Ctx) -> Diagnostic | None:
    prev = ctx.prev
    if prev is not None and prev.type == "RULE_ID" and ctx.tok.type == "_COLON":
        return ctx.diag("colon_after_rule_id", ctx.span(ctx.tok), rule_id=str(prev))
    return None


def _range_without_brackets(ctx: _Ctx) -> Diagnostic | None:
    prev, tok = ctx.prev, ctx.tok
    if tok.type != "_DOTDOT" or prev is None or tok.end_pos is None:
        return None
    m = re.match(r"[ \t]*([^\s|｜]+)", ctx.src.text[tok.end_pos :])
    high = m.group(1) if m else "…"
    end_col = (tok.end_column or 1) + (m.end() if m else 0)
    span = Span(ctx.src.path, prev.line or 1, prev.column or 1, prev.line or 1, end_col)
    return ctx.diag("range_without_brackets", span, low=str(prev), high=high)


@functools.cache
def _keyword_spellings() -> dict[str, str]:
    """Every spelling of a keyword (``then``, ``则`` ...) and its terminal."""
    found: dict[str, str] = {}
    for t in _lark().terminals:
        m = re.match(r"\(\?:([^()]*)\)\(\?!", t.pattern.value)
        if m:
            for word in m.group(1).split("|"):
                found[word] = t.name
    return found


def _incomplete_expression(ctx: _Ctx) -> Diagnostic | None:
    leaves = ctx.leaves
    if len(leaves) >= 2:
        op, word = leaves[-2], leaves[-1]
        # ``x and then``, or ``let a = b -`` followed by ``rule …`` on the next line: a
        # keyword that cannot stand after the operator was read as a name.
        if op.type in _OPERATORS and word.type == "NAME" and str(word) in _keyword_spellings():
            return ctx.diag("after_operator", ctx.span(op), op=str(op))
    prev = ctx.prev
    if prev is None or prev.type not in _OPERATORS:
        return None
    if not ctx.accepts & {"NAME", "NUMBER", "LPAR"}:
        return None
    return ctx.diag("after_operator", ctx.span(prev), op=str(prev))


def _incomplete_line(ctx: _Ctx) -> Diagnostic | None:
    """The next item's keyword, at the start of a line, was read as part of this line."""
    if len(ctx.leaves) < 2:
        return None
    last, word = ctx.leaves[-2], ctx.leaves[-1]
    if (
        word.type == "NAME"
        and str(word) in _DECL_SPELLINGS
        and (word.line or 0) > (last.line or 0)
        and _at_line_start(ctx.src, word)
    ):
        return ctx.diag(
            "incomplete_line", _after(ctx.src.path, last), last=str(last), word=str(word)
        )
    return None


def _raw_opener(ctx: _Ctx) -> tuple[int, Token] | None:
    raw = ctx.stack
    for i in range(len(raw) - 1, -1, -1):
        v = raw[i]
        if isinstance(v, Token) and v.type in _OPENERS:
            return i, v
    return None


def _clause_in_call(ctx: _Ctx) -> Diagnostic | None:
    """``round(家庭成员: 个人收入, 2)``: ``:`` or ``where`` before another argument."""
    if ctx.tok.type != "_COMMA":
        return None
    found = _raw_opener(ctx)
    if found is None or found[1].type != "LPAR" or found[0] == 0:
        return None
    i, lpar = found
    func = ctx.stack[i - 1]
    if not isinstance(func, Token) or func.type != "NAME":
        return None
    clause = next(
        (v for v in ctx.stack[i + 1 :] if isinstance(v, Token) and v.type in ("_COLON", "WHERE")),
        None,
    )
    if clause is None or lpar.end_pos is None or ctx.tok.start_pos is None:
        return None
    text = ctx.src.text
    inner = text[lpar.end_pos : ctx.tok.start_pos].strip()
    depth, close = 1, None
    for j in range(ctx.tok.start_pos, len(text)):
        if text[j] in "(（":
            depth += 1
        elif text[j] in ")）":
            depth -= 1
            if depth == 0:
                close = j
                break
        elif text[j] == "\n":
            break
    rest = text[ctx.tok.start_pos : close + 1] if close is not None else ", …)"
    name = str(func)
    if name in _AGGREGATES:
        example = f"{name}({inner})"
    else:
        agg = "count" if clause.type == "WHERE" else "sum"
        example = f"{name}({agg}({inner}){rest}"
    return ctx.diag("clause_in_call", ctx.span(clause), func=name, example=example)


def _missing_comma(ctx: _Ctx) -> Diagnostic | None:
    prev, tok = ctx.prev, ctx.tok
    if (
        "_COMMA" not in ctx.accepts
        or tok.type not in _VALUE_TOKENS
        or prev is None
        or not _same_line(prev, tok)
    ):
        return None
    found = _raw_opener(ctx)
    decl = ctx.decl()
    if decl is not None and decl.type == "TABLE" and found is not None:
        table_brace = next((v for v in ctx.stack if _is_token(v, "_LBRACE")), None)
        if found[1] is table_brace:
            # two values in one cell of a row: a missing | (or a comma between them)
            return ctx.diag("missing_bar", ctx.span(tok), a=str(prev), b=str(tok))
    what, what_en = "各项", "the items"
    if tok.type == "RULE_ID" and prev.type == "RULE_ID":
        what, what_en = "规则编号", "the rule ids"
    elif found is not None and found[1].type == "LPAR":
        what, what_en = "函数的参数", "the arguments"
    elif found is not None and found[1].type == "LSQB":
        what, what_en = "列表里的值", "the values of the list"
    elif found is not None and decl is not None and decl.type == "ENUM":
        what, what_en = "枚举的取值", "the values of the enum"
    elif found is not None and (decl is None or decl.type != "EXAMPLE"):
        what, what_en = "集合里的值", "the values of the set"
    return ctx.diag(
        "missing_comma", ctx.span(tok), what=what, what_en=what_en, a=str(prev), b=str(tok)
    )


def _unclosed_paren(ctx: _Ctx) -> Diagnostic | None:
    if "RPAR" not in ctx.accepts:
        return None
    lpar = next((v for v in reversed(ctx.stack) if isinstance(v, Token) and v.type == "LPAR"), None)
    return ctx.diag("unclosed_paren", ctx.span(lpar if lpar is not None else ctx.tok))


def _table_row(ctx: _Ctx) -> Diagnostic | None:
    """A row (or the header) that runs on to the next line is missing ``||`` or ``|``."""
    decl = ctx.decl()
    if decl is None or decl.type != "TABLE" or ctx.eof:
        return None
    if any(_is_token(v, "_RBRACE") for v in ctx.stack):
        return None  # the table is closed
    start: Any = None
    header_done = False
    for v in reversed(ctx.stack):
        data = str(v.data) if isinstance(v, Tree) else ""
        if data in ("table_header", "table_row") or data.startswith("__table_decl"):
            header_done = True
            break
        if isinstance(v, Token) and v.type in ("_LBRACE", "TABLE"):
            break
        start = v
    if start is None:
        return None
    first = _tokens_of(start)
    if not first:
        return None
    row_line = first[0].line or 0
    if (ctx.tok.line or 0) <= row_line:
        return None
    text = ctx.src.line(row_line)
    col = first[0].column or 1
    body = text.rstrip()
    if "||" not in body and "｜｜" not in body:
        key = "row_no_dpipe" if header_done else "header_no_dpipe"
        span = Span(ctx.src.path, row_line, col, row_line, len(body) + 1)
        return ctx.diag(key, span)
    if not body.endswith(("|", "｜")):
        return ctx.diag(
            "row_no_closing_bar",
            Span(ctx.src.path, row_line, len(body) + 1, row_line, len(body) + 2),
        )
    return None


def _let_without_equals(ctx: _Ctx) -> Diagnostic | None:
    decl = ctx.decl()
    if decl is None or decl.type != "LET" or "EQ" not in ctx.accepts:
        return None
    tail = [v for v in ctx.stack[ctx.stack.index(decl) :]]
    if not all(isinstance(v, Token) and v.type in ("LET", "NAME") for v in tail):
        return None
    names: list[Token] = [v for v in tail if isinstance(v, Token) and v.type == "NAME"]
    if not names or decl.start_pos is None:
        return None
    tok = ctx.tok
    if len(names) == 2 and tok.type not in _VALUE_TOKENS | {"LPAR"}:
        # ``let 人均纯收入 家庭纯收入 / 家庭人口数``: the second name starts the expression
        before, after, at = names[0], str(names[1]), names[1]
    else:
        before, after, at = names[-1], str(tok), tok
    head = ctx.src.text[decl.start_pos : before.end_pos]
    return ctx.diag("missing_equals", ctx.span(at), before=str(before), after=after, head=head)


def _unclosed_before_item(ctx: _Ctx) -> Diagnostic | None:
    """A ``{`` left open: the next item's keyword appears inside it."""
    found = next(
        (i for i in range(len(ctx.stack) - 1, -1, -1) if _is_token(ctx.stack[i], "_LBRACE")),
        None,
    )
    if found is None:
        return None
    brace = ctx.stack[found]
    after = [v for v in ctx.stack[found + 1 :] if isinstance(v, Token)]
    for t in after if ctx.eof else [*after, ctx.tok]:
        keyword = t.type in _DECL_KEYWORDS or (t.type == "NAME" and str(t) in _DECL_SPELLINGS)
        if keyword and (t.line or 0) > (brace.line or 0) and _at_line_start(ctx.src, t):
            return ctx.diag("unclosed_before_item", ctx.span(t), word=str(t))
    return None


def _is_token(v: Any, kind: str) -> bool:
    return isinstance(v, Token) and v.type == kind


def _extra_closer(ctx: _Ctx) -> Diagnostic | None:
    """A ``)`` or ``}`` with nothing open to close."""
    pairs = {"RPAR": ("LPAR", "extra_paren"), "_RBRACE": ("_LBRACE", "extra_brace")}
    if ctx.tok.type not in pairs or ctx.tok.type in ctx.accepts:
        return None
    opener, key = pairs[ctx.tok.type]
    opened = sum(_is_token(v, opener) for v in ctx.stack)
    closed = sum(_is_token(v, ctx.tok.type) for v in ctx.stack)
    if opened > closed:
        return None
    return ctx.diag(key, ctx.span(ctx.tok))


_RECOGNISERS: tuple[Callable[[_Ctx], Diagnostic | None], ...] = (
    _glued_keyword,
    _comparison,
    _number_mistakes,
    _colon_after_rule_id,
    _range_without_brackets,
    _incomplete_expression,
    _incomplete_line,
    _clause_in_call,
    _missing_comma,
    _table_row,
    _let_without_equals,
    _unclosed_before_item,
    _unclosed_paren,
    _extra_closer,
)


def _fallback(ctx: _Ctx) -> str | None:
    """A code from what the parser was waiting for (the same mistake after a title...)."""
    accepts, tok, prev = ctx.accepts, ctx.tok, ctx.prev
    decl = ctx.decl()
    if prev is not None and prev.type == "THEN" and accepts == {"STRING"}:
        return "F004"
    if "THEN" in accepts:
        return "F001"
    if "WHEN" in accepts:
        return "F002"
    if decl is not None and decl.type == "PARAM" and "DATE" in accepts:
        return "F014"
    if "_RBRACE" in accepts and ctx.eof:
        return "F005"
    if "RPAR" in accepts:
        return "F009"
    if not ctx.eof and accepts & _DECL_KEYWORDS and tok.type not in _DECL_KEYWORDS:
        return "F010"
    return None


def _syntax_diagnostic(src: Source, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        return _lexical(src, exc)
    if not isinstance(exc, UnexpectedToken):
        line = exc.line if exc.line and exc.line > 0 else 1
        col = exc.column if exc.column and exc.column > 0 else 1
        return _generic(
            src,
            None,
            set(getattr(exc, "expected", ()) or ()),
            Span(src.path, line, col, line, col + 1),
        )
    ctx = _Ctx.of(src, exc)
    for recognise in _RECOGNISERS:
        found = recognise(ctx)
        if found is not None:
            return found
    if ctx.eof:
        span = _after(src.path, ctx.prev) if ctx.prev is not None else Span(src.path, 1, 1, 1, 2)
    else:
        span = ctx.span(ctx.tok)
    code = _match_example(exc) or _fallback(ctx)
    if code == "F014":
        return ctx.diag("param_value", span)
    if code is not None:
        return ctx.label(code, span)
    return _generic(src, ctx.tok, set(ctx.accepts), span)


def _lexical(src: Source, exc: UnexpectedCharacters) -> Diagnostic:
    """A character no token starts with: quotes, full-width forms, stray punctuation."""
    pos = exc.pos_in_stream or 0
    text = src.text
    ch = text[pos] if pos < len(text) else ""
    line = exc.line if exc.line and exc.line > 0 else 1
    col = exc.column if exc.column and exc.column > 0 else 1

    def diag(key: str, width: int = 1, **kw: str) -> Diagnostic:
        v = LEXICAL[key]
        zh, en, hz, he = v.texts(**kw)
        span = Span(src.path, line, col, line, col + max(1, width))
        return Diagnostic(v.code, "error", zh, en, span, hz, he)

    if ch in "“”‘’「」『』":
        return diag("chinese_quote", ch=ch)
    if ch == "'":
        return diag("single_quote", ch=ch)
    if ch == '"':
        return diag("unclosed_quote")
    if ch == "\u3000":
        return diag("full_width_space")
    if ch in "%％":
        return diag("percent", ch=ch)
    if ch in "；;。":
        return diag("punctuation", ch=ch)
    run = ""
    for c in text[pos:]:
        half = _FULL_WIDTH_EXTRA.get(c) or unicodedata.normalize("NFKC", c)
        if c == "\n" or half == c or c == "\u3000" or not half.isascii():
            break
        run += c
    if run:
        half = "".join(_FULL_WIDTH_EXTRA.get(c) or unicodedata.normalize("NFKC", c) for c in run)
        return diag("full_width", width=len(run), text=run, half=half)
    shown = ch if ch.isprintable() else f"U+{ord(ch):04X}" if ch else "?"
    return diag("unexpected_character", ch=shown)


def _describe(names: set[str], table: dict[str, str]) -> str:
    shown = sorted({table.get(n, n.strip("_").lower()) for n in names})
    if len(shown) > 8:
        shown = [*shown[:8], "…"]
    return "、".join(shown) if table is TERMINAL_NAMES_ZH else ", ".join(shown)


def _generic(src: Source, tok: Token | None, expected: set[str], span: Span) -> Diagnostic:
    zh_expected = _describe(expected, TERMINAL_NAMES_ZH)
    en_expected = _describe(expected, TERMINAL_NAMES_EN)
    key = "eof" if tok is None or tok.type == "$END" else "unexpected"
    v = variant(key)
    zh, en, hz, he = v.texts(found=str(tok) if tok is not None else "", expected=zh_expected)
    he = v.hint_en.format(expected=en_expected)
    del src
    return Diagnostic(v.code, "error", zh, en, span, hz, he)


def _bad_escape(src: Source, exc: VisitError, tok: Token) -> Diagnostic:
    """F023 with the caret under the first backslash that is not a valid escape."""
    text = str(tok)
    line, col = tok.line or 1, tok.column or 1
    i = 1
    while i < len(text) - 1:
        if text[i] == "\\":
            nxt = text[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                i += 6
                continue
            if nxt not in '"\\/bfnrt':
                break
            i += 2
            continue
        i += 1
    span = Span(src.path, line, col + i, line, col + i + 1)
    if str(exc.rule) == "include":
        fixed = re.sub(r"\\+", "/", text[1:-1])
        zh, en, hz, he = LEXICAL["bad_escape_path"].texts(fixed=fixed)
    else:
        zh, en, hz, he = LEXICAL["bad_escape"].texts()
    return Diagnostic("F023", "error", zh, en, span, hz, he)


def load_modules(path: str | Path) -> tuple[tuple[ast.Module, ...], dict[str, str]]:
    """Parse a policy file and, depth first, every file it includes (each once).

    Returns the modules and each file's text by path.  Include paths are relative to
    the including file.  A missing or circular include is reported at the ``include``.
    """
    root = Path(path)
    modules: list[ast.Module] = []
    texts: dict[str, str] = {}
    seen: set[Path] = set()
    diagnostics: list[Diagnostic] = []

    def shown(p: Path) -> str:
        """A file as the writer knows it: relative to the folder of the main file."""
        try:
            return p.resolve().relative_to(root.resolve().parent).as_posix()
        except ValueError:
            return p.as_posix()

    def visit(p: Path, stack: tuple[Path, ...], at: Span | None, written: str) -> None:
        key = p.resolve()
        if key in stack:
            chain = " → ".join(shown(q) for q in (*stack[stack.index(key) :], key))
            diagnostics.append(
                Diagnostic(
                    "F110",
                    "error",
                    f"循环引用: {chain}",
                    f"circular include: {chain}",
                    at,
                    "删掉这一行 include: 分文件之间不要互相引用, 都在总文件里 include",
                    "remove this include: parts should not include each other; include them "
                    "all from the main file",
                )
            )
            return
        if key in seen:
            return
        seen.add(key)
        if not p.is_file():
            if at is None:
                raise PolicyLoadError(f"找不到政策文件 / policy file not found: {p}")
            folder = p.parent.as_posix()
            hz, he = _similar_file(written, Path(at.path).parent)
            diagnostics.append(
                Diagnostic(
                    "F111",
                    "error",
                    f"找不到引用的文件「{written}」(在文件夹 {folder} 里找)",
                    f"included file not found: '{written}' (looked in folder {folder})",
                    at,
                    hz or "路径相对于当前文件所在的文件夹, 文件夹之间用 / 分隔",
                    he
                    or "the path is relative to the folder of this file; separate folders with /",
                )
            )
            return
        try:
            src = Source.from_path(p)
        except OSError as exc:
            raise PolicyLoadError(f"cannot read policy file {p}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise PolicyLoadError(
                f"{p}: 文件不是 UTF-8 编码 / the file is not UTF-8 text; save it as UTF-8"
            ) from None
        texts[src.path] = src.text
        module = parse(src)
        modules.append(module)
        for item in module.items:
            if isinstance(item, ast.Include):
                visit(p.parent / item.path, (*stack, key), item.span, item.path)

    visit(root, (), None, str(root))
    if diagnostics:
        from fanpin_rules.errors import PolicyCheckError

        raise PolicyCheckError(diagnostics)
    return tuple(modules), texts


def _similar_file(written: str, folder: Path) -> tuple[str, str]:
    """'Did you mean' among the policy files of the folder (and its subfolders)."""
    from fanpin_rules.suggest import did_you_mean

    try:
        found = sorted(q.relative_to(folder).as_posix() for q in folder.rglob("*.policy"))
    except OSError:
        return "", ""
    return did_you_mean(written, found[:500])
