"""Household input validation (SPEC §2 and §8): types, bounds, paths, messages, missing data."""

from __future__ import annotations

import copy
import datetime as dt
import doctest
import json
import math
import operator
import pickle
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fanpin_rules import household as household_module
from fanpin_rules.errors import HouseholdInputError, InputIssue, PolicyCheckError
from fanpin_rules.household import Household, HouseholdSchema
from fanpin_rules.model import build_model
from fanpin_rules.parser import parse
from fanpin_rules.policy import load_policy

POLICY = """
enum 户籍类型 { rural, relocated_urban, nongzhuanfei_unprotected, urban_other }
enum 自主应对能力 { sufficient "足够", insufficient "不足", unknown "不详" }
enum 风险类型 {
  因病, 因学, 因残, 因自然灾害, 因意外事故, 因产业项目失败, 因务工就业不稳, 因缺劳动力, 其他
}
enum 健康状况 { 健康, 长期慢性病, 患有大病, 残疾 }
enum 劳动技能 { 普通劳动力, 技能劳动力, 弱劳动力或半劳动力, 丧失劳动力, 无劳动力 }
enum 就业情况 { outside "转移就业", local "就地就近就业", none "无" }
enum 监测类别 { 脱贫不稳定户, 边缘易致贫户, 突发严重困难户 }

record member 家庭成员 {
  name 姓名: text pii
  id_no 身份证号: text pii
  age 年龄: int required >= 0
  health 健康状况: 健康状况 required
  disability_grade 残疾等级: int >= 1 <= 4
  labor_skill 劳动技能: 劳动技能 required
  willing_to_work 有务工意愿: bool = false
  employment 就业情况: 就业情况 = "none"
  dibao_since 享受低保起始: date
}

record monitoring 监测信息 {
  is_object 是否监测对象: bool
  category 监测类别: 监测类别
  identified_on 识别日期: date
  eliminated 是否消除风险: bool = false
  original_risks 原识别风险: list of 风险类型 = []
  income_stable_months 收入稳定月数: int = 0 >= 0
  pcni_at_elimination 消除时人均纯收入: money
}

record quarterly 季度纯收入 {
  "2023Q4" 二〇二三年四季度: money
  "2024Q1" 二〇二四年一季度: money
  "2024Q2" 二〇二四年二季度: money
}

record household 户 {
  household_id 户编号: text required
  registry_kind 户籍类型: 户籍类型 required
  is_tuopin 是否脱贫户: bool required
  household_size 家庭人口数: int required >= 1
  income_window_start 收支起始日期: date required
  wage_income 工资性收入: money required >= 0
  business_income 生产经营性收入: money required >= 0
  business_expense 生产经营性支出: money required >= 0
  medical_self_paid 合规自付医疗费用: money = 0 >= 0
  pcni_2023 二〇二三年人均纯收入: money
  pcni_2023_rank_pct 人均纯收入百分位: number >= 0 <= 100
  housing_unsafe 住房不安全: bool = false
  self_coping 自主应对能力: 自主应对能力 = "unknown"
  risk_types 风险类型: list of 风险类型 = [] <= 5
  monitoring 监测信息: monitoring
  quarterly_net_income 季度纯收入: quarterly
  entered_on 录入系统日期: 日期
  members 家庭成员: list of member required >= 1
}

input household key household_id
"""

RISKS = ["因病", "因学", "因残", "因自然灾害", "因意外事故", "因产业项目失败", "因务工就业不稳"]
SKILLS = ["普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"]
HEALTH = ["健康", "长期慢性病", "患有大病", "残疾"]


def _schema(text: str = POLICY) -> HouseholdSchema:
    model, diags = build_model([parse(text, "t.policy")])
    assert diags == []
    return HouseholdSchema(model)


SCHEMA = _schema()


def good() -> dict[str, Any]:
    """A complete, valid household: 8 required fields plus 3 members."""
    return {
        "household_id": "150724-0001",
        "registry_kind": "rural",
        "is_tuopin": True,
        "household_size": 3,
        "income_window_start": "2023-05-01",
        "wage_income": 18000,
        "business_income": "6500.50",
        "business_expense": 1200.25,
        "members": [
            {"name": "张三", "age": 45, "health": "健康", "labor_skill": "普通劳动力"},
            {"name": "李四", "age": 43, "health": "长期慢性病", "labor_skill": "技能劳动力"},
            {"name": "张小", "age": 9, "health": "健康", "labor_skill": "无劳动力"},
        ],
    }


def with_(**changes: Any) -> dict[str, Any]:
    record = good()
    record.update(changes)
    return record


def rejected(data: object, **kwargs: Any) -> HouseholdInputError:
    with pytest.raises(HouseholdInputError) as info:
        SCHEMA.validate(data, **kwargs)
    err = info.value
    assert err.issues, "a rejection names at least one field"
    for issue in err.issues:
        assert issue.reason_zh and issue.reason_en, issue
        assert issue.hint_zh and issue.hint_en, issue
    return err


def only_issue(data: object, **kwargs: Any) -> InputIssue:
    err = rejected(data, **kwargs)
    assert len(err.issues) == 1, err.issues
    return err.issues[0]


def member_with(index: int, **changes: Any) -> dict[str, Any]:
    record = good()
    record["members"][index].update(changes)
    return record


# ---------------------------------------------------------------- acceptance, normalisation


def test_valid_household_is_normalised() -> None:
    h = SCHEMA.validate(good())
    assert isinstance(h, Household)
    assert h.household_id == "150724-0001"
    assert h.missing == ()
    assert h.ignored_keys == ()
    d = h.data
    assert d["wage_income"] == Decimal("18000") and type(d["wage_income"]) is Decimal
    assert d["business_income"] == Decimal("6500.50")
    assert str(d["business_income"]) == "6500.50"
    assert d["business_expense"] == Decimal("1200.25")
    assert d["income_window_start"] == dt.date(2023, 5, 1)
    assert type(d["household_size"]) is int
    assert isinstance(d["members"], tuple) and len(d["members"]) == 3
    assert d["members"][0]["name"] == "张三"


