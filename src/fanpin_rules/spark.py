"""The columnar lowering of a policy, run on Apache Spark (PySpark).

The SQL is the same lowered policy the embedded engine runs
(:mod:`fanpin_rules.columnar.lower`), printed in Spark SQL instead of DuckDB SQL; results equal
the embedded engine's, row for row.  Spark must do exact decimal arithmetic and fail loudly
rather than return NULL or round silently, so the engine sets, for its session:

* ``spark.sql.ansi.enabled = true`` — overflow and invalid casts raise;
* ``spark.sql.decimalOperations.allowPrecisionLoss = false`` — products keep their scale;
* ``spark.sql.legacy.sizeOfNull = false`` — ``size(NULL)`` is NULL, as in DuckDB.

Running on a cluster over Parquet in object storage: docs/spark.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from fanpin_rules.columnar import sql as S
from fanpin_rules.columnar.engine import (
    ColumnarEngine,
    Counts,
    null_count_sql,
    source_columns,
)
from fanpin_rules.columnar.lower import Layout, Lowered
from fanpin_rules.columnar.results import row_json
from fanpin_rules.columnar.validate import bad_sql, issues_sql

__all__ = ["SPARK_CONF", "SparkEngine", "rows_json"]

SPARK_CONF = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.legacy.sizeOfNull": "false",
}
INPUT_VIEW = "fanpin_input"
CHECKED_VIEW = "fanpin_checked"
VALID_VIEW = "fanpin_valid"
ISSUES = "__fp_issues"
BAD = "__fp_bad"


class SparkEngine(ColumnarEngine):
    """A policy prepared for Spark; ``spark`` is an active ``SparkSession``."""

    dialect: S.Dialect = "spark"

    def __init__(self, policy: Any, spark: Any) -> None:
        super().__init__(policy)
        self.spark = spark
        for key, value in SPARK_CONF.items():
            spark.conf.set(key, value)

    def input_view(self, df: Any, *, ignore_extra: bool = False) -> str:
        """Register ``df`` (columns in the policy's layout) as the engine's input view."""
        import pyarrow as pa  # type: ignore[import-untyped]

        present = _arrow_schema_of(df, pa)
        cols = source_columns(self.schema, present, ignore_extra=ignore_extra)
        df.createOrReplaceTempView("fanpin_raw")
        body = ", ".join(f"{S.render(e, 'spark')} AS {S.quote(n, 'spark')}" for n, e in cols)
        self.spark.sql(f"SELECT {body} FROM fanpin_raw").createOrReplaceTempView(INPUT_VIEW)
        return INPUT_VIEW

    def nullable(self, view: str) -> frozenset[str]:
        """The required inputs that are NULL somewhere in the data (one Spark job)."""
        if not self.patterns:
            return frozenset()
        cols = ", ".join(
            f"coalesce(sum({S.render(null_count_sql(p), 'spark')}), 0)" for p in self.patterns
        )
        counts = self.spark.sql(f"SELECT {cols} FROM {view}").collect()[0]
        return frozenset(p for p, n in zip(self.patterns, counts, strict=True) if n)

    def checked_view(self, df: Any, *, ignore_extra: bool = False) -> str:
        """The input in the policy's layout with each row's schema issues (``__fp_issues``)."""
        view = self.input_view(df, ignore_extra=ignore_extra)
        bad = S.render(bad_sql(self.policy), "spark")
        issues = S.render(issues_sql(self.policy), "spark")
        self.spark.sql(
            f"SELECT *, CASE WHEN {BAD} THEN {issues} END AS {ISSUES} "
            f"FROM (SELECT *, {bad} AS {BAD} FROM {view})"
        ).createOrReplaceTempView(CHECKED_VIEW)
        return CHECKED_VIEW

    def evaluate_dataframe(
        self,
        df: Any,
        as_of: dt.date | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        ignore_extra: bool = False,
        layout: Layout = "list",
    ) -> Any:
        """A DataFrame of results (household_id, fired, undetermined, missing_inputs, values;
        with ``layout="wide"``: household_id and one BOOLEAN column per rule id) for the rows
        that satisfy the declared bounds and enums (see :meth:`rejected`)."""
        checked = self.checked_view(df, ignore_extra=ignore_extra)
        self.spark.sql(f"SELECT * FROM {checked} WHERE NOT {BAD}").createOrReplaceTempView(
            VALID_VIEW
        )
        lowered: Lowered = self.lower(as_of, params, self.nullable(VALID_VIEW))
        return self.spark.sql(lowered.select_sql(VALID_VIEW, "spark", layout))

    def rejected(self) -> Any:
        """The rows of the last input that break the declared bounds or enums, with issues."""
        key = self.policy.model.input.key_field if self.policy.model.input else None
        key_sql = S.quote(key, "spark") if key else "NULL"
        return self.spark.sql(
            f"SELECT {key_sql} AS household_id, {ISSUES} AS issues FROM {CHECKED_VIEW} WHERE {BAD}"
        )

    def evaluate_parquet_spark(
        self,
        inputs: Sequence[str],
        output: str,
        as_of: dt.date | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        rejected: str | None = None,
        partition_by: Sequence[str] = (),
        mode: str = "errorifexists",
        ignore_extra: bool = False,
        layout: Layout = "list",
    ) -> Counts:
        """Parquet in (any Hadoop path: ``s3a://…``), Parquet out, written by Spark's committer.

        Rows that break the declared bounds or enums are written to ``rejected`` (default
        ``<output>_rejected``) as Parquet with their issues.  ``partition_by`` names input
        columns kept beside the results to partition the output by (e.g. ``("sumu",)``).
        """
        df = self.spark.read.parquet(*inputs)
        result = self.evaluate_dataframe(
            df, as_of, params, ignore_extra=ignore_extra, layout=layout
        )
        if partition_by:
            keys = ", ".join(S.quote(c, "spark") for c in partition_by)
            key = self.policy.model.input.key_field if self.policy.model.input else None
            assert key is not None, "partitioning needs the policy's input key"
            parts = self.spark.sql(
                f"SELECT {S.quote(key, 'spark')} AS household_id, {keys} FROM {VALID_VIEW}"
            )
            result = result.join(parts, on="household_id", how="left")
        writer = result.write.mode(mode)
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.parquet(output)
        bad = self.rejected()
        bad.write.mode(mode).parquet(rejected or output.rstrip("/") + "_rejected")
        counts = self.spark.sql(f"SELECT count(*), count_if({BAD}) FROM {CHECKED_VIEW}").collect()[
            0
        ]
        read, n_bad = int(counts[0]), int(counts[1])
        return Counts(read, read - n_bad, n_bad)


def _arrow_schema_of(df: Any, pa: Any) -> Any:
    """The Arrow schema of a Spark DataFrame's columns (for the layout check)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    try:
        return to_arrow_schema(df.schema)
    except TypeError:  # older signatures
        return to_arrow_schema(df.schema, error_on_duplicated_field_names_in_struct=True)


def rows_json(rows: Sequence[Any], specs: Sequence[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Collected result rows in the JSON shape of ``Result.to_json`` (see columnar.results)."""
    return [row_json(r.asDict(recursive=True), specs) for r in rows]
