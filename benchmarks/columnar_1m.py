#!/usr/bin/env python3
"""The columnar engine (DuckDB) at 1,000,000 households: two measurements.

1. **Shipped policy, end to end.**  ``ewenki_2024q2`` over 1M households generated with
   ``examples/generate_households.py`` (``--distinct`` households from seeds of 2,000 — the
   generator keeps villages realistic only that far — repeated with fresh ids up to ``--n``)
   and stored as Parquet with nested ``members``; a fresh process loads the policy, validates every
   row (bounds, enums), evaluates and writes Parquet — the work of
   ``fanpin evaluate-columnar``.  Printed: wall time of the whole process (interpreter start
   included) and its peak resident memory.  Targets: < 30 s, < 4 GiB.
2. **Reference ruleset vs the hand-written vectorised baselines.**  ``shared/bench/RULESET.md``
   as ``benchmarks/reference_ruleset.policy``, on the 1M households of
   ``shared/bench/gen_households.py`` (seed 20240601), side by side in this process with
   ``engines/numpy_vec.py`` and ``engines/polars_vec.py``.  The columnar engine is timed in
   both output layouts: ``wide`` (the household id and one BOOLEAN column per rule id — the
   information of numpy's identify / reasons mask / class code / eliminate / rollback
   columns) and ``list`` (the default: ``fired`` as a list of rule ids, ``undetermined``,
   ``missing_inputs`` and every reported value, money rounded exactly).  Every household's
   canonical answer in both layouts is checked against numpy's first.  Data loading is not
   timed (as in shared/bench); the columnar time covers everything else: the schema check,
   row validation, the NULL check, lowering and the query, Arrow in and Arrow out.
   Target: the wide layout within 2× of the baseline.

Usage::

    python benchmarks/columnar_1m.py [--work /tmp/fanpin-columnar] [--n 1000000]
        [--only shipped|reference] [--repeat 3]

Runs inside ``WORK/.venv`` (numpy and polars are benchmark-only; see benchmarks/_venv.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED_BENCH = Path(os.environ.get("FANPIN_SHARED_BENCH", REPO.parent / "shared" / "bench"))
CHUNK = 2000  # the generator keeps villages realistic up to a few thousand households


# ---------------------------------------------------------------- data: the shipped policy


def _chunk(k: int) -> Any:
    """Households of seed k as an Arrow table in the policy's layout (ids prefixed)."""
    sys.path.insert(0, str(REPO / "examples"))
    import generate_households

    import fanpin_rules
    from fanpin_rules.columnar import households_to_arrow

    policy = _policy_cache.get("p") or _policy_cache.setdefault(
        "p", fanpin_rules.load_policy("ewenki_2024q2")
    )
    records = generate_households.generate(CHUNK, seed=generate_households.DEFAULT_SEED + k)
    households = []
    for r in records:
        r["household_id"] = f"{k:04d}-{r['household_id']}"
        households.append(policy.validate(r))
    return households_to_arrow(policy, households)


_policy_cache: dict[str, Any] = {}


def shipped_data(work: Path, n: int, distinct: int) -> Path:
    """n households: ``distinct`` generated ones (seeds of 2,000), repeated with fresh ids."""
    path = work / "data" / f"ewenki_{n}_{distinct}.parquet"
    if path.exists():
        return path
    import multiprocessing

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    t0 = time.perf_counter()
    chunks = (min(n, distinct) + CHUNK - 1) // CHUNK
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 2) as pool:
        base = pa.concat_tables(pool.map(_chunk, range(chunks)))
    writer = pq.ParquetWriter(tmp, base.schema, compression="zstd")
    written, copy = 0, 0
    while written < n:
        part = base.slice(0, n - written)
        ids = pc.binary_join_element_wise(f"r{copy:03d}", part.column("household_id"), "-")
        part = part.set_column(part.schema.get_field_index("household_id"), "household_id", ids)
        writer.write_table(part, row_group_size=65536)
        written += part.num_rows
        copy += 1
    writer.close()
    tmp.replace(path)
    print(
        f"  generated {n:,} households ({base.num_rows:,} distinct) in "
        f"{time.perf_counter() - t0:.0f} s → {path}",
        flush=True,
    )
    return path


