"""Batch files (docs/batch.md): readers give the JSON the schema validates, with the file, row
and column of every problem; writers round-trip and are atomic."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fanpin_rules import HouseholdInputError, Policy, load_policy
from fanpin_rules.batch import InputRecord, LocatedIssue, input_digest, run_batch
from fanpin_rules.batchio import (
    AtomicFile,
    BatchIOError,
    DecisionWriter,
    InputLayout,
    RejectedWriter,
    file_format,
    open_inputs,
    read_decisions,
    rejected_json,
    write_households,
)

ROOT = Path(__file__).resolve().parents[1]
HOUSEHOLDS = ROOT / "examples" / "households.jsonl"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("ewenki_2024q2")


def _records(n: int | None = None) -> list[dict[str, Any]]:
    """The first ``n`` example households, plus every one with a rare nested record."""
    with HOUSEHOLDS.open(encoding="utf-8") as handle:
        rows = [json.loads(line, parse_float=Decimal) for line in handle]
    if n is None:
        return rows
    rare = ("monitoring", "sudden_event", "dev_assist_confirmed", "quarterly_net_income")
    picked = rows[:n] + [r for r in rows[n:] if any(k in r for k in rare)][:60]
    return picked


@pytest.fixture(scope="module")
def sample() -> list[dict[str, Any]]:
    return _records(150)


def _items(policy: Policy, *paths: Path, **kw: Any) -> list[InputRecord | HouseholdInputError]:
    return list(open_inputs(policy, [str(p) for p in paths], **kw))


def _digests(policy: Policy, items: list[Any]) -> list[str]:
    out = []
    for item in items:
        assert isinstance(item, InputRecord), item
        assert not item.issues, item.issues
        out.append(input_digest(policy.validate(item.data)))
    return out


def _write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _write_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    openpyxl = importlib.import_module("openpyxl")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


HH_HEADER = [
    "household_id",
    "registry_kind",
    "is_tuopin",
    "household_size",
    "wage_income",
    "risk_types",
    "monitoring.identified_on",
]
MEMBER_HEADER = ["household_id", "age", "health", "labor_skill", "willing_to_work"]


def _hh(hid: str, **over: Any) -> list[Any]:
    base = {
        "household_id": hid,
        "registry_kind": "rural",
        "is_tuopin": "true",
        "household_size": "2",
        "wage_income": "8300.00",
        "risk_types": "",
        "monitoring.identified_on": "",
    }
    base.update(over)
    return [base[h] for h in HH_HEADER]


# ---------------------------------------------------------------- formats


def test_format_by_suffix() -> None:
    assert [file_format(p) for p in ("a.jsonl", "a.NDJSON", "a.json", "a.csv", "b.xlsx")] == [
        "jsonl",
        "jsonl",
        "jsonl",
        "csv",
        "xlsx",
    ]
    assert file_format("x/y.parquet") == file_format("y.pq") == "parquet"
    with pytest.raises(BatchIOError, match=r"unknown file type '\.txt'.*\.csv"):
        file_format("households.txt")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx", "parquet"])
def test_households_round_trip_every_format(
    policy: Policy, sample: list[dict[str, Any]], tmp_path: Path, fmt: str
) -> None:
    """write_households then the reader: the same validated households, row numbers in order."""
    target = tmp_path / f"hh.{fmt}"
    members = tmp_path / "members.csv" if fmt == "csv" else None
    write_households(sample, target, policy, members=members)
    items = _items(policy, target, members=str(members) if members else None)
    expected = [input_digest(policy.validate(r)) for r in sample]
    assert _digests(policy, items) == expected
    first_row = 2 if fmt in ("csv", "xlsx") else 1
    assert [i.row for i in items] == list(range(first_row, first_row + len(sample)))
    sources = {i.source for i in items}
    assert sources == ({f"{target}[households]"} if fmt == "xlsx" else {str(target)})


def test_csv_parser_produces_the_json_of_the_schema(policy: Policy, tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "hh.csv",
        [
            [*HH_HEADER, "sudden_event.kind", "quarterly_net_income.2024Q1", "measures"],
            [*_hh("H1", risk_types="因病、因学"), "illness", "-120.5", "[]"],
            [*_hh("H2", risk_types="因病; 其他", is_tuopin="否", household_size="3.0"), "", "", ""],
        ],
    )
    members = _write_csv(
        tmp_path / "m.csv",
        [
            MEMBER_HEADER,
            ["H1", "40", "健康", "普通劳动力", "是"],
            ["H2", "7", "健康", "无劳动力", ""],
        ],
    )
    h1, h2 = (i.data for i in _items(policy, path, members=str(members)))  # type: ignore[union-attr]
    assert h1 == {
        "household_id": "H1",
        "registry_kind": "rural",
        "is_tuopin": True,
        "household_size": Decimal("2"),
        "wage_income": "8300.00",
        "risk_types": ["因病", "因学"],
        "sudden_event": {"kind": "illness"},
        "quarterly_net_income": {"2024Q1": "-120.5"},
        "measures": [],
        "members": [
            {
                "age": Decimal("40"),
                "health": "健康",
                "labor_skill": "普通劳动力",
                "willing_to_work": True,
            }
        ],
    }
    # blank cells are absent keys; a nested record with no cell is absent
    assert "monitoring" not in h2 and "sudden_event" not in h2 and "measures" not in h2
    assert h2["risk_types"] == ["因病", "其他"] and h2["is_tuopin"] is False
    assert h2["members"] == [{"age": Decimal("7"), "health": "健康", "labor_skill": "无劳动力"}]
    hh = policy.validate(h2)
    assert hh.data["household_size"] == 3 and hh.data["members"][0]["willing_to_work"] is False


def test_headers_may_be_chinese_labels(policy: Policy, tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "hh.csv",
        [
            ["户编号", "是否脱贫户", "监测信息.识别日期", "monitoring.是否监测对象"],
            ["H1", "1", "2024-01-05", "是"],
        ],
    )
    members = _write_csv(tmp_path / "m.csv", [["户编号", "年龄"], ["H1", "40"]])
    (item,) = _items(policy, path, members=str(members))
    assert isinstance(item, InputRecord)
    assert item.data == {
        "household_id": "H1",
        "is_tuopin": True,
        "monitoring": {"identified_on": "2024-01-05", "is_object": True},
        "members": [{"age": Decimal("40")}],
    }


def test_xlsx_typed_cells_and_label_sheet_names(policy: Policy, tmp_path: Path) -> None:
    path = _write_xlsx(
        tmp_path / "hh.xlsx",
        {
            "说明": [["这张表不是数据"]],
            "户": [HH_HEADER, ["H1", "rural", True, 2, 8300.01, "因病", dt.datetime(2024, 1, 5)]],
            "家庭成员": [MEMBER_HEADER, ["H1", 40, "健康", "普通劳动力", 1]],
        },
    )
    (item,) = _items(policy, path)
    assert isinstance(item, InputRecord) and item.source == f"{path}[户]"
    assert item.data == {
        "household_id": "H1",
        "registry_kind": "rural",
        "is_tuopin": True,
        "household_size": 2,
        "wage_income": 8300.01,
        "risk_types": ["因病"],
        "monitoring": {"identified_on": "2024-01-05"},
        "members": [
            {"age": 40, "health": "健康", "labor_skill": "普通劳动力", "willing_to_work": True}
        ],
    }
    assert policy.validate(item.data).data["wage_income"] == Decimal("8300.01")


def test_parquet_timestamps_and_extra_columns(policy: Policy, tmp_path: Path) -> None:
    pa = importlib.import_module("pyarrow")
    pq = importlib.import_module("pyarrow.parquet")
    table = pa.table(
        {
            "household_id": ["H1"],
            "entered_on": pa.array([dt.datetime(2024, 5, 1)], pa.timestamp("s")),
            "members": [[{"age": 40}]],
        }
    )
    pq.write_table(table, tmp_path / "a.parquet")
    (item,) = _items(policy, tmp_path / "a.parquet")
    assert isinstance(item, InputRecord)
    assert item.data == {"household_id": "H1", "entered_on": "2024-05-01", "members": [{"age": 40}]}

    pq.write_table(pa.table({"household_id": ["H1"], "housing_unsfe": [True]}), tmp_path / "b.pq")
    with pytest.raises(BatchIOError, match=r"unknown column 'housing_unsfe'.*housing_unsafe"):
        _items(policy, tmp_path / "b.pq")
    bad = pa.table({"household_id": ["H1"], "members": [[{"age": 4, "agee": 5}]]})
    pq.write_table(bad, tmp_path / "c.parquet")
    with pytest.raises(BatchIOError, match=r"members\[\]\.agee"):
        _items(policy, tmp_path / "c.parquet")
    (item,) = _items(policy, tmp_path / "b.pq", ignore_extra=True)
    assert policy.validate(item.data, ignore_extra=True).ignored_keys == ("housing_unsfe",)  # type: ignore[union-attr]


# ---------------------------------------------------------------- problems in cells


def _issues(item: object) -> list[tuple[str, str | None, int | None, str | None]]:
    assert isinstance(item, InputRecord | HouseholdInputError)
    issues = item.issues
    return [
        (i.path, i.source, i.row, i.column)
        if isinstance(i, LocatedIssue)
        else (i.path, None, None, None)
        for i in issues
    ]


def test_bad_cells_name_file_row_and_column(policy: Policy, tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "hh.csv",
        [
            HH_HEADER,
            _hh("H1", is_tuopin="也许", household_size="两人", risk_types="[因病"),
            _hh("H2"),
        ],
    )
    members = _write_csv(
        tmp_path / "m.csv",
        [
            MEMBER_HEADER,
            ["H2", "40", "健康", "普通劳动力", "x"],
            ["H1", "四十", "健康", "普通劳动力", ""],
        ],
    )
    h1, h2 = _items(policy, path, members=str(members))
    assert _issues(h1) == [
        ("is_tuopin", str(path), 2, "is_tuopin"),
        ("household_size", str(path), 2, "household_size"),
        ("risk_types", str(path), 2, "risk_types"),
        ("members[0].age", str(members), 3, "age"),
    ]
    assert _issues(h2) == [("members[0].willing_to_work", str(members), 2, "willing_to_work")]
    first = h1.issues[0]  # type: ignore[union-attr]
    assert "也许" in first.reason_zh and "true" in first.hint_en


def test_xlsx_cell_problems(policy: Policy, tmp_path: Path) -> None:
    header = ["household_id", "income_window_start", "sumu", "entered_on", "wage_income"]
    path = _write_xlsx(
        tmp_path / "hh.xlsx",
        {
            "households": [
                header,
                ["H1", 45292, 1.5e15, dt.datetime(2024, 5, 1, 9, 30), dt.date(2024, 1, 1)],
                ["H2", "2024/5/1", 150724, None, "8,300"],
            ],
            "members": [MEMBER_HEADER, ["H1", 40], ["H2", 41], [1.5e15, 42]],
        },
    )
    h1, h2, orphan = _items(policy, path)
    assert isinstance(orphan, HouseholdInputError)
    assert _issues(orphan) == [("household_id", f"{path}[members]", 4, "household_id")]
    assert "Excel" in orphan.issues[0].hint_en
    sheet = f"{path}[households]"
    assert _issues(h1) == [
        ("income_window_start", sheet, 2, "income_window_start"),
        ("sumu", sheet, 2, "sumu"),
        ("entered_on", sheet, 2, "entered_on"),
        ("wage_income", sheet, 2, "wage_income"),
    ]
    assert "Excel" in h1.issues[0].reason_en  # type: ignore[union-attr]
    assert isinstance(h2, InputRecord) and not h2.issues
    assert h2.data["sumu"] == "150724"  # type: ignore[index]
    # the schema's own findings are located the same way
    (outcome,) = list(run_batch(policy, [h2]))
    err = outcome.value
    assert isinstance(err, HouseholdInputError)
    by_field = {i.path: i for i in err.issues}
    assert set(by_field) == {"income_window_start", "wage_income"}
    start = by_field["income_window_start"]
    assert isinstance(start, LocatedIssue) and (start.source, start.row) == (sheet, 3)
    assert "2024-05-01" in start.hint_zh


def test_row_longer_than_header(policy: Policy, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "hh.csv", [["household_id", "sumu"], ["H1", "辉苏木", "", "多余"]])
    members = _write_csv(tmp_path / "m.csv", [["household_id", "age"], ["H1", "40"]])
    (item,) = _items(policy, path, members=str(members))
    assert _issues(item) == [("", str(path), 2, None)]
    assert "beyond the header" in item.issues[0].reason_en  # type: ignore[union-attr]


# ---------------------------------------------------------------- the members join


def test_members_join_orphans_and_order(policy: Policy, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "hh.csv", [HH_HEADER, _hh("H1"), [""] * 7, _hh("H2"), _hh("H3")])
    members = _write_csv(
        tmp_path / "m.csv",
        [
            MEMBER_HEADER,
            ["H2", "30"],
            ["H1", "41"],
            ["H9", "50"],
            ["", "60"],
            ["H2", "5"],
            ["H1", "42"],
            ["H9", "51"],
        ],
    )
    stream = open_inputs(policy, [str(path)], members=str(members))
    items = list(stream)
    assert [type(i).__name__ for i in items] == ["InputRecord"] * 3 + ["HouseholdInputError"] * 3
    h1, h2, h3 = (i.data for i in items[:3])  # type: ignore[union-attr]
    assert [m["age"] for m in h1["members"]] == [41, 42]  # members keep their file order
    assert [m["age"] for m in h2["members"]] == [30, 5]
    assert "members" not in h3  # no member rows: members missing (DQ-1), not rejected
    assert [i.row for i in items] == [2, 4, 5, 5, 4, 8]  # blank row 3 skipped
    orphans = items[3:]
    assert [(e.household_id, e.source, e.row) for e in orphans] == [  # type: ignore[union-attr]
        (None, str(members), 5),
        ("H9", str(members), 4),
        ("H9", str(members), 8),
    ]
    assert "no household key" in orphans[0].issues[0].reason_en  # type: ignore[union-attr]
    assert "matches no household" in orphans[1].issues[0].reason_en  # type: ignore[union-attr]
    assert orphans[1].issues[0].path == "household_id"  # type: ignore[union-attr]
    assert stream.orphan_rows == 3
    assert "members" in policy.validate(h3).missing


def test_members_sheet_in_workbook_and_orphans_per_workbook(policy: Policy, tmp_path: Path) -> None:
    path = _write_xlsx(
        tmp_path / "hh.xlsx",
        {"households": [HH_HEADER, _hh("H1")], "members": [MEMBER_HEADER, ["H1", 40], ["H2", 3]]},
    )
    first, orphan = _items(policy, path)
    assert isinstance(first, InputRecord) and first.data["members"] == [{"age": 40}]  # type: ignore[index]
    assert isinstance(orphan, HouseholdInputError)
    assert (orphan.source, orphan.row) == (f"{path}[members]", 3)


# ---------------------------------------------------------------- whole-file problems


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            ["household_id", "housing_unsfe"],
            r"unknown column 'housing_unsfe'.*did you mean 'housing_unsafe'",
        ),
        (["household_id", "monitoring.identifed_on"], r"monitoring\.identified_on"),
        (["household_id", "monitoring"], r"'monitoring' is a record.*monitoring\.is_object"),
        (["household_id", "members"], r"'members' is a list of records.*--members"),
        (["household_id", "户编号"], r"'户编号' and 'household_id' are the same field"),
        (["household_id", "", "sumu"], r"column 2\b.*empty"),
        (["household_id", "sumu.x"], r"'sumu' is not a record"),
    ],
)
def test_bad_headers_stop_before_any_row(
    policy: Policy, tmp_path: Path, header: list[str], message: str
) -> None:
    path = _write_csv(tmp_path / "hh.csv", [header, ["H1"] + [""] * (len(header) - 1)])
    members = _write_csv(tmp_path / "m.csv", [MEMBER_HEADER])
    with pytest.raises(BatchIOError, match=message) as info:
        _items(policy, path, members=str(members))
    assert str(path) in info.value.message


def test_unknown_columns_can_be_ignored(policy: Policy, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "hh.csv", [["household_id", "备注"], ["H1", "看过"]])
    members = _write_csv(tmp_path / "m.csv", [["household_id", "age", "电话"], ["H1", "40", "123"]])
    (item,) = _items(policy, path, members=str(members), ignore_extra=True)
    hh = policy.validate(item.data, ignore_extra=True)  # type: ignore[union-attr]
    assert hh.ignored_keys == ("备注", "members[0].电话")


def test_members_table_problems(policy: Policy, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "hh.csv", [HH_HEADER, _hh("H1")])
    no_key = _write_csv(tmp_path / "m.csv", [["age"], ["40"]])
    with pytest.raises(BatchIOError, match="no household key column"):
        _items(policy, path, members=str(no_key))
    with pytest.raises(BatchIOError, match=r"pass --members FILE"):
        open_inputs(policy, [str(path)])
    with pytest.raises(BatchIOError, match="--members is for CSV/XLSX input"):
        open_inputs(policy, [str(HOUSEHOLDS)], members=str(no_key))
    workbook = _write_xlsx(tmp_path / "hh.xlsx", {"households": [HH_HEADER]})
    with pytest.raises(BatchIOError, match="no sheet named members or 家庭成员"):
        _items(policy, workbook)


def test_missing_file_and_unreadable_files(policy: Policy, tmp_path: Path) -> None:
    with pytest.raises(BatchIOError, match="no such file"):
        open_inputs(policy, [str(tmp_path / "none.jsonl")])
    (tmp_path / "x.xlsx").write_text("not a workbook")
    with pytest.raises(BatchIOError, match=r"x\.xlsx: .*not a readable \.xlsx workbook"):
        _items(policy, tmp_path / "x.xlsx")
    (tmp_path / "x.parquet").write_text("not parquet")
    with pytest.raises(BatchIOError, match="not a readable Parquet file"):
        _items(policy, tmp_path / "x.parquet")
    (tmp_path / "empty.csv").write_text("")
    members = _write_csv(tmp_path / "m.csv", [MEMBER_HEADER])
    with pytest.raises(BatchIOError, match="the file is empty"):
        _items(policy, tmp_path / "empty.csv", members=str(members))


def test_encoding(policy: Policy, tmp_path: Path) -> None:
    rows = [["户编号", "苏木乡镇"], ["H1", "辉苏木"]]
    path = _write_csv(tmp_path / "gbk.csv", rows, encoding="gb18030")
    members = _write_csv(tmp_path / "m.csv", [["户编号", "年龄"], ["H1", "40"]])
    with pytest.raises(BatchIOError, match=r"gbk\.csv:1: .*--encoding gb18030"):
        _items(policy, path, members=str(members))
    with pytest.raises(BatchIOError, match="unknown encoding 'klingon'"):
        _items(policy, path, members=str(members), encoding="klingon")
    gb_members = _write_csv(tmp_path / "gm.csv", [["户编号", "年龄"], ["H1", "40"]], "gb18030")
    (item,) = _items(policy, path, members=str(gb_members), encoding="gb18030")
    assert item.data == {"household_id": "H1", "sumu": "辉苏木", "members": [{"age": 40}]}  # type: ignore[union-attr]


def test_jsonl_bad_lines_are_rejected_items(policy: Policy, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"household_id": "H1"}\n\n{"household_id": \n[1, 2]\n', encoding="utf-8")
    items = _items(policy, path)
    assert [type(i).__name__ for i in items] == [
        "InputRecord",
        "HouseholdInputError",
        "InputRecord",
    ]
    assert [i.row for i in items] == [1, 3, 4]
    assert "invalid JSON" in items[1].issues[0].reason_en  # type: ignore[union-attr]


def test_jsonl_lines_are_independent(policy: Policy, tmp_path: Path) -> None:
    """A line that is not UTF-8, or nested beyond reason, rejects that line only."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b'{"household_id": "H1"}\n{"household_id": "\xb8\xa3"}\n'
        + b"[" * 100_000
        + b"\n"
        + b'{"household_id": "H4"}\n'
    )
    items = _items(policy, path)
    assert [type(i).__name__ for i in items] == [
        "InputRecord",
        "HouseholdInputError",
        "HouseholdInputError",
        "InputRecord",
    ]
    assert "not UTF-8" in items[1].issues[0].reason_en  # type: ignore[union-attr]
    assert "nested too deeply" in items[2].issues[0].reason_en  # type: ignore[union-attr]
    assert items[3].row == 4


