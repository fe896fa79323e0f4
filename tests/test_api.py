"""The public API: loading by name, several policies at once, threads, pickling."""

from __future__ import annotations

import json
import pickle
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import fanpin_rules
from fanpin_rules import (
    HouseholdInputError,
    PolicyCheckError,
    PolicyLoadError,
    PolicySyntaxError,
    evaluate_all,
    load_policy,
)

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "examples" / "language_tour.policy"
HOUSEHOLDS = ROOT / "examples" / "households.jsonl"


def _households(n: int) -> list[dict[str, Any]]:
    with HOUSEHOLDS.open(encoding="utf-8") as f:
        return [json.loads(next(f)) for _ in range(n)]


def test_shipped_policy_by_name() -> None:
    assert "ewenki_2024q2" in fanpin_rules.shipped_policies()
    policy = load_policy("ewenki_2024q2")
    assert policy.version is not None and policy.content_hash.startswith("sha256:")
    assert "ID-1" in policy.rule_ids and "EL" in policy.rule_ids


def test_unknown_policy_name_suggests() -> None:
    with pytest.raises(PolicyLoadError, match="ewenki_2024q2"):
        load_policy("ewenki_2024")


def test_errors_share_one_root_and_pickle(tmp_path: Path) -> None:
    bad = tmp_path / "bad.policy"
    bad.write_text('rule A-1 when x "m"', "utf-8")
    with pytest.raises(fanpin_rules.FanpinError) as info:
        load_policy(bad)
    assert isinstance(info.value, PolicySyntaxError)
    again = pickle.loads(pickle.dumps(info.value))
    assert again.diagnostics == info.value.diagnostics

    bad.write_text('policy "p" { as_of 2024-06-05 }\nlet a = 未知 + 1', "utf-8")
    with pytest.raises(PolicyCheckError) as info2:
        load_policy(bad)
    assert pickle.loads(pickle.dumps(info2.value)).diagnostics == info2.value.diagnostics

    policy = load_policy(TOUR)
    with pytest.raises(HouseholdInputError) as info3:
        policy.evaluate({"household_id": "X", "size": 0, "income": 1, "members": []})
    err = pickle.loads(pickle.dumps(info3.value))
    assert [i.path for i in err.issues] == [i.path for i in info3.value.issues]


def test_results_are_frozen_json_and_pickle() -> None:
    policy = load_policy("ewenki_2024q2")
    result = policy.evaluate(_households(1)[0])
    text = json.dumps(result.to_json(), ensure_ascii=False)
    assert json.loads(text)["household_id"] == result.household_id
    assert pickle.loads(pickle.dumps(result)).to_json() == result.to_json()
    with pytest.raises(AttributeError):
        result.fired = ()  # type: ignore[misc]


def test_recorded_trace_is_built_on_first_read_and_equals_the_interpreters() -> None:
    """The compiled engine records the trace; the Trace is built when first read, once,
    and is the interpreter's trace; the parameters it shows are the interpreter's too."""
    policy = load_policy("ewenki_2024q2")
    for record in _households(25):
        result = policy.evaluate(record)
        assert result._trace is not None and not isinstance(result._trace, fanpin_rules.Trace)
        reference = policy.evaluate(record, engine="interpreter")
        assert result.params == reference.params  # read before the trace: builds it
        assert result.trace is result.trace  # built once
        assert result.trace == reference.trace
        assert result == reference and repr(result) == repr(reference)
        assert result.to_json() == reference.to_json()
        without = policy.evaluate(record, trace=False)
        assert without.trace is None and without.fired == result.fired
        # a pickled result carries the built trace, not the record behind it
        again = pickle.loads(pickle.dumps(policy.evaluate(record)))
        assert isinstance(again._trace, fanpin_rules.Trace) and again == reference


def test_an_error_only_the_explanation_meets_is_raised_when_the_trace_is_read(
    tmp_path: Path,
) -> None:
    """The decision stops at ``a > 1``; the explanation reads every condition of the rule,
    so ``10 / b`` fails only there: the interpreter raises at once, a recorded trace when
    it is read, with the same error."""
    path = tmp_path / "t.policy"
    path.write_text(
        'policy "t" { version "1" as_of 2024-06-05 }\n'
        "record household { household_id: text required  a: int required  b: int required }\n"
        "input household key household_id\n"
        'rule R-1 when a > 1 and 10 / b > 1\n  then "m"\n',
        "utf-8",
    )
    policy = load_policy(path)
    record = {"household_id": "x", "a": 0, "b": 0}
    assert policy.evaluate(record, trace=False).fired == ()
    with pytest.raises(fanpin_rules.EvaluationError, match="除数为零") as direct:
        policy.evaluate(record, engine="interpreter")
    result = policy.evaluate(record)
    assert result.fired == ()
    with pytest.raises(fanpin_rules.EvaluationError) as lazy:
        _ = result.trace
    assert str(lazy.value) == str(direct.value)


def test_recorded_traces_read_from_many_threads() -> None:
    policy = load_policy("ewenki_2024q2")
    households = _households(20)
    expected = [policy.evaluate(h, engine="interpreter").to_json() for h in households]
    results = [policy.evaluate(h) for h in households]  # traces recorded, not yet built
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda i: results[i % 20].to_json(), range(80)))
    assert got == [expected[i % 20] for i in range(80)]


def test_threads_give_the_same_results_as_one_by_one() -> None:
    policy = load_policy("ewenki_2024q2")
    households = _households(60)
    expected = [policy.evaluate(h).to_json() for h in households]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda h: policy.evaluate(h).to_json(), households))
    assert got == expected


def test_several_policies_over_one_household(tmp_path: Path) -> None:
    """SPEC §4 衔接并轨: one record, separate policies, separate results."""
    import shutil

    shipped = load_policy("ewenki_2024q2")
    # a second policy: the same rules under another name (another region's copy)
    copy = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", copy)
    root = copy / "ewenki_2024q2.policy"
    text = root.read_text("utf-8")
    root.write_text(text.replace(f'"{shipped.name}"', '"示例地区 2024"', 1), "utf-8")
    other = load_policy(root)
    assert other.name == "示例地区 2024"
    hh = _households(3)[2]
    both = evaluate_all([shipped, other], hh, params={other.name: {"监测收入基准": "8700"}})
    assert set(both) == {shipped.name, other.name}
    assert both[shipped.name].to_json() == shipped.evaluate(hh).to_json()
    line = next(p for p in both[other.name].params if p.name == "监测收入基准")
    assert line.value == "8700.00" and line.overridden
    with pytest.raises(fanpin_rules.ParameterError, match="同名"):
        evaluate_all([shipped, shipped], hh)


def test_param_override_reports_value_and_source() -> None:
    policy = load_policy("ewenki_2024q2")
    hh = _households(1)[0]
    result = policy.evaluate(
        hh, params={"监测收入基准": {"value": "8700", "source": "云南省 2024 年监测范围"}}
    )
    line = next(p for p in result.params if p.name == "监测收入基准")
    assert line.value == "8700.00" and line.overridden
    assert line.source == "云南省 2024 年监测范围"
    plain = next(p for p in policy.evaluate(hh).params if p.name == "监测收入基准")
    assert plain.value == "8300.00" and not plain.overridden and plain.effective == "2024-01-01"
