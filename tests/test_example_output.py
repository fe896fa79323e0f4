"""The example output of the main job, kept in examples/output/ and kept current.

``examples/output/summary.json`` holds the counts of the main job (``make demo``) over the
2,000 bundled households; ``examples/output/hand-written.decisions.jsonl`` the decisions
for the hand-written households of examples/households/.  Refresh both with
``pytest tests/test_example_output.py --update-goldens`` and review the diff.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fanpin_rules import HouseholdInputError, load_policy
from fanpin_rules.policy import Policy

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "examples" / "output"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("ewenki_2024q2")


def _write_or_compare(path: Path, text: str, update: bool) -> None:
    if update:
        path.write_text(text, "utf-8")
    assert path.read_text("utf-8") == text, f"{path} is stale: pytest {__file__} --update-goldens"


def test_summary_of_the_main_job(policy: Policy, update_goldens: bool) -> None:
    fired: Counter[str] = Counter()
    undetermined: Counter[str] = Counter()
    per_sumu: dict[str, Counter[str]] = {}
    read = decided = rejected = 0
    with (ROOT / "examples" / "households.jsonl").open(encoding="utf-8") as f:
        for line in f:
            read += 1
            record: dict[str, Any] = json.loads(line, parse_float=Decimal)
            try:
                result = policy.evaluate(record, trace=False)
            except HouseholdInputError:
                rejected += 1
                continue
            decided += 1
            fired.update(result.fired)
            undetermined.update(list(result.undetermined))
            per_sumu.setdefault(str(record.get("sumu", "?")), Counter()).update(result.fired)
    assert read == decided + rejected
    summary = {
        "policy": policy.info.to_json(),
        "as_of": policy.default_as_of.isoformat(),
        "read": read,
        "decided": decided,
        "rejected": rejected,
        "fired": {rid: fired[rid] for rid in policy.rule_ids},
        "undetermined": {rid: undetermined[rid] for rid in policy.rule_ids if undetermined[rid]},
        "fired_by_sumu": {
            s: {rid: c[rid] for rid in policy.rule_ids if c[rid]}
            for s, c in sorted(per_sumu.items())
        },
    }
    text = json.dumps(summary, ensure_ascii=False, indent=2) + "\n"
    _write_or_compare(OUT / "summary.json", text, update_goldens)


def test_decisions_for_the_hand_written_households(policy: Policy, update_goldens: bool) -> None:
    lines = []
    for path in sorted((ROOT / "examples" / "households").glob("*.json")):
        record = json.loads(path.read_text("utf-8"), parse_float=Decimal)
        out = policy.evaluate(record, trace=False).to_json(trace=False)
        out["file"] = path.name
        lines.append(json.dumps(out, ensure_ascii=False, sort_keys=True))
    assert len(lines) >= 8
    _write_or_compare(OUT / "hand-written.decisions.jsonl", "\n".join(lines) + "\n", update_goldens)
