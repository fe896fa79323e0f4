"""Static analysis (F7xx) and acknowledgements: golden cases, the shipped policy, properties."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fanpin_rules.analysis.checker import analyse_findings
from fanpin_rules.analysis.translate import Period, iter_conditions
from fanpin_rules.check import PASSES, CheckResult, run_checks
from fanpin_rules.check.context import CheckContext
from fanpin_rules.errors import Diagnostic, PolicyCheckError
from fanpin_rules.evaluator import Evaluation, ParamBinding, Plan
from fanpin_rules.exprfmt import conjuncts, to_text
from fanpin_rules.household import HouseholdSchema
from fanpin_rules.model import build_model
from fanpin_rules.parser import load_modules, parse
from fanpin_rules.render import render_diagnostics
from fanpin_rules.values import ABSENT, Unknown, and3
from tests.golden import check, split

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).resolve().parent / "cases" / "analysis"
FILES = sorted(CASES.glob("*.policy"))


def _diagnostics(path: Path, body: str) -> tuple[list[Diagnostic], str]:
    """Check ``body`` as if it were the file ``path`` (spans point into the case file)."""
    tmp = path.with_name("_golden_input_" + path.name)
    tmp.write_text(body, "utf-8")
    try:
        modules, _texts = load_modules(tmp)
        model, prior = build_model(modules)
        try:
            diags = list(run_checks(model, prior).diagnostics)
        except PolicyCheckError as exc:
            diags = list(exc.diagnostics)
    finally:
        tmp.unlink()
    return diags, str(tmp)


def _shown(d: Diagnostic) -> bool:
    """Warnings and errors, the analysis' own notes and acknowledged findings."""
    return d.severity != "info" or d.code.startswith("F7") or "(acknowledged:" in d.message_en


def render_case(path: Path) -> str:
    body, _ = split(path)
    diags, tmp = _diagnostics(path, body)
    diags = [d for d in diags if _shown(d)]
    rel = path.relative_to(ROOT).as_posix()
    parts = [
        render_diagnostics(diags, {tmp: body}, lang).replace(tmp, rel) for lang in ("zh", "en")
    ]
    return "\n\n".join(parts) if diags else "(no diagnostics)"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden(path: Path, update_goldens: bool) -> None:
    check(path, render_case(path), update_goldens)


def test_every_analysis_code_has_a_case_and_a_doc_section() -> None:
    docs = (ROOT / "docs" / "errors.md").read_text("utf-8")
    documented = set(re.findall(r"^## (F7\d\d)", docs, re.M))
    with_case = {p.stem.split("_")[0] for p in FILES if re.match(r"F7\d\d_", p.name)}
    assert documented == with_case
    sources = "".join(p.read_text("utf-8") for p in (ROOT / "src/fanpin_rules").rglob("*.py"))
    assert set(re.findall(r'"(F7\d\d)"', sources)) == documented


# ---------------------------------------------------------------- the shipped policy


def test_shipped_policy_is_clean_or_acknowledged() -> None:
    """Only notes are left: the five unused parameters are acknowledged (F510)."""
    from fanpin_rules.cli import _load_for_check

    diags, _ = _load_for_check(str(ROOT / "policies" / "ewenki_2024q2.policy"))
    assert [d for d in diags if d.severity != "info"] == []
    acknowledged = [d for d in diags if "(acknowledged:" in d.message_en]
    assert sorted(d.code for d in acknowledged) == ["F510"] * 5


