"""Lowering of a checked policy to staged SQL expressions over a table of households.

Every expression of the policy becomes an :class:`L`: a SQL value plus what the
reference interpreter (:mod:`fanpin_rules.evaluator`) carries beside a value.

* ``v`` — the value; SQL ``NULL`` when the value is *unknown* or *absent*.
* ``unk`` / ``miss`` — SPEC §5's *unknown*: a boolean that holds when a missing required
  input blocks the value, and the list of those inputs' paths (``members[2].age``),
  meaningful only where ``unk`` holds.  ``unk`` is ``None`` when the value can never be
  unknown, so complete data pays nothing for the bookkeeping.
* ``absent`` — SPEC §8's *absent*: whether ``v`` may be ``NULL`` without being unknown
  (an optional input with no default); comparisons with it are false.
* ``den`` — a positive denominator for exact quotients: ``x / y`` is carried as a fraction
  and only rounded by ``round(…, n)`` (or the money rendering), exactly, half away from
  zero; comparisons cross-multiply.  No floating point is ever involved.

A truth value (a condition) is an ``L`` of type bool whose ``v`` is ``NULL`` exactly when it
is unknown; SQL's ``AND``/``OR``/``NOT`` are then Kleene's, as in ``values.and3``.

Named values (lets, tables, rules, final conclusions) are materialised as columns, each in
the first *stage* (a ``SELECT *, …`` over the previous one) after everything it reads, so a
value is computed once however often it is used.  Constructs whose reference semantics the
lowering cannot reproduce exactly raise :class:`LoweringError` naming the construct and its
place in the policy; a policy is refused rather than evaluated differently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import attrs

from fanpin_rules import ast
from fanpin_rules.check.declarations import HIT_POLICIES
from fanpin_rules.check.typecheck import (
    AGGREGATES,
    ELEMENT_NAMES,
    FUNCTION_ALIASES,
    PREDICATES,
    type_of_ref,
)
from fanpin_rules.columnar import sql as S
from fanpin_rules.errors import FanpinError
from fanpin_rules.evaluator import ParamBinding
from fanpin_rules.model import BUILTIN_NAMES, PolicyModel
from fanpin_rules.source import Span
from fanpin_rules.types import T

__all__ = [
    "INPUT_SCALES",
    "LAYOUTS",
    "NARROW_MAGNITUDE",
    "L",
    "Layout",
    "Lowered",
    "LoweringError",
    "OutputValue",
    "lower_policy",
]

Layout = Literal["list", "wide"]
LAYOUTS: tuple[Layout, ...] = ("list", "wide")

# The narrow plan (DuckDB): every top-level input of these types is assumed to stay within
# these magnitudes; money and number columns are cast to the matching DECIMAL(p, s) when read
# and whole numbers when converted to decimals.  Every such CAST is checked by DuckDB, so data
# beyond them stops the query (the engine then runs the wide plan), never a wrong result.
# Decimal arithmetic within 18 digits runs on 64-bit integers instead of 128-bit ones.
NARROW_MAGNITUDE = {
    "money": Decimal("999999999999.99"),  # DECIMAL(14, 2)
    "number": Decimal("99999999.9999999999"),  # DECIMAL(18, 10)
    "int": Decimal("999999999"),  # DECIMAL(9, 0) when used with decimals
}


def narrow_decimal(scale: int, mag: Decimal | None) -> S.SqlType:
    """The narrowest DECIMAL(p, scale) holding every value with |value| <= mag (38 when
    mag is unknown or too large)."""
    if mag is None:
        return S.decimal(scale)
    digits = len(str(int(mag))) if mag >= 1 else 0
    precision = max(1, digits + scale)
    return S.decimal(scale, precision if precision <= 38 else 38)


def _mag_sum(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else a + b


def _mag_product(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else a * b


# Decimal scales of the input columns (see columnar.schema): money has 2 decimals, number 10.
INPUT_SCALES = {"money": 2, "number": 10}
MONEY_OUT = S.decimal(2)
EMPTY_TEXT_LIST = S.ListLit((), S.TEXT)
TRUE = S.Lit(True, S.BOOL)
FALSE = S.Lit(False, S.BOOL)


class LoweringError(FanpinError):
    """The columnar engines cannot reproduce a construct of the policy exactly.

    The policy is refused as a whole (use the reference or compiled evaluator for it).
    """

    def __init__(self, construct: str, reason: str, span: Span | None) -> None:
        self.construct = construct
        self.reason = reason
        self.span = span
        where = f"{span.where()}: " if span is not None and span.line > 0 else ""
        super().__init__(
            f"{where}列式引擎不支持 {construct} / the columnar engine cannot evaluate "
            f"{construct}: {reason}"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.construct, self.reason, self.span))


# ---------------------------------------------------------------- lowered values


@attrs.frozen
class L:
    """One lowered expression (see the module docstring)."""

    v: S.Sql
    t: T
    unk: S.Sql | None = None
    miss: S.Sql | None = None
    absent: bool = False
    den: S.Sql | None = None
    scale: int = 0
    dscale: int = 0
    integer: bool = False  # the reference holds a Python int (not a Decimal)
    int_flag: S.Sql | None = None  # when that depends on the row: true where it is an int
    record: ast.RecordDecl | None = None  # record values: the declaration
    path: S.Sql | None = None  # record values: text path of the record in the input
    pattern: str | None = None  # record values: the path with list indexes erased
    cols: Mapping[str, L] | None = None  # multi-output table rows, by column
    # a list value: a boolean that holds exactly where the list is not empty (when known)
    nonempty: S.Sql | None = None
    positive: bool = False  # never zero or negative (a validated input with such a bound)
    # narrow plans (see NARROW_MAGNITUDE): an upper bound of |value| (of the numerator of a
    # quotient) and of its denominator; None = unknown
    mag: Decimal | None = None
    dmag: Decimal | None = None


BOOL_T = T("bool")


def truth_l(v: S.Sql, unk: S.Sql | None, miss: S.Sql | None) -> L:
    return L(v, BOOL_T, unk, miss if unk is not None else None)


def _absent_cond(x: L) -> S.Sql | None:
    if not x.absent:
        return None
    if x.unk is None:
        return S.IsNull(x.v)
    return S.Op("AND", S.IsNull(x.v), S.Not(x.unk))


def _miss_part(x: L) -> S.Sql | None:
    """The input paths blocking x where x is unknown, else []."""
    if x.unk is None:
        return None
    assert x.miss is not None
    return S.Case(((x.unk, x.miss),), EMPTY_TEXT_LIST)


def _union(parts: Iterable[L]) -> tuple[S.Sql | None, S.Sql | None]:
    """(unknown condition, missing list) of 'any of these is unknown'."""
    unks = [p.unk for p in parts if p.unk is not None]
    ps = [mp for mp in (_miss_part(p) for p in parts) if mp is not None]
    if not unks:
        return None, None
    if len(ps) == 1:
        only = next(p for p in parts if p.unk is not None)
        return only.unk, only.miss
    miss = ps[0]
    for mp in ps[1:]:
        miss = S.Call("list_concat", (miss, mp))
    return S.or_all(unks), miss


def _or(a: S.Sql | None, b: S.Sql | None) -> S.Sql | None:
    if a is None:
        return b
    if b is None:
        return a
    return S.Op("OR", a, b)


def _and_not(cond: S.Sql | None, blocker: S.Sql | None) -> S.Sql | None:
    """cond AND NOT blocker (None = false)."""
    if cond is None:
        return None
    if blocker is None:
        return cond
    return S.Op("AND", cond, S.Not(blocker))


@attrs.frozen
class OutputValue:
    """A value of the result (a let or a table): its SQL and how to render it as JSON."""

    name: str
    expr: S.Sql
    render: Any  # nested rendering spec, see columnar.results


@attrs.frozen
class Lowered:
    """The SQL of one policy at one date with one set of parameters."""

    stages: tuple[tuple[tuple[str, S.Sql], ...], ...]
    key_column: str | None
    outputs: tuple[OutputValue, ...]
    conclusions: tuple[tuple[str, str, str | None], ...]  # (rule id, truth col, missing col)
    missing_column: str
    hoisted: tuple[tuple[str, tuple[tuple[str, S.Sql], ...]], ...] = ()  # list col -> aggs

    def select_sql(
        self, source: str, dialect: S.Dialect, layout: Layout = "list", *, key: bool = True
    ) -> str:
        """One SQL query over ``source`` (a table or view name, already quoted/safe).

        Rows come out in the order of ``source``.  ``layout`` chooses the result columns
        (:meth:`final_columns` or :meth:`wide_columns`); ``key=False`` leaves the household
        key out of the wide layout (the caller attaches the input's own column).
        """
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
        ctes = []
        prev = source
        q = S.quote
        if self.hoisted:
            # number the households; aggregate each unnested list column by household;
            # join the aggregates back (households with an empty or NULL list get NULLs)
            if dialect == "duckdb":
                ctes.append(
                    f"__fp_in AS MATERIALIZED (SELECT *, row_number() OVER () AS {ROW_ID} "
                    f"FROM {source})"
                )
            else:
                ctes.append(
                    f"__fp_in AS (SELECT *, monotonically_increasing_id() AS {ROW_ID} "
                    f"FROM {source})"
                )
            joins = []
            for k, (col, aggs) in enumerate(self.hoisted):
                if dialect == "duckdb":
                    flat = (
                        f"SELECT {ROW_ID}, unnest({q(col, dialect)}) AS {ELEM_VAR}, "
                        f"unnest(range(len({q(col, dialect)}))) AS {ELEM_IDX} FROM __fp_in"
                    )
                else:
                    flat = (
                        f"SELECT {ROW_ID}, {ELEM_IDX}, {ELEM_VAR} FROM __fp_in "
                        f"LATERAL VIEW posexplode({q(col, dialect)}) __fp_p{k} "
                        f"AS {ELEM_IDX}, {ELEM_VAR}"
                    )
                body = ", ".join(f"{S.render(a, dialect)} AS {q(n, dialect)}" for n, a in aggs)
                ctes.append(
                    f"__fp_a{k} AS (SELECT {ROW_ID}, {body} FROM ({flat}) __fp_f{k} "
                    f"GROUP BY {ROW_ID})"
                )
                joins.append(f" LEFT JOIN __fp_a{k} USING ({ROW_ID})")
            ctes.append(f"__fp_j AS (SELECT * FROM __fp_in{''.join(joins)})")
            prev = "__fp_j"
        for i, stage in enumerate(self.stages):
            cols = ", ".join(
                f"{S.render(S.simplify(expr), dialect)} AS {S.quote(name, dialect)}"
                for name, expr in stage
            )
            name = f"__fp_s{i}"
            ctes.append(f"{name} AS (SELECT *, {cols} FROM {prev})")
            prev = name
        columns = self.final_columns() if layout == "list" else self.wide_columns(key=key)
        final = ", ".join(
            f"{S.render(S.simplify(expr), dialect)} AS {S.quote(name, dialect)}"
            for name, expr in columns
        )
        order = f" ORDER BY {ROW_ID}" if self.hoisted else ""
        return f"WITH {', '.join(ctes)} SELECT {final} FROM {prev}{order}"

    def wide_columns(self, *, key: bool = True) -> list[tuple[str, S.Sql]]:
        """The wide layout: ``household_id``, then one BOOLEAN column per rule id (sorted):
        true = fired, NULL = undetermined, false = not fired."""
        out: list[tuple[str, S.Sql]] = []
        if key:
            out.append(
                ("household_id", S.Col(self.key_column) if self.key_column else S.Null(S.TEXT))
            )
        # a truth is NULL exactly when it is unknown (see the module docstring), and a
        # conclusion that can never be unknown has no missing-input column
        out.extend((rid, S.Col(col)) for rid, col, _ in self.conclusions)
        return out

    def final_columns(self) -> list[tuple[str, S.Sql]]:
        key: S.Sql = S.Col(self.key_column) if self.key_column else S.Null(S.TEXT)
        fired_items: list[S.Sql] = [
            S.Case(((S.Col(col), S.Lit(rid, S.TEXT)),)) for rid, col, _ in self.conclusions
        ]
        fired: S.Sql = (
            S.Call("present_texts", tuple(fired_items)) if fired_items else EMPTY_TEXT_LIST
        )
        und_type = S.SqlType("struct", fields=(("rule", S.TEXT), ("missing", S.list_of(S.TEXT))))
        und_items: list[S.Sql] = []
        for rid, col, mcol in self.conclusions:
            if mcol is None:
                continue
            und_items.append(
                S.Case(
                    (
                        (
                            S.IsNull(S.Col(col)),
                            S.StructLit(
                                (
                                    ("rule", S.Lit(rid, S.TEXT)),
                                    (
                                        "missing",
                                        S.Call(
                                            "list_sort",
                                            (S.Call("list_distinct", (S.Col(mcol),)),),
                                        ),
                                    ),
                                )
                            ),
                        ),
                    )
                )
            )
        undetermined: S.Sql
        if und_items:
            undetermined = S.Call(
                "list_filter",
                (
                    S.ListLit(tuple(und_items), und_type),
                    S.Lambda(("x",), S.IsNull(S.Var("x"), True)),
                ),
            )
        else:
            undetermined = S.ListLit((), und_type)
        values = S.StructLit(tuple((o.name, o.expr) for o in self.outputs))
        return [
            ("household_id", key),
            ("fired", fired),
            ("undetermined", undetermined),
            ("missing_inputs", S.Col(self.missing_column)),
            ("values", values),
        ]


# ---------------------------------------------------------------- scopes


@attrs.frozen
class _Frame:
    """An aggregation's element: a record (fields by name) or a plain value (``it``)."""

    elem: L
    record: ast.RecordDecl | None


@attrs.frozen
class _Node:
    level: int
    value: L


def _sql_type(t: T, integer: bool = False, scale: int = 0) -> S.SqlType:
    k = t.kind
    if k == "money":
        return S.decimal(max(scale, 2))
    if k == "int" or (k in ("number", "intlit") and integer):
        return S.INT
    if k in ("number", "intlit"):
        return S.decimal(scale)
    if k == "bool":
        return S.BOOL
    if k == "date":
        return S.DATE
    if k in ("text", "strlit", "enum", "any"):
        return S.TEXT
    if k in ("list", "set"):
        return S.list_of(_sql_type(t.elem or T("any")))
    raise AssertionError(k)


def _dec_scale(d: Decimal) -> int:
    exp = d.as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def dec_lit(d: Decimal | int) -> S.Lit:
    d = Decimal(d)
    scale = _dec_scale(d)
    digits = len(format(abs(d), "f").replace(".", "").lstrip("0")) or 1
    precision = 18 if max(digits, scale + 1) <= 18 else 38
    return S.Lit(d, S.decimal(scale, precision))


# ---------------------------------------------------------------- the lowering


class Lowering:
    """Lowers one policy for one ``as_of`` and parameter set; use :func:`lower_policy`."""

    def __init__(
        self,
        model: PolicyModel,
        types: Mapping[str, T],
        table_columns: Mapping[str, Mapping[str, T]],
        as_of: dt.date,
        params: Mapping[str, ParamBinding],
        nullable: frozenset[str] | None,
        hoist: bool = True,
        validated: bool = False,
        narrow: bool = False,
        int64_rounding: bool = False,
    ) -> None:
        self.model = model
        self.validated = validated
        self.narrow = narrow
        self.int64_rounding = int64_rounding
        self.types = types
        self.table_columns = table_columns
        self.as_of = as_of
        self.params = params
        self.nullable = nullable
        assert model.root_record is not None
        self.root = model.root_record
        self.hit = {n: HIT_POLICIES.get(t.hit.lower(), t.hit) for n, t in model.tables.items()}
        self.enum_rank = {
            e.name: {m.value: i for i, m in enumerate(e.members)} for e in model.enums.values()
        }
        overriders: dict[str, list[str]] = {}
        for item in model.items():
            if isinstance(item, ast.RuleDecl):
                for target in item.overrides:
                    overriders.setdefault(target, []).append(item.rule_id)
            elif isinstance(item, ast.TableDecl):
                for target in item.overrides:
                    overriders.setdefault(target, []).extend(r.rule_id for r in item.rows)
        self.overriders = overriders
        self.nodes: dict[str, _Node] = {}
        self.stages: dict[int, list[tuple[str, S.Sql]]] = {}
        self.levels: list[int] = []
        self.counter = 0
        self.lambda_depth = 0
        self.building: list[str] = []
        self.hoist = hoist
        self.hoisted: dict[str, list[tuple[str, S.Sql]]] = {}

    # ------------------------------------------------------------ staging
    def _fresh(self, hint: str) -> str:
        self.counter += 1
        return f"__fp_{self.counter}_{hint}"

    def _node(self, key: str, build: Any) -> L:
        found = self.nodes.get(key)
        if found is None:
            if key in self.building:
                raise AssertionError(f"cycle through {key}")  # the checker rules these out
            self.building.append(key)
            self.levels.append(0)
            value, columns = build()
            level = self.levels.pop() + 1
            self.building.pop()
            self.stages.setdefault(level, []).extend(columns)
            found = self.nodes[key] = _Node(level, value)
        if self.levels:
            self.levels[-1] = max(self.levels[-1], found.level)
        return found.value

    def materialise(self, hint: str, x: L) -> tuple[L, list[tuple[str, S.Sql]]]:
        """x as columns; the returned L reads them."""
        if x.cols is not None:
            cols: dict[str, L] = {}
            out: list[tuple[str, S.Sql]] = []
            for name, c in x.cols.items():
                cl, cc = self.materialise(hint, c)
                cols[name] = cl
                out.extend(cc)
            return attrs.evolve(x, cols=cols), out
        vname = self._fresh(hint + "_v")
        columns: list[tuple[str, S.Sql]] = [(vname, x.v)]
        unk: S.Sql | None = None
        miss: S.Sql | None = None
        if x.unk is not None:
            assert x.miss is not None
            mname = self._fresh(hint + "_m")
            columns.append((mname, S.Case(((x.unk, x.miss),))))
            unk = S.IsNull(S.Col(mname), True)
            miss = S.Col(mname)
            if x.t.kind == "bool" and not x.absent:
                unk = S.IsNull(S.Col(vname))
        den: S.Sql | None = None
        if x.den is not None:
            dname = self._fresh(hint + "_d")
            columns.append((dname, x.den))
            den = S.Col(dname)
        flag: S.Sql | None = None
        if x.int_flag is not None:
            fname = self._fresh(hint + "_i")
            columns.append((fname, x.int_flag))
            flag = S.Col(fname)
        return (
            attrs.evolve(x, v=S.Col(vname), unk=unk, miss=miss, den=den, int_flag=flag),
            columns,
        )

    # ------------------------------------------------------------ named values
    def let(self, name: str) -> L:
        decl = self.model.lets[name]

        def build() -> tuple[L, list[tuple[str, S.Sql]]]:
            x = self.expr(decl.expr, ())
            if x.record is not None:
                raise LoweringError(
                    f"let {name}", "a value that is a whole input record", decl.span
                )
            return self.materialise("let", x)

        return self._node("let:" + name, build)

    def param(self, name: str, span: Span) -> L:
        b = self.params[name]
        decl = self.model.params[name]
        t = type_of_ref(self.model, decl.type) or T("text")
        v = b.value
        if v is None:
            raise LoweringError(
                f"param {name}", f"no value in force on {self.as_of.isoformat()}", span
            )
        return self.const(v, t)

    def const(self, v: Any, t: T) -> L:
        if isinstance(v, bool):
            return L(S.Lit(v, S.BOOL), t)
        if isinstance(v, int):
            return L(S.Lit(v, S.INT), t, integer=True, mag=Decimal(abs(v)))
        if isinstance(v, Decimal):
            lit = dec_lit(v)
            return L(lit, t, scale=lit.type.scale, mag=abs(v))
        if isinstance(v, dt.date):
            return L(S.Lit(v, S.DATE), t)
        return L(S.Lit(str(v), S.TEXT), t)

    def conclusion(self, rule_id: str) -> L:
        """Whether the rule or row holds, after hit policies and overrides."""
        overriders = self.overriders.get(rule_id, [])
        if not overriders:
            return self.raw(rule_id)

        def build() -> tuple[L, list[tuple[str, S.Sql]]]:
            raw = self.raw(rule_id)
            others = [self.conclusion(o) for o in overriders]
            raw_false = S.Op("=", raw.v, FALSE)  # NULL when raw is unknown
            any_true: S.Sql = S.or_all([S.Op("=", o.v, TRUE) for o in others])
            blocked = S.Op(
                "OR", S.Call("coalesce", (raw_false, FALSE)), S.Call("coalesce", (any_true, FALSE))
            )
            unk, miss = _union([raw, *others])
            v: S.Sql
            if unk is None:
                v = S.Case(((blocked, FALSE),), TRUE)
            else:
                v = S.Case(((blocked, FALSE), (unk, S.Null(S.BOOL))), TRUE)
            res = truth_l(v, S.IsNull(v) if unk is not None else None, miss)
            return self.materialise("concl", res)

        return self._node("concl:" + rule_id, build)

    def raw(self, rule_id: str) -> L:
        if rule_id in self.model.rules:
            rule = self.model.rules[rule_id]

            def build() -> tuple[L, list[tuple[str, S.Sql]]]:
                return self.materialise("rule", self.truth(self.expr(rule.when, ())))

            return self._node("rule:" + rule_id, build)
        table, row = self.model.rows[rule_id]
        outcome = self.table(table.name)
        assert outcome.cols is not None
        return outcome.cols["row:" + row.rule_id]

    # ------------------------------------------------------------ tables
    def table(self, name: str) -> L:
        """A pseudo-L whose ``cols`` hold ``row:<id>`` raw truths and ``value``."""
        table = self.model.tables[name]

        def build_inputs() -> tuple[L, list[tuple[str, S.Sql]]]:
            cols = {str(i): self.expr(e, ()) for i, e in enumerate(table.inputs)}
            for i, x in cols.items():
                if x.record is not None or x.cols is not None:
                    raise LoweringError(
                        f"table {name}",
                        "an input column that is a record",
                        table.inputs[int(i)].span,
                    )
            return self.materialise("tin", L(S.Null(), T("any"), cols=cols))

        def build_rows() -> tuple[L, list[tuple[str, S.Sql]]]:
            ins = self._node("tin:" + name, build_inputs)
            assert ins.cols is not None
            rows: dict[str, L] = {}
            for row in table.rows:
                cells = [
                    self.cell(c, ins.cols[str(i)], name)
                    for i, c in enumerate(row.cells)
                    if i < len(table.inputs)
                ]
                rows[row.rule_id] = self.and3(cells) if cells else truth_l(TRUE, None, None)
            return self.materialise("trow", L(S.Null(), T("any"), cols=rows))

        def build() -> tuple[L, list[tuple[str, S.Sql]]]:
            rows = self._node("trow:" + name, build_rows)
            assert rows.cols is not None
            return self._hit(table, [rows.cols[r.rule_id] for r in table.rows])

        return self._node("table:" + name, build)

    def _outputs(self, table: ast.TableDecl, i: int) -> L:
        row = table.rows[i]
        vals = [self.expr(x, ()) for x in row.outputs]
        for x, e in zip(vals, row.outputs, strict=False):
            if x.record is not None:
                raise LoweringError(f"table {table.name}", "an output that is a record", e.span)
        if len(vals) == 1:
            return vals[0]
        return L(
            S.Null(),
            T("tablerow", table.name),
            cols={o.name: x for o, x in zip(table.outputs, vals, strict=False)},
        )

    def _rank(self, table: ast.TableDecl, i: int) -> int:
        col = table.outputs[0].type
        if col is None or col.name not in self.model.enums:
            return 0
        out = table.rows[i].outputs[0]
        if not isinstance(out, ast.String):
            raise LoweringError(
                f"table {table.name} (hit {table.hit})",
                "ranking rows by an output that is computed, not written as a value",
                out.span,
            )
        enum = self.model.enums[col.name].name
        return self.enum_rank[enum].get(out.value, 1 << 30)

    def _hit(self, table: ast.TableDecl, truths: list[L]) -> tuple[L, list[tuple[str, S.Sql]]]:
        hit = self.hit[table.name]
        n = len(truths)
        is_true = [S.Op("=", t.v, TRUE) for t in truths]
        is_unk = [t.unk for t in truths]
        rows: dict[str, L] = {}
        value: L
        if hit in ("first", "priority", "unique", "any"):
            # order of preference; blockers of row r = unknown rows that rank before or equal
            if hit == "first":
                order = list(range(n))
                ranks = list(range(n))
            elif hit == "priority":
                ranks = [self._rank(table, i) for i in range(n)]
                order = sorted(range(n), key=lambda i: (ranks[i], i))
            else:
                order = list(range(n))
                ranks = [0] * n
            if hit == "first":

                def blocks(u: int, best: int) -> bool:
                    return u < best

            elif hit == "priority":

                def blocks(u: int, best: int) -> bool:
                    return ranks[u] <= ranks[best]

            else:

                def blocks(u: int, best: int) -> bool:
                    return True

            # best true row (first in preference order); NULL when no row is true
            # (-1: no row is true; never NULL, so that "best = i" is never NULL either)
            best = S.Case(tuple((is_true[i], S.Lit(i, S.INT)) for i in order), S.Lit(-1, S.INT))
            # the table is undetermined when a blocker of the best row (or, with no true
            # row, any row) is unknown
            blocked_whens: list[tuple[S.Sql, S.Sql]] = []
            block_miss_whens: list[tuple[S.Sql, S.Sql]] = []
            for b in order:
                us = [u for u in range(n) if u != b and truths[u].unk is not None and blocks(u, b)]
                if hit in ("unique", "any"):
                    us = [u for u in range(n) if truths[u].unk is not None]
                cond = S.or_all([is_unk[u] for u in us]) if us else FALSE  # type: ignore[misc]
                _, miss_b = _union([truths[u] for u in us])
                blocked_whens.append((is_true[b], cond))
                if miss_b is not None:
                    block_miss_whens.append((is_true[b], miss_b))
            all_unk = [u for u in range(n) if truths[u].unk is not None]
            none_cond = S.or_all([is_unk[u] for u in all_unk]) if all_unk else FALSE  # type: ignore[misc]
            _, none_miss = _union([truths[u] for u in all_unk])
            blocked = S.Case(tuple(blocked_whens), none_cond) if all_unk else None
            blocked_miss = (
                S.Case(tuple(block_miss_whens), none_miss) if none_miss is not None else None
            )
            bname = self._fresh("tsel")
            bcol = S.Col(bname)
            columns: list[tuple[str, S.Sql]] = [(bname, best)]
            kname = mname = None
            if blocked is not None:
                kname = self._fresh("tblk")
                mname = self._fresh("tblkm")
                columns.append((kname, blocked))
                assert blocked_miss is not None
                columns.append((mname, S.Case(((S.Col(kname), blocked_miss),))))
            blk: S.Sql | None = S.Col(kname) if kname else None
            blk_miss: S.Sql | None = S.Col(mname) if mname else None
            if hit == "unique" and n > 1:
                count_true = S.Op("+", S.Lit(0, S.INT), S.Lit(0, S.INT))
                for i in range(n):
                    count_true = S.Op(
                        "+", count_true, S.Case(((is_true[i], S.Lit(1, S.INT)),), S.Lit(0, S.INT))
                    )
                msg = (
                    f"决策表「{table.name}」(unique) 同时命中多行 / "
                    f"table '{table.name}' (unique) matched several rows"
                )
                guard = S.Op("AND", S.Op(">", count_true, S.Lit(1, S.INT)), S.Not(blk or FALSE))
                columns.append(
                    (
                        self._fresh("tchk"),
                        S.Case(((guard, S.Call("error", (S.Lit(msg, S.TEXT),))),)),
                    )
                )
            if hit == "any":
                columns.extend(self._any_agreement(table, is_true, blk))
            for i, row in enumerate(table.rows):
                t = truths[i]
                # unknown rows stay undetermined; true rows are fired when selected, undetermined
                # when the table is blocked, otherwise shadowed (false)
                # unique / any: every true row is selected (any's rows agree on the output)
                sel = S.Op("=", bcol, S.Lit(i, S.INT)) if hit in ("first", "priority") else TRUE
                if blk is None:
                    # no row can be unknown: a row holds exactly when it is selected
                    # (first / priority: the selected row is a true row)
                    if hit in ("first", "priority"):
                        # true, and no row preferred to it is true: boolean operations
                        # only (the selected row's number is needed for the value alone)
                        before = order[: order.index(i)]
                        cond = is_true[i]
                        if before:
                            cond = S.Op("AND", cond, S.Not(S.or_all([is_true[j] for j in before])))
                        held: S.Sql = S.Call("coalesce", (cond, FALSE))
                    else:
                        held = S.Call("coalesce", (is_true[i], FALSE))
                    rows["row:" + row.rule_id] = truth_l(held, None, None)
                    continue
                whens: list[tuple[S.Sql, S.Sql]] = []
                mwhens: list[tuple[S.Sql, S.Sql]] = []
                if t.unk is not None:
                    assert t.miss is not None
                    whens.append((t.unk, S.Null(S.BOOL)))
                    mwhens.append((t.unk, t.miss))
                whens.append((S.Op("AND", is_true[i], blk), S.Null(S.BOOL)))
                assert blk_miss is not None
                mwhens.append((S.Op("AND", is_true[i], blk), blk_miss))
                whens.append((is_true[i], S.Call("coalesce", (sel, FALSE))))
                rv = S.Case(tuple(whens), FALSE)
                rows["row:" + row.rule_id] = truth_l(rv, S.IsNull(rv), S.Case(tuple(mwhens)))
            # the value: the selected row's outputs
            outs = [self._outputs(table, i) for i in range(n)]
            value = self._select(outs, bcol, blk, blk_miss)
            rows["value"] = value
            mat, more = self.materialise("tval", L(S.Null(), T("any"), cols=rows))
            return mat, columns + more
        # collect, rule_order, output_order: every true row is fired
        for i, row in enumerate(table.rows):
            rows["row:" + row.rule_id] = truths[i]
        unk, miss = _union([t for t in truths if t.unk is not None])
        order = list(range(n))
        if hit == "output_order":
            ranks = [self._rank(table, i) for i in range(n)]
            order = sorted(range(n), key=lambda i: (ranks[i], i))
        outs = [self._outputs(table, i) for i in range(n)]
        value = self._collect(table, outs, [is_true[i] for i in range(n)], order, unk, miss)
        rows["value"] = value
        return self.materialise("tval", L(S.Null(), T("any"), cols=rows))

    def _any_agreement(
        self, table: ast.TableDecl, is_true: Sequence[S.Sql], blk: S.Sql | None
    ) -> list[tuple[str, S.Sql]]:
        """hit any: rows that hold together must give the same outputs (else an error)."""
        checks: list[tuple[str, S.Sql]] = []
        rows = table.rows
        msg = (
            f"决策表「{table.name}」(any) 命中的行结论不同 / "
            f"table '{table.name}' (any) matched rows with different outputs"
        )
        for i in range(len(rows)):
            for j in range(i + 1, len(rows)):
                if rows[i].outputs == rows[j].outputs:
                    continue  # the same expressions give the same values
                oi = [self.expr(x, ()) for x in rows[i].outputs]
                oj = [self.expr(x, ()) for x in rows[j].outputs]
                differ = S.or_all(
                    [
                        S.Not(S.Call("coalesce", (S.Op("=", a.v, b.v), FALSE)))
                        for a, b in zip(oi, oj, strict=True)
                    ]
                )
                cond = S.and_all([is_true[i], is_true[j], differ])
                if blk is not None:
                    cond = S.Op("AND", cond, S.Not(blk))
                checks.append(
                    (self._fresh("tchk"), S.Case(((cond, S.Call("error", (S.Lit(msg, S.TEXT),))),)))
                )
        return checks

    def _select(self, outs: list[L], best: S.Sql, blk: S.Sql | None, blk_miss: S.Sql | None) -> L:
        if outs and outs[0].cols is not None:
            cols: dict[str, L] = {}
            names = list(outs[0].cols)
            for name in names:
                cols[name] = self._select(
                    [o.cols[name] for o in outs if o.cols is not None], best, blk, blk_miss
                )
            first = outs[0]
            return L(S.Null(), first.t, cols=cols)
        self._no_rationals(outs, "a table output computed by division", None)
        if len({o.integer for o in outs}) > 1 or any(o.int_flag is not None for o in outs):
            raise LoweringError(
                "a table output", "rows giving whole numbers and decimals in one column", None
            )
        scale = max((o.scale for o in outs), default=0)
        whens_v = tuple((S.Op("=", best, S.Lit(i, S.INT)), o.v) for i, o in enumerate(outs))
        v: S.Sql = S.Case(whens_v)
        if blk is not None:
            v = S.Case(((blk, S.Null()),), v)
        unk_whens: list[tuple[S.Sql, S.Sql]] = []
        miss_whens: list[tuple[S.Sql, S.Sql]] = []
        if blk is not None:
            assert blk_miss is not None
            unk_whens.append((blk, TRUE))
            miss_whens.append((blk, blk_miss))
        for i, o in enumerate(outs):
            if o.unk is not None:
                assert o.miss is not None
                sel = S.Op("=", best, S.Lit(i, S.INT))
                unk_whens.append((sel, o.unk))
                miss_whens.append((sel, o.miss))
        unk = S.Call("coalesce", (S.Case(tuple(unk_whens), FALSE), FALSE)) if unk_whens else None
        miss = S.Case(tuple(miss_whens)) if miss_whens else None
        t = outs[0].t if outs else T("any")
        return L(v, t, unk, miss, absent=True, scale=scale, integer=all(o.integer for o in outs))

    def _collect(
        self,
        table: ast.TableDecl,
        outs: list[L],
        trues: list[S.Sql],
        order: list[int],
        unk: S.Sql | None,
        miss: S.Sql | None,
    ) -> L:
        self._no_rationals(
            [c for o in outs for c in (o.cols.values() if o.cols else [o])],
            "a table output computed by division",
            table.span,
        )
        cols = self.table_columns.get(table.name, {})
        multi = outs and outs[0].cols is not None
        if multi:
            names = [o.name for o in table.outputs]
            ctype = S.SqlType(
                "struct",
                fields=tuple(
                    (nm, self._out_type(outs, nm, cols.get(nm, T("any")))) for nm in names
                ),
            )
            items: list[S.Sql] = [
                S.StructLit(
                    tuple(
                        (nm, self._canon(o.cols[nm] if o.cols else o, cols.get(nm, T("any"))))
                        for nm in names
                    )
                )
                for o in outs
            ]
            elem_t = T("tablerow", table.name)
        else:
            ct = next(iter(cols.values()), T("any"))
            ctype = self._out_type(outs, None, ct)
            items = [self._canon(o, ct) for o in outs]
            elem_t = ct
        literal_texts = (
            not multi
            and ctype.kind == "text"
            and all(
                isinstance(r.outputs[0], ast.String) and chr(31) not in r.outputs[0].value
                for r in table.rows
            )
        )
        if literal_texts and table.aggregation is None:
            # rows that write a text: the texts of the true rows, without a lambda
            texts = tuple(S.Case(((trues[i], items[i]),)) for i in order)
            # not empty exactly when some row is true (every row is known where the list is)
            nonempty = (
                S.Call("coalesce", (S.or_all([trues[i] for i in order]), FALSE)) if order else FALSE
            )
            res = L(S.Call("present_texts", texts), T("list", elem=elem_t), nonempty=nonempty)
            if unk is not None:
                res = attrs.evolve(res, v=S.Case(((unk, S.Null()),), res.v), unk=unk, miss=miss)
            return res
        wrapped = S.SqlType("struct", fields=(("s", S.BOOL), ("x", ctype)))
        lst = S.ListLit(
            tuple(
                S.StructLit((("s", S.Call("coalesce", (trues[i], FALSE))), ("x", items[i])))
                for i in order
            ),
            wrapped,
        )
        selected = S.Call(
            "list_transform",
            (
                S.Call("list_filter", (lst, S.Lambda(("c",), S.Field(S.Var("c"), "s")))),
                S.Lambda(("c",), S.Field(S.Var("c"), "x")),
            ),
        )
        agg = table.aggregation
        if agg in ("sum", "min", "max", "count") and self.hit[table.name] == "collect":
            if agg == "count":
                v: S.Sql = S.Call("len", (selected,))
                res = L(v, T("int"), integer=True)
            elif agg == "sum":
                v = _list_sum(selected, ctype)
                res = L(
                    v,
                    elem_t,
                    scale=max((o.scale for o in outs), default=0),
                    integer=False,
                )
            else:
                v = S.Call("list_min" if agg == "min" else "list_max", (selected,))
                res = L(
                    v,
                    elem_t,
                    absent=True,
                    scale=max((o.scale for o in outs), default=0),
                    integer=all(o.integer for o in outs),
                )
        else:
            res = L(selected, T("list", elem=elem_t))
        if unk is not None:
            res = attrs.evolve(res, v=S.Case(((unk, S.Null()),), res.v), unk=unk, miss=miss)
        return res

    def _out_type(self, outs: list[L], name: str | None, t: T) -> S.SqlType:
        parts = [(o.cols[name] if (name is not None and o.cols) else o) for o in outs]
        integer = all(p.integer for p in parts)
        scale = max((p.scale for p in parts), default=0)
        if t.kind == "money":
            return MONEY_OUT
        return _sql_type(t, integer, scale)

    def _canon(self, x: L, t: T) -> S.Sql:
        """x as it appears in a value: sets sorted, money rounded to cents."""
        if x.record is not None:
            raise AssertionError("table outputs that are records are refused in _outputs")
        v = x.v
        if t.kind == "money" and not x.integer:
            return S.Cast(v, MONEY_OUT) if x.scale <= 2 else S.Call("round", (v, S.Lit(2, S.INT)))
        if t.kind == "set":
            return S.Call("list_sort", (v,))
        return v

    def _no_rationals(self, xs: Sequence[L], what: str, span: Span | None) -> None:
        if any(x.den is not None for x in xs):
            raise LoweringError(what, "use round(x / y, n) so that every engine agrees", span)

    # ------------------------------------------------------------ cells
    def cell(self, cell: ast.Cell, v: L, table: str) -> L:
        if isinstance(cell, ast.CellAny):
            return truth_l(TRUE, None, None)
        results: list[L] = []
        for test in cell.tests:
            if isinstance(test, ast.TestRange):
                lo = self.expr(test.low, ())
                hi = self.expr(test.high, ())
                results.append(
                    self.and3(
                        [
                            self.compare(">=" if test.low_closed else ">", v, lo, test.span),
                            self.compare("<=" if test.high_closed else "<", v, hi, test.span),
                        ]
                    )
                )
            elif isinstance(test, ast.TestCompare):
                results.append(self.compare(test.op, v, self.expr(test.value, ()), test.span))
            else:
                x = self.expr(test.value, ())
                if x.t.kind == "set" and x.unk is not None:
                    raise LoweringError(
                        f"a cell of table {table}", "a set that may itself be unknown", test.span
                    )
                if x.t.kind == "set":
                    results.append(self.member(v, x, False, test.span, cell_form=True))
                elif x.t.collection:
                    raise LoweringError(
                        f"a cell of table {table}", "comparing a value with a list", test.span
                    )
                else:
                    results.append(self.compare("=", v, x, test.span))
        r = self.or3(results)
        return self.not3(r) if cell.negated else r

    # ------------------------------------------------------------ Kleene logic
    def truth(self, x: L) -> L:
        """x used as a condition: absent counts as false (values.truth)."""
        # the checker (F307) only lets true/false values be conditions
        assert x.record is None and x.cols is None and x.t.kind in ("bool", "any"), x.t
        absent = _absent_cond(x)
        if absent is None:
            if x.unk is None:
                return truth_l(x.v, None, None)
            return truth_l(x.v, S.IsNull(x.v), x.miss)
        if x.unk is None:
            return truth_l(S.Call("coalesce", (x.v, FALSE)), None, None)
        v = S.Case(((absent, FALSE),), x.v)
        return truth_l(v, S.IsNull(v), x.miss)

    def and3(self, xs: Sequence[L]) -> L:
        v = S.and_all([x.v for x in xs])
        unk, miss = _union(xs)
        return truth_l(v, S.IsNull(v) if unk is not None else None, miss)

    def or3(self, xs: Sequence[L]) -> L:
        v = S.or_all([x.v for x in xs])
        unk, miss = _union(xs)
        return truth_l(v, S.IsNull(v) if unk is not None else None, miss)

    def not3(self, x: L) -> L:
        v = S.Not(x.v)
        return truth_l(v, S.IsNull(v) if x.unk is not None else None, x.miss)

    # ------------------------------------------------------------ expressions
    def expr(self, e: ast.Expr, frames: tuple[_Frame, ...]) -> L:
        if isinstance(e, ast.Number):
            return self.const(e.value, T("number"))
        if isinstance(e, ast.Date):
            return self.const(e.value, T("date"))
        if isinstance(e, ast.String):
            return self.const(e.value, T("strlit"))
        if isinstance(e, ast.Bool):
            return self.const(e.value, BOOL_T)
        if isinstance(e, ast.Name):
            return self.name(e, frames)
        if isinstance(e, ast.RuleRef):
            return self.conclusion(e.rule_id)
        if isinstance(e, ast.And):
            return self.and3(
                [self.truth(self.expr(e.left, frames)), self.truth(self.expr(e.right, frames))]
            )
        if isinstance(e, ast.Or):
            return self.or3(
                [self.truth(self.expr(e.left, frames)), self.truth(self.expr(e.right, frames))]
            )
        if isinstance(e, ast.Not):
            return self.not3(self.truth(self.expr(e.operand, frames)))
        if isinstance(e, ast.Compare):
            return self.compare(e.op, self.expr(e.left, frames), self.expr(e.right, frames), e.span)
        if isinstance(e, ast.Between):
            v = self.expr(e.value, frames)
            return self.and3(
                [
                    self.compare(">=", v, self.expr(e.low, frames), e.span),
                    self.compare("<=", v, self.expr(e.high, frames), e.span),
                ]
            )
        if isinstance(e, ast.Attr):
            return self.attr(e, self.expr(e.obj, frames))
        if isinstance(e, ast.BinOp):
            return self.binop(e, frames)
        if isinstance(e, ast.In):
            return self.member(
                self.expr(e.left, frames), self.expr(e.right, frames), e.negated, e.span
            )
        if isinstance(e, ast.IsPred):
            return self.is_pred(e, self.expr(e.value, frames))
        if isinstance(e, ast.Call):
            return self.call(e, frames)
        if isinstance(e, ast.SetLit):
            return self.set_lit(e, frames)
        if isinstance(e, ast.Neg):
            x = self.expr(e.operand, frames)
            return attrs.evolve(x, v=S.Op("-", S.Lit(0, S.INT), x.v), positive=False)
        if isinstance(e, ast.If):
            return self.if_expr(e, frames)
        raise AssertionError(type(e).__name__)

    def name(self, e: ast.Name, frames: tuple[_Frame, ...]) -> L:
        n = e.name
        for frame in reversed(frames):
            if frame.record is not None:
                f = _field(frame.record, n)
                if f is not None:
                    return self.field(frame.elem, f)
            elif n in ELEMENT_NAMES:
                return frame.elem
        if n in BUILTIN_NAMES:
            return L(S.Lit(self.as_of, S.DATE), T("date"))
        alias = self.model.aliases.get(n)
        if alias is not None:
            kind, canonical = alias
            if kind == "let":
                return self.let(canonical)
            if kind == "param":
                return self.param(canonical, e.span)
            tv = self.table(canonical)
            assert tv.cols is not None
            return tv.cols["value"]
        if n in self.model.rules or n in self.model.rows:
            return self.conclusion(n)
        f = _field(self.root, n)
        assert f is not None, n
        return self.field(self._root_l(), f)

    def _root_l(self) -> L:
        return L(S.Null(), T("record", self.root.name), record=self.root, path=None)

    def _type_of_field(self, f: ast.Field) -> T:
        return type_of_ref(self.model, f.type) or T("any")

    def field(self, rec: L, f: ast.Field) -> L:
        """A field of a record value (the root row, a struct, or a list element)."""
        assert rec.record is not None
        is_root = rec.record is self.root and rec.path is None
        raw: S.Sql = S.Col(f.key) if is_root else S.Field(rec.v, f.key)
        t = self._type_of_field(f)
        # the text path, as the reference names missing inputs
        path: S.Sql
        if rec.path is None:
            path = S.Lit(f.key, S.TEXT)
        elif isinstance(rec.path, S.Lit):
            path = S.Lit(f"{rec.path.value}.{f.key}", S.TEXT)
        else:
            path = S.Call("concat", (rec.path, S.Lit("." + f.key, S.TEXT)))
        parent_absent = _absent_cond(rec)
        parent_gone = _or(parent_absent, rec.unk)
        v: S.Sql = raw
        has_default = not f.required and f.default is not ast.NO_DEFAULT and f.default is not None
        if has_default:
            v = S.Call("coalesce", (raw, self._default_sql(f, t)))
            if parent_gone is not None:
                v = S.Case(((parent_gone, S.Null()),), v)
        unk = rec.unk
        miss = rec.miss
        if f.required and self._may_be_null(rec, f):
            here = S.IsNull(raw)
            here_cond = _and_not(here, parent_gone) if parent_gone is not None else here
            unk = _or(rec.unk, here_cond)
            missing_here = S.ListLit((path,), S.TEXT)
            if rec.unk is not None:
                assert rec.miss is not None
                miss = S.Case(((rec.unk, rec.miss),), missing_here)
            else:
                miss = missing_here
        absent = rec.absent or (not f.required and not has_default)
        scale = INPUT_SCALES.get(t.kind, 0)
        integer = t.kind == "int"
        pattern = _pattern(rec, f.key)
        if t.kind == "record":
            sub = self.model.records[t.name or ""]
            return L(v, t, unk, miss, absent, record=sub, path=path, pattern=pattern)
        if t.kind == "list" and t.elem is not None and t.elem.kind == "record":
            return L(v, t, unk, miss, absent, path=path, pattern=pattern)
        positive = self.validated and not has_default and _bounded_positive(f)
        mag = NARROW_MAGNITUDE.get(t.kind) if self.narrow and is_root and not has_default else None
        return L(v, t, unk, miss, absent, scale=scale, integer=integer, positive=positive, mag=mag)

    def _may_be_null(self, rec: L, f: ast.Field) -> bool:
        if self.nullable is None:
            return True
        return _pattern(rec, f.key) in self.nullable

    def _default_sql(self, f: ast.Field, t: T) -> S.Sql:
        d = f.default
        if t.kind in ("list", "set"):
            assert isinstance(d, list)
            et = _sql_type(t.elem or T("any"))
            return S.ListLit(
                tuple(self.const(_json_default(x, t.elem), t.elem or T("any")).v for x in d), et
            )
        c = self.const(_json_default(d, t), t)
        if t.kind == "money" or t.kind == "number":
            return S.Cast(c.v, S.decimal(INPUT_SCALES[t.kind], 18 if t.kind == "money" else 38))
        if t.kind == "int":
            return S.Cast(c.v, S.INT)
        return c.v

    def attr(self, e: ast.Attr, obj: L) -> L:
        if obj.cols is not None:
            col = obj.cols.get(e.name)
            if col is None:
                raise AssertionError(e.name)
            # the row value is unknown or absent as a whole when no row is selected
            return col
        if obj.record is None:
            raise LoweringError(f".{e.name}", "reading a field of a computed value", e.span)
        f = _field(obj.record, e.name)
        assert f is not None
        return self.field(obj, f)

    # ------------------------------------------------------------ operators
    def _gone(self, xs: Sequence[L]) -> tuple[S.Sql | None, S.Sql | None, S.Sql | None]:
        """(absent-any condition, unknown condition given not absent, missing list)."""
        absent: S.Sql | None = None
        for x in xs:
            absent = _or(absent, _absent_cond(x))
        unk, miss = _union(xs)
        return absent, unk, miss

    def _value_result(
        self, v: S.Sql, t: T, xs: Sequence[L], *, strict: bool = False, **kw: Any
    ) -> L:
        """A value computed from xs: absent if any is absent, else unknown if any is.

        ``strict``: v is already NULL whenever an operand is (plain arithmetic), so no
        guard is needed; functions such as greatest() skip NULLs and need one.
        """
        absent, unk, miss = self._gone(xs)
        gone = _or(absent, unk)
        if gone is not None and not strict:
            v = S.Case(((gone, S.Null()),), v)
        if absent is not None:
            unk = _and_not(unk, absent)
        return L(v, t, unk, miss, absent is not None, **kw)

    def compare(self, op: str, a: L, b: L, span: Span) -> L:
        if a.t.collection or b.t.collection:
            raise LoweringError(f"comparison {op}", "comparing lists or sets", span)
        if a.record is not None or b.record is not None:
            raise LoweringError(f"comparison {op}", "comparing records", span)
        sop = {"!=": "<>", "≠": "<>", "≤": "<=", "≥": ">=", "＝": "="}.get(op, op)
        # a whole number compared with a literal written as a whole number: both BIGINT
        # (the same comparison, without casting the column to DECIMAL on every row)
        if a.integer and a.int_flag is None:
            b = _as_int_lit(b)
        if b.integer and b.int_flag is None:
            a = _as_int_lit(a)
        # a decimal literal at the scale it is compared at: no rescaling on every row
        b, a = _lit_at_scale(b, a), _lit_at_scale(a, b)
        left, right = a.v, b.v
        if a.den is not None or b.den is not None:
            left = (
                self._mul(a.v, a.scale, a.mag, b.den, b.dscale, b.dmag)
                if b.den is not None
                else a.v
            )
            right = (
                self._mul(b.v, b.scale, b.mag, a.den, a.dscale, a.dmag)
                if a.den is not None
                else b.v
            )
        cmp: S.Sql = S.Op(sop, left, right)
        absent, unk, miss = self._gone([a, b])
        if absent is not None:
            cmp = S.Case(((absent, FALSE),), cmp)
        return truth_l(cmp, S.IsNull(cmp) if unk is not None else None, miss)

    def member(self, a: L, b: L, negated: bool, span: Span, cell_form: bool = False) -> L:
        """``a in b`` (element of / subset of); absent makes it false."""
        if a.record is not None or b.record is not None:
            raise LoweringError("in", "membership of records", span)
        if a.t.collection:
            r: S.Sql = S.Call("list_has_all", (b.v, a.v))
        else:
            if a.den is not None:
                raise LoweringError("in", "membership of a quotient", span)
            r = S.Call("list_contains", (b.v, a.v))
        if negated:
            r = S.Not(r)
        if cell_form:
            # cells: unknown element first, then absent element, then membership
            absent = _absent_cond(a)
            v: S.Sql = r if absent is None else S.Case(((absent, FALSE),), r)
            if a.unk is not None:
                v = S.Case(((a.unk, S.Null(S.BOOL)),), v)
            return truth_l(v, S.IsNull(v) if a.unk is not None else None, a.miss)
        absent, unk, miss = self._gone([a, b])
        v = r
        if unk is not None:
            v = S.Case(((unk, S.Null(S.BOOL)),), v)
        if absent is not None:
            v = S.Case(((absent, FALSE),), v)
        return truth_l(v, S.IsNull(v) if unk is not None else None, miss)

    def binop(self, e: ast.BinOp, frames: tuple[_Frame, ...]) -> L:
        a = self.expr(e.left, frames)
        b = self.expr(e.right, frames)
        op = e.op
        if op in ("∩", "&"):
            return self._value_result(
                S.Call("list_intersect", (a.v, b.v)), T("set", elem=a.t.elem or b.t.elem), [a, b]
            )
        if op == "∪":
            return self._value_result(
                S.Call("list_union", (a.v, b.v)), T("set", elem=a.t.elem or b.t.elem), [a, b]
            )
        t = self._arith_type(a, b, op)
        if op in ("/", "÷"):
            return self._divide(e, a, b, t)
        if a.den is not None or b.den is not None:
            return self._rational(e, a, b, op, t)
        if a.int_flag is not None or b.int_flag is not None:
            flag = S.and_all([_int_flag(a), _int_flag(b)])
            res = self._binop_plain(op, a, b, t)
            return attrs.evolve(res, int_flag=flag, integer=False)
        return self._binop_plain(op, a, b, t)

    def _binop_plain(self, op: str, a: L, b: L, t: T) -> L:
        if op in ("+", "-"):
            v: S.Sql = S.Op(op, a.v, b.v)
            return self._value_result(
                v,
                t,
                [a, b],
                strict=True,
                scale=max(a.scale, b.scale),
                integer=a.integer and b.integer,
                mag=_mag_sum(a.mag, b.mag),
            )
        # multiplication: widen decimals so that no engine narrows the product
        both = a.integer and b.integer
        if self.narrow and not both:
            v = self._mul(a.v, a.scale, a.mag, b.v, b.scale, b.mag)
        else:
            v = S.Op("*", self._mul_operand(a, both), self._mul_operand(b, both))
        return self._value_result(
            v,
            t,
            [a, b],
            strict=True,
            scale=a.scale + b.scale,
            integer=both,
            mag=_mag_product(a.mag, b.mag),
        )

    def _mul_operand(self, x: L, integers: bool) -> S.Sql:
        if integers or (x.integer and not (self.narrow and x.mag is not None)):
            return x.v
        return self._dc(x.v, x.scale, x.mag)

    def _mul(
        self,
        x: S.Sql | None,
        xs: int,
        xm: Decimal | None,
        y: S.Sql | None,
        ys: int,
        ym: Decimal | None,
    ) -> S.Sql:
        """x × y as decimals of scales xs and ys (bounded by xm and ym in a narrow plan)."""
        left, right = self._dc(x, xs, xm), self._dc(y, ys, ym)
        if self.narrow and (
            narrow_decimal(xs, xm).precision + narrow_decimal(ys, ym).precision > 18
        ):
            # DuckDB multiplies two 64-bit decimals in 64 bits (and raises on overflow):
            # a product that may need more digits is computed with 38
            assert x is not None
            left = S.Cast(x, S.decimal(xs))
        return S.Op("*", left, right)

    def _dc(self, x: S.Sql | None, scale: int, mag: Decimal | None) -> S.Sql:
        """x as a decimal of the given scale: DECIMAL(38, scale), or in a narrow plan the
        narrowest type holding |x| <= mag (a checked CAST)."""
        assert x is not None
        if self.narrow:
            return S.Cast(x, narrow_decimal(scale, mag))
        return S.Cast(x, S.decimal(scale))

    def _arith_type(self, a: L, b: L, op: str) -> T:
        from fanpin_rules.types import arith

        if op in ("×",):
            op = "*"
        if op in ("÷",):
            op = "/"
        return arith(op, a.t, b.t) or T("number")

    def _frac(self, x: L) -> tuple[S.Sql, S.Sql, int, int]:
        num = x.v if not x.integer else self._dc(x.v, 0, x.mag)
        if x.den is None:
            return num, dec_lit(Decimal(1)), x.scale, 0
        return num, x.den, x.scale, x.dscale

    def _mags(self, x: L) -> tuple[Decimal | None, Decimal | None]:
        """Bounds of x's numerator and denominator (as :meth:`_frac` writes them)."""
        return x.mag, (x.dmag if x.den is not None else Decimal(1))

    def _divide(self, e: ast.BinOp, a: L, b: L, t: T) -> L:
        na, da, sa, sda = self._frac(a)
        nb, db, sb, sdb = self._frac(b)
        (ma, mda), (mb, mdb) = self._mags(a), self._mags(b)
        num: S.Sql = self._mul(na, sa, ma, db, sdb, mdb)
        den: S.Sql = self._mul(da, sda, mda, nb, sb, mb)
        if b.positive and b.den is None:
            # a validated divisor bounded above zero: no sign or zero test; x / 1 needs no
            # multiplication by the denominator 1
            if a.den is None:
                num, den = self._dc(na, sa, ma), self._dc(nb, sb, mb)
            res = self._value_result(num, t, [a, b], scale=sa + sdb)
            absent, unk, _ = self._gone([a, b])
            gone = _or(absent, unk)
            den_p: S.Sql = den if gone is None else S.Case(((gone, S.Null()),), den)
            return attrs.evolve(
                res,
                den=den_p,
                dscale=sda + sb,
                integer=False,
                mag=_mag_product(ma, mdb),
                dmag=_mag_product(mda, mb),
            )
        msg = f"除数为零 / division by zero at {e.span.where()}"
        zero = S.Op("=", nb, S.Lit(0, S.INT))
        neg = S.Op("<", nb, S.Lit(0, S.INT))
        num_s = S.Case(((neg, S.Op("-", S.Lit(0, S.INT), num)),), num)
        den_s = S.Case(((zero, S.Call("error", (S.Lit(msg, S.TEXT),))),), S.Call("abs", (den,)))
        res = self._value_result(num_s, t, [a, b], scale=sa + sdb)
        absent, unk, _ = self._gone([a, b])
        gone = _or(absent, unk)
        if gone is not None:
            den_s = S.Case(((gone, S.Null()),), den_s)
        return attrs.evolve(res, den=den_s, dscale=sda + sb, integer=False)

    def _rational(self, e: ast.BinOp, a: L, b: L, op: str, t: T) -> L:
        na, da, sa, sda = self._frac(a)
        nb, db, sb, sdb = self._frac(b)
        if op in ("*", "×"):
            num = S.Op("*", S.Cast(na, S.decimal(sa)), S.Cast(nb, S.decimal(sb)))
            den = S.Op("*", S.Cast(da, S.decimal(sda)), S.Cast(db, S.decimal(sdb)))
            scale, dscale = sa + sb, sda + sdb
        else:
            left = S.Op("*", S.Cast(na, S.decimal(sa)), S.Cast(db, S.decimal(sdb)))
            right = S.Op("*", S.Cast(nb, S.decimal(sb)), S.Cast(da, S.decimal(sda)))
            num = S.Op(op, left, right)
            den = S.Op("*", S.Cast(da, S.decimal(sda)), S.Cast(db, S.decimal(sdb)))
            scale, dscale = max(sa + sdb, sb + sda), sda + sdb
        res = self._value_result(num, t, [a, b], scale=scale)
        return attrs.evolve(res, den=den, dscale=dscale, integer=False)

    def integerize(self, x: L) -> L:
        """A fraction as two exact integers (numerator, positive denominator), same value."""
        assert x.den is not None
        k = max(x.scale, x.dscale)
        factor = dec_lit(Decimal(10) ** k)
        n_int = self._integer(S.Op("*", S.Cast(x.v, S.decimal(x.scale)), factor))
        d_int = self._integer(S.Op("*", S.Cast(x.den, S.decimal(x.dscale)), factor))
        return attrs.evolve(x, v=n_int, den=d_int, scale=0, dscale=0, mag=None, dmag=None)

    def _integer(self, x: S.Sql) -> S.Sql:
        """An integral value as an exact integer: 128-bit, or 64-bit (a checked CAST: the
        query stops when a value does not fit) in an ``int64_rounding`` plan."""
        return S.Call("to_int64" if self.int64_rounding else "to_integer", (x,))

    def round_frac(self, x: L, places: int) -> S.Sql:
        """x (a fraction with positive denominator) rounded half away from zero, exactly."""
        assert x.den is not None
        if x.scale or x.dscale:
            x = self.integerize(x)
        assert x.den is not None
        n_int, d_int = x.v, x.den
        if self.int64_rounding:
            # (integerize's columns are BIGINT already; a whole-number fraction is made so)
            if not _is_int64(n_int):
                n_int = self._integer(n_int)
            if not _is_int64(d_int):
                d_int = self._integer(d_int)
            ten_k: S.Sql = S.Lit(10**places, S.INT)
            two: S.Sql = S.Lit(2, S.INT)
        else:
            ten_k = S.Call("to_integer", (dec_lit(Decimal(10) ** places),))
            two = S.Call("to_integer", (dec_lit(Decimal(2)),))
        scaled = S.Op("*", S.Call("abs", (n_int,)), ten_k)
        q = S.Call("idiv", (S.Op("+", S.Op("*", two, scaled), d_int), S.Op("*", two, d_int)))
        signed = S.Case(((S.Op("<", n_int, S.Lit(0, S.INT)), S.Op("-", S.Lit(0, S.INT), q)),), q)
        unit = dec_lit(Decimal(1).scaleb(-places)) if places > 0 else dec_lit(Decimal(1))
        return S.Op("*", S.Cast(signed, S.decimal(0)), unit)

    def set_lit(self, e: ast.SetLit, frames: tuple[_Frame, ...]) -> L:
        items = [self.expr(i, frames) for i in e.items]
        if any(i.record is not None or i.t.collection or i.den is not None for i in items):
            raise LoweringError("a set literal", "sets of records, lists or quotients", e.span)
        elem = T("any")
        for i in items:
            if elem.kind == "any" or elem.kind == "strlit":
                elem = i.t
        integer = all(i.integer for i in items)
        et = _sql_type(elem, integer, max((i.scale for i in items), default=0))
        vs = [i.v if i.integer or et.kind != "decimal" else S.Cast(i.v, et) for i in items]
        lst: S.Sql = S.ListLit(tuple(vs), et)
        if any(i.absent for i in items):
            lst = S.Call("list_filter", (lst, S.Lambda(("x",), S.IsNull(S.Var("x"), True))))
        unk, miss = _union(items)
        v: S.Sql = S.Call("list_distinct", (lst,)) if len(items) > 1 else lst
        if unk is not None:
            v = S.Case(((unk, S.Null()),), v)
        return L(v, T("set", elem=elem), unk, miss)

    def is_pred(self, e: ast.IsPred, x: L) -> L:
        pred = PREDICATES[e.pred]
        absent = _absent_cond(x)
        if pred == "empty":
            if x.record is not None:
                raise LoweringError("is empty", "testing a record for emptiness", e.span)
            if x.t.kind in ("text", "strlit", "enum") or x.t.kind == "any":
                test: S.Sql = S.Op("=", S.Call("trim_ws", (x.v,)), S.Lit("", S.TEXT))
            elif x.nonempty is not None:
                # a list of the texts of true rows: empty when no row is true (no list built)
                test = S.Not(x.nonempty)
            else:
                test = S.Op("=", S.Call("len", (x.v,)), S.Lit(0, S.INT))
            whens: list[tuple[S.Sql, S.Sql]] = []
            if x.unk is not None:
                whens.append((x.unk, S.Null(S.BOOL)))
            if absent is not None:
                whens.append((absent, TRUE))
            v: S.Sql = S.Case(tuple(whens), test) if whens else test
            r = truth_l(v, S.IsNull(v) if x.unk is not None else None, x.miss)
        else:
            gone = _or(absent, x.unk)
            v = gone if gone is not None else FALSE
            if pred == "present":
                v = S.Not(v)
            r = truth_l(v, None, None)
        return self.not3(r) if e.negated else r

    def if_expr(self, e: ast.If, frames: tuple[_Frame, ...]) -> L:
        c = self.truth(self.expr(e.cond, frames))
        a = self.expr(e.then, frames)
        b = self.expr(e.else_, frames)
        if a.record is not None or b.record is not None or a.cols or b.cols:
            raise LoweringError("if … then … else", "choosing between records", e.span)
        yes = S.Op("=", c.v, TRUE)
        no = S.Op("=", c.v, FALSE)
        int_flag: S.Sql | None = None
        mixed = a.integer != b.integer or a.int_flag is not None or b.int_flag is not None
        if mixed and (a.t.numeric and b.t.numeric):
            # the reference keeps an int from one branch and a Decimal from the other
            int_flag = S.Case(((yes, _int_flag(a)), (no, _int_flag(b))), FALSE)
        if (a.den is None) != (b.den is None):
            a, b = self._as_fraction(a), self._as_fraction(b)
        if a.integer != b.integer:
            a, b = self._as_dec(a), self._as_dec(b)
        v = S.Case(((yes, a.v), (no, b.v)))
        den = None
        if a.den is not None and b.den is not None:
            den = S.Case(((yes, a.den), (no, b.den)))
        unk_whens: list[tuple[S.Sql, S.Sql]] = []
        miss_whens: list[tuple[S.Sql, S.Sql]] = []
        if c.unk is not None:
            assert c.miss is not None
            unk_whens.append((c.unk, TRUE))
            miss_whens.append((c.unk, c.miss))
        for cond, x in ((yes, a), (no, b)):
            if x.unk is not None:
                assert x.miss is not None
                unk_whens.append((cond, x.unk))
                miss_whens.append((cond, x.miss))
        unk = S.Call("coalesce", (S.Case(tuple(unk_whens), FALSE), FALSE)) if unk_whens else None
        miss = S.Case(tuple(miss_whens)) if miss_whens else None
        from fanpin_rules.types import unify

        t = unify(a.t, b.t) or a.t
        return L(
            v,
            t,
            unk,
            miss,
            a.absent or b.absent,
            den=den,
            scale=max(a.scale, b.scale),
            dscale=max(a.dscale, b.dscale),
            integer=a.integer and b.integer,
            int_flag=int_flag,
        )

    def _as_dec(self, x: L) -> L:
        """x as a decimal (the reference may still hold an int: see ``int_flag``)."""
        if x.integer:
            return attrs.evolve(x, v=S.Cast(x.v, S.decimal(0)), integer=False)
        return x

    def _as_fraction(self, x: L) -> L:
        """x with a denominator (1 when it had none)."""
        x = self._as_dec(x)
        if x.den is None:
            x = attrs.evolve(x, den=dec_lit(Decimal(1)), dscale=0)
        return x

    # ------------------------------------------------------------ hoisted aggregations
    def _hoist(self, key: str, agg: S.Sql, default: S.Sql | None) -> S.Sql:
        """Register an aggregate over the unnested list column ``key``; the column to read."""
        name = self._fresh("magg")
        # in the unnested rows the element index is a plain 0-based column
        flat = S.transform(agg, lambda n: S.Var(ELEM_IDX) if n == S.Idx(ELEM_IDX) else None)
        self.hoisted.setdefault(key, []).append((name, flat))
        col: S.Sql = S.Col(name)
        return col if default is None else S.Call("coalesce", (col, default))

    # ------------------------------------------------------------ calls
    def call(self, e: ast.Call, frames: tuple[_Frame, ...]) -> L:
        func = FUNCTION_ALIASES.get(e.func, e.func)
        if func == "missing_required":
            return truth_l(
                S.Op(">", S.Call("len", (S.Col(MISSING_COLUMN),)), S.Lit(0, S.INT)), None, None
            )
        if func in AGGREGATES and len(e.args) == 1:
            return self.aggregate(func, e, frames)
        if func == "round":
            assert isinstance(e.args[1], ast.Number)
            places = int(e.args[1].value)
            if places < 0 or places != e.args[1].value:
                raise LoweringError("round", "a negative or fractional number of places", e.span)
            arg = e.args[0]
            if self.lambda_depth == 0 and isinstance(arg, ast.BinOp) and arg.op in ("/", "÷"):
                # the exact quotient as two integer columns, then a small rounding expression

                def build() -> tuple[L, list[tuple[str, S.Sql]]]:
                    q = self.expr(arg, ())
                    return self.materialise("frac", self.integerize(q))

                x = self._node(self._fresh("frac"), build)
            else:
                x = self.expr(arg, frames)
            if x.den is not None:
                v = self.round_frac(x, places)
            elif x.integer:
                v = S.Cast(x.v, S.decimal(places))
            else:
                v = S.Call("round", (x.v, S.Lit(places, S.INT)))
            return self._value_result(v, x.t, [x], scale=places)
        args = [self.expr(a, frames) for a in e.args]
        if func == "months":
            a, b = args
            ya, ma, da_ = (S.Call(p, (a.v,)) for p in ("year", "month", "day"))
            yb, mb, db_ = (S.Call(p, (b.v,)) for p in ("year", "month", "day"))
            v = S.Op(
                "-",
                S.Op(
                    "+",
                    S.Op("*", S.Lit(12, S.INT), S.Op("-", yb, ya)),
                    S.Op("-", mb, ma),
                ),
                S.Case(((S.Op("<", db_, da_), S.Lit(1, S.INT)),), S.Lit(0, S.INT)),
            )
            return self._value_result(S.Cast(v, S.INT), T("int"), args, integer=True)
        if func == "abs":
            x = args[0]
            res = self._value_result(
                S.Call("abs", (x.v,)), x.t, [x], scale=x.scale, integer=x.integer
            )
            return attrs.evolve(res, den=x.den, dscale=x.dscale)
        if func in ("min", "max"):
            if any(a.den is not None for a in args):
                raise LoweringError(func, "min/max of quotients", e.span)
            if len({a.integer for a in args}) > 1:
                raise LoweringError(func, "min/max of whole numbers mixed with decimals", e.span)
            from fanpin_rules.types import unify

            t = args[0].t
            for a in args[1:]:
                t = unify(t, a.t) or t
            v = S.Call("least" if func == "min" else "greatest", tuple(a.v for a in args))
            return self._value_result(
                v, t, args, scale=max(a.scale for a in args), integer=args[0].integer
            )
        raise LoweringError(f"function {e.func}", "not supported", e.span)

    def aggregate(self, func: str, e: ast.Call, frames: tuple[_Frame, ...]) -> L:
        items = self.expr(e.args[0], frames)
        if items.cols is not None or not items.t.collection:
            raise LoweringError(f"{e.func}(…)", "aggregating something that is not a list", e.span)
        elem_t = items.t.elem or T("any")
        # an aggregation over a list column of the input (``members``), at the top level,
        # becomes a GROUP BY over the unnested list when its condition and value read only
        # the element: one vectorised pass for all such aggregations instead of a lambda each
        hoist_key = (
            items.v.name
            if self.hoist
            and self.lambda_depth == 0
            and isinstance(items.v, S.Col)
            and elem_t.kind == "record"
            else None
        )
        self.lambda_depth += 1
        xn, iname = f"x{self.lambda_depth}", f"i{self.lambda_depth}"
        if hoist_key is not None:
            xn, iname = ELEM_VAR, ELEM_IDX
        try:
            if elem_t.kind == "record":
                rec = self.model.records[elem_t.name or ""]
                base = items.path if items.path is not None else S.Lit("?", S.TEXT)
                path = S.Call(
                    "concat",
                    (
                        base,
                        S.Lit("[", S.TEXT),
                        S.Call("to_text", (S.Idx(iname),)),
                        S.Lit("]", S.TEXT),
                    ),
                )
                elem = L(S.Var(xn), elem_t, record=rec, path=path, pattern=f"{items.pattern}[]")
                frame = _Frame(elem, rec)
            else:
                integer = elem_t.kind == "int"
                elem = L(S.Var(xn), elem_t, scale=INPUT_SCALES.get(elem_t.kind, 0), integer=integer)
                frame = _Frame(elem, None)
            inner = (*frames, frame)
            lam_params = (xn, iname)
            where = self.truth(self.expr(e.where, inner)) if e.where is not None else None
            body = self.expr(e.body, inner) if e.body is not None else None
        finally:
            self.lambda_depth -= 1
        # items unknown -> unknown; absent -> empty list
        lst: S.Sql = items.v
        if items.absent:
            lst = S.Call("coalesce", (lst, S.ListLit((), _sql_type(elem_t))))
        if hoist_key is not None:
            parts = [x for x in (where, body) if x is not None]
            exprs = [y for x in parts for y in (x.v, x.unk, x.miss, x.den) if y is not None]
            if any(S.contains(y, lambda n: isinstance(n, S.Col)) for y in exprs):
                hoist_key = None  # reads the household too: stay with list lambdas
        zero = S.Lit(0, S.INT)

        def count_where(cond: S.Sql) -> S.Sql:
            if hoist_key is not None:
                return self._hoist(hoist_key, S.Agg("count", None, cond), zero)
            return S.Call("len", (S.Call("list_filter", (lst, S.Lambda(lam_params, cond))),))

        def flat_miss(cond: S.Sql, miss: S.Sql) -> S.Sql:
            # a lambda even when hoisted: it runs only on the (few) rows found unknown,
            # where a list aggregate in the GROUP BY would run for every household
            inner_l = S.Call(
                "list_transform",
                (lst, S.Lambda(lam_params, S.Case(((cond, miss),), EMPTY_TEXT_LIST))),
            )
            return S.Call("flatten", (inner_l,))

        if func in ("count", "any", "all"):
            if body is not None:
                b = self.truth(body)
            elif func == "all" and e.where is None:
                b = self.truth(elem)
            else:
                b = truth_l(TRUE, None, None)
            if func == "all":
                t = self.or3([self.not3(where), b]) if where is not None else b
            else:
                t = self.and3([where, b]) if where is not None else b
            is_true = S.Call("coalesce", (t.v, FALSE))
            if func == "count":
                v: S.Sql = count_where(is_true)
                if t.unk is None:
                    res = L(v, T("int"), integer=True)
                else:
                    assert t.miss is not None
                    has_unk = S.Op(">", count_where(S.IsNull(t.v)), zero)
                    v = S.Case(((has_unk, S.Null(S.INT)),), v)
                    res = L(v, T("int"), has_unk, flat_miss(S.IsNull(t.v), t.miss), integer=True)
            else:
                if func == "any":
                    decided = S.Op(">", count_where(is_true), zero)
                    decided_v = TRUE
                else:
                    decided = S.Op(">", count_where(S.Call("coalesce", (S.Not(t.v), FALSE))), zero)
                    decided_v = FALSE
                if t.unk is None:
                    v = decided if func == "any" else S.Not(decided)
                    res = truth_l(v, None, None)
                else:
                    assert t.miss is not None
                    has_unk = S.Op(">", count_where(S.IsNull(t.v)), zero)
                    other = FALSE if func == "any" else TRUE
                    v = S.Case(((decided, decided_v), (has_unk, S.Null(S.BOOL))), other)
                    res = truth_l(v, S.IsNull(v), flat_miss(S.IsNull(t.v), t.miss))
        else:
            value = body if body is not None else elem
            if value.den is not None or value.record is not None or value.t.collection:
                raise LoweringError(
                    f"{e.func}(…)", "aggregating quotients, records or lists", e.span
                )
            take: S.Sql = S.IsNull(value.v, True)
            unk_cond: S.Sql | None = None
            miss_cond: list[tuple[S.Sql, S.Sql]] = []
            if where is not None:
                take = S.Op("AND", S.Op("=", where.v, TRUE), take)
                if where.unk is not None:
                    assert where.miss is not None
                    unk_cond = S.IsNull(where.v)
                    miss_cond.append((S.IsNull(where.v), where.miss))
            if value.unk is not None:
                assert value.miss is not None
                c = value.unk if where is None else S.Op("AND", S.Op("=", where.v, TRUE), value.unk)
                unk_cond = _or(unk_cond, c)
                miss_cond.append((c, value.miss))
            selected = S.Call(
                "list_transform",
                (
                    S.Call("list_filter", (lst, S.Lambda(lam_params, take))),
                    S.Lambda((xn,), value.v),
                ),
            )
            vt = _sql_type(value.t, value.integer, value.scale)
            if func == "sum":
                if hoist_key is not None:
                    zero_t: S.Sql = S.Lit(0, S.INT) if vt.kind == "bigint" else S.Cast(zero, vt)
                    total = self._hoist(hoist_key, S.Agg("sum", value.v, take), zero_t)
                    v = S.Cast(total, S.decimal(value.scale) if vt.kind != "bigint" else vt)
                else:
                    v = _list_sum(selected, vt)
                res = L(v, value.t, scale=value.scale, integer=False)
            else:
                if hoist_key is not None:
                    v = self._hoist(hoist_key, S.Agg(func, value.v, take), None)
                else:
                    v = S.Call("list_min" if func == "min" else "list_max", (selected,))
                res = L(v, value.t, absent=True, scale=value.scale, integer=value.integer)
            if unk_cond is not None:
                has_unk = S.Op(">", count_where(unk_cond), zero)
                inner_miss = S.Case(tuple(miss_cond))
                res = attrs.evolve(
                    res,
                    v=S.Case(((has_unk, S.Null()),), res.v),
                    unk=has_unk,
                    miss=flat_miss(unk_cond, inner_miss),
                )
        # the list itself unknown or absent
        if items.unk is not None:
            assert items.miss is not None
            gone_v = S.Case(((items.unk, S.Null()),), res.v)
            unk = _or(items.unk, res.unk)
            miss = (
                S.Case(((items.unk, items.miss),), res.miss) if res.miss is not None else items.miss
            )
            res = attrs.evolve(res, v=gone_v, unk=unk, miss=miss)
            if res.t.kind == "bool":
                res = truth_l(res.v, S.IsNull(res.v), res.miss)
        return res


MISSING_COLUMN = "__fp_missing"
ELEM_VAR = "__fp_m"  # a list element, in lambdas and in unnested rows
ELEM_IDX = "__fp_i"  # its 0-based index
ROW_ID = "__fp_row"  # the household's row number, to join aggregations back and to order


def _list_sum(lst: S.Sql, t: S.SqlType) -> S.Sql:
    """The sum of a list of numbers of SQL type t (0 for an empty list)."""
    zero: S.Sql = (
        S.Lit(0, S.INT) if t.kind == "bigint" else S.Cast(S.Lit(0, S.INT), S.decimal(t.scale))
    )
    return S.Call("list_sum", (lst, zero))


def _is_int64(e: S.Sql) -> bool:
    return isinstance(e, S.Call) and e.func == "to_int64"


def _as_int_lit(x: L) -> L:
    """x, a decimal literal with a whole value within BIGINT, as a BIGINT literal."""
    v = x.v
    if (
        isinstance(v, S.Lit)
        and v.type.kind == "decimal"
        and x.den is None
        and x.unk is None
        and not x.absent
        and isinstance(v.value, Decimal)
        and v.value == v.value.to_integral_value()
        and abs(v.value) < 2**63
    ):
        return attrs.evolve(x, v=S.Lit(int(v.value), S.INT), scale=0)
    return x


def _lit_at_scale(lit: L, other: L) -> L:
    """``lit``, a decimal literal compared with ``other``, written at the scale of the other
    side of the comparison (``other``, or ``other``'s numerator over its denominator), when
    that scale is larger: the same value, but money compares with money without a cast."""
    v = lit.v
    if not (
        isinstance(v, S.Lit)
        and v.type.kind == "decimal"
        and isinstance(v.value, Decimal)
        and lit.den is None
        and not other.integer
        and other.int_flag is None
    ):
        return lit
    target = other.scale - (other.dscale if other.den is not None else 0)
    if target <= v.type.scale:
        return lit
    digits = len(format(abs(v.value), "f").split(".")[0].lstrip("0")) + target
    if digits > 38:
        return lit
    precision = max(digits, 1)
    return attrs.evolve(lit, v=S.Lit(v.value, S.decimal(target, precision)), scale=target)


def _bounded_positive(f: ast.Field) -> bool:
    """Whether the field's declared bounds rule out zero and negative values."""
    return any((b.op == ">=" and b.value > 0) or (b.op == ">" and b.value >= 0) for b in f.bounds)


def _field(record: ast.RecordDecl, name: str) -> ast.Field | None:
    for f in record.fields:
        if f.key == name or f.label == name:
            return f
    return None


def _pattern(rec: L, key: str) -> str:
    """A field's place with list indexes erased: ``members[].age``."""
    return key if rec.pattern is None else f"{rec.pattern}.{key}"


def _json_default(d: Any, t: T | None) -> Any:
    if t is None:
        return d
    if t.kind in ("money", "number") and not isinstance(d, bool):
        return Decimal(str(d))
    if t.kind == "int" and not isinstance(d, bool):
        return int(Decimal(str(d)))
    if t.kind == "date" and isinstance(d, str):
        return dt.date.fromisoformat(d)
    return d


# ---------------------------------------------------------------- whole policies

RenderSpec = Any  # "money" | "int" | "number" | "bool" | "date" | "text" | ("list"|"struct", …)


class _Outputs:
    """Builds the reported values (``Result.values``) from lowered lets and tables."""

    def __init__(self, low: Lowering) -> None:
        self.low = low

    def value(self, name: str, x: L, t: T, span: Span | None = None) -> OutputValue:
        self.span = span
        expr, spec = self.scalar(name, x, t)
        return OutputValue(name, expr, spec)

    span: Span | None = None

    def scalar(self, name: str, x: L, t: T) -> tuple[S.Sql, RenderSpec]:
        if x.record is not None:
            raise LoweringError(f"value {name}", "a whole input record as a value", self.span)
        if x.cols is not None:
            fields = []
            specs = []
            cols = self.low.table_columns.get(name, {})
            for col, cx in x.cols.items():
                e, sp = self.scalar(name, cx, cols.get(col, cx.t))
                fields.append((col, e))
                specs.append((col, sp))
            return S.StructLit(tuple(fields)), ("struct", tuple(specs))
        if x.den is not None:
            if t.kind != "money":
                raise LoweringError(
                    f"value {name}",
                    "a non-money value computed by division is reported with 28 significant "
                    "digits by the reference; write round(x / y, n)",
                    self.span,
                )
            return S.Cast(self.low.round_frac(x, 2), MONEY_OUT), "money"
        if x.integer:
            return x.v, "int"
        if x.int_flag is not None:
            inner, spec = self.scalar(name, attrs.evolve(x, int_flag=None), t)
            return S.StructLit((("v", inner), ("int", x.int_flag))), ("intflag", spec)
        k = t.kind
        if k == "money":
            v = x.v if x.scale <= 2 else S.Call("round", (x.v, S.Lit(2, S.INT)))
            return S.Cast(v, MONEY_OUT), "money"
        if k in ("int", "intlit"):
            # a Decimal rendered as a whole number (it is integral for these types)
            return S.Cast(x.v, S.INT), "int"
        if k == "number":
            return x.v, "number"
        if k == "bool":
            return x.v, "bool"
        if k == "date":
            return x.v, "date"
        if k in ("text", "strlit", "enum", "any"):
            return x.v, "text"
        if k in ("list", "set"):
            elem = t.elem or T("any")
            if elem.kind in ("record", "tablerow"):
                spec = self.row_spec(name) if elem.kind == "tablerow" else None
                if spec is None:
                    raise LoweringError(f"value {name}", "a list of input records", self.span)
                return x.v, ("list", spec)
            v = S.Call("list_sort", (x.v,)) if k == "set" else x.v
            return v, ("list", _elem_spec(elem))
        raise LoweringError(f"value {name}", f"a value of type {t.show('en')}", self.span)

    def row_spec(self, table: str) -> RenderSpec:
        cols = self.low.table_columns.get(table, {})
        return ("struct", tuple((c, _elem_spec(ct)) for c, ct in cols.items()))

    def table(self, name: str, x: L) -> OutputValue:
        cols = self.low.table_columns.get(name, {})
        if x.cols is not None:
            return self.value(name, x, T("tablerow", name))
        if x.t.kind == "list":
            elem = x.t.elem or T("any")
            if elem.kind == "tablerow":
                return OutputValue(name, x.v, ("list", self.row_spec(name)))
            return OutputValue(name, x.v, ("list", _elem_spec(next(iter(cols.values()), elem))))
        t = next(iter(cols.values())) if len(cols) == 1 else (self.low.types.get(name) or x.t)
        return self.value(name, x, t)


def _int_flag(x: L) -> S.Sql:
    """Where the reference holds a Python int for x."""
    if x.int_flag is not None:
        return x.int_flag
    return TRUE if x.integer else FALSE


def _elem_spec(t: T) -> RenderSpec:
    """How the reference renders an element of a list or a table column value."""
    k = t.kind
    if k == "intlit":
        return "int"
    if k in ("money", "int", "number", "bool", "date"):
        return k
    if k in ("list", "set"):
        return ("list", _elem_spec(t.elem or T("any")))
    return "text"


def missing_list(low: Lowering) -> S.Sql:
    """``Household.missing``: every absent required input, in declaration order."""
    found = _missing_of(low, low.root, None, None, None, 0)
    return found if found is not None else EMPTY_TEXT_LIST


def _missing_of(
    low: Lowering,
    rec: ast.RecordDecl,
    base: S.Sql | None,
    path: S.Sql | None,
    pattern: str | None,
    depth: int,
) -> S.Sql | None:
    parts: list[S.Sql] = []
    for f in rec.fields:
        raw: S.Sql = S.Col(f.key) if base is None else S.Field(base, f.key)
        if path is None:
            fpath: S.Sql = S.Lit(f.key, S.TEXT)
        elif isinstance(path, S.Lit):
            fpath = S.Lit(f"{path.value}.{f.key}", S.TEXT)
        else:
            fpath = S.Call("concat", (path, S.Lit("." + f.key, S.TEXT)))
        fpattern = f.key if pattern is None else f"{pattern}.{f.key}"
        t = type_of_ref(low.model, f.type) or T("any")
        child: S.Sql | None = None
        if t.kind == "record":
            child = _missing_of(low, low.model.records[t.name or ""], raw, fpath, fpattern, depth)
        elif t.kind == "list" and t.elem is not None and t.elem.kind == "record":
            x, i = f"m{depth}", f"j{depth}"
            epath = S.Call(
                "concat",
                (fpath, S.Lit("[", S.TEXT), S.Call("to_text", (S.Idx(i),)), S.Lit("]", S.TEXT)),
            )
            inner = _missing_of(
                low,
                low.model.records[t.elem.name or ""],
                S.Var(x),
                epath,
                fpattern + "[]",
                depth + 1,
            )
            if inner is not None:
                child = S.Call(
                    "flatten", (S.Call("list_transform", (raw, S.Lambda((x, i), inner))),)
                )
        nullable = f.required and (low.nullable is None or fpattern in low.nullable)
        if nullable:
            parts.append(
                S.Case(((S.IsNull(raw), S.ListLit((fpath,), S.TEXT)),), child or EMPTY_TEXT_LIST)
            )
        elif child is not None:
            parts.append(S.Case(((S.IsNull(raw), EMPTY_TEXT_LIST),), child))
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = S.Call("list_concat", (out, p))
    return out


def required_patterns(model: PolicyModel) -> list[str]:
    """Every required input's place (``members[].age``): the candidates for NULL checks."""
    out: list[str] = []

    def walk(rec: ast.RecordDecl, pattern: str | None) -> None:
        for f in rec.fields:
            p = f.key if pattern is None else f"{pattern}.{f.key}"
            if f.required:
                out.append(p)
            t = type_of_ref(model, f.type) or T("any")
            if t.kind == "record":
                walk(model.records[t.name or ""], p)
            elif t.kind == "list" and t.elem is not None and t.elem.kind == "record":
                walk(model.records[t.elem.name or ""], p + "[]")

    assert model.root_record is not None
    walk(model.root_record, None)
    return out


def lower_policy(
    policy: Any,
    as_of: dt.date,
    params: Mapping[str, ParamBinding],
    nullable: frozenset[str] | None = None,
    *,
    hoist: bool = True,
    validated: bool = False,
    narrow: bool = False,
    int64_rounding: bool = False,
) -> Lowered:
    """Lower a loaded :class:`~fanpin_rules.policy.Policy` for one date and parameter set.

    ``nullable`` lists the required inputs (as :func:`required_patterns`) that may be
    missing in the data; ``None`` means any may be.  ``validated``: every row evaluated
    satisfies the declared bounds (the engines evaluate only rows that passed
    :mod:`~fanpin_rules.columnar.validate`), so a divisor bounded ``>= 1`` needs no sign or
    zero test.  ``narrow`` (DuckDB): the plan assumes the magnitudes of
    :data:`NARROW_MAGNITUDE` for top-level inputs and reads money and number columns as the
    matching narrower decimals (the caller casts them, see ``ColumnarEngine``); a value beyond
    them makes a checked CAST fail, and the caller then runs the plan without ``narrow``.
    ``int64_rounding``: the exact rounding of quotients (``round(x / y, n)``, money values
    computed by division) on 64-bit instead of 128-bit integers, every conversion and
    operation checked; the output types are the same, and a value that does not fit stops
    the query (the caller then runs the plan without it).
    Raises :class:`LoweringError` for a
    construct the columnar engines cannot reproduce exactly.
    """
    model: PolicyModel = policy.model
    low = Lowering(
        model,
        policy.checked.types,
        policy.checked.table_columns,
        as_of,
        params,
        nullable,
        hoist,
        validated,
        narrow,
        int64_rounding,
    )
    outs = _Outputs(low)
    outputs: list[OutputValue] = []
    for name, decl in model.lets.items():
        if decl.name != name:
            continue
        x = low.let(name)
        t = policy.checked.types.get(name) or x.t
        outputs.append(outs.value(name, x, t, ast.name_span(decl)))
    for name, tdecl in model.tables.items():
        if tdecl.name != name:
            continue
        tv = low.table(name)
        assert tv.cols is not None
        outs.span = ast.name_span(tdecl)
        outputs.append(outs.table(name, tv.cols["value"]))
    conclusions: list[tuple[str, str, str | None]] = []
    for rid in sorted(model.conclusion_ids):
        c = low.conclusion(rid)
        assert isinstance(c.v, S.Col)
        mcol = c.miss.name if isinstance(c.miss, S.Col) else None
        conclusions.append((rid, c.v.name, mcol))
    stages: list[tuple[tuple[str, S.Sql], ...]] = [((MISSING_COLUMN, missing_list(low)),)]
    stages.extend(tuple(low.stages[k]) for k in sorted(low.stages))
    key = model.input.key_field if model.input is not None else None
    hoisted = tuple((k, tuple(v)) for k, v in low.hoisted.items())
    return Lowered(tuple(stages), key, tuple(outputs), tuple(conclusions), MISSING_COLUMN, hoisted)
