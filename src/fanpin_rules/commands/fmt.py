"""``fanpin fmt``: lay policy files out canonically (or, with ``--check``, say which
files would change, for CI).

Exit status: 0 when every file is (now) formatted, 1 when ``--check`` finds a file to
reformat or a file does not parse, 2 for a missing file.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from fanpin_rules.commands import EXIT_FINDINGS, EXIT_OK, UsageError, msg, out, write_atomic
from fanpin_rules.errors import FanpinError, PolicySyntaxError
from fanpin_rules.formatter import format_text
from fanpin_rules.render import render_diagnostics

_BOM = "\ufeff"


@attrs.frozen
class Encoded:
    """A file's text with the byte-order mark and line endings it was saved with.

    >>> e = Encoded.decode(b"\\xef\\xbb\\xbflet a = 1\\r\\n")
    >>> e.text, e.bom, e.newline
    ('let a = 1\\n', True, '\\r\\n')
    >>> e.encode("let a = 2\\n")
    b'\\xef\\xbb\\xbflet a = 2\\r\\n'
    """

    text: str
    bom: bool
    newline: str

    @classmethod
    def decode(cls, data: bytes) -> Encoded:
        raw = data.decode("utf-8")
        bom = raw.startswith(_BOM)
        if bom:
            raw = raw[1:]
        newline = "\r\n" if "\r\n" in raw.split("\n", 1)[0] + "\n" else "\n"
        # the same reading as the parser's (universal newlines)
        text = raw.replace("\r\n", "\n").replace("\r", "\n")
        return cls(text, bom, newline)

    def encode(self, text: str) -> bytes:
        body = text.replace("\n", self.newline) if self.newline != "\n" else text
        return ((_BOM if self.bom else "") + body).encode("utf-8")


def policy_files(paths: list[str]) -> Iterator[Path]:
    """The files named, and the ``.policy`` files under the folders named (sorted)."""
    for name in paths:
        p = Path(name)
        if p.is_dir():
            yield from sorted(q for q in p.rglob("*.policy") if q.is_file())
        elif p.is_file():
            yield p
        else:
            raise UsageError(f"找不到文件 / no such file or folder: {name}")


def unified_diff(old: str, new: str, name: str) -> str:
    """A unified diff between two texts, ``a/name`` → ``b/name``.

    >>> print(unified_diff("let a=1\\n", "let a = 1\\n", "x.policy"), end="")
    --- a/x.policy
    +++ b/x.policy
    @@ -1 +1 @@
    -let a=1
    +let a = 1
    """
    relative = not (name.startswith("/") or name.startswith("<") or ":" in name[:3])
    before, after = (f"a/{name}", f"b/{name}") if relative else (name, name)
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), before, after
    )
    return "".join(
        ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n" for ln in lines
    )


def cmd_fmt(args: argparse.Namespace) -> int:
    lang = args.lang
    if args.files == ["-"]:
        return _stdin(args)
    if "-" in args.files:
        raise UsageError("「-」(标准输入) 只能单独使用 / '-' (standard input) must be used alone")
    changed: list[Path] = []
    same = 0
    failed = 0
    for path in policy_files(args.files):
        try:
            enc = Encoded.decode(path.read_bytes())
        except OSError as exc:
            raise UsageError(f"{path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            out(
                msg(
                    lang,
                    f"{path}: 文件不是 UTF-8 编码, 请另存为 UTF-8",
                    f"{path}: the file is not UTF-8 text; save it as UTF-8",
                ),
                sys.stderr,
            )
            failed += 1
            continue
        try:
            new = format_text(enc.text, str(path))
        except PolicySyntaxError as exc:
            out(render_diagnostics(exc.diagnostics, {str(path): enc.text}, lang), sys.stderr)
            failed += 1
            continue
        except FanpinError as exc:
            out(str(exc), sys.stderr)
            failed += 1
            continue
        if new == enc.text:
            same += 1
            continue
        changed.append(path)
        if args.diff:
            sys.stdout.write(unified_diff(enc.text, new, path.as_posix()))
        if args.check:
            out(msg(lang, f"需要格式化: {path}", f"would reformat {path}"), sys.stderr)
        elif not args.diff:
            try:
                write_atomic(path, enc.encode(new))
            except OSError as exc:
                out(
                    msg(
                        lang,
                        f"{path}: 无法写入 ({exc.strerror}), 文件未改动",
                        f"{path}: cannot write ({exc.strerror}); the file is unchanged",
                    ),
                    sys.stderr,
                )
                changed.pop()
                failed += 1
    verb_zh = "需要格式化" if (args.check or args.diff) else "已格式化"
    verb_en = "would be reformatted" if (args.check or args.diff) else "reformatted"
    summary = msg(
        lang,
        f"{len(changed)} 个文件{verb_zh}, {same} 个文件无需改动"
        + (f", {failed} 个文件有错误" if failed else ""),
        f"{len(changed)} file(s) {verb_en}, {same} left unchanged"
        + (f", {failed} with errors" if failed else ""),
    )
    out(summary, sys.stderr)
    if failed or (args.check and changed):
        return EXIT_FINDINGS
    return EXIT_OK


def _stdin(args: argparse.Namespace) -> int:
    """``fanpin fmt -``: policy text on standard input, formatted text on standard
    output (for editors); with ``--check``, only the exit status."""
    text = sys.stdin.read().replace("\r\n", "\n").replace("\r", "\n").removeprefix(_BOM)
    try:
        new = format_text(text, "<stdin>")
    except PolicySyntaxError as exc:
        out(render_diagnostics(exc.diagnostics, {"<stdin>": text}, args.lang), sys.stderr)
        return EXIT_FINDINGS
    if args.check:
        return EXIT_FINDINGS if new != text else EXIT_OK
    if args.diff:
        sys.stdout.write(unified_diff(text, new, "<stdin>"))
    else:
        sys.stdout.write(new)
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser(
        "fmt",
        help="统一政策文件的排版 / lay policy files out canonically",
        description="统一政策文件的排版 (对齐决策表、缩进、换行), 保留全部注释, 不改变含义。"
        " / Lay policy files out canonically, keeping every comment and the meaning.",
    )
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="政策文件或文件夹; - 表示标准输入 / files, folders"
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="只检查: 有文件需要格式化时退出码为 1, 不改文件 (用于 CI) / report, do not write",
    )
    p.add_argument(
        "--diff",
        action="store_true",
        help="显示将要做的修改 (统一 diff 格式), 不改文件 / show the changes, do not write",
    )
    p.set_defaults(func=cmd_fmt)
