"""Parse policy text into the AST, and load a policy with its includes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from lark import (
    Lark,
    Token,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)
from lark.exceptions import VisitError

from fanpin_rules import ast
from fanpin_rules.builder import BadString, Builder
from fanpin_rules.errors import Diagnostic, PolicyLoadError, PolicySyntaxError
from fanpin_rules.source import Source, Span
from fanpin_rules.syntax_errors import (
    SYNTAX_ERRORS,
    TERMINAL_NAMES_EN,
    TERMINAL_NAMES_ZH,
    label,
)

__all__ = ["grammar_text", "parse", "parse_file"]


def grammar_text() -> str:
    """The grammar shipped in the package (or, in a source checkout, ``grammar/``)."""
    try:
        return (resources.files("fanpin_rules") / "grammar" / "policy.lark").read_text("utf-8")
    except (FileNotFoundError, NotADirectoryError):
        here = Path(__file__).resolve().parents[2] / "grammar" / "policy.lark"
        return here.read_text("utf-8")


@functools.cache
def _lark() -> Lark:
    # Built once per process; a Lark LALR parser keeps no state between parse() calls.
    return Lark(
        grammar_text(),
        parser="lalr",
        propagate_positions=True,
        strict=True,
        maybe_placeholders=False,
    )


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
        tok = exc.orig_exc.token
        line, col = tok.line or 1, tok.column or 1
        raise PolicySyntaxError(
            [
                Diagnostic(
                    "F023",
                    "error",
                    "引号里的反斜杠 \\ 写法不对",
                    "invalid backslash escape in quoted text",
                    Span(src.path, line, col, tok.end_line or line, tok.end_column or col + 1),
                    '反斜杠只能写成 \\\\、\\" 或 \\n; 不需要时删掉它',
                    'a backslash may only be \\\\, \\" or \\n; remove it otherwise',
                )
            ]
        ) from None
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
        candidate = candidate or code
    if candidate is not None:
        return candidate
    # The same mistake leaves the parser in a different state depending on the token
    # before it; fall back on what the parser was waiting for.
    for terminal, code in _EXPECTED_FALLBACK:
        if terminal in accepts and (terminal != "$END" or exc.token.type != "$END"):
            if terminal == "_RBRACE" and exc.token.type != "$END":
                continue
            return code
    return None


_EXPECTED_FALLBACK = (
    ("THEN", "F001"),
    ("WHEN", "F002"),
    ("_RBRACE", "F005"),
    ("RPAR", "F009"),
)


def _syntax_diagnostic(src: Source, exc: UnexpectedInput) -> Diagnostic:
    line = exc.line if exc.line and exc.line > 0 else 1
    col = exc.column if exc.column and exc.column > 0 else 1
    width = 1
    if isinstance(exc, UnexpectedToken) and isinstance(exc.token, Token):
        width = max(1, len(str(exc.token)))
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        lines = src.text.splitlines() or [""]
        line = len(lines)
        col = len(lines[-1]) + 1
    span = Span(src.path, line, col, line, col + width)

    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        ch = src.text[pos] if pos < len(src.text) else ""
        if ch and ch in "“”‘’「」":
            return Diagnostic(
                "F020",
                "error",
                f"这里用了中文引号 {ch}",
                f"Chinese quotation mark {ch} used here",
                span,
                '文字要用英文双引号 "…" 括起来',
                'quote text with ASCII double quotes "…"',
            )
        if ch == '"':
            return Diagnostic(
                "F021",
                "error",
                "引号没有闭合",
                "the quoted text is not closed",
                span,
                '在同一行末尾补上 "',
                'add the closing " on the same line',
            )
        return Diagnostic(
            "F022",
            "error",
            f"无法识别的字符 {ch!r}",
            f"unexpected character {ch!r}",
            span,
            "删除这个字符, 或检查是否误用了全角符号",
            "remove the character, or check for a full-width symbol typed by mistake",
        )

    code = _match_example(exc)
    if code is not None:
        lab = label(code)
        return Diagnostic(
            code, "error", lab.message_zh, lab.message_en, span, lab.hint_zh, lab.hint_en
        )
    return _generic(exc, span)


def _describe(names: set[str], table: dict[str, str]) -> str:
    shown = sorted({table.get(n, n.strip("_").lower()) for n in names})
    if len(shown) > 8:
        shown = [*shown[:8], "…"]
    return "、".join(shown) if table is TERMINAL_NAMES_ZH else ", ".join(shown)


def _generic(exc: UnexpectedInput, span: Span) -> Diagnostic:
    expected: set[str] = set()
    found = "文件结尾"
    found_en = "the end of the file"
    if isinstance(exc, UnexpectedToken):
        expected = set(exc.accepts or exc.expected)
        if exc.token.type != "$END":
            found = found_en = repr(str(exc.token))
    elif isinstance(exc, UnexpectedEOF):
        expected = set(exc.expected)
    render: Callable[[set[str], dict[str, str]], str] = _describe
    return Diagnostic(
        "F000",
        "error",
        f"这里不应出现 {found}",
        f"unexpected {found_en}",
        span,
        f"这里应当是: {render(expected, TERMINAL_NAMES_ZH)}",
        f"expected one of: {render(expected, TERMINAL_NAMES_EN)}",
    )


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

    def visit(p: Path, stack: tuple[Path, ...], at: Span | None) -> None:
        key = p.resolve()
        if key in stack:
            diagnostics.append(
                Diagnostic(
                    "F110",
                    "error",
                    f"循环引用: {p.name} 又引用了自己",
                    f"circular include: {p.name} includes itself",
                    at,
                    "删除其中一处 include",
                    "remove one of the includes",
                )
            )
            return
        if key in seen:
            return
        seen.add(key)
        if not p.is_file():
            if at is None:
                raise PolicyLoadError(f"找不到政策文件 / policy file not found: {p}")
            diagnostics.append(
                Diagnostic(
                    "F111",
                    "error",
                    f"找不到引用的文件 {p}",
                    f"included file not found: {p}",
                    at,
                    "路径相对于当前文件所在的文件夹",
                    "the path is relative to the folder of this file",
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
                visit(p.parent / item.path, (*stack, key), item.span)

    visit(root, (), None)
    if diagnostics:
        from fanpin_rules.errors import PolicyCheckError

        raise PolicyCheckError(diagnostics)
    return tuple(modules), texts
