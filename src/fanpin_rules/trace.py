"""Decision traces as data with stable keys; rendering lives in :mod:`explain`.

Every record here is frozen and made of JSON-ready values, so a trace can be
saved, compared, replayed and rendered in any language later.  The JSON shape is
published as ``docs/result.schema.json`` (see ``docs/result-schema.md``).

>>> c = Comparison("pcni", "8450.00", "<=", "监测收入基准", "8300", "false", "150.00",
...                kind="money", would_fire_at="8300.00")
>>> c.to_json()["would_fire_at"], c.to_json()["gap"]
('8300.00', '150.00')
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

import attrs

from fanpin_rules.source import Span

__all__ = [
    "Comparison",
    "ConclusionTrace",
    "ConditionTrace",
    "ElementTrace",
    "Observation",
    "ParamUse",
    "Status",
    "TableTrace",
    "Term",
    "Trace",
    "TruthValue",
    "ValueTrace",
    "tokenize",
]

Status = Literal["fired", "not_fired", "undetermined", "overridden", "shadowed"]
TruthValue = Literal["true", "false", "unknown"]
Combinator = Literal["and", "or", "not"]
TermKind = Literal["field", "let", "param", "table", "enum_value"]


# The tokens of a condition text or formula as the trace writes them (exprfmt.to_text):
# quoted strings, dates, rule ids, dotted names, numbers, the rest one character at a time.
_TOKEN = re.compile(
    r'(?P<string>"(?:[^"\\\n]|\\.)*")'
    r"|(?P<date>(?<![\w.])\d{4}-\d{2}-\d{2}(?![\w.]))"
    r"|(?P<rule>(?<![\w-])[A-Z][A-Z0-9]*-[0-9]+[a-z]?(?![\w-]))"
    r"|(?P<name>[^\W\d][\w]*(?:\.[^\W][\w]*)*)"
    r"|(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<op><=|>=|!=|[<>=+*/∩∪≤≥≠−-])"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.S,
)


def tokenize(text: str) -> Iterator[tuple[str, str]]:
    """``(kind, text)`` pairs of a trace text; kinds: string, date, rule, name, number,
    op, space, other.  Joining the texts gives the input back.

    >>> [t for t in tokenize('pcni <= 监测收入基准 and KG-7b') if t[0] != "space"]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('name', 'pcni'), ('op', '<='), ('name', '监测收入基准'), ('name', 'and'),
     ('rule', 'KG-7b')]
    >>> [k for k, _ in tokenize('quarterly_net_income.2024Q1 >= "因病"')]
    ['name', 'space', 'op', 'space', 'string']
    """
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        assert kind is not None
        yield kind, m.group()


def _copy(v: Any) -> Any:
    """A JSON-ready value with fresh lists and dicts, as ``attrs.asdict`` gives it."""
    if isinstance(v, list | tuple):
        return [_copy(x) for x in v]
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    return v


def _span_json(span: Span | None) -> dict[str, object] | None:
    return None if span is None or span.line == 0 else span.to_json()


@attrs.frozen
class Comparison:
    """One comparison inside a condition, with the actual values on both sides.

    ``gap`` is ``left - right`` (numbers; for dates, in days): how far the value is
    from the threshold.  ``kind`` is the value type of the compared quantities
    (``money``, ``int``, ``number``, ``date``, ``bool``, ``text``), so a renderer can
    show money with two decimals.  ``would_fire_at`` is, for a comparison that does
    not hold on an ordered type, the nearest value of the left side at which it
    would: ``8300.00`` for ``pcni <= 监测收入基准``, ``10000.01`` for
    ``medical_self_paid > 大病自付阈值`` (money moves in cents, whole numbers in ones,
    dates in days).
    """

    left: str
    left_value: Any
    op: str
    right: str
    right_value: Any
    truth: TruthValue
    gap: str | None = None
    kind: str | None = None
    would_fire_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        # attrs.asdict, written out (hot when a batch writes traces)
        return {
            "left": self.left,
            "left_value": _copy(self.left_value),
            "op": self.op,
            "right": self.right,
            "right_value": _copy(self.right_value),
            "truth": self.truth,
            "gap": self.gap,
            "kind": self.kind,
            "would_fire_at": self.would_fire_at,
        }


@attrs.frozen
class Observation:
    """A name read by a condition and its value."""

    name: str
    value: Any

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value}


@attrs.frozen
class ElementTrace:
    """One element of a list that an aggregate (``any``, ``all``, ``count``) looked at.

    ``path`` is the element's input path (``members[1]``); ``truth`` whether the
    aggregate's condition held for it.
    """

    path: str
    truth: TruthValue

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "truth": self.truth}


@attrs.frozen
class ConditionTrace:
    """One condition of a rule (a top-level ``and`` operand) or of a table row (a cell).

    ``parts`` break a condition down: the operands of an ``and``/``or``/``not``
    (``combinator``), or the definition of the derived value it names (``ref``).
    Only the parts that decide the outcome are broken down further, so a failed
    ``风险消除条件`` shows which ``EL条件n`` failed and why.  For a table cell,
    ``column`` is the input column and ``test`` the cell.  ``elements`` lists, for an
    aggregate over records, whether each element met its condition.
    """

    text: str
    truth: TruthValue
    missing: tuple[str, ...] = ()
    comparisons: tuple[Comparison, ...] = ()
    observations: tuple[Observation, ...] = ()
    span: Span | None = None
    parts: tuple[ConditionTrace, ...] = ()
    combinator: Combinator | None = None
    ref: str | None = None
    column: str | None = None
    test: str | None = None
    elements: tuple[ElementTrace, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "truth": self.truth,
            "missing": list(self.missing),
            "comparisons": [c.to_json() for c in self.comparisons],
            "observations": [o.to_json() for o in self.observations],
            "span": _span_json(self.span),
        }
        if self.ref is not None:
            out["ref"] = self.ref
        if self.combinator is not None:
            out["combinator"] = self.combinator
        if self.parts:
            out["parts"] = [p.to_json() for p in self.parts]
        if self.column is not None:
            out["column"] = self.column
            out["test"] = self.test
        if self.elements:
            out["elements"] = [e.to_json() for e in self.elements]
        return out


@attrs.frozen
class ConclusionTrace:
    """Why a rule or table row did or did not fire.

    For a rule that did not fire, the conditions whose ``truth`` is ``false`` are the
    ones that failed; for an undetermined one, ``missing`` lists the inputs that block
    it.  ``overridden_by`` names the rule that overrode a rule that held;
    ``shadowed_by`` the row a ``first``/``priority`` table chose instead of this one.
    """

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

    @property
    def failed(self) -> tuple[ConditionTrace, ...]:
        """The conditions that stop this conclusion: false ones, else unknown ones."""
        false = tuple(c for c in self.conditions if c.truth == "false")
        return false or tuple(c for c in self.conditions if c.truth == "unknown")

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
    """A derived value: its formula, the formula with values, and the result.

    ``computed`` replaces the names the formula reads by their values;
    ``expanded``, when the formula reads other sums and differences, also replaces
    those by their own formulas down to the inputs
    (``round((9600 + 21500 + 800 + 5120 - 12300) / 3, 2)``).
    """

    name: str
    label: str | None
    value: Any
    formula: str
    computed: str
    cite: str | None = None
    missing: tuple[str, ...] = ()
    span: Span | None = None
    type: str | None = None
    expanded: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "value": self.value,
            "type": self.type,
            "formula": self.formula,
            "computed": self.computed,
            "expanded": self.expanded,
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
        # attrs.asdict, written out (hot when a batch writes results)
        return {
            "name": self.name,
            "label": self.label,
            "value": _copy(self.value),
            "unit": self.unit,
            "effective": self.effective,
            "source": self.source,
            "overridden": self.overridden,
        }


@attrs.frozen
class Term:
    """How a name written in the trace reads in Chinese and in English.

    ``name`` is the spelling that appears in condition texts and formulas (a key, a
    Chinese label, a dotted path such as ``village.tuopin_hh_count``, or a quoted
    enum value such as ``"rural"``).  ``pii`` marks fields the policy declares
    personal data; renderers mask their values.
    """

    name: str
    zh: str
    en: str
    kind: TermKind
    type: str | None = None
    pii: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"zh": self.zh, "en": self.en, "kind": self.kind}
        if self.type is not None:
            out["type"] = self.type
        if self.pii:
            out["pii"] = True
        return out


@attrs.frozen
class Trace:
    """Everything an auditor needs to follow one decision, as data."""

    conclusions: tuple[ConclusionTrace, ...]
    values: tuple[ValueTrace, ...]
    tables: tuple[TableTrace, ...]
    missing_inputs: tuple[str, ...] = ()
    terms: tuple[Term, ...] = ()

    def conclusion(self, rule_id: str) -> ConclusionTrace:
        for c in self.conclusions:
            if c.rule_id == rule_id:
                return c
        raise KeyError(rule_id)

    def value(self, name: str) -> ValueTrace:
        for v in self.values:
            if v.name == name:
                return v
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "conclusions": [c.to_json() for c in self.conclusions],
            "values": [v.to_json() for v in self.values],
            "tables": [t.to_json() for t in self.tables],
            "missing_inputs": list(self.missing_inputs),
            "terms": {t.name: t.to_json() for t in self.terms},
        }
