"""A small SQL expression IR and its two renderings: DuckDB and Spark SQL.

The lowering (:mod:`fanpin_rules.columnar.lower`) builds these nodes; :func:`render` prints
them for one dialect.  Only the spelling differs between the dialects (list functions,
lambdas, literals, identifier quoting); the meaning of every node is fixed here, so the two
engines evaluate the same expressions.

>>> render(Op("*", Op("+", Col("a"), Lit(1, INT)), Col("b")), "duckdb")
'("a" + CAST(1 AS BIGINT)) * "b"'
>>> render(Call("list_transform", (Col("xs"), Lambda(("x", "i"), Op("+", Var("x"), Idx("i"))))),
...        "spark")
'transform(`xs`, (x, i) -> x + i)'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Literal

import attrs

__all__ = [
    "BOOL",
    "DATE",
    "INT",
    "TEXT",
    "Agg",
    "Call",
    "Case",
    "Cast",
    "Col",
    "Dialect",
    "Field",
    "Idx",
    "IsNull",
    "Lambda",
    "ListLit",
    "Lit",
    "Not",
    "Null",
    "Op",
    "SqlType",
    "StructLit",
    "Var",
    "decimal",
    "list_of",
    "render",
    "render_type",
]

Dialect = Literal["duckdb", "spark"]


# ---------------------------------------------------------------- types


@attrs.frozen
class SqlType:
    """``kind`` is bigint, bool, date, text, decimal, list or struct."""

    kind: str
    precision: int = 0
    scale: int = 0
    elem: SqlType | None = None
    fields: tuple[tuple[str, SqlType], ...] = ()


INT = SqlType("bigint")
BOOL = SqlType("bool")
DATE = SqlType("date")
TEXT = SqlType("text")


def decimal(scale: int, precision: int = 38) -> SqlType:
    return SqlType("decimal", precision, scale)


def list_of(elem: SqlType) -> SqlType:
    return SqlType("list", elem=elem)


def render_type(t: SqlType, dialect: Dialect) -> str:
    """The type in the dialect's spelling.

    >>> render_type(list_of(decimal(2, 18)), "spark")
    'ARRAY<DECIMAL(18,2)>'
    """
    if t.kind == "decimal":
        return f"DECIMAL({t.precision},{t.scale})"
    if t.kind == "list":
        assert t.elem is not None
        inner = render_type(t.elem, dialect)
        return f"ARRAY<{inner}>" if dialect == "spark" else f"{inner}[]"
    if t.kind == "struct":
        if dialect == "spark":
            body = ", ".join(f"{quote(n, dialect)}: {render_type(f, dialect)}" for n, f in t.fields)
            return f"STRUCT<{body}>"
        body = ", ".join(f"{quote(n, dialect)} {render_type(f, dialect)}" for n, f in t.fields)
        return f"STRUCT({body})"
    names = {
        "duckdb": {"bigint": "BIGINT", "bool": "BOOLEAN", "date": "DATE", "text": "VARCHAR"},
        "spark": {"bigint": "BIGINT", "bool": "BOOLEAN", "date": "DATE", "text": "STRING"},
    }
    return names[dialect][t.kind]


# ---------------------------------------------------------------- nodes


@attrs.frozen
class Col:
    """A column of the current row (input or computed by an earlier stage)."""

    name: str


@attrs.frozen
class Var:
    """A lambda parameter (a list element)."""

    name: str


@attrs.frozen
class Idx:
    """A lambda's element index, 0-based in every dialect."""

    name: str


@attrs.frozen
class Field:
    """A field of a struct value."""

    obj: Sql
    name: str


@attrs.frozen
class Lit:
    value: bool | int | Decimal | str | dt.date
    type: SqlType


@attrs.frozen
class Null:
    type: SqlType | None = None


@attrs.frozen
class Op:
    """A binary operator: AND OR = <> < <= > >= + - *."""

    op: str
    left: Sql
    right: Sql


@attrs.frozen
class Not:
    operand: Sql


@attrs.frozen
class IsNull:
    operand: Sql
    negated: bool = False