def test_check_json_has_findings_with_severity(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from fanpin_rules.cli import main

    path = CASES / "F702_overlap.policy"
    body, _ = split(path)
    tmp = path.with_name("_json_" + path.name)
    tmp.write_text(body, "utf-8")
    try:
        assert main(["check", "--format", "json", str(tmp)]) == 1
    finally:
        tmp.unlink()
    out = json.loads(capsys.readouterr().out)
    found = {(d["code"], d["severity"]) for d in out[0]["diagnostics"]}
    assert ("F702", "error") in found


def test_acknowledgements_apply_where_policies_are_loaded(tmp_path: Path) -> None:
    """load_policy reads the comments too: an acknowledged warning is a note there."""
    from fanpin_rules import load_policy

    body, _ = split(CASES / "ack_analysis_findings.policy")
    target = tmp_path / "p.policy"
    target.write_text(body, "utf-8")
    codes = {(d.code, d.severity) for d in load_policy(target).diagnostics}
    assert ("F701", "info") in codes
    assert ("F701", "warning") not in codes


# ---------------------------------------------------------------- properties: random tables

SCHEMA = """
policy "随机表" { version "1" as_of 2024-06-05 }
enum 类别 { 甲, 乙, 丙 }
enum 结论 { 高, 中, 低 }
record household 户 {
  household_id 户编号: text required
  n 人数: int required >= 0 <= 10
  m 收入: money required >= 0
  e 类型: 类别 required
  b 脱贫: bool required
  o 可选数: int
  d 日期: date required
}
input household key household_id
param 基准: money { 2023-01-01: 70  2024-01-01: 83 }
"""
FIELDS = {"人数": "n", "收入": "m", "类型": "e", "脱贫": "b", "可选数": "o", "日期": "d"}
INT = st.integers(0, 11)
MONEY = st.sampled_from(["0", "70", "83", "83.5", "90", "100", "基准"])
DATE = st.sampled_from(["2023-06-30", "2024-01-01", "2024-06-05"])
ENUM = st.sampled_from(['"甲"', '"乙"', '"丙"'])
OP = st.sampled_from(["<", "<=", ">", ">=", "!="])


def _number_cells(value: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just("-"),
        st.builds(lambda o, v: f"{o} {v}", OP, value),
        value,
        st.builds(lambda a, b: f"[{a}..{b}]", value, value),
        st.builds(lambda a, b: f"({a}..{b}]", value, value),
        st.builds(lambda a, b: f"{a}, {b}", value, value),
        st.builds(lambda a: f"not({a})", value),
    )


CELLS = {
    "人数": _number_cells(INT.map(str)),
    "可选数": _number_cells(INT.map(str)),
    "收入": _number_cells(MONEY),
    "日期": _number_cells(DATE),
    "类型": st.one_of(
        st.just("-"),
        ENUM,
        st.builds(lambda a, b: f"{a}, {b}", ENUM, ENUM),
        ENUM.map(lambda a: f"not({a})"),
    ),
    "脱贫": st.sampled_from(["-", "true", "false"]),
}


@st.composite
def tables(draw: st.DrawFn) -> str:
    columns = draw(st.lists(st.sampled_from(list(FIELDS)), min_size=1, max_size=3, unique=True))
    hit = draw(st.sampled_from(["unique", "any", "first", "priority"]))
    n_rows = draw(st.integers(1, 4))
    out_col = "结论: 结论" if hit == "priority" else "结论"
    lines = [f"table 表 hit {hit} {{", "| id | " + " | ".join(columns) + f" || {out_col} |"]
    for i in range(n_rows):
        cells = [draw(CELLS[c]) for c in columns]
        out = draw(st.sampled_from(['"高"', '"中"', '"低"']))
        lines.append(f"| T-{i + 1} | " + " | ".join(cells) + f" || {out} |")
    lines.append("}")
    return SCHEMA + "\n".join(lines) + "\n"


HOUSEHOLDS = st.fixed_dictionaries(
    {
        "household_id": st.just("H"),
        "n": st.integers(0, 10),
        "m": st.sampled_from(["0", "69.99", "70", "70.01", "83", "83.49", "83.5", "90", "100.01"]),
        "e": st.sampled_from(["甲", "乙", "丙"]),
        "b": st.booleans(),
        "d": st.sampled_from(
            ["2023-06-29", "2023-06-30", "2024-01-01", "2024-06-05", "2025-01-01"]
        ),
    },
    optional={"o": st.integers(0, 11).map(lambda v: v)},
)


class _Checked:
    """A random table's policy, its findings and a way to evaluate its rows."""

    def __init__(self, text: str) -> None:
        self.model, _ = build_model([parse(text)])
        ctx = CheckContext(self.model)
        for p in PASSES[:-1]:
            p(self.model, ctx)
        assert not [d for d in ctx.diagnostics if d.severity == "error"], ctx.diagnostics
        self.findings = analyse_findings(self.model, ctx.types, ctx.table_columns)
        self.plan = Plan(self.model, CheckResult(dict(ctx.types), dict(ctx.table_columns), ()))
        self.schema = HouseholdSchema(self.model)
        self.table = self.model.tables["表"]

    def codes(self) -> set[str]:
        return {d.code for d, _ in self.findings}

    def matches(self, data: dict[str, Any], period: Period) -> list[bool]:
        """Which rows match the household, by the reference evaluator."""
        hh = self.schema.validate(data)
        assert period.start is not None
        params = {k: ParamBinding(k, v, period.start, None) for k, v in period.values.items()}
        ev = Evaluation(self.plan, hh, period.start, params)
        inputs = [ev.eval(i, ()) for i in self.table.inputs]
        truths = [
            and3(ev.cell(c, v) for c, v in zip(row.cells, inputs, strict=True))
            for row in self.table.rows
        ]
        assert not any(isinstance(t, Unknown) for t in truths)
        return [t is True for t in truths]


def _household(witness: dict[str, Any]) -> dict[str, Any]:
    """A household with the witness's input values (others at valid defaults)."""
    data: dict[str, Any] = {"household_id": "H", "n": 0, "m": "0", "e": "甲", "b": False}
    data["d"] = "2024-01-01"
    for key, value in witness.items():
        if not key.startswith("in:"):
            continue
        field = key[3:]
        if value is ABSENT:
            data.pop(field, None)
        elif isinstance(value, bool):
            data[field] = value
        elif isinstance(value, Decimal):
            data[field] = int(value) if field in ("n", "o") else format(value, "f")
        elif isinstance(value, dt.date):
            data[field] = value.isoformat()
        else:
            data[field] = value
    return data


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(tables())
def test_reported_gaps_and_overlaps_are_real(text: str) -> None:
    """A gap's counterexample matches no row; an overlap's witness matches both rows."""
    c = _Checked(text)
    for diag, found in c.findings:
        for period, f in found:
            if f.code == "F701":
                assert f.witness is not None
                assert not any(c.matches(_household(f.witness), period)), diag.message_en
            elif f.code == "F702":
                assert f.witness is not None
                a, b = (int(x.split("-")[1]) - 1 for x in f.subject.split(","))
                hit = c.matches(_household(f.witness), period)
                assert hit[a] and hit[b], diag.message_en


@PROPERTY
@given(tables(), st.lists(HOUSEHOLDS, min_size=1, max_size=8))
def test_claims_about_every_household_hold(text: str, households: list[dict[str, Any]]) -> None:
    """A table declared clean has no gap or overlap; unreachable rows are never selected;
    contradictory rows never match — on random households, in every period."""
    from fanpin_rules.analysis.checker import periods

    c = _Checked(text)
    codes = c.codes()
    hit = c.table.hit
    # a row is unreachable or contradictory in the periods its finding names
    flagged = {
        (d.span.line, period.start)
        for d, found in c.findings
        if d.code in ("F703", "F704") and d.span
        for period, _ in found
    }
    for period in periods(c.model):
        for data in households:
            m = c.matches(data, period)
            if "F701" not in codes and "F708" not in codes:
                assert any(m), (data, period)
            if hit == "unique" and "F702" not in codes and "F708" not in codes:
                assert sum(m) <= 1, (data, period)
            ranks = [("高", "中", "低").index(r.outputs[0].value) for r in c.table.rows]  # type: ignore[union-attr]
            for i, row in enumerate(c.table.rows):
                if (row.span.line, period.start) in flagged and m[i]:
                    # a contradictory row never matches; an unreachable one is never selected
                    if hit == "first":
                        better = range(i)
                    else:
                        better = [j for j in range(len(m)) if (ranks[j], j) < (ranks[i], i)]
                    assert hit in ("first", "priority"), (row.rule_id, data)
                    assert any(m[j] for j in better), (row.rule_id, data)


@PROPERTY
@given(tables(), st.lists(HOUSEHOLDS, min_size=1, max_size=6))
def test_row_formulas_agree_with_the_evaluator(text: str, households: list[dict[str, Any]]) -> None:
    """The analysis' formula for "row matches" is true exactly when the evaluator says so."""
    from fanpin_rules.analysis.checker import periods
    from fanpin_rules.analysis.findings import Analyzer
    from fanpin_rules.check.declarations import HIT_POLICIES
    from fanpin_rules.check.typecheck import Typer

    c = _Checked(text)
    typer = Typer(c.model, CheckContext(c.model, types=dict(c.plan.types)))
    hits = {"表": HIT_POLICIES[c.table.hit]}
    for period in periods(c.model):
        an = Analyzer(c.model, period, lambda e: typer.infer(e, ()), hits)
        info = an.tr.table("表")
        for data in households:
            values = c.schema.validate(data).data
            expected = c.matches(data, period)
            for i, node in enumerate(info.matches):
                env = {v: values.get(v.key[3:], ABSENT) for v in node.vars}
                assert an.lg.evaluate(node, env) == expected[i], (c.table.rows[i], data)


SAMPLES = [Decimal(x) / 4 for x in range(-8, 48)]


@st.composite
def ordered_sets(draw: st.DrawFn) -> Any:
    from fanpin_rules.analysis.values import OrderedSet

    step = draw(st.sampled_from([None, Decimal(1), Decimal("0.25")]))
    out = OrderedSet.make((), step)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "=", "!="]))
        c = draw(st.sampled_from(SAMPLES))
        part = OrderedSet.compare(op, c, step)
        out = out | part if draw(st.booleans()) else out & OrderedSet.compare("<=", c + 3, step)
    if draw(st.booleans()):
        out = OrderedSet.make(out.intervals, step, True)
    return out