def test_defaults_are_applied_and_absent_optional_fields_left_out() -> None:
    d = SCHEMA.validate(good()).data
    assert d["medical_self_paid"] == Decimal("0") and type(d["medical_self_paid"]) is Decimal
    assert d["housing_unsafe"] is False
    assert d["self_coping"] == "unknown"
    assert d["risk_types"] == ()
    assert d["members"][1]["willing_to_work"] is False
    assert d["members"][1]["employment"] == "none"
    for absent in ("pcni_2023", "pcni_2023_rank_pct", "monitoring", "quarterly_net_income"):
        assert absent not in d
    assert "dibao_since" not in d["members"][0]
    assert list(d) == [
        "household_id",
        "registry_kind",
        "is_tuopin",
        "household_size",
        "income_window_start",
        "wage_income",
        "business_income",
        "business_expense",
        "medical_self_paid",
        "housing_unsafe",
        "self_coping",
        "risk_types",
        "members",
    ]


def test_nested_record_defaults() -> None:
    d = SCHEMA.validate(with_(monitoring={"is_object": True})).data
    assert d["monitoring"] == {
        "is_object": True,
        "eliminated": False,
        "original_risks": (),
        "income_stable_months": 0,
    }


def test_input_is_not_modified() -> None:
    record = with_(pcni_2023=None, monitoring={"identified_on": None})
    before = copy.deepcopy(record)
    SCHEMA.validate(record)
    assert record == before


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (8300, Decimal("8300")),
        (8300.0, Decimal("8300")),
        (8300.5, Decimal("8300.5")),
        (0.1, Decimal("0.1")),  # via str(), never the binary float 0.1000000000000000055…
        ("8300.00", Decimal("8300.00")),
        ("0", Decimal("0")),
        ("12.3", Decimal("12.3")),
        (Decimal("7.10"), Decimal("7.10")),
        (10**15, Decimal(10**15)),
    ],
)
def test_money_accepted(value: Any, expected: Decimal) -> None:
    got = SCHEMA.validate(with_(wage_income=value)).data["wage_income"]
    assert type(got) is Decimal
    assert got == expected
    if isinstance(value, str):
        assert str(got) == value  # the written form (e.g. "8300.00") is kept


@pytest.mark.parametrize("value", [-500, "-500.25", -0.01, 0])
def test_net_figures_may_be_negative(value: Any) -> None:
    d = SCHEMA.validate(
        with_(pcni_2023=value, quarterly_net_income={"2024Q1": value, "2024Q2": 10})
    ).data
    assert d["pcni_2023"] == Decimal(str(value))
    assert d["quarterly_net_income"] == {"2024Q1": Decimal(str(value)), "2024Q2": Decimal(10)}


@pytest.mark.parametrize(("value", "expected"), [(4, 4), (4.0, 4), (Decimal("4.00"), 4)])
def test_int_accepts_whole_numbers(value: Any, expected: int) -> None:
    got = SCHEMA.validate(with_(household_size=value)).data["household_size"]
    assert got == expected and type(got) is int


def test_number_has_no_decimal_limit() -> None:
    d = SCHEMA.validate(with_(pcni_2023_rank_pct="12.3456")).data
    assert d["pcni_2023_rank_pct"] == Decimal("12.3456")
    for edge in (0, 100, "100.0"):
        SCHEMA.validate(with_(pcni_2023_rank_pct=edge))


def test_dates() -> None:
    d = SCHEMA.validate(with_(entered_on="2024-02-29", monitoring={"identified_on": "2023-06-05"}))
    assert d.data["entered_on"] == dt.date(2024, 2, 29)
    assert d.data["monitoring"]["identified_on"] == dt.date(2023, 6, 5)


def test_enum_values_and_lists() -> None:
    d = SCHEMA.validate(with_(risk_types=["因病", "因学"], self_coping="insufficient")).data
    assert d["risk_types"] == ("因病", "因学")
    assert d["self_coping"] == "insufficient"
    assert len(SCHEMA.validate(with_(risk_types=RISKS[:5])).data["risk_types"]) == 5


# ---------------------------------------------------------------- null, absent, missing


def test_null_is_the_same_as_absent() -> None:
    absent = good()
    nulls = with_(
        pcni_2023=None,
        monitoring=None,
        medical_self_paid=None,
        housing_unsafe=None,
        self_coping=None,
        risk_types=None,
    )
    nulls["members"][0].update(willing_to_work=None, dibao_since=None, name=None)
    absent["members"][0].pop("name")
    assert SCHEMA.validate(nulls) == SCHEMA.validate(absent)
    assert SCHEMA.validate(nulls).data["medical_self_paid"] == Decimal(0)


def test_null_required_field_is_missing_not_rejected() -> None:
    h = SCHEMA.validate(with_(wage_income=None))
    assert h.missing == ("wage_income",)
    assert "wage_income" not in h.data


def test_missing_required_fields_are_listed_in_document_order() -> None:
    record = good()
    for key in ("members", "household_size", "wage_income", "is_tuopin"):
        record.pop(key)
    h = SCHEMA.validate(record)
    assert h.missing == ("is_tuopin", "household_size", "wage_income", "members")
    assert "members" not in h.data


def test_missing_required_inside_list_elements() -> None:
    record = good()
    record["members"][1].pop("age")
    record["members"][2].pop("labor_skill")
    record["members"][2].pop("health")
    record.pop("business_expense")
    h = SCHEMA.validate(record)
    assert h.missing == (
        "business_expense",
        "members[1].age",
        "members[2].health",
        "members[2].labor_skill",
    )


def test_missing_household_id() -> None:
    record = good()
    record.pop("household_id")
    h = SCHEMA.validate(record)
    assert h.household_id is None
    assert h.missing == ("household_id",)


