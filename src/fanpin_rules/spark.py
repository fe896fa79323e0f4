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
from fanpin_rules.columnar.lower import Lowered
from fanpin_rules.columnar.results import row_json

__all__ = ["SPARK_CONF", "SparkEngine", "rows_json"]

SPARK_CONF = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.legacy.sizeOfNull": "false",
}
INPUT_VIEW = "fanpin_input"


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

    def evaluate_dataframe(
        self,
        df: Any,
        as_of: dt.date | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        ignore_extra: bool = False,
    ) -> Any:
        """A DataFrame of results (household_id, fired, undetermined, missing_inputs, values)."""
        view = self.input_view(df, ignore_extra=ignore_extra)
        lowered: Lowered = self.lower(as_of, params, self.nullable(view))
        return self.spark.sql(lowered.select_sql(view, "spark"))

    def evaluate_parquet_spark(
        self,
        inputs: Sequence[str],
        output: str,
        as_of: dt.date | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        partition_by: Sequence[str] = (),
        mode: str = "errorifexists",
        ignore_extra: bool = False,
    ) -> Counts:
        """Parquet in (any Hadoop path: ``s3a://…``), Parquet out, written by Spark's committer.

        ``partition_by`` names result columns to partition the output by (for example
        ``("sumu",)`` after adding it with :meth:`evaluate_dataframe`).
        """
        df = self.spark.read.parquet(*inputs)
        result = self.evaluate_dataframe(df, as_of, params, ignore_extra=ignore_extra)
        writer = result.write.mode(mode)
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.parquet(output)
        read = int(self.spark.read.parquet(*inputs).count())
        return Counts(read, read, 0)


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