def child_shipped(src: str, out: str) -> None:
    """One end-to-end run in this (fresh) process; prints one JSON line."""
    t0 = time.perf_counter()
    import fanpin_rules
    from fanpin_rules.columnar import ColumnarEngine

    policy = fanpin_rules.load_policy("ewenki_2024q2")
    t1 = time.perf_counter()
    counts = ColumnarEngine(policy).evaluate_parquet(src, out)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "read": counts.read,
                "decided": counts.decided,
                "rejected": counts.rejected,
                "load_s": t1 - t0,
                "evaluate_s": t2 - t1,
                "peak_rss_mb": peak,
            }
        )
    )


def run_shipped(work: Path, n: int, distinct: int, repeat: int) -> list[dict[str, Any]]:
    src = shipped_data(work, n, distinct)
    out = work / "out" / f"decisions_{n}.parquet"
    runs = []
    for _ in range(repeat):
        out.unlink(missing_ok=True)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--child-shipped", str(src), str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        rec = json.loads(proc.stdout.strip().splitlines()[-1])
        rec["wall_s"] = wall
        runs.append(rec)
        print(
            f"  shipped policy, {rec['read']:,} households: {wall:.1f} s end to end "
            f"(policy load {rec['load_s']:.1f} s, evaluate {rec['evaluate_s']:.1f} s), "
            f"peak RSS {rec['peak_rss_mb']:,.0f} MB; decided {rec['decided']:,}, "
            f"rejected {rec['rejected']:,}",
            flush=True,
        )
    return runs


# ---------------------------------------------------------------- the reference ruleset


def reference_table(cols: dict[str, Any], policy: Any) -> Any:
    """shared/bench columns as an Arrow table in the reference policy's layout (exact)."""
    import pyarrow as pa

    from fanpin_rules.columnar import arrow_schema

    schema = arrow_schema(policy)
    arrays = []
    for field in schema:
        values = cols[field.name]
        if field.name == "income_drop_ratio":
            # generated with np.round(…, 3): three decimals exactly
            arr = pa.array([Decimal(f"{x:.3f}") for x in values.tolist()], type=field.type)
        elif pa.types.is_decimal(field.type):
            # whole yuan (int64, < 10^16): through decimal(38, 0) to the money column, exact
            arr = pa.array(values).cast(pa.decimal128(38, 0)).cast(field.type)
        else:
            arr = pa.array(values).cast(field.type)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=schema)


def columnar_canonical(result: Any) -> list[tuple[Any, ...]]:
    values = result.column("values").to_pylist()
    fired = result.column("fired").to_pylist()
    out = []
    for v, f in zip(values, fired, strict=True):
        out.append(
            (
                bool(v["identify"]),
                tuple(v["reasons"]),
                v["classification"],
                "C-1" in f,
                "D-1" in f,
            )
        )
    return out


def wide_canonical(result: Any, policy: Any) -> list[tuple[Any, ...]]:
    """The canonical answers read from the wide layout: the reasons are the outputs of the
    fired rows of table ``reasons``, the class the output of the fired ``classification``
    row, identify whether a reason fired (the policy's own definition)."""
    from fanpin_rules import ast

    def outputs(table: str) -> dict[str, str]:
        rows = policy.model.tables[table].rows
        out = {}
        for r in rows:
            assert isinstance(r.outputs[0], ast.String)
            out[r.rule_id] = r.outputs[0].value
        return out

    reasons, classes = outputs("reasons"), outputs("classification")
    cols = {name: result.column(name).to_pylist() for name in result.schema.names}
    got = []
    for i in range(result.num_rows):
        why = tuple(text for rid, text in reasons.items() if cols[rid][i])
        cls = next((text for rid, text in classes.items() if cols[rid][i]), None)
        got.append((bool(why), why, cls, bool(cols["C-1"][i]), bool(cols["D-1"][i])))
    return got