def test_incomplete_and_invalid_is_rejected() -> None:
    record = good()
    record.pop("wage_income")
    record["household_size"] = 0
    err = rejected(record)
    assert [i.path for i in err.issues] == ["household_size"]
    assert err.household_id == "150724-0001"


def test_null_inside_a_list_is_not_absence() -> None:
    issue = only_issue(with_(risk_types=["因病", None]))
    assert issue.path == "risk_types[1]"


def test_unknown_key_with_null_value_is_still_unknown() -> None:
    issue = only_issue(with_(housing_unsfe=None))
    assert issue.path == "housing_unsfe"


# ---------------------------------------------------------------- rejections (SPEC §8)


def test_negative_money() -> None:
    issue = only_issue(with_(wage_income=-1))
    assert issue.path == "wage_income"
    assert "-1" in issue.reason_zh and "0" in issue.reason_zh
    assert "at least 0" in issue.reason_en
    assert "负" in issue.hint_zh and "negative" in issue.hint_en


def test_negative_money_as_string_and_in_nested_default_field() -> None:
    assert only_issue(with_(business_expense="-0.50")).path == "business_expense"
    issue = only_issue(with_(monitoring={"income_stable_months": -1}))
    assert issue.path == "monitoring.income_stable_months"


@pytest.mark.parametrize("value", ["1.234", 1.234, Decimal("1.005"), "8300.000", 0.001])
def test_money_with_three_decimals(value: Any) -> None:
    issue = only_issue(with_(wage_income=value))
    assert issue.path == "wage_income"
    assert "3 位小数" in issue.reason_zh and "3 decimals" in issue.reason_en
    assert "分" in issue.hint_zh


def test_three_decimals_hint_rounds_half_up() -> None:
    issue = only_issue(with_(wage_income="1.005"))
    assert "1.01" in issue.hint_zh and "1.01" in issue.hint_en


@pytest.mark.parametrize("value", [True, False])
def test_money_as_bool(value: bool) -> None:
    issue = only_issue(with_(wage_income=value))
    assert issue.path == "wage_income"
    assert "是/否" in issue.reason_zh and "true/false" in issue.reason_en
    assert "金额" in issue.reason_zh and "amount" in issue.reason_en


@pytest.mark.parametrize(
    "value",
    ["abc", "", "8,300", "8300元", " 12", "12 ", "1e3", "+5", ".5", "5.", "８３００", "NaN"],
)
def test_money_as_other_string(value: str) -> None:
    issue = only_issue(with_(wage_income=value))
    assert issue.path == "wage_income"
    assert "文字" in issue.reason_zh and "text" in issue.reason_en
    assert "8300" in issue.hint_zh


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, Decimal("NaN"), Decimal("Inf")])
def test_money_not_finite(value: Any) -> None:
    issue = only_issue(with_(wage_income=value))
    assert issue.path == "wage_income"
    assert "有效" in issue.reason_zh and "not a valid number" in issue.reason_en


@pytest.mark.parametrize("value", [[1], {"a": 1}])
def test_money_as_container(value: Any) -> None:
    assert only_issue(with_(wage_income=value)).path == "wage_income"


def test_int_with_fraction() -> None:
    issue = only_issue(member_with(0, age=4.5))
    assert issue.path == "members[0].age"
    assert "整数" in issue.reason_zh and "4.5" in issue.reason_zh
    assert "whole number" in issue.reason_en


@pytest.mark.parametrize(("value", "word"), [("4", "文字"), (True, "是/否"), (False, "是/否")])
def test_int_rejects_strings_and_bools(value: Any, word: str) -> None:
    issue = only_issue(with_(household_size=value))
    assert issue.path == "household_size"
    assert word in issue.reason_zh


def test_int_as_string_hint_says_drop_the_quotes() -> None:
    issue = only_issue(with_(household_size="4"))
    assert "引号" in issue.hint_zh and "quotes" in issue.hint_en


def test_household_size_zero() -> None:
    issue = only_issue(with_(household_size=0))
    assert issue.path == "household_size"
    assert "家庭人口数" in issue.reason_zh
    assert "at least 1" in issue.reason_en


@pytest.mark.parametrize("grade", [0, 5])
def test_int_range(grade: int) -> None:
    assert only_issue(member_with(1, disability_grade=grade)).path == "members[1].disability_grade"


def test_int_range_edges_accepted() -> None:
    SCHEMA.validate(member_with(1, disability_grade=1))
    SCHEMA.validate(member_with(1, disability_grade=4, age=0))


@pytest.mark.parametrize("value", ["true", "是", 1, 0, "false"])
def test_bool_rejects_strings_and_numbers(value: Any) -> None:
    issue = only_issue(with_(housing_unsafe=value))
    assert issue.path == "housing_unsafe"
    assert "true 或 false" in issue.reason_zh
    assert "true or false" in issue.reason_en


def test_bool_hint_suggests_the_literal() -> None:
    assert "改为 true" in only_issue(with_(is_tuopin="是")).hint_zh
    assert "write false" in only_issue(with_(is_tuopin="false")).hint_en


def test_text_rejects_numbers() -> None:
    err = rejected(with_(household_id=150724))
    assert [i.path for i in err.issues] == ["household_id"]
    assert err.household_id is None


def test_unknown_enum_value_with_suggestion() -> None:
    issue = only_issue(member_with(2, labor_skill="普通劳力"))
    assert issue.path == "members[2].labor_skill"
    assert "「普通劳力」不在允许的取值中" in issue.reason_zh
    assert "普通劳动力" in issue.reason_zh  # the allowed values are listed
    assert "labor_skill" in issue.reason_en
    assert issue.hint_zh == "是不是「普通劳动力」?"
    assert issue.hint_en == "did you mean '普通劳动力'?"


def test_unknown_ascii_enum_value_with_suggestion() -> None:
    issue = only_issue(with_(registry_kind="Rural"))
    assert issue.hint_en == "did you mean 'rural'?"


def test_enum_label_suggests_the_value() -> None:
    issue = only_issue(with_(self_coping="不足"))
    assert issue.hint_en == "did you mean 'insufficient'?"


