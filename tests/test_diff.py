"""``fanpin diff`` and ``--sweep``: goldens on two small policies and a household file;
the TextMate grammar for editors stays valid and in step with the language's keywords.

A golden case ``tests/golden/diff/cases/<name>.cmd`` holds the command's arguments on its
first line (run from ``tests/golden/diff``; ``{tmp}`` is a temporary folder), then
``# expected`` and the output (``pytest --update-goldens`` rewrites it).
"""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import re
import shlex
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from fanpin_rules import load_policy
from fanpin_rules.cli import main as fanpin
from fanpin_rules.formatter import format_text
from fanpin_rules.parser import grammar_text
from fanpin_rules.policydiff import (
    DeclChange,
    Record,
    SweepError,
    Unreadable,
    compare_households,
    compare_texts,
    parse_sweep,
    parse_values,
    read_records,
    sweep,
    sweep_svg,
)
from tests.golden import check, split

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent / "golden" / "diff"
CASES = sorted((HERE / "cases").glob("*.cmd"))
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def old() -> object:
    return load_policy(HERE / "old.policy")


@pytest.fixture(scope="module")
def new() -> object:
    return load_policy(HERE / "new.policy")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = fanpin(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------- goldens


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(
    path: Path,
    update_goldens: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    body, _ = split(path)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in shlex.split(body.splitlines()[0])]
    monkeypatch.chdir(HERE)
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    check(path, out.replace(str(tmp_path), "{tmp}"), update_goldens)
    if "--chart" in argv:
        chart = Path(argv[argv.index("--chart") + 1])
        ET.fromstring(chart.read_text("utf-8"))  # well-formed


def test_there_are_goldens() -> None:
    assert len(CASES) >= 5


# ---------------------------------------------------------------- text changes


def test_layout_and_comments_are_not_changes(old: object, tmp_path: Path) -> None:
    text = (HERE / "old.policy").read_text("utf-8")
    relaid = format_text(text).replace("\n  when", "  # 注释\n  when").replace("  ", "   ")
    other = tmp_path / "relaid.policy"
    other.write_text(relaid, "utf-8")
    assert compare_texts(old, load_policy(other)) == ()  # type: ignore[arg-type]


def test_text_changes_name_each_declaration(old: object, new: object) -> None:
    changes = compare_texts(old, new)  # type: ignore[arg-type]
    assert [(c.kind, c.name, c.change) for c in changes] == [
        ("header", "小政策", "changed"),
        ("param", "监测收入基准", "changed"),
        ("param", "大病阈值", "changed"),
        ("rule", "ID-2", "changed"),
        ("table", "收入段", "changed"),
    ]
    table = changes[-1].diff_lines()
    # the column grew, yet only the new row is reported as added
    assert [ln for ln in table if ln[0] in "+-"] == [
        '+  | B-0 | <= 监测收入基准 / 2 || "基准一半" |'
    ]


def test_added_and_removed_declarations(old: object, tmp_path: Path) -> None:
    text = (HERE / "old.policy").read_text("utf-8")
    text = text.replace(
        'rule KG-1 大病自付 cite "示例 二(二)"', 'rule KG-9 大病自付 cite "示例 二(二)"'
    )
    other = tmp_path / "renamed.policy"
    other.write_text(text, "utf-8")
    changes = compare_texts(old, load_policy(other))  # type: ignore[arg-type]
    assert [(c.name, c.change) for c in changes] == [("KG-9", "added"), ("KG-1", "removed")]
    assert changes[0].old_text is None and changes[1].new_text is None
    assert changes[1].diff_lines()[0] == '-rule KG-1 大病自付 cite "示例 二(二)"'


def test_diff_lines_of_a_plain_change() -> None:
    c = DeclChange("let", "a", "changed", "let a = 1\n", "let a = 2\n")
    assert c.diff_lines() == ["-let a = 1", "+let a = 2"]


# ---------------------------------------------------------------- households


def test_counts_reconcile(old: object, new: object) -> None:
    records = read_records(HERE / "households.jsonl", new)  # type: ignore[arg-type]
    impact = compare_households(old, new, records)  # type: ignore[arg-type]
    rejected = {w for w, _ in impact.rejected_old} | {w for w, _ in impact.rejected_new}
    assert impact.read == len(records) == 21
    assert impact.compared + len(rejected) == impact.read
    assert sum(t.count for t in impact.transitions) + impact.unchanged == impact.compared
    labels = {t.label(): t.count for t in impact.transitions}
    assert labels["ID-2 → 无"] == 2
    assert labels["无 → KG-1"] == 2


def test_a_bad_json_line_is_a_rejected_record(new: object) -> None:
    records = read_records(HERE / "households.jsonl", new)  # type: ignore[arg-type]
    bad = [r for r in records if isinstance(r.data, Unreadable)]
    assert [r.where for r in bad] == [f"{HERE / 'households.jsonl'}:20"]


def test_only_filters_conclusions(old: object, new: object) -> None:
    records = [Record({"household_id": "A", "size": 1, "income": 8000, "kind": "一般户",
                       "risk": True}, "a:1")]  # fmt: skip
    impact = compare_households(old, new, records, only=("ID-",))  # type: ignore[arg-type]
    assert [t.label("en") for t in impact.transitions] == ["ID-2 → none"]
    assert set(impact.counts_old) == {"ID-2"}


# ---------------------------------------------------------------- sweep


def test_parse_values() -> None:
    assert parse_values("1..2:0.5") == (Decimal("1"), Decimal("1.5"), Decimal("2.0"))
    assert parse_values("3") == (Decimal(3),)
    assert parse_sweep(" 收入基准 = 1,2 ") == ("收入基准", (Decimal(1), Decimal(2)))
    for bad, words in [
        ("x..y", "cannot read"),
        ("5..1:1", "below the low end"),
        ("0..100000:1", "too many values"),
        ("", "cannot read"),
    ]:
        with pytest.raises(SweepError, match=words):
            parse_values(bad)
    with pytest.raises(SweepError, match="NAME=LOW"):
        parse_sweep("监测收入基准")
    with pytest.raises(SweepError, match="missing"):
        parse_sweep("=1..2")


def test_sweep_counts_and_unknown_parameter(new: object) -> None:
    records = read_records(HERE / "households.jsonl", new)  # type: ignore[arg-type]
    s = sweep(new, records, "income_line", parse_values("8000..8600:300"))  # type: ignore[arg-type]
    assert s.households == 19 and s.rejected == 2
    assert s.current == Decimal(8500)
    assert [c.get("ID-1", 0) for c in s.counts] == [3, 3, 7]
    assert "ID-1" in s.varying() and "KG-1" in dict(s.steady())
    with pytest.raises(SweepError, match="监测收入基准"):
        sweep(new, records, "监测收入基", parse_values("1"))  # type: ignore[arg-type]


def test_svg_chart(new: object) -> None:
    records = read_records(HERE / "households.jsonl", new)  # type: ignore[arg-type]
    s = sweep(new, records, "监测收入基准", parse_values("7800..9000:100"))  # type: ignore[arg-type]
    root = ET.fromstring(sweep_svg(s))
    lines = root.findall(f".//{SVG}polyline")
    assert len(lines) == len(s.varying())
    legend = [t.text for t in root.iter(f"{SVG}text")]
    assert all(rid in legend for rid in s.varying())
    assert "当前值 8500" in legend
    # a larger count is drawn higher (smaller y)
    k = s.varying().index("ID-1")
    ys = [float(p.split(",")[1]) for p in lines[k].get("points", "").split()]
    counts = [c.get("ID-1", 0) for c in s.counts]
    for j in range(1, len(ys)):
        assert (ys[j] < ys[j - 1]) == (counts[j] > counts[j - 1])
    english = sweep_svg(s, "en")
    assert "households per conclusion" in english and "in force: 8500" in english


# ---------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["new.policy", "--households", "households.jsonl"], "use --sweep"),
        (["a", "b", "c", "--households", "households.jsonl"], "at most two"),
        (["new.policy", "--households", "h.jsonl", "--sweep", "x"], "NAME=LOW"),
        (["old.policy", "new.policy", "--households", "nope.jsonl"], "nope.jsonl"),
        (["old.policy", "new.policy", "--households", "households.jsonl", "--as-of", "6/5"],
         "YYYY"),
        (["new.policy", "--households", "households.jsonl", "--sweep", "收入=1..2"], "收入"),
        (["old.policy", "nope.policy", "--households", "households.jsonl"], "nope.policy"),
        (["old.policy", "new.policy", "--households", "households.jsonl", "--max-groups", "0"],
         "max-groups"),
    ],
)  # fmt: skip
def test_usage_errors(
    args: list[str],
    words: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(HERE)
    code, _, err = _run(["diff", *args], capsys)
    assert code == 2
    assert words in err


def test_chart_path_is_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(HERE)
    argv = ["diff", "new.policy", "--households", "households.jsonl", "--sweep", "收入基准=1"]
    code, _, err = _run([*argv, "--chart", str(tmp_path)], capsys)
    assert code == 2
    assert "a folder; name the chart file" in err


def test_sweep_error_pickles() -> None:
    err = SweepError("x / y")
    again = pickle.loads(pickle.dumps(err))
    assert isinstance(again, SweepError) and again.message == "x / y"


def test_a_policy_with_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.policy"
    bad.write_text('rule A-1 when x "m"\n', "utf-8")
    monkeypatch.chdir(HERE)
    code, _, err = _run(
        ["diff", "old.policy", str(bad), "--households", "households.jsonl"], capsys
    )
    assert code == 1
    assert "F001" in err


# ---------------------------------------------------------------- editor grammar

GRAMMAR = json.loads((ROOT / "grammar" / "fanpin.tmLanguage.json").read_text("utf-8"))
PACKAGE = json.loads((ROOT / "grammar" / "package.json").read_text("utf-8"))


def _patterns(node: object) -> list[str]:
    """Every regular expression in a TextMate grammar (match, begin, end)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("match", "begin", "end", "while") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_patterns(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_patterns(value))
    return found


def _tm_to_python(rx: str) -> str:
    # Oniguruma's \h (hex digit) is the only construct the grammar uses that Python lacks
    return rx.replace("\\h", "[0-9A-Fa-f]")


def test_textmate_regexes_compile() -> None:
    patterns = _patterns(GRAMMAR)
    assert len(patterns) > 15
    for rx in patterns:
        re.compile(_tm_to_python(rx))


def test_textmate_keywords_match_the_grammar() -> None:
    """Every keyword spelling of grammar/policy.lark is highlighted as a keyword."""
    spellings: set[str] = set()
    for m in re.finditer(
        r"^[A-Z_]+(?:\.\d+)?: /\(\?:([^)]*)\)\(\?!\[\\w\]\)", grammar_text(), re.M
    ):
        spellings.update(m.group(1).split("|"))
    assert {"rule", "规则", "when", "当", "且", "优先于"} <= spellings
    keyword_rx = [
        re.compile(_tm_to_python(r["match"])) for r in GRAMMAR["repository"]["keywords"]["patterns"]
    ]
    for word in sorted(spellings):
        assert any(rx.search(f"（{word} ") for rx in keyword_rx), word
        # and not inside a longer name (当前收入 is a name, not the keyword 当)
        assert not any(rx.search(f"{word}x") or rx.search(f"x{word}") for rx in keyword_rx), word


def test_textmate_highlights_a_policy() -> None:
    def scopes(text: str) -> set[str]:
        found = set()
        for repo in GRAMMAR["repository"].values():
            for rule in repo.get("patterns", [repo]):
                if "match" in rule and re.search(_tm_to_python(rule["match"]), text):
                    found.add(rule["name"])
        return found

    assert "comment.line.number-sign.policy" in scopes("# 注释")
    assert "constant.other.rule-id.policy" in scopes("ID-1")
    assert "constant.numeric.date.policy" in scopes("2024-06-05")
    assert "keyword.operator.logical.policy" in scopes("a ∧ b")
    assert "keyword.operator.comparison.policy" in scopes("x ≤ 1")
    assert "punctuation.separator.table.policy" in scopes("| a ｜｜ b |")


def test_vscode_extension_manifest() -> None:
    assert PACKAGE["contributes"]["languages"][0]["extensions"] == [".policy"]
    grammar = PACKAGE["contributes"]["grammars"][0]
    assert grammar["scopeName"] == GRAMMAR["scopeName"] == "source.policy"
    assert (ROOT / "grammar" / grammar["path"]).resolve() == (
        ROOT / "grammar" / "fanpin.tmLanguage.json"
    )
    assert grammar["language"] == PACKAGE["contributes"]["languages"][0]["id"]


# ---------------------------------------------------------------- the documentation

DOCS = (ROOT / "docs" / "tools.md", ROOT / "docs" / "editor.md")
_CONSOLE = re.compile(r"^```console\n(.*?)^```", re.M | re.S)


def _console_commands() -> list[tuple[str, str, str]]:
    """(doc, command, expected output) of each ``$ fanpin …`` in a ``console`` block."""
    found = []
    for doc in DOCS:
        for block in _CONSOLE.findall(doc.read_text("utf-8")):
            for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
                command, _, output = part.partition("\n")
                found.append((doc.name, command, output))
    return found


@pytest.mark.parametrize(("doc", "command", "expected"), _console_commands())
def test_documented_commands_print_what_the_docs_say(
    doc: str,
    command: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each command in the docs runs from the repository root and prints exactly the
    output shown (standard output and error together); charts go to a temporary folder."""
    argv = shlex.split(command)
    assert argv[0] == "fanpin", doc
    argv = [a.replace("out/", f"{tmp_path}/") for a in argv[1:]]
    monkeypatch.chdir(ROOT)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        fanpin(argv)
    assert printed.getvalue().replace(f"{tmp_path}/", "out/") == expected


def test_the_docs_have_commands() -> None:
    commands = [c for _, c, _ in _console_commands()]
    assert any(c.startswith("fanpin fmt --check") for c in commands)
    assert any("--sweep" in c for c in commands)
    assert any(c.startswith("fanpin diff") and "--sweep" not in c for c in commands)


def test_vscode_language_configuration() -> None:
    """Ctrl+/ comments with #, brackets match: the configuration the extension names."""
    lang = PACKAGE["contributes"]["languages"][0]
    conf_path = ROOT / "grammar" / lang["configuration"]
    conf = json.loads(conf_path.read_text("utf-8"))
    assert conf["comments"]["lineComment"] == "#"
    assert ["{", "}"] in conf["brackets"]