@attrs.frozen
class Case:
    whens: tuple[tuple[Sql, Sql], ...]
    else_: Sql | None = None


@attrs.frozen
class Cast:
    operand: Sql
    type: SqlType


@attrs.frozen
class Lambda:
    params: tuple[str, ...]
    body: Sql


@attrs.frozen
class ListLit:
    items: tuple[Sql, ...]
    elem: SqlType


@attrs.frozen
class StructLit:
    fields: tuple[tuple[str, Sql], ...]


@attrs.frozen
class Agg:
    """An aggregate of a GROUP BY: count(*) / sum / min / max / list, with a FILTER."""

    func: str
    arg: Sql | None
    filter: Sql | None = None


@attrs.frozen
class Call:
    """A function from the fixed vocabulary of :data:`FUNCTIONS`."""

    func: str
    args: tuple[Sql, ...]


Sql = (
    Col
    | Var
    | Idx
    | Field
    | Lit
    | Null
    | Op
    | Not
    | IsNull
    | Case
    | Cast
    | Lambda
    | ListLit
    | StructLit
    | Call
    | Agg
)

# Every function the lowering may use, with its meaning (both dialects implement exactly this).
FUNCTIONS: dict[str, str] = {
    "len": "number of elements of a non-null list",
    "list_filter": "elements for which the lambda is true (x, i)",
    "list_transform": "the lambda applied to each element (x, i)",
    "list_contains": "whether the list holds the (non-null) value",
    "list_has_all": "whether the first list holds every element of the second",
    "list_concat": "concatenation of two non-null lists",
    "list_distinct": "the distinct elements, in any order",
    "list_sort": "ascending sort (strings by code point)",
    "list_intersect": "distinct elements present in both lists",
    "list_union": "distinct elements present in either list",
    "flatten": "concatenation of a list of non-null lists",
    "list_min": "smallest non-null element, NULL when none",
    "list_max": "largest non-null element, NULL when none",
    "coalesce": "first non-null argument",
    "greatest": "largest argument (no nulls)",
    "least": "smallest argument (no nulls)",
    "abs": "absolute value",
    "round": "round half away from zero to a literal number of decimals",
    "year": "year of a date",
    "month": "month of a date",
    "day": "day of month of a date",
    "trim_ws": "the text without leading/trailing whitespace (Python str.strip's set)",
    "concat": "text concatenation",
    "error": "abort the query with the literal message",
    "idiv": "integer quotient of two non-negative integral values (truncated)",
    "to_integer": "an integral decimal as an exact integer (128-bit / DECIMAL(38,0))",
    "to_int64": "an integral decimal as an exact 64-bit integer (stops the query if too big)",
    "to_text": "a number as text",
    "list_sum": "sum of a list's elements, typed as the zero given (the zero when empty)",
    "present_texts": "the non-NULL texts among the arguments, in order (texts without chr(31))",
}

# Python's str.strip() removes exactly the characters for which str.isspace() is true.
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


# ---------------------------------------------------------------- rendering


def quote(name: str, dialect: Dialect) -> str:
    if dialect == "spark":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def _string(text: str, dialect: Dialect) -> str:
    if dialect == "spark":
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + text.replace("'", "''") + "'"


def _literal(value: bool | int | Decimal | str | dt.date, t: SqlType, dialect: Dialect) -> str:
    if t.kind == "bool":
        return "TRUE" if value else "FALSE"
    if t.kind == "date":
        assert isinstance(value, dt.date)
        return f"DATE '{value.isoformat()}'"
    if t.kind == "text":
        return _string(str(value), dialect)
    if t.kind == "decimal":
        assert isinstance(value, Decimal | int)
        return f"CAST('{format(Decimal(value), 'f')}' AS {render_type(t, dialect)})"
    assert isinstance(value, int)
    return f"CAST({value} AS {render_type(t, dialect)})"


# Operator precedence, the same in DuckDB and Spark SQL (higher binds tighter).
_PRECEDENCE = {
    "OR": 1,
    "AND": 2,
    "NOT": 3,
    "IS": 4,
    "=": 5,
    "<>": 5,
    "<": 5,
    "<=": 5,
    ">": 5,
    ">=": 5,
    "+": 6,
    "-": 6,
    "*": 7,
    "//": 7,
}
_ASSOCIATIVE = {"OR", "AND", "+", "*"}
_ATOM = 10


