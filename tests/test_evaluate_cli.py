"""``fanpin evaluate`` and ``evaluate_batch`` (docs/batch.md): every format in and out, every
kind of rejection counted, atomic output, batch == one by one (also across processes)."""

from __future__ import annotations

import csv
import io
import json
import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fanpin_rules import EvaluationError, HouseholdInputError, Policy, Result, load_policy
from fanpin_rules.batch import LocatedIssue, evaluate_batch
from fanpin_rules.batchio import DecisionWriter, read_decisions, write_households
from fanpin_rules.cli import main as fanpin

ROOT = Path(__file__).resolve().parents[1]
HOUSEHOLDS = ROOT / "examples" / "households.jsonl"
WITH_ERRORS = ROOT / "examples" / "households_with_errors.jsonl"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("ewenki_2024q2")


def _records(path: Path = HOUSEHOLDS, n: int | None = None) -> list[Any]:
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line, parse_float=Decimal) for line in handle if line.strip()]
    return rows[:n] if n is not None else rows


@pytest.fixture(scope="module")
def sample() -> list[dict[str, Any]]:
    """Sixty households including monitored ones and sudden events."""
    rows = _records()
    rare = [r for r in rows[40:] if "monitoring" in r or "sudden_event" in r]
    return rows[:40] + rare[:20]


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    code = fanpin(["evaluate", "--policy", "ewenki_2024q2", *map(str, args)])
    return code, capsys.readouterr().err


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------- the JSON Lines baseline


def test_jsonl_in_and_out_reconciles(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "d.jsonl"
    code, err = run(capsys, WITH_ERRORS, "-o", out)
    assert code == 0
    decisions, rejected = _jsonl(out), _jsonl(tmp_path / "d.rejected.jsonl")
    assert (len(decisions), len(rejected)) == (20, 10)
    assert err.splitlines()[-1] == (
        f"读取 30 户 = 已判定 20 + 拒收 10; 结果: {out}; 拒收记录: {tmp_path / 'd.rejected.jsonl'}"
    )
    assert list(decisions[0]) == [
        "household_id",
        "values",
        "fired",
        "undetermined",
        "as_of",
        "policy",
        "params",
        "input",
    ]
    assert decisions[0]["input"]["source"] == str(WITH_ERRORS)
    assert decisions[0]["input"]["row"] == 1
    assert decisions[0]["input"]["sha256"].startswith("sha256:")
    assert rejected[0]["row"] == 3 and rejected[0]["issues"][0]["field"] == "wage_income"
    assert "wage_income" in err  # each rejection shown, with its field

    code, err = run(capsys, WITH_ERRORS, "-o", out, "--strict", "-q", "--lang", "en")
    assert code == 1
    assert err.splitlines() == [
        f"read 30 = decided 20 + rejected 10; results: {out}; rejected records: "
        f"{tmp_path / 'd.rejected.jsonl'}"
    ]


def test_evaluate_columnar_wide_layout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: Policy
) -> None:
    """``fanpin evaluate-columnar --layout wide``: one column per rule id, equal to the
    conclusions of ``fanpin evaluate`` (NULL where undetermined); rejections reconcile."""
    pytest.importorskip("duckdb")
    out = tmp_path / "wide.jsonl"
    args = ["evaluate-columnar", "--policy", "ewenki_2024q2", str(WITH_ERRORS), "-o", str(out)]
    code = fanpin([*args, "--layout", "wide"])
    err = capsys.readouterr().err
    assert code == 0 and "读取 30 户 = 已判定 20 + 拒收 10" in err
    rows = {r["household_id"]: r for r in _jsonl(out)}
    assert len(rows) == 20
    for record in _records(WITH_ERRORS):
        hid = record["household_id"]
        if hid not in rows:
            continue
        result = policy.evaluate(record, trace=False)
        expected = {
            rid: True if rid in result.fired else None if rid in result.undetermined else False
            for rid in policy.rule_ids
        }
        assert rows[hid] == {"household_id": hid, **expected}


