"""Replay: saved results run again with the same policy hash, parameters, date and input."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fanpin_rules import load_policy
from fanpin_rules.explain import explain_document
from fanpin_rules.policy import Policy
from fanpin_rules.replay import ReplayError, replay
from tests.cli import run as _run
from tests.cli import serve_shipped_policy

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "explain"
HH01 = ROOT / "examples" / "households" / "01-脱贫户收入略低于基准.json"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("ewenki_2024q2")


@pytest.fixture(scope="module")
def changed_policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    """The shipped policy with the income line raised to 8700 (another hash)."""
    folder = tmp_path_factory.mktemp("changed")
    shutil.copy(ROOT / "policies" / "ewenki_2024q2.policy", folder)
    shutil.copytree(ROOT / "policies" / "ewenki_2024q2", folder / "ewenki_2024q2")
    params = folder / "ewenki_2024q2" / "params.policy"
    text = params.read_text("utf-8")
    assert "2024-01-01: 8300 cite" in text
    params.write_text(text.replace("2024-01-01: 8300 cite", "2024-01-01: 8700 cite"), "utf-8")
    return load_policy(folder / "ewenki_2024q2.policy")


@pytest.fixture(autouse=True)
def cached_policy(monkeypatch: pytest.MonkeyPatch, policy: Policy) -> None:
    serve_shipped_policy(monkeypatch, policy)


def _saved(policy: Policy, show_pii: bool = False, **params: Any) -> dict[str, Any]:
    data = json.loads(HH01.read_text("utf-8"), parse_float=Decimal)
    result = policy.evaluate(data, params=params or None)
    doc = explain_document(result, household=data, policy=policy, show_pii=show_pii)
    return json.loads(json.dumps(doc, ensure_ascii=False))


def test_saved_explanations_reproduce_exactly(policy: Policy) -> None:
    for name in ("01-脱贫户收入略低于基准", "example-P1-他旗监测收入基准8700"):
        doc = json.loads((GOLDEN / f"{name}.json").read_text("utf-8"))
        outcome = replay(doc, policy)
        assert outcome.status == "reproduced", outcome.differences[:3]
        assert outcome.reproduced and outcome.saved_hash == policy.content_hash
        assert any("遮蔽" in n for n in outcome.notes)  # replayed on the masked record
    unmasked = replay(_saved(policy, show_pii=True), policy)
    assert unmasked.status == "reproduced" and not unmasked.notes


def test_run_time_parameters_are_replayed(policy: Policy) -> None:
    doc = _saved(policy, 监测收入基准="8200")
    assert "ID-1" not in doc["fired"]  # 8240.00 > 8200
    assert replay(doc, policy).status == "reproduced"
    params = next(p for p in doc["params"] if p["name"] == "监测收入基准")
    assert params["overridden"] and params["value"] == "8200.00"


def test_a_tampered_result_differs_where_it_was_changed(policy: Policy) -> None:
    doc = _saved(policy)
    doc["fired"] = [r for r in doc["fired"] if r != "ID-7"]
    doc["values"]["pcni"] = "8300.00"
    doc["trace"]["conclusions"][0]["status"] = "not_fired"
    outcome = replay(doc, policy)
    assert outcome.status == "differs"
    found = {d.path: (d.saved, d.replayed) for d in outcome.differences}
    assert found["values.pcni"] == ("8300.00", "8240.00")
    assert found["trace.conclusions[0].status"] == ("not_fired", "fired")
    assert "fired" in found and "ID-7" in found["fired"][1]


def test_a_changed_policy_is_reported_not_silently_reevaluated(
    policy: Policy, changed_policy: Policy, tmp_path: Path
) -> None:
    doc = _saved(policy)
    outcome = replay(doc, changed_policy)
    assert outcome.status == "policy_changed"
    assert outcome.saved_hash == policy.content_hash
    assert outcome.current_hash == changed_policy.content_hash != policy.content_hash
    assert outcome.under_current is None and not outcome.differences
    compared = replay(doc, changed_policy, against_current=True)
    assert compared.status == "policy_changed" and compared.under_current
    paths = {d.path for d in compared.under_current}
    assert "policy.hash" in paths
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    policy_file = str(Path(changed_policy.path))
    code, out, err = _run("replay", str(saved), "--policy", policy_file)
    assert code == 1
    assert "政策已变更" in out and policy.content_hash in out and changed_policy.content_hash in out
    assert "没有重新评估" in out and "政策已变更 1" in err
    code, out, _ = _run("replay", str(saved), "--policy", policy_file, "--against-current")
    assert code == 1 and "这不是重现" in out and "policy.hash" in out


def test_decisions_of_evaluate_replay_from_their_source(tmp_path: Path) -> None:
    source = tmp_path / "households.jsonl"
    with open(ROOT / "examples" / "households.jsonl", encoding="utf-8") as f:
        source.write_text("".join(line for _, line in zip(range(3), f, strict=False)), "utf-8")
    decisions = tmp_path / "decisions.jsonl"
    code, _, err = _run(
        "evaluate", "--policy", "ewenki_2024q2", str(source), "-o", str(decisions), "--quiet"
    )
    assert code == 0, err
    code, out, err = _run("replay", str(decisions))
    assert code == 0, out + err
    assert "完全重现 3" in err
    # the source record changed since: not replayed, said so
    lines = source.read_text("utf-8").splitlines()
    record = json.loads(lines[1])
    record["wage_income"] = record["wage_income"] + 1
    lines[1] = json.dumps(record, ensure_ascii=False)
    source.write_text("\n".join(lines) + "\n", "utf-8")
    code, out, err = _run("replay", str(decisions), "--format", "json")
    assert code == 1
    statuses = [json.loads(line)["status"] for line in out.splitlines()]
    assert statuses == ["reproduced", "input_changed", "reproduced"]


def test_results_that_cannot_be_replayed(policy: Policy, tmp_path: Path) -> None:
    doc = _saved(policy)
    without = {k: v for k, v in doc.items() if k != "household"}
    assert replay(without, policy).status == "no_input"
    broken = json.loads(json.dumps(doc))
    broken["household"]["household_size"] = 0
    outcome = replay(broken, policy)
    assert outcome.status == "input_changed" and "household_size" in outcome.notes[0]
    unknown = dict(doc, policy={"name": "别的政策", "version": "1", "hash": "sha256:" + "0" * 64})
    assert replay(unknown).status == "policy_not_found"
    with pytest.raises(ReplayError):
        replay({"household_id": "x"}, policy)
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1}', "utf-8")
    code, _, err = _run("replay", str(bad))
    assert code == 2 and "fired" in err
    code, _, err = _run("replay", str(tmp_path / "missing.json"))
    assert code == 2 and "missing.json" in err
