"""The shortcuts the trace code takes are the long way round, taken faster.

``Evaluation.trace`` gathers the glossary's texts while it makes the conditions, runs a
table from the cells it traces (the compiled engine records no table outcomes), seeds an
Evaluation straight from the compiled engine's flat tuple.  Each is checked here against
the plain computation; that the traces themselves do not change is checked by the golden
files and by ``test_compiled.py`` (compiled trace == interpreter trace).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from fanpin_rules import load_policy
from fanpin_rules.compiler import TraceRecord, _seed_flat
from fanpin_rules.evaluator import Evaluation
from fanpin_rules.policy import Policy
from fanpin_rules.trace import ConditionTrace, Trace

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = load_policy("ewenki_2024q2")
REFERENCE = load_policy(ROOT / "benchmarks" / "reference_ruleset.policy")


def _reference_rows(n: int) -> list[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location(
        "bench_trace", ROOT / "benchmarks" / "bench_trace.py"
    )
    assert spec is not None and spec.loader is not None
    bench_trace = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_trace)
    return bench_trace.reference_households(n)  # type: ignore[no-any-return]


def _shipped_rows(n: int) -> list[dict[str, Any]]:
    with (ROOT / "examples" / "households.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return rows[:n]


CASES = [
    pytest.param(REFERENCE, _reference_rows(150), id="reference"),
    pytest.param(SHIPPED, _shipped_rows(60), id="shipped"),
]


def _record(policy: Policy, raw: dict[str, Any]) -> TraceRecord:
    record = policy.evaluate(raw, trace=True)._trace
    assert isinstance(record, TraceRecord)
    return record


def _seeded(record: TraceRecord) -> Evaluation:
    bound = record.bound
    ev = Evaluation(bound.plan, record.household, bound.as_of, bound.bindings)
    _seed_flat(ev, bound.plan, record.flat, record.used)
    return ev


def _texts(trace: Trace) -> frozenset[str]:
    """The texts of a trace whose names the glossary explains, read from the trace."""
    texts: set[str] = set()

    def add(c: ConditionTrace) -> None:
        texts.add(c.text)
        for cmp in c.comparisons:
            texts.update((cmp.left, cmp.right))
        texts.update(o.name for o in c.observations)
        for p in c.parts:
            add(p)

    for conclusion in trace.conclusions:
        for cond in conclusion.conditions:
            add(cond)
    for v in trace.values:
        texts.update((v.name, v.formula))
    for t in trace.tables:
        texts.add(t.name)
        texts.update(o.name for o in t.inputs)
    return frozenset(texts)


@pytest.mark.parametrize(("policy", "rows"), CASES)
def test_glossary_is_that_of_the_texts_of_the_trace(
    policy: Policy, rows: list[dict[str, Any]]
) -> None:
    for raw in rows:
        ev = _seeded(_record(policy, raw))
        trace = ev.trace()
        assert ev._glossary(_texts(trace)) == trace.terms, raw.get("household_id")


@pytest.mark.parametrize(("policy", "rows"), CASES)
def test_tables_run_from_traced_cells_as_run_table(
    policy: Policy, rows: list[dict[str, Any]]
) -> None:
    for raw in rows:
        record = _record(policy, raw)
        ev = _seeded(record)
        assert not ev.tables  # the compiled engine records no table outcomes
        ev.trace()
        plan = record.bound.plan
        fresh = Evaluation(plan, record.household, record.bound.as_of, record.bound.bindings)
        for name in plan.table_names:
            assert ev.tables[name] == fresh._run_table(plan.model.tables[name]), name


@pytest.mark.parametrize(("policy", "rows"), CASES)
def test_flat_seed_is_what_the_interpreter_computes(
    policy: Policy, rows: list[dict[str, Any]]
) -> None:
    for raw in rows[:40]:
        record = _record(policy, raw)
        bound = record.bound
        plan = bound.plan
        a = _seeded(record)
        b = Evaluation(plan, record.household, bound.as_of, bound.bindings)
        b.fired()
        for name in plan.let_names:
            b.let(name)
        for store in ("cache", "rule_raw", "final", "overridden_by", "used_params"):
            assert getattr(a, store) == getattr(b, store), store
        a.trace()  # the trace reads parameters too
        assert record.build()[1] == a.param_uses()