def _precedence(e: Sql) -> int:
    if isinstance(e, Op):
        return _PRECEDENCE[e.op]
    if isinstance(e, Not):
        return _PRECEDENCE["NOT"]
    if isinstance(e, IsNull):
        return _PRECEDENCE["IS"]
    return _ATOM  # literals, columns, CASE, CAST and calls


# functions spelled the same way in both dialects, then each dialect's own spellings
_SAME_NAME = {
    "flatten": "flatten",
    "coalesce": "coalesce",
    "greatest": "greatest",
    "least": "least",
    "abs": "abs",
    "round": "round",
    "year": "year",
    "month": "month",
    "day": "day",
}
_DUCKDB_NAMES = {
    "len": "len",
    "list_filter": "list_filter",
    "list_transform": "list_transform",
    "list_contains": "list_contains",
    "list_has_all": "list_has_all",
    "list_concat": "list_concat",
    "list_distinct": "list_distinct",
    "list_sort": "list_sort",
    "list_min": "list_min",
    "list_max": "list_max",
    "error": "error",
    **_SAME_NAME,
}
_SPARK_NAMES = {
    "len": "size",
    "list_filter": "filter",
    "list_transform": "transform",
    "list_contains": "array_contains",
    "list_concat": "concat",
    "list_distinct": "array_distinct",
    "list_sort": "array_sort",
    "list_intersect": "array_intersect",
    "list_union": "array_union",
    "list_min": "array_min",
    "list_max": "array_max",
    "error": "raise_error",
    **_SAME_NAME,
}