def _on_step(s: Any, x: Decimal) -> bool:
    return s.step is None or x % s.step == 0


@settings(max_examples=300, deadline=None)
@given(ordered_sets(), ordered_sets(), st.sampled_from(["<", "<=", ">", ">=", "=", "!="]))
def test_interval_sets_are_exact(a: Any, b: Any, op: str) -> None:
    """Set algebra, comparisons and representatives agree with the values themselves."""
    from fanpin_rules.analysis.translate import Pred
    from fanpin_rules.analysis.values import OrderedSet
    from fanpin_rules.evaluator import compare

    b = OrderedSet.make(b.intervals, a.step, b.absent)
    c = SAMPLES[len(a.intervals) * 7 % len(SAMPLES)]
    test = Pred("cmp", op, c).values(OrderedSet.universe(a.step))
    for x in [*(s for s in SAMPLES if _on_step(a, s)), ABSENT]:
        assert (a & b).contains(x) == (a.contains(x) and b.contains(x))
        assert (a | b).contains(x) == (a.contains(x) or b.contains(x))
        assert (a - b).contains(x) == (a.contains(x) and not b.contains(x))
        assert test.contains(x) == (compare(op, x, c) is True)
    if a.intervals:
        assert a.contains(a.representative())
    empty = not any(a.contains(s) for s in SAMPLES if _on_step(a, s)) and not a.absent
    bounded = all(i.lo is not None and i.hi is not None for i in a.intervals)
    if bounded and a.step is not None and a.intervals and a.intervals[0].lo >= SAMPLES[0]:
        assert a.empty == empty


