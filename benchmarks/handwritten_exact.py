"""Baseline: hand-written Python that does the work fanpin's public API does for the reference
ruleset, written by hand for this one ruleset — the yardstick for what validation, exact money
and a JSON-ready result cost in CPython, next to ``shared/bench/engines/plain_python.py``
(which trusts its input, computes in binary floats and returns a tuple).

Per household it checks the record like the declared schema of
``benchmarks/reference_ruleset.policy`` (no unknown keys; every field present with its type:
text, whole numbers with their bounds, booleans, money as integers or decimal strings with at
most two decimals, the ratio as a number), turns money into ``Decimal``, computes the
per-capita net income exactly, and returns a dict with the key values rendered for JSON
(per-capita net half-up to cents as text) and the sorted ids of the conclusions that hold.
An invalid record raises ``ValueError`` (fanpin explains it field by field; this baseline does
not have to).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

NAME = "hand-written Python, validated + exact (same work as fanpin)"
KIND = "row"
HAS_TRACE = False

LINE = Decimal(8300)
MEDICAL = Decimal(10000)
DROP = Decimal("0.3")
CENT = Decimal("0.01")
TEXT = ("household_id", "village")
COUNTS = {"size": 1, "labor_capable_count": 0, "weak_labor_count": 0, "severe_disability_count": 0}
MONEY = (
    "income_production",
    "income_wage",
    "income_property",
    "income_transfer",
    "expense_production",
    "medical_selfpaid",
)
FLAGS = (
    "has_willingness",
    "housing_safe",
    "drinking_water_safe",
    "compulsory_education_ok",
    "basic_medical_insured",
    "is_poverty_alleviated",
    "is_monitored",
    "risk_eliminated",
    "on_dibao",
)
KEYS = frozenset((*TEXT, *COUNTS, *MONEY, *FLAGS, "income_drop_ratio"))
_MONEY_TEXT = re.compile(r"-?\d+(\.\d{1,2})?").fullmatch
REASONS = (
    ("A-1", "low_income"),
    ("A-2", "housing_unsafe"),
    ("A-3", "water_unsafe"),
    ("A-4", "education_not_ok"),
    ("A-5", "medical_uninsured"),
    ("A-6", "high_medical_cost"),
)


def _money(v: Any) -> Decimal:
    if type(v) is int:
        return Decimal(v)
    if type(v) is str and _MONEY_TEXT(v):
        return Decimal(v)
    raise ValueError(f"not an amount of money: {v!r}")


def validate(h: dict[str, Any]) -> dict[str, Any]:
    if h.keys() != KEYS:
        raise ValueError(f"unknown or missing keys: {sorted(h.keys() ^ KEYS)}")
    o: dict[str, Any] = {}
    for k in TEXT:
        if type(h[k]) is not str:
            raise ValueError(k)
        o[k] = h[k]
    for k, low in COUNTS.items():
        v = h[k]
        if type(v) is not int or v < low:
            raise ValueError(k)
        o[k] = v
    for k in MONEY:
        o[k] = _money(h[k])
    for k in FLAGS:
        if type(h[k]) is not bool:
            raise ValueError(k)
        o[k] = h[k]
    r = h["income_drop_ratio"]
    if type(r) is float:
        o["income_drop_ratio"] = Decimal(repr(r))
    elif type(r) is int:
        o["income_drop_ratio"] = Decimal(r)
    else:
        raise ValueError("income_drop_ratio")
    return o


def decide(raw: dict[str, Any]) -> dict[str, Any]:
    h = validate(raw)
    pcn = (
        h["income_production"]
        + h["income_wage"]
        + h["income_property"]
        + h["income_transfer"]
        - h["expense_production"]
    ) / h["size"]
    hits = (
        pcn < LINE,
        not h["housing_safe"],
        not h["drinking_water_safe"],
        not h["compulsory_education_ok"],
        not h["basic_medical_insured"],
        h["medical_selfpaid"] > MEDICAL,
    )
    fired = [rid for (rid, _), hit in zip(REASONS, hits, strict=True) if hit]
    reasons = [name for (_, name), hit in zip(REASONS, hits, strict=True) if hit]
    identify = bool(reasons)
    labor, weak = h["labor_capable_count"], h["weak_labor_count"]
    no_labor = labor == 0 and weak == 0
    cls = None
    if identify or h["is_monitored"]:
        if labor > 0 and h["has_willingness"]:
            cls, rid = "development", "B-1"
        elif labor == 0 and weak > 0:
            cls, rid = "weak-labor", "B-2"
        elif no_labor:
            cls, rid = "safety-net", "B-3"
        if cls is not None:
            fired.append(rid)
    guarantees = (
        h["housing_safe"]
        and h["drinking_water_safe"]
        and h["compulsory_education_ok"]
        and h["basic_medical_insured"]
    )
    if (
        h["is_monitored"]
        and not h["risk_eliminated"]
        and pcn >= LINE
        and guarantees
        and h["medical_selfpaid"] <= MEDICAL
    ):
        fired.append("C-1")
    if h["risk_eliminated"] and (pcn < LINE or h["income_drop_ratio"] > DROP or no_labor):
        fired.append("D-1")
    return {
        "household_id": h["household_id"],
        "values": {
            "per_capita_net": str(pcn.quantize(CENT, ROUND_HALF_UP)),
            "guarantees_ok": guarantees,
            "no_labor_at_all": no_labor,
            "identify": identify,
            "reasons": reasons,
            "classification": cls,
        },
        "fired": tuple(fired),
    }


def load(trace: bool = False) -> Any:
    return decide


def evaluate(state: Any, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [state(h) for h in data]


def canonical(raw: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            r["values"]["identify"],
            tuple(r["values"]["reasons"]),
            r["values"]["classification"],
            "C-1" in r["fired"],
            "D-1" in r["fired"],
        )
        for r in raw
    ]