def run_reference(n: int, repeat: int) -> dict[str, Any]:
    sys.path.insert(0, str(SHARED_BENCH))
    import gen_households  # type: ignore[import-not-found]
    from engines import numpy_vec  # type: ignore[import-not-found]

    import fanpin_rules
    from fanpin_rules.columnar import ColumnarEngine

    policy = fanpin_rules.load_policy(HERE / "reference_ruleset.policy")
    cols = gen_households.generate(n)
    table = reference_table(cols, policy)
    engine = ColumnarEngine(policy)

    # same households, same answers first (both layouts)
    expected = numpy_vec.canonical(numpy_vec.evaluate(numpy_vec.load(), cols))
    bad = 0
    for layout, got in (
        ("list", columnar_canonical(engine.evaluate_arrow(table))),
        ("wide", wide_canonical(engine.evaluate_arrow(table, layout="wide"), policy)),
    ):
        bad = sum(1 for a, b in zip(got, expected, strict=True) if a != b)
        print(
            f"  reference ruleset, {layout} layout: {n - bad:,} / {n:,} households agree "
            "with numpy",
            flush=True,
        )
        if bad:
            raise SystemExit("columnar answers differ from the hand-written baseline")
    print(
        f"  wide layout evaluated by: {engine.executor}; load average "
        f"{os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)",
        flush=True,
    )

    timings: dict[str, list[float]] = {"numpy": [], "polars": [], "wide": [], "list": []}
    try:
        import polars as pl
        from engines import polars_vec

        frame = pl.DataFrame(cols)
    except ImportError:
        polars_vec = None
    runs: dict[str, Any] = {
        "numpy": lambda: numpy_vec.evaluate(numpy_vec.load(), cols),
        "wide": lambda: engine.evaluate_arrow(table, layout="wide"),
        "list": lambda: engine.evaluate_arrow(table),
    }
    if polars_vec is not None:
        runs["polars"] = lambda: polars_vec.evaluate(polars_vec.load(), frame)
    # each engine's runs one after another, a pause between engines: a pool's worker
    # threads still spinning after the previous engine's run would take a core from the next
    for name, run in runs.items():
        time.sleep(0.5)
        for _ in range(repeat):
            t0 = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - t0)
    import statistics

    best = {k: min(v) for k, v in timings.items() if v}
    median = {k: statistics.median(v) for k, v in timings.items() if v}
    labels = {"wide": "columnar, wide layout", "list": "columnar, list layout"}
    print("  best of runs (median of runs); ratio of best times (of medians)", flush=True)
    for name, sec in best.items():
        ratios = f"× numpy {sec / best['numpy']:.1f} ({median[name] / median['numpy']:.1f})"
        if "polars" in best:
            ratios += f", × polars {sec / best['polars']:.1f}"
            ratios += f" ({median[name] / median['polars']:.1f})"
        runs = ", ".join(f"{x * 1000:.0f}" for x in timings[name])
        print(
            f"  {labels.get(name, name):22s} {sec * 1000:5.0f} ms ({median[name] * 1000:.0f})"
            f"  {n / sec:>12,.0f} households/s  {ratios}; runs {runs} ms",
            flush=True,
        )
    return {"best_s": best, "median_s": median, "agree": n - bad}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child-shipped":
        child_shipped(argv[1], argv[2])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/fanpin-columnar"))
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--only", choices=("shipped", "reference"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--distinct",
        type=int,
        default=100_000,
        help="distinct generated households, repeated with fresh ids up to --n",
    )
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(HERE))
    from _venv import ensure_venv

    ensure_venv(args.work, [str(Path(__file__).resolve()), *argv])
    try:
        import duckdb  # noqa: F401
    except ImportError:  # the benchmark venv installs the project without extras
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "-e", f"{REPO}[columnar]"],
            check=True,
        )
    print(f"columnar engine, {args.n:,} households, {os.cpu_count()} cores", flush=True)
    if args.only in (None, "shipped"):
        run_shipped(args.work, args.n, args.distinct, args.repeat)
    if args.only in (None, "reference"):
        run_reference(args.n, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
