"""Formulas over finite-sorted variables and a small exact solver.

A formula is built from literals ``x ∈ S`` (S a :mod:`~fanpin_rules.analysis.values` set),
``and`` and ``or`` (negation is pushed to the literals).  Nodes are hash-consed by a
:class:`Logic` manager, so equal formulas are the same object and results can be memoised.

The solver splits a variable's sort into the regions its literals distinguish (for
``x > 8300`` and ``x <= 10000``: ``<= 8300``, ``(8300..10000]``, ``> 10000``) and searches
over them, with unit literals, independent components and memoisation; answers are *cubes*:
one set of values per variable, every combination of which satisfies the formula.

>>> from decimal import Decimal as D
>>> from fanpin_rules.analysis.values import OrderedSet
>>> lg = Logic()
>>> x = lg.var("x", "收入", OrderedSet.universe(D("0.01"), low=D(0)))
>>> f = lg.and_(lg.lit(x, OrderedSet.compare(">", D(8300), D("0.01"))),
...             lg.lit(x, OrderedSet.compare("<=", D(8300), D("0.01"))))
>>> f is lg.false
True
>>> cube = lg.sat(lg.lit(x, OrderedSet.compare(">", D(8300), D("0.01"))))
>>> cube[x].show()
'> 8300'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fanpin_rules.analysis.values import FiniteSet, ValueSet

__all__ = ["Budget", "Cube", "Logic", "Node", "Var"]


class Budget(Exception):
    """The search went past its step budget (the caller reports the item as too complex)."""


class Var:
    """A variable of the analysis.

    ``kind`` is ``input`` (a field of the household), ``derived`` (an amount computed from
    inputs), ``opaque`` (a condition or amount the analysis cannot see into), ``column``
    (the value of a table column, defined by a formula) or ``as_of``.  ``support`` names the
    inputs the value depends on; ``exact`` is false when ``universe`` may hold values the
    variable cannot take.  ``order`` lists preferred representatives (enum order).
    """

    __slots__ = ("exact", "key", "kind", "label", "order", "support", "uid", "universe")

    def __init__(
        self,
        uid: int,
        key: str,
        label: str,
        universe: ValueSet,
        kind: str,
        support: frozenset[str],
        exact: bool,
        order: tuple[Any, ...],
    ) -> None:
        self.uid = uid
        self.key = key
        self.label = label
        self.universe = universe
        self.kind = kind
        self.support = support
        self.exact = exact
        self.order = order

    def __repr__(self) -> str:
        return f"Var({self.key!r})"

    def representative(self, vals: ValueSet) -> Any:
        if isinstance(vals, FiniteSet):
            return vals.representative(self.order)
        return vals.representative()


class Node:
    """A formula node: ``T``, ``F``, ``lit`` (var ∈ vals), ``and``, ``or``."""

    __slots__ = ("kids", "kind", "uid", "vals", "var", "vars")

    def __init__(
        self,
        uid: int,
        kind: str,
        var: Var | None,
        vals: ValueSet | None,
        kids: tuple[Node, ...],
        vars_: frozenset[Var],
    ) -> None:
        self.uid = uid
        self.kind = kind
        self.var = var
        self.vals = vals
        self.kids = kids
        self.vars = vars_

    def __repr__(self) -> str:
        if self.kind in ("T", "F"):
            return self.kind
        if self.kind == "lit":
            return f"{self.var!r}∈{self.vals!r}"
        return f"{self.kind}({', '.join(map(repr, self.kids))})"


Cube = dict[Var, ValueSet]


class Logic:
    """Creates variables and formulas, and answers questions about them.

    ``budget`` bounds the number of search steps of one question.
    """

    def __init__(self, budget: int = 200_000) -> None:
        self._nodes: dict[tuple[Any, ...], Node] = {}
        self._uid = 0
        self.vars: dict[str, Var] = {}
        self.false = self._node("F", None, None, ())
        self.true = self._node("T", None, None, ())
        self._not: dict[int, Node] = {}
        self._restrict: dict[tuple[int, int, ValueSet], Node] = {}
        self._sat: dict[int, Cube | None] = {}
        self.budget = budget
        self.steps = 0

    # ------------------------------------------------------------ construction
    def _next(self) -> int:
        self._uid += 1
        return self._uid

    def _node(
        self, kind: str, var: Var | None, vals: ValueSet | None, kids: tuple[Node, ...]
    ) -> Node:
        key: tuple[Any, ...] = (kind, var.uid if var else 0, vals, tuple(k.uid for k in kids))
        found = self._nodes.get(key)
        if found is None:
            if var is not None:
                vars_: frozenset[Var] = frozenset((var,))
            elif len(kids) == 1:
                vars_ = kids[0].vars
            else:
                vars_ = frozenset().union(*(k.vars for k in kids))
            found = self._nodes[key] = Node(self._next(), kind, var, vals, kids, vars_)
        return found

    def var(
        self,
        key: str,
        label: str,
        universe: ValueSet,
        kind: str = "input",
        support: Iterable[str] | None = None,
        exact: bool = True,
        order: Sequence[Any] = (),
    ) -> Var:
        """The variable named ``key`` (created on first use)."""
        found = self.vars.get(key)
        if found is None:
            sup = frozenset(support) if support is not None else frozenset((key,))
            found = self.vars[key] = Var(
                self._next(), key, label, universe, kind, sup, exact, tuple(order)
            )
        return found

    def lit(self, var: Var, vals: ValueSet) -> Node:
        vals = vals & var.universe  # type: ignore[operator]
        if vals.empty:
            return self.false
        if (var.universe - vals).empty:  # type: ignore[operator]
            return self.true
        return self._node("lit", var, vals, ())

    def and_(self, *kids: Node) -> Node:
        return self._junction("and", kids)

    def or_(self, *kids: Node) -> Node:
        return self._junction("or", kids)

    def _junction(self, kind: str, kids: Iterable[Node]) -> Node:
        unit, zero = (self.true, self.false) if kind == "and" else (self.false, self.true)
        flat: dict[int, Node] = {}
        lits: dict[Var, ValueSet] = {}
        stack = list(kids)
        while stack:
            k = stack.pop()
            if k is zero:
                return zero
            if k is unit:
                continue
            if k.kind == kind:
                stack.extend(k.kids)
            elif k.kind == "lit":
                assert k.var is not None and k.vals is not None
                prev = lits.get(k.var)
                if prev is None:
                    lits[k.var] = k.vals
                elif kind == "and":
                    lits[k.var] = prev & k.vals  # type: ignore[operator]
                else:
                    lits[k.var] = prev | k.vals  # type: ignore[operator]
            else:
                flat[k.uid] = k
        for v, vals in lits.items():
            n = self.lit(v, vals)
            if n is zero:
                return zero
            if n is not unit:
                flat[n.uid] = n
        if not flat:
            return unit
        if len(flat) == 1:
            return next(iter(flat.values()))
        return self._node(kind, None, None, tuple(flat[u] for u in sorted(flat)))

    def not_(self, n: Node) -> Node:
        found = self._not.get(n.uid)
        if found is not None:
            return found
        if n is self.true:
            out = self.false
        elif n is self.false:
            out = self.true
        elif n.kind == "lit":
            assert n.var is not None and n.vals is not None
            out = self.lit(n.var, n.var.universe - n.vals)  # type: ignore[operator]
        elif n.kind == "and":
            out = self.or_(*(self.not_(k) for k in n.kids))
        else:
            out = self.and_(*(self.not_(k) for k in n.kids))
        self._not[n.uid] = out
        self._not[out.uid] = n
        return out

    def implies(self, a: Node, b: Node) -> Node:
        return self.or_(self.not_(a), b)

    def iff(self, a: Node, b: Node) -> Node:
        return self.and_(self.implies(a, b), self.implies(b, a))

    # ------------------------------------------------------------ restriction
    def restrict(self, n: Node, var: Var, part: ValueSet) -> Node:
        """The formula for the cases where ``var`` lies in ``part``."""
        if var not in n.vars:
            return n
        key = (n.uid, var.uid, part)
        found = self._restrict.get(key)
        if found is not None:
            return found
        self._tick()
        if n.kind == "lit":
            assert n.vals is not None
            if (part - n.vals).empty:  # type: ignore[operator]
                out = self.true
            else:
                both = part & n.vals  # type: ignore[operator]
                out = self.false if both.empty else self._node("lit", var, both, ())
        else:
            kids = [self.restrict(k, var, part) for k in n.kids]
            out = self._junction(n.kind, kids)
        self._restrict[key] = out
        return out

    def assign(self, n: Node, cube: Cube) -> Node:
        for v, vals in cube.items():
            n = self.restrict(n, v, vals)
        return n

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > self.budget:
            raise Budget

    # ------------------------------------------------------------ search
    def partition(self, n: Node, var: Var) -> list[ValueSet]:
        """The regions of ``var``'s sort that the literals of ``n`` do not tell apart."""
        sets: dict[ValueSet, None] = {}
        seen: set[int] = set()
        stack = [n]
        while stack:
            k = stack.pop()
            if k.uid in seen or var not in k.vars:
                continue
            seen.add(k.uid)
            if k.kind == "lit":
                assert k.vals is not None
                sets[k.vals] = None
            else:
                stack.extend(k.kids)
        parts: list[ValueSet] = [var.universe]
        for s in sets:
            nxt: list[ValueSet] = []
            for p in parts:
                for q in (p & s, p - s):  # type: ignore[operator]
                    if not q.empty:
                        nxt.append(q)
            parts = nxt
        return parts

    def _pick(self, n: Node) -> Var:
        counts: dict[Var, int] = {}
        seen: set[int] = set()
        stack = [n]
        while stack:
            k = stack.pop()
            if k.uid in seen:
                continue
            seen.add(k.uid)
            if k.kind == "lit":
                assert k.var is not None
                counts[k.var] = counts.get(k.var, 0) + 1
            else:
                stack.extend(k.kids)
        return max(counts, key=lambda v: (counts[v], -v.uid))

    def sat(self, n: Node) -> Cube | None:
        """A cube of cases where ``n`` holds, or None when it never holds."""
        if n is self.true:
            return {}
        if n is self.false:
            return None
        if n.uid in self._sat:
            found = self._sat[n.uid]
            return None if found is None else dict(found)
        self._tick()
        result: Cube | None = None
        if n.kind == "lit":
            assert n.var is not None and n.vals is not None
            result = {n.var: n.vals}
        elif n.kind == "or":
            for k in n.kids:
                result = self.sat(k)
                if result is not None:
                    break
        else:
            result = self._sat_and(n)
        self._sat[n.uid] = result
        return None if result is None else dict(result)

    def _sat_and(self, n: Node) -> Cube | None:
        units = [k for k in n.kids if k.kind == "lit"]
        if units:
            rest = n
            cube: Cube = {}
            for u in units:
                assert u.var is not None and u.vals is not None
                rest = self.restrict(rest, u.var, u.vals)
                cube[u.var] = u.vals
            found = self.sat(rest)
            if found is None:
                return None
            cube.update(found)
            return cube
        groups = _components(n.kids)
        if len(groups) > 1:
            cube = {}
            for g in groups:
                found = self.sat(self.and_(*g))
                if found is None:
                    return None
                cube.update(found)
            return cube
        var = self._pick(n)
        for part in self.partition(n, var):
            found = self.sat(self.restrict(n, var, part))
            if found is not None:
                found[var] = part
                return found
        return None

    def evaluate(self, n: Node, env: Mapping[Var, Any]) -> bool:
        """The truth of ``n`` when every variable has the value ``env`` gives it.

        >>> from fanpin_rules.analysis.values import FiniteSet
        >>> lg = Logic()
        >>> b = lg.var("b", "b", FiniteSet(frozenset({True, False})))
        >>> lg.evaluate(lg.lit(b, FiniteSet(frozenset({True}))), {b: False})
        False
        """
        if n is self.true or n is self.false:
            return n is self.true
        if n.kind == "lit":
            assert n.var is not None and n.vals is not None
            return n.vals.contains(env[n.var])
        results = (self.evaluate(k, env) for k in n.kids)
        return all(results) if n.kind == "and" else any(results)

    def valid(self, n: Node) -> bool:
        """Whether ``n`` holds in every case."""
        return self.sat(self.not_(n)) is None

    def forall(self, n: Node, variables: Iterable[Var]) -> Node:
        """``n`` for every value of ``variables`` (they no longer occur in the result)."""
        for v in variables:
            if v in n.vars:
                n = self.and_(*(self.restrict(n, v, p) for p in self.partition(n, v)))
        return n

    def project(self, n: Node, onto: Sequence[Var], limit: int = 200) -> list[tuple[Cube, Cube]]:
        """Disjoint cubes over ``onto`` for which ``n`` can hold, each with a witness cube.

        Raises :class:`Budget` past ``limit`` cubes.
        """
        out: list[tuple[Cube, Cube]] = []

        def walk(m: Node, prefix: Cube) -> None:
            if m is self.false:
                return
            free = [v for v in onto if v in m.vars]
            if not free:
                w = self.sat(m)
                if w is not None:
                    out.append((dict(prefix), {**prefix, **w}))
                    if len(out) > limit:
                        raise Budget
                return
            var = free[0]
            for part in self.partition(m, var):
                walk(self.restrict(m, var, part), {**prefix, var: part})

        walk(n, {})
        return out


