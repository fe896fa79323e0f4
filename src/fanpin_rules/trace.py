"""Decision traces as data with stable keys; rendering lives in :mod:`render`.

Every record here is frozen and made of JSON-ready values, so a trace can be
saved, compared, replayed and rendered in any language later.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from fanpin_rules.source import Span

Status = Literal["fired", "not_fired", "undetermined", "overridden", "shadowed"]
TruthValue = Literal["true", "false", "unknown"]


def _span_json(span: Span | None) -> dict[str, object] | None:
    return None if span is None or span.line == 0 else span.to_json()


@attrs.frozen
class Comparison:
    """One comparison inside a condition, with the actual values on both sides.

    ``gap`` is ``left - right`` for numbers (how far the value is from the threshold).
    """

    left: str
    left_value: Any
    op: str
    right: str
    right_value: Any
    truth: TruthValue
    gap: str | None = None

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Observation:
    """A name read by a condition and its value."""

    name: str
    value: Any

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value}


@attrs.frozen
class ConditionTrace:
    text: str
    truth: TruthValue
    missing: tuple[str, ...] = ()
    comparisons: tuple[Comparison, ...] = ()
    observations: tuple[Observation, ...] = ()
    span: Span | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "truth": self.truth,
            "missing": list(self.missing),
            "comparisons": [c.to_json() for c in self.comparisons],
            "observations": [o.to_json() for o in self.observations],
            "span": _span_json(self.span),
        }


@attrs.frozen
class ConclusionTrace:
    """Why a rule or table row did or did not fire."""

    rule_id: str
    kind: Literal["rule", "row"]
    title: str | None
    cite: str | None
    message: str | None
    severity: str | None
    status: Status
    conditions: tuple[ConditionTrace, ...]
    missing: tuple[str, ...] = ()
    table: str | None = None
    hit_policy: str | None = None
    overridden_by: str | None = None
    shadowed_by: str | None = None
    span: Span | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "kind": self.kind,
            "title": self.title,
            "cite": self.cite,
            "message": self.message,
            "severity": self.severity,
            "status": self.status,
            "table": self.table,
            "hit_policy": self.hit_policy,
            "overridden_by": self.overridden_by,
            "shadowed_by": self.shadowed_by,
            "missing": list(self.missing),
            "conditions": [c.to_json() for c in self.conditions],
            "span": _span_json(self.span),
        }


@attrs.frozen
class ValueTrace:
    """A derived value: its formula, the formula with values, and the result."""

    name: str
    label: str | None
    value: Any
    formula: str
    computed: str
    cite: str | None = None
    missing: tuple[str, ...] = ()
    span: Span | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "value": self.value,
            "formula": self.formula,
            "computed": self.computed,
            "cite": self.cite,
            "missing": list(self.missing),
            "span": _span_json(self.span),
        }


@attrs.frozen
class TableTrace:
    name: str
    label: str | None
    hit_policy: str
    inputs: tuple[Observation, ...]
    matched: tuple[str, ...]
    selected: tuple[str, ...]
    undetermined: tuple[str, ...]
    output: Any
    cite: str | None = None
    span: Span | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "hit_policy": self.hit_policy,
            "inputs": [i.to_json() for i in self.inputs],
            "matched": list(self.matched),
            "selected": list(self.selected),
            "undetermined": list(self.undetermined),
            "output": self.output,
            "cite": self.cite,
            "span": _span_json(self.span),
        }


@attrs.frozen
class ParamUse:
    """A parameter as used: value, the date it took effect, where it comes from."""

    name: str
    label: str | None
    value: Any
    unit: str | None
    effective: str | None
    source: str | None
    overridden: bool = False

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Trace:
    conclusions: tuple[ConclusionTrace, ...]
    values: tuple[ValueTrace, ...]
    tables: tuple[TableTrace, ...]
    missing_inputs: tuple[str, ...] = ()

    def conclusion(self, rule_id: str) -> ConclusionTrace:
        for c in self.conclusions:
            if c.rule_id == rule_id:
                return c
        raise KeyError(rule_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "conclusions": [c.to_json() for c in self.conclusions],
            "values": [v.to_json() for v in self.values],
            "tables": [t.to_json() for t in self.tables],
            "missing_inputs": list(self.missing_inputs),
        }