def test_enum_value_not_a_string() -> None:
    issue = only_issue(with_(registry_kind=1))
    assert issue.path == "registry_kind"
    assert "rural" in issue.reason_en


def test_enum_in_list_names_the_element() -> None:
    issue = only_issue(with_(risk_types=["因病", "因穷"]))
    assert issue.path == "risk_types[1]"
    assert "因穷" in issue.reason_zh


def test_unknown_key_with_suggestion() -> None:
    issue = only_issue(with_(housing_unsfe=True))
    assert issue.path == "housing_unsfe"
    assert "housing_unsfe" in issue.reason_zh and "unknown key" in issue.reason_en
    assert issue.hint_en == "did you mean 'housing_unsafe'?"
    assert "「housing_unsafe」" in issue.hint_zh


def test_unknown_key_by_its_chinese_label_suggests_the_key() -> None:
    issue = only_issue(with_(家庭人口数=3))
    assert issue.hint_en == "did you mean 'household_size'?"


def test_unknown_key_in_nested_record() -> None:
    err = rejected(member_with(0, agee=4) | {"monitoring": {"identified_onn": "2024-01-01"}})
    paths = {i.path: i for i in err.issues}
    assert set(paths) == {"members[0].agee", "monitoring.identified_onn"}
    assert paths["members[0].agee"].hint_en == "did you mean 'members[0].age'?"


def test_unknown_key_without_close_match_lists_the_keys() -> None:
    issue = only_issue(member_with(0, zzzz=1))
    assert "labor_skill" in issue.hint_en


def test_non_text_key() -> None:
    record: dict[Any, Any] = good()
    record[7] = 1
    assert only_issue(record).path == "7"


def test_ignore_extra_opt_in_reports_ignored_keys() -> None:
    record = member_with(0, agee=4) | {"housing_unsfe": True, "note": None}
    record["monitoring"] = {"is_object": True, "extra": 1}
    h = SCHEMA.validate(record, ignore_extra=True)
    # in the order of the input document
    assert h.ignored_keys == ("members[0].agee", "housing_unsfe", "note", "monitoring.extra")
    assert "housing_unsfe" not in h.data and "agee" not in h.data["members"][0]
    assert h.data["monitoring"]["is_object"] is True
    # the opt-in only drops unknown keys: bad values are still rejected
    assert only_issue(with_(housing_unsfe=1, wage_income=-1), ignore_extra=True).path == (
        "wage_income"
    )


def test_members_empty_is_rejected_but_absent_is_missing() -> None:
    issue = only_issue(with_(members=[]))
    assert issue.path == "members"
    assert "0" in issue.reason_zh and "at least 1" in issue.reason_en
    record = good()
    record.pop("members")
    assert SCHEMA.validate(record).missing == ("members",)


def test_risk_types_with_six_entries() -> None:
    issue = only_issue(with_(risk_types=RISKS[:6]))
    assert issue.path == "risk_types"
    assert "6" in issue.reason_zh and "5" in issue.reason_zh
    assert "at most 5" in issue.reason_en


def test_length_error_only_when_the_length_is_wrong() -> None:
    # a bad member is reported on its own; "members" itself has the right length
    err = rejected(with_(members=[5]))
    assert [i.path for i in err.issues] == ["members[0]"]
    assert "object" in err.issues[0].reason_en


@pytest.mark.parametrize("value", [120, "100.01", -0.5])
def test_rank_out_of_range(value: Any) -> None:
    issue = only_issue(with_(pcni_2023_rank_pct=value))
    assert issue.path == "pcni_2023_rank_pct"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2024-02-30", "not a real date"),
        ("2024/01/05", "YYYY-MM-DD"),
        ("2024-1-5", "YYYY-MM-DD"),
        ("20240105", "YYYY-MM-DD"),
        ("2024-01-05T00:00:00", "YYYY-MM-DD"),
        (20240105, "must be a date"),
        (True, "must be a date"),
    ],
)
def test_bad_date(value: Any, fragment: str) -> None:
    issue = only_issue(with_(monitoring={"is_object": True, "identified_on": value}))
    assert issue.path == "monitoring.identified_on"
    assert fragment in issue.reason_en


def test_bad_date_hint_suggests_the_iso_form() -> None:
    issue = only_issue(with_(income_window_start="2023/5/1"))
    assert issue.path == "income_window_start"
    assert "2023-05-01" in issue.hint_zh and "2023-05-01" in issue.hint_en


def test_quoted_key_path() -> None:
    issue = only_issue(with_(quarterly_net_income={"2024Q1": "abc"}))
    assert issue.path == "quarterly_net_income.2024Q1"
    assert "二〇二四年一季度" in issue.reason_zh


def test_nested_record_not_an_object() -> None:
    issue = only_issue(with_(monitoring=[]))
    assert issue.path == "monitoring"
    assert "identified_on" in issue.hint_en


def test_list_not_an_array() -> None:
    issue = only_issue(with_(risk_types="因病"))
    assert issue.path == "risk_types"
    assert '["因病"]' in issue.hint_zh


def test_all_issues_are_collected_one_per_field() -> None:
    record = with_(
        household_size=0,
        wage_income=True,
        risk_types=["因病", "因穷"],
        monitoring={"identified_on": "2024-13-01"},
        quarterly_net_income={"2024Q1": "1.234"},
        housing_unsfe=True,
    )
    record["members"][2]["labor_skill"] = "普通劳力"
    record["members"][0]["age"] = "40"
    err = rejected(record)
    assert [i.path for i in err.issues] == [
        "household_size",
        "wage_income",
        "risk_types[1]",
        "monitoring.identified_on",
        "quarterly_net_income.2024Q1",
        "members[0].age",
        "members[2].labor_skill",
        "housing_unsfe",
    ]


@pytest.mark.parametrize("data", [[], "{}", None, 42, [good()]])
def test_not_a_json_object(data: object) -> None:
    issue = only_issue(data)
    assert issue.path == ""
    assert "JSON 对象" in issue.reason_zh and "JSON object" in issue.reason_en


