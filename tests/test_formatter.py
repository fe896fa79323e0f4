"""The formatter: goldens, idempotence, comments, CJK alignment, the tree never changes.

Goldens live in ``tests/golden/fmt/``: the policy text as written, then ``# expected``
and the formatted text (``pytest --update-goldens`` rewrites it; review the diff).
"""

from __future__ import annotations

import io
import pickle
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from fanpin_rules import formatter
from fanpin_rules.cli import main as fanpin
from fanpin_rules.errors import FanpinError, PolicySyntaxError
from fanpin_rules.formatter import FormatterError, format_text
from fanpin_rules.parser import _lark, grammar_text, parse
from fanpin_rules.render import display_width
from tests.golden import check, split

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden" / "fmt"
CASES = sorted(GOLDEN.glob("*.policy"))
# every policy text in the repository that parses on its own
REPO_POLICIES = sorted(
    p
    for folder in ("policies", "examples", "tests")
    for p in (ROOT / folder).rglob("*.policy")
    if not p.name.startswith("_")
)


_FOUND: list[str] = []
# the lexer's view of comments (not a regex over the text, which would see "#" in strings)
_COMMENT_LEXER = Lark(
    grammar_text(),
    parser="lalr",
    lexer_callbacks={"COMMENT": lambda t: _FOUND.append(str(t).rstrip())},
)


def _comments(text: str) -> Counter[str]:
    """The comments of a policy text."""
    _FOUND.clear()
    _COMMENT_LEXER.parse(text)
    return Counter(_FOUND)


def _assert_same_meaning(before: str, after: str) -> None:
    assert parse(after).items == parse(before).items
    assert _comments(after) == _comments(before)


# ---------------------------------------------------------------- goldens


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path, update_goldens: bool) -> None:
    body, _ = split(path)
    check(path, format_text(body, path.name), update_goldens)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_output_is_already_formatted(path: Path) -> None:
    body, expected = split(path)
    assert expected is not None
    assert format_text(expected) == expected
    _assert_same_meaning(body, expected)


def test_there_are_goldens() -> None:
    assert len(CASES) >= 6


# ---------------------------------------------------------------- every policy in the repo


@pytest.mark.parametrize(
    "path", REPO_POLICIES, ids=[p.relative_to(ROOT).as_posix() for p in REPO_POLICIES]
)
def test_every_policy_in_the_repo(path: Path) -> None:
    text = path.read_text("utf-8-sig")
    try:
        parse(text)
    except PolicySyntaxError:
        with pytest.raises(PolicySyntaxError):
            format_text(text, str(path))
        return
    once = format_text(text, str(path))
    _assert_same_meaning(text, once)
    assert format_text(once, str(path)) == once


CANONICAL = sorted(
    [
        *(ROOT / "policies").rglob("*.policy"),
        *(ROOT / "examples").glob("*.policy"),
        ROOT / "benchmarks" / "reference_ruleset.policy",
    ]
)


@pytest.mark.parametrize("path", CANONICAL, ids=[p.relative_to(ROOT).as_posix() for p in CANONICAL])
def test_shipped_policies_are_formatted(path: Path) -> None:
    """The shipped policy, the examples and the benchmark ruleset are in canonical layout
    (``make lint`` runs ``fanpin fmt --check`` on them too)."""
    text = path.read_text("utf-8-sig")
    assert format_text(text, str(path)) == text, f"run: fanpin fmt {path.relative_to(ROOT)}"


def test_the_repo_has_policies_to_format() -> None:
    names = {p.name for p in REPO_POLICIES}
    assert {"ewenki_2024q2.policy", "rules.policy", "language_tour.policy"} <= names


# ---------------------------------------------------------------- generated layouts

