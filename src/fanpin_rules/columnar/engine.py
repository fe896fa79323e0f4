"""The embedded columnar engine: a lowered policy run by DuckDB over Arrow or Parquet.

>>> import fanpin_rules, json
>>> engine = ColumnarEngine(fanpin_rules.load_policy("examples/language_tour.policy"))
>>> rows = engine.evaluate_records([{"household_id": "H-1", "size": 2, "income": "16000",
...     "members": [{"age": 40, "able": True}, {"age": 70}]}])
>>> "X-1" in rows[0]["fired"], rows[0]["values"]["per_capita"], rows[0]["undetermined"]
(True, '8000.00', {})
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from fanpin_rules.columnar import sql as S
from fanpin_rules.columnar.lower import (
    LAYOUTS,
    NARROW_MAGNITUDE,
    Layout,
    Lowered,
    lower_policy,
    narrow_decimal,
    required_patterns,
)
from fanpin_rules.columnar.results import row_json
from fanpin_rules.columnar.schema import MONEY as MONEY_TYPE
from fanpin_rules.columnar.schema import NUMBER as NUMBER_TYPE
from fanpin_rules.columnar.schema import InputSchemaError, arrow_schema, households_to_arrow
from fanpin_rules.columnar.validate import bad_sql, issues_sql
from fanpin_rules.evaluator import ParamBinding

__all__ = [
    "ColumnarEngine",
    "Counts",
    "arrow_sql_type",
    "evaluate_table",
    "null_count_sql",
    "source_columns",
]

INPUT_VIEW = "__fp_input"


@attrs.frozen
class Counts:
    """How a batch ended: ``read = decided + rejected``."""

    read: int
    decided: int
    rejected: int


def arrow_sql_type(t: pa.DataType) -> S.SqlType:
    """The IR type of an Arrow type of the columnar layout."""
    if pa.types.is_decimal(t):
        return S.decimal(t.scale, t.precision)
    if pa.types.is_integer(t):
        return S.INT
    if pa.types.is_boolean(t):
        return S.BOOL
    if pa.types.is_date(t):
        return S.DATE
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return S.TEXT
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return S.list_of(arrow_sql_type(t.value_type))
    if pa.types.is_struct(t):
        return S.SqlType(
            "struct",
            fields=tuple(
                (t.field(i).name, arrow_sql_type(t.field(i).type)) for i in range(t.num_fields)
            ),
        )
    raise InputSchemaError(f"unsupported column type {t}")


def _fits(have: pa.DataType, want: pa.DataType) -> bool:
    """Whether a column of type ``have`` converts exactly to ``want``."""
    if have == want or pa.types.is_null(have):
        return True
    if pa.types.is_integer(want) and pa.types.is_integer(have):
        return True
    if pa.types.is_decimal(want):
        room = int(want.precision) - int(want.scale)
        if pa.types.is_integer(have):
            return room >= 19
        if pa.types.is_decimal(have):
            return (
                int(have.scale) <= int(want.scale) and int(have.precision) - int(have.scale) <= room
            )
    if pa.types.is_large_string(have) and pa.types.is_string(want):
        return True
    if (pa.types.is_list(have) or pa.types.is_large_list(have)) and pa.types.is_list(want):
        return _fits(have.value_type, want.value_type)
    if pa.types.is_struct(have) and pa.types.is_struct(want):
        names = {want.field(i).name: want.field(i).type for i in range(want.num_fields)}
        return (
            all(
                have.field(i).name in names and _fits(have.field(i).type, names[have.field(i).name])
                for i in range(have.num_fields)
            )
            and have.num_fields == want.num_fields
        )
    return False


def source_columns(
    schema: pa.Schema, present: pa.Schema, *, ignore_extra: bool = False
) -> list[tuple[str, S.Sql]]:
    """The input columns in the policy's layout: cast where exact, typed NULL where missing.

    Raises :class:`InputSchemaError` for a column of the wrong type, or an unknown column
    unless ``ignore_extra``.
    """
    extra = [n for n in present.names if n not in schema.names]
    if extra and not ignore_extra:
        raise InputSchemaError(
            f"输入表有政策未声明的列 / the input has columns the policy does not declare: "
            f"{', '.join(extra)}"
        )
    out: list[tuple[str, S.Sql]] = []
    for f in schema:
        want = arrow_sql_type(f.type)
        if f.name in present.names:
            have = present.field(f.name).type
            if not _fits(have, f.type):
                raise InputSchemaError(
                    f"列「{f.name}」的类型是 {have}, 应为 {f.type} / column '{f.name}' has type "
                    f"{have}, expected {f.type}"
                )
            expr: S.Sql = S.Col(f.name) if have == f.type else S.Cast(S.Col(f.name), want)
        else:
            expr = S.Null(want)
        out.append((f.name, expr))
    return out


def null_count_sql(pattern: str) -> S.Sql:
    """Per row, how many times the required input ``pattern`` (``members[].age``) is NULL."""
    segs = pattern.split(".")

    def count(i: int, base: S.Sql | None, depth: int) -> S.Sql:
        seg = segs[i]
        is_list = seg.endswith("[]")
        key = seg[:-2] if is_list else seg
        raw: S.Sql = S.Col(key) if base is None else S.Field(base, key)
        one, zero = S.Lit(1, S.INT), S.Lit(0, S.INT)
        if i == len(segs) - 1:
            return S.Case(((S.IsNull(raw), one),), zero)
        if is_list:
            x = f"n{depth}"
            inner = count(i + 1, S.Var(x), depth + 1)
            return S.Call(
                "list_sum", (S.Call("list_transform", (raw, S.Lambda((x,), inner))), zero)
            )
        return S.Case(((S.IsNull(raw), zero),), count(i + 1, raw, depth))

    return count(0, None, 0)


class ColumnarEngine:
    """A loaded policy prepared for batch evaluation by DuckDB (immutable, thread-safe)."""

    dialect: S.Dialect = "duckdb"

    def __init__(self, policy: Any, *, hoist: bool = True) -> None:
        """``hoist=False`` keeps every aggregation as a list lambda (slower; for testing)."""
        self.policy = policy
        self.hoist = hoist
        self.schema = arrow_schema(policy)
        self.patterns = tuple(required_patterns(policy.model))
        self.specs: tuple[tuple[str, Any], ...] = ()
        # which plan ran last: arrow, duckdb-narrow, duckdb-int64 or duckdb (see evaluate_arrow)
        self.executor = ""

    # ------------------------------------------------------------ lowering
    def bindings(
        self, as_of: dt.date | str | None, params: Mapping[str, Any] | None
    ) -> tuple[dt.date, dict[str, ParamBinding]]:
        from fanpin_rules.policy import _as_date

        when = _as_date(as_of) if as_of is not None else self.policy.default_as_of
        return when, self.policy.resolve_params(when, params)

    def lower(
        self,
        as_of: dt.date | str | None = None,
        params: Mapping[str, Any] | None = None,
        nullable: frozenset[str] | None = None,
        *,
        narrow: bool = False,
        int64_rounding: bool = False,
    ) -> Lowered:
        """The policy lowered for one date and parameter set (``narrow``: see
        :func:`~fanpin_rules.columnar.lower.lower_policy`)."""
        when, bindings = self.bindings(as_of, params)
        # every engine evaluates only rows that passed the declared bounds (validate.py)
        return lower_policy(
            self.policy,
            when,
            bindings,
            nullable,
            hoist=self.hoist,
            validated=True,
            narrow=narrow,
            int64_rounding=int64_rounding,
        )

    def sql(
        self,
        source: str,
        as_of: dt.date | str | None = None,
        params: Mapping[str, Any] | None = None,
        nullable: frozenset[str] | None = None,
    ) -> str:
        """The whole evaluation as one query over ``source`` (a table name or subquery)."""
        return self.lower(as_of, params, nullable).select_sql(source, self.dialect)

    # ------------------------------------------------------------ running
    def _connect(self) -> Any:
        """A fresh connection (its own temporary views and registered tables) to the
        process's in-memory DuckDB database: opening a database costs ~10 ms, a cursor
        on it ~0.2 ms."""
        return _cursor()

    def _nullable(self, con: Any, source: str) -> frozenset[str]:
        """The required inputs that are NULL somewhere in the data (one scan)."""
        return self._scan(con, source, ())[1]

    def _scan(
        self, con: Any, source: str, more: tuple[str, ...]
    ) -> tuple[tuple[Any, ...], frozenset[str]]:
        """One pass over ``source``: the ``more`` aggregates, then the NULL required inputs."""
        counts = [
            f"coalesce(sum({S.render(null_count_sql(p), 'duckdb')}), 0)" for p in self.patterns
        ]
        cols = [*more, *counts]
        if not cols:
            return (), frozenset()
        row = con.execute(f"SELECT {', '.join(cols)} FROM {source}").fetchall()[0]
        head, tail = tuple(row[: len(more)]), row[len(more) :]
        return head, frozenset(p for p, n in zip(self.patterns, tail, strict=True) if n)

    def _prepare(
        self,
        con: Any,
        present: pa.Schema,
        from_sql: str,
        ignore_extra: bool,
        extra: tuple[str, ...] = (),
        checked: bool = True,
        narrow: bool = False,
    ) -> str:
        """Views over the input: the policy's layout, then (``checked``) the same with each
        row's issues.  ``narrow``: money and number columns read as the decimals of the
        narrow plan (checked casts)."""
        cols = source_columns(self.schema, present, ignore_extra=ignore_extra)
        if narrow:
            cols = [(n, _narrow_column(self.schema.field(n).type, e)) for n, e in cols]
        body = ", ".join(f"{S.render(e, 'duckdb')} AS {S.quote(n, 'duckdb')}" for n, e in cols)
        body += "".join(f", {S.quote(n, 'duckdb')}" for n in extra)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {INPUT_VIEW} AS SELECT {body} FROM {from_sql}")
        if checked:
            self._checked_view(con)
        return INPUT_VIEW

    def _checked_view(self, con: Any) -> None:
        """The view of the input with each row's issues (``ISSUES``, where ``BAD``)."""
        bad = S.render(bad_sql(self.policy), "duckdb")
        issues = S.render(issues_sql(self.policy), "duckdb")
        # the cheap test on every row; the list of issues only on the rows that fail it
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {CHECKED_VIEW} AS SELECT *, "
            f"CASE WHEN {BAD} THEN {issues} END AS {ISSUES} "
            f"FROM (SELECT *, {bad} AS {BAD} FROM {INPUT_VIEW})"
        )

    def query(
        self,
        con: Any,
        source: str,
        as_of: dt.date | str | None,
        params: Mapping[str, Any] | None,
    ) -> tuple[str, Lowered]:
        nullable = self._nullable(con, source)
        lowered = self.lower(as_of, params, nullable)
        return lowered.select_sql(source, "duckdb"), lowered

    def evaluate_arrow(
        self,
        table: pa.Table,
        as_of: dt.date | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        ignore_extra: bool = False,
        layout: Layout = "list",
    ) -> pa.Table:
        """Evaluate every household of an Arrow table (the layout of :func:`arrow_schema`).

        ``layout="list"`` (the default): ``household_id``, ``fired``, ``undetermined``,
        ``missing_inputs``, ``values``, as :func:`~fanpin_rules.columnar.results.row_json`
        reads them.  ``layout="wide"``: ``household_id`` and one BOOLEAN column per rule id,
        true = fired, NULL = undetermined, false = not fired (no values, no missing lists).

        One pass over the data: the NULL required inputs come from the Arrow columns' null
        counts (a scan only for nested fields), and the rows breaking the declared bounds
        or enums are left out by the query itself; when the result is short of rows, their
        issues are looked up and raised as :class:`InputSchemaError`.  The wide layout
        runs the narrow plan (64-bit decimals, see
        :data:`~fanpin_rules.columnar.lower.NARROW_MAGNITUDE`) with Arrow compute kernels
        when the plan is scalar (:mod:`~fanpin_rules.columnar.arrow_exec`), else in DuckDB,
        and, should a value not fit it, the plan with 38-digit decimals in DuckDB.
        ``self.executor`` tells which ran: ``arrow``, ``duckdb-narrow`` or ``duckdb``.  The
        list layout runs the plan rounding quotients on 64-bit integers (``duckdb-int64``),
        and the one with 128-bit integers when a value does not fit (``duckdb``).
        """
        import duckdb

        _check_layout(layout)
        if layout == "wide":
            fast = self._wide_arrow(table, as_of, params, ignore_extra)
            if fast is not None:
                self.executor = "arrow"
                return fast
        con = self._connect()
        try:
            con.register("__fp_arrow", table)
            key = self.policy.model.input.key_field if self.policy.model.input else None
            # the wide layout takes the key column from the input itself (zero-copy): rows
            # come out in input order, and a result with every row has left none out
            own_key = layout == "wide" and key is not None and key in table.schema.names
            # the narrow plan (wide layout: the list layout's values keep their types) or
            # the plan rounding on 64-bit integers, else the plan with 128-bit integers
            fast = "narrow" if layout == "wide" else "int64"
            for narrow in (True, False):
                source = self._prepare(
                    con,
                    table.schema,
                    "__fp_arrow",
                    ignore_extra,
                    checked=False,
                    narrow=narrow and fast == "narrow",
                )
                nullable = self._arrow_nullable(con, table, source)
                lowered = self.lower(
                    as_of,
                    params,
                    nullable,
                    narrow=narrow and fast == "narrow",
                    int64_rounding=narrow,
                )
                self.specs = tuple((o.name, o.render) for o in lowered.outputs)
                query = lowered.select_sql(self._valid(source), "duckdb", layout, key=not own_key)
                try:
                    result: pa.Table = _arrow_table(con, query)
                    self.executor = f"duckdb-{fast}" if narrow else "duckdb"
                    break
                except (duckdb.ConversionException, duckdb.OutOfRangeException):
                    if not narrow:
                        raise
            if result.num_rows != table.num_rows:
                self._raise_bad(con)
                raise AssertionError("rows were left out, yet none breaks the schema")
            if own_key:
                assert key is not None
                column = table.column(key)
                want = self.schema.field(key).type
                if column.type != want:
                    column = column.cast(want)
                result = result.add_column(0, pa.field("household_id", want), column)
            return result
        finally:
            con.close()

    def _wide_arrow(
        self,
        table: pa.Table,
        as_of: dt.date | str | None,
        params: Mapping[str, Any] | None,
        ignore_extra: bool,
    ) -> pa.Table | None:
        """The wide layout computed with Arrow compute kernels, or None when the plan is not
        scalar, a value does not fit the narrow plan, or a row breaks the declared bounds
        (DuckDB then runs the plan, and names the rows)."""
        from fanpin_rules.columnar.arrow_exec import ArrowExecutor, Unsupported

        if any("." in p for p in self.patterns):
            return None  # nested inputs: NULL scan and aggregations in DuckDB
        inputs = source_columns(self.schema, table.schema, ignore_extra=ignore_extra)
        nullable = self._arrow_nullable(None, table, "")
        lowered = self.lower(as_of, params, nullable, narrow=True, int64_rounding=True)
        if lowered.hoisted:
            return None
        bad = bad_sql(self.policy)
        wide = lowered.wide_columns(key=False)

        def run(part: pa.Table) -> dict[str, pa.Array] | None:
            ex = ArrowExecutor(part, inputs, lowered.stages)
            try:
                if bad != S.Lit(False, S.BOOL) and pc.any(ex.column(bad)).as_py():
                    return None
                return {rid: ex.column(e) for rid, e in wide}
            except Unsupported:
                return None

        # row ranges evaluated side by side (Arrow's kernels release the GIL), zero-copy
        parts = _row_ranges(table, os.cpu_count() or 1)
        if len(parts) == 1:
            results = [run(parts[0])]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(len(parts)) as pool:
                results = list(pool.map(run, parts))
        if any(r is None for r in results):
            return None
        columns = {
            rid: pa.chunked_array([r[rid] for r in results if r is not None]) for rid, _ in wide
        }
        self.specs = tuple((o.name, o.render) for o in lowered.outputs)
        key = self.policy.model.input.key_field if self.policy.model.input else None
        if key is not None and key in table.schema.names:
            want = self.schema.field(key).type
            keys = table.column(key)
            keys = keys if keys.type == want else keys.cast(want)
        else:
            keys = pa.nulls(table.num_rows, pa.string())
        return pa.table({"household_id": keys, **columns})

    def _arrow_nullable(self, con: Any, table: pa.Table, source: str) -> frozenset[str]:
        """The required inputs that are NULL somewhere: top-level ones from Arrow's null
        counts (no scan), nested ones (``members[].age``) by one scan of ``source``."""
        found: set[str] = set()
        nested: list[str] = []
        for p in self.patterns:
            if "." in p:
                nested.append(p)
            elif p in table.schema.names:
                if table.column(p).null_count:
                    found.add(p)
            elif table.num_rows:
                found.add(p)  # a missing column reads as all NULL
        if nested:
            counts = ", ".join(
                f"coalesce(sum({S.render(null_count_sql(p), 'duckdb')}), 0)" for p in nested
            )
            row = con.execute(f"SELECT {counts} FROM {source}").fetchall()[0]
            found.update(p for p, n in zip(nested, row, strict=True) if n)
        return frozenset(found)

    def _valid(self, source: str) -> str:
        """``source`` without the rows breaking the declared bounds or enums (the check
        runs in the same pass as the evaluation)."""
        bad_expr = bad_sql(self.policy)
        if bad_expr == S.Lit(False, S.BOOL):
            return source
        return f"(SELECT * FROM {source} WHERE NOT {S.render(bad_expr, 'duckdb')})"

    def _raise_bad(self, con: Any) -> None:
        """Raise :class:`InputSchemaError` naming the first rows that break the schema."""
        self._checked_view(con)
        bad = con.execute(
            f"SELECT {_key_sql(self.policy)}, {ISSUES} FROM {CHECKED_VIEW} WHERE {BAD} LIMIT 5"
        ).fetchall()
        if bad:
            shown = "; ".join(f"{k}: {[i['field'] for i in issues]}" for k, issues in bad)
            raise InputSchemaError(
                f"输入表有不符合声明的记录 / rows break the declared bounds or enums: {shown}"
            )

    def evaluate_records(
        self,
        records: Iterable[Mapping[str, Any]],
        as_of: dt.date | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        layout: Layout = "list",
    ) -> list[dict[str, Any]]:
        """Validate household dicts (raising on a rejected one), evaluate, render as JSON.

        ``layout="wide"``: each row as ``{"household_id": …, rule id: True/None/False}``.
        """
        households = [self.policy.validate(dict(r)) for r in records]
        table = households_to_arrow(self.policy, households)
        result = self.evaluate_arrow(table, as_of, params, layout=layout)
        if layout == "wide":
            rows: list[dict[str, Any]] = result.to_pylist()
            return rows
        specs = self.render_specs(as_of, params)
        return [row_json(r, specs) for r in result.to_pylist()]

    def render_specs(
        self, as_of: dt.date | str | None = None, params: Mapping[str, Any] | None = None
    ) -> tuple[tuple[str, Any], ...]:
        """How each reported value is rendered as JSON (see columnar.results)."""
        return tuple((o.name, o.render) for o in self.lower(as_of, params).outputs)

    def evaluate_parquet(
        self,
        inputs: str | Path | list[str | Path],
        output: str | Path,
        as_of: dt.date | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        rejected: str | Path | None = None,
        ignore_extra: bool = False,
        layout: Layout = "list",
    ) -> Counts:
        """Parquet in, Parquet (or JSON Lines, by suffix) out; invalid rows to ``rejected``.

        Every row is checked against the declared bounds and enums first
        (:mod:`~fanpin_rules.columnar.validate`); a row that breaks them is a rejected record
        (file, 1-based row, field, reason) and is not evaluated.  Outputs are written to
        temporary files and renamed on success, so an interrupted run leaves nothing behind.
        ``layout`` as in :meth:`evaluate_arrow`.
        """
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        paths = [str(p) for p in (inputs if isinstance(inputs, list) else [inputs])]
        listing = "[" + ", ".join(S._string(p, "duckdb") for p in paths) + "]"
        reader = f"read_parquet({listing}, filename = true, file_row_number = true)"
        return self._evaluate_source(
            reader,
            pq.read_schema(paths[0]),
            None,
            output,
            rejected,
            as_of,
            params,
            ignore_extra,
            layout,
        )

    def evaluate_table(
        self,
        table: pa.Table,
        output: str | Path,
        as_of: dt.date | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        rejected: str | Path | None = None,
        ignore_extra: bool = False,
        source_name: str = "<table>",
        layout: Layout = "list",
    ) -> Counts:
        """An Arrow table in, a file out, as :meth:`evaluate_parquet`."""
        reader = (
            f"(SELECT *, {S._string(source_name, 'duckdb')} AS filename, "
            "CAST(row_number() OVER () - 1 AS BIGINT) AS file_row_number FROM __fp_arrow)"
        )
        return self._evaluate_source(
            reader, table.schema, table, output, rejected, as_of, params, ignore_extra, layout
        )

    def _evaluate_source(
        self,
        reader: str,
        present: pa.Schema,
        table: pa.Table | None,
        output: str | Path,
        rejected: str | Path | None,
        as_of: dt.date | str | None,
        params: Mapping[str, Any] | None,
        ignore_extra: bool,
        layout: Layout = "list",
    ) -> Counts:
        _check_layout(layout)
        out = Path(output)
        rej = Path(rejected) if rejected is not None else default_rejected_path(out)
        con = self._connect()
        tmps: list[Path] = []
        try:
            if table is not None:
                con.register("__fp_arrow", table)
            self._prepare(con, present, reader, ignore_extra, extra=("filename", "file_row_number"))
            # one scan for the counts and the NULL inputs, one for the results, and one
            # for the rejected rows only when there are some
            (read, bad), nullable = self._scan(
                con, CHECKED_VIEW, ("count(*)", f"count(*) FILTER (WHERE {BAD})")
            )
            valid = f"(SELECT * FROM {CHECKED_VIEW} WHERE NOT {BAD})"
            tmp_out = _temp_beside(out)
            tmps.append(tmp_out)
            # the plan rounding on 64-bit integers, else (a value too big) on 128-bit ones
            import duckdb

            for int64 in (True, False):
                lowered = self.lower(as_of, params, nullable, int64_rounding=int64)
                specs = tuple((o.name, o.render) for o in lowered.outputs)
                query = lowered.select_sql(valid, "duckdb", layout)
                try:
                    _copy(con, query, tmp_out, out, specs if layout == "list" else None)
                    self.executor = "duckdb-int64" if int64 else "duckdb"
                    break
                except (duckdb.ConversionException, duckdb.OutOfRangeException):
                    if not int64:
                        raise
            rej_query = (
                f"SELECT {_key_sql(self.policy)} AS household_id, filename AS source, "
                f"file_row_number + 1 AS row, {ISSUES} AS issues "
                f"FROM {CHECKED_VIEW} WHERE {BAD} ORDER BY filename, file_row_number"
            )
            tmp_rej = _temp_beside(rej)
            tmps.append(tmp_rej)
            if bad:
                _copy(con, rej_query, tmp_rej, rej)
            os.replace(tmp_out, out)
            if bad:
                os.replace(tmp_rej, rej)
            else:
                tmp_rej.unlink()
        except BaseException:
            for t in tmps:
                t.unlink(missing_ok=True)
            raise
        finally:
            con.close()
        return Counts(int(read), int(read) - int(bad), int(bad))