def _components(kids: Sequence[Node]) -> list[list[Node]]:
    """Groups of conjuncts that share no variable."""
    parent = list(range(len(kids)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[Var, int] = {}
    for i, k in enumerate(kids):
        for v in k.vars:
            j = owner.setdefault(v, i)
            if j != i:
                parent[find(i)] = find(j)
    groups: dict[int, list[Node]] = {}
    for i, k in enumerate(kids):
        groups.setdefault(find(i), []).append(k)
    return list(groups.values())


def merge_cubes(cubes: Sequence[Cube]) -> list[Cube]:
    """Unite cubes that differ in one variable only (a shorter, readable cover).

    A variable whose set becomes its whole sort is dropped (any value).
    """
    items = [dict(c) for c in cubes]
    changed = True
    while changed:
        changed = False
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                a, b = items[i], items[j]
                if a.keys() != b.keys():
                    continue
                diff = [v for v in a if a[v] != b[v]]
                if len(diff) != 1:
                    continue
                v = diff[0]
                joined = a[v] | b[v]  # type: ignore[operator]
                merged = dict(a)
                if (v.universe - joined).empty:  # type: ignore[operator]
                    del merged[v]
                else:
                    merged[v] = joined
                items[i] = merged
                del items[j]
                changed = True
                break
            if changed:
                break
    return items
