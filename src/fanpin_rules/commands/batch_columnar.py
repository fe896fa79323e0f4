"""``fanpin evaluate-columnar``: a large batch through the columnar engine (DuckDB or Spark).

Same results as ``fanpin evaluate`` (fired, undetermined with the missing inputs, values), for
batches where per-household evaluation is too slow: Parquet (members nested) or JSON Lines in,
Parquet or JSON Lines out.  ``--engine spark`` runs the same lowered policy on Spark (see
docs/spark.md; on a cluster use ``spark-submit`` with the library instead).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from fanpin_rules.commands import (
    EXIT_FINDINGS,
    EXIT_OK,
    UsageError,
    load_or_report,
    msg,
    out,
    parse_params,
    policy_opts,
)


def cmd_evaluate_columnar(args: argparse.Namespace) -> int:
    policy = load_or_report(args.policy, args.lang)
    if policy is None:
        return EXIT_FINDINGS
    params = parse_params(args)
    started = time.perf_counter()
    if args.engine == "spark":
        counts = _run_spark(policy, args, params)
    else:
        try:
            from fanpin_rules.columnar import evaluate_table
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise UsageError(
                f"列式引擎需要 duckdb 和 pyarrow (pip install 'fanpin_rules[columnar]') / "
                f"the columnar engine needs duckdb and pyarrow: {exc}"
            ) from None
        inputs: list[Any] = list(args.inputs)
        counts = evaluate_table(
            policy,
            inputs if len(inputs) > 1 else inputs[0],
            args.output,
            args.as_of,
            params,
            rejected_path=args.rejected,
            ignore_extra=args.ignore_extra,
            layout=args.layout,
        )
    seconds = time.perf_counter() - started
    out(
        msg(
            args.lang,
            f"读取 {counts.read} 户 = 已判定 {counts.decided} + 拒收 {counts.rejected}; "
            f"结果: {args.output}; 用时 {seconds:.1f} 秒",
            f"read {counts.read} = decided {counts.decided} + rejected {counts.rejected}; "
            f"results: {args.output}; {seconds:.1f} s",
        ),
        sys.stderr,
    )
    return EXIT_FINDINGS if counts.rejected and args.strict else EXIT_OK


def _run_spark(policy: Any, args: argparse.Namespace, params: dict[str, Any]) -> Any:
    try:
        from pyspark.sql import SparkSession

        from fanpin_rules.spark import SparkEngine
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise UsageError(
            f"Spark 引擎需要 pyspark (pip install 'fanpin_rules[spark]') / "
            f"the Spark engine needs pyspark: {exc}"
        ) from None
    if any(not str(p).endswith(".parquet") for p in args.inputs):
        raise UsageError("--engine spark 只读 Parquet / --engine spark reads Parquet only")
    builder = SparkSession.builder.appName("fanpin evaluate-columnar")
    if args.spark_master:
        builder = builder.master(args.spark_master)
    spark = builder.getOrCreate()
    try:
        engine = SparkEngine(policy, spark)
        return engine.evaluate_parquet_spark(
            [str(p) for p in args.inputs],
            args.output,
            args.as_of,
            params,
            rejected=args.rejected,
            partition_by=tuple(args.partition_by or ()),
            ignore_extra=args.ignore_extra,
            layout=args.layout,
        )
    finally:
        spark.stop()


def register(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate-columnar",
        help="列式引擎批量评估 (DuckDB / Spark) / evaluate a large batch with the columnar engine",
    )
    policy_opts(p)
    p.add_argument("inputs", nargs="+", help="Parquet 或 JSONL 文件 / Parquet or JSON Lines files")
    p.add_argument("-o", "--output", required=True, help=".parquet 或 .jsonl / .parquet or .jsonl")
    p.add_argument("--rejected", help="拒收记录文件 / where rejected records go")
    p.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    p.add_argument(
        "--layout",
        choices=("list", "wide"),
        default="list",
        help="list: 命中规则列表与关键取值 (默认); wide: 每条规则一列 "
        "(真=命中, 空=待定, 假=未命中) / list: fired ids and key values (default); "
        "wide: one column per rule id",
    )
    p.add_argument("--spark-master", dest="spark_master", help="例如 local[*] / e.g. local[*]")
    p.add_argument("--partition-by", dest="partition_by", action="append", help="Spark 输出分区列")
    p.add_argument("--ignore-extra", action="store_true", help="忽略未知列 / ignore unknown keys")
    p.add_argument("--strict", action="store_true", help="有拒收记录时退出码为 1")
    p.set_defaults(func=cmd_evaluate_columnar)
