"""The reference evaluator: three-valued logic, hit policies, arithmetic, overrides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from fanpin_rules import EvaluationError, HouseholdInputError, load_policy
from fanpin_rules.policy import Policy

HEADER = """
policy "测试" { version "t" as_of 2024-06-05 }
enum 劳动技能 { 普通劳动力, 弱劳动力, 无劳动力 }
enum 结论 { 高, 中, 低 }
record member 成员 {
  age 年龄: int required >= 0
  skill 劳动技能: 劳动技能 required
  willing 意愿: bool = false
  dibao 低保起始: date
}
record household 户 {
  household_id 户编号: text required
  size 人口: int required >= 1
  income 收入: money required >= 0
  expense 支出: money = 0 >= 0
  note 备注: text
  tuopin 脱贫户: bool required
  since 识别日期: date
  members 成员: list of member required >= 1
}
input household key household_id
param 基准 L: money unit "元" cite "测试" { 2023-01-01: 7000  2024-01-01: 8300 cite "2024" }
let pcni 人均: money = round((income - expense) / size, 2)
"""


def make(tmp_path: Path, body: str) -> Policy:
    f = tmp_path / "p.policy"
    f.write_text(HEADER + body, "utf-8")
    return load_policy(f)


def hh(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "household_id": "H",
        "size": 2,
        "income": "16600",
        "tuopin": True,
        "members": [{"age": 40, "skill": "普通劳动力", "willing": True}],
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def test_exact_money_boundary(tmp_path: Path) -> None:
    p = make(tmp_path, 'rule A-1 when pcni <= L then "低"')
    assert p.evaluate(hh(income="16600")).values["pcni"] == "8300.00"
    assert "A-1" in p.evaluate(hh(income="16600")).fired
    assert "A-1" not in p.evaluate(hh(income="16600.02")).fired  # 8300.01
    assert "A-1" in p.evaluate(hh(income="16599.98")).fired


def test_rounding_half_up(tmp_path: Path) -> None:
    p = make(tmp_path, "")
    assert p.evaluate(hh(income="0.01", size=2)).values["pcni"] == "0.01"  # 0.005 -> 0.01
    assert p.evaluate(hh(income="0.03", size=4)).values["pcni"] == "0.01"  # 0.0075 -> 0.01


def test_missing_required_is_undetermined(tmp_path: Path) -> None:
    p = make(
        tmp_path,
        'rule A-1 when pcni <= L then "低"\nrule A-2 when not 脱贫户 and pcni <= L then "x"',
    )
    r = p.evaluate(hh(income=None))
    assert r.undetermined["A-1"] == ("income",)
    assert r.values["pcni"] is None
    assert "A-1" not in r.fired
    # false and unknown = false
    r2 = p.evaluate(hh(income=None, tuopin=True))
    assert "A-2" not in r2.undetermined and "A-2" not in r2.fired


def test_kleene_or(tmp_path: Path) -> None:
    p = make(tmp_path, 'rule A-1 when 脱贫户 or pcni <= L then "x"')
    assert "A-1" in p.evaluate(hh(income=None, tuopin=True)).fired
    r = p.evaluate(hh(income=None, tuopin=False))
    assert r.undetermined == {"A-1": ("income",)}


def test_absent_optional_compares_false(tmp_path: Path) -> None:
    p = make(
        tmp_path,
        'rule A-1 when months(since, as_of) >= 6 then "x"\n'
        'rule A-2 when not (months(since, as_of) >= 6) then "y"\n'
        'rule A-3 when since is missing and note is empty then "z"',
    )
    r = p.evaluate(hh())
    assert r.fired == ("A-2", "A-3")
    assert r.undetermined == {}


def test_months_and_params_by_date(tmp_path: Path) -> None:
    p = make(tmp_path, 'rule A-1 when months(since, as_of) >= 6 and pcni <= L then "x"')
    assert "A-1" in p.evaluate(hh(since="2023-12-05")).fired  # exactly 6 months
    assert "A-1" not in p.evaluate(hh(since="2023-12-06")).fired  # 5 months
    # in 2023 the line was 7000
    r = p.evaluate(hh(since="2023-01-01"), as_of="2023-08-01")
    assert "A-1" not in r.fired
    assert r.params[0].value == "7000.00" and r.params[0].effective == "2023-01-01"


def test_member_required_missing(tmp_path: Path) -> None:
    p = make(tmp_path, 'rule A-1 when any(members where age >= 60) then "老"')
    r = p.evaluate(hh(members=[{"skill": "普通劳动力"}, {"age": 30, "skill": "无劳动力"}]))
    assert r.undetermined == {"A-1": ("members[0].age",)}
    r = p.evaluate(hh(members=[{"skill": "普通劳动力"}, {"age": 70, "skill": "无劳动力"}]))
    assert r.fired == ("A-1",)  # true or unknown = true


def test_aggregations(tmp_path: Path) -> None:
    p = make(
        tmp_path,
        "let n = count(members where willing)\n"
        "let oldest = max(members: age)\n"
        'let all_able = all(members: skill = "普通劳动力")\n'
        "let total = sum(members: age)\n"
        "let nobody = min(members where age > 200: age)\n",
    )
    r = p.evaluate(
        hh(
            members=[
                {"age": 40, "skill": "普通劳动力", "willing": True},
                {"age": 7, "skill": "无劳动力"},
            ]
        )
    )
    assert r.values["n"] == 1
    assert r.values["oldest"] == 40
    assert r.values["all_able"] is False
    assert r.values["total"] == 47
    assert r.values["nobody"] is None


def test_override(tmp_path: Path) -> None:
    p = make(
        tmp_path,
        'rule R-1 when pcni <= L then "回退"\nrule R-3 overrides R-1 when 脱贫户 then "重新识别"',
    )
    r = p.evaluate(hh(income="100"))
    assert r.fired == ("R-3",)
    assert r.trace is not None
    assert r.trace.conclusion("R-1").status == "overridden"
    assert r.trace.conclusion("R-1").overridden_by == "R-3"
    r2 = p.evaluate(hh(income="100", tuopin=False))
    assert r2.fired == ("R-1",)


TABLE = """
let 有能劳 = any(members where skill = "普通劳动力" and willing)
let 有弱劳 = any(members where skill = "弱劳动力")
table 类别 hit {hit} {{
  | id   | 有能劳 | 有弱劳 || 类别: 结论 |
  | LC-1 | true   | -      || "高" |
  | LC-2 | -      | true   || "中" |
  | LC-3 | -      | -      || "低" |
}}
"""


def test_first_hit(tmp_path: Path) -> None:
    p = make(tmp_path, TABLE.format(hit="first"))
    r = p.evaluate(
        hh(
            members=[
                {"age": 1, "skill": "普通劳动力", "willing": True},
                {"age": 1, "skill": "弱劳动力"},
            ]
        )
    )
    assert r.fired == ("LC-1",)
    assert r.values["类别"] == "高"
    assert r.trace is not None
    assert r.trace.conclusion("LC-2").status == "shadowed"


def test_first_hit_blocked_by_unknown(tmp_path: Path) -> None:
    p = make(tmp_path, TABLE.format(hit="first"))
    r = p.evaluate(hh(members=[{"age": 1, "willing": True}, {"age": 1, "skill": "弱劳动力"}]))
    assert "LC-1" in r.undetermined and "LC-2" in r.undetermined
    assert r.values["类别"] is None


def test_priority_and_collect(tmp_path: Path) -> None:
    p = make(tmp_path, TABLE.format(hit="priority"))
    members = [{"age": 1, "skill": "弱劳动力"}]
    r = p.evaluate(hh(members=members))
    assert r.fired == ("LC-2",) and r.values["类别"] == "中"
    p2 = make(tmp_path, TABLE.format(hit="output_order"))
    assert p2.evaluate(hh(members=members)).values["类别"] == ["中", "低"]
    p3 = make(tmp_path, TABLE.format(hit="collect count"))
    assert p3.evaluate(hh(members=members)).values["类别"] == 2
    p4 = make(tmp_path, TABLE.format(hit="rule_order"))
    assert p4.evaluate(hh(members=members)).fired == ("LC-2", "LC-3")


def test_unique_overlap_is_found_by_the_checker(tmp_path: Path) -> None:
    from fanpin_rules import PolicyCheckError

    with pytest.raises(PolicyCheckError) as info:
        make(tmp_path, TABLE.format(hit="unique"))
    assert "F702" in {d.code for d in info.value.errors}


def test_unique_violation_at_run_time_is_an_evaluation_error(tmp_path: Path) -> None:
    # the overlap depends on a count, beyond the static analysis: found at run time
    p = make(
        tmp_path,
        """
