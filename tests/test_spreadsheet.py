"""Decision tables to and from XLSX (``fanpin export-xlsx`` / ``import-xlsx``).

The round trip gives the same AST for every table of the shipped policy and the language
tour; an edited cell changes exactly its row; every cell-level problem has a golden
message (Chinese and English); nothing is written unless the new policy checks.
"""

from __future__ import annotations

import difflib
import pickle
import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fanpin_rules import PolicyLoadError, ast, load_policy
from fanpin_rules.cli import main as fanpin
from fanpin_rules.parser import load_modules, parse
from fanpin_rules.source import Source
from fanpin_rules.spreadsheet import (
    CellIssue,
    SpreadsheetError,
    export_xlsx,
    import_xlsx,
)

openpyxl = pytest.importorskip("openpyxl")

ROOT = Path(__file__).resolve().parents[1]
SMALL = Path(__file__).resolve().parent / "spreadsheet" / "small.policy"


# ---------------------------------------------------------------- helpers


def _copy_policy(src: Path, dest: Path) -> Path:
    """Copy a policy's folder (with its includes) and return the main file's new path."""
    shutil.copytree(src.parent, dest, dirs_exist_ok=True)
    return dest / src.name


def _edit(xlsx: Path, sheet: str, cells: dict[str, Any], out: Path | None = None) -> Path:
    wb = openpyxl.load_workbook(xlsx)
    ws = wb[sheet]
    for ref, value in cells.items():
        ws[ref] = value
    target = out or xlsx
    wb.save(target)
    return target


def _with_sheet(xlsx: Path, change: Callable[[Any], None]) -> Path:
    wb = openpyxl.load_workbook(xlsx)
    change(wb)
    wb.save(xlsx)
    return xlsx


def _tables(path: Path) -> dict[str, ast.TableDecl]:
    modules, _ = load_modules(path)
    return {item.name: item for m in modules for item in m.items if isinstance(item, ast.TableDecl)}


