"""Result rows of the columnar engines, rendered as the reference renders ``Result`` JSON.

A result row has ``household_id``, ``fired`` (sorted rule ids), ``undetermined`` (a list of
``{rule, missing}``, sorted by rule), ``missing_inputs`` and ``values`` (a struct with one
typed field per let and table).  :func:`row_json` turns one row (as Python values, e.g. from
``pyarrow.Table.to_pylist()``) into the JSON shape of :meth:`fanpin_rules.Result.to_json`.

>>> from decimal import Decimal
>>> render_value("money", Decimal("8300.005"))
'8300.01'
>>> render_value(("list", "number"), [Decimal("0.50"), Decimal("20")])
['0.5', '20']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from fanpin_rules.values import round_half_up

__all__ = ["render_value", "row_json"]


def render_value(spec: Any, v: Any) -> Any:
    """One value in the reference's JSON form (``values.to_json_value``)."""
    if v is None:
        return None
    if spec == "money":
        return f"{round_half_up(Decimal(v), 2):.2f}"
    if spec == "int":
        return int(v)
    if spec == "number":
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        d = Decimal(v)
        return format(d.normalize(), "f") if d != 0 else "0"
    if spec == "date":
        return v.isoformat() if isinstance(v, dt.date) else str(v)
    if spec in ("bool", "text"):
        return v
    kind, inner = spec
    if kind == "intflag":
        # a value the reference holds as an int on some rows and a Decimal on others
        return int(v["v"]) if v["int"] else render_value(inner, v["v"])
    if kind == "list":
        return [render_value(inner, x) for x in v]
    return {name: render_value(sp, v.get(name)) for name, sp in inner}


def row_json(row: Mapping[str, Any], specs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """A result row as ``{household_id, fired, undetermined, missing_inputs, values}``."""
    values = row["values"] or {}
    return {
        "household_id": row["household_id"],
        "fired": list(row["fired"]),
        "undetermined": {u["rule"]: list(u["missing"]) for u in row["undetermined"]},
        "missing_inputs": list(row["missing_inputs"]),
        "values": {name: render_value(spec, values.get(name)) for name, spec in specs},
    }