let 人数 = count(members)
table 规模 hit unique {
  | id  | 人数 | size || 规模 |
  | U-1 | >= 1 | -    || "a" |
  | U-2 | -    | >= 2 || "b" |
}
""",
    )
    with pytest.raises(EvaluationError, match="U-1, U-2"):
        p.evaluate(hh(size=2))


def test_cells_ranges_and_lists(tmp_path: Path) -> None:
    p = make(
        tmp_path,
        """
table 段 hit first {
  | id  | pcni               | size   || 段 |
  | S-1 | < 4000             | -      || "a" |
  | S-2 | [4000..8300]       | 1, 2   || "b" |
  | S-3 | (8300..10000)      | not(1) || "c" |
  | S-4 | -                  | -      || "d" |
}
""",
    )
    assert p.evaluate(hh(income="8000", size=2)).values["段"] == "b"
    assert p.evaluate(hh(income="16600", size=2)).values["段"] == "b"
    assert p.evaluate(hh(income="16600.02", size=2)).values["段"] == "c"
    assert p.evaluate(hh(income="9000", size=1)).values["段"] == "d"
    assert p.evaluate(hh(income="3000", size=1)).values["段"] == "a"


def test_param_override_and_bad_override(tmp_path: Path) -> None:
    from fanpin_rules import ParameterError

    p = make(tmp_path, 'rule A-1 when pcni <= L then "低"')
    r = p.evaluate(hh(income="17000"), params={"基准": "8700"})
    assert r.fired == ("A-1",)
    assert r.params[0].overridden and r.params[0].value == "8700.00"
    with pytest.raises(ParameterError, match="基准"):
        p.evaluate(hh(), params={"基淮": "1"})
    with pytest.raises(ParameterError):
        p.evaluate(hh(), params={"L": "abc"})


def test_rejected_record(tmp_path: Path) -> None:
    p = make(tmp_path, "")
    with pytest.raises(HouseholdInputError) as info:
        p.evaluate(hh(income="-1"))
    assert info.value.issues[0].path == "income"


def test_trace_why_not_gap(tmp_path: Path) -> None:
    p = make(tmp_path, 'rule A-1 cite "一(一)" when 脱贫户 and pcni <= L then "低"')
    r = p.evaluate(hh(income="16900"))  # 8450.00
    assert r.trace is not None
    c = r.trace.conclusion("A-1")
    assert c.status == "not_fired"
    failed = [x for x in c.conditions if x.truth == "false"]
    assert failed[0].text == "pcni <= L"
    cmp = failed[0].comparisons[0]
    assert (cmp.left_value, cmp.right_value, cmp.gap) == ("8450.00", "8300", "150.00")


def test_determinism_and_json(tmp_path: Path) -> None:
    import json

    p = make(tmp_path, TABLE.format(hit="first") + 'rule A-1 when pcni <= L then "低"')
    a = json.dumps(p.evaluate(hh()).to_json(), ensure_ascii=False, sort_keys=True)
    b = json.dumps(p.evaluate(hh()).to_json(), ensure_ascii=False, sort_keys=True)
    assert a == b


def test_as_of_default_and_explicit(tmp_path: Path) -> None:
    p = make(tmp_path, "")
    assert p.evaluate(hh()).as_of == dt.date(2024, 6, 5)
    assert p.evaluate(hh(), as_of=dt.date(2024, 1, 2)).as_of == dt.date(2024, 1, 2)
