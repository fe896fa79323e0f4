"""Spark (local mode) runs the same lowered policy as the embedded engine, with equal results.

One SparkSession for the module; a small sample (the bundled households with missing
inputs, plus boundary and ordinary ones) through Parquet in, Parquet out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fanpin_rules import load_policy
from fanpin_rules.columnar import ColumnarEngine, arrow_schema, households_to_arrow
from fanpin_rules.columnar.results import row_json
from fanpin_rules.spark import SPARK_CONF, SparkEngine

ROOT = Path(__file__).resolve().parents[1]
POLICY = load_policy("ewenki_2024q2")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("fanpin-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.adaptive.enabled", "false")
        # a short job on 2 cores: C1 JIT only, so compilation does not compete with the
        # analysis of the (large) lowered plan
        .config("spark.driver.extraJavaOptions", "-XX:+UseParallelGC -XX:TieredStopAtLevel=1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _sample() -> list[dict[str, Any]]:
    lines = (ROOT / "examples" / "households.jsonl").read_text("utf-8").splitlines()
    records = [json.loads(line, parse_float=Decimal) for line in lines if line.strip()]
    incomplete = [r for r in records if POLICY.validate(r).missing]
    return incomplete[:12] + records[:48]


def test_spark_equals_embedded_engine(spark: Any, tmp_path: Path) -> None:
    records = _sample()
    assert any(POLICY.validate(r).missing for r in records)
    rows = households_to_arrow(POLICY, [POLICY.validate(r) for r in records]).to_pylist()
    broken = dict(rows[0], household_id="BROKEN", wage_income=Decimal("-1.00"))
    src = tmp_path / "households.parquet"
    pq.write_table(pa.Table.from_pylist([*rows, broken], schema=arrow_schema(POLICY)), src)

    engine = SparkEngine(POLICY, spark)
    assert all(spark.conf.get(k) == v for k, v in SPARK_CONF.items())
    out = tmp_path / "decisions"
    counts = engine.evaluate_parquet_spark([str(src)], str(out))
    n = len(records)
    assert (counts.read, counts.decided, counts.rejected) == (n + 1, n, 1)
    rejected = pq.read_table(tmp_path / "decisions_rejected").to_pylist()
    assert [(r["household_id"], [i["field"] for i in r["issues"]]) for r in rejected] == [
        ("BROKEN", ["wage_income"])
    ]

    specs = engine.render_specs()
    got = sorted(
        (row_json(r, specs) for r in pq.read_table(out).to_pylist()),
        key=lambda r: str(r["household_id"]),
    )
    embedded = sorted(
        ColumnarEngine(POLICY).evaluate_records(records), key=lambda r: str(r["household_id"])
    )
    assert got == embedded
    assert any(r["undetermined"] for r in got)


def test_spark_wide_layout_equals_embedded_engine(spark: Any, tmp_path: Path) -> None:
    """``layout="wide"``: one BOOLEAN column per rule id (NULL: undetermined), on Spark as
    in DuckDB."""
    records = _sample()
    rows = households_to_arrow(POLICY, [POLICY.validate(r) for r in records]).to_pylist()
    src = tmp_path / "households.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema(POLICY)), src)
    out = tmp_path / "wide"
    counts = SparkEngine(POLICY, spark).evaluate_parquet_spark([str(src)], str(out), layout="wide")
    assert counts.decided == len(records)
    got = sorted(pq.read_table(out).to_pylist(), key=lambda r: str(r["household_id"]))
    embedded = sorted(
        ColumnarEngine(POLICY).evaluate_records(records, layout="wide"),
        key=lambda r: str(r["household_id"]),
    )
    assert got == embedded
    assert set(got[0]) == {"household_id", *POLICY.rule_ids}
    assert any(None in r.values() for r in got)  # undetermined conclusions are NULL
