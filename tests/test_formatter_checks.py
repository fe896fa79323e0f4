"""Formatting never changes what ``fanpin check`` says about a policy.

The formatter moves lines, so line numbers change; everything else the checker reports
must stay the same.  In particular an acknowledgement (``# 已确认 F510: 理由``) must stay
where the checker reads it, at the end of the line the finding points to or on the line
directly above it: a lost acknowledgement shows as a warning (the finding) plus F710 (a
comment that matches nothing).
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from fanpin_rules.cli import _load_for_check
from fanpin_rules.errors import PolicySyntaxError
from fanpin_rules.formatter import format_text
from fanpin_rules.parser import parse

ROOT = Path(__file__).resolve().parents[1]
# the folders with policy texts the checker runs on (includes stay relative inside each)
FOLDERS = ("policies", "examples", "benchmarks", "tests/cases")

Finding = tuple[str, str, str, str, str]
# line numbers quoted in a message ("第 9 行", "line 9", "a.policy:9:3")
_LINE_NUMBER = re.compile(r"(?<=第 )\d+(?= 行)|(?<=\bline )\d+|(?<=\.policy:)\d+(?::\d+)?")


def _without_lines(message: str) -> str:
    return _LINE_NUMBER.sub("N", message)


def _findings(entry: Path, base: Path) -> Counter[Finding]:
    """What ``fanpin check`` reports on ``entry``: code, severity, messages and the file,
    without line and column numbers."""
    diags, _ = _load_for_check(str(entry))
    found: Counter[Finding] = Counter()
    for d in diags:
        where = ""
        if d.span is not None:
            path = Path(d.span.path)
            where = path.resolve().relative_to(base).as_posix() if path.is_absolute() else ""
        zh, en = (
            _without_lines(m.replace(str(base), "<root>")) for m in (d.message_zh, d.message_en)
        )
        found[(d.code, d.severity, zh, en, where)] += 1
    return found


@pytest.fixture(scope="module")
def formatted_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the policy folders with every policy text that parses formatted."""
    base = tmp_path_factory.mktemp("formatted")
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, base / folder, ignore=shutil.ignore_patterns("*.py"))
    for path in base.rglob("*.policy"):
        text = path.read_text("utf-8-sig")
        try:
            parse(text)
        except PolicySyntaxError:
            continue
        path.write_text(format_text(text, str(path)), "utf-8")
    return base


ENTRIES = sorted(
    p.relative_to(ROOT)
    for folder in FOLDERS
    for p in (ROOT / folder).rglob("*.policy")
    if not p.name.startswith("_")
)


@pytest.mark.parametrize("entry", ENTRIES, ids=[p.as_posix() for p in ENTRIES])
def test_formatting_keeps_the_findings(entry: Path, formatted_copy: Path) -> None:
    """The same findings, line numbers aside.  With an error in the policy, the same
    errors: errors cannot be acknowledged, and whether the comment that tries (F712) sits
    on the error's line depends on the layout (tests/cases/analysis/F712_*)."""
    before = _findings(ROOT / entry, ROOT)
    after = _findings(formatted_copy / entry, formatted_copy.resolve())
    if any(f[1] == "error" for f in before):
        before, after = (
            Counter({f: n for f, n in c.items() if f[1] == "error"}) for c in (before, after)
        )
    assert after == before


def test_the_entries_include_acknowledgements() -> None:
    """The property covers the shipped policy, whose acknowledgements are end-of-line
    comments on one-line declarations, and the acknowledgement test cases."""
    names = {p.as_posix() for p in ENTRIES}
    assert "policies/ewenki_2024q2.policy" in names
    assert "tests/cases/analysis/ack_analysis_findings.policy" in names


ACKNOWLEDGED = (
    'param 甲 a: int cite "x" { 2024-01-01: 1 cite "一" }  # 已确认 F510: 供报告引用, 不参与判定\n'
    'let 乙 = 1 + 2 cite "这是一条很长很长很长很长很长很长很长很长很长很长很长的依据"'
    "  # 已确认 F512: 供报告引用\n"
    "record r { x: int }\n"
    "input r\n"
    'rule R-1 规则 when x > 0 then "m"  # 一行写完的规则: 注释留在标题行\n'
)


def test_a_trailing_acknowledgement_stays_on_the_first_line(tmp_path: Path) -> None:
    """A one-line declaration split over several lines keeps its end-of-line comment at
    the end of its first line, where the checker reads it."""
    out = format_text(ACKNOWLEDGED)
    lines = out.splitlines()
    assert lines[0].startswith("param 甲 a: int cite")
    assert lines[0].endswith("{  # 已确认 F510: 供报告引用, 不参与判定")
    let = next(ln for ln in lines if ln.startswith("let 乙"))
    assert let.endswith("# 已确认 F512: 供报告引用")
    assert "rule R-1 规则  # 一行写完的规则: 注释留在标题行" in lines
    assert format_text(out) == out
    before, after = tmp_path / "before.policy", tmp_path / "after.policy"
    before.write_text(ACKNOWLEDGED, "utf-8")
    after.write_text(out, "utf-8")
    found = _findings(before, tmp_path.resolve())
    assert {f[0] for f in found} >= {"F510"}
    assert not any(f[0] == "F710" for f in found)
    assert [f[:4] for f in _findings(after, tmp_path.resolve()).elements()] == [
        f[:4] for f in found.elements()
    ]