def test_trace_and_params_and_as_of(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    code, _ = run(
        capsys,
        WITH_ERRORS,
        "-o",
        out,
        "--trace",
        "--as-of",
        "2024-06-30",
        "--param",
        "监测收入基准=8700",
    )
    assert code == 0
    first = _jsonl(out)[0]
    assert first["as_of"] == "2024-06-30" and "trace" in first and "input" in first
    (line,) = [p for p in first["params"] if p["overridden"]]
    assert line["value"] == "8700.00" and "--param" in line["source"]


def test_ignored_keys_are_counted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    records = _records(n=2)
    records[0]["备注"] = "x"
    records[1]["housing_unsfe"] = True
    src.write_text("".join(json.dumps(r, default=str) + "\n" for r in records), "utf-8")
    code, err = run(capsys, src, "-o", tmp_path / "o.jsonl", "--ignore-extra")
    assert code == 0
    assert err.splitlines()[-1].endswith("; 忽略未知字段 2 个")


# ---------------------------------------------------------------- every format


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_every_input_format_gives_the_same_decisions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: Policy, sample: Any, fmt: str
) -> None:
    ref_in = tmp_path / "in.jsonl"
    write_households(sample, ref_in, policy)
    assert run(capsys, ref_in, "-o", tmp_path / "ref.jsonl", "-q")[0] == 0
    src = tmp_path / f"in.{fmt}"
    members = tmp_path / "members.csv"
    write_households(sample, src, policy, members=members if fmt == "csv" else None)
    extra = ["--members", str(members)] if fmt == "csv" else []
    code, err = run(capsys, src, *extra, "-o", tmp_path / "got.jsonl", "-q")
    assert code == 0, err
    ref, got = _jsonl(tmp_path / "ref.jsonl"), _jsonl(tmp_path / "got.jsonl")
    assert len(got) == len(sample)
    for a, b in zip(ref, got, strict=True):
        ia, ib = a.pop("input"), b.pop("input")
        assert a == b
        assert ia["sha256"] == ib["sha256"]  # the same household, whatever the format


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_every_output_format(capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"d.{fmt}"
    code, err = run(capsys, WITH_ERRORS, "-o", out, "-q")
    assert code == 0
    assert err.splitlines()[-1].startswith("读取 30 户 = 已判定 20 + 拒收 10")
    decisions = read_decisions(out)
    rejected = read_decisions(tmp_path / f"d.rejected.{fmt}")
    assert [d["household_id"] for d in decisions] == [
        r["household_id"] for r in _records(WITH_ERRORS) if not r["household_id"].startswith("BAD")
    ]
    assert len({r["record"] for r in rejected}) == 10  # one row per issue, numbered per record
    assert {str(r["row"]) for r in rejected} >= {"3", "6", "9"}


def test_members_file_and_rejected_path_and_encoding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: Policy, sample: Any
) -> None:
    src, members = tmp_path / "户表.csv", tmp_path / "成员.csv"
    write_households(sample[:5], src, policy, members=members)
    for path in (src, members):
        path.write_bytes(path.read_text("utf-8-sig").encode("gb18030"))
    rejected = tmp_path / "bad" / "拒收.xlsx"
    code, err = run(
        capsys,
        src,
        "--members",
        members,
        "--encoding",
        "gb18030",
        "-o",
        tmp_path / "d.parquet",
        "--rejected",
        rejected,
    )
    assert code == 0, err
    assert len(read_decisions(tmp_path / "d.parquet")) == 5
    assert read_decisions(rejected) == []


# ---------------------------------------------------------------- rejections of every kind


