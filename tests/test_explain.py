"""Explained decisions: golden explanations, why-not, computations, masking, the CLI.

The goldens under ``tests/golden/explain/`` hold the text, Markdown and JSON
explanations of fourteen households of the shipped policy: the eight hand-written ones
in ``examples/households/``, three from ``examples/households.jsonl`` and three of the
policy's own examples.  ``pytest --update-goldens`` rewrites them; review the diff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fanpin_rules import load_policy
from fanpin_rules.explain import (
    explain_document,
    html_fragment,
    jsonable,
    render,
    render_html,
    render_json,
    render_markdown,
    render_text,
)
from fanpin_rules.masking import mask_document, mask_text, mask_value
from fanpin_rules.policy import Policy
from fanpin_rules.render import render_result_text
from fanpin_rules.testing import example_input
from tests.cli import run as _run
from tests.cli import serve_shipped_policy

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden" / "explain"
SCHEMA = json.loads((ROOT / "docs" / "result.schema.json").read_text("utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
HAND = sorted((ROOT / "examples" / "households").glob("*.json"))
FROM_JSONL = {
    "1507241022010001": "jsonl-缺工资性收入待定",
    "1507242012010002": "jsonl-应消未消",
    "1507242032020001": "jsonl-风险回退且收入下降",
}
FROM_EXAMPLES = {
    "P1 他旗监测收入基准8700": "example-P1-他旗监测收入基准8700",
    "E7 重新识别优先于风险回退": "example-E7-重新识别优先于风险回退",
    "M13 识别恰满24个月严重应消未消": "example-M13-满24个月应消未消",
}


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("ewenki_2024q2")


@pytest.fixture
def cached_policies(monkeypatch: pytest.MonkeyPatch, policy: Policy) -> None:
    """The commands load the shipped policy once per test module, not once per call."""
    serve_shipped_policy(monkeypatch, policy)


def _load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"), parse_float=Decimal)


def _jsonl() -> dict[str, dict[str, Any]]:
    out = {}
    with open(ROOT / "examples" / "households.jsonl", encoding="utf-8") as f:
        for line in f:
            if any(hid in line for hid in FROM_JSONL):
                rec = json.loads(line, parse_float=Decimal)
                out[rec["household_id"]] = rec
    return out


def _example(policy: Policy, title: str) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    by_title = {e.title: e for e in policy.model.examples}
    ex = by_title[title]
    chain = []
    cur = ex
    while cur is not None:
        chain.append(cur)
        cur = by_title.get(cur.like) if cur.like else None
    as_of = None
    params: dict[str, Any] = {}
    for e in reversed(chain):
        as_of = e.as_of or as_of
        params.update({name: lit.value for name, lit in e.params})
    data = json.loads(json.dumps(jsonable(example_input(policy, ex))), parse_float=Decimal)
    return data, as_of, params


def golden_cases(policy: Policy) -> Iterator[tuple[str, dict[str, Any], Any, dict[str, Any]]]:
    for path in HAND:
        yield path.stem, _load(path), None, {}
    records = _jsonl()
    for hid, slug in FROM_JSONL.items():
        yield slug, records[hid], None, {}
    for title, slug in FROM_EXAMPLES.items():
        data, as_of, params = _example(policy, title)
        yield slug, data, as_of, params


def _doc(
    policy: Policy,
    data: dict[str, Any],
    as_of: Any = None,
    params: Any = None,
    show_pii: bool = False,
) -> dict[str, Any]:
    result = policy.evaluate(data, as_of, params)
    return explain_document(result, household=data, policy=policy, show_pii=show_pii)


def _check_golden(path: Path, actual: str, update: bool) -> None:
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, "utf-8")
        return
    assert path.is_file(), f"{path} is missing; run pytest --update-goldens"
    expected = path.read_text("utf-8")
    assert actual == expected, f"golden mismatch in {path.name} (run pytest --update-goldens)"


def test_goldens(policy: Policy, update_goldens: bool) -> None:
    slugs = []
    for slug, data, as_of, params in golden_cases(policy):
        doc = _doc(policy, data, as_of, params)
        _check_golden(GOLDEN / f"{slug}.txt", render_text(doc), update_goldens)
        _check_golden(GOLDEN / f"{slug}.md", render_markdown(doc), update_goldens)
        _check_golden(GOLDEN / f"{slug}.json", render_json(doc), update_goldens)
        slugs.append(slug)
    assert len(slugs) == 14
    stale = {p.stem for p in GOLDEN.glob("*.*")} - set(slugs)
    assert not stale, f"golden files without a case: {sorted(stale)}"


def test_golden_json_validates_and_carries_the_input() -> None:
    files = sorted(GOLDEN.glob("*.json"))
    assert len(files) == 14
    for path in files:
        doc = json.loads(path.read_text("utf-8"))
        VALIDATOR.validate(doc)
        assert doc["household"]["household_id"] == doc["household_id"]
        assert doc["pii_masked"] is True


def test_result_json_validates_without_trace_too(policy: Policy) -> None:
    data = _load(HAND[0])
    result = policy.evaluate(data)
    VALIDATOR.validate(result.to_json())
    VALIDATOR.validate(result.to_json(trace=False))
    bad = result.to_json(trace=False)
    bad["fired"] = "ID-1"
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(bad)


# ---------------------------------------------------------------- why-not and computations


def _household(**over: Any) -> dict[str, Any]:
    base = _load(HAND[0])
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def test_why_not_names_the_failed_condition_the_gap_and_the_boundary(policy: Policy) -> None:
    # wage 12000 + 18500 + 0 + 3300 − 2000 = 31800; ÷ 4 … choose 3 members: pcni 8450.00
    data = _household(
        wage_income=12950,
        business_income=18500,
        property_income=0,
        transfer_income=3300,
        business_expense=9400,
        household_size=3,
    )
    text = render_text(_doc(policy, data), rule="ID-1")
    assert "ID-1 脱贫不稳定户候选 〔seed 一(一)〕 — 不成立" in text
    assert (
        "✗ 人均纯收入 8,450.00 高于 监测收入基准 8,300.00, 差 150.00; "
        "人均纯收入 为 8,300.00 或以下时成立" in text
    )
    en = render_text(_doc(policy, data), "en", rule="ID-1")
    assert "pcni 8,450.00 is above income_line 8,300.00 by 150.00; holds at 8,300.00 or below" in en


def test_derived_values_read_like_a_computation(policy: Policy) -> None:
    data = _household(
        wage_income=12000,
        business_income=18500,
        property_income=0,
        transfer_income=3300,
        business_expense=2000,
        household_size=4,
    )
    text = render_text(_doc(policy, data))
    assert (
        "人均纯收入 (pcni) = (12,000 + 18,500 + 0 + 3,300 − 2,000) ÷ 4 = 7,950.00  〔INC-2〕"
        in text
    )
    assert "公式: 家庭纯收入 ÷ 家庭人口数, 四舍五入保留 2 位小数" in text


def test_undetermined_lists_the_missing_inputs(policy: Policy) -> None:
    data = _household(wage_income=None)
    doc = _doc(policy, data)
    assert "ID-1" in doc["undetermined"]
    text = render_text(doc)
    section = text.split("二、因缺少输入而待定的结论")[1].split("三、计算值")[0]
    assert "缺少: 工资性收入 (wage_income)" in section
    assert "ID-1 脱贫不稳定户候选" in section
    assert (
        "人均纯收入 (pcni) = ((缺失) + 21,500 + 800 + 5,120 − 12,300) ÷ 3 = 未知, "
        "缺少: 工资性收入 (wage_income)" in text
    )
    assert "六、输入数据\n  缺少的必填项: 工资性收入 (wage_income)\n" in text


def test_overridden_and_shadowed_say_by_which_id(policy: Policy) -> None:
    data, as_of, params = _example(policy, "E7 重新识别优先于风险回退")
    doc = _doc(policy, data, as_of, params)
    statuses = {c["rule_id"]: c for c in doc["trace"]["conclusions"]}
    assert statuses["RB-1"]["status"] == "overridden"
    assert statuses["RB-1"]["overridden_by"] == "RB-3"
    text = render_text(doc)
    assert "条件成立, 但被 RB-3 覆盖 (RB-3 优先于 RB-1)" in text
    data01 = _load(HAND[0])
    text01 = render_text(_doc(policy, data01))
    assert "本行条件成立, 但决策表「劳动力类别」按 first 命中规则选了 LC-1" in text01


def test_table_rows_name_the_cell_that_failed(policy: Policy) -> None:
    text = render_text(_doc(policy, _load(HAND[0])))
    lc2 = text.split("  LC-2 [劳动力类别]")[1].split("\n  LC-3")[0]
    assert "✗ 有能劳愿劳成员 = 是, 不符合本行条件 否" in lc2
    assert "逐项: 第1人 敖** ✗，第2人 郭** ✓，第3人 敖** ✗" in lc2


def test_failed_elimination_names_every_failed_condition(policy: Policy) -> None:
    doc = _doc(policy, _load(ROOT / "examples/households/05-整户无劳动能力低保户.json"))
    el = next(c for c in doc["trace"]["conclusions"] if c["rule_id"] == "EL")
    cond = next(c for c in el["conditions"] if c["text"] == "风险消除条件")
    failed = [p["text"] for p in cond["parts"] if p["truth"] == "false"]
    assert failed == ["EL条件4", "EL条件6"]  # README: risks not resolved; 整户无劳动能力


def test_would_fire_at_for_dates_and_counts(policy: Policy) -> None:
    doc = _doc(policy, _load(HAND[0]))
    dq15 = next(c for c in doc["trace"]["conclusions"] if c["rule_id"] == "DQ-15")
    cmp = dq15["conditions"][0]["comparisons"][0]
    assert (cmp["gap"], cmp["would_fire_at"], cmp["kind"]) == ("-7", "2024-06-11", "date")
    assert "录入系统日期 2024-06-03 早于 信息录入完成日 2024-06-10, 相差 7 天" in render_text(doc)


def test_spans_are_relative_to_the_policy(policy: Policy) -> None:
    doc = _doc(policy, _load(HAND[0]))
    files = {c["span"]["file"] for c in doc["trace"]["conclusions"]}
    assert files == {"ewenki_2024q2/rules.policy"}


def test_rule_view_shows_location_values_and_params(policy: Policy) -> None:
    text = render_text(_doc(policy, _load(HAND[0])), rule="ID-3")
    assert "ewenki_2024q2/rules.policy:" in text
    assert "相关计算值" in text and "人均纯收入 (pcni) = " in text
    assert "监测收入基准 (income_line) = 8,300.00 元/人/年" in text
    with pytest.raises(KeyError):
        render_text(_doc(policy, _load(HAND[0])), rule="XX-1")


# ---------------------------------------------------------------- personal data


PII = ("敖建国", "郭秀兰", "150724196611021337", "15072419700318126X")


def test_every_rendering_masks_personal_data_by_default(policy: Policy) -> None:
    data = _load(HAND[0])
    data["judgement_note"] = "户主敖建国电话13904701234, 身份证150724196611021337"
    doc = _doc(policy, data)
    for fmt in ("text", "md", "html", "json"):
        out = render(doc, fmt)
        for raw in (*PII, "13904701234"):
            assert raw not in out, (fmt, raw)
    assert "敖**电话139****1234" in doc["household"]["judgement_note"]
    assert doc["household"]["members"][1]["id_no"] == "150724********126X"
    assert doc["household"]["gacha"] == "德仁嘎查" and doc["household_id"] == "EX-01"
    shown = _doc(policy, data, show_pii=True)
    assert shown["pii_masked"] is False
    assert all(raw in render(shown, "json") for raw in PII)


def test_trace_observations_of_personal_fields_are_masked(policy: Policy) -> None:
    data = _load(ROOT / "examples/households/04-风险消除户出现新风险.json")
    phone = data["monitoring"]["contact_phone"]
    person = data["monitoring"]["contact_person"]
    result = policy.evaluate(data)
    raw = json.dumps(result.to_json(), ensure_ascii=False)
    assert phone in raw  # the library's own JSON is the data, unmasked
    masked = json.dumps(mask_document(result.to_json()), ensure_ascii=False)
    assert phone not in masked and person not in masked
    assert render_result_text(result).count(phone) == 0


def test_masks_keep_emptiness_and_shape() -> None:
    assert mask_value("   ") == "   " and mask_value("") == ""
    assert mask_value("巴图") == "巴*" and mask_value("A") == "A*"
    assert mask_value("0470-8821234") == "0470-***1234"
    assert mask_text("户 1507242032010001 人均 8240.00") == "户 1507242032010001 人均 8240.00"
    assert mask_text("乙外出", known=("乙",)) == "乙外出"  # one character: left alone


# ---------------------------------------------------------------- html


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag not in ("meta", "br", "hr", "img", "link", "input"):
            self.stack.append(tag)
        if a.get("id"):
            assert a["id"] not in self.ids, f"duplicate id {a['id']}"
            self.ids.add(str(a["id"]))
        for key in ("href", "src"):
            v = a.get(key)
            if v:
                (self.hrefs if v.startswith("#") else self.external).append(v)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


def test_html_page_is_well_formed_and_self_contained(policy: Policy) -> None:
    page = render_html(_doc(policy, _load(HAND[4])))
    checker = _Checker()
    checker.feed(page)
    assert checker.stack == []
    assert not checker.external
    assert checker.hrefs and all(h[1:] in checker.ids for h in checker.hrefs)
    fragment = html_fragment(_doc(policy, _load(HAND[4])), anchor_prefix="hh-x-", compact=True)
    assert 'id="hh-x-rule-AS-7"' in fragment and "四、未成立" not in fragment


# ---------------------------------------------------------------- the command


HH01 = str(ROOT / "examples/households/01-脱贫户收入略低于基准.json")


@pytest.mark.usefixtures("cached_policies")
def test_cli_formats(tmp_path: Path) -> None:
    code, out, _ = _run("explain", "--policy", "ewenki_2024q2", HH01)
    assert code == 0 and out == (GOLDEN / "01-脱贫户收入略低于基准.txt").read_text("utf-8")
    code, out, _ = _run("explain", "--policy", "ewenki_2024q2", HH01, "--format", "md")
    assert code == 0 and out == (GOLDEN / "01-脱贫户收入略低于基准.md").read_text("utf-8")
    code, out, _ = _run("explain", "--policy", "ewenki_2024q2", HH01, "--format", "json")
    assert code == 0 and out == (GOLDEN / "01-脱贫户收入略低于基准.json").read_text("utf-8")
    target = tmp_path / "x.html"
    code, out, err = _run(
        "explain",
        "--policy",
        "ewenki_2024q2",
        HH01,
        "--format",
        "html",
        "-o",
        str(target),
        "--lang",
        "en",
    )
    assert code == 0 and out == "" and str(target) in err
    assert target.read_text("utf-8").startswith("<!DOCTYPE html>")
    code, out, _ = _run("explain", "--policy", "ewenki_2024q2", HH01, "--show-pii")
    assert "敖建国" in out


@pytest.mark.usefixtures("cached_policies")
def test_cli_picks_a_household_from_jsonl_and_reports_mistakes(tmp_path: Path) -> None:
    jsonl = str(ROOT / "examples/households.jsonl")
    code, out, _ = _run(
        "explain", "--policy", "ewenki_2024q2", jsonl, "--id", "1507242012010002", "--rule", "EL-7"
    )
    assert code == 0 and "EL-7 应消未消" in out and "— 成立" in out
    code, _, err = _run("explain", "--policy", "ewenki_2024q2", jsonl)
    assert code == 2 and "--id" in err
    code, _, err = _run("explain", "--policy", "ewenki_2024q2", HH01, "--rule", "ID-9")
    assert code == 2 and "ID-9" in err and re.search(r"ID-[1-7]", err.split("ID-9", 1)[1])
    bad = tmp_path / "bad.json"
    bad.write_text('{"household_id": "X", "household_size": 0}', "utf-8")
    code, _, err = _run("explain", "--policy", "ewenki_2024q2", str(bad))
    assert code == 1 and "household_size" in err
    code, _, err = _run("explain", "--policy", "ewenki_2024q2", str(tmp_path / "none.json"))
    assert code == 2 and "none.json" in err
    broken = tmp_path / "broken.json"
    broken.write_text("{", "utf-8")
    code, _, err = _run("explain", "--policy", "ewenki_2024q2", str(broken))
    assert code == 2 and "JSON" in err


def test_auditor_guide_quotes_real_output() -> None:
    """Every ``text`` block of docs/auditor-guide.md is a verbatim excerpt of a golden
    explanation (the policy hash aside), so the guide cannot drift from the output."""
    guide = (ROOT / "docs" / "auditor-guide.md").read_text("utf-8")
    blocks = re.findall(r"^```text\n(.*?)^```", guide, re.S | re.M)
    assert len(blocks) >= 12

    def norm(text: str) -> str:
        return re.sub(r"sha256:[0-9a-f]{12}", "sha256:…", text)

    goldens = [norm(p.read_text("utf-8")) for p in GOLDEN.glob("*.txt")]
    for block in blocks:
        excerpt = norm(block)
        assert any(excerpt in g for g in goldens), f"not in any golden:\n{excerpt[:300]}"


@pytest.mark.usefixtures("cached_policies")
def test_evaluate_output_validates_against_the_schema(tmp_path: Path) -> None:
    source = tmp_path / "three.jsonl"
    with open(ROOT / "examples" / "households.jsonl", encoding="utf-8") as f:
        source.write_text("".join(line for _, line in zip(range(3), f, strict=False)), "utf-8")
    for extra in ((), ("--trace",)):
        target = tmp_path / f"decisions{len(extra)}.jsonl"
        code, _, err = _run(
            "evaluate", "--policy", "ewenki_2024q2", str(source), "-o", str(target), *extra
        )
        assert code == 0, err
        lines = target.read_text("utf-8").splitlines()
        assert len(lines) == 3
        for line in lines:
            VALIDATOR.validate(json.loads(line))