def test_error_names_source_row_and_household() -> None:
    err = rejected(with_(household_size=0), source="batch.jsonl", row=17)
    assert (err.source, err.row, err.household_id) == ("batch.jsonl", 17, "150724-0001")
    assert str(err).startswith("batch.jsonl:17: household_size:")
    as_json = err.to_json("en")
    assert as_json["issues"] == [
        {
            "field": "household_size",
            "reason": err.issues[0].reason_en,
            "hint": err.issues[0].hint_en,
        }
    ]
    json.dumps(err.to_json("zh"), ensure_ascii=False)


def test_pii_values_are_not_echoed() -> None:
    issue = only_issue(member_with(0, id_no=150724198001011234))
    assert issue.path == "members[0].id_no"
    text = issue.reason_zh + issue.reason_en + issue.hint_zh + issue.hint_en
    assert "150724198001011234" not in text
    assert "敏感" in issue.reason_zh


# ---------------------------------------------------------------- pickling, threads, schema


def test_household_pickles() -> None:
    h = SCHEMA.validate(with_(monitoring={"identified_on": "2024-01-02"}))
    assert pickle.loads(pickle.dumps(h)) == h


def test_error_pickles() -> None:
    err = rejected(with_(household_size=0, wage_income=-1), source="f.jsonl", row=2)
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, HouseholdInputError)
    assert back.issues == err.issues
    assert (back.household_id, back.source, back.row) == (err.household_id, "f.jsonl", 2)
    assert str(back) == str(err)


def test_thread_safe() -> None:
    records = [with_(household_id=f"H{i}", wage_income=i, household_size=i % 4) for i in range(200)]

    def run(r: dict[str, Any]) -> object:
        try:
            return SCHEMA.validate(r)
        except HouseholdInputError as e:
            return [i.path for i in e.issues]

    expected = [run(r) for r in records]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(run, records)) == expected


def test_json_schema() -> None:
    schema = SCHEMA.json_schema()
    json.dumps(schema, ensure_ascii=False)
    assert schema["additionalProperties"] is False
    assert schema["required"] == [
        "household_id",
        "registry_kind",
        "is_tuopin",
        "household_size",
        "income_window_start",
        "wage_income",
        "business_income",
        "business_expense",
        "members",
    ]
    props = schema["properties"]
    assert props["household_size"]["type"] == "integer"
    assert props["household_size"]["minimum"] == 1
    assert props["housing_unsafe"]["default"] is False
    assert props["medical_self_paid"]["default"] == 0
    assert props["risk_types"]["maxItems"] == 5
    assert props["members"]["minItems"] == 1
    assert props["registry_kind"]["enum"][0] == "rural"
    assert props["household_size"]["title"] == "家庭人口数"
    assert "default" not in props["pcni_2023"]
    member = schema["$defs"]["member"]
    assert member["required"] == ["age", "health", "labor_skill"]
    assert member["properties"]["id_no"]["x-pii"] is True
    assert "2024Q1" in schema["$defs"]["quarterly"]["properties"]


def test_doctests() -> None:
    result = doctest.testmod(household_module)
    assert result.attempted > 0 and result.failed == 0


# ---------------------------------------------------------------- building from a policy


def test_defaults_of_every_type_are_converted() -> None:
    schema = _schema(
        """
        enum e { a, b }
        record r { x: int }
        record h {
          id: text
          m: money = 12.50
          n: number = 0.125
          i: int = 3
          b: bool = true
          d: date = "2024-01-01"
          t: text = "无"
          e1: e = "b"
          l: list of e = ["a"]
          rs: list of r = []
        }
        input h key id
        """
    )
    d = schema.validate({}).data
    assert d == {
        "m": Decimal("12.50"),
        "n": Decimal("0.125"),
        "i": 3,
        "b": True,
        "d": dt.date(2024, 1, 1),
        "t": "无",
        "e1": "b",
        "l": ("a",),
        "rs": (),
    }
    assert type(d["i"]) is int


def test_bad_default_is_a_policy_error() -> None:
    model, _ = build_model([parse("record h { n: int = 1.5 }\ninput h", "t.policy")])
    with pytest.raises(PolicyCheckError) as info:
        HouseholdSchema(model)
    assert info.value.diagnostics[0].code == "F301"


def test_policy_without_input_is_a_policy_error() -> None:
    model, _ = build_model([parse("record h { n: int }", "t.policy")])
    with pytest.raises(PolicyCheckError):
        HouseholdSchema(model)


def test_unknown_field_type_is_a_policy_error() -> None:
    model, _ = build_model([parse("record h { n: integer }\ninput h", "t.policy")])
    with pytest.raises(PolicyCheckError) as info:
        HouseholdSchema(model)
    assert info.value.diagnostics[0].code == "F208"


def test_input_without_key_field() -> None:
    schema = _schema("record h { n: int required }\ninput h")
    h = schema.validate({"n": 1.0})
    assert h.household_id is None and h.data == {"n": 1}


def test_root_named_by_its_label() -> None:
    schema = _schema("record h 户 { n: int }\ninput 户")
    assert schema.validate({"n": 2}).data == {"n": 2}


# ---------------------------------------------------------------- properties

money2 = st.decimals(
    min_value=Decimal("0"), max_value=Decimal("99999999.99"), places=2, allow_nan=False
)


def _as_json(d: Decimal, how: int) -> Any:
    if how == 0:
        return str(d)
    if how == 1:
        return float(d)
    return int(d) if d == d.to_integral_value() else str(d)


members_st = st.lists(
    st.fixed_dictionaries(
        {
            "age": st.integers(0, 110),
            "health": st.sampled_from(HEALTH),
            "labor_skill": st.sampled_from(SKILLS),
        },
        optional={
            "name": st.text(max_size=8),
            "willing_to_work": st.booleans(),
            "disability_grade": st.integers(1, 4),
            "employment": st.sampled_from(["outside", "local", "none"]),
            "dibao_since": st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)),
        },
    ),
    min_size=1,
    max_size=6,
)


