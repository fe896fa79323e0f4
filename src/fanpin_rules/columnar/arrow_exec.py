"""The lowered SQL IR evaluated directly with Arrow compute kernels (no SQL engine).

For the wide layout of a *scalar* plan — one whose expressions use only columns, literals,
``AND``/``OR``/``NOT`` (Kleene's logic, as SQL's), comparisons, ``+ - *``, ``CASE``,
``IS NULL``, ``coalesce``, ``abs`` and casts between numbers — the stages of a
:class:`~fanpin_rules.columnar.lower.Lowered` plan are computed column by column with
``pyarrow.compute`` on the input table itself: no copy of the input into a database, no
conversion of the result, only the columns the rule truths need.

Decimals are carried as *scaled 64-bit integers* (the unscaled value and its scale, as DuckDB
stores ``DECIMAL(18, s)``): sums, products and comparisons are integer kernels, overflow-checked
(an overflow raises).  A ``CAST`` to ``DECIMAL(p, s)`` rescales exactly; its precision only
bounds the value (the SQL engines raise beyond it), so it is not needed for the exact value
computed here.  Every node keeps the meaning :mod:`~fanpin_rules.columnar.sql` fixes for it:
NULLs propagate as in SQL, ``CASE`` takes the first condition that is true.

Anything else — lists, lambdas, aggregations over ``members``, ``error()``, rounding, a cast
that would drop digits, a decimal column that does not fit 64 bits, any Arrow error — raises
:class:`Unsupported`, and the engine runs the same plan in DuckDB instead; the result never
depends on which one ran.

>>> import pyarrow as pa
>>> from fanpin_rules.columnar import sql as S
>>> t = pa.table({"a": pa.array([1, 5, None])})
>>> ex = ArrowExecutor(t, [("a", S.Col("a"))], [])
>>> ex.column(S.Op(">", S.Col("a"), S.Lit(2, S.INT))).to_pylist()
[False, True, None]
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from fanpin_rules.columnar import sql as S

__all__ = ["ArrowExecutor", "Unsupported"]


class Unsupported(Exception):
    """The plan needs something this executor does not evaluate (the engine uses DuckDB)."""


_COMPARE = {
    "=": "equal",
    "<>": "not_equal",
    "<": "less",
    "<=": "less_equal",
    ">": "greater",
    ">=": "greater_equal",
}
_COMPLEMENT = {"=": "<>", "<>": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_ARITH = {"+": "add_checked", "-": "subtract_checked", "*": "multiply_checked"}
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OverflowError)
_INT64 = pa.int64()


@attrs.frozen
class Dec:
    """A decimal value: ``unscaled`` (an int64 array or scalar) × 10^-``scale``."""

    unscaled: Any
    scale: int


@attrs.frozen
class RawDec:
    """A decimal128 input column, converted to :class:`Dec` only when arithmetic needs it
    (a comparison with a literal reads it as it is)."""

    array: pa.Array
    scale: int


@attrs.frozen
class Words:
    """A sum (or difference) of decimal inputs of at most 18 digits, computed on their
    128-bit values read as pairs of int64 words: word 2i is the exact (overflow-checked)
    result for row i, word 2i+1 is meaningless.  ``inputs``: the arrays whose NULLs make a
    row NULL."""

    words: pa.Array
    scale: int
    inputs: tuple[pa.Array, ...]
    bound: int  # |word 2i| <= bound for every row (from the inputs' precisions)


NUM = (Dec, RawDec, Words)
_NULL = object()  # an untyped SQL NULL (CASE … THEN NULL)


def _plain_type(t: S.SqlType) -> pa.DataType:
    simple = {"bigint": _INT64, "bool": pa.bool_(), "text": pa.string(), "date": pa.date32()}
    if t.kind in simple:
        return simple[t.kind]
    raise Unsupported(f"type {t.kind}")


class ArrowExecutor:
    """Evaluates expressions over one table: ``inputs`` are the input view's columns
    (name, expression over the table's own columns), ``stages`` the plan's computed columns
    in order; a column is computed once, when first needed."""

    def __init__(
        self,
        table: pa.Table,
        inputs: Sequence[tuple[str, S.Sql]],
        stages: Sequence[Sequence[tuple[str, S.Sql]]],
    ) -> None:
        self.table = table
        self.n = table.num_rows
        self.defs: dict[str, S.Sql] = dict(inputs)
        for stage in stages:
            for name, expr in stage:
                self.defs[name] = S.simplify(expr)

        # a column that only renames another (a table's input column reading a let) is
        # read under the other's name, so that equal expressions are equal nodes
        def target(name: str) -> str:
            seen = {name}
            expr = self.defs.get(name)
            while isinstance(expr, S.Col) and expr.name not in seen:
                name = expr.name
                seen.add(name)
                expr = self.defs.get(name)
            return name

        def resolve(n: S.Sql) -> S.Sql | None:
            return S.Col(target(n.name)) if isinstance(n, S.Col) else None

        self.defs = {
            name: (expr if isinstance(expr, S.Col) else S.transform(expr, resolve))
            for name, expr in self.defs.items()
        }
        self.values: dict[str, Any] = {}
        self.computing: set[str] = set()
        # results of operators by expression (the IR nodes are immutable values): the same
        # comparison written in two rules is computed once
        self.memo: dict[S.Sql, Any] = {}
        # bounds of |unscaled| of int64 arrays, by id (the array is kept alive beside it)
        self.bounds: dict[int, tuple[Any, int]] = {}

    # ------------------------------------------------------------ public
    def column(self, e: S.Sql) -> pa.Array:
        """e (a boolean, integer, text or date expression) with one value per row."""
        try:
            v = self.eval(e)
            if isinstance(v, NUM):
                raise Unsupported("a decimal result")
            if isinstance(v, pa.Scalar):
                v = pa.repeat(v, self.n)
            return v
        except (*_ARROW_ERRORS, TypeError, AttributeError) as exc:
            # (an Arrow error, or a node this executor mishandles: DuckDB evaluates it)
            raise Unsupported(str(exc)) from exc

    # ------------------------------------------------------------ columns
    def col(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        expr = self.defs.get(name)
        if expr is None or name in self.computing:
            # the input view's expression reads the table's own column of that name
            value = self._table_column(name)
        else:
            self.computing.add(name)
            value = self.eval(expr)
            self.computing.discard(name)
        self.values[name] = value
        return value

    def _table_column(self, name: str) -> Any:
        if name not in self.table.schema.names:
            raise Unsupported(f"column {name}")
        column = self.table.column(name)
        if isinstance(column, pa.ChunkedArray):
            array = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        else:
            array = column
        if pa.types.is_decimal(array.type):
            if not pa.types.is_decimal128(array.type):
                raise Unsupported(f"column type {array.type}")
            return RawDec(array, array.type.scale)
        return array

    # ------------------------------------------------------------ expressions
    def eval(self, e: S.Sql) -> Any:
        if isinstance(e, S.Col):
            return self.col(e.name)
        if isinstance(e, S.Lit):
            if e.type.kind == "decimal":
                d = Decimal(e.value)  # type: ignore[arg-type]
                return Dec(pa.scalar(_unscaled(d, e.type.scale), _INT64), e.type.scale)
            return pa.scalar(e.value, _plain_type(e.type))
        if isinstance(e, S.Null):
            if e.type is None:
                return _NULL  # typed by the CASE or coalesce around it
            if e.type.kind == "decimal":
                return Dec(pa.scalar(None, _INT64), e.type.scale)
            return pa.scalar(None, _plain_type(e.type))
        if isinstance(e, S.Op):
            found = self.memo.get(e)
            if found is None:
                found = self.memo[e] = self.op(e)
            return found
        if isinstance(e, S.Not):
            return pc.invert(self._bool(self.eval(e.operand)))
        if isinstance(e, S.IsNull):
            x = self.eval(e.operand)
            if isinstance(x, RawDec):
                x = x.array
            elif isinstance(x, NUM):
                x = self.dec(x).unscaled
            if isinstance(x, pa.Scalar):
                return pa.scalar(x.is_valid if e.negated else not x.is_valid)
            return pc.is_valid(x) if e.negated else pc.is_null(x)
        if isinstance(e, S.Cast):
            return self.cast(self.eval(e.operand), e.type)
        if isinstance(e, S.Case):
            return self.case(e)
        if isinstance(e, S.Call):
            if e.func == "coalesce":
                return self.choose(None, [self.eval(a) for a in e.args])
            if e.func == "abs":
                x = self.eval(e.args[0])
                if isinstance(x, NUM):
                    num = self.dec(x)
                    return Dec(pc.abs_checked(num.unscaled), num.scale)
                return pc.abs_checked(x)
            raise Unsupported(f"function {e.func}")
        raise Unsupported(type(e).__name__)

    def op(self, e: S.Op) -> Any:
        a, b = self.eval(e.left), self.eval(e.right)
        if a is _NULL or b is _NULL:
            raise Unsupported("an operator on an untyped NULL")
        if e.op == "AND":
            return pc.and_kleene(self._bool(a), self._bool(b))
        if e.op == "OR":
            return pc.or_kleene(self._bool(a), self._bool(b))
        numeric = isinstance(a, NUM) or isinstance(b, NUM)
        if e.op in _COMPARE:
            # x <= y is NOT (x > y), also where either is NULL (NOT NULL is NULL)
            complement = self.memo.get(S.Op(_COMPLEMENT[e.op], e.left, e.right))
            if complement is not None:
                return pc.invert(complement)
            if numeric:
                direct = _literal_compare(e.op, a, b)
                if direct is not None:
                    return direct
                x, y, _ = self.align(a, b)
                return pc.call_function(_COMPARE[e.op], [x, y])
            return pc.call_function(_COMPARE[e.op], [a, b])
        if e.op not in _ARITH:
            raise Unsupported(f"operator {e.op}")
        if not numeric:
            _int_only(a, b)
            return pc.call_function(_ARITH[e.op], [a, b])
        wa, wb = self._words(a), self._words(b)
        if e.op in ("+", "-") and wa is not None and wb is not None and wa.scale == wb.scale:
            # decimal inputs of at most 18 digits: int64 additions on their words, without
            # the overflow check when the bound of the result proves it cannot overflow
            bound = wa.bound + wb.bound
            kernel = _ARITH[e.op] if bound >= 2**63 else _ARITH[e.op].removesuffix("_checked")
            total = pc.call_function(kernel, [wa.words, wb.words])
            return Words(total, wa.scale, wa.inputs + wb.inputs, bound)
        if (
            e.op in ("+", "-")
            and isinstance(a, RawDec)
            and isinstance(b, RawDec)
            and a.scale == b.scale
            and max(a.array.type.precision, b.array.type.precision) < 38
        ):
            # sums of decimal inputs on the decimals themselves (exact: the precision
            # grows by a digit), converted once afterwards rather than each input
            total = pc.call_function(_ARITH[e.op], [a.array, b.array])
            return RawDec(total, a.scale)
        if e.op == "*":
            x, y = self.dec(a), self.dec(b)
            kernel = self._kernel("multiply", self._bound(x) * self._bound(y))
            return Dec(pc.call_function(kernel, [x.unscaled, y.unscaled]), x.scale + y.scale)
        x, y, scale = self.align(a, b)
        return Dec(pc.call_function(_ARITH[e.op], [x, y]), scale)

    def cast(self, x: Any, t: S.SqlType) -> Any:
        if t.kind == "decimal":
            if isinstance(x, NUM) or _is_int(x):
                return self.rescale(self.dec(x), t.scale)
            raise Unsupported(f"cast to decimal from {getattr(x, 'type', x)}")
        if t.kind == "bigint":
            if isinstance(x, NUM):
                d = self.dec(x)
                if d.scale:
                    raise Unsupported("decimal to integer")
                return d.unscaled
            if _is_int(x):
                return x if x.type == _INT64 else pc.cast(x, _INT64)
        if not isinstance(x, NUM) and x.type == _plain_type(t):
            return x
        raise Unsupported(f"cast to {t.kind}")

    def case(self, e: S.Case) -> Any:
        conds = [self._bool(self.eval(c)) for c, _ in e.whens]
        values = [self.eval(v) for _, v in e.whens]
        if e.else_ is not None:
            values.append(self.eval(e.else_))
        return self.choose(conds, values, has_else=e.else_ is not None)

    def choose(self, conds: list[Any] | None, values: list[Any], has_else: bool = True) -> Any:
        """CASE (first true condition, else the last value or NULL), or coalesce (conds
        None), over values brought to one type."""
        values, scale = self._one_type(values)
        if conds is None:
            out = pc.coalesce(*values)
        else:
            out = values[-1] if has_else else pa.scalar(None, values[0].type)
            chosen = values[: len(conds)]
            for cond, value in zip(reversed(conds), reversed(chosen), strict=True):
                out = pc.if_else(pc.fill_null(cond, False), value, out)
        return Dec(out, scale) if scale is not None else out

    # ------------------------------------------------------------ decimals
    def _words(self, x: Any) -> Words | None:
        if isinstance(x, Words):
            return x
        if isinstance(x, RawDec) and x.array.type.precision <= 18:
            array = x.array
            view = pa.Array.from_buffers(
                _INT64, 2 * len(array), [None, array.buffers()[1]], offset=2 * array.offset
            )
            return Words(view, x.scale, (array,), 10**array.type.precision - 1)
        return None

    def _even(self) -> pa.Array:
        """true, false, true, … over 2n rows: selects the low words."""
        found = self.values.get(" even")
        if found is None:
            n = 2 * self.n
            found = pa.Array.from_buffers(
                pa.bool_(), n, [None, pa.py_buffer(b"\x55" * ((n + 7) // 8))]
            )
            self.values[" even"] = found
        return found

    def dec(self, x: Any) -> Dec:
        if isinstance(x, Dec):
            return x
        if isinstance(x, Words):
            low = pc.filter(x.words, self._even())
            nullable = [a for a in x.inputs if a.null_count]
            if nullable:
                valid = pc.is_valid(nullable[0])
                for a in nullable[1:]:
                    valid = pc.and_(valid, pc.is_valid(a))
                low = pc.if_else(valid, low, pa.scalar(None, _INT64))
            return self._known(Dec(low, x.scale), x.bound)
        if isinstance(x, RawDec):
            return self._convert(x)
        if _is_int(x):
            return Dec(x if x.type == _INT64 else pc.cast(x, _INT64), 0)
        raise Unsupported(f"a number expected, not {getattr(x, 'type', x)}")

    def _convert(self, raw: RawDec) -> Dec:
        """A decimal128 column as unscaled int64 (the low 64 bits of each value; values of
        more than 18 digits are checked to fit)."""
        array = raw.array
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        decimal64 = getattr(pa, "decimal64", None)
        if decimal64 is not None:
            # (pyarrow >= 18) a checked cast to 64-bit decimals, read as their integers
            narrow = pc.cast(array, decimal64(18, raw.scale))
            ints = pa.Array.from_buffers(
                _INT64, len(narrow), narrow.buffers()[:2], offset=narrow.offset
            )
            return self._known(Dec(ints, raw.scale), 10**18 - 1)
        n = len(array)
        words = pa.Array.from_buffers(
            _INT64, 2 * n, [None, array.buffers()[1]], offset=2 * array.offset
        )
        low = pc.filter(words, self._even())
        if array.type.precision > 18:
            high = pc.filter(words, pc.invert(self._even()))
            # fits 64 bits: the high word only extends the low word's sign (NULL slots
            # hold anything)
            sign = pc.if_else(pc.less(low, 0), pa.scalar(-1, _INT64), pa.scalar(0, _INT64))
            fits = pc.or_(pc.equal(high, sign), pc.is_null(array))
            if not pc.all(fits).as_py():
                raise Unsupported("a decimal beyond 64 bits")
        if array.null_count:
            low = pc.if_else(pc.is_valid(array), low, pa.scalar(None, _INT64))
        return Dec(low, raw.scale)

    def rescale(self, d: Dec, scale: int) -> Dec:
        if scale == d.scale:
            return d
        if scale < d.scale:
            raise Unsupported("a cast that drops decimals")
        factor = 10 ** (scale - d.scale)
        kernel = self._kernel("multiply", self._bound(d) * factor)
        return Dec(pc.call_function(kernel, [d.unscaled, pa.scalar(factor, _INT64)]), scale)

    def _kernel(self, name: str, bound: int) -> str:
        """The overflow-checked kernel, or the plain one where ``bound`` (of the result's
        absolute value) proves that no row can overflow."""
        return name if bound < 2**63 else f"{name}_checked"

    def _bound(self, d: Dec) -> int:
        """An upper bound of |unscaled| over the rows (2**63 when it cannot be known)."""
        u = d.unscaled
        if isinstance(u, pa.Scalar):
            value = u.as_py()
            return abs(value) if isinstance(value, int) else 0
        found = self.bounds.get(id(u))
        if found is None:
            low_high = pc.min_max(u).as_py()
            lo, hi = low_high["min"], low_high["max"]
            bound = 0 if lo is None else max(abs(lo), abs(hi))
            found = self.bounds[id(u)] = (u, bound)
        return found[1]

    def _known(self, d: Dec, bound: int) -> Dec:
        """d, whose |unscaled| is known to be at most ``bound``."""
        if not isinstance(d.unscaled, pa.Scalar):
            self.bounds[id(d.unscaled)] = (d.unscaled, bound)
        return d

    def align(self, a: Any, b: Any) -> tuple[Any, Any, int]:
        x, y = self.dec(a), self.dec(b)
        scale = max(x.scale, y.scale)
        return self.rescale(x, scale).unscaled, self.rescale(y, scale).unscaled, scale

    def _one_type(self, values: list[Any]) -> tuple[list[Any], int | None]:
        typed = [v for v in values if v is not _NULL]
        if not typed:
            raise Unsupported("only untyped NULLs")
        if len(typed) < len(values):
            like = typed[0]
            if isinstance(like, NUM):
                null: Any = Dec(pa.scalar(None, _INT64), self.dec(like).scale)
            else:
                null = pa.scalar(None, like.type)
            values = [null if v is _NULL else v for v in values]
        if any(isinstance(v, NUM) for v in values):
            decs = [self.dec(v) for v in values]
            scale = max(d.scale for d in decs)
            return [self.rescale(d, scale).unscaled for d in decs], scale
        types = {v.type for v in values if not pa.types.is_null(v.type)}
        if len(types) != 1:
            raise Unsupported(f"values of types {types}")
        (t,) = types
        return [v if v.type == t else v.cast(t) for v in values], None

    def _bool(self, x: Any) -> Any:
        if isinstance(x, NUM) or not pa.types.is_boolean(x.type):
            raise Unsupported("a truth value expected")
        return x


def _unscaled(d: Decimal, scale: int) -> int:
    value = d.scaleb(scale)
    if value != value.to_integral_value():
        raise Unsupported("a literal with more decimals than its type")
    return int(value)


def _is_int(x: Any) -> bool:
    return not isinstance(x, NUM) and pa.types.is_integer(x.type)


def _int_only(a: Any, b: Any) -> None:
    if not (_is_int(a) and _is_int(b)):
        raise Unsupported("arithmetic on non-numbers")


def _literal_compare(op: str, a: Any, b: Any) -> Any:
    """A decimal input column compared with a literal, on the decimal128 values themselves."""
    for col, lit, flip in ((a, b, False), (b, a, True)):
        if isinstance(col, RawDec) and isinstance(lit, Dec) and isinstance(lit.unscaled, pa.Scalar):
            raw = lit.unscaled.as_py()
            value = None if raw is None else Decimal(raw).scaleb(-lit.scale)
            precision = max(len(str(abs(raw))) if raw is not None else 1, lit.scale, 1)
            scalar = pa.scalar(value, pa.decimal128(min(38, precision), lit.scale))
            args = [scalar, col.array] if flip else [col.array, scalar]
            return pc.call_function(_COMPARE[op], args)
    return None
