"""Tests for examples/generate_households.py and the example data files.

The contract checks below are written directly from shared/domain/SPEC.md §2 (household input
contract) and §8 (precise readings), independently of the generator's own tables.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPT = EXAMPLES / "generate_households.py"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_households", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


gen = _load_generator()

# --------------------------------------------------------------------------------------------
# SPEC §2 / §8, transcribed
# --------------------------------------------------------------------------------------------

RISK_TYPES = {
    "因病",
    "因学",
    "因残",
    "因自然灾害",
    "因意外事故",
    "因产业项目失败",
    "因务工就业不稳",
    "因缺劳动力",
    "其他",
}
MEASURES = {
    "产业帮扶",
    "就业帮扶",
    "金融帮扶",
    "公益岗位帮扶",
    "以工代赈",
    "庭院经济",
    "联农带农",
    "健康帮扶",
    "教育帮扶",
    "住房安全帮扶",
    "饮水安全帮扶",
    "综合保障",
    "临时救助",
    "社会帮扶",
    "资产收益",
    "光伏收益",
    "易地搬迁",
}

Check = Callable[[Any, str], list[str]]

MONEY_RE = re.compile(r"-?\d+(\.\d{1,2})?")


def money(nonneg: bool) -> Check:
    def check(v: Any, path: str) -> list[str]:
        if isinstance(v, bool):
            return [f"{path}: boolean is not money"]
        if isinstance(v, str):
            if not MONEY_RE.fullmatch(v):
                return [f"{path}: {v!r} is not a decimal string with at most 2 decimals"]
            amount = Decimal(v)
        elif isinstance(v, int):
            amount = Decimal(v)
        elif isinstance(v, Decimal):  # JSON numbers are parsed with parse_float=Decimal
            amount = v
            exponent = amount.as_tuple().exponent
            assert isinstance(exponent, int)
            if exponent < -2 and amount != amount.quantize(Decimal("0.01")):
                return [f"{path}: {v} has more than 2 decimals"]
        else:
            return [f"{path}: {type(v).__name__} is not money"]
        if nonneg and amount < 0:
            return [f"{path}: negative amount {v}"]
        return []

    return check


def integer(lo: int | None = None, hi: int | None = None) -> Check:
    def check(v: Any, path: str) -> list[str]:
        if isinstance(v, bool) or not isinstance(v, int | Decimal):
            return [f"{path}: {v!r} is not an integer"]
        if isinstance(v, Decimal) and v != v.to_integral_value():
            return [f"{path}: {v} is not an integer"]
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            return [f"{path}: {v} out of range"]
        return []

    return check


def number(lo: int, hi: int) -> Check:
    def check(v: Any, path: str) -> list[str]:
        if isinstance(v, bool) or not isinstance(v, int | Decimal):
            return [f"{path}: {v!r} is not a number"]
        return [] if lo <= v <= hi else [f"{path}: {v} out of range {lo}-{hi}"]

    return check


def boolean(v: Any, path: str) -> list[str]:
    return [] if isinstance(v, bool) else [f"{path}: {v!r} is not a boolean"]


def text(v: Any, path: str) -> list[str]:
    return [] if isinstance(v, str) else [f"{path}: {v!r} is not a string"]


def date(v: Any, path: str) -> list[str]:
    if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        return [f"{path}: {v!r} is not an ISO date"]
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        return [f"{path}: {v!r} is not a valid date"]
    return []


def enum(*values: str) -> Check:
    def check(v: Any, path: str) -> list[str]:
        return [] if v in values else [f"{path}: unknown value {v!r}"]

    return check


def list_of(item: Check, max_len: int | None = None, min_len: int = 0) -> Check:
    def check(v: Any, path: str) -> list[str]:
        if not isinstance(v, list):
            return [f"{path}: not a list"]
        if max_len is not None and len(v) > max_len:
            return [f"{path}: {len(v)} entries, at most {max_len}"]
        if len(v) < min_len:
            return [f"{path}: at least {min_len} entries"]
        return [e for i, x in enumerate(v) for e in item(x, f"{path}[{i}]")]

    return check


def obj(fields: dict[str, Check]) -> Check:
    def check(v: Any, path: str) -> list[str]:
        if not isinstance(v, dict):
            return [f"{path}: not an object"]
        return validate(v, fields, path + ".")

    return check


def validate(rec: dict[str, Any], fields: dict[str, Check], prefix: str = "") -> list[str]:
    errors = [f"{prefix}{k}: unknown key" for k in rec if k not in fields]
    for key, value in rec.items():
        if key in fields and value is not None:  # null is the same as absent (§8)
            errors += fields[key](value, prefix + key)
    return errors


MEMBER = {
    "name": text,
    "id_no": text,
    "age": integer(0),
    "health": enum("健康", "长期慢性病", "患有大病", "残疾"),
    "disability_grade": integer(1, 4),
    "labor_skill": enum("普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"),
    "willing_to_work": boolean,
    "student": boolean,
    "employment": enum("outside", "local", "none"),
    "employment_unstable": boolean,
    "dibao_since": date,
    "tekun": enum("none", "dispersed", "centralized"),
    "tekun_since": date,
    "left_behind_child": boolean,
    "child_in_distress": boolean,
}
MONITORING = {
    "is_object": boolean,
    "category": enum("脱贫不稳定户", "边缘易致贫户", "突发严重困难户"),
    "identified_on": date,
    "eliminated": boolean,
    "eliminated_on": date,
    "elim_mode": enum("帮扶消除", "自然消除"),
    "original_risks": list_of(enum(*RISK_TYPES)),
    "risks_resolved": boolean,
    "income_stable_months": integer(0),
    "pcni_at_elimination": money(False),
    "zhwldnl_flag": boolean,
    "contact_person": text,
    "contact_phone": text,
}
VILLAGE = {
    "tuopin_hh_count": integer(0),
    "monitoring_hh_identified_since_2021": integer(0),
    "is_tuopin_village": boolean,
    "relocation_site": boolean,
    "heavy_task": boolean,
    "disaster_hit": boolean,
    "income_drop_cluster_2023": boolean,
    "large_livestock": boolean,
}
HOUSEHOLD: dict[str, Check] = {
    "household_id": text,
    "sumu": text,
    "gacha": text,
    "registry_kind": enum("rural", "relocated_urban", "nongzhuanfei_unprotected", "urban_other"),
    "is_tuopin": boolean,
    "at_relocation_site": boolean,
    "household_size": integer(1),
    "income_window_start": date,
    "income_window_end": date,
    "wage_income": money(True),
    "business_income": money(True),
    "property_income": money(True),
    "transfer_income": money(True),
    "business_expense": money(True),
    "policy_transfer_income": money(True),
    "net_income_recorded": money(False),
    "pcni_recorded": money(False),
    "medical_self_paid": money(True),
    "education_expense": money(True),
    "disaster_loss": money(True),
    "claim_income": money(True),
    "livestock_head": integer(0),
    "fixed_assets_value": money(True),
    "pcni_2022": money(False),
    "pcni_2023": money(False),
    "pcni_2023_rank_pct": number(0, 100),
    "quarterly_net_income": obj(
        {"2023Q4": money(False), "2024Q1": money(False), "2024Q2": money(False)}
    ),
    "housing_unsafe": boolean,
    "water_unsafe": boolean,
    "edu_dropout": boolean,
    "member_uninsured": boolean,
    "new_danger_house_2024": boolean,
    "self_coping": enum("sufficient", "insufficient", "unknown"),
    "risk_types": list_of(enum(*RISK_TYPES), max_len=5),
    "sudden_event": obj(
        {"kind": enum("illness", "disaster", "accident", "other"), "date": date, "note": text}
    ),
    "monitoring": obj(MONITORING),
    "measures": list_of(enum(*MEASURES)),
    "dev_assist_confirmed": obj({"sumu": boolean, "gacha": boolean}),
    "judgement_note": text,
    "sig_household": boolean,
    "sig_collector": boolean,
    "collection_method": enum("visit", "phone"),
    "phone_record": text,
    "entered_on": date,
    "members": list_of(obj(MEMBER), min_len=1),
    "village": obj(VILLAGE),
}
REQUIRED = (
    "household_id",
    "registry_kind",
    "is_tuopin",
    "household_size",
    "income_window_start",
    "income_window_end",
    "wage_income",
    "business_income",
    "property_income",
    "transfer_income",
    "business_expense",
    "members",
)
MEMBER_REQUIRED = ("age", "health", "labor_skill")


def rejections(rec: dict[str, Any]) -> list[str]:
    """Why SPEC §2/§8 would reject the record (empty list: accepted)."""
    return validate(rec, HOUSEHOLD)


def missing_required(rec: dict[str, Any]) -> list[str]:
    """Required inputs that are absent or null (DQ-1: a valid but incomplete record)."""
    out = [k for k in REQUIRED if rec.get(k) is None]
    for i, m in enumerate(rec.get("members") or []):
        out += [f"members[{i}].{k}" for k in MEMBER_REQUIRED if m.get(k) is None]
    return out


def parse_lines(text_: str) -> list[dict[str, Any]]:
    return [json.loads(line, parse_float=Decimal) for line in text_.splitlines()]


def dec(v: Any) -> Decimal:
    return Decimal(v) if isinstance(v, str | int) else Decimal(str(v))


def pcni(rec: dict[str, Any]) -> Decimal | None:
    """SPEC INC-1/INC-2 with exact decimals and half-up rounding to 0.01."""
    keys = ("wage_income", "business_income", "property_income", "transfer_income")
    if any(rec.get(k) is None for k in (*keys, "business_expense", "household_size")):
        return None
    net = sum((dec(rec[k]) for k in keys), Decimal(0)) - dec(rec["business_expense"])
    return (net / int(rec["household_size"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_text() -> str:
    text_: str = gen.dumps_jsonl(gen.generate(2000, gen.DEFAULT_SEED))
    return text_


@pytest.fixture(scope="module")
def households(default_text: str) -> list[dict[str, Any]]:
    return parse_lines(default_text)


# --------------------------------------------------------------------------------------------
# Determinism and the committed file
# --------------------------------------------------------------------------------------------


def test_same_seed_same_output() -> None:
    assert gen.dumps_jsonl(gen.generate(300, 7)) == gen.dumps_jsonl(gen.generate(300, 7))


def test_different_seed_different_output() -> None:
    assert gen.dumps_jsonl(gen.generate(300, 7)) != gen.dumps_jsonl(gen.generate(300, 8))


def test_cli_writes_byte_identical_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert gen.main(["120", "--seed", "11", "-o", str(a)]) == 0
    assert gen.main(["120", "--seed", "11", "-o", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() == gen.dumps_jsonl(gen.generate(120, 11)).encode("utf-8")


def test_cli_subprocess_default_seed_to_stdout() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "40"], capture_output=True, check=True, timeout=60
    )
    assert done.stdout == gen.dumps_jsonl(gen.generate(40, 20240605)).encode("utf-8")


def test_committed_file_matches_generator(default_text: str) -> None:
    committed = (EXAMPLES / "households.jsonl").read_bytes()
    assert committed == default_text.encode("utf-8"), (
        "examples/households.jsonl is stale: regenerate with "
        "`python examples/generate_households.py 2000 -o examples/households.jsonl`"
    )


def test_lines_are_sorted_utf8_json(default_text: str) -> None:
    lines = default_text.splitlines()
    assert len(lines) == 2000
    for line in lines[:300]:
        assert line == json.dumps(json.loads(line), ensure_ascii=False, sort_keys=True)
    assert "\\u" not in default_text


# --------------------------------------------------------------------------------------------
# The contract of SPEC §2
# --------------------------------------------------------------------------------------------


def test_every_record_is_accepted(households: list[dict[str, Any]]) -> None:
    for rec in households:
        assert rejections(rec) == [], rec["household_id"]


def test_required_keys_present_except_about_one_percent(households: list[dict[str, Any]]) -> None:
    incomplete = [rec for rec in households if missing_required(rec)]
    assert 10 <= len(incomplete) <= 40
    for rec in incomplete:
        assert len(missing_required(rec)) == 1, rec["household_id"]
        assert "household_id" in rec
    kinds = {missing_required(rec)[0].split(".")[-1] for rec in incomplete}
    assert {"wage_income", "age", "health", "labor_skill", "members"} <= kinds


def test_household_ids_unique(households: list[dict[str, Any]]) -> None:
    ids = [rec["household_id"] for rec in households]
    assert len(ids) == len(set(ids))


def test_members_and_identity_numbers(households: list[dict[str, Any]]) -> None:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    seen: set[str] = set()
    for rec in households:
        members = rec.get("members") or []
        if rec.get("household_size") is not None and "members" in rec:
            assert 1 <= len(members) <= 7
        for m in members:
            number = m["id_no"]
            assert re.fullmatch(r"15\d{15}[\dX]", number), number
            expected = "10X98765432"[
                sum(int(c) * w for c, w in zip(number[:17], weights, strict=True)) % 11
            ]
            assert number[-1] == expected
            assert number not in seen
            seen.add(number)
    prefixed = sum(n.startswith("150724") for n in seen)
    assert prefixed / len(seen) > 0.85


def test_money_never_has_more_than_two_decimals(default_text: str) -> None:
    for match in re.finditer(r'": (-?\d+\.\d+)', default_text):
        assert len(match.group(1).split(".")[1]) <= 2, match.group(0)


# --------------------------------------------------------------------------------------------
# Realism and the scheduled boundary cases
# --------------------------------------------------------------------------------------------


def test_distribution(households: list[dict[str, Any]]) -> None:
    n = len(households)
    tuopin = sum(rec.get("is_tuopin") is True for rec in households)
    objects = [
        rec["monitoring"] for rec in households if (rec.get("monitoring") or {}).get("is_object")
    ]
    open_ = sum(not m.get("eliminated", False) for m in objects)
    closed = sum(m.get("eliminated", False) is True for m in objects)
    assert 0.20 < tuopin / n < 0.30
    assert 0.06 < open_ / n < 0.10
    assert 0.035 < closed / n < 0.07
    kinds = {rec.get("registry_kind") for rec in households}
    assert kinds >= {"rural", "relocated_urban", "nongzhuanfei_unprotected", "urban_other"}
    assert any((rec.get("livestock_head") or 0) >= 200 for rec in households)
    assert any(
        rec.get("collection_method") == "phone" and "phone_record" not in rec for rec in households
    )
    assert sum(
        (rec.get("income_window_start"), rec.get("income_window_end"))
        != ("2023-05-01", "2024-04-30")
        for rec in households
    ) in range(3, 40)


def test_village_object_consistent_per_gacha(households: list[dict[str, Any]]) -> None:
    by_gacha: dict[str, dict[str, Any]] = {}
    tuopin: dict[str, int] = {}
    monitored: dict[str, int] = {}
    for rec in households:
        v = rec.get("village")
        if v is None:
            continue
        assert by_gacha.setdefault(rec["gacha"], v) == v
        tuopin[rec["gacha"]] = tuopin.get(rec["gacha"], 0) + (rec.get("is_tuopin") is True)
        mon = rec.get("monitoring") or {}
        since_2021 = mon.get("is_object") is True and mon["identified_on"] >= "2021-01-01"
        monitored[rec["gacha"]] = monitored.get(rec["gacha"], 0) + since_2021
    for gacha, v in by_gacha.items():
        assert tuopin[gacha] <= v["tuopin_hh_count"], gacha
        assert monitored[gacha] <= v["monitoring_hh_identified_since_2021"], gacha
    ka1 = [
        g
        for g, v in by_gacha.items()
        if v["tuopin_hh_count"] == 10 and v["monitoring_hh_identified_since_2021"] == 0
    ]
    assert ka1, "need a 嘎查 with exactly 10 脱贫户 and 0 identified (KA-1 boundary)"
    for rec in households:
        if rec.get("gacha") in ka1:
            assert not (rec.get("monitoring") or {}).get("is_object")


def test_pcni_boundary_households(households: list[dict[str, Any]]) -> None:
    values = [p for p in map(pcni, households) if p is not None]
    assert Decimal("8300.00") in values
    assert Decimal("8299.99") in values
    assert Decimal("8300.01") in values
    assert any(p < 0 for p in values)
    # half-up ties: net / size ends in exactly half a fen, e.g. 16600.01 / 2 = 8300.005 → 8300.01
    ties = [rec for rec in households if pcni(rec) is not None and _is_tie(rec)]
    assert any(pcni(rec) == Decimal("8300.01") for rec in ties)
    assert any(pcni(rec) == Decimal("8299.99") for rec in ties)


def _is_tie(rec: dict[str, Any]) -> bool:
    fen, size = int(_net(rec) * 100), int(rec["household_size"])
    return (2 * fen) % (2 * size) == size


def _net(rec: dict[str, Any]) -> Decimal:
    keys = ("wage_income", "business_income", "property_income", "transfer_income")
    return sum((dec(rec[k]) for k in keys), Decimal(0)) - dec(rec["business_expense"])


def test_other_boundary_households(households: list[dict[str, Any]]) -> None:
    medical = {dec(rec["medical_self_paid"]) for rec in households if "medical_self_paid" in rec}
    assert Decimal("10000") in medical
    assert Decimal("10000.01") in medical
    open_identified = {
        rec["monitoring"]["identified_on"]
        for rec in households
        if (rec.get("monitoring") or {}).get("is_object")
        and not rec["monitoring"].get("eliminated", False)
    }
    # exactly 6, 12 and 24 months before 2024-06-05, and one day short of 6 and 12
    assert {"2023-12-05", "2023-06-05", "2022-06-05", "2023-12-06", "2023-06-06"} <= open_identified
    entered = {rec.get("entered_on") for rec in households}
    assert {"2024-06-10", "2024-06-11"} <= entered
    assert any(rec.get("pcni_2023_rank_pct") == 20 for rec in households)


# --------------------------------------------------------------------------------------------
# The hand-made files
# --------------------------------------------------------------------------------------------


def test_errors_file_has_ten_distinct_rejections() -> None:
    records = parse_lines((EXAMPLES / "households_with_errors.jsonl").read_text("utf-8"))
    assert len(records) == 30
    bad = [rec for rec in records if str(rec["household_id"]).startswith("BAD-")]
    good = [rec for rec in records if not str(rec["household_id"]).startswith("BAD-")]
    assert len(bad) == 10 and len(good) == 20
    for rec in good:
        assert rejections(rec) == [], rec["household_id"]
    expected = {
        "BAD-negative-money": "wage_income: negative",
        "BAD-unknown-enum": "labor_skill: unknown value",
        "BAD-household-size-0": "household_size: 0 out of range",
        "BAD-empty-members": "members: at least 1",
        "BAD-misspelt-key": "housing_unsfe: unknown key",
        "BAD-money-3-decimals": "transfer_income: 4321.125 has more than 2 decimals",
        "BAD-bool-as-string": "is_tuopin: 'true' is not a boolean",
        "BAD-integer-4.5": "age: 4.5 is not an integer",
        "BAD-risk-types-6": "risk_types: 6 entries",
        "BAD-rank-pct-120": "pcni_2023_rank_pct: 120 out of range",
    }
    assert {rec["household_id"] for rec in bad} == set(expected)
    for rec in bad:
        errors = rejections(rec)
        assert len(errors) == 1, (rec["household_id"], errors)
        assert expected[rec["household_id"]] in errors[0], (rec["household_id"], errors)


def test_hand_written_households() -> None:
    folder = EXAMPLES / "households"
    files = sorted(folder.glob("*.json"))
    assert len(files) == 8
    readme = (folder / "README.md").read_text("utf-8")
    for path in files:
        rec = json.loads(path.read_text("utf-8"), parse_float=Decimal)
        assert rejections(rec) == [], path.name
        assert missing_required(rec) == [], path.name
        assert path.name in readme
        recorded = rec.get("pcni_recorded")
        if recorded is not None:
            assert dec(recorded) == pcni(rec), path.name


def test_large_batches_do_not_run_out_of_villages() -> None:
    """Benchmarks generate tens of thousands of households from one seed."""
    from examples.generate_households import generate

    households = generate(6000, 20240605)
    assert len(households) == 6000
    assert len({h["household_id"] for h in households}) == 6000