@st.composite
def households(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Decimal]]:
    amounts = {
        key: draw(money2)
        for key in ("wage_income", "business_income", "business_expense", "medical_self_paid")
    }
    amounts["pcni_2023"] = draw(money2) * draw(st.sampled_from([1, -1]))
    amounts["q1"] = draw(money2) * draw(st.sampled_from([1, -1]))
    how = draw(st.lists(st.integers(0, 2), min_size=len(amounts), max_size=len(amounts)))
    members: list[dict[str, Any]] = draw(members_st)
    for m in members:
        if "dibao_since" in m:
            m["dibao_since"] = m["dibao_since"].isoformat()
        if draw(st.booleans()):
            m["age"] = float(m["age"])
    record: dict[str, Any] = {
        "household_id": draw(st.text(min_size=1, max_size=12)),
        "registry_kind": draw(st.sampled_from(["rural", "urban_other"])),
        "is_tuopin": draw(st.booleans()),
        "household_size": draw(st.integers(1, 12)),
        "income_window_start": draw(st.dates()).isoformat(),
        "risk_types": draw(st.lists(st.sampled_from(RISKS), max_size=5)),
        "pcni_2023_rank_pct": draw(
            st.decimals(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)
        ).normalize(),
        "members": members,
    }
    for (key, value), h in zip(amounts.items(), how, strict=True):
        if key == "q1":
            record["quarterly_net_income"] = {"2024Q1": _as_json(value, h)}
        else:
            record[key] = _as_json(value, h)
    return record, amounts


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(households())
def test_valid_households_validate_and_keep_numbers_exactly(
    case: tuple[dict[str, Any], dict[str, Decimal]],
) -> None:
    record, amounts = case
    h = SCHEMA.validate(record)
    assert h.missing == () and h.ignored_keys == ()
    assert h.household_id == record["household_id"]
    d = h.data
    for key, value in amounts.items():
        got = d["quarterly_net_income"]["2024Q1"] if key == "q1" else d[key]
        assert type(got) is Decimal
        assert got == value
    assert d["pcni_2023_rank_pct"] == record["pcni_2023_rank_pct"]
    assert [m["age"] for m in d["members"]] == [int(m["age"]) for m in record["members"]]
    assert all(type(m["age"]) is int for m in d["members"])
    assert d["risk_types"] == tuple(record["risk_types"])
    # validating the same record again gives the same result (no hidden state)
    assert SCHEMA.validate(record) == h


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


@settings(max_examples=300)
@given(json_values)
def test_any_json_value_is_a_result_or_a_named_rejection(value: Any) -> None:
    for key in ("wage_income", "household_size", "income_window_start", "risk_types"):
        try:
            h = SCHEMA.validate(with_(**{key: value}))
        except HouseholdInputError as err:
            assert {i.path.split("[")[0] for i in err.issues} == {key}, err.issues
        else:
            assert value is None or key in h.data


def test_recursive_record_is_a_policy_error() -> None:
    model, _ = build_model([parse("record h { kids: list of h }\ninput h", "t.policy")])
    with pytest.raises(PolicyCheckError) as info:
        HouseholdSchema(model)
    assert "h" in info.value.diagnostics[0].message_en


def test_any_mapping_is_accepted() -> None:
    from collections import OrderedDict
    from types import MappingProxyType

    expected = SCHEMA.validate(with_(pcni_2023=None))
    assert SCHEMA.validate(OrderedDict(with_(pcni_2023=None))) == expected
    assert SCHEMA.validate(MappingProxyType(with_(pcni_2023=None))) == expected


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("普通劳力", "普通劳动力"),  # closest
        ("半劳动力", "弱劳动力或半劳动力"),  # contained in the value meant
        ("普通劳动力人员", "普通劳动力"),  # contains the value meant
    ],
)
def test_enum_suggestions(typed: str, meant: str) -> None:
    assert only_issue(member_with(0, labor_skill=typed)).hint_zh == f"是不是「{meant}」?"


def test_unknown_key_prefix_suggests_the_full_key() -> None:
    assert only_issue(with_(housing=True)).hint_en == "did you mean 'housing_unsafe'?"
    assert only_issue(with_(Household_Size=3)).hint_en == "did you mean 'household_size'?"


# ---------------------------------------------------------------- fast path = pydantic path
#
# ``validate`` answers valid records with generated plain-Python code and hands everything
# else to the pydantic models. Both must give the same Household (types included: Decimal
# vs int, the written form of a Decimal, key order) and the same rejection.

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = load_policy("ewenki_2024q2").schema


def _exact(value: Any) -> Any:
    """A value with every type and Decimal exponent made visible to ``==``."""
    if isinstance(value, dict):
        return ("dict", [(k, _exact(v)) for k, v in value.items()])
    if isinstance(value, tuple | list):
        return (type(value).__name__, [_exact(v) for v in value])
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    return (type(value).__name__, value)


def _outcome(schema: HouseholdSchema, record: Any, fast: bool, ignore_extra: bool) -> Any:
    data = copy.deepcopy(record)
    try:
        if fast:
            h = schema.validate(data, ignore_extra=ignore_extra)
        else:
            if not isinstance(data, dict):
                return _outcome(schema, record, True, ignore_extra)  # rejected before both
            h = schema._validate_pydantic(data, None, None, ignore_extra)
    except HouseholdInputError as err:
        return ("rejected", err.issues, err.household_id)
    finally:
        assert data == record  # the input is never modified
    return ("ok", _exact(h.data), h.missing, h.ignored_keys, h.household_id)


def assert_same(schema: HouseholdSchema, record: Any, *, answered: bool | None = None) -> None:
    for ignore_extra in (False, True):
        fast = _outcome(schema, record, True, ignore_extra)
        slow = _outcome(schema, record, False, ignore_extra)
        assert fast == slow, record
    if answered is not None and isinstance(record, dict):
        assert schema._fast is not None
        try:
            schema._fast(copy.deepcopy(record), [], "")
        except Exception:
            took = False
        else:
            took = True
        assert took == answered, record


