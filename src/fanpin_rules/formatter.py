"""Canonical layout of policy text (``fanpin fmt``), keeping every comment.

The formatter works on the parse tree with *all* tokens kept (a separate lark
instance built from the same grammar, so the shared parser is untouched) and
recovers the comments from the gaps between tokens.  It changes layout only:

* one declaration per block, a blank line between declarations (consecutive one-line
  declarations of the same kind, such as ``include`` lines, may stay together);
  the writer's blank lines inside blocks are kept, at most one in a row;
* two-space indentation inside braces; record fields, header settings, parameter
  values and labelled enum members aligned in columns;
* decision tables with aligned columns, padded by display width so that Chinese
  (full-width) text lines up;
* ``rule`` on three lines (header, ``when``, ``then``); an expression longer than
  the line (100 columns) is broken before ``and`` / ``or`` (then before other
  operators), the operator right-aligned under ``when`` so the operands line up;
* keywords keep the writer's spelling (``且`` stays ``且``, ``and`` stays ``and``,
  ``∧`` stays ``∧``); punctuation typed with a Chinese input method (，：（）｛｝｜＝)
  and the comparison and arithmetic signs ``≤ ≥ ≠ − × ÷ &`` are written in their
  ASCII form (``<= >= != - * / ∩``), which means the same;
* the JSON of ``example`` inputs keeps the writer's line grouping (only spaces and
  indentation change), since grouping fields by line is part of how a worked
  example reads;
* comments stay where they were: an own-line comment stays above the line of the
  token that follows it, an end-of-line comment stays at the end of its line (moved
  to the next place where a line can end when the line is re-laid out); the comment
  at the end of a declaration written on one line ends the declaration's *first* line
  when the layout splits it, so an acknowledgement (``# 已确认 F510: …``) stays on the
  line the checker reads it from.

The result always parses to the same tree as the input (``parse(format(p)) ==
parse(p)``), which :func:`format_text` verifies before returning, and formatting is
idempotent (``format(format(p)) == format(p)``).

>>> print(format_text('let  a=1+2   # sum\\nrule R-1 when a>=3 且 b then "m"'), end="")
let a = 1 + 2  # sum
<BLANKLINE>
rule R-1
  when a >= 3 且 b
  then "m"
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence

import attrs
from lark import Lark, Token, Tree

from fanpin_rules.errors import FanpinError
from fanpin_rules.parser import grammar_text, parse
from fanpin_rules.render import display_width
from fanpin_rules.source import Source

__all__ = ["WIDTH", "FormatterError", "format_text"]

#: The line width the formatter aims for, in display columns (a Chinese character is 2).
WIDTH = 100
_BODY = 2  # indentation of the lines inside a declaration

Node = Tree[Token] | Token

# Spellings that mean exactly the same token (the builder normalises them too).
_CANON = {
    "，": ",",
    "、": ",",
    "：": ":",
    "（": "(",
    "）": ")",
    "｛": "{",
    "｝": "}",
    "｜": "|",
    "｜｜": "||",
    "＝": "=",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "−": "-",
    "×": "*",
    "÷": "/",
    "&": "∩",
}
_SYMBOL_NOT = "¬"
_COMMENT = re.compile(r"#[^\n]*")


class FormatterError(FanpinError):
    """The formatter could not produce text equivalent to its input (a bug: the file
    is left as it was)."""

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(
            f"{path}: 格式化结果与原文含义不一致, 文件未改动 ({detail}); 请报告此问题 / "
            f"formatting would change the meaning of the file, left unchanged ({detail}); "
            "please report this"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.path, self.detail))


@functools.cache
def _lark() -> Lark:
    # The shared parser drops punctuation from the tree; the formatter needs every
    # token, so it builds its own instance from the same grammar text.
    return Lark(
        grammar_text(),
        parser="lalr",
        propagate_positions=True,
        strict=True,
        maybe_placeholders=False,
        keep_all_tokens=True,
    )


def format_text(text: str, path: str = "<string>") -> str:
    """The canonical layout of one policy file's text.

    Raises :class:`~fanpin_rules.errors.PolicySyntaxError` when the text does not
    parse (nothing can be laid out then), and :class:`FormatterError` if the result
    would not parse to the same tree or would lose a comment.

    >>> format_text("enum 劳动能力{有，弱，无}")
    'enum 劳动能力 { 有, 弱, 无 }\\n'
    """
    text = text.replace("\r\n", "\n")
    before = parse(Source(path, text))  # reports syntax errors the usual way
    tree = _lark().parse(text)
    tokens = sorted(tree.scan_values(lambda v: isinstance(v, Token)), key=_pos)
    att = _attach(text, tokens)
    opportunities = _Opportunities(att)
    comments = sorted(_comments_of(att))
    _move_trailing(att, tokens, opportunities.of_module(tree))
    out = _Printer(att, opportunities.one_line_enums).module(tree)
    try:
        after = parse(Source(path, out))
    except FanpinError as exc:
        raise FormatterError(path, f"result does not parse: {exc}") from None
    if after.items != before.items:
        raise FormatterError(path, "the parse tree differs")
    if sorted(_comments(out)) != comments:
        raise FormatterError(path, "a comment was lost")
    return out


# ---------------------------------------------------------------- comments


@attrs.define
class _Comment:
    text: str
    blank: bool  # a blank line before it


class _EndComment(str):
    """An end-of-line comment, with the source line it ends (to keep a comment on the
    first line of a declaration there, see :meth:`_Printer.keep_first_line_comments`)."""

    line: int

    def __new__(cls, text: str, line: int) -> _EndComment:
        self = super().__new__(cls, text)
        self.line = line
        return self


@attrs.define
class _Attachments:
    """Comments and blank lines, attached to tokens by start position."""

    leading: dict[int, list[_Comment]] = attrs.Factory(dict)
    trailing: dict[int, list[str]] = attrs.Factory(dict)
    blank: set[int] = attrs.Factory(set)  # tokens with a blank line right before them
    eof: list[_Comment] = attrs.Factory(list)


def _pos(tok: Token) -> int:
    return tok.start_pos or 0


def _end(tok: Token) -> int:
    return tok.end_pos or 0


def _attach(text: str, tokens: Sequence[Token]) -> _Attachments:
    """Find the comments between tokens: each one trails the token before it on its
    line, or leads the token after it.

    >>> text = "let a = 1  # x\\n\\n# y\\nlet b = 2"
    >>> toks = sorted(_lark().parse(text).scan_values(lambda v: isinstance(v, Token)), key=_pos)
    >>> att = _attach(text, toks)
    >>> [(text[p], c) for p, c in att.trailing.items()]
    [('1', ['# x'])]
    >>> [(text[p:p + 3], c) for p, c in att.leading.items()]
    [('let', [_Comment(text='# y', blank=True)])]
    """
    att = _Attachments()
    prev: Token | None = None
    for i in range(len(tokens) + 1):
        nxt = tokens[i] if i < len(tokens) else None
        start = _end(prev) if prev is not None else 0
        stop = _pos(nxt) if nxt is not None else len(text)
        gap = text[start:stop]
        cursor = 0
        leading: list[_Comment] = []
        for m in _COMMENT.finditer(gap):
            between = gap[cursor : m.start()]
            body = m.group().rstrip()
            if prev is not None and "\n" not in between and cursor == 0:
                line = prev.end_line or prev.line or 0
                att.trailing.setdefault(_pos(prev), []).append(_EndComment(body, line))
            else:
                leading.append(_Comment(body, between.count("\n") >= 2))
            cursor = m.end()
        blank = gap[cursor:].count("\n") >= 2
        if nxt is None:
            att.eof = leading  # blank lines at the end of the file are dropped
        else:
            if leading:
                att.leading[_pos(nxt)] = leading
            if blank:
                att.blank.add(_pos(nxt))
        prev = nxt
    return att


def _comments(text: str) -> Iterator[str]:
    """The comments of a text (found the same way as in :func:`_attach`).

    >>> list(_comments('let a = "#1"  # x\\n# y'))
    ['# x', '# y']
    """
    tokens = sorted(_lark().parse(text).scan_values(lambda v: isinstance(v, Token)), key=_pos)
    yield from _comments_of(_attach(text, tokens))


def _comments_of(att: _Attachments) -> Iterator[str]:
    for cs in att.leading.values():
        yield from (c.text for c in cs)
    for ts in att.trailing.values():
        yield from ts
    yield from (c.text for c in att.eof)


def _move_trailing(att: _Attachments, tokens: Sequence[Token], opportunities: set[int]) -> None:
    """Move each end-of-line comment forward to the next token after which the
    layout can end a line (so that a second run finds it where the first left it)."""
    moved: dict[int, list[str]] = {}
    pending: list[str] = []
    for tok in tokens:
        pending.extend(att.trailing.get(_pos(tok), ()))
        if pending and _pos(tok) in opportunities:
            moved[_pos(tok)] = pending
            pending = []
    if pending and tokens:
        moved.setdefault(_pos(tokens[-1]), []).extend(pending)
    att.trailing = moved


# ---------------------------------------------------------------- tree helpers


def _toks(node: Node) -> list[Token]:
    if isinstance(node, Token):
        return [node]
    return sorted(node.scan_values(lambda v: isinstance(v, Token)), key=_pos)


def _first(node: Node) -> Token:
    return _toks(node)[0]


def _last(node: Node) -> Token:
    return _toks(node)[-1]


def _canon(tok: Token) -> str:
    return _CANON.get(str(tok), str(tok))


def _kind(node: Node) -> str:
    return node.type if isinstance(node, Token) else str(node.data)


def _subtrees(node: Tree[Token]) -> list[Tree[Token]]:
    return [c for c in node.children if isinstance(c, Tree)]


def _is(node: Node, *kinds: str) -> bool:
    return _kind(node) in kinds


def _chain(node: Tree[Token]) -> tuple[list[Node], list[list[Token]]]:
    """The operands and operators of a left-nested chain of the same operator level.

    ``a or b or c`` gives ``[a, b, c]`` and ``[[or], [or]]``; ``x not in s`` gives
    ``[x, s]`` and ``[[not, in]]``.
    """
    kind = node.data
    level = _arith_level(node) if kind == "arith" else None
    operands: list[Node] = []
    ops: list[list[Token]] = []

    def same(child: Node) -> bool:
        if not isinstance(child, Tree) or child.data != kind:
            return False
        if kind == "arith":
            return _arith_level(child) == level
        return kind in ("or_op", "and_op")

    def walk(n: Tree[Token]) -> None:
        left, *middle, right = n.children
        if same(left):
            assert isinstance(left, Tree)
            walk(left)
        else:
            operands.append(left)
        ops.append([t for t in middle if isinstance(t, Token)])
        operands.append(right)

    walk(node)
    return operands, ops


def _arith_level(node: Tree[Token]) -> int:
    op = node.children[1]
    return 5 if isinstance(op, Token) and op.type in ("ADD_OP", "MINUS") else 6


_CHAINS = ("or_op", "and_op", "compare", "in_op", "not_in_op", "arith")


# ---------------------------------------------------------------- where lines can end


class _Opportunities:
    """The tokens after which the canonical layout may end a line.

    End-of-line comments are moved to these tokens; a comment on one of them forces
    the construct around it to break there.
    """

    def __init__(self, att: _Attachments) -> None:
        self.att = att  # as written: layout decisions never depend on moved comments
        self.found: set[int] = set()
        self.one_line_enums: set[int] = set()

    def add(self, node: Node) -> None:
        self.found.add(_pos(_last(node)))

    def of_module(self, tree: Tree[Token]) -> set[int]:
        for item in tree.children:
            self.item(item)
            self.add(item)
        return self.found

    def item(self, item: Node) -> None:
        if not isinstance(item, Tree):
            return
        kind = item.data
        ch = item.children
        if kind in ("policy_header", "record_decl", "param_decl", "table_decl", "example_decl"):
            for c in ch:
                if _is(c, "_LBRACE", *_LINES):
                    self.add(c)
                if isinstance(c, Tree) and c.data.startswith("ex_"):
                    self.add(c)
                    self.example_item(c)
        elif kind == "enum_decl":
            if not _has_inner_comment(item, self.att) and _dw(_enum_line(item)) <= WIDTH:
                self.one_line_enums.add(_pos(_first(item)))
                return
            for c in ch:
                if isinstance(c, Token) and c.type in ("_LBRACE", "_COMMA"):
                    self.add(c)
            members = [c for c in ch if isinstance(c, Tree)]
            self.add(members[-1])
        elif kind == "let_decl":
            for c in ch:
                if isinstance(c, Token) and c.type == "EQ":
                    self.add(c)
            expr = _let_parts(item)[1]
            self.add(expr)
            self.expr(expr)
        elif kind == "rule_decl":
            i = next(i for i, c in enumerate(ch) if isinstance(c, Token) and c.type == "WHEN")
            self.add(ch[i - 1])
            self.add(ch[i + 1])
            self.expr(ch[i + 1])

    def example_item(self, item: Tree[Token]) -> None:
        if item.data == "ex_expect_rules":
            for c in item.children:
                if isinstance(c, Token) and c.type == "_COMMA":
                    self.add(c)
        for c in item.children:
            if isinstance(c, Tree) and c.data in ("json_object", "json_value"):
                self.json(c)

    def json(self, node: Tree[Token]) -> None:
        if node.data == "json_value":
            for c in _subtrees(node):
                self.json(c)
            return
        if node.data == "json_pair":
            self.json(_tree(node.children[-1]))
            return
        block = _json_mode(node) == "block"
        elements = _subtrees(node)
        for tok in node.children:
            if _is(tok, "_COMMA") or (block and _is(tok, "_LBRACE", "LSQB")):
                self.add(tok)
        if block and elements:
            self.add(elements[-1])
        for e in elements:
            self.json(e)

    def expr(self, node: Node) -> None:
        if not isinstance(node, Tree):
            return
        if node.data in _CHAINS:
            operands, _ = _chain(node)
            for operand in operands[:-1]:
                self.add(operand)
            for operand in operands:
                self.expr(operand)
            return
        if node.data == "if_expr":
            self.add(node.children[1])
            self.add(node.children[3])
        if node.data in ("call_args", "set_lit"):
            for c in node.children:
                if isinstance(c, Token) and c.type == "_COMMA":
                    self.add(c)
        for c in _subtrees(node):
            self.expr(c)


# the parts of a braced declaration that each end a line
_LINES = ("meta", "field", "param_value", "table_header", "table_row")


def _let_parts(item: Tree[Token]) -> tuple[list[Node], Node, Tree[Token] | None]:
    """(the tokens and trees before the expression, the expression, the cite)."""
    ch = item.children
    eq = next(i for i, c in enumerate(ch) if isinstance(c, Token) and c.type == "EQ")
    rest = ch[eq + 1 :]
    cite = rest[1] if len(rest) > 1 else None
    assert cite is None or isinstance(cite, Tree)
    return list(ch[: eq + 1]), rest[0], cite


def _enum_line(item: Tree[Token]) -> str:
    """An enum on one line: ``enum 劳动能力 { 有, 弱, 无 }``."""
    ch = item.children
    lbrace = next(i for i, c in enumerate(ch) if _is(c, "_LBRACE"))
    members = [_flat_text(c) for c in ch if isinstance(c, Tree) and c.data == "enum_member"]
    return _text(_spaced(ch[: lbrace + 1])) + " " + ", ".join(members) + " }"


def _has_inner_comment(item: Tree[Token], att: _Attachments) -> bool:
    """A comment that would end a line inside the braces of an enum: after any token
    but the last, or above any token after the opening brace (a comment above a
    token of the first line goes above the whole declaration)."""
    toks = _toks(item)
    if any(att.trailing.get(_pos(t)) for t in toks[:-1]):
        return True
    lbrace = next(i for i, t in enumerate(toks) if t.type == "_LBRACE")
    return any(att.leading.get(_pos(t)) for t in toks[lbrace + 1 :])


def _json_mode(node: Tree[Token]) -> str:
    """``block`` when a line break follows the opening bracket, ``hanging`` when the
    elements span lines otherwise, else ``inline`` (decided on the source lines)."""
    ch = node.children
    opening, closing = ch[0], ch[-1]
    assert isinstance(opening, Token) and isinstance(closing, Token)
    elements = [c for c in ch if isinstance(c, Tree)]
    if not elements:
        return "inline"
    if (_first(elements[0]).line or 0) > (opening.line or 0):
        return "block"
    if (_last(elements[-1]).end_line or 0) > (opening.line or 0):
        return "hanging"
    return "inline"


# ---------------------------------------------------------------- flat text

_NO_SPACE_BEFORE = {"_COMMA", "_COLON", "RPAR", "RSQB", "_DOT", "_DOTDOT"}
_NO_SPACE_AFTER = {"LPAR", "LSQB", "_DOT", "_DOTDOT"}

Piece = Token | str


def _flat(node: Node) -> list[Piece]:
    """The pieces of a node on one line: tokens, and the spaces between them."""
    if isinstance(node, Token):
        return [node]
    kind = node.data
    ch = node.children
    if kind in ("neg", "signed_number"):
        return [p for c in ch for p in _flat(c)]
    if kind == "not_op" and str(ch[0]) == _SYMBOL_NOT:
        return [*_flat(ch[0]), *_flat(ch[1])]
    if kind == "call":
        return [*_flat(ch[0]), *_spaced(ch[1:])]
    if kind == "cell_not":
        return [*_flat(ch[0]), *_spaced(ch[1:])]
    if kind == "set_lit" and len(ch) > 1:
        return [*_flat(ch[0]), *_spaced(ch[1:-1]), *_flat(ch[-1])]
    if kind == "json_object" and len(ch) == 2:
        return [*_flat(ch[0]), *_flat(ch[1])]
    if kind in ("meta", "ex_as_of"):
        # the colon after a setting's name is optional; the canonical form has none
        parts: list[Piece] = []
        for c in ch:
            if isinstance(c, Token) and c.type == "_COLON":
                parts.append(_Dropped(c))
            else:
                parts.extend([" ", *_flat(c)] if parts else _flat(c))
        return parts
    return _spaced(ch)


class _Dropped(str):
    """A token left out of the canonical text (its comments are kept)."""

    token: Token

    def __new__(cls, token: Token) -> _Dropped:
        self = super().__new__(cls, "")
        self.token = token
        return self


def _spaced(children: Iterable[Node]) -> list[Piece]:
    parts: list[Piece] = []
    prev: Token | None = None
    for c in children:
        sub = _flat(c)
        first = next((p for p in sub if isinstance(p, Token)), None)
        if (
            parts
            and prev is not None
            and first is not None
            and first.type not in _NO_SPACE_BEFORE
            and prev.type not in _NO_SPACE_AFTER
        ):
            parts.append(" ")
        parts.extend(sub)
        last = next((p for p in reversed(sub) if isinstance(p, Token)), None)
        prev = last if last is not None else prev
    return parts


def _text(pieces: Iterable[Piece]) -> str:
    return "".join(_canon(p) if isinstance(p, Token) else p for p in pieces)


def _flat_text(node: Node) -> str:
    return _text(_flat(node))


def _dw(text: str) -> int:
    return display_width(text)


# ---------------------------------------------------------------- output lines


@attrs.define
class _Line:
    indent: int
    text: str = ""
    before: list[_Comment] = attrs.Factory(list)
    after: list[str] = attrs.Factory(list)
    blank: bool = False  # a blank line before this line (after its comments)
    member: bool = False  # the first token's blank lines and comments count
    first: bool = False  # the first line inside braces: no blank line before it
    closing: bool = False  # a closing brace: its comments are indented as the content
    separate: bool = False  # a blank line before the first of its comments, or itself


class _Writer:
    """Builds output lines; each token brings its comments along."""

    def __init__(self, att: _Attachments) -> None:
        self.att = att
        self.lines: list[_Line] = []

    def line(
        self, indent: int, *, member: bool = False, first: bool = False, closing: bool = False
    ) -> None:
        self.lines.append(_Line(indent, member=member, first=first, closing=closing))

    @property
    def col(self) -> int:
        cur = self.lines[-1]
        return cur.indent + _dw(cur.text)

    def text(self, s: str) -> None:
        self.lines[-1].text += s

    def tok(self, tok: Token, text: str | None = None) -> None:
        cur = self.lines[-1]
        pos = _pos(tok)
        lead = self.att.leading.get(pos, [])
        owner = cur.member and cur.text == "" and not cur.before
        if owner:
            cur.before.extend(lead)
            cur.blank = pos in self.att.blank
        else:
            cur.before.extend(_Comment(c.text, False) for c in lead)
        cur.text += _canon(tok) if text is None else text
        cur.after.extend(self.att.trailing.get(pos, ()))

    def pieces(self, pieces: Iterable[Piece]) -> None:
        for p in pieces:
            if isinstance(p, Token):
                self.tok(p)
            elif isinstance(p, _Dropped):
                self.tok(p.token, "")
            else:
                self.text(p)

    def flat(self, node: Node) -> None:
        self.pieces(_flat(node))

    def render(self) -> str:
        """The text: comments above their line, end-of-line comments aligned when
        consecutive lines carry one, at most one blank line in a row."""
        rows: list[tuple[bool, str, str | None]] = []  # (blank before, text, comment)
        for ln in self.lines:
            comment_indent = " " * (ln.indent + (_BODY if ln.closing else 0))
            things: list[tuple[bool, str, str | None]] = [
                (c.blank, comment_indent + c.text, None) for c in ln.before
            ]
            things += [(False, comment_indent + c, None) for c in ln.after[:-1]]
            body = " " * ln.indent + ln.text.rstrip()
            things.append((ln.blank and not ln.closing, body, ln.after[-1] if ln.after else None))
            if ln.first or not rows:
                things[0] = (False, *things[0][1:])
            elif ln.separate:
                things[0] = (True, *things[0][1:])
            rows.extend(things)
        rows.extend((c.blank, c.text, None) for c in self.att.eof)
        out: list[str] = []
        i = 0
        while i < len(rows):
            # a run of consecutive lines with end-of-line comments: align the comments
            j = i
            while j < len(rows) and rows[j][2] is not None and (j == i or not rows[j][0]):
                j += 1
            if j > i:
                width = max(_dw(rows[k][1]) for k in range(i, j))
                for k in range(i, j):
                    blank, text, comment = rows[k]
                    if blank and out:
                        out.append("")
                    out.append(text + " " * (width - _dw(text) + 2) + str(comment))
                i = j
                continue
            blank, text, _ = rows[i]
            if blank and out:
                out.append("")
            out.append(text.rstrip())
            i += 1
        return "\n".join(out) + "\n" if out else ""


# ---------------------------------------------------------------- the printer


class _Printer:
    """Lays out each declaration of a parse tree (one method per grammar rule, named
    after it) into the writer's lines."""

    def __init__(self, att: _Attachments, one_line_enums: set[int]) -> None:
        self.att = att
        self.one_line_enums = one_line_enums
        self.w = _Writer(att)

    # ------------------------------------------------------------ helpers
    def forced(self, node: Node) -> bool:
        """A comment after a token of ``node`` other than its last: a line must end
        inside it."""
        return any(self.att.trailing.get(_pos(t)) for t in _toks(node)[:-1])

    def fits(self, node: Node, tail: int = 0) -> bool:
        return not self.forced(node) and self.w.col + _dw(_flat_text(node)) + tail <= WIDTH

    def words(self, nodes: Sequence[Node]) -> None:
        self.w.pieces(_spaced(nodes))

    def close(self, brace: Node, indent: int = 0) -> None:
        assert isinstance(brace, Token)
        self.w.line(indent, member=True, closing=True)
        self.w.tok(brace)

    def member(self, indent: int, first: bool) -> None:
        self.w.line(indent, member=True, first=first)

    # ------------------------------------------------------------ module
    def module(self, tree: Tree[Token]) -> str:
        """The whole file: declarations separated by a blank line, except one-line
        declarations of the same kind that the writer kept together."""
        starts: list[int] = []
        kinds: list[str] = []
        for item in tree.children:
            assert isinstance(item, Tree)
            starts.append(len(self.w.lines))
            kinds.append(str(item.data))
            self.w.line(0, member=True)
            getattr(self, str(item.data))(item)
        starts.append(len(self.w.lines))
        for i, item in enumerate(tree.children):
            line = _first(item).line or 0
            if (_last(item).end_line or 0) == line:  # written on one line
                self.keep_first_line_comments(line, starts[i], starts[i + 1])
        for i in range(1, len(kinds)):
            one_line = starts[i] - starts[i - 1] == 1 and starts[i + 1] - starts[i] == 1
            if not (one_line and kinds[i] == kinds[i - 1]):
                self.w.lines[starts[i]].separate = True
        return self.w.render()

    def keep_first_line_comments(self, line: int, start: int, stop: int) -> None:
        """The end-of-line comment of a declaration written on one line ends the
        declaration's first line when the layout splits it (not its closing brace or
        its ``then`` line): the comment is about the whole declaration, and the checker
        reads an acknowledgement (``# 已确认 F510: …``) only on the line a finding points
        to, which for a declaration is the line of its name."""
        first = self.w.lines[start]
        moved: list[str] = []
        for ln in self.w.lines[start + 1 : stop]:
            keep: list[str] = []
            for c in ln.after:
                (moved if isinstance(c, _EndComment) and c.line == line else keep).append(c)
            ln.after = keep
        first.after[:0] = moved

    # ------------------------------------------------------------ header, include, input
    def policy_header(self, item: Tree[Token]) -> None:
        ch = item.children
        self.words(ch[:3])
        metas = _subtrees(item)
        width = max((_dw(_canon(_first(m))) for m in metas), default=0)
        for i, m in enumerate(metas):
            self.member(_BODY, i == 0)
            key, *rest = m.children
            self.w.tok(_tok(key))
            self.w.text(" " * (width - _dw(_canon(_tok(key))) + 1))
            for c in rest:
                if _is(c, "_COLON"):
                    self.w.tok(_tok(c), "")
                else:
                    self.w.flat(c)
        self.close(ch[-1])

    def include(self, item: Tree[Token]) -> None:
        self.w.flat(item)

    def input_decl(self, item: Tree[Token]) -> None:
        self.w.flat(item)

    # ------------------------------------------------------------ enum
    def enum_decl(self, item: Tree[Token]) -> None:
        """On one line when it fits; else labelled members one per line with the
        labels aligned, or plain members filling the lines."""
        ch = item.children
        lbrace = next(i for i, c in enumerate(ch) if _is(c, "_LBRACE"))
        self.words(ch[: lbrace + 1])
        members: list[tuple[Tree[Token], Token | None]] = []
        for c in ch[lbrace + 1 : -1]:
            if isinstance(c, Tree):
                members.append((c, None))
            else:
                members[-1] = (members[-1][0], c)
        if _pos(_first(item)) in self.one_line_enums:
            for i, (m, comma) in enumerate(members):
                self.w.text(" ")
                self.w.flat(m)
                if comma is not None:
                    self.w.tok(comma, "," if i < len(members) - 1 else "")
            self.w.text(" ")
            self.w.tok(_tok(ch[-1]))
            return
        labelled = any(len(m.children) > 1 for m, _ in members)
        width = max(_dw(_canon(_tok(m.children[0]))) for m, _ in members)
        for i, (m, comma) in enumerate(members):
            last = i == len(members) - 1
            text = _flat_text(m)
            if labelled or i == 0 or self.att.trailing.get(_pos(members[i - 1][1] or _last(m))):
                self.member(_BODY, i == 0)
            elif self.w.col + 1 + _dw(text) + (0 if last else 1) > WIDTH:
                self.member(_BODY, False)
            else:
                self.w.text(" ")
            name, *label = m.children
            self.w.tok(_tok(name))
            if label:
                self.w.text(" " * (width - _dw(_canon(_tok(name))) + 1))
                self.w.tok(_tok(label[0]))
            if comma is not None:
                self.w.tok(comma, "" if last else ",")
            elif not last:
                self.w.text(",")
        self.close(ch[-1])

    # ------------------------------------------------------------ record
    def record_decl(self, item: Tree[Token]) -> None:
        """Fields in columns: key, label, then the types aligned."""
        ch = item.children
        lbrace = next(i for i, c in enumerate(ch) if _is(c, "_LBRACE"))
        self.words(ch[: lbrace + 1])
        fields = [c for c in ch[lbrace + 1 : -1] if isinstance(c, Tree)]
        key_w = max((_dw(_canon(_tok(f.children[0]))) for f in fields), default=0)

        def left(f: Tree[Token]) -> list[Piece]:
            key = _tok(f.children[0])
            if _is(f.children[1], "label"):
                pad = " " * (key_w - _dw(_canon(key)) + 1)
                return [key, pad, *_flat(f.children[1]), _tok(f.children[2])]
            return [key, _tok(f.children[1])]

        left_w = max((_dw(_text(left(f))) for f in fields), default=0)
        for i, f in enumerate(fields):
            self.member(_BODY, i == 0)
            lp = left(f)
            self.w.pieces(lp)
            self.w.text(" " * (left_w - _dw(_text(lp)) + 1))
            colon = next(j for j, c in enumerate(f.children) if _is(c, "_COLON"))
            self.words(f.children[colon + 1 :])
        self.close(ch[-1])

    # ------------------------------------------------------------ param
    def param_decl(self, item: Tree[Token]) -> None:
        """One value per line, the ``cite`` of the values aligned."""
        ch = item.children
        lbrace = next(i for i, c in enumerate(ch) if _is(c, "_LBRACE"))
        self.words(ch[: lbrace + 1])
        values = [c for c in ch[lbrace + 1 : -1] if isinstance(c, Tree)]
        lit_w = max(_dw(_text(_spaced(v.children[:3]))) for v in values)
        for i, v in enumerate(values):
            self.member(_BODY, i == 0)
            head = _spaced(v.children[:3])
            self.w.pieces(head)
            if len(v.children) > 3:
                self.w.text(" " * (lit_w - _dw(_text(head)) + 1))
                self.w.flat(v.children[3])
        self.close(ch[-1])

    # ------------------------------------------------------------ let
    def let_decl(self, item: Tree[Token]) -> None:
        """On one line when it fits; else the ``cite`` on its own line; else the
        expression on its own lines under the header."""
        head, expr, cite = _let_parts(item)
        self.words(head)
        eq = _tok(head[-1])
        cite_w = _dw(_flat_text(cite)) + 1 if cite is not None else 0
        head_breaks = bool(self.att.trailing.get(_pos(eq)))
        if (
            not head_breaks
            and self.w.col + 1 + _dw(_flat_text(expr)) <= WIDTH
            and (not self.forced(expr))
        ):
            self.w.text(" ")
            self.w.flat(expr)
            if cite is not None:
                expr_breaks = bool(self.att.trailing.get(_pos(_last(expr))))
                if not expr_breaks and self.w.col + cite_w <= WIDTH:
                    self.w.text(" ")
                else:
                    self.w.line(_BODY)
                self.w.flat(cite)
            return
        self.w.line(_BODY)
        self.expr(expr)
        if cite is not None:
            self.w.line(_BODY)
            self.w.flat(cite)

    # ------------------------------------------------------------ rule
    def rule_decl(self, item: Tree[Token]) -> None:
        """Three lines: the header, ``when`` and its condition, ``then`` and the message."""
        ch = item.children
        when = next(i for i, c in enumerate(ch) if _is(c, "WHEN"))
        self.words(ch[:when])
        self.w.line(_BODY)
        self.w.tok(_tok(ch[when]))
        self.w.text(" ")
        self.expr(ch[when + 1])
        self.w.line(_BODY)
        self.words(ch[when + 2 :])

    # ------------------------------------------------------------ table
    def table_decl(self, item: Tree[Token]) -> None:
        """Rows in aligned columns, padded by display width (inputs and outputs apart,
        so a ragged row still lines up with the others)."""
        ch = item.children
        lbrace = next(i for i, c in enumerate(ch) if _is(c, "_LBRACE"))
        self.words(ch[: lbrace + 1])
        rows = [c for c in ch[lbrace + 1 : -1] if isinstance(c, Tree)]
        split = [_table_cells(r) for r in rows]
        in_w: dict[int, int] = {}
        out_w: dict[int, int] = {}
        for ins, outs in split:
            for j, cell in enumerate(ins):
                in_w[j] = max(in_w.get(j, 0), _dw(_text(cell.pieces)))
            for j, cell in enumerate(outs):
                out_w[j] = max(out_w.get(j, 0), _dw(_text(cell.pieces)))
        for i, (ins, outs) in enumerate(split):
            self.member(_BODY, i == 0)
            for j, cell in enumerate(ins):
                self.w.tok(cell.pipe)
                self.w.text(" ")
                self.w.pieces(cell.pieces)
                self.w.text(" " * (in_w[j] - _dw(_text(cell.pieces)) + 1))
            for j, cell in enumerate(outs):
                self.w.tok(cell.pipe)
                self.w.text(" ")
                self.w.pieces(cell.pieces)
                self.w.text(" " * (out_w[j] - _dw(_text(cell.pieces)) + 1))
            self.w.tok(_last(rows[i]))
        self.close(ch[-1])

    # ------------------------------------------------------------ example
    def example_decl(self, item: Tree[Token]) -> None:
        ch = item.children
        lbrace = next(i for i, c in enumerate(ch) if _is(c, "_LBRACE"))
        self.words(ch[: lbrace + 1])
        entries = [c for c in ch[lbrace + 1 : -1] if isinstance(c, Tree)]
        for i, e in enumerate(entries):
            self.member(_BODY, i == 0)
            if e.data in ("ex_input", "ex_expect_value"):
                json = e.children[-1]
                self.words(e.children[:-1])
                self.w.text(" ")
                self.json(json)
            elif e.data == "ex_expect_rules":
                self.fill_ids(e)
            else:
                self.w.flat(e)
        self.close(ch[-1])

    def fill_ids(self, e: Tree[Token]) -> None:
        """``expect fired A, B, …``: the ids fill the line, then continue indented."""
        ch = e.children
        first_id = next(i for i, c in enumerate(ch) if _is(c, "RULE_ID"))
        self.words(ch[: first_id + 1])
        rest = ch[first_id + 1 :]
        for k in range(0, len(rest), 2):
            comma, rid = _tok(rest[k]), _tok(rest[k + 1])
            self.w.tok(comma)
            if self.att.trailing.get(_pos(comma)) or (
                self.w.col + 1 + _dw(_canon(rid)) + (1 if k + 2 < len(rest) else 0) > WIDTH
            ):
                self.w.line(_BODY * 2)
            else:
                self.w.text(" ")
            self.w.tok(rid)

    # ------------------------------------------------------------ JSON (example data)
    def json(self, node: Node) -> None:
        """JSON as the writer grouped it: a line break after an opening bracket or a
        comma is kept, any other is dropped; spaces and indentation are canonical."""
        if isinstance(node, Token) or node.data not in ("json_value", "json_object", "json_array"):
            self.w.flat(node)
            return
        if node.data == "json_value":
            for c in node.children:
                self.json(c)
            return
        mode = _json_mode(node)
        if mode == "inline" and not self.forced(node):
            self.w.flat(node)
            return
        ch = node.children
        opening, closing = _tok(ch[0]), _tok(ch[-1])
        base = self.w.lines[-1].indent
        col = self.w.col
        is_object = opening.type == "_LBRACE"
        self.w.tok(opening)
        if mode == "block":
            inner = base + _BODY
            self.w.line(inner)
        else:
            inner = col + (2 if is_object else 1)
            if is_object:
                self.w.text(" ")
        elements: list[tuple[Tree[Token], Token | None]] = []
        for c in ch[1:-1]:
            if isinstance(c, Tree):
                elements.append((c, None))
            else:
                elements[-1] = (elements[-1][0], c)
        for i, (el, comma) in enumerate(elements):
            if el.data == "json_pair":
                key, colon, value = el.children
                self.w.tok(_tok(key))
                self.w.tok(_tok(colon))
                self.w.text(" ")
                self.json(value)
            else:
                self.json(el)
            if comma is None:
                continue
            self.w.tok(comma)
            nxt = elements[i + 1][0]
            if (_first(nxt).line or 0) > (comma.line or 0) or self.att.trailing.get(_pos(comma)):
                self.w.line(inner)
            else:
                self.w.text(" ")
        if mode == "block":
            self.w.line(base, closing=True)
        elif is_object:
            self.w.text(" ")
        self.w.tok(closing)

    # ------------------------------------------------------------ expressions
    def expr(self, node: Node, tail: int = 0) -> None:
        """Write an expression at the current column, breaking it when it does not
        fit or when a comment ends a line inside it."""
        if isinstance(node, Token) or self.fits(node, tail):
            self.w.flat(node)
            return
        kind = node.data
        ch = node.children
        if kind in _CHAINS:
            self.chain(node, tail)
        elif kind == "paren":
            self.w.tok(_tok(ch[0]))
            self.expr(ch[1], tail + 1)
            self.w.tok(_tok(ch[2]))
        elif kind == "call":
            self.w.tok(_tok(ch[0]))
            self.w.tok(_tok(ch[1]))
            if len(ch) == 4:
                self.call_args(_tree(ch[2]), tail + 1)
            self.w.tok(_tok(ch[-1]))
        elif kind == "set_lit" and len(ch) > 1:
            self.set_lit(node, tail)
        elif kind == "if_expr":
            self.if_expr(node, tail)
        elif kind == "not_op":
            self.w.tok(_tok(ch[0]))
            if str(ch[0]) != _SYMBOL_NOT:
                self.w.text(" ")
            self.expr(ch[1], tail)
        else:
            self.generic(node, tail)

    def generic(self, node: Tree[Token], tail: int) -> None:
        """Any other expression: its parts in a row, each sub-expression free to break."""
        pieces = _spaced(node.children)
        # write the pieces, laying out sub-trees (not flat) where they start
        subtrees = {id(_first(c)): c for c in node.children if isinstance(c, Tree)}
        i = 0
        while i < len(pieces):
            p = pieces[i]
            if isinstance(p, Token) and id(p) in subtrees:
                sub = subtrees[id(p)]
                n = len(_flat(sub))
                self.expr(sub, tail if i + n >= len(pieces) else 0)
                i += n
                continue
            self.w.pieces([p])
            i += 1

    def chain(self, node: Tree[Token], tail: int) -> None:
        """One operand per line, each after its operator.  ``and``/``or`` after a
        keyword right-align so the operands line up (``when a`` / `` and b``); just
        inside a bracket the operators go under the first operand; otherwise they hang
        two columns in."""
        operands, ops = _chain(node)
        col = self.w.col
        before = self.w.lines[-1].text
        logical = node.data in ("or_op", "and_op")
        self.expr(operands[0])
        for k, (op, operand) in enumerate(zip(ops, operands[1:], strict=True)):
            op_w = _dw(" ".join(_canon(t) for t in op))
            if before.strip() and before[-1] in "([{":  # inside a bracket: under the operand
                indent = col
            elif before.strip() and logical and col - op_w - 1 >= _BODY:
                indent = col - op_w - 1  # after when / where / and …: the operands line up
            else:  # the chain starts its line, or compares or computes: hang the operators
                indent = col + _BODY
            self.w.line(indent)
            for t in op:
                self.w.tok(t)
                self.w.text(" ")
            self.expr(operand, tail if k == len(ops) - 1 else 0)

    def call_args(self, node: Tree[Token], tail: int) -> None:
        """Positional arguments one per line under the first; ``where`` and ``:`` stay
        on the line of the last argument (their expressions break on their own)."""
        col = self.w.col
        ch = node.children
        for i, c in enumerate(ch):
            if isinstance(c, Token):  # a comma between positional arguments
                self.w.tok(c)
                self.w.line(col)
            elif c.data == "call_where":
                self.w.text(" ")
                self.w.tok(_tok(c.children[0]))
                self.w.text(" ")
                self.expr(c.children[1], tail if i == len(ch) - 1 else 0)
            elif c.data == "call_body":
                self.w.tok(_tok(c.children[0]))
                self.w.text(" ")
                self.expr(c.children[1], tail)
            else:
                self.expr(c, tail if i == len(ch) - 1 else 0)

    def set_lit(self, node: Tree[Token], tail: int) -> None:
        """Elements fill the lines after the brace."""
        ch = node.children
        self.w.tok(_tok(ch[0]))
        col = self.w.col
        items = ch[1:-1]
        for i, c in enumerate(items):
            if isinstance(c, Token):
                self.w.tok(c)
                nxt = items[i + 1]
                extra = tail + 1 if i + 2 == len(items) else 1
                if self.att.trailing.get(_pos(c)) or (
                    self.w.col + 1 + _dw(_flat_text(nxt)) + extra > WIDTH
                ):
                    self.w.line(col)
                else:
                    self.w.text(" ")
            else:
                self.expr(c, tail + 1 if i == len(items) - 1 else 1)
        self.w.tok(_tok(ch[-1]))

    def if_expr(self, node: Tree[Token], tail: int) -> None:
        """``if C then A`` / ``else B``; ``then`` gets its own line when needed."""
        if_, cond, then, a, else_, b = node.children
        col = self.w.col
        self.w.tok(_tok(if_))
        self.w.text(" ")
        self.expr(cond)
        then_text = " " + _canon(_tok(then)) + " " + _flat_text(a)
        cond_ends = bool(self.att.trailing.get(_pos(_last(cond))))
        if cond_ends or self.forced(a) or self.w.col + _dw(then_text) > WIDTH:
            self.w.line(col)
        else:
            self.w.text(" ")
        self.w.tok(_tok(then))
        self.w.text(" ")
        self.expr(a)
        self.w.line(col)
        self.w.tok(_tok(else_))
        self.w.text(" ")
        self.expr(b, tail)


@attrs.define
class _Cell:
    pipe: Token
    pieces: list[Piece]


def _table_cells(row: Tree[Token]) -> tuple[list[_Cell], list[_Cell]]:
    """A table header or row as (input cells, output cells), each after its pipe."""
    ins: list[_Cell] = []
    outs: list[_Cell] = []
    target = ins
    ch = row.children
    for c in ch[:-1]:
        if isinstance(c, Token) and c.type in ("_PIPE", "DPIPE"):
            if c.type == "DPIPE":
                target = outs
            target.append(_Cell(c, []))
        else:
            target[-1].pieces.extend(_flat(c))
    return ins, outs


def _tok(node: Node) -> Token:
    assert isinstance(node, Token)
    return node


def _tree(node: Node) -> Tree[Token]:
    assert isinstance(node, Tree)
    return node