CHECKED_VIEW = "__fp_checked"
_DATABASE: tuple[int, Any] | None = None  # (process id, the in-memory database)
_DATABASE_LOCK = threading.Lock()


def _cursor() -> Any:
    """A new connection to this process's in-memory DuckDB database (created on first use,
    and again in a forked child, which must not share the parent's database threads)."""
    global _DATABASE
    import duckdb

    with _DATABASE_LOCK:
        if _DATABASE is None or _DATABASE[0] != os.getpid():
            _DATABASE = (
                os.getpid(),
                duckdb.connect(":memory:", config={"preserve_insertion_order": True}),
            )
        return _DATABASE[1].cursor()


ISSUES = "__fp_issues"
BAD = "__fp_bad"


def _narrow_column(t: pa.DataType, expr: S.Sql) -> S.Sql:
    """A top-level input column as the narrow plan reads it (money DECIMAL(14, 2), …)."""
    if t == MONEY_TYPE:
        return S.Cast(expr, narrow_decimal(2, NARROW_MAGNITUDE["money"]))
    if t == NUMBER_TYPE:
        return S.Cast(expr, narrow_decimal(10, NARROW_MAGNITUDE["number"]))
    return expr


def _row_ranges(table: pa.Table, n: int, least: int = 1 << 17) -> list[pa.Table]:
    """The table cut into at most n slices of at least ``least`` rows (zero-copy)."""
    k = max(1, min(n, table.num_rows // least))
    step = -(-table.num_rows // k)
    return (
        [table.slice(i, step) for i in range(0, max(table.num_rows, 1), step)] if k > 1 else [table]
    )


def _check_layout(layout: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")


def _key_sql(policy: Any) -> str:
    key = policy.model.input.key_field if policy.model.input is not None else None
    return S.quote(key, "duckdb") if key else "NULL"


def default_rejected_path(output: Path) -> Path:
    """``out/decisions.parquet`` → ``out/decisions.rejected.jsonl``."""
    return output.with_name(output.name.split(".")[0] + ".rejected.jsonl")


def _temp_beside(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def evaluate_table(
    policy: Any,
    input_path_or_relation: str | Path | list[str | Path] | pa.Table,
    output_path: str | Path,
    as_of: dt.date | str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    rejected_path: str | Path | None = None,
    ignore_extra: bool = False,
    layout: Layout = "list",
) -> Counts:
    """Evaluate a batch with the embedded columnar engine; ``read = decided + rejected``.

    Input: Parquet file(s) in the policy's layout (:func:`~fanpin_rules.columnar.arrow_schema`,
    members nested), a JSON Lines file (validated record by record, as ``fanpin evaluate``
    does), or a ``pyarrow.Table``.  Output: Parquet, or JSON Lines when ``output_path`` ends
    in ``.jsonl``; one row per decided household with ``household_id``, ``fired``,
    ``undetermined``, ``missing_inputs`` and ``values``.  Rejected records go to
    ``rejected_path`` (default ``<output>.rejected.jsonl``) with their source, row and issues.
    ``layout="wide"`` writes ``household_id`` and one BOOLEAN column per rule id instead
    (true = fired, NULL = undetermined, false = not fired).
    """
    engine = ColumnarEngine(policy)
    if isinstance(input_path_or_relation, pa.Table):
        return engine.evaluate_table(
            input_path_or_relation,
            output_path,
            as_of,
            params,
            rejected=rejected_path,
            ignore_extra=ignore_extra,
            layout=layout,
        )
    paths = (
        input_path_or_relation
        if isinstance(input_path_or_relation, list)
        else [input_path_or_relation]
    )
    if all(str(p).endswith(".jsonl") for p in paths):
        return _evaluate_jsonl(
            engine,
            [Path(p) for p in paths],
            output_path,
            as_of,
            params,
            rejected_path,
            ignore_extra,
            layout,
        )
    return engine.evaluate_parquet(
        list(paths),
        output_path,
        as_of,
        params,
        rejected=rejected_path,
        ignore_extra=ignore_extra,
        layout=layout,
    )


def _evaluate_jsonl(
    engine: ColumnarEngine,
    paths: list[Path],
    output: str | Path,
    as_of: dt.date | str | None,
    params: Mapping[str, Any] | None,
    rejected: str | Path | None,
    ignore_extra: bool,
    layout: Layout = "list",
) -> Counts:
    """JSON Lines: each record validated by the policy's schema, the valid ones evaluated."""
    import json
    from decimal import Decimal

    from fanpin_rules.errors import HouseholdInputError, InputIssue

    households = []
    problems: list[dict[str, Any]] = []
    for path in paths:
        with path.open(encoding="utf-8-sig") as handle:
            for lineno, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    try:
                        record = json.loads(line, parse_float=Decimal)
                    except json.JSONDecodeError as exc:
                        text = f"JSON 格式错误 / invalid JSON: {exc.msg} (col {exc.colno})"
                        raise HouseholdInputError(
                            [InputIssue("", text, text)], None, str(path), lineno
                        ) from None
                    households.append(
                        engine.policy.validate(
                            record, source=str(path), row=lineno, ignore_extra=ignore_extra
                        )
                    )
                except HouseholdInputError as err:
                    problems.append(err.to_json())
    table = households_to_arrow(engine.policy, households)
    out = Path(output)
    rej = Path(rejected) if rejected is not None else default_rejected_path(out)
    counts = engine.evaluate_table(
        table, out, as_of, params, rejected=rej, source_name="jsonl", layout=layout
    )
    if problems:
        tmp = _temp_beside(rej)
        try:
            tmp.write_text(
                "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in problems), "utf-8"
            )
            os.replace(tmp, rej)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    read = counts.read + len(problems)
    return Counts(read, counts.decided, counts.rejected + len(problems))


def _arrow_table(con: Any, query: str) -> Any:
    """A query's whole result as an Arrow table (DuckDB 1 and 2 spell it differently)."""
    rel = con.sql(query)
    fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
    return fetch()


def _copy(
    con: Any,
    query: str,
    tmp: Path,
    target: Path,
    specs: tuple[tuple[str, Any], ...] | None = None,
) -> None:
    """Write a query's rows to Parquet, or JSON Lines when the target ends in ``.jsonl``.

    Result rows (``specs`` given) written as JSON Lines are rendered as the reference
    renders ``Result.to_json()`` (money as ``"8300.00"``), batch by batch.
    """
    if target.suffix != ".jsonl":
        fmt = "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"
        con.execute(f"COPY ({query}) TO {S._string(str(tmp), 'duckdb')} {fmt}")
        return
    if specs is None:
        con.execute(f"COPY ({query}) TO {S._string(str(tmp), 'duckdb')} (FORMAT json)")
        return
    import json

    rel = con.sql(query)
    # DuckDB 2 spells it to_arrow_reader, DuckDB 1 fetch_arrow_reader
    fetch = getattr(rel, "to_arrow_reader", None) or rel.fetch_arrow_reader
    reader = fetch(65536)
    with tmp.open("w", encoding="utf-8", newline="\n") as handle:
        for batch in reader:
            for row in batch.to_pylist():
                handle.write(json.dumps(row_json(row, specs), ensure_ascii=False) + "\n")