def _examples(name: str, decimals: bool) -> list[Any]:
    with (ROOT / "examples" / name).open(encoding="utf-8") as f:
        if decimals:
            return [json.loads(line, parse_float=Decimal) for line in f if line.strip()]
        return [json.loads(line) for line in f if line.strip()]


@pytest.mark.parametrize("decimals", [False, True])
def test_fast_path_on_bundled_households(decimals: bool) -> None:
    """Every bundled household: answered by the fast path, same as pydantic."""
    for record in _examples("households.jsonl", decimals):
        assert_same(SHIPPED, record, answered=True)


@pytest.mark.parametrize("decimals", [False, True])
def test_fast_path_on_households_with_errors(decimals: bool) -> None:
    for record in _examples("households_with_errors.jsonl", decimals):
        assert_same(SHIPPED, record)
        try:
            SHIPPED._validate_pydantic(copy.deepcopy(record), None, None, False)
        except HouseholdInputError:
            assert_same(SHIPPED, record, answered=False)  # errors never come from the fast path


def test_fast_path_answers_the_common_forms() -> None:
    record = with_(
        wage_income="8300.00",
        business_income=Decimal("7.10"),
        pcni_2023_rank_pct=Decimal("1E+1"),
        business_expense=0.1,
        medical_self_paid=None,
        household_size=4.0,
        pcni_2023=-12,
        risk_types=("因病",),
        monitoring={"is_object": True, "identified_on": "2024-02-29", "original_risks": []},
        quarterly_net_income={"2024Q1": Decimal("-1"), "2024Q2": None},
        entered_on=dt.date(2024, 1, 5),
    )
    record["members"][0]["age"] = Decimal("45.00")
    record["members"][1].pop("age")
    assert_same(SCHEMA, record, answered=True)
    h = SCHEMA.validate(record)
    assert h.missing == ("members[1].age",)
    assert str(h.data["wage_income"]) == "8300.00" and type(h.data["household_size"]) is int


@pytest.mark.parametrize(
    "changes",
    [
        {"wage_income": 1e16},  # exponent form: valid, but only pydantic reads it
        {"household_size": True},
        {"housing_unsfe": True},
        {"housing_unsfe": None},
        {"wage_income": "8300.001"},
        {"entered_on": "2024-02-30"},
        {"entered_on": dt.datetime(2024, 1, 5)},
        {"risk_types": ["因病", None]},
        {"members": []},
        {"monitoring": []},
        {"self_coping": "不足"},
    ],
)
def test_fast_path_hands_the_unusual_to_pydantic(changes: dict[str, Any]) -> None:
    assert_same(SCHEMA, with_(**changes), answered=False)


def test_fast_path_with_record_defaults_and_keys_needing_quotes() -> None:
    schema = _schema(
        """
        record r { x: int required  y: bool = true }
        record h {
          id: text
          "a'b{c}" 引号: money >= 0.5 < 10
          one: r = {"y": false}
          many: list of r = [{"x": 1}]
          rs: list of r required <= 2
        }
        input h key id
        """
    )
    for record in (
        {},
        {"id": "A", "a'b{c}": "0.50", "rs": [{}, {"x": 2.0, "y": None}]},
        {"one": {"x": 3}, "many": [], "rs": []},
        {"a'b{c}": 10},
        {"rs": [{}, {}, {}]},
    ):
        assert_same(schema, record)
    h = schema.validate({"one": {"x": 1}, "many": [], "rs": [{"y": False}, {}]})
    assert h.missing == ("rs[0].x", "rs[1].x")


def _value_st(schema: HouseholdSchema, t: Any, depth: int) -> st.SearchStrategy[Any]:
    """Valid and invalid values of a declared type, in the forms JSON readers produce."""
    kind = t.kind
    junk = st.sampled_from([None, True, "x", [], {}, -1, 1.5, "2024-01-05"])
    if kind in ("money", "number"):
        d = st.decimals(
            min_value=Decimal("-1000"),
            max_value=Decimal("100000"),
            places=2,
            allow_nan=False,
        )
        d3 = st.decimals(min_value=-5, max_value=200, places=3, allow_nan=False)
        forms = st.one_of(d, d3).flatmap(
            lambda x: st.sampled_from([x, str(x), float(x), int(x), Decimal(str(x)).normalize()])
        )
        special = st.sampled_from(
            [Decimal("NaN"), math.inf, 1e16, Decimal("1E+2"), "1e3", " 5", "-0", "0.00", -0.0]
        )
        return st.one_of(forms, forms, special, junk)
    if kind == "int":
        return st.one_of(
            st.integers(-2, 130),
            st.integers(-2, 130).map(float),
            st.integers(-2, 130).map(Decimal),
            st.sampled_from([4.5, Decimal("4.00"), "4", math.nan, False]),
            junk,
        )
    if kind == "bool":
        return st.one_of(st.booleans(), st.sampled_from([0, 1, "true"]), junk)
    if kind == "text":
        return st.one_of(st.text(max_size=5), st.integers(), junk)
    if kind == "date":
        dates = st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31))
        return st.one_of(
            dates.map(dt.date.isoformat),
            dates,
            st.sampled_from(["2024-02-30", "2024/01/05", "20240105", "2024-1-5"]),
            junk,
        )
    if kind == "enum":
        labels = [label for label, _ in t.enum_labels]
        return st.one_of(
            st.sampled_from(t.enum_values),
            st.sampled_from(t.enum_values),
            st.sampled_from([*labels, "other", "因病 "]),
            junk,
        )
    if kind == "record":
        return st.one_of(
            _record_st(schema, t.record, depth + 1), _record_st(schema, t.record, depth + 1), junk
        )
    elem = _value_st(schema, t.elem, depth)
    return st.one_of(
        st.lists(elem, max_size=4 if depth else 3),
        st.lists(elem, max_size=2).map(tuple),
        st.lists(elem, min_size=5, max_size=7),
        junk,
    )


OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def _valid_st(schema: HouseholdSchema, t: Any, bounds: Any) -> st.SearchStrategy[Any]:
    """Valid values only (within the bounds), in every accepted form."""
    kind = t.kind

    def within(x: Any) -> bool:
        return all(OPS[op](x, limit) for op, limit in bounds)

    low = max([Decimal(-500), *(limit for op, limit in bounds if op in (">=", ">"))])
    high = min([Decimal(10**7), *(limit for op, limit in bounds if op in ("<=", "<"))])
    if kind in ("money", "number"):
        places = st.integers(0, 2 if kind == "money" else 4)
        d = places.flatmap(
            lambda p: st.decimals(
                min_value=low, max_value=high, places=p, allow_nan=False, allow_infinity=False
            )
        ).filter(within)
        return d.flatmap(
            lambda x: st.sampled_from(
                [x, str(x), float(x), Decimal(str(x)).normalize()]
                + ([int(x)] if x == x.to_integral_value() else [])
            )
        )
    if kind == "int":
        return (
            st.integers(max(-3, math.ceil(low)), min(150, math.floor(high)))
            .filter(within)
            .flatmap(lambda i: st.sampled_from([i, float(i), Decimal(i), Decimal(f"{i}.00")]))
        )
    if kind == "bool":
        return st.booleans()
    if kind == "text":
        return st.text(max_size=5)
    if kind == "date":
        dates = st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31))
        return st.one_of(dates.map(dt.date.isoformat), dates)
    if kind == "enum":
        return st.sampled_from(t.enum_values)
    if kind == "record":
        return _record_st(schema, t.record, 1, valid=True)
    low, high = household_module._length_limits(bounds)
    low = low or 0
    elems = st.lists(_valid_st(schema, t.elem, ()), min_size=low, max_size=min(high or 4, low + 4))
    return st.one_of(elems, elems.map(tuple))


def _record_st(
    schema: HouseholdSchema, name: str, depth: int, valid: bool | None = None
) -> st.SearchStrategy[Any]:
    """Records of ``name``: valid ones (required fields sometimes absent) or with junk."""
    spec = schema._specs[name]

    @st.composite
    def record(draw: st.DrawFn) -> dict[Any, Any]:
        clean = valid if valid is not None else draw(st.booleans())
        out: dict[Any, Any] = {}
        for key, f in spec.fields.items():
            how = draw(st.integers(0, 9))
            if how == 0:
                continue  # absent
            if how == 1:
                out[key] = None
            elif clean:
                out[key] = draw(_valid_st(schema, f.type, f.bounds))
            else:
                out[key] = draw(_value_st(schema, f.type, depth))
        extra = draw(st.integers(0, 19))
        if extra == 0 and not clean:
            out[draw(st.sampled_from(["unknown", "Age", 1]))] = draw(st.none() | st.booleans())
        return out

    return record()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_record_st(SHIPPED, SHIPPED._root_name, 0))
def test_fast_path_equals_pydantic_shipped_policy(record: dict[Any, Any]) -> None:
    assert_same(SHIPPED, record)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_record_st(SHIPPED, SHIPPED._root_name, 0, valid=True))
def test_fast_path_answers_valid_records_shipped_policy(record: dict[Any, Any]) -> None:
    assert_same(SHIPPED, record, answered=True)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_record_st(SCHEMA, SCHEMA._root_name, 0))
def test_fast_path_equals_pydantic_test_policy(record: dict[Any, Any]) -> None:
    assert_same(SCHEMA, record)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_record_st(SCHEMA, SCHEMA._root_name, 0, valid=True))
def test_fast_path_answers_valid_records_test_policy(record: dict[Any, Any]) -> None:
    assert_same(SCHEMA, record, answered=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(households())
def test_fast_path_answers_generated_valid_households(
    case: tuple[dict[str, Any], dict[str, Decimal]],
) -> None:
    assert_same(SCHEMA, case[0], answered=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_examples("households.jsonl", False)), st.data())
def test_fast_path_equals_pydantic_on_changed_bundled_households(
    record: dict[str, Any], data: st.DataObject
) -> None:
    """A bundled household with one field (or a member's field) changed or removed."""
    record = copy.deepcopy(record)
    spec = SHIPPED._specs[SHIPPED._root_name]
    target = record
    if data.draw(st.booleans()) and record.get("members"):
        target = data.draw(st.sampled_from(record["members"]))
        spec = SHIPPED._specs["member"]
    key = data.draw(st.sampled_from(list(spec.fields)))
    how = data.draw(st.integers(0, 2))
    if how == 0:
        target.pop(key, None)
    elif how == 1:
        target[key] = None
    else:
        target[key] = data.draw(_value_st(SHIPPED, spec.fields[key].type, 1))
    assert_same(SHIPPED, record)


def test_fast_path_lists_each_missing_input_once_when_a_record_is_redone() -> None:
    """The quick variant reads required fields with ``d[key]``; when one is absent the record
    is redone by the variant that lists absent inputs, and what nested records listed in
    the meantime is taken back first: every missing path once, in the pydantic order."""
    text = """
record member { age: int required >= 0  name: text required }
record household { household_id: text required  members: list of member required
  size: int required >= 1  note: text }
input household key household_id
"""
    schema = HouseholdSchema(build_model([parse(text)])[0])
    records = [
        {"household_id": "H", "members": [{"name": "a"}, {}]},
        {"household_id": "H", "members": [{"name": "a"}], "size": 2},
        {"household_id": "H", "members": [{"age": 3, "name": "a"}]},
        {"members": []},
        {"household_id": "H", "members": [{"age": 3, "name": "a"}], "size": 2, "note": "x"},
    ]
    for record in records:
        assert_same(schema, record, answered=True)
    h = schema.validate(records[0])
    assert h.missing == ("members[0].age", "members[1].age", "members[1].name", "size")