class _Renderer:
    def __init__(self, dialect: Dialect) -> None:
        self.d: Dialect = dialect

    def r(self, e: Sql) -> str:
        d = self.d
        if isinstance(e, Col):
            return quote(e.name, d)
        if isinstance(e, Var):
            return e.name
        if isinstance(e, Idx):
            # DuckDB's lambda index is 1-based; the IR's is 0-based
            return f"({e.name} - 1)" if d == "duckdb" else e.name
        if isinstance(e, Field):
            return f"{self.r(e.obj)}.{quote(e.name, d)}"
        if isinstance(e, Lit):
            return _literal(e.value, e.type, d)
        if isinstance(e, Null):
            return "NULL" if e.type is None else f"CAST(NULL AS {render_type(e.type, d)})"
        if isinstance(e, Op):
            p = _PRECEDENCE[e.op]
            # left-associative: the right operand needs parentheses at equal precedence
            # unless the operator is associative (few parentheses keep Spark's parser fast)
            left = self.child(e.left, p if p != _PRECEDENCE["="] else p + 1)
            right = self.child(e.right, p if e.op in _ASSOCIATIVE else p + 1)
            return f"{left} {e.op} {right}"
        if isinstance(e, Not):
            return f"NOT {self.child(e.operand, _PRECEDENCE['NOT'])}"
        if isinstance(e, IsNull):
            operand = self.child(e.operand, _ATOM)
            return f"{operand} IS {'NOT ' if e.negated else ''}NULL"
        if isinstance(e, Case):
            parts = " ".join(f"WHEN {self.r(c)} THEN {self.r(v)}" for c, v in e.whens)
            tail = f" ELSE {self.r(e.else_)}" if e.else_ is not None else ""
            return f"(CASE {parts}{tail} END)"
        if isinstance(e, Cast):
            return f"CAST({self.r(e.operand)} AS {render_type(e.type, d)})"
        if isinstance(e, Lambda):
            if d == "duckdb":
                return f"lambda {', '.join(e.params)}: {self.r(e.body)}"
            params = e.params[0] if len(e.params) == 1 else "(" + ", ".join(e.params) + ")"
            return f"{params} -> {self.r(e.body)}"
        if isinstance(e, ListLit):
            if not e.items:
                empty = "array()" if d == "spark" else "[]"
                return f"CAST({empty} AS {render_type(list_of(e.elem), d)})"
            items = ", ".join(self.r(i) for i in e.items)
            return f"array({items})" if d == "spark" else f"[{items}]"
        if isinstance(e, StructLit):
            if d == "spark":
                return (
                    "named_struct("
                    + ", ".join(f"{_string(n, d)}, {self.r(v)}" for n, v in e.fields)
                    + ")"
                )
            return (
                "struct_pack("
                + ", ".join(f"{quote(n, d)} := {self.r(v)}" for n, v in e.fields)
                + ")"
            )
        if isinstance(e, Agg):
            names = {"list": "list" if d == "duckdb" else "collect_list"}
            arg = "*" if e.arg is None else self.r(e.arg)
            where = f" FILTER (WHERE {self.r(e.filter)})" if e.filter is not None else ""
            return f"{names.get(e.func, e.func)}({arg}){where}"
        return self.call(e)

    def child(self, e: Sql, parent: int) -> str:
        """e rendered as an operand of an operator of precedence ``parent``."""
        text = self.r(e)
        return f"({text})" if _precedence(e) < parent else text

    def _type_of(self, e: Sql) -> str:
        """The declared type of a literal or cast (used where a dialect needs it)."""
        if isinstance(e, Lit | Cast):
            return render_type(e.type, self.d)
        raise AssertionError(f"no declared type: {e!r}")

    def call(self, e: Call) -> str:
        d = self.d
        a = [self.r(x) for x in e.args]
        # operands of the infix spellings (//, div, ||) are parenthesised unless atoms
        ap = [f"({t})" if _precedence(x) < _ATOM else t for x, t in zip(e.args, a, strict=True)]
        f = e.func
        if f not in FUNCTIONS:
            raise AssertionError(f"unknown SQL function {f}")
        if d == "duckdb":
            simple = _DUCKDB_NAMES
            if f in simple:
                return f"{simple[f]}({', '.join(a)})"
            if f == "list_intersect":
                return f"list_distinct(list_intersect({a[0]}, {a[1]}))"
            if f == "list_union":
                return f"list_distinct(list_concat({a[0]}, {a[1]}))"
            if f == "trim_ws":
                return f"trim({a[0]}, {_string(WHITESPACE, d)})"
            if f == "concat":
                return "(" + " || ".join(ap) + ")"
            if f == "idiv":
                return f"({ap[0]} // {ap[1]})"
            if f == "to_integer":
                return f"CAST({a[0]} AS HUGEINT)"
            if f == "to_int64":
                return f"CAST({a[0]} AS BIGINT)"
            if f == "to_text":
                return f"CAST({a[0]} AS VARCHAR)"
            if f == "list_sum":
                return f"CAST(coalesce(list_sum({a[0]}), {a[1]}) AS {self._type_of(e.args[1])})"
            if f == "present_texts":
                # concat_ws skips NULLs: no lambda, which is several times faster
                joined = f"concat_ws(chr(31), {', '.join(a)})"
                return (
                    f"coalesce(string_split(nullif({joined}, ''), chr(31)), CAST([] AS VARCHAR[]))"
                )
        else:
            simple = _SPARK_NAMES
            if f in simple:
                return f"{simple[f]}({', '.join(a)})"
            if f == "list_has_all":
                return f"(size(array_except({a[1]}, {a[0]})) = 0)"
            if f == "trim_ws":
                return f"trim(BOTH {_string(WHITESPACE, d)} FROM {a[0]})"
            if f == "concat":
                return f"concat({', '.join(a)})"
            if f == "idiv":
                return f"CAST(({ap[0]} div {ap[1]}) AS DECIMAL(38,0))"
            if f == "to_integer":
                return f"CAST({a[0]} AS DECIMAL(38,0))"
            if f == "to_int64":
                return f"CAST({a[0]} AS BIGINT)"
            if f == "to_text":
                return f"CAST({a[0]} AS STRING)"
            if f == "list_sum":
                t = self._type_of(e.args[1])
                return f"aggregate({a[0]}, {a[1]}, (acc, y) -> CAST(acc + y AS {t}))"
            if f == "present_texts":
                joined = f"concat_ws(chr(31), {', '.join(a)})"
                empty = "CAST(array() AS ARRAY<STRING>)"
                return f"coalesce(split(nullif({joined}, ''), chr(31)), {empty})"
        raise AssertionError(f"{f} has no {d} spelling")


