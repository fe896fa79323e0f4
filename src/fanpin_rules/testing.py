"""Run a policy's own examples (``fanpin test``) and measure rule coverage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from fanpin_rules import ast
from fanpin_rules.check.examples import EXPECT_KINDS, FLAG_KINDS
from fanpin_rules.errors import FanpinError, HouseholdInputError
from fanpin_rules.policy import Policy, Result
from fanpin_rules.source import Span

__all__ = ["ExampleOutcome", "ExampleReport", "example_input", "merge_patch", "run_examples"]


def merge_patch(base: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, ``null`` deletes, the rest replaces.

    >>> merge_patch({"a": 1, "b": {"c": 2}}, {"b": {"c": None, "d": 3}})
    {'a': 1, 'b': {'d': 3}}
    """
    if not isinstance(patch, dict):
        return patch
    out = dict(base) if isinstance(base, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def example_input(policy: Policy, ex: ast.ExampleDecl) -> dict[str, Any]:
    """The example's household: its ``like`` chain merged in order."""
    by_title = {e.title: e for e in policy.model.examples}
    chain: list[ast.ExampleDecl] = []
    cur: ast.ExampleDecl | None = ex
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = by_title.get(cur.like) if cur.like is not None else None
    data: Any = {}
    for e in reversed(chain):
        if e.input is not None:
            data = merge_patch(data, e.input)
    return data if isinstance(data, dict) else {}


def _inherited(policy: Policy, ex: ast.ExampleDecl) -> tuple[dt.date | None, dict[str, Any]]:
    by_title = {e.title: e for e in policy.model.examples}
    chain: list[ast.ExampleDecl] = []
    cur: ast.ExampleDecl | None = ex
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = by_title.get(cur.like) if cur.like is not None else None
    as_of = None
    params: dict[str, Any] = {}
    for e in reversed(chain):
        if e.as_of is not None:
            as_of = e.as_of
        for name, lit in e.params:
            params[name] = lit.value
    return as_of, params


@attrs.frozen
class ExampleOutcome:
    title: str
    span: Span
    failures: tuple[str, ...]
    result: Result | None = None
    rejected: HouseholdInputError | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


@attrs.frozen
class ExampleReport:
    policy: Policy
    outcomes: tuple[ExampleOutcome, ...]
    fired_in: dict[str, tuple[str, ...]]
    not_fired_in: dict[str, tuple[str, ...]]

    @property
    def passed(self) -> int:
        return sum(1 for o in self.outcomes if o.passed)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.passed

    def never_fired(self) -> list[str]:
        return [r for r in self.policy.rule_ids if not self.fired_in.get(r)]

    def never_not_fired(self) -> list[str]:
        return [r for r in self.policy.rule_ids if not self.not_fired_in.get(r)]


def _same(expected: Any, actual: Any) -> bool:
    if expected == actual:
        return True
    try:
        return Decimal(str(expected)) == Decimal(str(actual))
    except (InvalidOperation, ValueError):
        return False


def _canonical_value_name(policy: Policy, name: str) -> str:
    alias = policy.model.aliases.get(name)
    return alias[1] if alias is not None else name


def run_example(policy: Policy, ex: ast.ExampleDecl) -> ExampleOutcome:
    data = example_input(policy, ex)
    as_of, params = _inherited(policy, ex)
    failures: list[str] = []
    expects_rejection = [
        e for e in ex.expects if isinstance(e, ast.ExpectFlag) and e.kind in FLAG_KINDS
    ]
    try:
        result = policy.evaluate(data, as_of, params)
    except HouseholdInputError as err:
        if not expects_rejection:
            failures.append(
                "记录被拒收, 但示例没有预期拒收: "
                + "; ".join(f"{i.path}: {i.reason_zh}" for i in err.issues)
            )
        for flag in expects_rejection:
            if flag.arg is not None and flag.arg not in {i.path for i in err.issues}:
                failures.append(
                    f"预期字段 {flag.arg} 被拒收, 实际被拒收的字段: "
                    + ", ".join(i.path for i in err.issues)
                )
        return ExampleOutcome(ex.title, ex.span, tuple(failures), None, err)
    except FanpinError as err:
        return ExampleOutcome(ex.title, ex.span, (f"评估出错: {err}",))
    if expects_rejection:
        failures.append("预期记录被拒收, 但它通过了校验")
    for exp in ex.expects:
        if isinstance(exp, ast.ExpectRules):
            kind = EXPECT_KINDS.get(exp.kind, exp.kind)
            for rid in exp.rule_ids:
                if kind == "fired":
                    holds = rid in result.fired
                    if holds == exp.negated:
                        if exp.negated:
                            failures.append(f"预期 {rid} 不成立, 实际成立")
                        else:
                            extra = (
                                f" (待定, 缺少 {', '.join(result.undetermined[rid])})"
                                if rid in result.undetermined
                                else ""
                            )
                            failures.append(f"预期 {rid} 成立, 实际不成立{extra}")
                else:
                    holds = rid in result.undetermined
                    if holds == exp.negated:
                        failures.append(
                            f"预期 {rid} {'不是' if exp.negated else '是'}待定, 实际"
                            f"{'是' if holds else '不是'}待定"
                        )
        elif isinstance(exp, ast.ExpectValue):
            name = _canonical_value_name(policy, exp.name)
            actual = result.values.get(name)
            if not _same(exp.value, actual):
                failures.append(f"预期 {exp.name} = {exp.value}, 实际 = {actual}")
    return ExampleOutcome(ex.title, ex.span, tuple(failures), result, None)


def run_examples(policy: Policy) -> ExampleReport:
    """Run every example of the policy; collect failures and coverage per rule id."""
    outcomes = []
    fired_in: dict[str, list[str]] = {}
    not_fired_in: dict[str, list[str]] = {}
    for ex in policy.model.examples:
        outcome = run_example(policy, ex)
        outcomes.append(outcome)
        if outcome.result is not None:
            fired = set(outcome.result.fired)
            for rid in policy.rule_ids:
                target = fired_in if rid in fired else not_fired_in
                if rid in fired or rid not in outcome.result.undetermined:
                    target.setdefault(rid, []).append(ex.title)
    return ExampleReport(
        policy,
        tuple(outcomes),
        {k: tuple(v) for k, v in fired_in.items()},
        {k: tuple(v) for k, v in not_fired_in.items()},
    )
