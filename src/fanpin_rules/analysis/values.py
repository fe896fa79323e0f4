"""Sets of values of one variable: the vocabulary of the analysis.

Every variable of the analysis (an input field, a derived amount, a condition the analysis
cannot see into) ranges over a *sort*; a literal of a formula says "the variable's value lies
in this set".  Three kinds of sets cover the language:

* :class:`FiniteSet` — booleans and enums (and ``ABSENT`` for an optional input not given);
* :class:`OrderedSet` — numbers, money and dates as unions of intervals, exact for a step
  (``int`` and dates: 1, money: 0.01) or dense (``number``);
* :class:`TextSet` — free text: named strings, "any other non-blank text", blank text.

Every set knows whether it is empty, how to intersect, unite and subtract, and one
representative value (used for counterexamples).  Dates are handled as day numbers.

>>> from decimal import Decimal as D
>>> money = OrderedSet.universe(step=D("0.01"), low=D(0))
>>> above = OrderedSet.compare(">", D(8300), step=D("0.01"))
>>> (money & above).representative()
Decimal('8300.01')
>>> (money - above).show()
'[0..8300]'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import attrs

from fanpin_rules.values import ABSENT

__all__ = ["FiniteSet", "Interval", "OrderedSet", "TextSet", "ValueSet", "from_day", "to_day"]

_EPOCH = dt.date(1, 1, 1)


def to_day(d: dt.date) -> Decimal:
    """A date as a day number (dates are ordered sets with step 1)."""
    return Decimal((d - _EPOCH).days)


def from_day(n: Decimal) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(n))


# ---------------------------------------------------------------- finite


@attrs.frozen
class FiniteSet:
    """A set of values of a finite sort (``True``/``False``, enum values, ``ABSENT``)."""

    values: frozenset[Any]

    def __and__(self, other: FiniteSet) -> FiniteSet:
        return FiniteSet(self.values & other.values)

    def __or__(self, other: FiniteSet) -> FiniteSet:
        return FiniteSet(self.values | other.values)

    def __sub__(self, other: FiniteSet) -> FiniteSet:
        return FiniteSet(self.values - other.values)

    @property
    def empty(self) -> bool:
        return not self.values

    def contains(self, v: Any) -> bool:
        return v in self.values

    @property
    def has_absent(self) -> bool:
        return ABSENT in self.values

    def representative(self, order: Iterable[Any] = ()) -> Any:
        for v in order:
            if v in self.values:
                return v
        return sorted(self.values, key=repr)[0]


# ---------------------------------------------------------------- ordered


@attrs.frozen(order=False)
class Interval:
    """From ``lo`` to ``hi`` (None: unbounded); ``lo_in``/``hi_in``: the end is included."""

    lo: Decimal | None
    lo_in: bool
    hi: Decimal | None
    hi_in: bool

    def show(self, date: bool = False) -> str:
        def v(x: Decimal) -> str:
            return from_day(x).isoformat() if date else _num(x)

        if self.lo is not None and self.hi is not None and self.lo == self.hi:
            return v(self.lo)
        if self.lo is None and self.hi is None:
            return "-"
        if self.lo is None:
            assert self.hi is not None
            return f"{'<=' if self.hi_in else '<'} {v(self.hi)}"
        if self.hi is None:
            return f"{'>=' if self.lo_in else '>'} {v(self.lo)}"
        return f"{'[' if self.lo_in else '('}{v(self.lo)}..{v(self.hi)}{']' if self.hi_in else ')'}"


def _num(x: Decimal) -> str:
    text = format(x.normalize(), "f") if x != 0 else "0"
    return text


def _lo_key(i: Interval) -> tuple[int, Decimal, int]:
    if i.lo is None:
        return (0, Decimal(0), 0)
    return (1, i.lo, 0 if i.lo_in else 1)


@attrs.frozen
class OrderedSet:
    """A union of disjoint intervals (sorted, merged), maybe with ``ABSENT``.

    ``step`` is the spacing of the possible values (1 for whole numbers and dates, 0.01 for
    money), or None for dense numbers; with a step, every interval is stored closed on its
    finite ends, at multiples of the step, so emptiness is exact.
    """

    intervals: tuple[Interval, ...]
    step: Decimal | None
    absent: bool = False
    date: bool = False

    # ------------------------------------------------------------ construction
    @classmethod
    def make(
        cls,
        intervals: Iterable[Interval],
        step: Decimal | None,
        absent: bool = False,
        date: bool = False,
    ) -> OrderedSet:
        return cls(_normalize(intervals, step), step, absent, date)

    @classmethod
    def universe(
        cls,
        step: Decimal | None,
        low: Decimal | None = None,
        high: Decimal | None = None,
        absent: bool = False,
        date: bool = False,
        low_in: bool = True,
        high_in: bool = True,
    ) -> OrderedSet:
        return cls.make([Interval(low, low_in, high, high_in)], step, absent, date)

    @classmethod
    def compare(cls, op: str, c: Decimal, step: Decimal | None, date: bool = False) -> OrderedSet:
        """The values v with ``v op c`` (ABSENT never compares true).

        >>> OrderedSet.compare("!=", Decimal(3), Decimal(1)).show()
        '<= 2, >= 4'
        """
        ivs = {
            "<": [Interval(None, False, c, False)],
            "<=": [Interval(None, False, c, True)],
            ">": [Interval(c, False, None, False)],
            ">=": [Interval(c, True, None, False)],
            "=": [Interval(c, True, c, True)],
            "!=": [Interval(None, False, c, False), Interval(c, False, None, False)],
        }[op]
        return cls.make(ivs, step, False, date)

    # ------------------------------------------------------------ algebra
    def _with(self, intervals: Iterable[Interval], absent: bool) -> OrderedSet:
        return OrderedSet.make(intervals, self.step, absent, self.date)

    def __and__(self, other: OrderedSet) -> OrderedSet:
        out = [x for a in self.intervals for b in other.intervals if (x := _meet(a, b)) is not None]
        return self._with(out, self.absent and other.absent)

    def __or__(self, other: OrderedSet) -> OrderedSet:
        return self._with(self.intervals + other.intervals, self.absent or other.absent)

    def __sub__(self, other: OrderedSet) -> OrderedSet:
        comp = _complement(other.intervals, self.step)
        return self & OrderedSet.make(comp, self.step, not other.absent, self.date)

    @property
    def empty(self) -> bool:
        return not self.intervals and not self.absent

    def contains(self, v: Any) -> bool:
        """Whether a value (a number, a date, or ABSENT) is in the set.

        >>> OrderedSet.compare("<", Decimal(5), Decimal(1)).contains(5)
        False
        """
        if v is ABSENT:
            return self.absent
        x = to_day(v) if isinstance(v, dt.date) else Decimal(v)
        for i in self.intervals:
            above = i.lo is None or x > i.lo or (x == i.lo and i.lo_in)
            below = i.hi is None or x < i.hi or (x == i.hi and i.hi_in)
            if above and below:
                return True
        return False

    @property
    def has_absent(self) -> bool:
        return self.absent

    def representative(self) -> Any:
        """A value of the set: the lowest one when there is a lowest, else a nearby one."""
        if not self.intervals:
            return ABSENT
        i = self.intervals[0]
        if i.lo is not None and i.hi is not None and i.lo == i.hi:
            v = i.lo
        elif i.lo is not None:
            if i.lo_in:
                v = i.lo
            elif i.hi is not None:
                v = (i.lo + i.hi) / 2
            else:
                v = i.lo + 1
        elif i.hi is not None:
            v = i.hi if i.hi_in else i.hi - 1
        else:
            v = Decimal(0)
        if self.date:
            return from_day(v)
        return v

    def show(self) -> str:
        """As the cells of a decision table: ``> 8300``, ``[0..8300]``, ``<= 2, >= 4``."""
        parts = [_display(i, self.step).show(self.date) for i in self.intervals]
        if self.absent:
            parts.append("absent")
        return ", ".join(parts)


def _display(i: Interval, step: Decimal | None) -> Interval:
    """Closed ends at a step shown open when that reads better: 8300.01.. as > 8300."""
    if step is None or step >= 1:
        return i
    lo, lo_in, hi, hi_in = i.lo, i.lo_in, i.hi, i.hi_in
    if lo is not None and hi != lo and _shorter(lo - step, lo):
        lo, lo_in = lo - step, False
    if hi is not None and hi != i.lo and _shorter(hi + step, hi):
        hi, hi_in = hi + step, False
    return Interval(lo, lo_in, hi, hi_in)


def _shorter(a: Decimal, b: Decimal) -> bool:
    return len(_num(a)) < len(_num(b))


def _meet(a: Interval, b: Interval) -> Interval | None:
    if a.lo is None:
        lo, lo_in = b.lo, b.lo_in
    elif b.lo is None or a.lo > b.lo:
        lo, lo_in = a.lo, a.lo_in
    elif b.lo > a.lo:
        lo, lo_in = b.lo, b.lo_in
    else:
        lo, lo_in = a.lo, a.lo_in and b.lo_in
    if a.hi is None:
        hi, hi_in = b.hi, b.hi_in
    elif b.hi is None or a.hi < b.hi:
        hi, hi_in = a.hi, a.hi_in
    elif b.hi < a.hi:
        hi, hi_in = b.hi, b.hi_in
    else:
        hi, hi_in = a.hi, a.hi_in and b.hi_in
    if lo is not None and hi is not None and (lo > hi or (lo == hi and not (lo_in and hi_in))):
        return None
    return Interval(lo, lo_in, hi, hi_in)


def _snap(i: Interval, step: Decimal) -> Interval | None:
    lo, hi = i.lo, i.hi
    if lo is not None:
        q = (lo / step).to_integral_value(ROUND_CEILING)
        if q * step == lo and not i.lo_in:
            q += 1
        lo = q * step
    if hi is not None:
        q = (hi / step).to_integral_value(ROUND_FLOOR)
        if q * step == hi and not i.hi_in:
            q -= 1
        hi = q * step
    if lo is not None and hi is not None and lo > hi:
        return None
    return Interval(lo, lo is not None, hi, hi is not None)


def _normalize(intervals: Iterable[Interval], step: Decimal | None) -> tuple[Interval, ...]:
    items: list[Interval] = []
    for i in intervals:
        j = _snap(i, step) if step is not None else _meet(i, i)
        if j is not None:
            items.append(j)
    items.sort(key=_lo_key)
    out: list[Interval] = []
    for i in items:
        if out and _touches(out[-1], i, step):
            last = out[-1]
            if last.hi is None or (i.hi is not None and i.hi < last.hi):
                continue
            hi_in = (
                i.hi_in
                if (last.hi is None or i.hi is None or i.hi > last.hi)
                else (i.hi_in or last.hi_in)
            )
            out[-1] = Interval(last.lo, last.lo_in, i.hi, hi_in)
        else:
            out.append(i)
    return tuple(out)


def _touches(a: Interval, b: Interval, step: Decimal | None) -> bool:
    """Whether b (which starts at or after a) overlaps a or continues it without a hole."""
    if a.hi is None or b.lo is None:
        return True
    if step is not None:
        return b.lo <= a.hi + step
    if b.lo < a.hi:
        return True
    return b.lo == a.hi and (a.hi_in or b.lo_in)


def _complement(intervals: tuple[Interval, ...], step: Decimal | None) -> list[Interval]:
    """The gaps between normalized intervals, over all numbers."""
    out: list[Interval] = []
    lo: Decimal | None = None
    lo_in = False
    for i in intervals:
        if i.lo is not None:
            if step is not None:
                out.append(Interval(lo, True, i.lo - step, True))
            else:
                out.append(Interval(lo, lo_in, i.lo, not i.lo_in))
        if i.hi is None:
            return out
        lo, lo_in = (i.hi + step, True) if step is not None else (i.hi, not i.hi_in)
    out.append(Interval(lo, lo_in, None, False))
    return out


# ---------------------------------------------------------------- text


@attrs.frozen
class TextSet:
    """A set of texts: listed strings in or out, other non-blank text, other blank text.

    ``members`` are in the set, ``non_members`` are not; every other non-blank string is in
    the set when ``other_text``, every other blank string ("", "  ") when ``other_blank``.

    >>> note = TextSet.constant("已研判")
    >>> (TextSet.anything() - note).representative()
    '其他文字'
    """

    members: frozenset[str] = frozenset()
    non_members: frozenset[str] = frozenset()
    other_text: bool = False
    other_blank: bool = False
    absent: bool = False

    @classmethod
    def anything(cls, absent: bool = False) -> TextSet:
        return cls(frozenset(), frozenset(), True, True, absent)

    @classmethod
    def constant(cls, *values: str) -> TextSet:
        return cls(frozenset(values))

    @classmethod
    def blank(cls) -> TextSet:
        """Blank text and ABSENT: what ``is empty`` accepts."""
        return cls(frozenset(), frozenset(), False, True, True)

    def contains(self, s: Any) -> bool:
        if s is ABSENT:
            return self.absent
        if s in self.members:
            return True
        if s in self.non_members:
            return False
        return self.other_blank if s.strip() == "" else self.other_text

    def _combine(self, other: TextSet, op: Any) -> TextSet:
        known = self.members | self.non_members | other.members | other.non_members
        inside = {s for s in known if op(self.contains(s), other.contains(s))}
        text = op(self.other_text, other.other_text)
        blank = op(self.other_blank, other.other_blank)
        absent = op(self.absent, other.absent)
        members = frozenset(
            s for s in inside if (s.strip() == "" and not blank) or (s.strip() != "" and not text)
        )
        non_members = frozenset(
            s for s in known - inside if (s.strip() == "" and blank) or (s.strip() != "" and text)
        )
        return TextSet(members, non_members, text, blank, absent)

    def __and__(self, other: TextSet) -> TextSet:
        return self._combine(other, lambda a, b: a and b)

    def __or__(self, other: TextSet) -> TextSet:
        return self._combine(other, lambda a, b: a or b)

    def __sub__(self, other: TextSet) -> TextSet:
        return self._combine(other, lambda a, b: a and not b)

    @property
    def empty(self) -> bool:
        return not (self.members or self.other_text or self.other_blank or self.absent)

    @property
    def has_absent(self) -> bool:
        return self.absent

    def representative(self) -> Any:
        if self.members:
            return sorted(self.members)[0]
        if self.other_text:
            for i in range(len(self.non_members) + 1):
                s = "其他文字" + ("" if i == 0 else str(i))
                if s not in self.non_members:
                    return s
        if self.other_blank:
            for n in range(len(self.non_members) + 1):
                if " " * n not in self.non_members:
                    return " " * n
        return ABSENT


ValueSet = FiniteSet | OrderedSet | TextSet