_SEPARATORS = [
    " ",
    "  ",
    "\n",
    "\n\n  ",
    " # 注释 comment\n",
    "\t",
    "\n# 整行注释\n",
    "\n\n# 段落\n\n",
    "  # a\n  # b\n",
]
_FULL_WIDTH = {",": "，", ":": "：", "(": "（", ")": "）", "{": "｛", "}": "｝", "|": "｜"}
_SOURCES = [
    ROOT / "examples" / "language_tour.policy",
    ROOT / "examples" / "language_tour_examples.policy",
    ROOT / "policies" / "ewenki_2024q2" / "derived.policy",
    ROOT / "policies" / "ewenki_2024q2" / "params.policy",
]


def _relayout(text: str, seps: list[int], widths: list[bool]) -> str:
    """The policy's tokens joined by other whitespace and comments, some punctuation
    typed full-width (the layouts a writer could have produced)."""
    out = []
    for i, tok in enumerate(_lark().lex(text)):
        if i:
            out.append(_SEPARATORS[seps[i % len(seps)] % len(_SEPARATORS)])
        s = str(tok)
        if widths[i % len(widths)] and s in _FULL_WIDTH:
            s = _FULL_WIDTH[s]
        out.append(s)
    return "".join(out)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_SOURCES),
    st.lists(st.integers(0, 40), min_size=1, max_size=40),
    st.lists(st.booleans(), min_size=1, max_size=10),
)
def test_relaid_out_policies(source: Path, seps: list[int], widths: list[bool]) -> None:
    text = _relayout(source.read_text("utf-8"), seps, widths)
    once = format_text(text)
    _assert_same_meaning(text, once)
    assert format_text(once) == once


_GEN = Lark(grammar_text(), parser="lalr", lexer="basic")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(from_lark(_GEN, start="start"))
def test_generated_policies(text: str) -> None:
    try:
        parse(text)
    except FanpinError:
        return
    once = format_text(text)
    _assert_same_meaning(text, once)
    assert format_text(once) == once


# ---------------------------------------------------------------- layout rules


def _pipe_columns(line: str) -> list[int]:
    """Display columns of the table pipes in a line (``||`` counts once)."""
    cols = []
    for m in re.finditer(r"\|\|?", line):
        cols.append(display_width(line[: m.start()]))
    return cols


def test_table_columns_align_by_display_width() -> None:
    text = (
        "table 类别 hit first {\n"
        "| id | 劳动力类别 | x || 方向 |\n"
        '| T-1 | "有劳动能力" | 1 || "开发式帮扶" |\n'
        '| T-22 | "a" | 100 || "兜底" |\n'
        "}\n"
    )
    rows = [ln for ln in format_text(text).splitlines() if ln.lstrip().startswith("|")]
    assert len(rows) == 3
    columns = {tuple(_pipe_columns(r)) for r in rows}
    assert len(columns) == 1, rows
    # padded by display width, not by characters: the character counts differ
    assert len({len(r) for r in rows}) > 1


def test_record_types_align_by_display_width() -> None:
    text = "record r {\n  a 年龄: int\n  long_key 已标注风险消除: bool\n  b: text\n}\n"
    lines = format_text(text).splitlines()[1:-1]
    type_cols = {display_width(ln[: ln.index(":") + 1].rstrip()) for ln in lines}
    starts = {display_width(re.match(r"^(.*?:\s+)", ln).group(1)) for ln in lines}  # type: ignore[union-attr]
    assert len(starts) == 1, lines
    assert len(type_cols) == 3


def test_keywords_keep_their_spelling() -> None:
    text = '规则 A-1 当 x 且 非 y 或 z 则 "m"\nrule B-1 when x and not y ∨ z then "m"\n'
    out = format_text(text)
    assert "  当 x 且 非 y 或 z\n" in out
    assert "  when x and not y ∨ z\n" in out


def test_full_width_punctuation_and_signs_are_written_ascii() -> None:
    out = format_text("定义 a：money ＝ round（x ÷ y，2） ≤ 3 × z")
    assert out == "定义 a: money = round(x / y, 2) <= 3 * z\n"