ATOMS = st.one_of(
    st.builds(lambda o, v: f"人数 {o} {v}", OP, INT),
    st.builds(lambda o, v: f"收入 {o} {v}", OP, MONEY),
    st.builds(lambda o, v: f"日期 {o} {v}", OP, DATE),
    st.builds(lambda o, v: f"可选数 {o} {v}", OP, INT),
    st.builds(lambda a, b: f"人数 between {a} and {b}", INT, INT),
    st.builds(lambda a, b: f"类型 in {{{a}, {b}}}", ENUM, ENUM),
    st.builds(lambda a: f"类型 = {a}", ENUM),
    st.sampled_from(["脱贫", "not 脱贫", "可选数 is present", "可选数 is missing"]),
    st.builds(lambda v: f"人数 * 2 + 可选数 > {v}", INT),
    st.builds(lambda v: f"收入 - 基准 <= {v}", MONEY.filter(lambda m: m != "基准")),
    st.builds(lambda v: f"(if 脱贫 then 人数 else 可选数) >= {v}", INT),
)


def _conditions(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return ATOMS
    sub = _conditions(depth - 1)
    return st.one_of(
        ATOMS,
        st.builds(lambda a, b: f"({a} and {b})", sub, sub),
        st.builds(lambda a, b: f"({a} or {b})", sub, sub),
        sub.map(lambda a: f"not ({a})"),
    )


@PROPERTY
@given(st.lists(_conditions(2), min_size=1, max_size=3), st.lists(HOUSEHOLDS, max_size=6))
def test_rule_formulas_and_claims_agree_with_the_evaluator(
    conditions: list[str], households: list[dict[str, Any]]
) -> None:
    """A rule's formula is true exactly when the evaluator fires it; rules said never to fire
    never fire, conditions said always (never) true always (never) hold."""
    from fanpin_rules.analysis.checker import periods
    from fanpin_rules.analysis.findings import Analyzer
    from fanpin_rules.check.typecheck import Typer
    from fanpin_rules.values import truth

    rules = "\n".join(f'rule K-{i + 1} when {c} then "r"' for i, c in enumerate(conditions))
    c = _Checked(
        SCHEMA + rules + "\ntable 表 hit collect {\n| id | 人数 || x |\n| T-1 | - || 1 |\n}\n"
    )
    dead = {d.span.line for d, _ in c.findings if d.code == "F705" and d.span}
    always = {(d.span.line, d.span.col) for d, _ in c.findings if d.code == "F706" and d.span}
    never = {(d.span.line, d.span.col) for d, _ in c.findings if d.code == "F707" and d.span}
    typer = Typer(c.model, CheckContext(c.model, types=dict(c.plan.types)))
    for period in periods(c.model):
        an = Analyzer(c.model, period, lambda e: typer.infer(e, ()), {"表": "collect"})
        assert period.start is not None
        params = {k: ParamBinding(k, v, period.start, None) for k, v in period.values.items()}
        for data in households:
            values = c.schema.validate(data).data
            ev = Evaluation(c.plan, c.schema.validate(data), period.start, params)
            for rule in c.model.rules.values():
                fired = truth(ev.eval(rule.when, ()))
                node = an.tr.cond(rule.when)
                env = {v: values.get(v.key[3:], ABSENT) for v in node.vars if v.kind == "input"}
                if len(env) == len(node.vars):
                    assert an.lg.evaluate(node, env) == fired, (rule.rule_id, data)
                if rule.name_span.line in dead:
                    assert fired is False
                for part in iter_conditions(rule.when):
                    held = truth(ev.eval(part, ()))
                    if (part.span.line, part.span.col) in always:
                        assert held is True, (to_text(part), data)
                    if (part.span.line, part.span.col) in never:
                        assert held is False, (to_text(part), data)


MEMBER_SCHEMA = """
policy "成员" { version "1" as_of 2024-06-05 }
enum 技能 { 普通, 弱, 丧失 }
record member 成员 {
  age 年龄: int required >= 0 <= 100
  skill 劳动技能: 技能 required
  willing 意愿: bool = false
  grade 等级: int >= 1 <= 4
}
record household 户 {
  household_id 户编号: text required
  members 成员们: list of member required >= 1
}
input household key household_id
"""
MEMBER_ATOMS = st.one_of(
    st.builds(lambda o, v: f"年龄 {o} {v}", OP, st.sampled_from([0, 16, 60, 100])),
    st.sampled_from(['劳动技能 = "普通"', '劳动技能 in {"弱", "丧失"}', "意愿", "not 意愿"]),
    st.sampled_from(["等级 is present", "等级 <= 2", "等级 = 5"]),
)
MEMBER_CONDITIONS = st.one_of(
    MEMBER_ATOMS,
    st.builds(lambda a, b: f"{a} and {b}", MEMBER_ATOMS, MEMBER_ATOMS),
    st.builds(lambda a, b: f"({a} or {b})", MEMBER_ATOMS, MEMBER_ATOMS),
)
QUANTIFIED = st.one_of(
    MEMBER_CONDITIONS.map(lambda c: f"any(members where {c})"),
    MEMBER_CONDITIONS.map(lambda c: f"all(members: {c})"),
    st.builds(lambda w, c: f"all(members where {w}: {c})", MEMBER_ATOMS, MEMBER_ATOMS),
)
QUANTIFIED_RULES = st.one_of(
    QUANTIFIED,
    st.builds(lambda a, b: f"{a} and {b}", QUANTIFIED, QUANTIFIED),
    st.builds(lambda a, b, c: f"{a} and not {b} and {c}", QUANTIFIED, QUANTIFIED, QUANTIFIED),
    st.builds(lambda a, b: f"({a} or not {b})", QUANTIFIED, QUANTIFIED),
)
MEMBERS = st.lists(
    st.fixed_dictionaries(
        {
            "age": st.sampled_from([0, 15, 16, 59, 60, 61, 100]),
            "skill": st.sampled_from(["普通", "弱", "丧失"]),
            "willing": st.booleans(),
        },
        optional={"grade": st.integers(1, 4)},
    ),
    min_size=1,
    max_size=4,
)


@PROPERTY
@given(st.lists(QUANTIFIED_RULES, min_size=1, max_size=3), st.lists(MEMBERS, max_size=6))
def test_quantifiers_over_members_are_sound(
    conditions: list[str], member_lists: list[list[dict[str, Any]]]
) -> None:
    """Real households satisfy the joint theory of any/all; claims hold on them."""
    from fanpin_rules.analysis.checker import periods
    from fanpin_rules.analysis.findings import Analyzer
    from fanpin_rules.check.typecheck import Typer
    from fanpin_rules.values import truth

    rules = "\n".join(f'rule Q-{i + 1} when {c} then "r"' for i, c in enumerate(conditions))
    c = _Checked(
        MEMBER_SCHEMA
        + rules
        + "\ntable 表 hit collect {\n| id | 户编号 || x |\n| T-1 | - || 1 |\n}\n"
    )
    dead = {(d.span.line, d.span.col) for d, _ in c.findings if d.code == "F705" and d.span}
    always = {(d.span.line, d.span.col) for d, _ in c.findings if d.code == "F706" and d.span}
    typer = Typer(c.model, CheckContext(c.model, types=dict(c.plan.types)))
    an = Analyzer(c.model, periods(c.model)[0], lambda e: typer.infer(e, ()), {"表": "collect"})
    for members in member_lists:
        hh = c.schema.validate({"household_id": "H", "members": members})
        ev = Evaluation(c.plan, hh, dt.date(2024, 6, 5), {})
        for rule in c.model.rules.values():
            fired = truth(ev.eval(rule.when, ()))
            node = an.tr.cond(rule.when)
            env = {v: truth(ev.eval(an.tr.quantifiers[v].expr, ())) for v in node.vars}
            assert an.lg.evaluate(an.tr.theory(node), env), (rule.rule_id, members)
            assert an.lg.evaluate(node, env) == fired
            where = (rule.name_span.line, rule.name_span.col)
            if where in dead:
                assert fired is False
            if where in always:
                assert fired is True
            for part in [*conjuncts(rule.when), *iter_conditions(rule.when)]:
                if (part.span.line, part.span.col) in always:
                    assert truth(ev.eval(part, ())) is True


def test_f713_flags_exactly_the_divisions_that_fail(tmp_path: Path) -> None:
    """A household with 劳动力人数 = 0 makes each flagged division fail (computing it, or
    explaining the rule whose ``and`` stops before it); the division under ``if`` never
    fails and is not flagged."""
    from fanpin_rules import EvaluationError, load_policy

    body, _ = split(ROOT / "tests" / "cases" / "analysis" / "F713_divisor_can_be_zero.policy")
    guarded = "\n".join(
        line for line in body.splitlines() if not line.startswith(("let 劳均收入:", "rule T-1"))
    )
    guarded = guarded.replace('  then "劳均收入低于基准"\n', "")
    path = tmp_path / "guarded.policy"
    path.write_text(guarded, "utf-8")
    policy = load_policy(path)
    assert not [d for d in policy.diagnostics if d.code == "F713"]
    record = {"household_id": "H", "net": "20000", "size": 2, "workers": 0}
    for engine in ("compiled", "interpreter"):
        result = policy.evaluate(record, engine=engine)  # type: ignore[arg-type]
        assert result.values["劳均收入_有判断"] == "0.00" and result.trace is not None

    flagged = tmp_path / "flagged.policy"
    flagged.write_text(body, "utf-8")
    policy = load_policy(flagged)  # warnings: the policy loads
    assert sorted(d.span.line for d in policy.diagnostics if d.code == "F713") == [13, 15]
    with pytest.raises(EvaluationError, match="除数为零"):
        policy.evaluate(record, trace=False)  # 劳均收入 is computed for every household
    lines = body.splitlines()
    only_rule = "\n".join(line for line in lines if not line.startswith("let 劳均收入:"))
    path = tmp_path / "rule.policy"
    path.write_text(only_rule, "utf-8")
    policy = load_policy(path)
    result = policy.evaluate(record)  # the decision stops at 劳动力人数 > 0 ...
    assert "T-1" not in result.fired
    with pytest.raises(EvaluationError, match="除数为零"):
        _ = result.trace  # ... its explanation reads the division