def test_every_kind_of_rejection_is_counted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: Policy
) -> None:
    good = _records(n=6)
    hh, members = tmp_path / "hh.csv", tmp_path / "m.csv"
    write_households(good[:4], hh, policy, members=members)
    with hh.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[2][rows[0].index("is_tuopin")] = "也许"  # a cell that is not yes/no
    rows[3][rows[0].index("household_size")] = "0"  # a value the schema rejects
    with hh.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    member_rows = len(members.read_text("utf-8-sig").splitlines())
    with members.open("a", encoding="utf-8") as handle:  # no such household; no key at all
        handle.write("H-NOBODY,张三,,40,健康,,普通劳动力\n,李四,,30,健康,,普通劳动力\n")
    jsonl = tmp_path / "more.jsonl"
    dup = dict(good[0])  # the same household as row 2 of hh.csv
    unknown = dict(good[4], housing_unsfe=True)
    jsonl.write_text(
        "\n".join(
            [
                json.dumps(good[5], default=str, ensure_ascii=False),
                '{"household_id": "H-broken", ',
                "[1, 2]",
                json.dumps(dup, default=str, ensure_ascii=False),
                json.dumps(unknown, default=str, ensure_ascii=False),
            ]
        )
        + "\n",
        "utf-8",
    )
    out = tmp_path / "d.jsonl"
    code, err = run(capsys, hh, jsonl, "--members", members, "-o", out)
    assert code == 0
    summary = err.splitlines()[-1]
    assert summary.startswith(
        "读取 11 条 (9 户 + 2 条找不到所属户的成员行) = 已判定 3 + 拒收 8; "
    ), summary
    decided, rejected = _jsonl(out), _jsonl(tmp_path / "d.rejected.jsonl")
    assert len(decided) == 3 and len(rejected) == 8
    reasons = [(r["source"], r["row"], r["issues"][0]["field"]) for r in rejected]
    assert reasons == [
        (str(hh), 3, "is_tuopin"),
        (str(hh), 4, "household_size"),
        (str(jsonl), 2, ""),
        (str(jsonl), 3, ""),
        (str(jsonl), 4, "household_id"),
        (str(jsonl), 5, "housing_unsfe"),
        (str(members), member_rows + 2, "household_id"),  # no key: listed first
        (str(members), member_rows + 1, "household_id"),
    ]
    cell = rejected[0]["issues"][0]
    assert (cell["source"], cell["row"], cell["column"]) == (str(hh), 3, "is_tuopin")
    assert "也许" in cell["reason"]
    assert "重复" in rejected[4]["issues"][0]["reason"]
    assert "JSON 格式错误" in rejected[2]["issues"][0]["reason"]  # Chinese by default


def test_rejections_on_the_terminal_are_capped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text("".join(f'{{"household_id": "B{i}", "household_size": 0}}\n' for i in range(25)))
    code, err = run(capsys, src, "-o", tmp_path / "d.jsonl")
    assert code == 0
    assert err.count("的记录被拒收") == 20
    assert f"… 另有 5 条拒收记录未逐条显示, 见 {tmp_path / 'd.rejected.jsonl'}" in err


# ---------------------------------------------------------------- progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = run(capsys, WITH_ERRORS, "-o", tmp_path / "a.jsonl")
    assert code == 0 and "\r" not in err and "█" not in err
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert (
        fanpin(
            [
                "evaluate",
                "--policy",
                "ewenki_2024q2",
                str(WITH_ERRORS),
                "-o",
                str(tmp_path / "b.jsonl"),
            ]
        )
        == 0
    )
    shown = terminal.getvalue()
    assert "\r█" in shown and "100%" in shown and "30 户" in shown
    assert shown.rstrip("\n").splitlines()[-1].lstrip("\033[K").startswith("读取 30 户")
    assert "\033[K" in shown  # the bar is wiped before the summary
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    fanpin(
        [
            "evaluate",
            "--policy",
            "ewenki_2024q2",
            str(WITH_ERRORS),
            "-o",
            str(tmp_path / "c.jsonl"),
            "-q",
        ]
    )
    assert "█" not in terminal.getvalue()


# ---------------------------------------------------------------- atomic output


def _previous_run(tmp_path: Path) -> dict[str, bytes]:
    (tmp_path / "d.jsonl").write_text("previous decisions\n")
    (tmp_path / "d.rejected.jsonl").write_text("previous rejected\n")
    return {p.name: p.read_bytes() for p in tmp_path.iterdir()}