def test_long_condition_breaks_before_and_with_operands_aligned() -> None:
    cond = " and ".join(f"条件{i} > 监测收入基准" for i in range(8))
    out = format_text(f'rule R-1 when {cond} then "m"')
    lines = out.splitlines()
    assert lines[1] == "  when 条件0 > 监测收入基准"
    assert lines[2] == "   and 条件1 > 监测收入基准"
    assert all(display_width(ln) <= formatter.WIDTH for ln in lines)


def test_blank_lines_between_declarations_and_grouped_one_liners() -> None:
    out = format_text('let a = 1\nlet b = 2\n\n\n\nlet c = 3\nrule R-1 when a then "m"\n')
    assert out == 'let a = 1\nlet b = 2\n\nlet c = 3\n\nrule R-1\n  when a\n  then "m"\n'


def test_comments_stay_with_their_lines() -> None:
    text = (
        "# 规则说明\n"
        'rule R-1 when a > 1   # 收入\n and b   # 风险\n then "m"\n'
        "table t hit first {\n| id | a || o |\n# 第一行\n| T-1 | 1 || 2 |  # 行尾\n}\n"
    )
    out = format_text(text)
    assert out.splitlines()[:5] == [
        "# 规则说明",
        "rule R-1",
        "  when a > 1  # 收入",
        "   and b      # 风险",
        '  then "m"',
    ]
    assert "  # 第一行\n  | T-1 | 1 || 2 |  # 行尾\n" in out


def test_comment_inside_a_line_moves_to_where_the_line_can_end() -> None:
    # nowhere to break inside f(x): the comment goes to the end of the line
    assert format_text("let a = f(x  # 说明\n)\n") == "let a = f(x)  # 说明\n"
    # the next place a line can end is before "+": the sum is broken there
    out = format_text("let a = f(x  # 说明\n) + 1\n")
    assert out == "let a =\n  f(x)  # 说明\n    + 1\n"
    assert format_text(out) == out


def test_empty_and_comment_only_texts() -> None:
    assert format_text("") == ""
    assert format_text("\n\n# 只有注释\n\n\n# 第二段\n") == "# 只有注释\n\n# 第二段\n"


def test_windows_line_endings_are_read() -> None:
    assert format_text("let a=1\r\nlet b=2\r\n") == "let a = 1\nlet b = 2\n"


def test_syntax_errors_are_reported_not_formatted() -> None:
    with pytest.raises(PolicySyntaxError) as info:
        format_text('rule A-1 when x "m"', "bad.policy")
    assert info.value.diagnostics[0].code == "F001"


def test_a_layout_bug_never_reaches_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object, tree: object) -> str:
        return "let a = 2\n"

    monkeypatch.setattr(formatter._Printer, "module", broken)
    with pytest.raises(FormatterError) as info:
        format_text("let a = 1", "x.policy")
    assert "文件未改动" in str(info.value) and "left unchanged" in str(info.value)
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value)


def test_a_lost_comment_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_comments(self: object, tree: object) -> str:
        return "let a = 1\n"

    monkeypatch.setattr(formatter._Printer, "module", no_comments)
    with pytest.raises(FormatterError, match="comment"):
        format_text("let a = 1  # 说明")


# ---------------------------------------------------------------- fanpin fmt