def test_missing_optional_library_says_how_to_install(
    policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.import_module

    def fake(name: str, package: str | None = None) -> Any:
        if name.startswith(("pyarrow", "openpyxl")):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", fake)
    (tmp_path / "a.parquet").write_bytes(b"")
    with pytest.raises(BatchIOError, match=r"pip install 'fanpin_rules\[parquet\]'"):
        open_inputs(policy, [str(tmp_path / "a.parquet")])
    with pytest.raises(BatchIOError, match=r"pip install 'fanpin_rules\[xlsx\]'"):
        DecisionWriter(str(tmp_path / "out.xlsx"), policy)
    assert not list(tmp_path.glob(".out.xlsx.*"))


def test_layout_of_the_shipped_policy(policy: Policy) -> None:
    layout = InputLayout(policy)
    names = [leaf.name for leaf in layout.root.leaves]
    assert names[:3] == ["household_id", "sumu", "gacha"]
    assert "quarterly_net_income.2024Q1" in names and "members" not in names
    assert layout.required_lists == ("members",)
    assert layout.child_for_sheet("家庭成员") == layout.child_for_sheet(" Members ") == "members"
    assert layout.child_for_sheet("户") is None


# ---------------------------------------------------------------- writing


def test_atomic_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.jsonl"
    f = AtomicFile(target)
    f.tmp.write_text("half")
    f.abort()
    assert not target.exists() and list(target.parent.iterdir()) == []
    target.write_text("old")
    os.chmod(target, 0o640)
    f = AtomicFile(target)
    f.tmp.write_text("new")
    assert target.read_text() == "old"
    f.commit()
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["out.jsonl"]
    mask = os.umask(0o022)
    os.umask(mask)
    fresh = AtomicFile(tmp_path / "fresh.csv")
    fresh.commit()
    assert (tmp_path / "fresh.csv").stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0600


def _decide(policy: Policy, records: list[dict[str, Any]]) -> list[Any]:
    return list(
        run_batch(policy, [InputRecord(r, "in.jsonl", i) for i, r in enumerate(records, 1)])
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_decisions_in_every_format_hold_the_jsonl_content(
    policy: Policy, sample: list[dict[str, Any]], tmp_path: Path, fmt: str
) -> None:
    outcomes = _decide(policy, sample[:40])
    writers = {f: DecisionWriter(str(tmp_path / f"d.{f}"), policy) for f in ("jsonl", fmt)}
    for o in outcomes:
        for w in writers.values():
            w.write(o.value, o)
    for w in writers.values():
        w.commit()
    reference = read_decisions(tmp_path / "d.jsonl")
    rows = read_decisions(tmp_path / f"d.{fmt}")
    assert len(rows) == len(reference) == 40
    for ref, row in zip(reference, rows, strict=True):
        assert _normalise(row, fmt) == _normalise(ref, "jsonl")


def _normalise(row: dict[str, Any], fmt: str) -> dict[str, Any]:
    """A decision row as plain text values, whatever the format."""
    if fmt == "jsonl":
        flat = {"household_id": row["household_id"], "fired": row["fired"]}
        flat["undetermined"] = row["undetermined"]
        flat.update({f"values.{k}": v for k, v in row["values"].items()})
        flat["as_of"] = row["as_of"]
        flat["policy.hash"] = row["policy"]["hash"]
        flat.update({f"input.{k}": v for k, v in row["input"].items()})
    elif fmt == "parquet":
        flat = {"household_id": row["household_id"], "fired": row["fired"]}
        flat["undetermined"] = dict(row["undetermined"])
        flat.update({f"values.{k}": v for k, v in row["values"].items()})
        flat["as_of"] = row["as_of"]
        flat["policy.hash"] = row["policy"]["hash"]
        flat.update({f"input.{k}": v for k, v in row["input"].items()})
    else:
        flat = {k: v for k, v in row.items() if k.startswith(("values.", "input."))}
        flat["household_id"] = row["household_id"]
        flat["fired"] = [x for x in (row["fired"] or "").split("、") if x]
        flat["undetermined"] = json.loads(row["undetermined"]) if row["undetermined"] else {}
        flat["as_of"] = row["as_of"]
        flat["policy.hash"] = row["policy.hash"]
    return {k: _text(v) for k, v in flat.items()}


def _text(v: Any) -> Any:
    """One spelling per value: 8300 == 8300.00 == "8300.00", lists joined, JSON for tables."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float | Decimal):
        return f"{Decimal(str(v)).normalize():f}"
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list):
        if v and isinstance(v[0], dict):
            return [_text(x) for x in v]
        return "、".join(str(_text(x)) for x in v) or None
    if isinstance(v, dict):
        return {k: _text(x) for k, x in v.items()} or None
    if isinstance(v, str) and v.startswith(("[", "{")):
        return _text(json.loads(v))  # a table's rows, as JSON text in a cell
    if isinstance(v, str):
        try:
            return f"{Decimal(v).normalize():f}"
        except ArithmeticError:
            return v
    return v


def test_trace_needs_jsonl_or_parquet(policy: Policy, tmp_path: Path) -> None:
    for fmt in ("csv", "xlsx"):
        with pytest.raises(BatchIOError, match="traces do not fit a spreadsheet cell"):
            DecisionWriter(str(tmp_path / f"d.{fmt}"), policy, trace=True)
    (outcome,) = run_batch(policy, _records()[:1], trace=True)
    w = DecisionWriter(str(tmp_path / "d.parquet"), policy, trace=True)
    w.write(outcome.value, outcome)
    w.commit()
    (row,) = read_decisions(tmp_path / "d.parquet")
    assert json.loads(row["trace"])["conclusions"]


def test_text_that_looks_like_a_formula_stays_text(policy: Policy, tmp_path: Path) -> None:
    record = dict(_records(1)[0], household_id="=HYPERLINK(1)\x01")
    (outcome,) = _decide(policy, [record])
    w = DecisionWriter(str(tmp_path / "d.xlsx"), policy)
    w.write(outcome.value, outcome)
    w.commit()
    (row,) = read_decisions(tmp_path / "d.xlsx")
    assert row["household_id"] == "=HYPERLINK(1)\ufffd"


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx", "parquet"])
def test_rejected_file_every_format(policy: Policy, tmp_path: Path, fmt: str) -> None:
    errors = [
        HouseholdInputError(
            [
                LocatedIssue(
                    "members[0].age", "年龄不对", "bad age", "写数字", "digits", "m.csv", 7, "年龄"
                ),
                LocatedIssue(
                    "wage_income", "金额不对", "bad money", "", "", "hh.csv", 2, "wage_income"
                ),
            ],
            "H1",
            "hh.csv",
            2,
        ),
        HouseholdInputError([], None, "hh.csv", 3),
    ]
    w = RejectedWriter(str(tmp_path / f"r.{fmt}"), "en")
    for e in errors:
        w.write(e)
    w.commit()
    rows = read_decisions(tmp_path / f"r.{fmt}")
    if fmt == "jsonl":
        assert rows == [rejected_json(e, "en") for e in errors]
        assert rows[0]["issues"][0] == {
            "field": "members[0].age",
            "reason": "bad age",
            "hint": "digits",
            "source": "m.csv",
            "row": 7,
            "column": "年龄",
        }
        return
    got = [
        (
            str(r["record"]),
            r["household_id"] or None,
            r["source"],
            str(r["row"]),
            r["column"] or None,
            r["field"] or None,
        )
        for r in rows
    ]
    assert got == [
        ("1", "H1", "m.csv", "7", "年龄", "members[0].age"),
        ("1", "H1", "hh.csv", "2", "wage_income", "wage_income"),
        ("2", None, "hh.csv", "3", None, None),
    ]
