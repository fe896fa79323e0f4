"""Row validation in SQL: what :class:`~fanpin_rules.household.HouseholdSchema` checks beyond types.

A table in the columnar layout already has the declared types (the layout check refuses a
column of another type, a money column with more than two decimals included).  What is left
is per value: numeric bounds, enum values, list lengths (``members`` needs at least one
member), at every level of nesting.  :func:`issues_sql` gives, per row, the list of
``{field, reason}`` of every violation, with paths named as the reference names them
(``members[2].labor_skill``); a row with issues is a rejected record, never evaluated.

>>> import fanpin_rules
>>> from fanpin_rules.columnar import sql as S
>>> text = S.render(issues_sql(fanpin_rules.load_policy("examples/language_tour.policy")), "duckdb")
>>> "size" in text and "members" in text
True
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fanpin_rules import ast
from fanpin_rules.check.typecheck import type_of_ref
from fanpin_rules.columnar import sql as S
from fanpin_rules.columnar.lower import dec_lit
from fanpin_rules.model import PolicyModel
from fanpin_rules.types import T

__all__ = ["ISSUE_TYPE", "bad_sql", "issues_sql"]

ISSUE_TYPE = S.SqlType("struct", fields=(("field", S.TEXT), ("reason", S.TEXT)))
_OPS = {">=": "<", "<=": ">", ">": "<=", "<": ">="}  # the violation of each bound
_WORDS = {">=": "至少 / at least", "<=": "至多 / at most", ">": "大于 / above", "<": "小于 / below"}


def _issue(path: S.Sql, reason: str) -> S.Sql:
    return S.StructLit((("field", path), ("reason", S.Lit(reason, S.TEXT))))


def _child(path: S.Sql | None, key: str) -> S.Sql:
    if path is None:
        return S.Lit(key, S.TEXT)
    if isinstance(path, S.Lit):
        return S.Lit(f"{path.value}.{key}", S.TEXT)
    return S.Call("concat", (path, S.Lit("." + key, S.TEXT)))


def _limit(t: T, value: Decimal) -> S.Sql:
    if t.kind == "int" and value == value.to_integral_value():
        return S.Lit(int(value), S.INT)
    return dec_lit(value)


def _checks(
    model: PolicyModel, rec: ast.RecordDecl, base: S.Sql | None, path: S.Sql | None, depth: int
) -> list[S.Sql]:
    """Issue lists (each a list of ISSUE_TYPE) for the fields of one record value."""
    out: list[S.Sql] = []
    empty = S.ListLit((), ISSUE_TYPE)
    for f in rec.fields:
        raw: S.Sql = S.Col(f.key) if base is None else S.Field(base, f.key)
        fpath: S.Sql = _child(path, f.key)
        t = type_of_ref(model, f.type) or T("any")
        conds: list[tuple[S.Sql, str]] = []
        if t.kind in ("int", "money", "number"):
            for b in f.bounds:
                bad: S.Sql = S.Op(_OPS[b.op], raw, _limit(t, b.value))
                conds.append((bad, f"{_WORDS[b.op]} {b.value}"))
        if t.kind == "enum":
            values = tuple(S.Lit(m.value, S.TEXT) for m in model.enums[t.name or ""].members)
            allowed = S.ListLit(values, S.TEXT)
            conds.append(
                (
                    S.Not(S.Call("list_contains", (allowed, raw))),
                    "不是允许的取值 / not an allowed value",
                )
            )
        if t.kind == "list":
            n = S.Call("len", (raw,))
            for b in f.bounds:
                bad = S.Op(_OPS[b.op], n, S.Lit(int(b.value), S.INT))
                conds.append((bad, f"列表长度{_WORDS[b.op]} {b.value} / list length"))
            elem = t.elem or T("any")
            x, i = f"v{depth}", f"k{depth}"
            epath: S.Sql = S.Call(
                "concat",
                (fpath, S.Lit("[", S.TEXT), S.Call("to_text", (S.Idx(i),)), S.Lit("]", S.TEXT)),
            )
            inner: list[S.Sql] = []
            if elem.kind == "enum":
                values = tuple(S.Lit(m.value, S.TEXT) for m in model.enums[elem.name or ""].members)
                bad_elem = S.Not(S.Call("list_contains", (S.ListLit(values, S.TEXT), S.Var(x))))
                inner.append(
                    S.Case(
                        (
                            (
                                bad_elem,
                                S.ListLit(
                                    (_issue(epath, "不是允许的取值 / not an allowed value"),),
                                    ISSUE_TYPE,
                                ),
                            ),
                        ),
                        empty,
                    )
                )
            elif elem.kind == "record":
                inner.extend(
                    _checks(model, model.records[elem.name or ""], S.Var(x), epath, depth + 1)
                )
            if inner:
                body = _concat(inner)
                per = S.Call("flatten", (S.Call("list_transform", (raw, S.Lambda((x, i), body))),))
                out.append(S.Case(((S.IsNull(raw), empty),), per))
        if t.kind == "record":
            sub = _checks(model, model.records[t.name or ""], raw, fpath, depth)
            if sub:
                out.append(S.Case(((S.IsNull(raw), empty),), _concat(sub)))
        for bad, reason in conds:
            hit = S.Op("AND", S.IsNull(raw, True), bad)
            out.append(S.Case(((hit, S.ListLit((_issue(fpath, reason),), ISSUE_TYPE)),), empty))
    return out


def _concat(parts: list[S.Sql]) -> S.Sql:
    out = parts[0]
    for p in parts[1:]:
        out = S.Call("list_concat", (out, p))
    return out


def _bad(model: PolicyModel, rec: ast.RecordDecl, base: S.Sql | None, depth: int) -> list[S.Sql]:
    """Conditions, one per check, that hold when a field of one record value breaks it.

    The cheap counterpart of :func:`_checks`: no paths, no lists built, one lambda per list.
    """
    out: list[S.Sql] = []
    for f in rec.fields:
        raw: S.Sql = S.Col(f.key) if base is None else S.Field(base, f.key)
        t = type_of_ref(model, f.type) or T("any")
        conds: list[S.Sql] = []
        if t.kind in ("int", "money", "number"):
            conds.extend(S.Op(_OPS[b.op], raw, _limit(t, b.value)) for b in f.bounds)
        if t.kind == "enum":
            values = tuple(S.Lit(m.value, S.TEXT) for m in model.enums[t.name or ""].members)
            conds.append(S.Not(S.Call("list_contains", (S.ListLit(values, S.TEXT), raw))))
        if t.kind == "list":
            n = S.Call("len", (raw,))
            conds.extend(S.Op(_OPS[b.op], n, S.Lit(int(b.value), S.INT)) for b in f.bounds)
            elem = t.elem or T("any")
            x = f"w{depth}"
            inner: list[S.Sql] = []
            if elem.kind == "enum":
                values = tuple(S.Lit(m.value, S.TEXT) for m in model.enums[elem.name or ""].members)
                inner.append(S.Not(S.Call("list_contains", (S.ListLit(values, S.TEXT), S.Var(x)))))
            elif elem.kind == "record":
                inner.extend(_bad(model, model.records[elem.name or ""], S.Var(x), depth + 1))
            if inner:
                any_bad = S.Call("coalesce", (S.or_all(inner), S.Lit(False, S.BOOL)))
                found = S.Call("len", (S.Call("list_filter", (raw, S.Lambda((x,), any_bad))),))
                conds.append(S.Op(">", found, S.Lit(0, S.INT)))
        if t.kind == "record":
            out.extend(_bad(model, model.records[t.name or ""], raw, depth))
        out.extend(S.Op("AND", S.IsNull(raw, True), c) for c in conds)
    return out


def bad_sql(policy: Any) -> S.Sql:
    """Per row: whether it breaks any declared bound, enum or list length (never NULL)."""
    model: PolicyModel = policy.model
    assert model.root_record is not None
    parts = _bad(model, model.root_record, None, 0)
    if not parts:
        return S.Lit(False, S.BOOL)
    return S.Call("coalesce", (S.or_all(parts), S.Lit(False, S.BOOL)))


def issues_sql(policy: Any) -> S.Sql:
    """Per row: the list of ``{field, reason}`` violations (empty for a valid record)."""
    model: PolicyModel = policy.model
    assert model.root_record is not None
    parts = _checks(model, model.root_record, None, None, 0)
    return _concat(parts) if parts else S.ListLit((), ISSUE_TYPE)