UNFORMATTED = 'let a=1\nrule R-1 when a>0 then "m"\n'
FORMATTED = 'let a = 1\n\nrule R-1\n  when a > 0\n  then "m"\n'


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = fanpin(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fmt_check_reports_and_does_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.policy"
    good = tmp_path / "good.policy"
    bad.write_text(UNFORMATTED, "utf-8")
    good.write_text(FORMATTED, "utf-8")
    code, out, err = _run(["fmt", "--check", str(tmp_path)], capsys)
    assert out == ""
    assert code == 1
    assert f"需要格式化: {bad}" in err and str(good) not in err
    assert bad.read_text("utf-8") == UNFORMATTED
    code, _, err = _run(["fmt", "--check", "--lang", "en", str(good)], capsys)
    assert code == 0
    assert "0 file(s) would be reformatted, 1 left unchanged" in err


def test_fmt_rewrites_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a.policy"
    path.write_text(UNFORMATTED, "utf-8")
    code, _, err = _run(["fmt", str(path)], capsys)
    assert code == 0
    assert path.read_text("utf-8") == FORMATTED
    assert "1 个文件已格式化, 0 个文件无需改动" in err
    assert [p.name for p in tmp_path.iterdir()] == ["a.policy"]  # no temporary file left


def test_fmt_keeps_bom_and_windows_line_endings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.policy"
    path.write_bytes(b"\xef\xbb\xbf" + UNFORMATTED.replace("\n", "\r\n").encode())
    assert _run(["fmt", str(path)], capsys)[0] == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + FORMATTED.replace("\n", "\r\n").encode()


def test_fmt_diff_prints_and_does_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.policy"
    path.write_text(UNFORMATTED, "utf-8")
    code, out, _ = _run(["fmt", "--diff", str(path)], capsys)
    assert code == 0
    assert "-let a=1\n" in out and "+let a = 1\n" in out
    assert out.startswith(f"--- {path.as_posix()}\n+++ {path.as_posix()}\n")
    assert path.read_text("utf-8") == UNFORMATTED


def test_fmt_syntax_error_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.policy"
    path.write_text('rule A-1 when x "m"\n', "utf-8")
    code, _, err = _run(["fmt", str(path)], capsys)
    assert code == 1
    assert "F001" in err and "^" in err
    assert path.read_text("utf-8") == 'rule A-1 when x "m"\n'
    code, _, err = _run(["fmt", str(tmp_path / "nope.policy")], capsys)
    assert code == 2
    assert "no such file" in err


def test_fmt_write_failure_leaves_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.policy"
    path.write_text(UNFORMATTED, "utf-8")

    def refuse(target: Path, data: bytes) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("fanpin_rules.commands.fmt.write_atomic", refuse)
    code, _, err = _run(["fmt", "--lang", "en", str(path)], capsys)
    assert code == 1
    assert "cannot write (Permission denied); the file is unchanged" in err
    assert "0 file(s) reformatted, 0 left unchanged, 1 with errors" in err
    assert path.read_text("utf-8") == UNFORMATTED


def test_fmt_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gbk.policy"
    path.write_bytes("let 甲 = 1\n".encode("gbk"))
    code, _, err = _run(["fmt", str(path)], capsys)
    assert code == 1
    assert "UTF-8" in err


def test_fmt_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(UNFORMATTED))
    code, out, _ = _run(["fmt", "-"], capsys)
    assert (code, out) == (0, FORMATTED)
    monkeypatch.setattr("sys.stdin", io.StringIO(UNFORMATTED))
    assert _run(["fmt", "--check", "-"], capsys)[0] == 1
    monkeypatch.setattr("sys.stdin", io.StringIO(FORMATTED))
    assert _run(["fmt", "--check", "-"], capsys)[0] == 0


def test_the_documented_example_is_what_fmt_prints() -> None:
    """docs/tools.md shows a policy before and after ``fanpin fmt``."""
    text = (ROOT / "docs" / "tools.md").read_text("utf-8")
    found = re.findall(r"^( *)```policy\n(.*?)^\1```", text, re.M | re.S)
    blocks = [re.sub(rf"(?m)^{indent}", "", b) for indent, b in found]
    befores = [b for b in blocks if b.startswith("# 格式化前\n")]
    afters = [b for b in blocks if b.startswith("# 格式化后\n")]
    assert len(befores) == len(afters) >= 2
    for before, after in zip(befores, afters, strict=True):
        assert format_text(before.replace("# 格式化前", "# 格式化后", 1)) == after
