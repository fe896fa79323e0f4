"""Hit policies: which rows of a decision table decide, and the table's value.

One definition for the reference interpreter and the compiled code: given each row's
truth (true, false or unknown), it picks the selected rows per DMN hit policy, marks
rows shadowed or undetermined, and aggregates the outputs.

>>> value, selected, status, _ = table_outcome(
...     "t", "first", None, ["T-1", "T-2"], [False, True], lambda i: ["a", "b"][i],
...     lambda v: 0, NOWHERE)
>>> value, selected, status
('b', [1], {0: 'not_fired', 1: 'fired'})
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from fanpin_rules.errors import EvaluationError
from fanpin_rules.source import NOWHERE, Span
from fanpin_rules.values import ABSENT, Truth, Unknown, unknown_of

__all__ = ["NOWHERE", "table_outcome"]


def table_outcome(
    name: str,
    hit: str,
    aggregation: str | None,
    ids: Sequence[str],
    truths: list[Truth],
    out: Callable[[int], Any],
    rank: Callable[[Any], int],
    span: Span,
) -> tuple[Any, list[int], dict[int, str], dict[int, str]]:
    """Value, selected rows, row statuses (fired / not_fired / shadowed / undetermined)
    and shadowing rows of a table under its hit policy."""
    status: dict[int, str] = {}
    shadowed: dict[int, str] = {}
    selected: list[int] = []
    value: Any = ABSENT
    trues = [i for i, t in enumerate(truths) if t is True]
    unknowns = [i for i, t in enumerate(truths) if isinstance(t, Unknown)]
    undetermined_value: Unknown | None = None
    for i in unknowns:
        status[i] = "undetermined"
    for i, t in enumerate(truths):
        if t is False:
            status[i] = "not_fired"
    if hit == "first":
        first_true = trues[0] if trues else None
        blockers = [i for i in unknowns if first_true is None or i < first_true]
        if first_true is not None and not blockers:
            selected = [first_true]
            for i in trues[1:]:
                status[i] = "shadowed"
                shadowed[i] = ids[first_true]
        elif blockers:
            undetermined_value = unknown_of(*(truths[i] for i in blockers))
            for i in trues:
                status[i] = "undetermined"
    elif hit in ("unique", "any"):
        if unknowns:
            undetermined_value = unknown_of(*(truths[i] for i in unknowns))
            for i in trues:
                status[i] = "undetermined"
        elif len(trues) > 1 and hit == "unique":
            shown = ", ".join(ids[i] for i in trues)
            raise EvaluationError(
                f"决策表「{name}」(unique) 同时命中多行: {shown} / "
                f"table '{name}' (unique) matched several rows: {shown}",
                span,
            )
        elif trues:
            if hit == "any":
                outs = [out(i) for i in trues]
                if any(o != outs[0] for o in outs[1:]):
                    shown = ", ".join(ids[i] for i in trues)
                    raise EvaluationError(
                        f"决策表「{name}」(any) 命中的行结论不同: {shown} / "
                        f"table '{name}' (any) matched rows with different outputs: {shown}",
                        span,
                    )
            selected = trues
    elif hit == "priority":
        ranks = {i: rank(out(i)) for i in trues}
        best = min(trues, key=lambda i: (ranks[i], i)) if trues else None
        blockers = [i for i in unknowns if best is None or rank(out(i)) <= ranks[best]]
        if blockers:
            undetermined_value = unknown_of(*(truths[i] for i in blockers))
            for i in trues:
                status[i] = "undetermined"
        elif best is not None:
            selected = [best]
            for i in trues:
                if i != best:
                    status[i] = "shadowed"
                    shadowed[i] = ids[best]
    else:  # rule_order, output_order, collect
        selected = list(trues)
        if hit == "output_order":
            selected.sort(key=lambda i: (rank(out(i)), i))
        if unknowns:
            undetermined_value = unknown_of(*(truths[i] for i in unknowns))
    for i in selected:
        status[i] = "fired"
    if undetermined_value is not None:
        value = undetermined_value
    elif hit in ("first", "priority", "unique", "any"):
        value = out(selected[0]) if selected else ABSENT
    else:
        collected = [out(i) for i in selected]
        if hit == "collect" and aggregation in ("sum", "min", "max", "count"):
            if aggregation == "count":
                value = len(collected)
            elif not collected:
                value = Decimal(0) if aggregation == "sum" else ABSENT
            elif aggregation == "sum":
                value = sum(collected, Decimal(0))
            else:
                value = min(collected) if aggregation == "min" else max(collected)
        else:
            value = tuple(collected)
    return value, selected, status, shadowed
