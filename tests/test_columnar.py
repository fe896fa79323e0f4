"""The columnar engine (DuckDB) equals the reference evaluator: fired, undetermined, values.

Differential tests on the bundled households, on generated households (missing required
inputs, absent optional ones, boundary values) for the shipped policy and the language tour,
and refusal of what the lowering cannot reproduce.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fanpin_rules import FanpinError, HouseholdInputError, load_policy
from fanpin_rules.columnar import (
    ColumnarEngine,
    LoweringError,
    arrow_schema,
    evaluate_table,
    households_to_arrow,
)
from fanpin_rules.columnar.results import row_json

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = load_policy("ewenki_2024q2")
TOUR = load_policy(ROOT / "examples" / "language_tour.policy")
HOUSEHOLDS = [
    json.loads(line, parse_float=Decimal)
    for line in (ROOT / "examples" / "households.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


def reference(policy: Any, record: Mapping[str, Any], **kw: Any) -> dict[str, Any]:
    data = policy.evaluate(dict(record), trace=False, **kw).to_json(trace=False)
    keys = ("household_id", "fired", "undetermined", "missing_inputs", "values")
    return {k: data[k] for k in keys}


def valid(policy: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        try:
            policy.validate(r)
        except HouseholdInputError:
            continue
        out.append(r)
    return out


def assert_same(
    policy: Any, records: list[dict[str, Any]], *, hoist: bool = True, **kw: Any
) -> None:
    got = ColumnarEngine(policy, hoist=hoist).evaluate_records(records, **kw)
    assert len(got) == len(records)
    for record, row in zip(records, got, strict=True):
        assert row == reference(policy, record, **kw), record.get("household_id")


# ---------------------------------------------------------------- bundled data


def test_bundled_households_equal_reference() -> None:
    records = valid(SHIPPED, HOUSEHOLDS)
    assert len(records) == len(HOUSEHOLDS)
    got = ColumnarEngine(SHIPPED).evaluate_records(records)
    undetermined = 0
    for record, row in zip(records, got, strict=True):
        assert row == reference(SHIPPED, record), record["household_id"]
        undetermined += bool(row["undetermined"])
    assert undetermined > 0  # the bundled data exercise SPEC §5's unknown


def test_list_lambdas_equal_reference() -> None:
    """Aggregations kept as list lambdas (used when they read the household too)."""
    records = valid(SHIPPED, HOUSEHOLDS)
    sample = [r for r in records if SHIPPED.validate(r).missing] + records[:200]
    assert_same(SHIPPED, sample, hoist=False)
    tour = [
        {**dict(ex.input), "household_id": f"T{i}"}
        for i, ex in enumerate(TOUR.model.examples)
        if ex.input is not None
    ]
    assert_same(TOUR, valid(TOUR, tour), hoist=False)


def test_other_line_and_date_equal_reference() -> None:
    records = valid(SHIPPED, HOUSEHOLDS[:300])
    assert_same(SHIPPED, records, as_of="2024-12-31", params={"监测收入基准": "8700"})


def test_tour_examples_equal_reference() -> None:
    records = [
        {**dict(ex.input), "household_id": f"T{i}"}
        for i, ex in enumerate(TOUR.model.examples)
        if ex.input is not None
    ]
    assert_same(TOUR, valid(TOUR, records))


# ---------------------------------------------------------------- generated households


def _money(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.decimals(lo, hi, places=2).map(str)


TOUR_MEMBER = st.fixed_dictionaries(
    {},
    optional={
        "age": st.sampled_from([0, 5, 6, 16, 17, 59, 60, 61, 200]),
        "able": st.booleans(),
        "skill": st.sampled_from(["有", "弱", "无"]),
        "name": st.just("某"),
    },
)
TOUR_HOUSEHOLD = st.fixed_dictionaries(
    {"household_id": st.just("H")},
    optional={
        "size": st.integers(1, 6),
        "income": st.one_of(
            _money(0, 60000), st.sampled_from(["16600.00", "16599.99", "16600.01", "8300.00"])
        ),
        "medical": st.one_of(_money(0, 20000), st.sampled_from(["10000.00", "10000.01"])),
        "risks": st.lists(st.sampled_from(["因病", "因学", "因残"]), max_size=3),
        "since": st.dates().map(lambda d: d.isoformat()),
        "members": st.lists(TOUR_MEMBER, min_size=1, max_size=4),
    },
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TOUR_HOUSEHOLD, min_size=1, max_size=12), st.booleans())
def test_tour_generated_households_equal_reference(
    records: list[dict[str, Any]], hoist: bool
) -> None:
    records = [{**r, "household_id": f"H{i}"} for i, r in enumerate(records)]
    records = valid(TOUR, records)
    if records:
        assert_same(TOUR, records, hoist=hoist)


REQUIRED_KEYS = [
    "registry_kind",
    "is_tuopin",
    "household_size",
    "income_window_start",
    "wage_income",
    "business_expense",
    "members",
]
OPTIONAL_KEYS = [
    "monitoring",
    "village",
    "quarterly_net_income",
    "pcni_2022",
    "pcni_2023",
    "judgement_note",
    "sudden_event",
    "risk_types",
    "measures",
    "dev_assist_confirmed",
    "net_income_recorded",
    "entered_on",
]
MEMBER_KEYS = ["age", "health", "labor_skill", "dibao_since", "tekun", "student"]


@st.composite
def shipped_household(draw: st.DrawFn) -> dict[str, Any]:
    """A bundled household, perturbed: boundary incomes, missing and absent inputs."""
    rec: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(HOUSEHOLDS)))
    size = rec.get("household_size", 1)
    if draw(st.booleans()):
        # put pcni on the line: 8299.99 / 8300.00 / a half-cent tie / 8300.01
        target = draw(st.sampled_from(["8299.99", "8300.00", "8300.005", "8300.01"]))
        others = sum(
            Decimal(str(rec.get(k, 0)))
            for k in ("business_income", "property_income", "transfer_income")
        ) - Decimal(str(rec.get("business_expense", 0)))
        wage = (Decimal(target) * size - others).quantize(Decimal("0.01"))
        if wage >= 0:
            rec["wage_income"] = str(wage)
    if draw(st.booleans()):
        rec["medical_self_paid"] = draw(st.sampled_from(["10000.00", "10000.01", "0"]))
    for key in draw(st.lists(st.sampled_from(REQUIRED_KEYS + OPTIONAL_KEYS), max_size=3)):
        rec.pop(key, None)
    members = rec.get("members")
    if isinstance(members, list) and members and draw(st.booleans()):
        i = draw(st.integers(0, len(members) - 1))
        members[i].pop(draw(st.sampled_from(MEMBER_KEYS)), None)
    return rec


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(shipped_household(), min_size=1, max_size=15))
def test_shipped_generated_households_equal_reference(records: list[dict[str, Any]]) -> None:
    records = [{**r, "household_id": f"G{i}"} for i, r in enumerate(records)]
    records = valid(SHIPPED, records)
    if records:
        assert_same(SHIPPED, records)


# ---------------------------------------------------------------- layout and plumbing


def test_complete_data_skips_unknown_bookkeeping() -> None:
    engine = ColumnarEngine(SHIPPED)
    full = engine.sql("t")
    lean = engine.sql("t", nullable=frozenset())
    assert len(lean) < len(full) / 2
    assert "household_size" in full


def test_parquet_in_parquet_out(tmp_path: Path) -> None:
    records = valid(SHIPPED, HOUSEHOLDS[:200])
    table = households_to_arrow(SHIPPED, [SHIPPED.validate(r) for r in records])
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    out = tmp_path / "out" / "decisions.parquet"
    engine = ColumnarEngine(SHIPPED)
    counts = engine.evaluate_parquet(src, out)
    assert (counts.read, counts.decided, counts.rejected) == (200, 200, 0)
    specs = engine.render_specs()
    rows = pq.read_table(out).to_pylist()
    assert [row_json(r, specs) for r in rows] == [reference(SHIPPED, r) for r in records]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_input_with_a_wrong_column_type_is_refused() -> None:
    table = pa.table({"household_id": ["H"], "size": [1.5]})
    with pytest.raises(FanpinError, match="size"):
        ColumnarEngine(TOUR).evaluate_arrow(table)


def test_missing_optional_columns_are_null(tmp_path: Path) -> None:
    table = pa.table(
        {
            "household_id": ["H1"],
            "size": pa.array([2], pa.int64()),
            "income": pa.array([Decimal("16000.00")], pa.decimal128(18, 2)),
            "members": [[{"age": 40, "able": True, "skill": None, "name": None}]],
        }
    )
    engine = ColumnarEngine(TOUR)
    row = row_json(engine.evaluate_arrow(table).to_pylist()[0], engine.render_specs())
    record = {
        "household_id": "H1",
        "size": 2,
        "income": "16000",
        "members": [{"age": 40, "able": True}],
    }
    assert row == reference(TOUR, record)


# ---------------------------------------------------------------- refusals


def _policy(tmp_path: Path, body: str) -> Any:
    path = tmp_path / "p.policy"
    path.write_text(
        'policy "t" { version "1" }\n'
        "record household { household_id: text required  a: money required  n: int required }\n"
        "input household key household_id\n" + body,
        "utf-8",
    )
    return load_policy(path)


def test_unrounded_division_reported_as_number_is_refused(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "let ratio: number = n / 3\n")
    with pytest.raises(LoweringError) as info:
        ColumnarEngine(policy).sql("t")
    assert "ratio" in str(info.value)
    assert "round" in str(info.value)


def test_refusal_names_the_construct_and_place(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "let share: money = a / 2\nlet ratio: number = n / 3\n")
    with pytest.raises(LoweringError) as info:
        ColumnarEngine(policy).sql("t")
    assert info.value.construct == "value ratio"
    assert info.value.span is not None and info.value.span.line == 5
    assert "p.policy:5:" in str(info.value)


def test_unrounded_division_in_conditions_is_exact(tmp_path: Path) -> None:
    policy = _policy(
        tmp_path,
        "let share: money = round(a / n, 2)\n"
        'rule R-1 "below" when a / n < 8300 then "below"\n'
        'rule R-2 "exact" when a / 3 = 1 then "exactly one"\n',
    )
    records = [
        {"household_id": "A", "a": "24900.01", "n": 3},
        {"household_id": "B", "a": "3", "n": 1},
        {"household_id": "C", "a": "3.00", "n": 7},
        {"household_id": "D", "n": 2},
        {"household_id": "E", "a": "-1000.01", "n": 2},
    ]
    assert_same(policy, records)


# ---------------------------------------------------------------- batches and rejected records


def test_jsonl_batch_reconciles_and_equals_reference(tmp_path: Path) -> None:
    src = ROOT / "examples" / "households_with_errors.jsonl"
    out = tmp_path / "decisions.jsonl"
    counts = evaluate_table(SHIPPED, src, out)
    lines = [line for line in src.read_text("utf-8").splitlines() if line.strip()]
    assert counts.read == len(lines) == counts.decided + counts.rejected
    assert counts.rejected > 0
    rejected = (tmp_path / "decisions.rejected.jsonl").read_text("utf-8").splitlines()
    assert len(rejected) == counts.rejected
    # JSON Lines results are rendered as Result.to_json() renders them
    rows = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    good = valid(SHIPPED, [json.loads(x, parse_float=Decimal) for x in lines])
    assert len(rows) == counts.decided == len(good)
    for record, row in zip(good[:300], rows[:300], strict=True):
        assert row == reference(SHIPPED, record)


def test_parquet_rows_breaking_the_schema_are_rejected_with_the_field(tmp_path: Path) -> None:
    records = valid(SHIPPED, HOUSEHOLDS[:5])
    table = households_to_arrow(SHIPPED, [SHIPPED.validate(r) for r in records]).to_pylist()
    table[1]["wage_income"] = Decimal("-5.00")
    table[2]["members"][-1]["labor_skill"] = "劳动力"
    table[3]["members"] = []
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(table, schema=arrow_schema(SHIPPED)), src)
    out = tmp_path / "out.parquet"
    counts = ColumnarEngine(SHIPPED).evaluate_parquet(src, out)
    assert (counts.read, counts.decided, counts.rejected) == (5, 2, 3)
    rejected = [json.loads(x) for x in (tmp_path / "out.rejected.jsonl").read_text().splitlines()]
    fields = {r["row"]: [i["field"] for i in r["issues"]] for r in rejected}
    last = len(table[2]["members"]) - 1
    assert fields == {2: ["wage_income"], 3: [f"members[{last}].labor_skill"], 4: ["members"]}
    assert [r["household_id"] for r in pq.read_table(out).to_pylist()] == [
        records[0]["household_id"],
        records[4]["household_id"],
    ]


def test_evaluate_arrow_refuses_rows_breaking_the_schema() -> None:
    table = households_to_arrow(SHIPPED, [SHIPPED.validate(HOUSEHOLDS[0])]).to_pylist()
    table[0]["household_size"] = 0
    with pytest.raises(FanpinError, match="household_size"):
        ColumnarEngine(SHIPPED).evaluate_arrow(
            pa.Table.from_pylist(table, schema=arrow_schema(SHIPPED))
        )
