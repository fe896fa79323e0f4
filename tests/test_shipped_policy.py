"""The shipped policy: its own examples, coverage of every SPEC rule id, stability,
and monotonicity of the income rules."""

from __future__ import annotations

import functools
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fanpin_rules import load_policy
from fanpin_rules.policy import Policy
from fanpin_rules.testing import run_examples

ROOT = Path(__file__).resolve().parents[1]
HOUSEHOLDS = ROOT / "examples" / "households.jsonl"

# SPEC §8 "fired holds conclusions only"
SPEC_IDS = (
    ["SC-0", "SC-1"]
    + [f"ID-{i}" for i in range(1, 8)]
    + [f"KG-{i}" for i in range(1, 12)]
    + ["KG-7b", "KA-1", "KA-2", "LC-1", "LC-2", "LC-3", "AS-1", "AS-1c"]
    + [f"AS-{i}" for i in range(2, 8)]
    + ["EL", "EL-7", "RB-1", "RB-2", "RB-3", "TR-1"]
    + [f"DQ-{i}" for i in range(1, 19)]
)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("ewenki_2024q2")


def test_every_spec_rule_id_is_a_conclusion(policy: Policy) -> None:
    assert sorted(policy.rule_ids) == sorted(SPEC_IDS)


def test_examples_pass_and_cover_every_rule_both_ways(policy: Policy) -> None:
    report = run_examples(policy)
    failures = [(o.title, o.failures) for o in report.outcomes if not o.passed]
    assert failures == []
    assert len(report.outcomes) >= 80
    assert report.never_fired() == []
    assert report.never_not_fired() == []


@functools.cache
def _records(n: int | None = None) -> list[dict[str, Any]]:
    with HOUSEHOLDS.open(encoding="utf-8") as f:
        lines = f.readlines()
    return [json.loads(line, parse_float=Decimal) for line in lines[:n]]


def test_bundled_households_are_stable(policy: Policy) -> None:
    records = _records(400)

    def digest() -> str:
        h = hashlib.sha256()
        for r in records:
            out = policy.evaluate(r, trace=False).to_json(trace=False)
            h.update(json.dumps(out, sort_keys=True, ensure_ascii=False).encode())
        return h.hexdigest()

    assert digest() == digest()


MONEY = st.decimals(min_value=0, max_value=60000, places=2)


@settings(max_examples=40, deadline=None)
@given(idx=st.integers(0, 399), extra=MONEY)
def test_more_income_never_creates_a_low_income_identification(
    policy: Policy, idx: int, extra: Decimal
) -> None:
    """ID-1/ID-2 (pcni ≤ L) and ID-7 (pcni < L) are anti-monotone in income."""
    record = _records(400)[idx]
    if "wage_income" not in record:
        return
    richer = dict(record, wage_income=str(Decimal(str(record["wage_income"])) + extra))
    base = set(policy.evaluate(record, trace=False).fired)
    more = set(policy.evaluate(richer, trace=False).fired)
    for rid in ("ID-1", "ID-2", "ID-7"):
        assert not (rid in more and rid not in base), rid