def render(e: Sql, dialect: Dialect) -> str:
    """The expression as SQL text of the dialect."""
    return _Renderer(dialect).r(e)


def transform(e: Sql, fn: Callable[[Sql], Sql | None]) -> Sql:
    """e with every node for which ``fn`` returns a replacement replaced (bottom-up otherwise).

    >>> transform(Op("+", Idx("i"), Col("a")), lambda n: Var("i") if n == Idx("i") else None)
    Op(op='+', left=Var(name='i'), right=Col(name='a'))
    """
    found = fn(e)
    if found is not None:
        return found
    changes: dict[str, object] = {}
    for a in attrs.fields(type(e)):
        value = getattr(e, a.name)
        new = _transform_value(value, fn)
        if new is not value:
            changes[a.name] = new
    return attrs.evolve(e, **changes) if changes else e  # type: ignore[arg-type]


def _transform_value(value: object, fn: Callable[[Sql], Sql | None]) -> object:
    if attrs.has(type(value)) and not isinstance(value, SqlType):
        return transform(value, fn)  # type: ignore[arg-type]
    if isinstance(value, tuple):
        items = tuple(_transform_value(v, fn) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def contains(e: Sql, pred: Callable[[Sql], bool]) -> bool:
    """Whether some node of e satisfies ``pred``."""
    hit = False

    def look(n: Sql) -> Sql | None:
        nonlocal hit
        if pred(n):
            hit = True
        return None

    transform(e, look)
    return hit


def and_all(items: Sequence[Sql]) -> Sql:
    out = items[0]
    for x in items[1:]:
        out = Op("AND", out, x)
    return out


def or_all(items: Sequence[Sql]) -> Sql:
    out = items[0]
    for x in items[1:]:
        out = Op("OR", out, x)
    return out


def _is_bool_lit(e: Sql, value: bool) -> bool:
    return isinstance(e, Lit) and e.type.kind == "bool" and e.value is value


def simplify(e: Sql) -> Sql:
    """e with boolean identities removed, bottom-up; the value is the same on every row.

    ``x = TRUE`` is ``x`` and ``x = FALSE`` is ``NOT x`` for a boolean ``x`` (also when ``x``
    is NULL); ``TRUE AND x`` and ``FALSE OR x`` are ``x``; ``NOT`` of a literal is folded.
    Nothing that could raise (``error``) is ever dropped.

    >>> render(simplify(Op("AND", Lit(True, BOOL), Op("=", Col("a"), Lit(False, BOOL)))), "duckdb")
    'NOT "a"'
    """

    def step(n: Sql) -> Sql | None:
        if isinstance(n, Lambda | Lit | Col | Var | Idx | Null):
            return n if not isinstance(n, Lambda) else Lambda(n.params, simplify(n.body))
        if isinstance(n, Op):
            left, right = simplify(n.left), simplify(n.right)
            if n.op == "=":
                for a, b in ((left, right), (right, left)):
                    if _is_bool_lit(b, True):
                        return a
                    if _is_bool_lit(b, False):
                        return Not(a)
            if n.op == "AND":
                if _is_bool_lit(left, True):
                    return right
                if _is_bool_lit(right, True):
                    return left
            if n.op == "OR":
                if _is_bool_lit(left, False):
                    return right
                if _is_bool_lit(right, False):
                    return left
            if left is n.left and right is n.right:
                return n
            return Op(n.op, left, right)
        if isinstance(n, Not):
            inner = simplify(n.operand)
            if isinstance(inner, Lit) and inner.type.kind == "bool":
                return Lit(not inner.value, BOOL)
            if isinstance(inner, Not):
                return inner.operand
            return n if inner is n.operand else Not(inner)
        return None  # other nodes: their children are simplified by transform

    return transform(e, step)