def _texts(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.policy")}


def _outside_tables(text: str) -> list[str]:
    """The text of a file with every table cut out (what import must keep byte for byte)."""
    module = parse(Source("x", text))
    starts = [0]
    starts.extend(i + 1 for i, c in enumerate(text) if c == "\n")
    pieces, pos = [], 0
    for item in module.items:
        if isinstance(item, ast.TableDecl):
            s = item.span
            start = starts[s.line - 1] + s.col - 1
            pieces.append(text[pos:start])
            pos = starts[s.end_line - 1] + s.end_col - 1
    pieces.append(text[pos:])
    return pieces


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    policy = _copy_policy(SMALL, tmp_path / "p")
    xlsx = tmp_path / "t.xlsx"
    export_xlsx(policy, xlsx)
    return policy, xlsx


def _error(xlsx: Path, policy: Path) -> SpreadsheetError:
    before = _texts(policy.parent)
    with pytest.raises(SpreadsheetError) as info:
        import_xlsx(xlsx, policy)
    assert _texts(policy.parent) == before, "a failed import must not change any file"
    return info.value


# ---------------------------------------------------------------- round trip


@pytest.mark.parametrize(
    "policy",
    [ROOT / "policies" / "ewenki_2024q2.policy", ROOT / "examples" / "language_tour.policy"],
    ids=["ewenki_2024q2", "language_tour"],
)
def test_round_trip_gives_the_same_tables(policy: Path, tmp_path: Path) -> None:
    main = _copy_policy(policy, tmp_path / "p")
    before = _texts(main.parent)
    original = _tables(main)
    xlsx = tmp_path / "tables.xlsx"
    assert export_xlsx(main, xlsx) == tuple(original)

    report = import_xlsx(xlsx, main)  # nothing edited: nothing written
    assert report.changes == () and report.written == ()
    assert report.unchanged == tuple(original)
    assert _texts(main.parent) == before

    # laid out again from the sheets: the same AST, every byte outside the tables kept
    import_xlsx(xlsx, main, rewrite_all=True)
    assert _tables(main) == original
    for name, data in _texts(main.parent).items():
        assert _outside_tables(data.decode("utf-8")) == _outside_tables(
            before[name].decode("utf-8")
        ), name


def test_workbook_layout(small: tuple[Path, Path]) -> None:
    _, xlsx = small
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["说明", "分级", "补助"]
    ws = wb["分级"]
    rows = [list(r) for r in ws.iter_rows(min_row=1, max_row=6, values_only=True)]
    assert rows[0][:6] == ["决策表", "分级", "命中", "first", "文件", "small.policy"]
    assert rows[1] == [
        "规则编号",
        "条件 · 金额",
        "条件 · 是/否 (true/false)",
        None,
        "结论 · 枚举 (高, 中, 低)",
        "说明文字 (不加引号)",
        "原文出处 (不加引号)",
    ]
    assert rows[2] == ["id", "人均", "flag", "||", "级别: 等级", "说明", "依据"]
    assert rows[3] == ["G-1", "<= 3000", "-", None, '"高"', "收入很低", None]
    assert rows[4] == ["G-2", "(3000..8300]", "true", None, '"中"', "有风险", None]
    assert ws["B4"].number_format == "@"  # typed cells stay text in Excel
    assert ws.freeze_panes == "B4"
    readme = [c.value for c in wb["说明"]["A"] if c.value]
    assert any("fanpin import-xlsx" in line for line in readme)


def test_export_only_named_tables_and_unknown_table(tmp_path: Path) -> None:
    xlsx = tmp_path / "t.xlsx"
    assert export_xlsx(SMALL, xlsx, ["补助"]) == ("补助",)
    assert openpyxl.load_workbook(xlsx).sheetnames == ["说明", "补助"]
    with pytest.raises(Exception, match="是不是「补助」"):
        export_xlsx(SMALL, xlsx, ["补贴"])


# ---------------------------------------------------------------- edits


def test_edited_cell_changes_exactly_that_row(small: tuple[Path, Path]) -> None:
    policy, xlsx = small
    before_text = policy.read_text("utf-8")
    before = _tables(policy)
    _edit(xlsx, "分级", {"C5": "-"})  # G-2: flag true -> -
    report = import_xlsx(xlsx, policy)
    assert [c.describe() for c in report.changes] == ["分级 (small.policy): 修改 G-2"]
    after = _tables(policy)
    assert after["补助"] == before["补助"]
    old, new = before["分级"], after["分级"]
    assert [r.rule_id for r in new.rows] == ["G-1", "G-2", "G-3"]
    assert new.rows[0] == old.rows[0] and new.rows[2] == old.rows[2]
    assert new.rows[1] == ast.Row(
        "G-2", (old.rows[1].cells[0], ast.CellAny()), old.rows[1].outputs, None, "有风险"
    )
    diff = [
        line
        for line in difflib.unified_diff(
            before_text.splitlines(), policy.read_text("utf-8").splitlines(), n=0, lineterm=""
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert diff == [
        '-  | G-2 | (3000..8300] | true || "中"       | "有风险"   |  # 行尾注释',
        '+  | G-2 | (3000..8300] | -    || "中"       | "有风险"   |  # 行尾注释',
    ]


def test_rows_added_removed_and_reordered_keep_comments(small: tuple[Path, Path]) -> None:
    policy, xlsx = small

    def change(wb: Any) -> None:
        ws = wb["分级"]
        ws.delete_rows(5)  # G-2 goes
        ws.insert_rows(4)  # a new first row
        for ref, value in {
            "A4": "G-0",
            "B4": "< 0",
            "C4": "-",
            "E4": '"高"',
            "F4": "负收入",
        }.items():
            ws[ref] = value

    _with_sheet(xlsx, change)
    report = import_xlsx(xlsx, policy)
    assert [c.describe("en") for c in report.changes] == [
        "分级 (small.policy): added G-0; removed G-2"
    ]
    text = policy.read_text("utf-8")
    assert text.count("# 收入很低的户") == 1 and "# 表头" in text and "# 行尾注释" not in text
    body = text[text.index("table 分级") : text.index("table 补助")]
    assert body.splitlines()[1:6] == [
        "  | id  | 人均         | flag || 级别: 等级 | 说明       |  # 表头",
        '  | G-0 | < 0          | -    || "高"       | "负收入"   |',
        "  # 收入很低的户",
        '  | G-1 | <= 3000      | -    || "高"       | "收入很低" |',
        '  | G-3 | -            | -    || "低"       | "其他"     |',
    ]


def test_header_change_lays_the_table_out_again(small: tuple[Path, Path]) -> None:
    policy, xlsx = small

    def change(wb: Any) -> None:
        ws = wb["补助"]
        ws.insert_cols(3)
        for ref, value in {"C3": "有风险", "C4": "-", "C5": "true"}.items():
            ws[ref] = value

    _with_sheet(xlsx, change)
    report = import_xlsx(xlsx, policy)
    assert [c.describe() for c in report.changes] == ["补助 (small.policy): 表头; 修改 B-1, B-2"]
    text = policy.read_text("utf-8")
    assert text[text.index("table 补助") :].splitlines()[:4] == [
        "table 补助 hit collect sum {",
        "  | id  | size | 有风险 || 金额 |",
        "  | B-1 | >= 5 | -      || 500  |",
        "  | B-2 | -    | true   || 100  |",
    ]
    result = load_policy(policy).evaluate({"household_id": "H", "size": 5, "income": 1})
    assert result.values["补助"] == 500


def test_hit_policy_edited_in_d1(small: tuple[Path, Path]) -> None:
    policy, xlsx = small
    _edit(xlsx, "补助", {"D1": "COLLECT MAX"})
    report = import_xlsx(xlsx, policy)
    assert [c.describe("en") for c in report.changes] == ["补助 (small.policy): hit policy"]
    assert "table 补助 hit collect max {" in policy.read_text("utf-8")
    assert _tables(policy)["补助"].aggregation == "max"


def test_excel_typed_values_and_curly_quotes(small: tuple[Path, Path]) -> None:
    """Excel turns TRUE, 500 and 3000.0 into booleans and numbers; an input method types
    “高”: all of them read as the policy text they look like."""
    policy, xlsx = small
    _edit(xlsx, "分级", {"C5": True, "B4": "<= 3000.50", "E6": "“低”"})
    _edit(xlsx, "补助", {"D4": 650, "D5": 100.0})
    report = import_xlsx(xlsx, policy)
    assert [c.describe("en") for c in report.changes] == [
        "分级 (small.policy): changed G-1",
        "补助 (small.policy): changed B-1",
    ]
    tables = _tables(policy)
    assert tables["补助"].rows[0].outputs == (ast.Number(650),)  # type: ignore[arg-type]
    assert "<= 3000.50" in policy.read_text("utf-8")


def test_crlf_and_bom_are_kept(tmp_path: Path) -> None:
    policy = tmp_path / "crlf.policy"
    text = SMALL.read_text("utf-8").replace("\n", "\r\n")
    policy.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    xlsx = tmp_path / "t.xlsx"
    export_xlsx(policy, xlsx)
    _edit(xlsx, "补助", {"D5": "200"})
    import_xlsx(xlsx, policy)
    data = policy.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.decode("utf-8-sig") == text.replace(
        "| B-2 | -    || 100  |", "| B-2 | -    || 200  |"
    )


@pytest.mark.parametrize(
    "table",
    [
        'table t hit first { | id | x || y |\n  | T-1 | >= 1 || "a" |\n  | T-2 | - || "b" | }',
        'table t hit first { | id | x || y | | T-1 | >= 1 || "a" | | T-2 | - || "b" | }',
    ],
    ids=["brace-after-last-row", "one-line"],
)
def test_compact_table_layouts(table: str, tmp_path: Path) -> None:
    """A closing } (or the next row) on a row's line stays after the table."""
    policy = tmp_path / "c.policy"
    policy.write_text(f"record r {{ x: int }}\ninput r\n{table}  # end\nlet z = t\n", "utf-8")
    xlsx = tmp_path / "c.xlsx"
    export_xlsx(policy, xlsx)
    _edit(xlsx, "t", {"B4": "> 2"})
    import_xlsx(xlsx, policy)
    assert policy.read_text("utf-8").splitlines()[2:] == [
        "table t hit first { | id | x || y |",
        '  | T-1 | > 2 || "a" |',
        '  | T-2 | -   || "b" | }  # end',
        "let z = t",
    ]


def test_dry_run_writes_nothing(small: tuple[Path, Path]) -> None:
    policy, xlsx = small
    before = policy.read_bytes()
    _edit(xlsx, "补助", {"D5": "200"})
    report = import_xlsx(xlsx, policy, write=False)
    assert report.written == () and len(report.changes) == 1
    assert policy.read_bytes() == before
    assert report.render("t.xlsx", "en").endswith("(dry run: nothing written)")


def test_new_warnings_are_reported_at_their_cell(small: tuple[Path, Path]) -> None:
    policy, xlsx = small
    _edit(xlsx, "分级", {"B6": "> 9000"})  # G-3 no longer catches everything: a gap
    report = import_xlsx(xlsx, policy)
    assert report.written == ("small.policy",)
    assert report.render("t.xlsx").splitlines()[::2] == [
        "t.xlsx 工作表「分级」B1: 警告: F701: 决策表「分级」(hit first) 有缺口: 人均 在 "
        "(3000..8300], flag=否 (例如 人均=3000.01, flag=否) 的户没有匹配的行, 得不到结论",
        "t.xlsx 工作表「分级」B1: 警告: F701: 决策表「分级」(hit first) 有缺口: 人均 在 "
        "(8300..9000] (例如 人均=8300.01) 的户没有匹配的行, 得不到结论",
        "已更新 分级 (small.policy): 修改 G-3",
        "已写入: small.policy",
    ]


def test_other_sheets_and_tables_not_in_the_workbook(small: tuple[Path, Path]) -> None:
    policy, xlsx = small

    def change(wb: Any) -> None:
        del wb["补助"]
        wb.create_sheet("备注")["A1"] = "给同事的话"

    _with_sheet(xlsx, change)
    report = import_xlsx(xlsx, policy)
    assert report.not_in_workbook == ("补助",) and report.skipped_sheets == ("备注",)
    assert report.render("t.xlsx").splitlines() == [
        "没有改动: 分级",
        "不在工作簿里 (保持原样): 补助",
        "跳过的工作表 (不是决策表): 备注",
        "政策文件没有改动",
    ]


# ---------------------------------------------------------------- cell-level errors


def test_every_cell_problem_reported_at_once(small: tuple[Path, Path]) -> None:
    policy, xlsx = small

    def change(wb: Any) -> None:
        ws = wb["分级"]
        ws["B4"] = ">="  # incomplete test
        ws["E4"] = "'高'"  # single quotes
        ws["C5"] = None  # empty cell
        ws["B6"] = "3000..8300"  # range without brackets
        for ref, value in {"A7": None, "B7": "-", "C7": "-", "E7": '"低"'}.items():
            ws[ref] = value  # row without id
        for ref, value in {"A8": "G-1", "B8": "<> 5", "C8": "-", "E8": '"低"'}.items():
            ws[ref] = value  # duplicate id, <> is not a test
        for ref, value in {"A9": "g-9", "B9": "-", "C9": "-", "D9": "x", "E9": '"低"'}.items():
            ws[ref] = value  # not a rule id, a value in the || column
        ws["H9"] = "stray"  # a column without header
        wb["补助"]["B1"] = "补贴"  # the table no longer exists
        wb["补助"]["D1"] = "collect average"

    _with_sheet(xlsx, change)
    err = _error(xlsx, policy)
    assert err.render("zh") == (
        """\
t.xlsx 工作表「分级」B4: 「>=」不是合法的条件: 写到一半就结束了
  = 提示: 条件格可以写: -、"文字"、8300、>= 8300、[1..10)、"a", "b"、not("a") (文字要加英文双引号)
t.xlsx 工作表「分级」E4: 「'高'」不是合法的结论: 文字要用英文双引号 " 括起来, 不能用单引号 '
  = 提示: 结论格写一个值: "文字"、8300、true、{"a", "b"} 或一个名称 (文字要加英文双引号)
t.xlsx 工作表「分级」C5: 条件格是空的
  = 提示: 不限条件时写 -
t.xlsx 工作表「分级」B6: 「3000..8300」不是合法的条件: 区间要加括号: [1..10] 或 [1..10)
  = 提示: 条件格可以写: -、"文字"、8300、>= 8300、[1..10)、"a", "b"、not("a") (文字要加英文双引号)
t.xlsx 工作表「分级」A7: 这一行没有规则编号
  = 提示: 在第一格写一个不重复的规则编号, 如 LC-4
t.xlsx 工作表「分级」A8: 规则编号 G-1 重复了 (第一次在 A4)
  = 提示: 每一行的规则编号都要不同; 改成一个新的编号
t.xlsx 工作表「分级」B8: 「<> 5」不是合法的条件: 在「>」处读不下去 (第 2 个字符)
  = 提示: 条件格可以写: -、"文字"、8300、>= 8300、[1..10)、"a", "b"、not("a") (文字要加英文双引号)
t.xlsx 工作表「分级」A9: 「g-9」不是规则编号
  = 提示: 规则编号是大写字母加连字符和数字, 如 LC-4、AS-1c
t.xlsx 工作表「分级」D9: || 列是分隔列, 应当是空的
  = 提示: 把内容移到左边的条件列或右边的结论列
t.xlsx 工作表「分级」H9: 这个格子所在的列没有表头
  = 提示: 把内容移到有表头的列里, 或删掉它
t.xlsx 工作表「补助」B1: 政策里已经没有决策表「补贴」
  = 提示: 是不是「补助」?
11 个问题; 政策文件没有改动"""
    )
    assert err.render("en").splitlines()[::2] == [
        "t.xlsx sheet '分级' B4: '>=' is not a valid condition: it ends too early",
        "t.xlsx sheet '分级' E4: ''高'' is not a valid output: text is written in double quotes "
        "\", not single quotes '",
        "t.xlsx sheet '分级' C5: the condition cell is empty",
        "t.xlsx sheet '分级' B6: '3000..8300' is not a valid condition: a range needs brackets, "
        "as in [1..10] or [1..10)",
        "t.xlsx sheet '分级' A7: this row has no rule id",
        "t.xlsx sheet '分级' A8: rule id G-1 is used twice (first in A4)",
        "t.xlsx sheet '分级' B8: '<> 5' is not a valid condition: unexpected '>' (character 2)",
        "t.xlsx sheet '分级' A9: 'g-9' is not a rule id",
        "t.xlsx sheet '分级' D9: the || column separates conditions from outputs and must stay "
        "empty",
        "t.xlsx sheet '分级' H9: this cell's column has no header",
        "t.xlsx sheet '补助' B1: the policy has no table '补贴' any more",
        "11 problem(s); nothing was written",
    ]


def test_sheet_structure_problems(small: tuple[Path, Path]) -> None:
    policy, xlsx = small

    def change(wb: Any) -> None:
        wb["分级"]["D3"] = "分隔"  # the || column lost its header
        wb["补助"]["D1"] = "collect average"
        wb["补助"]["E3"] = "金额"  # a second output column with the same name
        wb["补助"]["E4"] = "1"
        wb["补助"]["E5"] = "2"
        wb.copy_worksheet(wb["补助"]).title = "补助2"  # the same table twice

    _with_sheet(xlsx, change)
    err = _error(xlsx, policy)
    assert [(i.sheet, i.cell, i.message_zh) for i in err.issues] == [
        ("分级", "B3", "表头行里没有 || 列 (条件列和结论列之间的分隔列)"),
        ("补助", "D1", "命中策略「collect average」不对"),
        ("补助", "E3", "结论列「金额」重复了 (第一次在 D3)"),
        ("补助2", "B1", "决策表「补助」已经在工作表「补助」里了"),
    ]


def test_checker_findings_point_at_their_cells(small: tuple[Path, Path]) -> None:
    """Problems only the whole policy shows (names, types, enum values, ids used
    elsewhere) are reported at the sheet cell they came from."""
    policy, xlsx = small
    _edit(xlsx, "分级", {"B3": "人均收入", "C4": '"abc"', "E5": "高", "E6": '"最低"'})
    _edit(xlsx, "补助", {"A5": "R-1"})
    err = _error(xlsx, policy)
    assert err.render("zh") == (
        """\
t.xlsx 工作表「补助」A5: 规则编号 R-1 已经用在规则 R-1 (small.policy:31)
  = 提示: 每个规则编号在整份政策里只能用一次; 改成一个新的编号
1 个问题; 政策文件没有改动"""
    )
    _edit(xlsx, "补助", {"A5": "B-2"})
    err = _error(xlsx, policy)
    assert err.render("zh") == (
        """\
t.xlsx 工作表「分级」B3: F201: 未知名称「人均收入」
  = 提示: 是不是「收入」?
t.xlsx 工作表「分级」C4: F305: 不能比较是/否和文字
  = 提示: 比较两边的类型要一致: 金额比金额, 日期比日期, 枚举比它的取值
t.xlsx 工作表「分级」E5: F201: 未知名称「高」
  = 提示: 文字要加英文双引号: "高"
t.xlsx 工作表「分级」E6: F308: 「最低」不是枚举「等级」的取值
  = 提示: 是不是「低」?
4 个问题; 政策文件没有改动"""
    )
    assert err.render("en").splitlines()[0] == (
        "t.xlsx sheet '分级' B3: F201: unknown name '人均收入'"
    )


def test_findings_outside_the_tables_are_shown_in_the_policy_text(
    small: tuple[Path, Path],
) -> None:
    """Deleting a row that a rule refers to breaks the rule, not a cell."""
    policy, xlsx = small
    text = policy.read_text("utf-8").replace('分级 = "高"', "G-1")
    policy.write_text(text, "utf-8")
    _with_sheet(xlsx, lambda wb: wb["分级"].delete_rows(4))
    err = _error(xlsx, policy)
    assert err.issues == ()
    # shown in the text as it would be (the row and its comment line are gone)
    assert err.render("en").splitlines() == [
        f"{policy}:29:19: error F203: no rule or table row has the id G-1",
        '  29 | rule R-1 高等级 when G-1 then "分级为高"',
        "     |                      ^^^",
        "     = hint: did you mean 'G-3'?",
        "1 problem(s); nothing was written",
    ]


def test_errors_pickle() -> None:
    err = SpreadsheetError("t.xlsx", [CellIssue("s", "A1", "坏", "bad")])
    again = pickle.loads(pickle.dumps(err))
    assert again.issues == err.issues and str(again) == str(err)


def test_not_a_workbook(tmp_path: Path) -> None:
    bad = tmp_path / "t.xlsx"
    bad.write_text("not a zip", "utf-8")
    with pytest.raises(PolicyLoadError, match=r"不是能读取的 \.xlsx 文件"):
        import_xlsx(bad, SMALL)


# ---------------------------------------------------------------- CLI


def test_cli_export_edit_import(
    small: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy, _ = small
    xlsx = tmp_path / "cli.xlsx"
    assert fanpin(["export-xlsx", str(policy), "-o", str(xlsx)]) == 0
    assert capsys.readouterr().out == f"已导出 2 张决策表到 {xlsx}: 分级, 补助\n"
    _edit(xlsx, "补助", {"D5": "150"})
    assert fanpin(["import-xlsx", str(xlsx), "--into", str(policy), "--lang", "en"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "updated 补助 (small.policy): changed B-2",
        "unchanged: 分级",
        "written: small.policy",
    ]
    _edit(xlsx, "补助", {"A5": None})
    assert fanpin(["import-xlsx", str(xlsx), "--into", str(policy)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("cli.xlsx 工作表「补助」A5: 这一行没有规则编号")
    assert fanpin(["import-xlsx", str(xlsx), "--into", str(tmp_path / "none.policy")]) == 2
    assert fanpin(["export-xlsx", str(policy), "-o", str(tmp_path / "t.csv")]) == 2


# ---------------------------------------------------------------- docs/spreadsheets-and-dmn.md

DOC = ROOT / "docs" / "spreadsheets-and-dmn.md"


def doc_blocks(info: str) -> list[str]:
    """The fenced blocks of the page with this info string, in order."""
    fence = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
    return [m["body"] for m in fence.finditer(DOC.read_text("utf-8")) if m["info"] == info]


def _console(block: str) -> tuple[list[str], str]:
    command, _, output = block.partition("\n")
    assert command.startswith("$ fanpin ")
    return shlex.split(command[len("$ fanpin ") :]), output


def test_docs_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    shutil.copy(SMALL, tmp_path / "政策.policy")
    monkeypatch.chdir(tmp_path)
    export, imported, errors = doc_blocks("console")[:3]

    def run(block: str) -> None:
        argv, expected = _console(block)
        fanpin(argv)
        captured = capsys.readouterr()
        assert captured.out + captured.err == expected

    run(export)
    _edit(Path("决策表.xlsx"), "labour_class", {"B5": "-"})
    run(imported)

    export_xlsx("政策.policy", "表格.xlsx")

    def change(wb: Any) -> None:
        ws = wb["分级"]
        ws["B4"], ws["C5"] = ">=", None
        for ref, value in {"B7": "-", "C7": "-", "E7": '"低"'}.items():
            ws[ref] = value
        for ref, value in {"A8": "G-1", "B8": "-", "C8": "-", "E8": '"低"'}.items():
            ws[ref] = value
        wb["补助"]["B1"] = "补贴"

    _with_sheet(Path("表格.xlsx"), change)
    run(errors)

    export_xlsx("政策.policy", "表格.xlsx")
    _edit(Path("表格.xlsx"), "分级", {"B3": "人均收入", "E6": '"最低"'})
    err = _error(Path("表格.xlsx"), Path("政策.policy"))
    assert doc_blocks("text")[0] == err.render("zh").rsplit("\n", 1)[0] + "\n"