def test_a_failure_mid_run_leaves_the_previous_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _previous_run(tmp_path)
    real = DecisionWriter.write
    calls = {"n": 0}

    def failing(self: DecisionWriter, result: Result, outcome: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 7:
            raise OSError(28, "No space left on device")
        real(self, result, outcome)

    monkeypatch.setattr(DecisionWriter, "write", failing)
    with pytest.raises(OSError, match="No space left"):
        fanpin(
            [
                "evaluate",
                "--policy",
                "ewenki_2024q2",
                str(WITH_ERRORS),
                "-o",
                str(tmp_path / "d.jsonl"),
            ]
        )
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temp file either
    calls["n"] = 0
    fresh = tmp_path / "fresh"
    with pytest.raises(OSError, match="No space left"):
        fanpin(["evaluate", "--policy", "ewenki_2024q2", str(WITH_ERRORS), "-o", f"{fresh}/d.csv"])
    assert list(fresh.iterdir()) == []  # no output, no rejected file, no temporary file


def test_ctrl_c_leaves_the_previous_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _previous_run(tmp_path)

    def interrupt(self: DecisionWriter, result: Result, outcome: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(DecisionWriter, "write", interrupt)
    code, err = run(capsys, WITH_ERRORS, "-o", tmp_path / "d.jsonl")
    assert code == 130 and "没有写出不完整的文件" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    for fmt in ("csv", "xlsx", "parquet"):
        code, _ = run(capsys, WITH_ERRORS, "-o", tmp_path / f"d.{fmt}")
        assert code == 130
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_bad_second_file_stops_the_run_without_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = _previous_run(tmp_path)
    bad = tmp_path.parent / f"{tmp_path.name}-bad.csv"
    bad.write_text("household_id,housing_unsfe\nH1,true\n", "utf-8")
    members = tmp_path.parent / f"{tmp_path.name}-m.csv"
    members.write_text("household_id,age\n", "utf-8")
    code, err = run(capsys, WITH_ERRORS, bad, "--members", members, "-o", tmp_path / "d.jsonl")
    assert code == 2
    assert "unknown column 'housing_unsfe'" in err and "did you mean 'housing_unsafe'" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_an_engine_failure_names_the_record_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _previous_run(tmp_path)
    real = Policy.evaluate_validated

    def broken(self: Policy, hh: Any, *args: Any, **kw: Any) -> Result:
        if hh.household_id == "1507242022010001":
            raise ZeroDivisionError("division by zero")
        return real(self, hh, *args, **kw)

    monkeypatch.setattr(Policy, "evaluate_validated", broken)
    code, err = run(capsys, WITH_ERRORS, "-o", tmp_path / "d.jsonl")
    assert code == 1
    assert f"{WITH_ERRORS}:4 (户 1507242022010001)" in err and "ZeroDivisionError" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# ---------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "{tmp}/d.csv", "--trace"], "traces do not fit a spreadsheet cell"),
        (["-o", "{tmp}/d.txt"], "unknown file type '.txt'"),
        (["-o", str(WITH_ERRORS)], "the output would overwrite an input"),
        (["-o", "{tmp}/d.jsonl", "--rejected", "{tmp}/d.jsonl"], "same file as -o"),
        (["-o", "{tmp}/d.jsonl", "--param", "监测收入基准=很多"], "监测收入基准"),
        (["-o", "{tmp}/d.jsonl", "--param", "收入线=8700"], "unknown parameter"),
        (["-o", "{tmp}/d.jsonl", "--as-of", "2024-13-01"], "YYYY-MM-DD"),
        (["-o", "{tmp}/d.jsonl", "--jobs", "-1"], "--jobs"),
        (["-o", "{tmp}/d.jsonl", "--members", str(WITH_ERRORS)], "members table must be"),
    ],
)
def test_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    code, err = run(capsys, WITH_ERRORS, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert code == 2
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


def test_csv_without_members_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src = tmp_path / "hh.csv"
    src.write_text("household_id\nH1\n", "utf-8")
    code, err = run(capsys, src, "-o", tmp_path / "d.jsonl")
    assert code == 2 and "--members FILE" in err


# ---------------------------------------------------------------- batch == one by one


def _one_by_one(
    policy: Policy, records: list[Any], **kw: Any
) -> list[Result | HouseholdInputError]:
    out: list[Result | HouseholdInputError] = []
    for i, r in enumerate(records, 1):
        try:
            out.append(policy.evaluate(r, **kw))
        except HouseholdInputError as err:
            out.append(HouseholdInputError(err.issues, err.household_id, None, i))
    return out


def _same(a: list[Any], b: list[Any]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert type(x) is type(y)
        if isinstance(x, Result):
            assert x == y
            assert x.to_json() == y.to_json()
        else:
            assert x.to_json() == y.to_json()


def test_batch_equals_one_by_one(policy: Policy) -> None:
    records = _records(WITH_ERRORS) + _records(n=10)
    kw = {"as_of": "2024-06-30", "params": {"监测收入基准": "8700"}}
    expected = _one_by_one(policy, records, trace=True, **kw)
    assert sum(isinstance(x, HouseholdInputError) for x in expected) == 10
    got = list(evaluate_batch(policy, records, kw["as_of"], kw["params"], trace=True))
    _same(got, expected)
    plain = _one_by_one(policy, records, trace=False)
    _same(list(evaluate_batch(policy, records, trace=False)), plain)


def test_batch_with_processes_equals_one_by_one(policy: Policy) -> None:
    records = _records(WITH_ERRORS) + _records(n=40)
    expected = _one_by_one(policy, records, trace=False, as_of="2024-06-30")
    got = evaluate_batch(policy, records, "2024-06-30", workers=2, chunk_size=7)
    _same(list(got), expected)
    few = records[:8]
    traced = evaluate_batch(policy, few, trace=True, workers=2, chunk_size=3)
    _same(list(traced), _one_by_one(policy, few, trace=True))


@pytest.mark.slow
def test_spawned_workers_load_the_policy_themselves(policy: Policy) -> None:
    records = _records(WITH_ERRORS)
    expected = _one_by_one(policy, records, trace=False, params={"监测收入基准": "8700"})
    got = evaluate_batch(
        policy, records, None, {"监测收入基准": "8700"}, workers=2, start_method="spawn"
    )
    _same(list(got), expected)


def test_cli_jobs_output_is_identical(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    lines = HOUSEHOLDS.read_text("utf-8").splitlines(keepends=True)[:200]
    src.write_text(WITH_ERRORS.read_text("utf-8") + "".join(lines), "utf-8")
    assert run(capsys, src, "-o", tmp_path / "one.jsonl", "-q")[0] == 0
    assert run(capsys, src, "-o", tmp_path / "two.jsonl", "-q", "-j", "2")[0] == 0
    for name in ("{}.jsonl", "{}.rejected.jsonl"):
        one = (tmp_path / name.format("one")).read_bytes()
        assert one == (tmp_path / name.format("two")).read_bytes()


def test_results_and_errors_pickle(policy: Policy, tmp_path: Path) -> None:
    src = tmp_path / "hh.csv"
    write_households(_records(n=1), src, policy, members=tmp_path / "m.csv")
    text = (tmp_path / "m.csv").read_text("utf-8-sig").replace(",普通劳动力,", ",半劳动力,", 1)
    (tmp_path / "m.csv").write_text(text, "utf-8")
    from fanpin_rules.batchio import open_inputs

    stream = open_inputs(policy, [str(src)], members=str(tmp_path / "m.csv"))
    (err,) = evaluate_batch(policy, stream, trace=True)
    assert isinstance(err, HouseholdInputError)
    (issue,) = err.issues
    assert isinstance(issue, LocatedIssue) and (issue.row, issue.column) == (2, "labor_skill")
    assert pickle.loads(pickle.dumps(err)).to_json() == err.to_json()
    assert pickle.loads(pickle.dumps(issue)) == issue
    (result,) = evaluate_batch(policy, _records(n=1), trace=True)
    assert pickle.loads(pickle.dumps(result)) == result
    assert pickle.loads(pickle.dumps(EvaluationError("x"))).message == "x"
